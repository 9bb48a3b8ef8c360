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
    /** Lane i exchanged with lane i ^ L/2, for four lane trees at once ({@link #UPPER_HALF}). */
    static final VectorShuffle<Float> SWAP_HALF = swap(LANES / 2);
    /** Lane i exchanged with lane i ^ L/4, for four lane trees at once ({@link #UPPER_HALF}). */
    static final VectorShuffle<Float> SWAP_QUARTER = swap(LANES / 4);
    /**
     * The upper half of the lanes, for four lane trees at once: after each vector's first halving
     * ({@link #SWAP_HALF}), one vector takes the lower half of the first and the upper half of the second, whose
     * halves were added the other way round (lane i+L/2 plus lane i: the same bits); after the second halving
     * ({@link #SWAP_QUARTER}), the upper quarter of each half ({@link #UPPER_QUARTERS}) of a second such pair joins
     * them, and the remaining halvings leave the four sums in lanes 0, {@link #SECOND_SUM}, {@link #THIRD_SUM} and
     * {@link #FOURTH_SUM}.
     * The F16 and attention kernels write these steps out: C2 does not always inline a helper that takes or returns
     * vectors, and then allocates them.
     */
    static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(FLOATS, ((1L << LANES) - 1) & -(1L << (LANES / 2)));
    /** The upper quarter of each half of the lanes: lane i where {@code i & L/4} is set. */
    static final VectorMask<Float> UPPER_QUARTERS = VectorMask.fromValues(FLOATS, upperQuarters());
    /** Where four lane trees at once leave the second vector's sum (the first's is in lane 0). */
    static final int SECOND_SUM = LANES / 2;
    /** Where four lane trees at once leave the third vector's sum. */
    static final int THIRD_SUM = LANES / 4;
    /** Where four lane trees at once leave the fourth vector's sum. */
    static final int FOURTH_SUM = LANES / 2 + LANES / 4;

    private FloatLanes() {
    }

    private static boolean[] upperQuarters() {
        boolean[] upper = new boolean[LANES];
        for (int i = 0; i < LANES; i++) {
            upper[i] = (i & LANES / 4) != 0;
        }
        return upper;
    }

    /** Lane i exchanged with lane i ^ distance (identity where the vector is too short). */
    private static VectorShuffle<Float> swap(int distance) {
        return VectorShuffle.fromOp(FLOATS, lane -> distance < LANES ? lane ^ distance : lane);
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
