package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.GgmlMath.LANES;

/**
 * Causal attention of one query head over the cached keys and values, in the order the reference build
 * (bitnet.cpp's fork, x86-64 with AVX-512, llamafile sgemm on) evaluates it for a one-token step (spec §6.6):
 * <ul>
 *   <li>scores {@code k·q}: F16 keys times the float query, each score a 16-lane fused multiply-add chain over the
 *       head dimension reduced by the lane tree (llamafile's tinyBLAS); for head sizes not a multiple of 16, ggml's
 *       {@code vec_dot} order instead (query rounded to F16 for an F16 cache);</li>
 *   <li>softmax of {@code score*scale}: {@link GgmlMath#expf} of {@code w - max}, each 16 exponentials summed by
 *       the lane tree and added into a double, then multiplied by {@code (float)(1/sum)};</li>
 *   <li>output {@code Σ p·v}: per output dimension a 16-lane fused multiply-add chain over positions, reduced by
 *       the lane tree; the probabilities stay float.</li>
 * </ul>
 * Cache rows are {@code rowStride} elements apart; this head's slice starts at {@code kvOff} in every row.
 */
public final class Attention {
    private Attention() {
    }

    /** Per-thread scratch: scores over the context and one set of lanes. */
    public static final class Scratch {
        final float[] scores;
        final float[] lanes = new float[LANES];
        final float[][] accumulators = new float[4][LANES];

        public Scratch(int context) {
            this.scores = new float[context + LANES];
        }
    }

