package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * ggml's TQ1_0 (spec §2.6): 256 ternary codes in 54 bytes, {@code [u8 qs[48]][u8 qh[4]][f16 d]}, 5 codes per byte
 * (4 in {@code qh}) in base 3. A byte stores its digits as a fixed-point fraction: the base-3 number
 * {@code t0 t1 t2 t3 t4} (t0 most significant) becomes {@code ceil(value · 256 / 243)}, so digit n is
 * {@code ((byte · 3^n mod 256) · 3) >> 8}, a multiply instead of a division. A {@code qh} byte holds 4 digits
 * shifted up by one place. Element order:
 * <ul>
 *   <li>{@code qs[0..31]}: element {@code 32n + m} is digit n of {@code qs[m]} (160 elements);</li>
 *   <li>{@code qs[32..47]}: element {@code 160 + 16n + m} is digit n of {@code qs[32 + m]} (80 elements);</li>
 *   <li>{@code qh[0..3]}: element {@code 240 + 4n + m} is digit n of {@code qh[m]} (16 elements).</li>
 * </ul>
 */
public final class TQ1_0Format extends TernaryBlockFormat {
    public static final TQ1_0Format INSTANCE = new TQ1_0Format();

    private static final int QH_OFFSET = 48;
    private static final int SCALE_OFFSET = 52;
    private static final int[] POW3 = {1, 3, 9, 27, 81, 243};

    private TQ1_0Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.TQ1_0;
    }

    @Override
    int scaleOffset() {
        return SCALE_OFFSET;
    }

    /** Digit {@code n} (0 = most significant) of a packed byte. */
    static int digit(int packed, int n) {
        int shifted = (packed * POW3[n]) & 0xFF;
        return (shifted * 3) >> 8;
    }

    /** Packs base-3 digits (most significant first) into one byte: the ceiling of value · 256 / 243. */
    static int packDigits(int value) {
        return (value * 256 + 242) / 243;
    }

    @Override
    void codes(MemorySegment data, long offset, byte[] out) {
        for (int n = 0; n < 5; n++) {
            for (int m = 0; m < 32; m++) {
                out[32 * n + m] = (byte) digit(u8(data, offset + m), n);
            }
            for (int m = 0; m < 16; m++) {
                out[160 + 16 * n + m] = (byte) digit(u8(data, offset + 32 + m), n);
            }
        }
        for (int n = 0; n < 4; n++) {
            for (int m = 0; m < 4; m++) {
                out[240 + 4 * n + m] = (byte) digit(u8(data, offset + QH_OFFSET + m), n);
            }
        }
    }

    @Override
    void pack(byte[] codes, byte[] out, int offset) {
        for (int m = 0; m < 32; m++) {
            int value = 0;
            for (int n = 0; n < 5; n++) {
                value = value * 3 + codes[32 * n + m];
            }
            out[offset + m] = (byte) packDigits(value);
        }
        for (int m = 0; m < 16; m++) {
            int value = 0;
            for (int n = 0; n < 5; n++) {
                value = value * 3 + codes[160 + 16 * n + m];
            }
            out[offset + 32 + m] = (byte) packDigits(value);
        }
        for (int m = 0; m < 4; m++) {
            int value = 0;
            for (int n = 0; n < 4; n++) {
                value = value * 3 + codes[240 + 4 * n + m];
            }
            out[offset + QH_OFFSET + m] = (byte) packDigits(value * 3);
        }
    }
}
