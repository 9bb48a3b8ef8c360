package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;

/**
 * bfloat16, 2 bytes per element: the top half of an IEEE binary32. ggml rounds the activations to BF16 before the
 * product ({@code vec_dot_type} of BF16 is BF16); each product of two BF16 values is exact in float, and the
 * reference sums them in double ({@code ggml_vec_dot_bf16}).
 */
public final class BF16Format implements WeightFormat {
    public static final BF16Format INSTANCE = new BF16Format();

    private BF16Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.BF16;
    }

    @Override
    public void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        for (int i = 0; i < count; i++) {
            out[outOffset + i] = Bf16.toFloat(tensor.data().getAtIndex(Layouts.SHORT, first + i));
        }
    }

    @Override
    public float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        int k = tensor.rowLength();
        long base = row * k;
        float[] x = act.values();
        int xBase = token * act.length();
        double sum = 0;
        for (int i = 0; i < k; i++) {
            sum += Bf16.toFloat(tensor.data().getAtIndex(Layouts.SHORT, base + i)) * x[xBase + i];
        }
        return (float) sum;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    /** Rounds each value to the nearest BF16, ties to even, NaN kept quiet (ggml's {@code GGML_FP32_TO_BF16}). */
    @Override
    public byte[] encode(float[] values, long[] shape) {
        byte[] out = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            short h = Bf16.fromFloat(values[i]);
            out[2 * i] = (byte) h;
            out[2 * i + 1] = (byte) (h >> 8);
        }
        return out;
    }
}
