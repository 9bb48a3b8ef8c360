package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.WeightFormat;
import io.bitnet4j.tensor.WeightFormats;
import java.nio.ByteBuffer;

/**
 * Produces a tensor's bytes in a target type from float values, for {@link GgufWriter}. Types whose blocks are
 * independent are encoded a few million elements at a time, so a large embedding never needs a second full copy;
 * I2_S has one scale per tensor and is encoded whole.
 */
final class TensorEncoder {
    private static final int CHUNK_ELEMENTS = 1 << 22;

    /** Reads {@code count} float values of a tensor from flat element {@code first}. */
    @FunctionalInterface
    interface FloatSource {
        void read(long first, float[] out, int offset, int count);
    }

    private TensorEncoder() {
    }

    /** Values already in memory. */
    static GgufWriter.TensorData of(float[] values, GgmlType type, long[] shape) {
        return sink -> sink.write(ByteBuffer.wrap(WeightFormats.of(type).encode(values, shape)));
    }

    /**
     * Values read on demand, whole rows at a time (the source is read only while the file is written); {@code name}
     * is for messages.
     */
    static GgufWriter.TensorData of(String name, FloatSource source, GgmlType type, long[] shape) {
        WeightFormat format = WeightFormats.of(type);
        long rowLength = shape[0];
        long elements = GgmlType.elementCount(shape);
        if (type == GgmlType.I2_S || elements <= CHUNK_ELEMENTS) {
            checkFitsInArray(name, elements);
            return sink -> {
                float[] all = new float[Math.toIntExact(elements)];
                source.read(0, all, 0, all.length);
                sink.write(ByteBuffer.wrap(format.encode(all, shape)));
            };
        }
        long rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / rowLength);
        long rows = elements / rowLength;
        return sink -> {
            for (long row = 0; row < rows; row += rowsPerChunk) {
                long n = Math.min(rowsPerChunk, rows - row);
                float[] chunk = new float[Math.toIntExact(n * rowLength)];
                source.read(row * rowLength, chunk, 0, chunk.length);
                sink.write(ByteBuffer.wrap(format.encode(chunk, new long[] {rowLength, n})));
            }
        };
    }

    /** Rejects a tensor that must be handled whole but is larger than a Java array. */
    static void checkFitsInArray(String name, long elements) {
        if (elements > Integer.MAX_VALUE - 8) {
            throw BitnetException.unsupported("tensor '" + name + "' has " + elements + " elements; it must be "
                    + "processed whole and that is more than one array can hold");
        }
    }
}
