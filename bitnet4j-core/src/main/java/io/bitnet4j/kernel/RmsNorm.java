package io.bitnet4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * RMSNorm as ggml computes it (spec §6.2): the sum of {@code (float)(x*x)} accumulated in double, mean cast to
 * float, {@code scale = 1/sqrtf(mean + eps)}, {@code y = x*scale} in float, then {@code y *= g} as a separate
 * float multiplication.
 */
public final class RmsNorm {
    /**
     * Whether rows are scaled a vector at a time: where vectors of at least 128 bits are native; off with
     * {@code -Dbitnet.rmsnorm.vector=false}.
     */
    static final boolean VECTOR_SCALE = Simd.BITS >= 128 && Simd.booleanProperty("bitnet.rmsnorm.vector", true);

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
     * {@link #apply} to {@code rows} consecutive rows of {@code n} values, from {@code x[xOff]} into
     * {@code out[outOff]}, bit for bit. Each row's sum still runs in column order, as ggml's does, so a single sum
     * waits four cycles per column on its double addition; four rows summed in one pass over the columns keep
     * four independent additions in flight.
     */
    public static void applyRows(float[] x, int xOff, int rows, int n, float[] weight, float eps, float[] out,
                                 int outOff) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int b0 = xOff + r * n;
            int b1 = b0 + n;
            int b2 = b1 + n;
            int b3 = b2 + n;
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            for (int i = 0; i < n; i++) {
                float v0 = x[b0 + i];
                float v1 = x[b1 + i];
                float v2 = x[b2 + i];
                float v3 = x[b3 + i];
                s0 += v0 * v0;
                s1 += v1 * v1;
                s2 += v2 * v2;
                s3 += v3 * v3;
            }
            int o = outOff + r * n;
            scale(x, b0, n, s0, weight, eps, out, o);
            scale(x, b1, n, s1, weight, eps, out, o + n);
            scale(x, b2, n, s2, weight, eps, out, o + 2 * n);
            scale(x, b3, n, s3, weight, eps, out, o + 3 * n);
        }
        for (; r < rows; r++) {
            apply(x, xOff + r * n, n, weight, eps, out, outOff + r * n);
        }
    }

    /**
     * {@code out = (x·scale)·weight} for one row whose sum of squares is {@code sum}: two float products per element,
     * a vector of them at a time where vectors are on (the JIT left this loop scalar: 1.8 cycles an element).
     */
    private static void scale(float[] x, int xOff, int n, double sum, float[] weight, float eps, float[] out,
                              int outOff) {
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        int i = 0;
        if (VECTOR_SCALE) {
            FloatVector scales = FloatVector.broadcast(Simd.FLOATS, scale);
            for (int whole = n - n % Simd.FLOATS.length(); i < whole; i += Simd.FLOATS.length()) {
                FloatVector.fromArray(Simd.FLOATS, x, xOff + i).lanewise(VectorOperators.MUL, scales)
                        .lanewise(VectorOperators.MUL, FloatVector.fromArray(Simd.FLOATS, weight, i))
                        .intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            float y = x[xOff + i] * scale;
            out[outOff + i] = y * weight[i];
        }
    }
}
