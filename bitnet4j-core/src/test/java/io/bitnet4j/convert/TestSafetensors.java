package io.bitnet4j.convert;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes small safetensors files and HF model directories for tests, as PyTorch's safetensors does. */
final class TestSafetensors {
    /** One tensor to write: dtype F32, F16 or BF16 (values rounded to it), shape in PyTorch order. */
    record Entry(String dtype, long[] shape, float[] values) {
    }

    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    TestSafetensors put(String name, String dtype, float[] values, long... shape) {
        tensors.put(name, new Entry(dtype, shape, values));
        return this;
    }

    Map<String, Entry> tensors() {
        return tensors;
    }

    /** The values as the file stores them (rounded to F16/BF16 where that is the dtype). */
    static float[] stored(Entry e) {
        float[] out = e.values().clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (e.dtype()) {
                case "F16" -> Float.float16ToFloat(Float.floatToFloat16(out[i]));
                case "BF16" -> Float.intBitsToFloat(bf16(out[i]) << 16);
                default -> out[i];
            };
        }
        return out;
    }

    /** Round to nearest even, as torch's float → bfloat16 conversion does. */
    static int bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return ((bits + 0x7FFF + ((bits >> 16) & 1)) >>> 16) & 0xFFFF;
    }

    void write(Path file) throws IOException {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            long bytes = (long) e.getValue().values().length * ("F32".equals(e.getValue().dtype()) ? 4 : 2);
            header.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(e.getValue().dtype())
                    .append("\",\"shape\":[")
                    .append(Arrays.stream(e.getValue().shape()).mapToObj(Long::toString).collect(Collectors.joining(",")))
                    .append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (Entry e : tensors.values()) {
            for (float v : e.values()) {
                switch (e.dtype()) {
                    case "F32" -> buf.putFloat(v);
                    case "F16" -> buf.putShort(Float.floatToFloat16(v));
                    case "BF16" -> buf.putShort((short) bf16(v));
                    default -> throw new IllegalArgumentException(e.dtype());
                }
            }
        }
        Files.write(file, buf.array());
    }
}
