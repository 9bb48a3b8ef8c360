package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * ggml's TQ2_0 (spec §2.5): 256 ternary codes in 66 bytes, {@code [u8 qs[64]][f16 d]}, 2 bits per code. Element
 * {@code 128c + 32l + m} (c ∈ {0,1}, l ∈ 0..3, m ∈ 0..31) sits in bits {@code 2l..2l+1} of {@code qs[32c + m]}:
 * the lowest bit pair holds the first 32 elements of each half, the opposite bit order to I2_S.
 */
public final class TQ2_0Format extends TernaryBlockFormat {
    public static final TQ2_0Format INSTANCE = new TQ2_0Format();

    private static final int SCALE_OFFSET = 64;

    private TQ2_0Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.TQ2_0;
    }

    @Override
    int scaleOffset() {
        return SCALE_OFFSET;
    }

    @Override
    void codes(MemorySegment data, long offset, byte[] out) {
        for (int half = 0; half < 2; half++) {
            for (int m = 0; m < 32; m++) {
                int b = u8(data, offset + 32 * half + m);
                for (int l = 0; l < 4; l++) {
                    out[128 * half + 32 * l + m] = (byte) ((b >> (2 * l)) & 3);
                }
            }
        }
    }

    @Override
    void pack(byte[] codes, byte[] out, int offset) {
        for (int half = 0; half < 2; half++) {
            for (int m = 0; m < 32; m++) {
                int b = 0;
                for (int l = 0; l < 4; l++) {
                    b |= (codes[128 * half + 32 * l + m] & 3) << (2 * l);
                }
                out[offset + 32 * half + m] = (byte) b;
            }
        }
    }
}
