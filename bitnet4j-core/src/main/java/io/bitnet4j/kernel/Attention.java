package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.GgmlMath.LANES;

import java.util.Arrays;

/**
 * Causal attention of one query head over the cached keys and values: the scalar reference, in the order the
 * reference build (bitnet.cpp's fork on x86-64 with AVX-512) evaluates it (spec §6.6), and the twin that
 * {@link VectorAttention} must match bit for bit.
 * <ul>
 *   <li>scores {@code k·q}: with an F16 cache the query is rounded to F16; ggml's {@code vec_dot} order: four
 *       accumulators of 16 lanes over each 64 elements (fused multiply-adds), combined {@code (a0+a2)+(a1+a3)},
 *       summed by the lane tree, the remaining elements added one by one;</li>
 *   <li>softmax of {@code score*scale}: {@link GgmlMath#expf} of {@code w - max}, each 16 exponentials summed by
 *       the lane tree into a double, then multiplied by {@code (float)(1/sum)};</li>
 *   <li>output {@code Σ p·v} per output dimension, the same {@code vec_dot} over the attended length rounded up to
 *       32 ({@link #POSITION_PAD}), padding cells having probability 0; with an F16 cache the
 *       probabilities are rounded to F16 first.</li>
 * </ul>
 * Keys are rows {@code rowStride} apart, this head's slice at {@code kvOff}; values are transposed, row
 * {@code kvOff + d} of length {@code valueStride}.
 */
public final class Attention {
    /** llama.cpp pads the attended length (and the cache) to a multiple of this many positions. */
    public static final int POSITION_PAD = 32;

    private Attention() {
    }

    /** Per-thread scratch: scores over the (padded) context, the rounded query, accumulators; the same for 4 heads. */
    public static final class Scratch {
        final float[] scores;
        final float[] query;
        final float[] lanes = new float[LANES];
        /** Four heads' sixteen sets of lanes, for sums that run sixteen at a time, and their sixteen sums. */
        final float[] laneSums = new float[4 * LANES * LANES + 4 * LANES];
        /** Four heads' queries or probabilities side by side, element i of head h at 4i + h (grown on first use). */
        private float[] sideBySide = new float[0];
        final float[][] accumulators = new float[4][LANES];
        private final int headDim;
        /** The F16-rounded queries of the heads of one or more groups of four, one after the other. */
        float[] groupQueries;
        /** A score array like {@link #scores} for each of those heads. */
        float[][] groupScores;
        /** One position's cached keys of the cache heads of {@link #groupQueries}' heads, widened to floats. */
        float[] keyRows;
        /** Two cached value rows (each {@link #scores}' length) of one head, widened to floats. */
        final float[] valueRows;

        public Scratch(int context, int headDim) {
            this.scores = new float[context + POSITION_PAD + LANES];
            this.query = new float[headDim];
            this.valueRows = new float[2 * scores.length];
            this.headDim = headDim;
            reserveGroups(1);
        }

        /** {@link #sideBySide}, at least {@code floats} long. */
        float[] sideBySide(int floats) {
            if (sideBySide.length < floats) {
                sideBySide = new float[floats];
            }
            return sideBySide;
        }

        /** Room for the heads of {@code groups} groups of four (grown once, on first use). */
        void reserveGroups(int groups) {
            if (groupScores == null || groupScores.length < 4 * groups) {
                groupQueries = new float[4 * groups * headDim];
                groupScores = new float[4 * groups][scores.length];
                keyRows = new float[groups * headDim];
            }
        }
    }

