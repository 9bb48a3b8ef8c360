package io.bitnet4j.tensor;

/**
 * A float type of 2 bytes per element (F16, BF16). ggml rounds the activations to the same type before the
 * product, each product of two such values is exact in float, and the reference sums them in double. Subclasses
 * say how a value converts.
 */
abstract sealed class SixteenBitFloatFormat implements WeightFormat permits F16Format, BF16Format {

    /** The float value of {@code bits}, exactly. */
    abstract float toFloat(short bits);

    /** {@code value} rounded to this type as ggml rounds it. */
    abstract short fromFloat(float value);

    @Override
    public final void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        for (int i = 0; i < count; i++) {
            out[outOffset + i] = toFloat(tensor.data().getAtIndex(Layouts.SHORT, first + i));
        }
    }

    @Override
    public final float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        int k = tensor.rowLength();
        long base = row * k;
        float[] x = act.values();
        int xBase = token * act.length();
        double sum = 0;
        for (int i = 0; i < k; i++) {
            sum += toFloat(tensor.data().getAtIndex(Layouts.SHORT, base + i)) * x[xBase + i];
        }
        return (float) sum;
    }

    @Override
    public final boolean canEncode() {
        return true;
    }

    @Override
    public final byte[] encode(float[] values, long[] shape) {
        byte[] out = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            short h = fromFloat(values[i]);
            out[2 * i] = (byte) h;
            out[2 * i + 1] = (byte) (h >> 8);
        }
        return out;
    }
}
