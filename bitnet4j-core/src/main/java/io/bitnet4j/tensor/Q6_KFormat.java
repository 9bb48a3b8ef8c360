package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * ggml's Q6_K (spec §2.4): blocks of 256 elements in 210 bytes, {@code [u8 ql[128]][u8 qh[64]][i8 scales[16]][f16 d]}.
 * Each element is a 6-bit code (4 low bits from {@code ql}, 2 high bits from {@code qh}) minus 32, times
 * {@code d·scales[e/16]}. The block is two halves of 128; in half h, for l in 0..31, byte {@code ql[64h+l]} holds
 * elements l (low nibble) and l+64 (high nibble), {@code ql[64h+l+32]} elements l+32 and l+96, and {@code qh[32h+l]}
 * the high bits of elements l, l+32, l+64, l+96 in bit pairs 0, 2, 4, 6. Products take Q8_K activations.
 */
public final class Q6_KFormat extends BlockFormat {
    public static final Q6_KFormat INSTANCE = new Q6_KFormat();

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;
    /** ggml's threshold below which a group counts as all zero. */
    private static final float GROUP_MAX_EPS = 1e-15f;
    /** Sub-blocks of 16 elements in a block, each with its own scale and its own float sum in {@link #dot}. */
    private static final int SUB_BLOCKS = 16;

