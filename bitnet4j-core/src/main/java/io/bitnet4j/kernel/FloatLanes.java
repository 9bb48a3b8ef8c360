package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * A float lane sum in one fixed order. {@code FloatVector.reduceLanes(ADD)} leaves the order unspecified, and the
 * JIT-compiled and interpreted forms do differ; this halving tree (lane i + lane i+L/2, then i + i+L/4, ...) gives
 * the same bits however the code runs, so results do not change as the JIT warms up.
 */
final class FloatLanes {
    private static final VectorShuffle<Float>[] HALVINGS = halvings();

    private FloatLanes() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halvings() {
        int lanes = FLOATS.length();
        int steps = Integer.numberOfTrailingZeros(lanes);
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int i = 0; i < steps; i++) {
            int distance = lanes >> (i + 1);
            s[i] = VectorShuffle.fromOp(FLOATS, lane -> lane ^ distance);
        }
        return s;
    }

    static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : HALVINGS) {
            v = v.add(v.rearrange(s));
        }
        return v.lane(0);
    }
}
