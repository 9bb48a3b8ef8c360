package io.bitnet4j.gguf;

import io.bitnet4j.BitnetException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses and validates the header of a GGUF v2/v3 file held in a memory segment (spec §1). Every count, length and
 * offset is checked against the bytes that remain, with overflow-safe arithmetic, before anything is allocated or
 * read, so a lying header gives a one-line error, never an OutOfMemoryError. Counts that do fit in a large (possibly
 * sparse) file are bounded too: what the header would cost on the Java heap is charged against a budget before each
 * allocation, since real headers (vocabularies included) need a few tens of MiB.
 */
final class GgufReader {
    static final int MIN_HEADER_BYTES = 24;
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_NAME_LENGTH = 64;
    static final long MAX_STRING_BYTES = 1L << 30;
    private static final long MAX_KEY_BYTES = 65535;
    /** Heap the parsed header may take; a Llama-3 vocabulary (128k tokens, 280k merges) needs about 50 MiB of it. */
    private static final long MAX_HEADER_HEAP_BYTES = 512L << 20;
    /**
     * Rough heap costs for the budget: a metadata entry, a string object (its bytes are charged as UTF-16 on top), a
     * reference slot in a list, a nested array object, a tensor info.
     */
    private static final long ENTRY_HEAP_BYTES = 64;
    private static final long STRING_HEAP_BYTES = 48;
    private static final long SLOT_HEAP_BYTES = 8;
    private static final long ARRAY_HEAP_BYTES = 48;
    private static final long TENSOR_INFO_HEAP_BYTES = 128;
    private static final int MAX_ARRAY_DEPTH = 8;
    private static final int MAX_DIMS = 4;
    private static final int MIN_KV_BYTES = 8 + 4 + 1;
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
    private static final Pattern KEY_STYLE = Pattern.compile("[a-z0-9_]+([.-][a-z0-9_.-]+)*");
    private static final System.Logger LOG = System.getLogger(GgufReader.class.getName());

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    record Header(int version, GgufMetadata metadata, List<GgufTensorInfo> tensors, int alignment, long dataStart,
                  TypeDialect dialect) {
    }

    private final String name;
    private final MemorySegment data;
    private final long size;
    private final GgufReadOptions options;
    private long pos;
    private long heapCharged;
    /** What is being read, for error messages ("metadata key 'x'", "tensor info 3 'blk.0.attn_q.weight'"). */
    private String context = "header";

    GgufReader(String name, MemorySegment data, GgufReadOptions options) {
        this.name = name;
        this.data = data;
        this.size = data.byteSize();
        this.options = options;
    }

    Header read() {
        if (size >= 4 && data.get(U32, 0) != MAGIC) {
            throw fail(String.format("not a GGUF file (magic bytes %s, expected \"GGUF\")",
                    printableMagic(data.get(U32, 0))));
        }
        if (size < MIN_HEADER_BYTES) {
            throw fail("truncated: " + size + " bytes is shorter than a GGUF header (" + MIN_HEADER_BYTES + " bytes)");
        }
        pos = 4;
        int version = readVersion();
        context = "header counts";
        long tensorCount = u64();
        long kvCount = u64();
        checkCount(tensorCount, "tensor count", MIN_TENSOR_INFO_BYTES);
        checkCount(kvCount, "metadata count", MIN_KV_BYTES);

        GgufMetadata metadata = readMetadata(kvCount);
        int alignment = readAlignment(metadata);
        TypeDialect dialect = options.dialect() != null ? options.dialect()
                : TypeDialect.detect(metadata.optionalString("general.architecture").orElse(""),
                        metadata.contains("general.file_type") ? fileTypeOrMinus1(metadata) : -1);

        List<GgufTensorInfo> tensors = readTensorInfos(tensorCount, dialect);
        long infosEnd = pos;
        long dataStart = tensorCount == 0 ? infosEnd : alignUp(infosEnd, alignment);
        checkTensorLayout(tensors, alignment, dataStart);
        return new Header(version, metadata, tensors, alignment, dataStart, dialect);
    }

    private static long fileTypeOrMinus1(GgufMetadata metadata) {
        return metadata.get("general.file_type")
                .filter(v -> v instanceof GgufValue.IntValue)
                .map(v -> ((GgufValue.IntValue) v).value())
                .orElse(-1L);
    }

