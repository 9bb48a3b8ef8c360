package io.bitnet4j.convert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file, mapped read-only: an 8-byte little-endian header length N, N bytes of JSON
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}}, then the data, with offsets
 * relative to its start. Every entry is validated before any tensor is touched: known dtype, non-negative shape,
 * {@code end - begin} equal to the shape's byte size, the range inside the file, and no two ranges overlapping.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The safetensors library's own limit on the header. */
    private static final long MAX_HEADER_BYTES = 100_000_000;
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final MappedFile file;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsFile(MappedFile file, Map<String, SafetensorsTensor> tensors) {
        this.file = file;
        this.tensors = tensors;
    }

    public static SafetensorsFile open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            return new SafetensorsFile(file, readHeader(file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Map<String, SafetensorsTensor> readHeader(MappedFile file) {
        Path path = file.path();
        MemorySegment bytes = file.bytes();
        if (bytes.byteSize() < 8) {
            throw invalid(path, "too short for a safetensors header");
        }
        long headerLength = bytes.get(Layouts.LONG, 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > bytes.byteSize() - 8) {
            throw invalid(path, "header length " + Long.toUnsignedString(headerLength) + " does not fit the file of "
                    + bytes.byteSize() + " bytes (not a safetensors file?)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
        } catch (JsonProcessingException e) {
            throw invalid(path, "the header is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw BitnetException.io(path + ": cannot read the header: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw invalid(path, "the header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        MemorySegment data = bytes.asSlice(dataStart);
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            tensors.put(e.getKey(), entry(path, e.getKey(), e.getValue(), data));
        }
        checkNoOverlap(path, tensors.values(), data);
        return Collections.unmodifiableMap(tensors);
    }

    private static SafetensorsTensor entry(Path path, String name, JsonNode node, MemorySegment data) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw invalid(path, where + ": expected an object with dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = node.get("dtype");
        SafetensorsDtype dtype = dtypeNode != null && dtypeNode.isTextual() ? SafetensorsDtype.parse(dtypeNode.asText()) : null;
        if (dtype == null) {
            throw invalid(path, where + ": unknown dtype " + dtypeNode);
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw invalid(path, where + ": shape is missing or not an array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw invalid(path, where + ": shape " + shapeNode + " is not a list of non-negative integers");
            }
            shape[i] = d.asLong();
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw invalid(path, where + ": data_offsets " + offsets + " is not a pair of integers");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        long elements = GgmlType.elementCount(shape);
        long expected = elements < 0 || elements > Long.MAX_VALUE / dtype.bytes() ? -1 : elements * dtype.bytes();
        if (expected < 0) {
            throw invalid(path, where + ": shape " + shapeNode + " overflows");
        }
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw invalid(path, where + ": data_offsets [" + begin + ", " + end + "] lie outside the "
                    + data.byteSize() + " bytes of data");
        }
        if (end - begin != expected) {
            throw invalid(path, where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, but " + dtype + " " + shapeNode + " needs " + expected);
        }
        return new SafetensorsTensor(name, dtype, shape, data.asSlice(begin, end - begin), path);
    }

    private static void checkNoOverlap(Path path, Iterable<SafetensorsTensor> tensors, MemorySegment data) {
        List<SafetensorsTensor> sorted = new ArrayList<>();
        tensors.forEach(sorted::add);
        sorted.removeIf(t -> t.data().byteSize() == 0);
        sorted.sort(Comparator.comparingLong(t -> t.data().address() - data.address()));
        for (int i = 1; i < sorted.size(); i++) {
            SafetensorsTensor previous = sorted.get(i - 1);
            long previousEnd = previous.data().address() + previous.data().byteSize();
            if (sorted.get(i).data().address() < previousEnd) {
                throw invalid(path, "tensors '" + previous.name() + "' and '" + sorted.get(i).name()
                        + "' overlap");
            }
        }
    }

    private static BitnetException invalid(Path path, String message) {
        return BitnetException.invalidFile(path + ": " + message);
    }

    public Path path() {
        return file.path();
    }

    /** Tensors in header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    public Optional<SafetensorsTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public void close() {
        file.close();
    }
}
