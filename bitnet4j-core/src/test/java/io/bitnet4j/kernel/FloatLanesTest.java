package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static org.assertj.core.api.Assertions.assertThat;

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
}
