package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** RMSNorm on vectors computed by hand, and ggml's double accumulation of the squares (spec §6.2). */
class RmsNormTest {

    @Test
    void handComputedVector() {
        // x = (3, 4): mean of squares 12.5, scale 1/sqrt(12.5); then times the weight (1, -2)
        float[] x = {3f, 4f};
        float[] out = new float[2];
        RmsNorm.apply(x, 0, 2, new float[] {1f, -2f}, 0f, out, 0);
        assertThat(out[0]).isCloseTo(0.84852814f, within(1e-7f));
        assertThat(out[1]).isCloseTo(-2.2627417f, within(1e-6f));
    }

    @Test
    void epsilonIsAddedToTheMeanInsideTheSquareRoot() {
        // x = (1, 1, 1, 1): mean 1, eps 3 -> scale 1/sqrt(4) = 0.5 exactly
        float[] out = new float[4];
        RmsNorm.apply(new float[] {1f, 1f, 1f, 1f}, 0, 4, new float[] {1f, 1f, 1f, 1f}, 3f, out, 0);
        assertThat(out).containsExactly(0.5f, 0.5f, 0.5f, 0.5f);
    }

    @Test
    void squaresAreSummedInDouble() {
        // 4096 elements: one 4096, the rest 1. Summed in float, 4096² = 2^24 absorbs every later 1 (the float
        // spacing there is 2); summed in double the ones count: mean = (2^24 + 4095)/4096 = 4096.9998
        int n = 4096;
        float[] x = new float[n];
        Arrays.fill(x, 1f);
        x[0] = 4096f;
        float[] weight = new float[n];
        Arrays.fill(weight, 1f);
        float[] out = new float[n];
        RmsNorm.apply(x, 0, n, weight, 0f, out, 0);

        float doubleMean = (float) ((4096.0 * 4096.0 + 4095.0) / n);
        float floatSum = 0;
        for (float v : x) {
            floatSum += v * v;
        }
        float floatMean = floatSum / n;
        assertThat(floatMean).as("the float sum loses the ones").isEqualTo(4096f);
        assertThat(doubleMean).isNotEqualTo(floatMean);
        float scale = 1f / (float) Math.sqrt(doubleMean);
        assertThat(out[0]).isEqualTo(4096f * scale);
        assertThat(out[1]).isEqualTo(scale);
        assertThat(out[1]).isNotEqualTo(1f / (float) Math.sqrt(floatMean));
    }

    @Test
    void scaleThenWeightAreTwoRoundedFloatProducts() {
        // y = (x*scale)*g, not x*(scale*g): with these values the two orders round differently
        float[] x = new float[] {0.1f, 0.7f, 1.3f};
        float[] g = new float[] {1.1f, 0.3f, 2.9f};
        float[] out = new float[3];
        RmsNorm.apply(x, 0, 3, g, 1e-5f, out, 0);
        double sum = 0;
        for (float v : x) {
            sum += v * v;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (sum / 3) + 1e-5f);
        for (int i = 0; i < 3; i++) {
            assertThat(out[i]).isEqualTo((x[i] * scale) * g[i]);
        }
    }

    @Test
    void vectorScalingRoundsAsTheScalarFormula() {
        // 37 elements: whole vectors (of 4, 8 or 16 lanes) and a scalar tail, each element (x*scale)*g in float
        java.util.Random random = new java.util.Random(7);
        int n = 37;
        float[] x = new float[n];
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
            g[i] = (float) random.nextGaussian();
        }
        float[] out = new float[n];
        RmsNorm.apply(x, 0, n, g, 1e-5f, out, 0);
        double sum = 0;
        for (float v : x) {
            sum += v * v;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (sum / n) + 1e-5f);
        for (int i = 0; i < n; i++) {
            assertThat(out[i]).as("element %d", i).isEqualTo((x[i] * scale) * g[i]);
        }
    }

    @Test
    void worksInPlaceAndAtOffsets() {
        float[] buffer = {9f, 3f, 4f, 9f};
        RmsNorm.apply(buffer, 1, 2, new float[] {1f, 1f}, 0f, buffer, 1);
        assertThat(buffer[0]).isEqualTo(9f);
        assertThat(buffer[3]).isEqualTo(9f);
        assertThat(buffer[1]).isCloseTo(0.6f * (float) Math.sqrt(2), within(1e-6f));
        assertThat(buffer[2]).isCloseTo(0.8f * (float) Math.sqrt(2), within(1e-6f));
    }

    @Test
    void rowsTogetherEqualRowsOneByOneBitForBit() {
        java.util.Random random = new java.util.Random(25);
        for (int rows : new int[] {1, 3, 4, 5, 8, 9, 16, 21, 35}) {
            for (int n : new int[] {1, 7, 8, 64, 129, 2560}) {
                int offset = random.nextInt(5);
                float[] x = new float[offset + rows * n + 3];
                for (int i = 0; i < x.length; i++) {
                    // magnitudes over 12 orders, so that the double sums round and their order matters
                    x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6));
                }
                float[] weight = new float[n];
                for (int i = 0; i < n; i++) {
                    weight[i] = (float) random.nextGaussian();
                }
                float[] expected = new float[rows * n + 2];
                for (int r = 0; r < rows; r++) {
                    RmsNorm.apply(x, offset + r * n, n, weight, 1e-5f, expected, 2 + r * n);
                }
                float[] together = new float[rows * n + 2];
                RmsNorm.applyRows(x, offset, rows, n, weight, 1e-5f, together, 2);
                assertThat(together).as("%d rows of %d", rows, n).containsExactly(expected);

                float[] inPlace = x.clone();
                RmsNorm.applyRows(inPlace, offset, rows, n, weight, 1e-5f, inPlace, offset);
                assertThat(Arrays.copyOfRange(inPlace, offset, offset + rows * n))
                        .as("in place, %d rows of %d", rows, n)
                        .containsExactly(Arrays.copyOfRange(expected, 2, 2 + rows * n));
                assertThat(inPlace[inPlace.length - 1]).isEqualTo(x[x.length - 1]);
            }
        }
    }
}
