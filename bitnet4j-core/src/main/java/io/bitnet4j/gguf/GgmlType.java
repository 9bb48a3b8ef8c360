package io.bitnet4j.gguf;

/**
 * The ggml tensor types that can appear in a GGUF file: on-disk id, block size in elements and bytes per block.
 * The type table belongs to the container (a reader must know every type's size to validate a file), so it
 * lives here rather than beside the weight formats that decode the blocks.
 *
 * <p>Ids 36–39 mean different things in bitnet.cpp files and in mainline llama.cpp files (spec §2.1);
 * {@link #fromId(int, TypeDialect)} resolves them.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    /** bitnet.cpp: 2-bit ternary codes, one f32 scale per tensor in a 32-byte tail (spec §2.8). */
    I2_S(36, 1, 1),
    /** bitnet.cpp: internal int8 activation buffer, never in a file. */
    I8_S(37, 1, 1),
    /** bitnet.cpp lookup-table layout for ARM, tied to codegen tile parameters that are not in the file. */
    TL1(38, 1, 1),
    /** bitnet.cpp lookup-table layout for x86, tied to codegen tile parameters that are not in the file. */
    TL2(39, 1, 1),
    /** mainline: MXFP4 (id 39 outside bitnet.cpp files). */
    MXFP4(39, 32, 17);

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int id() {
        return id;
    }

    /** Elements per block; a row length must be a multiple of it. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block (for the bitnet.cpp types, see {@link #byteSize}). */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether this type comes from bitnet.cpp and is sized by a special formula. */
    public boolean isBitnetCppType() {
        return this == I2_S || this == I8_S || this == TL1 || this == TL2;
    }

    /**
     * Bytes a tensor of this type and shape occupies, or -1 if the size overflows a long. I2_S and TL1 take
     * 2 bits per weight plus a 32-byte tail that holds the f32 scale; TL2 packs K-256 columns in 5/3 bits and a
     * 256-column tail in 2 bits (bitnet.cpp's {@code ggml_nbytes}).
     */
    public long byteSize(long[] shape) {
        long elements = elementCount(shape);
        if (elements < 0) {
            return -1;
        }
        switch (this) {
            case I2_S, TL1 -> {
                return elements / 4 + 32;
            }
            case I8_S -> {
                return elements + 4;
            }
            case TL2 -> {
                long k = shape.length > 0 ? shape[0] : 1;
                long m = elements / Math.max(k, 1);
                if (k < 256) {
                    return -1;
                }
                try {
                    long packed = Math.addExact(Math.multiplyExact(k - 256, m) / 3 * 5 / 8, 256 * m / 2 * 4 / 8);
                    return Math.addExact(Math.addExact(packed, 31) / 32 * 32, 32);
                } catch (ArithmeticException e) {
                    return -1;
                }
            }
            default -> {
                if (elements % blockSize != 0) {
                    return -1;
                }
                try {
                    return Math.multiplyExact(elements / blockSize, (long) blockBytes);
                } catch (ArithmeticException e) {
                    return -1;
                }
            }
        }
    }

    /** Product of the dimensions, or -1 if it overflows a signed 64-bit integer. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /**
     * The type a file means by this id, or null if the id is unknown or names a type that was removed from GGUF.
     * Ids 36–39 depend on the dialect: bitnet.cpp's I2_S/I8_S/TL1/TL2, or mainline's (removed ids 36–38, MXFP4 = 39).
     */
    public static GgmlType fromId(int id, TypeDialect dialect) {
        if (id >= 36 && id <= 39) {
            if (dialect == TypeDialect.BITNET_CPP) {
                return switch (id) {
                    case 36 -> I2_S;
                    case 37 -> I8_S;
                    case 38 -> TL1;
                    default -> TL2;
                };
            }
            return id == 39 ? MXFP4 : null;
        }
        for (GgmlType t : values()) {
            if (t.id == id && !t.isBitnetCppType() && t != MXFP4) {
                return t;
            }
        }
        return null;
    }

    /** A short reason for ids that name no usable type, to put in error messages. */
    public static String describeUnknownId(int id, TypeDialect dialect) {
        if (id >= 31 && id <= 33) {
            return "type id " + id + " (Q4_0_4_4/Q4_0_4_8/Q4_0_8_8, removed from GGUF by llama.cpp; re-quantize the file)";
        }
        if (id >= 36 && id <= 38 && dialect == TypeDialect.MAINLINE) {
            return "type id " + id + " (a removed mainline type here; in bitnet.cpp files it means "
                    + (id == 36 ? "I2_S" : id == 37 ? "I8_S" : "TL1")
                    + ": pass the bitnet.cpp dialect if this file came from bitnet.cpp)";
        }
        return "unknown type id " + Integer.toUnsignedString(id);
    }
}
