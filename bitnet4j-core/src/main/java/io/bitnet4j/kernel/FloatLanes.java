package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * A float lane sum in one fixed order. {@code FloatVector.reduceLanes(ADD)} leaves the order unspecified, and the
 * JIT-compiled and interpreted forms do differ; this halving tree (lane i + lane i+L/2, then i + i+L/4, ...) gives
 * the same bits however the code runs, so results do not change as the JIT warms up.
 */
final class FloatLanes {
    private static final int LANES = FLOATS.length();
    static final VectorShuffle<Float> SWAP_8 = swap(8);
    static final VectorShuffle<Float> SWAP_4 = swap(4);
    static final VectorShuffle<Float> SWAP_2 = swap(2);
    static final VectorShuffle<Float> SWAP_1 = swap(1);
    /**
     * Lanes 8-15 (of 16), for four lane trees at once: after each vector's first halving ({@link #SWAP_8}), one
     * vector takes lanes 0-7 of the first and lanes 8-15 of the second, whose halves were added the other way round
     * (lane i+8 plus lane i: the same bits); after the second halving, lanes 4-7 and 12-15 ({@link #HIGH_FOURS}) of
     * a second such pair join them, and two more halvings leave the four sums in lanes 0, 8, 4 and 12.
     */
    static final VectorMask<Float> HIGH_EIGHT = VectorMask.fromLong(FLOATS, 0xFF00L);
    /** Lanes 4-7 and 12-15 (of 16). */
    static final VectorMask<Float> HIGH_FOURS = VectorMask.fromLong(FLOATS, 0xF0F0L);

    private FloatLanes() {
    }

    /** Lane i exchanged with lane i ^ distance (identity where the vector is too short). */
    private static VectorShuffle<Float> swap(int distance) {
        return VectorShuffle.fromOp(FLOATS, lane -> distance < LANES ? lane ^ distance : lane);
    }

    /**
     * The same sum of the {@code LANES} floats at {@code lanes[from]} (a vector stored there), in the same order: for
     * kernels whose vectors would otherwise stay live across several inlined sums, which past C2's inlining budget
     * turns into heap-allocated vectors.
     */
    static float sum(float[] lanes, int from) {
        for (int distance = LANES / 2; distance >= 1; distance /= 2) {
            for (int i = from; i < from + distance; i++) {
                lanes[i] += lanes[i + distance];
            }
        }
        return lanes[from];
    }

    static float sum(FloatVector v) {
        if (LANES > 8) {
            v = v.add(v.rearrange(SWAP_8));
        }
        if (LANES > 4) {
            v = v.add(v.rearrange(SWAP_4));
        }
        if (LANES > 2) {
            v = v.add(v.rearrange(SWAP_2));
        }
        return v.add(v.rearrange(SWAP_1)).lane(0);
    }
}
