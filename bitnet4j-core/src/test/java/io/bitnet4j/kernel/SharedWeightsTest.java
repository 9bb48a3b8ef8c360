package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The shared codes grow on demand, keep their segment while it is large enough, and free the one they outgrow. */
class SharedWeightsTest {

    @Test
    void growingFreesTheSmallerSegmentAtOnce() {
        SharedWeights shared = new SharedWeights();
        shared.reserve(1_000, 8);
        MemorySegment first = shared.codes();
        assertThat(first.byteSize()).isEqualTo(1_000);
        assertThat(first.address() % 64).as("cache-line aligned").isZero();
        assertThat(shared.scales()).hasSize(8);

        shared.reserve(600, 4);
        assertThat(shared.codes()).as("large enough: kept").isSameAs(first);
        assertThat(shared.scales()).hasSize(8);

        shared.reserve(5_000, 0);
        MemorySegment second = shared.codes();
        assertThat(second.byteSize()).isEqualTo(5_000);
        assertThat(first.scope().isAlive()).as("the outgrown segment is freed").isFalse();
        assertThat(second.scope().isAlive()).isTrue();
        second.set(ValueLayout.JAVA_BYTE, 4_999, (byte) 7);
        assertThat(second.get(ValueLayout.JAVA_BYTE, 4_999)).isEqualTo((byte) 7);
    }

    @Test
    void reservingClearsTheWeightTwoMark() {
        SharedWeights shared = new SharedWeights();
        shared.reserve(64, 0);
        shared.markWeightTwo();
        assertThat(shared.sawWeightTwo()).isTrue();
        shared.reserve(64, 0);
        assertThat(shared.sawWeightTwo()).isFalse();
    }
}
