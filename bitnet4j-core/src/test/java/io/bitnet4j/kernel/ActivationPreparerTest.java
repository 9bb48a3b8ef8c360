package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import org.junit.jupiter.api.Test;

/**
 * Per-token int8 activations (spec §3.4) through the preparer the forward pass uses: each row gets its own scale
 * and code sum, rows are independent of each other, buffers are reused.
 */
class ActivationPreparerTest {

    @Test
    void eachTokenIsQuantizedOnItsOwn() {
        // row 0: absmax 2 -> scale 63.5; codes rint(x·63.5): 1 -> 63.5 -> 64 (half to even), -2 -> -127,
        //        0.5 -> 31.75 -> 32, 0.25 -> 15.875 -> 16
        // row 1: absmax 0 -> the 1e-5 floor: scale 12700000, every code 0
        // row 2: absmax 127 -> scale 1: 2.5 -> 2, 3.5 -> 4, -0.5 -> -0 (half to even), 127
        float[] x = {1f, -2f, 0.5f, 0.25f, 0f, 0f, 0f, 0f, 2.5f, 3.5f, -0.5f, 127f};
        ActivationPreparer preparer = new ActivationPreparer(3);
        Activations a = preparer.prepare(x, 4, 3, ActivationType.I8_TOKEN);
        assertThat(a.tokens()).isEqualTo(3);
        assertThat(a.quants()).containsExactly(64, -127, 32, 16, 0, 0, 0, 0, 2, 4, 0, 127);
        assertThat(a.scales()).containsExactly(63.5f, (float) (127.0 / 1e-5), 1f);
        assertThat(a.sums()).containsExactly(64 - 127 + 32 + 16, 0, 2 + 4 + 127);
    }

    @Test
    void buffersAreReusedPerTypeAndLength() {
        ActivationPreparer preparer = new ActivationPreparer(2);
        float[] x = new float[512];
        x[0] = 1f;
        Activations first = preparer.prepare(x, 256, 2, ActivationType.I8_TOKEN);
        Activations again = preparer.prepare(x, 256, 1, ActivationType.I8_TOKEN);
        assertThat(again).isSameAs(first);
        assertThat(again.tokens()).isEqualTo(1);
        assertThat(preparer.prepare(x, 256, 1, ActivationType.Q8_K)).isNotSameAs(first);
        assertThat(preparer.prepare(x, 128, 1, ActivationType.I8_TOKEN)).isNotSameAs(first);
    }
}
