package io.bitnet4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class LargePagesTest {
    @Test
    void largeCopiesStartOnAHugePageAndHoldWhatIsWritten() {
        try (Arena arena = Arena.ofConfined()) {
            long bytes = LargePages.MIN_BYTES + 12345;
            MemorySegment segment = LargePages.allocate(arena, bytes);
            assertThat(segment.byteSize()).isEqualTo(bytes);
            if (System.getProperty("os.name", "").startsWith("Linux")) {
                assertThat(segment.address() % (2L << 20)).as("2 MiB aligned").isZero();
            }
            for (long i = 0; i < bytes; i += 4096) {
                segment.set(ValueLayout.JAVA_BYTE, i, (byte) (i >> 12));
            }
            segment.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
            for (long i = 0; i < bytes; i += 4096) {
                assertThat(segment.get(ValueLayout.JAVA_BYTE, i)).isEqualTo((byte) (i >> 12));
            }
            assertThat(segment.get(ValueLayout.JAVA_BYTE, bytes - 1)).isEqualTo((byte) 7);
        }
    }

    @Test
    void smallCopiesGetOrdinaryCacheLineAlignedMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = LargePages.allocate(arena, 1000);
            assertThat(segment.byteSize()).isEqualTo(1000);
            assertThat(segment.address() % 64).isZero();
        }
    }
}
