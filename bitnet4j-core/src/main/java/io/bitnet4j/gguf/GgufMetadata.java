package io.bitnet4j.gguf;

import io.bitnet4j.BitnetException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The metadata key/value pairs of a GGUF file, in file order, with typed getters whose errors name the source
 * file and the key and say which type was expected.
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValue> values;

    public GgufMetadata(String source, Map<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Where the metadata came from (a file name), used in error messages. */
    public String source() {
        return source;
    }

    public Map<String, GgufValue> asMap() {
        return values;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public int size() {
        return values.size();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public String requireString(String key) {
        return optionalString(key).orElseThrow(() -> missing(key, "a string"));
    }

    public Optional<String> optionalString(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof GgufValue.StringValue s) {
            return Optional.of(s.value());
        }
        throw wrongType(key, v, "a string");
    }

    /** An integer of any width that fits in a Java long (UINT64 above Long.MAX_VALUE is rejected). */
    public OptionalLong optionalLong(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (v instanceof GgufValue.IntValue i) {
            if (i.type() == GgufValueType.UINT64 && i.value() < 0) {
                throw BitnetException.invalidFile(source + ": metadata key '" + key + "' = "
                        + Long.toUnsignedString(i.value()) + " is too large");
            }
            return OptionalLong.of(i.value());
        }
        throw wrongType(key, v, "an integer");
    }

    public long requireLong(String key) {
        return optionalLong(key).orElseThrow(() -> missing(key, "an integer"));
    }

    /** An integer that must lie in [min, max]. */
    public int requireInt(String key, int min, int max) {
        return checkRange(key, requireLong(key), min, max);
    }

    public int intOrDefault(String key, int defaultValue, int min, int max) {
        OptionalLong v = optionalLong(key);
        return v.isPresent() ? checkRange(key, v.getAsLong(), min, max) : defaultValue;
    }

    private int checkRange(String key, long value, int min, int max) {
        if (value < min || value > max) {
            throw BitnetException.invalidFile(source + ": metadata key '" + key + "' = " + value
                    + " is out of range [" + min + ", " + max + "]");
        }
        return (int) value;
    }

    /** A float or double value (integers are accepted too, as llama.cpp's loader does not). */
    public OptionalDouble optionalDouble(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return OptionalDouble.empty();
        }
        if (v instanceof GgufValue.FloatValue f) {
            return OptionalDouble.of(f.value());
        }
        throw wrongType(key, v, "a float");
    }

    public float floatOrDefault(String key, float defaultValue) {
        OptionalDouble v = optionalDouble(key);
        return v.isPresent() ? (float) v.getAsDouble() : defaultValue;
    }

    public Optional<Boolean> optionalBool(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof GgufValue.BoolValue b) {
            return Optional.of(b.value());
        }
        throw wrongType(key, v, "a bool");
    }

    public Optional<List<String>> optionalStringArray(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof GgufValue.StringArray a) {
            return Optional.of(a.values());
        }
        throw wrongType(key, v, "an array of strings");
    }

    public Optional<long[]> optionalIntArray(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof GgufValue.IntArray a) {
            return Optional.of(a.values());
        }
        throw wrongType(key, v, "an array of integers");
    }

    public Optional<double[]> optionalFloatArray(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof GgufValue.FloatArray a) {
            return Optional.of(a.values());
        }
        throw wrongType(key, v, "an array of floats");
    }

    private BitnetException missing(String key, String expected) {
        return BitnetException.invalidModel(source + ": metadata key '" + key + "' is missing (expected " + expected + ")");
    }

    private BitnetException wrongType(String key, GgufValue v, String expected) {
        String actual = v instanceof GgufValue.ArrayValue a ? a.describe() : v.type().displayName();
        return BitnetException.invalidFile(source + ": metadata key '" + key + "' has type " + actual
                + ", expected " + expected);
    }
}
