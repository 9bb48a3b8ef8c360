package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * ggml's ternary block formats TQ1_0 and TQ2_0: blocks of 256 codes c ∈ {0, 1, 2} meaning −1, 0, +1, times one F16
 * scale d per block stored after the codes. The subclasses own how the codes are packed; the quantizer, the decoder
 * and the dot products are the same for both.
 *
 * <p>Two dot products, chosen by the activations' type:
 * <ul>
 *   <li>{@link ActivationType#Q8_K}, the reference's (llama.cpp's {@code ggml_vec_dot_tq*_q8_K_generic}): per block
 *       {@code sumf += (float) Σ(c−1)·q * (d · d_a)}, in block order.</li>
 *   <li>{@link ActivationType#I8_TOKEN}, bitnet4j's option of per-token int8 activations for every format (as
 *       bitnet.cpp does for I2_S): per block {@code sumf += (float) Σ(c−1)·q * d}, in block order, then
 *       {@code sumf / actScale}. No C reference computes this; the order is defined here and fast kernels follow it.</li>
 * </ul>
 */
abstract class TernaryBlockFormat extends BlockFormat {
    static final int BLOCK = 256;

    /** Reads the 256 codes (0, 1 or 2) of the block at {@code offset} in element order. */
    abstract void codes(MemorySegment data, long offset, byte[] out);

    /** Packs 256 codes (0, 1 or 2) in element order into the block at {@code offset} of {@code out}, d excluded. */
    abstract void pack(byte[] codes, byte[] out, int offset);

    /** Byte offset of the F16 scale inside a block. */
    abstract int scaleOffset();

    /** The 256 codes of block {@code block} of row {@code row}, in element order. */
    void blockCodes(Tensor tensor, long row, int block, byte[] out) {
        codes(tensor.data(), rowOffset(tensor, row) + (long) block * type().blockBytes(), out);
    }

    /** The scale d of block {@code block} of row {@code row}. */
    float blockScale(Tensor tensor, long row, int block) {
        return f16(tensor.data(), rowOffset(tensor, row) + (long) block * type().blockBytes() + scaleOffset());
    }

    @Override
    public final ActivationType activationType() {
        return ActivationType.Q8_K;
    }

    @Override
    public final boolean accepts(ActivationType type) {
        return type == ActivationType.Q8_K || type == ActivationType.I8_TOKEN;
    }

    @Override
    final void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset) {
        byte[] c = new byte[BLOCK];
        codes(data, offset, c);
        float d = f16(data, offset + scaleOffset());
        for (int e = 0; e < BLOCK; e++) {
            out[outOffset + e] = (float) (c[e] - 1) * d;
        }
    }

    @Override
    public final float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        int blocks = tensor.rowLength() / BLOCK;
        byte[] q = act.quants();
        int qBase = token * act.length();
        boolean perBlock = act.type() == ActivationType.Q8_K;
        byte[] c = new byte[BLOCK];
        float sumf = 0;
        for (int b = 0; b < blocks; b++) {
            blockCodes(tensor, row, b, c);
            int qb = qBase + b * BLOCK;
            int sumi = 0;
            for (int e = 0; e < BLOCK; e++) {
                sumi += (c[e] - 1) * q[qb + e];
            }
            float d = blockScale(tensor, row, b);
            sumf += perBlock ? (float) sumi * (d * act.scales()[token * blocks + b]) : (float) sumi * d;
        }
        return perBlock ? sumf : sumf / act.scales()[token];
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    /**
     * ggml's {@code quantize_row_tq1_0_ref}/{@code tq2_0_ref}, which llama-quantize uses: per block d = absmax
     * (stored as F16), code = lroundf(x · (1/d)) + 1 with ties away from zero, the reciprocal taken of the
     * unrounded absmax; an all-zero block gets d = 0 and code 1 everywhere.
     */
    @Override
    public byte[] encode(float[] values, long[] shape) {
        checkEncodable(values, shape);
        byte[] out = newBlocks(values);
        byte[] c = new byte[BLOCK];
        int blockBytes = type().blockBytes();
        for (int b = 0; b < values.length / BLOCK; b++) {
            int base = b * BLOCK;
            float amax = 0;
            for (int e = 0; e < BLOCK; e++) {
                amax = Math.max(amax, Math.abs(values[base + e]));
            }
            float id = amax != 0 ? 1f / amax : 0f;
            for (int e = 0; e < BLOCK; e++) {
                c[e] = (byte) (roundHalfAwayFromZero(values[base + e] * id) + 1);
            }
            pack(c, out, b * blockBytes);
            putF16(out, b * blockBytes + scaleOffset(), amax);
        }
        return out;
    }
}
