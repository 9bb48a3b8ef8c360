package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * ggml's Q4_0 (spec §2.3): blocks of 32 elements in 18 bytes, {@code [f16 d][u8 qs[16]]}. Byte j holds element j in
 * its low nibble and element j+16 in its high nibble; element = (nibble − 8)·d. Products take Q8_0 activations
 * ({@code ggml_vec_dot_q4_0_q8_0_generic}).
 */
public final class Q4_0Format extends BlockFormat {
    public static final Q4_0Format INSTANCE = new Q4_0Format();

    private static final int BLOCK = 32;
    private static final int HALF = 16;
    private static final int BLOCK_BYTES = 18;

    private Q4_0Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.Q8_0;
    }

    @Override
    void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset) {
        float d = f16(data, offset);
        for (int j = 0; j < HALF; j++) {
            int b = u8(data, offset + 2 + j);
            out[outOffset + j] = ((b & 0xF) - 8) * d;
            out[outOffset + j + HALF] = ((b >> 4) - 8) * d;
        }
    }

    /** Per block: {@code sumf += (float) Σ w·q * d_w * d_a}, multiplied left to right as the reference does. */
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
            int qb = qBase + b * BLOCK;
            int sumi = 0;
            for (int j = 0; j < HALF; j++) {
                int packed = u8(data, offset + 2 + j);
                sumi += ((packed & 0xF) - 8) * q[qb + j] + ((packed >> 4) - 8) * q[qb + j + HALF];
            }
            sumf += sumi * f16(data, offset) * act.scales()[scaleBase + b];
        }
        return sumf;
    }
}
