package io.bitnet4j.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Weights prepared once for all threads of a product split by tokens ({@link TokenSplitKernel}): the transposed
 * codes of a matrix in a file's layout and, for TQ2_0, its block scales as floats. One per {@link MatMul}, grown on
 * demand and kept, so the steady state allocates nothing.
 */
final class SharedWeights {
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
            codes = Arena.ofAuto().allocate(bytes, 64);
        }
        if (scales.length < scaleCount) {
            scales = new float[scaleCount];
        }
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
