package io.bitnet4j.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One typed GGUF metadata value. Integers keep their declared width in {@link #type()} so that a file can be
 * written back exactly; 64-bit unsigned values are stored in a {@code long} and read with unsigned semantics.
 */
public sealed interface GgufValue {

    GgufValueType type();

    /** A short human-readable rendering (arrays abbreviated), for {@code inspect}. */
    String describe();

    /** An integer of any width; {@code value} holds the raw bits for UINT64. */
    record IntValue(GgufValueType type, long value) implements GgufValue {
        public IntValue {
            if (!type.isInteger()) {
                throw new IllegalArgumentException("not an integer type: " + type);
            }
        }

        @Override
        public String describe() {
            return type == GgufValueType.UINT64 ? Long.toUnsignedString(value) : Long.toString(value);
        }
    }

    /** A FLOAT32 or FLOAT64 value; FLOAT32 values are exactly representable in the double. */
    record FloatValue(GgufValueType type, double value) implements GgufValue {
        public FloatValue {
            if (!type.isFloat()) {
                throw new IllegalArgumentException("not a float type: " + type);
            }
        }

        @Override
        public String describe() {
            return type == GgufValueType.FLOAT32 ? Float.toString((float) value) : Double.toString(value);
        }
    }

    record BoolValue(boolean value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.BOOL;
        }

        @Override
        public String describe() {
            return Boolean.toString(value);
        }
    }

    record StringValue(String value) implements GgufValue {
        public StringValue {
            Objects.requireNonNull(value);
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.STRING;
        }

        @Override
        public String describe() {
            return value.length() > 80 ? quote(value.substring(0, 77)) + "..." : quote(value);
        }
    }

    /** Every array: its element type and length. */
    sealed interface ArrayValue extends GgufValue {
        GgufValueType elementType();

        int size();

        @Override
        default GgufValueType type() {
            return GgufValueType.ARRAY;
        }

        @Override
        default String describe() {
            return "arr[" + elementType().displayName() + "," + size() + "]";
        }
    }

    record IntArray(GgufValueType elementType, long[] values) implements ArrayValue {
        public IntArray {
            if (!elementType.isInteger()) {
                throw new IllegalArgumentException("not an integer type: " + elementType);
            }
        }

        @Override
        public int size() {
            return values.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof IntArray other && elementType == other.elementType && Arrays.equals(values, other.values);
        }

        @Override
        public int hashCode() {
            return 31 * elementType.hashCode() + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    record FloatArray(GgufValueType elementType, double[] values) implements ArrayValue {
        public FloatArray {
            if (!elementType.isFloat()) {
                throw new IllegalArgumentException("not a float type: " + elementType);
            }
        }

        @Override
        public int size() {
            return values.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FloatArray other && elementType == other.elementType && Arrays.equals(values, other.values);
        }

        @Override
        public int hashCode() {
            return 31 * elementType.hashCode() + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    record BoolArray(boolean[] values) implements ArrayValue {
        @Override
        public GgufValueType elementType() {
            return GgufValueType.BOOL;
        }

        @Override
        public int size() {
            return values.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BoolArray other && Arrays.equals(values, other.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    record StringArray(List<String> values) implements ArrayValue {
        public StringArray {
            values = values instanceof PackedStrings ? values : List.copyOf(values);
        }

        @Override
        public GgufValueType elementType() {
            return GgufValueType.STRING;
        }

        @Override
        public int size() {
            return values.size();
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    /** An array whose elements are arrays (allowed by the GGUF spec, rejected by the ggml readers). */
    record NestedArray(List<ArrayValue> values) implements ArrayValue {
        public NestedArray {
            values = List.copyOf(values);
        }

        @Override
        public GgufValueType elementType() {
            return GgufValueType.ARRAY;
        }

        @Override
        public int size() {
            return values.size();
        }
    }

    private static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    static IntValue u32(long value) {
        return new IntValue(GgufValueType.UINT32, value);
    }

    static FloatValue f32(float value) {
        return new FloatValue(GgufValueType.FLOAT32, value);
    }

    static StringValue string(String value) {
        return new StringValue(value);
    }
}
