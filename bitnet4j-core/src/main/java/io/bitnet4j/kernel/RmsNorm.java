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
        scale(x, xOff, n, sum, weight, eps, out, outOff);
    }

    /**
     * {@link #apply} to rows {@code [first, end)} of {@code x}, each {@code n} long, into the same rows of
     * {@code out} (which may be {@code x}). Four rows go at a time, their sums of squares side by side: four serial
     * double chains, each in {@link #apply}'s order, so every row is {@link #apply}'s bit for bit, while one chain
     * alone waits out the latency of each addition (pp128 of the 2B model on one thread, timed in a throwaway
     * build: the norms about 44 -> 37 ms of a 1.25 s pass).
     */
    public static void applyRows(float[] x, int first, int end, int n, float[] weight, float eps, float[] out) {
        int row = first;
        for (; row + 4 <= end; row += 4) {
            int a = row * n;
            int b = a + n;
            int c = b + n;
            int d = c + n;
            double sa = 0;
            double sb = 0;
            double sc = 0;
            double sd = 0;
            for (int i = 0; i < n; i++) {
                float va = x[a + i];
                float vb = x[b + i];
                float vc = x[c + i];
                float vd = x[d + i];
                sa += va * va;
                sb += vb * vb;
                sc += vc * vc;
                sd += vd * vd;
            }
            scale(x, a, n, sa, weight, eps, out, a);
            scale(x, b, n, sb, weight, eps, out, b);
            scale(x, c, n, sc, weight, eps, out, c);
            scale(x, d, n, sd, weight, eps, out, d);
        }
        for (; row < end; row++) {
            apply(x, row * n, n, weight, eps, out, row * n);
        }
    }

    /** {@code out = (x * scale) * weight} with {@code scale = 1/sqrtf((float)(sum/n) + eps)}. */
    private static void scale(float[] x, int xOff, int n, double sum, float[] weight, float eps, float[] out,
                              int outOff) {
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            float y = x[xOff + i] * scale;
            out[outOff + i] = y * weight[i];
        }
    }
}
