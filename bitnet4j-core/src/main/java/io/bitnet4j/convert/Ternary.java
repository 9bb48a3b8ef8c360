package io.bitnet4j.convert;

/** Recognising ternary weights and making them, as BitNet b1.58 does. */
public final class Ternary {
    /** The floor of the absolute mean in BitNet's quantizer ({@code clamp(min=1e-5)}). */
    private static final float MIN_ABS_MEAN = 1e-5f;

    private Ternary() {
    }

    /**
     * The magnitude {@code a} if every value is exactly −a, 0 or +a for one {@code a > 0} (−0 counts as 0), else NaN.
     */
    public static float magnitude(float[] values) {
        float a = 0;
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return Float.NaN;
            }
            float m = Math.abs(v);
            if (m == 0) {
                continue;
            }
            if (a == 0) {
                a = m;
            } else if (m != a) {
                return Float.NaN;
            }
        }
        return a > 0 ? a : Float.NaN;
    }

    /**
     * BitNet's absmean ternarization, as bitnet.cpp's {@code preprocess-huggingface-bitnet.py} does it in float32:
     * {@code s = 1 / max(mean|W|, 1e-5)}, {@code W' = clamp(round(W·s), −1, 1) / s} with round half to even. The
     * mean is summed in double and rounded once to float; PyTorch's float32 reduction may differ from it in the last
     * bit, which changes a weight only if it lies exactly on a rounding boundary. Returns a new array.
     */
    public static float[] absmean(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += Math.abs(v);
        }
        float mean = values.length == 0 ? 0f : (float) (sum / values.length);
        float s = 1f / Math.max(mean, MIN_ABS_MEAN);
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            float q = (float) Math.rint(values[i] * s);
            out[i] = Math.max(-1f, Math.min(1f, q)) / s;
        }
        return out;
    }
}
