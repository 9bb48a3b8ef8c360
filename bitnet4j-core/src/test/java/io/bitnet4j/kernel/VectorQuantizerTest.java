package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The vectorized activation quantizers produce the reference's bytes, scales and sums exactly. */
class VectorQuantizerTest {

    @ParameterizedTest
    @EnumSource(value = ActivationType.class, names = {"I8_TOKEN", "Q8_K"})
    void equalsTheReferenceQuantizer(ActivationType type) {
        assumeTrue(VectorQuantizer.SUPPORTED, "vectors narrower than 256 bits: the scalar quantizer is used");
        SplittableRandom rng = new SplittableRandom(type.ordinal());
        for (int trial = 0; trial < 40; trial++) {
            int length = 256 * (1 + rng.nextInt(12));
            int tokens = 1 + rng.nextInt(4);
            float[] x = new float[tokens * length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rng.nextGaussian() * (trial % 5 == 0 ? 100 : 1));
                if (trial % 7 == 0 && rng.nextInt(4) == 0) {
                    x[i] = 0;
                }
                if (trial % 9 == 0) {
                    x[i] = (rng.nextInt(5) - 2) * 0.5f;
                }
            }
            if (trial == 3) {
                java.util.Arrays.fill(x, 0, length, 0f);
            }
            Activations expected = new ActivationPreparer(tokens).prepare(x, length, tokens, type);
            try (WorkerPool pool = new WorkerPool(1 + trial % 2)) {
                Activations actual = new ActivationPreparer(tokens, KernelSelector.fastest(), pool)
                        .prepare(x, length, tokens, type);
                assertThat(actual.quants()).containsExactly(expected.quants());
                assertThat(actual.scales()).containsExactly(expected.scales());
                assertThat(actual.sums()).containsExactly(expected.sums());
                assertThat(actual.wide()).containsExactly(expected.wide());
                assertThat(actual.blockSums()).containsExactly(expected.blockSums());
            }
        }
    }
}