    private int readVersion() {
        context = "version";
        int version = u32();
        if (version != 0 && (version & 0xFFFF) == 0) {
            throw fail("byte order is big-endian (version field 0x" + Integer.toHexString(version)
                    + "); only little-endian GGUF files are supported");
        }
        if (version == 1) {
            throw fail("GGUF version 1 is not supported (only v2 and v3); convert the file again with a current tool");
        }
        if (version < 2 || version > 3) {
            throw fail("unsupported GGUF version " + Integer.toUnsignedString(version) + " (supported: 2 and 3)");
        }
        return version;
    }

    private void checkCount(long count, String what, int minBytesEach) {
        long remaining = size - pos;
        if (count < 0 || count > remaining / minBytesEach) {
            throw fail(what + " " + Long.toUnsignedString(count) + " cannot fit in the " + remaining
                    + " bytes that remain (truncated or corrupt header)");
        }
    }

    private GgufMetadata readMetadata(long count) {
        Map<String, GgufValue> values = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            context = "metadata entry " + i;
            charge(1, ENTRY_HEAP_BYTES);
            String key = string(MAX_KEY_BYTES, "metadata key");
            if (key.isEmpty()) {
                throw fail("empty metadata key");
            }
            if (!KEY_STYLE.matcher(key).matches()) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: metadata key ''{1}'' is not lower_snake_case", name, key);
            }
            context = "metadata key '" + key + "'";
            if (values.containsKey(key)) {
                throw fail("duplicate metadata key");
            }
            long typeId = Integer.toUnsignedLong(u32());
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw fail("unknown value type " + typeId + " (valid: 0..12)");
            }
            values.put(key, readValue(type, 0));
        }
        return new GgufMetadata(name, values);
    }

    private GgufValue readValue(GgufValueType type, int depth) {
        return switch (type) {
            case UINT8 -> new GgufValue.IntValue(type, u8());
            case INT8 -> new GgufValue.IntValue(type, i8());
            case UINT16 -> new GgufValue.IntValue(type, Short.toUnsignedLong(i16()));
            case INT16 -> new GgufValue.IntValue(type, i16());
            case UINT32 -> new GgufValue.IntValue(type, Integer.toUnsignedLong(u32()));
            case INT32 -> new GgufValue.IntValue(type, u32());
            case UINT64, INT64 -> new GgufValue.IntValue(type, u64());
            case FLOAT32 -> new GgufValue.FloatValue(type, f32());
            case FLOAT64 -> new GgufValue.FloatValue(type, f64());
            case BOOL -> new GgufValue.BoolValue(bool());
            case STRING -> new GgufValue.StringValue(string(MAX_STRING_BYTES, "string"));
            case ARRAY -> readArray(depth + 1);
        };
    }

    private GgufValue.ArrayValue readArray(int depth) {
        if (depth > MAX_ARRAY_DEPTH) {
            throw fail("arrays nested more than " + MAX_ARRAY_DEPTH + " deep");
        }
        long elementTypeId = Integer.toUnsignedLong(u32());
        GgufValueType elementType = GgufValueType.fromId(elementTypeId);
        if (elementType == null) {
            throw fail("unknown array element type " + elementTypeId + " (valid: 0..12)");
        }
        long count = u64();
        long remaining = size - pos;
        if (count < 0 || count > remaining / elementType.minimumEncodedSize()) {
            throw fail("array of " + Long.toUnsignedString(count) + " " + elementType.displayName()
                    + " elements cannot fit in the " + remaining + " bytes that remain (truncated or corrupt file)");
        }
        // charged before allocating; the budget also keeps every count below 2^31, as the int below needs
        charge(count, switch (elementType) {
            case BOOL -> 1;
            case STRING -> SLOT_HEAP_BYTES;
            case ARRAY -> ARRAY_HEAP_BYTES;
            default -> 8;
        });
        int n = (int) count;
        switch (elementType) {
            case STRING -> {
                return new GgufValue.StringArray(stringArray(n));
            }
            case FLOAT32, FLOAT64 -> {
                double[] values = new double[n];
                for (int i = 0; i < n; i++) {
                    values[i] = elementType == GgufValueType.FLOAT32 ? f32() : f64();
                }
                return new GgufValue.FloatArray(elementType, values);
            }
            case BOOL -> {
                boolean[] values = new boolean[n];
                for (int i = 0; i < n; i++) {
                    values[i] = bool();
                }
                return new GgufValue.BoolArray(values);
            }
            case ARRAY -> {
                List<GgufValue.ArrayValue> nested = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    nested.add(readArray(depth + 1));
                }
                return new GgufValue.NestedArray(nested);
            }
            default -> {
                long[] values = new long[n];
                for (int i = 0; i < n; i++) {
                    values[i] = ((GgufValue.IntValue) readValue(elementType, depth)).value();
                }
                return new GgufValue.IntArray(elementType, values);
            }
        }
    }

    private int readAlignment(GgufMetadata metadata) {
        GgufValue value = metadata.get("general.alignment").orElse(null);
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        context = "metadata key 'general.alignment'";
        if (!(value instanceof GgufValue.IntValue i) || i.type() != GgufValueType.UINT32) {
            throw fail("must be a u32, found " + value.describe() + " of type " + value.type().displayName());
        }
        long alignment = i.value();
        if (alignment == 0 || Long.bitCount(alignment) != 1 || alignment > (1 << 30)) {
            throw fail("alignment " + alignment + " is not a power of two between 1 and 2^30");
        }
        if (alignment % 8 != 0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: general.alignment {1} is not a multiple of 8", name, alignment);
        }
        return (int) alignment;
    }

    private List<GgufTensorInfo> readTensorInfos(long count, TypeDialect dialect) {
        List<GgufTensorInfo> infos = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < count; i++) {
            context = "tensor info " + i;
            charge(1, TENSOR_INFO_HEAP_BYTES);
            String tensorName = string(MAX_NAME_LENGTH - 1, "name");
            if (tensorName.isEmpty()) {
                throw fail("empty tensor name");
            }
            context = "tensor '" + tensorName + "'";
            if (!names.add(tensorName)) {
                throw fail("duplicate tensor name");
            }
            long nDims = Integer.toUnsignedLong(u32());
            if (nDims > MAX_DIMS) {
                throw fail(nDims + " dimensions (at most " + MAX_DIMS + ")");
            }
            long[] shape = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                shape[d] = u64();
                if (shape[d] < 0) {
                    throw fail("dimension " + d + " = " + Long.toUnsignedString(shape[d]) + " is negative or too large");
                }
            }
            if (GgmlType.elementCount(shape) < 0) {
                throw fail("shape " + java.util.Arrays.toString(shape) + " has more elements than fit in 64 bits");
            }
            int typeId = u32();
            GgmlType type = GgmlType.fromId(typeId, dialect);
            if (type == null) {
                throw fail(GgmlType.describeUnknownId(typeId, dialect));
            }
            if (type == GgmlType.I8_S) {
                throw fail("type I8_S is bitnet.cpp's activation buffer and cannot be stored in a file");
            }
            long rowLength = shape.length > 0 ? shape[0] : 1;
            if (rowLength % type.blockSize() != 0) {
                throw fail("row length " + rowLength + " is not a multiple of the " + type + " block size "
                        + type.blockSize());
            }
            if (type == GgmlType.TL2 && rowLength < 256) {
                throw fail("TL2 rows hold at least 256 elements, found " + rowLength);
            }
            long byteSize = type.byteSize(shape);
            if (byteSize < 0) {
                throw fail("size of a " + type + " tensor of shape " + java.util.Arrays.toString(shape)
                        + " does not fit in 64 bits");
            }
            long offset = u64();
            infos.add(new GgufTensorInfo(tensorName, type, shape, offset, byteSize, infos.size()));
        }
        return infos;
    }

    private void checkTensorLayout(List<GgufTensorInfo> tensors, int alignment, long dataStart) {
        if (tensors.isEmpty()) {
            return;
        }
        context = "data section";
        if (dataStart > size) {
            throw fail("truncated: the data section would start at byte " + dataStart + " but the file has " + size
                    + " bytes");
        }
        long available = size - dataStart;
        long expectedOffset = 0;
        for (GgufTensorInfo t : tensors) {
            context = "tensor '" + t.name() + "'";
            long offset = t.offset();
            if (offset < 0 || offset > available || t.byteSize() > available - offset) {
                throw fail("data [" + Long.toUnsignedString(offset) + ", +" + t.byteSize()
                        + ") lies outside the file's data section of " + available + " bytes (truncated or corrupt file)");
            }
            if (offset % alignment != 0) {
                throw fail("offset " + offset + " is not a multiple of the alignment " + alignment);
            }
            if (options.strictPacking() && offset != expectedOffset) {
                throw fail("offset " + offset + " breaks contiguous packing (expected " + expectedOffset + ")");
            }
            expectedOffset = alignUp(offset + t.byteSize(), alignment);
        }
        List<GgufTensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(java.util.Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo prev = sorted.get(i - 1);
            GgufTensorInfo next = sorted.get(i);
            if (prev.offset() + prev.byteSize() > next.offset()) {
                context = "tensor '" + next.name() + "'";
                throw fail("data overlaps tensor '" + prev.name() + "' (offsets " + prev.offset() + "+"
                        + prev.byteSize() + " and " + next.offset() + ")");
            }
        }
    }

    static long alignUp(long value, long alignment) {
        long rem = value % alignment;
        return rem == 0 ? value : value + (alignment - rem);
    }

    private void need(long bytes) {
        if (bytes > size - pos) {
            throw fail("truncated: needs " + bytes + " more bytes at offset " + pos + " but the file ends at " + size);
        }
    }

    private int u8() {
        need(1);
        return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, pos++));
    }

    private int i8() {
        need(1);
        return data.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short i16() {
        need(2);
        short v = data.get(U16, pos);
        pos += 2;
        return v;
    }

    private int u32() {
        need(4);
        int v = data.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64() {
        need(8);
        long v = data.get(U64, pos);
        pos += 8;
        return v;
    }

    private float f32() {
        need(4);
        float v = data.get(F32, pos);
        pos += 4;
        return v;
    }

    private double f64() {
        need(8);
        double v = data.get(F64, pos);
        pos += 8;
        return v;
    }

    private boolean bool() {
        int b = u8();
        if (b > 1) {
            throw fail("bool value " + b + " at offset " + (pos - 1) + " is neither 0 nor 1");
        }
        return b == 1;
    }

    /** A GGUF string of at most {@code maxBytes} bytes; {@code what} names it in errors ("name", "metadata key"). */
    private String string(long maxBytes, String what) {
        long length = stringLength(maxBytes, what);
        charge(1, STRING_HEAP_BYTES + 2 * length);
        byte[] bytes = new byte[(int) length];
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        pos += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Reads a string's length and checks it against the bytes that remain and {@code maxBytes}. */
    private long stringLength(long maxBytes, String what) {
        long length = u64();
        long remaining = size - pos;
        if (length < 0 || length > remaining) {
            throw fail("string length " + Long.toUnsignedString(length) + " at offset " + (pos - 8)
                    + " runs past the end of the file (" + remaining + " bytes remain; truncated or corrupt file)");
        }
        if (length > maxBytes) {
            throw fail(what + " is longer than " + maxBytes + " bytes (" + length + ")");
        }
        return length;
    }

    /** Reads {@code n} strings into one packed list: checked and measured in a first pass, copied in a second. */
    private PackedStrings stringArray(int n) {
        long start = pos;
        long total = 0;
        for (int i = 0; i < n; i++) {
            long length = stringLength(MAX_STRING_BYTES, "string");
            charge(1, STRING_HEAP_BYTES + 2 * length);
            pos += length;
            total += length;
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw fail("an array of strings of " + total + " bytes in all; at most 2 GiB are supported");
        }
        byte[] utf8 = new byte[(int) total];
        int[] starts = new int[n + 1];
        pos = start;
        int at = 0;
        for (int i = 0; i < n; i++) {
            int length = (int) u64();
            starts[i] = at;
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, pos, utf8, at, length);
            pos += length;
            at += length;
        }
        starts[n] = at;
        return new PackedStrings(utf8, starts);
    }

    /** Accounts for {@code count} parsed values of {@code bytesEach} heap bytes, refusing headers past the budget. */
    private void charge(long count, long bytesEach) {
        long left = MAX_HEADER_HEAP_BYTES - heapCharged;
        if (count > left / bytesEach) {
            throw fail("the header would need more than " + (MAX_HEADER_HEAP_BYTES >> 20)
                    + " MiB of memory to read; no model's header is that large (corrupt file)");
        }
        heapCharged += count * bytesEach;
    }

    private BitnetException fail(String problem) {
        return BitnetException.invalidFile(name + ": " + context + ": " + problem);
    }

    private static String printableMagic(int magic) {
        StringBuilder s = new StringBuilder("\"");
        for (int i = 0; i < 4; i++) {
            int c = (magic >>> (8 * i)) & 0xFF;
            s.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return s.append('"').toString();
    }
}