    private Q6_KFormat() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.Q8_K;
    }

    /** The 256 signed codes (−32..31) of the block at {@code offset}, in element order. */
    private static void codes(MemorySegment data, long offset, int[] out) {
        for (int e = 0; e < BLOCK; e++) {
            out[e] = code(data, offset, e);
        }
    }

    /**
     * The signed code (−32..31) of element {@code e} of the block at {@code offset}: in each half of 128, elements
     * l, l+32, l+64, l+96 take the low nibble of ql[l], ql[l+32], then their high nibbles, and bit pairs 0..3 of
     * qh[l] on top.
     */
    private static int code(MemorySegment data, long offset, int e) {
        int half = e / 128;
        int j = e % 128 / 32;
        int l = e % 32;
        int packed = u8(data, offset + 64L * half + l + 32 * (j & 1));
        int nibble = j < 2 ? packed & 0xF : packed >> 4;
        int top = (u8(data, offset + QH + 32L * half + l) >> (2 * j)) & 3;
        return (nibble | (top << 4)) - 32;
    }

    @Override
    void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset) {
        float d = f16(data, offset + D);
        for (int e = 0; e < BLOCK; e++) {
            out[outOffset + e] = d * i8(data, offset + SCALES + e / 16) * code(data, offset, e);
        }
    }

    /**
     * Per block, each sub-block's integer {@code scale · Σ w·q} (exact, below 2^24 in magnitude, so exact as a float
     * too) is added to that sub-block's own float sum as {@code (d_w·d_a)·value}; the sixteen float sums are added in
     * order at the end. ggml's reference keeps eight sums by element mod 8 instead and its vector paths sum a whole
     * block as an integer: all three are the same integers per block, rounded in different orders. This order is the
     * one the vector kernel computes with the fewest lane movements.
     */
    @Override
    public float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        MemorySegment data = tensor.data();
        long offset = rowOffset(tensor, row);
        int blocks = tensor.rowLength() / BLOCK;
        byte[] q8 = act.quants();
        int qBase = token * act.length();
        int scaleBase = token * blocks;
        int[] w = new int[BLOCK];
        float[] sums = new float[SUB_BLOCKS];
        for (int b = 0; b < blocks; b++, offset += BLOCK_BYTES) {
            codes(data, offset, w);
            int qb = qBase + b * BLOCK;
            float d = f16(data, offset + D) * act.scales()[scaleBase + b];
            for (int s = 0; s < SUB_BLOCKS; s++) {
                int sum = 0;
                for (int e = 16 * s; e < 16 * s + 16; e++) {
                    sum += w[e] * q8[qb + e];
                }
                sums[s] += d * (float) (i8(data, offset + SCALES + s) * sum);
            }
        }
        float sumf = 0;
        for (int s = 0; s < SUB_BLOCKS; s++) {
            sumf += sums[s];
        }
        return sumf;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    /**
     * ggml's {@code quantize_row_q6_K_ref}, which {@code llama-quantize} uses without an importance matrix: each
     * sub-block of 16 gets a float scale from {@link #subBlockScale}; the block's d is the scale of largest magnitude
     * over −128 (stored as F16); sub-block scales become {@code min(127, round(scale·(−128/maxScale)))}; the codes
     * are requantized against {@code d·scale} and clamped to −32..31. Every step in float, as the C code.
     */
    @Override
    public byte[] encode(float[] values, long[] shape) {
        checkEncodable(values, shape);
        byte[] out = newBlocks(values);
        int[] codes = new int[BLOCK];
        float[] scales = new float[BLOCK / 16];
        for (int b = 0; b < values.length / BLOCK; b++) {
            int x = b * BLOCK;
            int o = b * BLOCK_BYTES;
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int sub = 0; sub < BLOCK / 16; sub++) {
                float scale = subBlockScale(values, x + 16 * sub, codes, 16 * sub);
                scales[sub] = scale;
                if (Math.abs(scale) > maxAbsScale) {
                    maxAbsScale = Math.abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                continue;
            }
            float iscale = -128f / maxScale;
            putF16(out, o + D, 1 / iscale);
            float d = Float.float16ToFloat(Float.floatToFloat16(1 / iscale));
            for (int sub = 0; sub < BLOCK / 16; sub++) {
                int scale = Math.min(127, nearestInt(iscale * scales[sub]));
                out[o + SCALES + sub] = (byte) scale;
                float ds = d * (byte) scale;
                if (ds == 0) {
                    continue;
                }
                for (int i = 0; i < 16; i++) {
                    codes[16 * sub + i] = Math.max(-32, Math.min(31, nearestInt(values[x + 16 * sub + i] / ds))) + 32;
                }
            }
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l++) {
                    int j = 128 * half + l;
                    out[o + 64 * half + l] = (byte) ((codes[j] & 0xF) | ((codes[j + 64] & 0xF) << 4));
                    out[o + 64 * half + l + 32] = (byte) ((codes[j + 32] & 0xF) | ((codes[j + 96] & 0xF) << 4));
                    out[o + QH + 32 * half + l] = (byte) ((codes[j] >> 4) | ((codes[j + 32] >> 4) << 2)
                            | ((codes[j + 64] >> 4) << 4) | ((codes[j + 96] >> 4) << 6));
                }
            }
        }
        return out;
    }

    /**
     * ggml's {@code make_qx_quants(16, 32, x, L, 1, NULL)}: codes {@code L = clamp(round(x·iscale), −32, 31) + 32}
     * for iscale = −32/max (max: the element of largest magnitude), weights w = x², the least-squares scale
     * Σwxl/Σwl², then 18 more iscales −(32 + 0.1·is)/max (is = −9..9, not 0), keeping the one whose codes give the
     * larger (Σwxl)²/Σwl². Returns the scale; an all-zero sub-block gets codes 0 and scale 0.
     */
    private static float subBlockScale(float[] x, int from, int[] codes, int at) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < 16; i++) {
            float ax = Math.abs(x[from + i]);
            if (ax > amax) {
                amax = ax;
                max = x[from + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            Arrays.fill(codes, at, at + 16, 0);
            return 0f;
        }
        float iscale = -32f / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < 16; i++) {
            float v = x[from + i];
            int l = Math.max(-32, Math.min(31, nearestInt(iscale * v)));
            codes[at + i] = l + 32;
            float w = v * v;
            sumlx = Math.fma(w * v, l, sumlx);
            suml2 = Math.fma(w * l, l, suml2);
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -Math.fma(0.1f, is, 32f) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < 16; i++) {
                float v = x[from + i];
                int l = Math.max(-32, Math.min(31, nearestInt(iscale * v)));
                float w = v * v;
                sumlx = Math.fma(w * v, l, sumlx);
                suml2 = Math.fma(w * l, l, suml2);
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < 16; i++) {
                    codes[at + i] = Math.max(-32, Math.min(31, nearestInt(iscale * x[from + i]))) + 32;
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /** ggml's {@code nearest_int}: round half to even (exact for |v| < 2^22, all that quantizing needs). */
    private static int nearestInt(float v) {
        return (int) Math.rint(v);
    }
}
