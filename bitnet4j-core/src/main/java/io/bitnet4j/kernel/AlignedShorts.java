package io.bitnet4j.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A thread's copy of 16-bit activations in native memory that starts on a cache-line boundary, made again only when
 * the activations change ({@code Activations.generation()}). Kernels that stream their weights from memory read the
 * activations from here, not from the heap array: an array's elements start 16 bytes into an object that is only
 * 8-byte aligned, so most 512-bit loads from one span two cache lines, and while the weight loads wait on memory
 * those split loads slowed the Q6_K kernel by more than half (28 against 17.6 ms for the 128256-row head, one
 * thread; from the L3 cache both ran at 54 cycles per block).
 */
final class AlignedShorts {
    private MemorySegment segment = MemorySegment.NULL;
    private long generation = -1;

    /**
     * {@code values[0 .. count)} at the start of this holder's segment, copied unless {@code generation} is the
     * last call's.
     */
    MemorySegment copy(short[] values, int count, long generation) {
        if (generation != this.generation) {
            long bytes = 2L * count;
            if (segment.byteSize() < bytes) {
                segment = Arena.ofAuto().allocate(bytes, 64);
            }
            for (int i = 0; i < count; i++) {
                segment.setAtIndex(ValueLayout.JAVA_SHORT, i, values[i]);
            }
            this.generation = generation;
        }
        return segment;
    }
}
