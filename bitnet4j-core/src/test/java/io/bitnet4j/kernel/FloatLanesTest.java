package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class FloatLanesTest {
    /**
     * Four lane trees at once, as the F16 and attention kernels write them out (each vector's first halving, then
     * vectors paired up by {@link FloatLanes#UPPER_HALF} and {@link FloatLanes#UPPER_QUARTERS}), must give each
     * vector's own sum bit for bit, in the lanes named for them, or kernels that use either would drift apart. At
     * this run's vector width (the build runs the kernel tests at 512, 256 and 128 bits).
     */
    @Test
    void fourTreesAtOnceHaveTheBitsOfFourSums() {
        SplittableRandom rng = new SplittableRandom(11);
        int lanes = FLOATS.length();
        for (int trial = 0; trial < 1000; trial++) {
            FloatVector[] v = new FloatVector[4];
            for (int n = 0; n < 4; n++) {
                float[] values = new float[lanes];
                for (int i = 0; i < lanes; i++) {
                    values[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-8, 9)));
                }
                v[n] = FloatVector.fromArray(FLOATS, values, 0);
            }
            FloatVector ab = v[0].add(v[0].rearrange(FloatLanes.SWAP_HALF))
                    .blend(v[1].add(v[1].rearrange(FloatLanes.SWAP_HALF)), FloatLanes.UPPER_HALF);
            FloatVector cd = v[2].add(v[2].rearrange(FloatLanes.SWAP_HALF))
                    .blend(v[3].add(v[3].rearrange(FloatLanes.SWAP_HALF)), FloatLanes.UPPER_HALF);
            ab = ab.add(ab.rearrange(FloatLanes.SWAP_QUARTER));
            cd = cd.add(cd.rearrange(FloatLanes.SWAP_QUARTER));
            FloatVector all = ab.blend(cd, FloatLanes.UPPER_QUARTERS);
            if (lanes > 8) {
                all = all.add(all.rearrange(FloatLanes.SWAP_2));
            }
            if (lanes > 4) {
                all = all.add(all.rearrange(FloatLanes.SWAP_1));
            }
            int[] lane = {0, FloatLanes.SECOND_SUM, FloatLanes.THIRD_SUM, FloatLanes.FOURTH_SUM};
            for (int n = 0; n < 4; n++) {
                assertThat(Float.floatToRawIntBits(all.lane(lane[n]))).as("trial %d, vector %d", trial, n)
                        .isEqualTo(Float.floatToRawIntBits(FloatLanes.sum(v[n])));
            }
        }
    }
}
