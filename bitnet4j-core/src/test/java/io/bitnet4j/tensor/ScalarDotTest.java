package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.gguf.GgmlType;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The scalar dot of every format equals the float dot of its decoded weights with the values its prepared
 * activations stand for, up to float rounding of the per-block sums.
 */
class ScalarDotTest {
    private static final int K = 512;
    private static final int ROWS = 5;
    private static final int TOKENS = 3;

    /** Weights of each format on random data: encoded from floats where an encoder exists, random blocks otherwise. */
    static Stream<Arguments> formats() {
        Random random = new Random(42);
        long[] shape = {K, ROWS};
        int n = K * ROWS;
        float[] gaussian = TestTensors.activations(random, n);
        return Stream.of(
                Arguments.of(F32Format.INSTANCE, F32Format.INSTANCE.encode(gaussian, shape)),
                Arguments.of(F16Format.INSTANCE, F16Format.INSTANCE.encode(gaussian, shape)),
                Arguments.of(BF16Format.INSTANCE, BF16Format.INSTANCE.encode(gaussian, shape)),
                Arguments.of(Q8_0Format.INSTANCE, Q8_0Format.INSTANCE.encode(gaussian, shape)),
                Arguments.of(Q4_0Format.INSTANCE, TestTensors.randomBlocks(random, GgmlType.Q4_0, n, 0)),
                Arguments.of(Q6_KFormat.INSTANCE, TestTensors.randomBlocks(random, GgmlType.Q6_K, n, 208)),
                Arguments.of(IQ2_SFormat.INSTANCE, TestTensors.randomBlocks(random, GgmlType.IQ2_S, n, 0)),
                Arguments.of(TQ1_0Format.INSTANCE, TQ1_0Format.INSTANCE.encode(gaussian, shape)),
                Arguments.of(TQ2_0Format.INSTANCE, TQ2_0Format.INSTANCE.encode(gaussian, shape)),
                Arguments.of(TQ2_0Format.INSTANCE, TestTensors.randomBlocks(random, GgmlType.TQ2_0, n, 64)),
                Arguments.of(I2SFormat.I2S_128, I2SFormat.I2S_128.encode(TestTensors.ternary(random, n, false), shape)),
                Arguments.of(I2SFormat.I2S_64, I2SFormat.I2S_64.encode(TestTensors.ternary(random, n, false), shape)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("formats")
    void dotEqualsTheFloatDotOfDecodedWeightsAndActivations(WeightFormat format, byte[] weights) {
        Tensor tensor = TestTensors.tensor(format.type(), new long[] {K, ROWS}, weights);
        float[] decoded = format.decodeAll(tensor);
        Random random = new Random(7);
        int checkedTypes = 0;
        for (ActivationType type : ActivationType.values()) {
            if (!format.accepts(type)) {
                continue;
            }
            checkedTypes++;
            Activations act = new Activations(type, K, TOKENS);
            for (int t = 0; t < TOKENS; t++) {
                ActivationQuantizer.quantize(TestTensors.activations(random, K), 0, act, t);
            }
            for (int t = 0; t < TOKENS; t++) {
                double[] a = TestTensors.dequantize(act, t);
                for (int r = 0; r < ROWS; r++) {
                    double exact = 0;
                    double magnitude = 0;
                    for (int i = 0; i < K; i++) {
                        double p = (double) decoded[r * K + i] * a[i];
                        exact += p;
                        magnitude += Math.abs(p);
                    }
                    float dot = format.dot(tensor, r, act, t);
                    assertThat((double) dot)
                            .as("%s × %s, row %d, token %d", format.type(), type, r, t)
                            .isCloseTo(exact, org.assertj.core.data.Offset.offset(2e-6 * magnitude + 1e-30));
                }
            }
        }
        assertThat(checkedTypes).isEqualTo(format.type() == GgmlType.TQ1_0 || format.type() == GgmlType.TQ2_0 ? 2 : 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("formats")
    void dotRejectsActivationsOfAnotherTypeOrLength(WeightFormat format, byte[] weights) {
        Tensor tensor = TestTensors.tensor(format.type(), new long[] {K, ROWS}, weights);
        ActivationType foreign = format.activationType() == ActivationType.F32 ? ActivationType.F16 : ActivationType.F32;
        assertThatThrownBy(() -> format.dot(tensor, 0, new Activations(foreign, K, 1), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("do not take " + foreign);
        assertThatThrownBy(() -> format.dot(tensor, 0, new Activations(format.activationType(), 2 * K, 1), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("do not match");
    }
}
