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
    /** The generic reference keeps 8 partial sums, lane l taking elements ≡ l (mod 8). */
    private static final int LANES = 8;

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
        for (int half = 0; half < 2; half++) {
            long ql = offset + 64L * half;
            long qh = offset + QH + 32L * half;
            int base = 128 * half;
            for (int l = 0; l < 32; l++) {
                int lo = u8(data, ql + l);
                int hi = u8(data, ql + l + 32);
                int h = u8(data, qh + l);
                out[base + l] = ((lo & 0xF) | ((h & 3) << 4)) - 32;
                out[base + l + 32] = ((hi & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                out[base + l + 64] = ((lo >> 4) | (((h >> 4) & 3) << 4)) - 32;
                out[base + l + 96] = ((hi >> 4) | (((h >> 6) & 3) << 4)) - 32;
            }
        }
    }

    @Override
    void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset) {
        int[] q = new int[BLOCK];
        codes(data, offset, q);
        float d = f16(data, offset + D);
        for (int e = 0; e < BLOCK; e++) {
            out[outOffset + e] = d * i8(data, offset + SCALES + e / 16) * q[e];
        }
    }

    /**
     * As {@code ggml_vec_dot_q6_K_q8_K_generic}: per block, eight integer lanes {@code Σ scale·w·q} over the elements
     * ≡ l (mod 8); each lane is added to its own float sum as {@code (d_w·d_a)·lane}; the eight float sums are added
     * in lane order at the end.
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
        int[] lanes = new int[LANES];
        float[] sums = new float[LANES];
        for (int b = 0; b < blocks; b++, offset += BLOCK_BYTES) {
            codes(data, offset, w);
            Arrays.fill(lanes, 0);
            int qb = qBase + b * BLOCK;
            for (int e = 0; e < BLOCK; e++) {
                lanes[e % LANES] += i8(data, offset + SCALES + e / 16) * (w[e] * q8[qb + e]);
            }
            float d = f16(data, offset + D) * act.scales()[scaleBase + b];
            for (int l = 0; l < LANES; l++) {
                sums[l] += d * lanes[l];
            }
        }
        float sumf = 0;
        for (int l = 0; l < LANES; l++) {
            sumf += sums[l];
        }
        return sumf;
    }
}
