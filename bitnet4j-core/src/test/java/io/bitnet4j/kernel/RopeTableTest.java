package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * RoPE on a 6-dimensional head with 4 rotated dimensions and base 100, so that the two pairs turn by pos·1 and
 * pos·0.1 radians (theta_scale = 100^(-2/4) = 0.1). Expected values are the rotations worked out from cos/sin of
 * those angles; dimensions 4 and 5 are beyond rope.dimension_count and must not move.
 */
class RopeTableTest {
    private static final float[] X = {1f, 2f, 3f, 4f, 5f, 6f};

    private static float[] rotate(boolean neox, int pos) {
        RopeTable rope = new RopeTable(4, 6, neox, 100f, 1f, 8);
        float[] x = X.clone();
        rope.apply(x, 0, 1, pos);
        return x;
    }

    @Test
    void positionZeroIsTheIdentity() {
        assertThat(rotate(true, 0)).containsExactly(X);
        assertThat(rotate(false, 0)).containsExactly(X);
    }

    @Test
    void neoxPairsDimensionIWithIPlusHalfTheRotatedDims() {
        // pairs (0,2) by 1 rad and (1,3) by 0.1 rad: y0 = 1·cos1 − 3·sin1, y2 = 1·sin1 + 3·cos1, ...
        assertThat(rotate(true, 1)).usingComparatorWithPrecision(1e-6f)
                .containsExactly(-1.9841106f, 1.5906747f, 2.4623779f, 4.1796835f, 5f, 6f);
        // position 7: 7 rad and 0.7 rad
        assertThat(rotate(true, 7)).usingComparatorWithPrecision(1e-6f)
                .containsExactly(-1.2170575f, -1.0471864f, 2.9186934f, 4.3478041f, 5f, 6f);
    }

    @Test
    void normPairsAdjacentDimensions() {
        // pairs (0,1) by 1 rad and (2,3) by 0.1 rad
        assertThat(rotate(false, 1)).usingComparatorWithPrecision(1e-6f)
                .containsExactly(-1.1426397f, 1.9220756f, 2.5856788f, 4.2795169f, 5f, 6f);
        assertThat(rotate(false, 7)).usingComparatorWithPrecision(1e-6f)
                .containsExactly(-0.5600709f, 2.1647911f, -0.2823442f, 4.9920218f, 5f, 6f);
    }

    @Test
    void everyHeadIsRotatedTheSame() {
        RopeTable rope = new RopeTable(4, 6, true, 100f, 1f, 8);
        float[] x = new float[3 + 12];
        System.arraycopy(X, 0, x, 3, 6);
        System.arraycopy(X, 0, x, 9, 6);
        rope.apply(x, 3, 2, 1);
        float[] one = rotate(true, 1);
        for (int i = 0; i < 6; i++) {
            assertThat(x[3 + i]).isEqualTo(one[i]);
            assertThat(x[9 + i]).isEqualTo(one[i]);
        }
        assertThat(x[0]).isZero();
    }

    @Test
    void freqScaleMultipliesTheAngle() {
        // scale 0.5 at position 2 gives the angles of scale 1 at position 1 (2·0.1f·0.5f == 0.1f exactly)
        RopeTable half = new RopeTable(4, 6, true, 100f, 0.5f, 8);
        float[] x = X.clone();
        half.apply(x, 0, 1, 2);
        assertThat(x).containsExactly(rotate(true, 1));
    }

    @Test
    void anglesAreBuiltIterativelyInFloat() {
        // 128 rotated dims, base 500000 (BitNet 2B-4T), position 3000: theta starts at (float)pos and is multiplied by
        // powf(base, -2/128) once per pair, in float. Our expectation is written out the same way; the textbook
        // pos·base^(-2i/n) per index in double gives different floats for some pairs, so the test tells them apart.
        int n = 128;
        int pos = 3000;
        RopeTable rope = new RopeTable(n, n, true, 500000f, 1f, pos + 1);
        float[] x = new float[n];
        for (int i = 0; i < n / 2; i++) {
            x[i] = 1f; // y_i = cos, y_{i+64} = sin (x_{i+64} = 0: the products are exact)
        }
        rope.apply(x, 0, 1, pos);
        float thetaScale = (float) Math.pow(500000f, -2.0f / n);
        float theta = pos;
        int differFromTextbook = 0;
        for (int i = 0; i < n / 2; i++) {
            assertThat(x[i]).as("cos of pair %d", i).isEqualTo((float) Math.cos(theta));
            assertThat(x[i + n / 2]).as("sin of pair %d", i).isEqualTo((float) Math.sin(theta));
            double textbook = pos * Math.pow(500000.0, -2.0 * i / n);
            if ((float) Math.cos(textbook) != x[i] || (float) Math.sin(textbook) != x[i + n / 2]) {
                differFromTextbook++;
            }
            theta *= thetaScale;
        }
        assertThat(differFromTextbook).as("pairs where the float iteration differs from pow per index").isPositive();
    }

    @Test
    void rotationOfAGeneralPairIsWithinRoundingOfTheExactOne() {
        RopeTable rope = new RopeTable(4, 4, false, 10000f, 1f, 8);
        float[] x = {0.3f, -1.7f, 2.2f, 0.9f};
        rope.apply(x, 0, 1, 5);
        double c = Math.cos(5);
        double s = Math.sin(5);
        assertThat((double) x[0]).isCloseTo(0.3 * c + 1.7 * s, within(1e-6));
        assertThat((double) x[1]).isCloseTo(0.3 * s - 1.7 * c, within(1e-6));
    }

    @Test
    void rejectsOddOrOversizedRotaryDims() {
        assertThatThrownBy(() -> new RopeTable(3, 6, true, 100f, 1f, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RopeTable(8, 6, true, 100f, 1f, 2)).isInstanceOf(IllegalArgumentException.class);
    }
}
