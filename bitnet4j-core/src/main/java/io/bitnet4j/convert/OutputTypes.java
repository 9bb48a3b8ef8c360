package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The tensor types the converters write, by their llama.cpp names, and the {@code general.file_type} of each. */
public final class OutputTypes {
    /** Types a whole model (its projections) can be written in. */
    public static final List<GgmlType> MODEL_TYPES = List.of(GgmlType.I2_S, GgmlType.TQ1_0, GgmlType.TQ2_0,
            GgmlType.Q8_0, GgmlType.F16, GgmlType.F32);
    /** Types for the token embedding and the output head. */
    public static final List<GgmlType> EMBEDDING_TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0);

    private OutputTypes() {
    }

    /** The type called {@code name} (case-insensitive, e.g. {@code i2_s}) if it is one of {@code allowed}. */
    public static GgmlType parse(String name, String flag, List<GgmlType> allowed) {
        for (GgmlType t : allowed) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw BitnetException.usage(flag + " must be one of " + names(allowed) + ", got '" + name + "'");
    }

    public static String names(List<GgmlType> types) {
        return types.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    }

    /** llama.cpp's {@code llama_ftype} for a file whose weights are mostly {@code type}. */
    public static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 7;
            case TQ1_0 -> 36;
            case TQ2_0 -> 37;
            case I2_S -> 40;
            default -> throw new IllegalArgumentException("no file type for " + type);
        };
    }

    /** Whether a file of this type counts as quantized (it then carries {@code general.quantization_version}). */
    public static boolean isQuantized(GgmlType type) {
        return type != GgmlType.F32 && type != GgmlType.F16;
    }

    /**
     * Elements a row of {@code type} must be a multiple of: the block size, and for I2_S the 128-element packing
     * block that bitnet.cpp's kernels need to start every row on a block (spec §2.8).
     */
    public static int rowMultiple(GgmlType type) {
        return type == GgmlType.I2_S ? 128 : type.blockSize();
    }

    /** Rejects a tensor whose rows cannot be stored as {@code type}, naming it. */
    public static void checkRowLength(String tensor, long[] ggmlShape, GgmlType type) {
        long rowLength = ggmlShape[0];
        int multiple = rowMultiple(type);
        if (rowLength % multiple != 0) {
            throw BitnetException.invalidModel("tensor '" + tensor + "': rows of " + rowLength + " elements cannot be "
                    + type + ", which needs a multiple of " + multiple + (type == GgmlType.I2_S
                    ? " (use tq2_0 or tq1_0 if the rows are a multiple of 256, else f16)" : ""));
        }
    }
}
