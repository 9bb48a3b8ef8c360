package io.bitnet4j.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * Weights prepared once for all threads of a product split by tokens ({@link TokenSplitKernel}): the transposed
 * codes of a matrix in a file's layout and, for TQ2_0, its block scales as floats. One per {@link MatMul}, grown on
 * demand and kept, so the steady state allocates nothing.
 */
final class SharedWeights {
    /** Frees the codes of instances that became unreachable without growing again. */
    private static final Cleaner CLEANER = Cleaner.create();

    private Cleaner.Cleanable codesFreed;
    private MemorySegment codes = MemorySegment.NULL;
    private float[] scales = new float[0];
    private volatile boolean sawWeightTwo;

    /**
     * Makes room for {@code bytes} of codes (off-heap, on a cache-line boundary, as the lookup kernel's per-thread
     * copies) and {@code scaleCount} scales.
     */
    void reserve(long bytes, int scaleCount) {
        sawWeightTwo = false;
        if (codes.byteSize() < bytes) {
            growCodes(bytes);
        }
        if (scales.length < scaleCount) {
            scales = new float[scaleCount];
        }
    }

    /**
     * Replaces the codes with a larger segment and frees the old one at once. Left to the garbage collector (an
     * automatic arena), the 4.4 MB of a 2B-4T model's q product stayed resident beside the 11.9 MB of its
     * feed-forward products. Only the reserving thread touches the codes between products, so closing the old
     * arena here is safe; the last one is closed when this object becomes unreachable.
     */
    private void growCodes(long bytes) {
        if (codesFreed != null) {
            codesFreed.clean();
        }
        codes = MemorySegment.NULL;
        Arena arena = Arena.ofShared();
        codes = arena.allocate(bytes, 64);
        codesFreed = CLEANER.register(this, arena::close);
    }

    MemorySegment codes() {
        return codes;
    }

    float[] scales() {
        return scales;
    }

    /** Notes that a thread transposing its rows met a code 3 (a weight of 2). */
    void markWeightTwo() {
        sawWeightTwo = true;
    }

    /** Whether any thread met a code 3 since {@link #reserve}: the prompt kernel then sums 16 words at a time. */
    boolean sawWeightTwo() {
        return sawWeightTwo;
    }
}
