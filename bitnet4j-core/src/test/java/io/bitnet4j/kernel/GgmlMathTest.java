package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** ggml's expf and the lane-reduction order of the AVX-512 build the references ran on. */
class GgmlMathTest {

    private static int ulps(float actual, double exact) {
        float rounded = (float) exact;
        return Math.abs(Float.floatToIntBits(actual) - Float.floatToIntBits(rounded));
    }

    @Test
    void expfIsWithinTwoUlpOfTheExactExponentialOverTheNormalRange() {
        // every 1/1024 from -87 to 88 (the results stay normal floats)
        int worst = 0;
        for (int i = -87 * 1024; i <= 88 * 1024; i++) {
            float x = i / 1024f;
            worst = Math.max(worst, ulps(GgmlMath.expf(x), Math.exp(x)));
        }
        // and dense around 0, where softmax inputs (w - max <= 0) mostly are
        for (int i = -20000; i <= 0; i++) {
            float x = i * 1e-3f;
            worst = Math.max(worst, ulps(GgmlMath.expf(x), Math.exp(x)));
        }
        assertThat(worst).as("largest error in ulp").isLessThanOrEqualTo(2);
    }

    @Test
    void expfEdges() {
        assertThat(GgmlMath.expf(0f)).isEqualTo(1f);
        assertThat(GgmlMath.expf(100f)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(GgmlMath.expf(300f)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(GgmlMath.expf(-110f)).isZero();
        assertThat(GgmlMath.expf(-300f)).isZero();
        assertThat(GgmlMath.expf(Float.NEGATIVE_INFINITY)).isZero();
    }

    @Test
    void reduceLanesAddsPairsIPlus8ThenIPlus4ThenIPlus2ThenTheLastTwo() {
        // lanes 0 = 1e8, 4 = 1, 2 = -1e8. The tree adds lane 4 to lane 0 first (1e8 + 1 rounds to 1e8, the float
        // spacing there is 8), then cancels with lane 2: 0. Left to right (and exactly) the sum is 1.
        float[] lanes = new float[16];
        lanes[0] = 1e8f;
        lanes[4] = 1f;
        lanes[2] = -1e8f;
        assertThat(GgmlMath.reduceLanes(lanes)).isZero();
        float sequential = 0;
        for (float l : lanes) {
            sequential += l;
        }
        assertThat(sequential).isEqualTo(1f);

        // the same values with lane 8 in place of lane 4: lane 8 is added to lane 0 first as well
        lanes[4] = 0f;
        lanes[8] = 1f;
        assertThat(GgmlMath.reduceLanes(lanes)).isZero();
        // while lane 1 would survive: it meets lane 0 only in the last addition, after lane 2 has cancelled it
        lanes[8] = 0f;
        lanes[1] = 1f;
        assertThat(GgmlMath.reduceLanes(lanes)).isEqualTo(1f);
    }

    @Test
    void reduceLanesOfSmallIntegersIsTheirSum() {
        float[] lanes = new float[16];
        for (int i = 0; i < 16; i++) {
            lanes[i] = i;
        }
        assertThat(GgmlMath.reduceLanes(lanes)).isEqualTo(120f);
    }

    @Test
    void siluIsXOverOnePlusExpMinusX() {
        for (int i = -200; i <= 200; i++) {
            float x = i * 0.05f;
            double exact = x / (1 + Math.exp(-x));
            assertThat((double) GgmlMath.silu(x)).isCloseTo(exact, org.assertj.core.api.Assertions.within(1e-6 * Math.max(1, Math.abs(exact))));
            assertThat(GgmlMath.siluTail(x)).isEqualTo(x / (1.0f + (float) Math.exp(-x)));
        }
    }
}
