package io.bitnet4j.gguf;

import io.bitnet4j.BitnetException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes GGUF v3 files the way llama.cpp's writer does ({@code gguf_write_out}), byte for byte: metadata in insertion
 * order, tensor infos, zero padding to the alignment ({@code general.alignment} or 32) even with no tensors, then
 * each tensor's data packed contiguously in info order and padded to the alignment. Tensor data are streamed, so
 * files larger than memory can be written; the file is written beside the target and renamed into place when
 * complete.
 */
public final class GgufWriter {
    /** Produces one tensor's bytes; it must emit exactly the tensor's byte size. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(TensorSink sink) throws IOException;
    }

    /** Where a tensor's bytes go. {@link #skip} leaves zeros (a hole in a sparse file). */
    public interface TensorSink {
        void write(ByteBuffer bytes) throws IOException;

        void skip(long bytes) throws IOException;
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, long byteSize, TensorData data) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("empty metadata key");
        }
        metadata.put(key, value);
        return this;
    }

    /** Copies every entry of existing metadata (e.g. a vocabulary), keeping file order. */
    public GgufWriter putAll(GgufMetadata source) {
        source.asMap().forEach(this::put);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, new GgufValue.StringValue(value));
    }

    public GgufWriter putU32(String key, long value) {
        if (value < 0 || value > 0xFFFFFFFFL) {
            throw new IllegalArgumentException(key + " = " + value + " does not fit in a u32");
        }
        return put(key, new GgufValue.IntValue(GgufValueType.UINT32, value));
    }

    public GgufWriter putI32(String key, int value) {
        return put(key, new GgufValue.IntValue(GgufValueType.INT32, value));
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, new GgufValue.FloatValue(GgufValueType.FLOAT32, value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, new GgufValue.BoolValue(value));
    }

    public GgufWriter putStrings(String key, List<String> values) {
        return put(key, new GgufValue.StringArray(values));
    }

    public GgufWriter putF32s(String key, float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return put(key, new GgufValue.FloatArray(GgufValueType.FLOAT32, d));
    }

    public GgufWriter putI32s(String key, int[] values) {
        return put(key, new GgufValue.IntArray(GgufValueType.INT32, Arrays.stream(values).asLongStream().toArray()));
    }

    /** Adds a tensor whose bytes are produced when the file is written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorData data) {
        if (!tensorNames.add(name)) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        if (name.getBytes(StandardCharsets.UTF_8).length >= GgufReader.MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("tensor name too long: " + name);
        }
        if (shape.length == 0 || shape.length > 4) {
            throw new IllegalArgumentException(name + ": a tensor has 1 to 4 dimensions");
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        long byteSize = type.byteSize(shape);
        if (byteSize < 0) {
            throw new IllegalArgumentException(name + ": size overflows");
        }
        tensors.add(new PendingTensor(name, type, shape.clone(), byteSize, data));
        return this;
    }

    /** Adds a tensor from bytes already in memory; their length must equal the tensor's byte size. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, byte[] bytes) {
        return addTensor(name, type, shape, sink -> sink.write(ByteBuffer.wrap(bytes)));
    }

    /** Adds a tensor whose bytes are a segment (for instance a slice of another mapped file). */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment bytes) {
        return addTensor(name, type, shape, sink -> {
            long chunk = 1 << 24;
            for (long off = 0; off < bytes.byteSize(); off += chunk) {
                sink.write(bytes.asSlice(off, Math.min(chunk, bytes.byteSize() - off)).asByteBuffer());
            }
        });
    }

    public int alignment() {
        GgufValue a = metadata.get("general.alignment");
        return a instanceof GgufValue.IntValue i ? (int) i.value() : GgufReader.DEFAULT_ALIGNMENT;
    }

    /** Writes the file. Any failure leaves no partial file at {@code path}. */
    public void write(Path path) {
        int alignment = alignment();
        if (Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("general.alignment must be a power of two: " + alignment);
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".part");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer header = encodeHeader(alignment);
            while (header.hasRemaining()) {
                channel.write(header);
            }
            long dataStart = channel.position();
            long relative = 0;
            for (PendingTensor t : tensors) {
                long start = dataStart + relative;
                channel.position(start);
                CountingSink sink = new CountingSink(channel);
                t.data().writeTo(sink);
                if (sink.count != t.byteSize()) {
                    throw new IllegalStateException("tensor " + t.name() + " produced " + sink.count
                            + " bytes, expected " + t.byteSize());
                }
                relative = GgufReader.alignUp(relative + t.byteSize(), alignment);
            }
            long end = dataStart + relative;
            if (!tensors.isEmpty() && channel.size() < end) {
                channel.write(ByteBuffer.allocate(1), end - 1);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw BitnetException.io(path + ": cannot write: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
        try {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw BitnetException.io(path + ": cannot move the written file into place: " + e.getMessage(), e);
        }
    }

    private ByteBuffer encodeHeader(int alignment) {
        Encoder enc = new Encoder();
        enc.u32(GgufReader.MAGIC);
        enc.u32(3);
        enc.u64(tensors.size());
        enc.u64(metadata.size());
        metadata.forEach((key, value) -> {
            enc.string(key);
            enc.u32(value.type().id());
            enc.value(value);
        });
        long offset = 0;
        for (PendingTensor t : tensors) {
            enc.string(t.name());
            enc.u32(t.shape().length);
            for (long d : t.shape()) {
                enc.u64(d);
            }
            enc.u32(t.type().id());
            enc.u64(offset);
            offset = GgufReader.alignUp(offset + t.byteSize(), alignment);
        }
        // llama.cpp's writer pads the header even when no tensor follows (vocabulary-only files)
        enc.padTo(alignment);
        return enc.finish();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the original failure is the one worth reporting
        }
    }

    private static final class CountingSink implements TensorSink {
        private final FileChannel channel;
        private long count;

        CountingSink(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void write(ByteBuffer bytes) throws IOException {
            while (bytes.hasRemaining()) {
                count += channel.write(bytes);
            }
        }

        @Override
        public void skip(long bytes) throws IOException {
            channel.position(channel.position() + bytes);
            count += bytes;
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class Encoder {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(long n) {
            if (buf.remaining() < n) {
                long wanted = Math.max((long) buf.capacity() * 2, buf.position() + n);
                if (wanted > Integer.MAX_VALUE - 16) {
                    throw new IllegalStateException("GGUF header larger than 2 GiB");
                }
                ByteBuffer bigger = ByteBuffer.allocate((int) wanted).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void u8(int v) {
            ensure(1);
            buf.put((byte) v);
        }

        void u16(int v) {
            ensure(2);
            buf.putShort((short) v);
        }

        void u32(int v) {
            ensure(4);
            buf.putInt(v);
        }

        void u64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void f32(float v) {
            ensure(4);
            buf.putFloat(v);
        }

        void f64(double v) {
            ensure(8);
            buf.putDouble(v);
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            ensure(bytes.length);
            buf.put(bytes);
        }

        void scalar(GgufValueType type, long bits) {
            switch (type) {
                case UINT8, INT8 -> u8((int) bits);
                case UINT16, INT16 -> u16((int) bits);
                case UINT32, INT32 -> u32((int) bits);
                default -> u64(bits);
            }
        }

        void value(GgufValue value) {
            switch (value) {
                case GgufValue.IntValue i -> scalar(i.type(), i.value());
                case GgufValue.FloatValue f -> {
                    if (f.type() == GgufValueType.FLOAT32) {
                        f32((float) f.value());
                    } else {
                        f64(f.value());
                    }
                }
                case GgufValue.BoolValue b -> u8(b.value() ? 1 : 0);
                case GgufValue.StringValue s -> string(s.value());
                case GgufValue.ArrayValue a -> array(a);
            }
        }

        void array(GgufValue.ArrayValue a) {
            u32(a.elementType().id());
            u64(a.size());
            switch (a) {
                case GgufValue.IntArray ints -> {
                    for (long v : ints.values()) {
                        scalar(ints.elementType(), v);
                    }
                }
                case GgufValue.FloatArray floats -> {
                    for (double v : floats.values()) {
                        if (floats.elementType() == GgufValueType.FLOAT32) {
                            f32((float) v);
                        } else {
                            f64(v);
                        }
                    }
                }
                case GgufValue.BoolArray bools -> {
                    for (boolean v : bools.values()) {
                        u8(v ? 1 : 0);
                    }
                }
                case GgufValue.StringArray strings -> strings.values().forEach(this::string);
                case GgufValue.NestedArray nested -> nested.values().forEach(this::array);
            }
        }

        void padTo(int alignment) {
            int pad = (int) (GgufReader.alignUp(buf.position(), alignment) - buf.position());
            ensure(pad);
            for (int i = 0; i < pad; i++) {
                buf.put((byte) 0);
            }
        }

        ByteBuffer finish() {
            buf.flip();
            return buf;
        }
    }
}
