package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * ggml's Q8_0 (spec §2.2): blocks of 32 elements in 34 bytes, {@code [f16 d][i8 qs[32]]}, element = qs·d.
 * Products take Q8_0 activations; per block the integer sum is scaled by the product of both F16 scales
 * ({@code ggml_vec_dot_q8_0_q8_0_generic}).
 */
public final class Q8_0Format extends BlockFormat {
    public static final Q8_0Format INSTANCE = new Q8_0Format();

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 34;

    private Q8_0Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.Q8_0;
    }

    @Override
    void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset) {
        float d = f16(data, offset);
        for (int j = 0; j < BLOCK; j++) {
            out[outOffset + j] = i8(data, offset + 2 + j) * d;
        }
    }

    /** Per block: {@code sumf += (float) Σ w·q * (d_w * d_a)}, blocks in order. */
    @Override
    public float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        MemorySegment data = tensor.data();
        long offset = rowOffset(tensor, row);
        int blocks = tensor.rowLength() / BLOCK;
        byte[] q = act.quants();
        int qBase = token * act.length();
        int scaleBase = token * blocks;
        float sumf = 0;
        for (int b = 0; b < blocks; b++, offset += BLOCK_BYTES) {
            int sumi = 0;
            for (int j = 0; j < BLOCK; j++) {
                sumi += i8(data, offset + 2 + j) * q[qBase + b * BLOCK + j];
            }
            sumf += sumi * (f16(data, offset) * act.scales()[scaleBase + b]);
        }
        return sumf;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    /**
     * ggml's {@code quantize_row_q8_0_ref}, which llama-quantize uses: per block d = absmax/127 (stored as F16),
     * q = roundf(x · (1/d)) with ties away from zero, the reciprocal taken of the unrounded float d.
     */
    @Override
    public byte[] encode(float[] values, long[] shape) {
        checkEncodable(values, shape);
        byte[] out = newBlocks(values);
        for (int b = 0; b < values.length / BLOCK; b++) {
            int base = b * BLOCK;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(values[base + j]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            int o = b * BLOCK_BYTES;
            putF16(out, o, d);
            for (int j = 0; j < BLOCK; j++) {
                out[o + 2 + j] = (byte) roundHalfAwayFromZero(values[base + j] * id);
            }
        }
        return out;
    }
}