    /** One head against an F16 cache over positions {@code [0, length)}. */
    public static void headF16(float[] q, int qOff, short[] k, short[] v, int kvOff, int rowStride, int length,
                               int headDim, float scale, Scratch s, float[] out, int outOff) {
        float[] scores = s.scores;
        for (int j = 0; j < length; j++) {
            int row = j * rowStride + kvOff;
            scores[j] = vecDotF16(k, row, q, qOff, headDim, s);
        }
        softmax(scores, length, scale, s.lanes);
        for (int j = 0; j < length; j++) {
            scores[j] = roundToF16(scores[j]);
        }
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = vecDotF16Column(v, kvOff + d, rowStride, scores, length, s);
        }
    }

    private static float vecDotF16Column(short[] v, int column, int rowStride, float[] p, int n, Scratch s) {
        int blocked = n & ~63;
        float[][] acc = s.accumulators;
        for (float[] a : acc) {
            java.util.Arrays.fill(a, 0f);
        }
        for (int i = 0; i < blocked; i += 64) {
            for (int a = 0; a < 4; a++) {
                for (int l = 0; l < LANES; l++) {
                    int e = i + a * LANES + l;
                    acc[a][l] = Math.fma(Float.float16ToFloat(v[e * rowStride + column]), p[e], acc[a][l]);
                }
            }
        }
        double sum = reduceAccumulators(acc, s.lanes);
        for (int i = blocked; i < n; i++) {
            sum += Float.float16ToFloat(v[i * rowStride + column]) * p[i];
        }
        return (float) sum;
    }

    /** One head against an F32 cache over positions {@code [0, length)}. */
    public static void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int length,
                               int headDim, float scale, Scratch s, float[] out, int outOff) {
        float[] scores = s.scores;
        for (int j = 0; j < length; j++) {
            int row = j * rowStride + kvOff;
            scores[j] = headDim % LANES == 0 ? laneDotF32(k, row, q, qOff, headDim, s.lanes)
                    : vecDotF32(k, row, q, qOff, headDim, s);
        }
        softmax(scores, length, scale, s.lanes);
        for (int d = 0; d < headDim; d++) {
            float[] acc = s.lanes;
            java.util.Arrays.fill(acc, 0f);
            int column = kvOff + d;
            for (int j = 0; j < length; j++) {
                acc[j % LANES] = Math.fma(v[j * rowStride + column], scores[j], acc[j % LANES]);
            }
            out[outOff + d] = GgmlMath.reduceLanes(acc);
        }
    }

    /** tinyBLAS order: lane l sums elements l, l+16, ... with fused multiply-adds; then the lane tree. */
    private static float laneDotF16(short[] k, int row, float[] q, int qOff, int n, float[] lanes) {
        for (int l = 0; l < LANES; l++) {
            float acc = 0f;
            for (int i = l; i < n; i += LANES) {
                acc = Math.fma(Float.float16ToFloat(k[row + i]), q[qOff + i], acc);
            }
            lanes[l] = acc;
        }
        return GgmlMath.reduceLanes(lanes);
    }

    private static float laneDotF32(float[] k, int row, float[] q, int qOff, int n, float[] lanes) {
        for (int l = 0; l < LANES; l++) {
            float acc = 0f;
            for (int i = l; i < n; i += LANES) {
                acc = Math.fma(k[row + i], q[qOff + i], acc);
            }
            lanes[l] = acc;
        }
        return GgmlMath.reduceLanes(lanes);
    }

    /**
     * ggml's {@code vec_dot_f16}: the query rounded to F16; four 16-lane accumulators over each 64 elements, added
     * pairwise and reduced by the lane tree; the remaining elements added one by one in double.
     */
    private static float vecDotF16(short[] k, int row, float[] q, int qOff, int n, Scratch s) {
        int blocked = n & ~63;
        float[][] acc = s.accumulators;
        for (float[] a : acc) {
            java.util.Arrays.fill(a, 0f);
        }
        for (int i = 0; i < blocked; i += 64) {
            for (int a = 0; a < 4; a++) {
                for (int l = 0; l < LANES; l++) {
                    int e = i + a * LANES + l;
                    acc[a][l] = Math.fma(Float.float16ToFloat(k[row + e]), roundToF16(q[qOff + e]), acc[a][l]);
                }
            }
        }
        double sum = reduceAccumulators(acc, s.lanes);
        for (int i = blocked; i < n; i++) {
            sum += Float.float16ToFloat(k[row + i]) * roundToF16(q[qOff + i]);
        }
        return (float) sum;
    }

    /**
     * ggml's {@code vec_dot_f32}: four 16-lane accumulators over each 64 elements, then the remaining elements
     * fused into the float sum one by one.
     */
    private static float vecDotF32(float[] k, int row, float[] q, int qOff, int n, Scratch s) {
        int blocked = n & ~63;
        float[][] acc = s.accumulators;
        for (float[] a : acc) {
            java.util.Arrays.fill(a, 0f);
        }
        for (int i = 0; i < blocked; i += 64) {
            for (int a = 0; a < 4; a++) {
                for (int l = 0; l < LANES; l++) {
                    int e = i + a * LANES + l;
                    acc[a][l] = Math.fma(k[row + e], q[qOff + e], acc[a][l]);
                }
            }
        }
        float sum = (float) reduceAccumulators(acc, s.lanes);
        for (int i = blocked; i < n; i++) {
            sum = Math.fma(k[row + i], q[qOff + i], sum);
        }
        return sum;
    }

    private static double reduceAccumulators(float[][] acc, float[] lanes) {
        for (int l = 0; l < LANES; l++) {
            float a0 = acc[0][l] + acc[2][l];
            float a1 = acc[1][l] + acc[3][l];
            lanes[l] = a0 + a1;
        }
        return GgmlMath.reduceLanes(lanes);
    }

    private static float roundToF16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /**
     * ggml's {@code soft_max} with a scale over {@code n} unmasked scores (masked ones contribute zero):
     * {@code w = s*scale}, {@code e = expf(w - max)}, each group of 16 summed by the lane tree into a double,
     * {@code p = e * (float)(1/sum)}.
     */
    public static void softmax(float[] s, int n, float scale, float[] lanes) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            s[j] *= scale;
            max = s[j] > max ? s[j] : max;
        }
        double sum = 0;
        for (int group = 0; group < n; group += LANES) {
            for (int l = 0; l < LANES; l++) {
                int j = group + l;
                lanes[l] = j < n ? (s[j] = GgmlMath.expf(s[j] - max)) : 0f;
            }
            sum += GgmlMath.reduceLanes(lanes);
        }
        float inverse = (float) (1.0 / sum);
        for (int j = 0; j < n; j++) {
            s[j] *= inverse;
        }
    }
}