    /** One head against an F16 cache over positions {@code [0, length)}. */
    public static void headF16(float[] q, int qOff, short[] k, short[] v, int kvOff, int rowStride, int valueStride,
                               int length, int headDim, float scale, Scratch s, float[] out, int outOff) {
        float[] query = s.query;
        for (int i = 0; i < headDim; i++) {
            query[i] = roundToF16(q[qOff + i]);
        }
        float[] p = s.scores;
        for (int j = 0; j < length; j++) {
            p[j] = dotF16(k, j * rowStride + kvOff, query, 0, headDim, s);
        }
        softmax(p, length, scale, s.lanes);
        int padded = paddedLength(length);
        for (int j = 0; j < length; j++) {
            p[j] = roundToF16(p[j]);
        }
        Arrays.fill(p, length, padded, 0f);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = dotF16(v, (kvOff + d) * valueStride, p, 0, padded, s);
        }
    }

    /** One head against an F32 cache over positions {@code [0, length)}. */
    public static void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                               int length, int headDim, float scale, Scratch s, float[] out, int outOff) {
        float[] p = s.scores;
        for (int j = 0; j < length; j++) {
            p[j] = dotF32(k, j * rowStride + kvOff, q, qOff, headDim, s);
        }
        softmax(p, length, scale, s.lanes);
        int padded = paddedLength(length);
        Arrays.fill(p, length, padded, 0f);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = dotF32(v, (kvOff + d) * valueStride, p, 0, padded, s);
        }
    }

    /** The attended length as llama.cpp pads it. */
    public static int paddedLength(int length) {
        return (length + POSITION_PAD - 1) / POSITION_PAD * POSITION_PAD;
    }

    /** ggml's {@code vec_dot_f16} of F16 {@code x} and F16-exact floats {@code y}. */
    static float dotF16(short[] x, int xOff, float[] y, int yOff, int n, Scratch s) {
        int blocked = n & ~63;
        float[][] acc = clear(s.accumulators);
        for (int i = 0; i < blocked; i += 64) {
            for (int a = 0; a < 4; a++) {
                for (int l = 0; l < LANES; l++) {
                    int e = i + a * LANES + l;
                    acc[a][l] = Math.fma(Float.float16ToFloat(x[xOff + e]), y[yOff + e], acc[a][l]);
                }
            }
        }
        double sum = combine(acc, s.lanes);
        for (int i = blocked; i < n; i++) {
            sum += Float.float16ToFloat(x[xOff + i]) * y[yOff + i];
        }
        return (float) sum;
    }

    /** ggml's {@code vec_dot_f32}: the same blocks, the remaining elements fused into the float sum. */
    static float dotF32(float[] x, int xOff, float[] y, int yOff, int n, Scratch s) {
        int blocked = n & ~63;
        float[][] acc = clear(s.accumulators);
        for (int i = 0; i < blocked; i += 64) {
            for (int a = 0; a < 4; a++) {
                for (int l = 0; l < LANES; l++) {
                    int e = i + a * LANES + l;
                    acc[a][l] = Math.fma(x[xOff + e], y[yOff + e], acc[a][l]);
                }
            }
        }
        float sum = combine(acc, s.lanes);
        for (int i = blocked; i < n; i++) {
            sum = Math.fma(x[xOff + i], y[yOff + i], sum);
        }
        return sum;
    }

    private static float[][] clear(float[][] acc) {
        for (float[] a : acc) {
            Arrays.fill(a, 0f);
        }
        return acc;
    }

    /** {@code (a0+a2)+(a1+a3)} lane by lane, then the lane tree. */
    private static float combine(float[][] acc, float[] lanes) {
        for (int l = 0; l < LANES; l++) {
            lanes[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
        }
        return GgmlMath.reduceLanes(lanes);
    }

    static float roundToF16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /**
     * ggml's {@code soft_max} with a scale over {@code n} unmasked scores (masked ones contribute zero):
     * {@code w = s*scale}, {@code e = expf(w - max)}, each group of 16 summed by the lane tree into a double,
     * {@code p = e * (float)(1/sum)}.
     */
    public static void softmax(float[] s, int n, float scale, float[] lanes) {
        float max = scaleAndMax(s, n, scale);
        double sum = 0;
        for (int group = 0; group < n; group += LANES) {
            for (int l = 0; l < LANES; l++) {
                int j = group + l;
                lanes[l] = j < n ? (s[j] = GgmlMath.expf(s[j] - max)) : 0f;
            }
            sum += GgmlMath.reduceLanes(lanes);
        }
        normalize(s, n, sum);
    }

    /** {@code s[j] *= scale} for the first {@code n} scores, and their maximum. */
    static float scaleAndMax(float[] s, int n, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            s[j] *= scale;
            max = s[j] > max ? s[j] : max;
        }
        return max;
    }

    /** {@code s[j] *= (float)(1/sum)} for the first {@code n} exponentials. */
    static void normalize(float[] s, int n, double sum) {
        float inverse = (float) (1.0 / sum);
        for (int j = 0; j < n; j++) {
            s[j] *= inverse;
        }
    }
}
