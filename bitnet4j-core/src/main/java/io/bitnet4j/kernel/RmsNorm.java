package io.bitnet4j.kernel;

/**
 * RMSNorm as ggml computes it (spec §6.2): the sum of {@code (float)(x*x)} accumulated in double, mean cast to
 * float, {@code scale = 1/sqrtf(mean + eps)}, {@code y = x*scale} in float, then {@code y *= g} as a separate
 * float multiplication.
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** {@code out[outOff..+n) = rmsnorm(x[xOff..+n)) * weight}; {@code out} may be {@code x}. */
    public static void apply(float[] x, int xOff, int n, float[] weight, float eps, float[] out, int outOff) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            float y = x[xOff + i] * scale;
            out[outOff + i] = y * weight[i];
        }
    }
}
