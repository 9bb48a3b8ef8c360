package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;

/**
 * IEEE binary16, 2 bytes per element. ggml rounds the activations to F16 before the product (spec §6.4); each
 * product of two F16 values is exact in float, and the reference sums them in double.
 */
public final class F16Format implements WeightFormat {
    public static final F16Format INSTANCE = new F16Format();

    private F16Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.F16;
    }

    @Override
    public void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        for (int i = 0; i < count; i++) {
            out[outOffset + i] = Float.float16ToFloat(tensor.data().getAtIndex(Layouts.SHORT, first + i));
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
            sum += Float.float16ToFloat(tensor.data().getAtIndex(Layouts.SHORT, base + i)) * x[xBase + i];
        }
        return (float) sum;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    public byte[] encode(float[] values, long[] shape) {
        byte[] out = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            short h = Float.floatToFloat16(values[i]);
            out[2 * i] = (byte) h;
            out[2 * i + 1] = (byte) (h >> 8);
        }
        return out;
    }
}
