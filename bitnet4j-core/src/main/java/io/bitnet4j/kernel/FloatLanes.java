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
    private static final VectorShuffle<Float> SWAP_8 = swap(8);
    private static final VectorShuffle<Float> SWAP_4 = swap(4);
    private static final VectorShuffle<Float> SWAP_2 = swap(2);
    private static final VectorShuffle<Float> SWAP_1 = swap(1);
    /** Lanes 8-15 (of 16). */
    private static final VectorMask<Float> HIGH_EIGHT = VectorMask.fromLong(FLOATS, 0xFF00L);
    /** Lanes 4-7 and 12-15 (of 16). */
    private static final VectorMask<Float> HIGH_FOURS = VectorMask.fromLong(FLOATS, 0xF0F0L);

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

    /**
     * The sums of the four 16-lane vectors stored at {@code lanes[0]}, {@code [16]}, {@code [32]} and {@code [48]},
     * each in the order of {@link #sum(float[], int)}, into {@code lanes[0..3]}; for 16 float lanes only. After the
     * first halving the four trees share vectors: lanes 0-7 carry one vector's partial sums and lanes 8-15 another's,
     * whose halves were added the other way round (lane i+8 plus lane i), which gives the same bits.
     */
    static void sumsOfFour(float[] lanes) {
        FloatVector a = FloatVector.fromArray(FLOATS, lanes, 0);
        FloatVector b = FloatVector.fromArray(FLOATS, lanes, 16);
        FloatVector c = FloatVector.fromArray(FLOATS, lanes, 32);
        FloatVector d = FloatVector.fromArray(FLOATS, lanes, 48);
        FloatVector ab = a.add(a.rearrange(SWAP_8)).blend(b.add(b.rearrange(SWAP_8)), HIGH_EIGHT);
        FloatVector cd = c.add(c.rearrange(SWAP_8)).blend(d.add(d.rearrange(SWAP_8)), HIGH_EIGHT);
        ab = ab.add(ab.rearrange(SWAP_4));
        cd = cd.add(cd.rearrange(SWAP_4));
        FloatVector all = ab.blend(cd, HIGH_FOURS);
        all = all.add(all.rearrange(SWAP_2));
        all = all.add(all.rearrange(SWAP_1));
        lanes[0] = all.lane(0);
        lanes[1] = all.lane(8);
        lanes[2] = all.lane(4);
        lanes[3] = all.lane(12);
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
