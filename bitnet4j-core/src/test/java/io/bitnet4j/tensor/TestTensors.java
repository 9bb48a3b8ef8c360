package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Builds tensors over byte arrays and reads activations back as exact doubles, for format tests. */
final class TestTensors {
    private TestTensors() {
    }

    static Tensor tensor(GgmlType type, long[] shape, byte[] bytes) {
        return new Tensor("test." + type, type, shape, MemorySegment.ofArray(bytes));
    }

    static float[] decodeAll(WeightFormat format, GgmlType type, long[] shape, byte[] bytes) {
        return format.decodeAll(tensor(type, shape, bytes));
    }

    /** The exact real value each prepared activation stands for (codes times their scale, in double). */
    static double[] dequantize(Activations act, int token) {
        int n = act.length();
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (act.type()) {
                case F32, F16, BF16 -> act.values()[token * n + i];
                case Q8_0 -> (double) act.quants()[token * n + i] * act.scales()[token * (n / 32) + i / 32];
                case Q8_K -> (double) act.quants()[token * n + i] * act.scales()[token * (n / 256) + i / 256];
                case I8_TOKEN -> act.quants()[token * n + i] / (double) act.scales()[token];
            };
        }
        return out;
    }

    /** Gaussian values with a few large outliers, as activations tend to look. */
    static float[] activations(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian() * (random.nextInt(50) == 0 ? 20f : 1f);
        }
        return x;
    }

    /** Ternary values times a per-256-block scale that is exact in F16, so TQ formats hold them without loss. */
    static float[] ternary(Random random, int n, boolean scalePerBlock) {
        float[] w = new float[n];
        float scale = f16Scale(random);
        for (int i = 0; i < n; i++) {
            if (scalePerBlock && i % 256 == 0) {
                scale = f16Scale(random);
            }
            w[i] = (random.nextInt(3) - 1) * scale;
        }
        return w;
    }

    /** A random positive scale that is exact in F16 (and BF16 if it has few mantissa bits). */
    static float f16Scale(Random random) {
        return Float.float16ToFloat(Float.floatToFloat16(0.01f + random.nextFloat() * 0.2f));
    }

    /** Random block bytes with the F16 scale at {@code scaleOffset} of each block set to a small positive value. */
    static byte[] randomBlocks(Random random, GgmlType type, int elements, int scaleOffset) {
        int blocks = elements / type.blockSize();
        byte[] bytes = new byte[blocks * type.blockBytes()];
        random.nextBytes(bytes);
        for (int b = 0; b < blocks; b++) {
            short d = Float.floatToFloat16(f16Scale(random));
            bytes[b * type.blockBytes() + scaleOffset] = (byte) d;
            bytes[b * type.blockBytes() + scaleOffset + 1] = (byte) (d >> 8);
        }
        return bytes;
    }

    /**
     * Fails at the first element where {@code actual} and {@code expected} differ as floats (so 0 equals −0), naming
     * it; linear, unlike AssertJ's {@code containsExactly}, which is quadratic on large arrays.
     */
    static void assertSameValues(float[] actual, float[] expected, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (actual[i] != expected[i]) {
                assertThat(actual[i]).as("%s, element %d", what, i).isEqualTo(expected[i]);
            }
        }
    }

    static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }
}
