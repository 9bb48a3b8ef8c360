package io.bitnet4j.tensor;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;

/** The weight format for each supported ggml type. */
public final class WeightFormats {
    private WeightFormats() {
    }

    /** The format of {@code type}, with the canonical I2S-128 layout for I2_S. */
    public static WeightFormat of(GgmlType type) {
        return of(type, I2SFormat.I2S_128);
    }

    /** The format of {@code type}; {@code i2sLayout} chooses the I2_S packing. */
    public static WeightFormat of(GgmlType type, I2SFormat i2sLayout) {
        return switch (type) {
            case F32 -> F32Format.INSTANCE;
            case F16 -> F16Format.INSTANCE;
            case BF16 -> BF16Format.INSTANCE;
            case Q8_0 -> Q8_0Format.INSTANCE;
            case Q4_0 -> Q4_0Format.INSTANCE;
            case Q6_K -> Q6_KFormat.INSTANCE;
            case IQ2_S -> IQ2_SFormat.INSTANCE;
            case TQ1_0 -> TQ1_0Format.INSTANCE;
            case TQ2_0 -> TQ2_0Format.INSTANCE;
            case I2_S -> i2sLayout;
            case TL1, TL2 -> throw BitnetException.unsupported(type + " tensors are not supported: their byte order "
                    + "depends on bitnet.cpp code-generation tile parameters that the file does not record "
                    + "(spec §2.9); convert the model to I2_S, TQ2_0 or TQ1_0 instead");
            default -> throw BitnetException.unsupported("tensor type " + type + " is not supported");
        };
    }

    /** Whether {@link #of} knows {@code type}. */
    public static boolean isSupported(GgmlType type) {
        try {
            of(type);
            return true;
        } catch (BitnetException e) {
            return false;
        }
    }
}
