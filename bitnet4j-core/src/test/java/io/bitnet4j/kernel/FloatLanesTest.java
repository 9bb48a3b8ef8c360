package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class FloatLanesTest {
    /** The stored-lanes sum must give the vector sum's bits, or kernels that use either would drift apart. */
    @Test
    void sumOfStoredLanesHasTheBitsOfTheVectorSum() {
        SplittableRandom rng = new SplittableRandom(11);
        int lanes = FLOATS.length();
        for (int trial = 0; trial < 1000; trial++) {
            float[] values = new float[lanes + 3];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-8, 9)));
            }
            int from = trial % 4;
            float vectorSum = FloatLanes.sum(FloatVector.fromArray(FLOATS, values, from));
            assertThat(Float.floatToRawIntBits(FloatLanes.sum(values.clone(), from)))
                    .as("trial %d", trial).isEqualTo(Float.floatToRawIntBits(vectorSum));
        }
    }

    /** Four sums at once, sharing vectors across the trees, must give each tree's own bits. */
    @Test
    void fourSumsAtOnceHaveTheBitsOfFourSums() {
        assumeTrue(FLOATS.length() == 16, "sumsOfFour is for 16 float lanes; this machine has " + FLOATS.length());
        SplittableRandom rng = new SplittableRandom(12);
        for (int trial = 0; trial < 1000; trial++) {
            float[] values = new float[64];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-8, 9)));
            }
            float[] expected = new float[4];
            for (int v = 0; v < 4; v++) {
                expected[v] = FloatLanes.sum(values.clone(), 16 * v);
            }
            float[] lanes = values.clone();
            FloatLanes.sumsOfFour(lanes);
            for (int v = 0; v < 4; v++) {
                assertThat(Float.floatToRawIntBits(lanes[v])).as("trial %d, vector %d", trial, v)
                        .isEqualTo(Float.floatToRawIntBits(expected[v]));
            }
        }
    }
}
