package io.bitnet4j.convert;

/**
 * The element types a safetensors header may name, with their sizes, so that every tensor's byte range can be
 * checked; only the float types can be converted.
 */
public enum SafetensorsDtype {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int bytes;

    SafetensorsDtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Whether values of this type can be read as floats (F32, F16, BF16). */
    public boolean isConvertible() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The type named {@code name} in a header, or null. */
    static SafetensorsDtype parse(String name) {
        for (SafetensorsDtype t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
