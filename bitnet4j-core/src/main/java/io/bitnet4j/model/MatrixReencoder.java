package io.bitnet4j.model;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.TQ2_0Format;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormat;
import io.bitnet4j.tensor.WeightFormats;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * Re-encodes a weight matrix at load into memory owned by the model, row by row on all cores. Used for
 * {@code --head-type} (the tied F16 embedding of BitNet b1.58 2B-4T is over half of the bytes read per generated
 * token, and Q8_0 halves them, Q6_K takes 41 % of them as bitnet.cpp's Q6_K-embedding files do; the input
 * embedding keeps the file's exact values; logits move by the quantization error) and for {@code --repack}
 * (TQ1_0 to TQ2_0, exact: the same ternary values and block scales; I2S-128 and TQ2_0 to their 32-row interleaved
 * layouts, the same bytes in another order).
 */
final class MatrixReencoder {
    private MatrixReencoder() {
    }

    /**
     * {@code m} with its rows interleaved in blocks of 32 ({@link I2SFormat#I2S_128_ROWS_32},
     * {@link TQ2_0Format#ROWS_32}) where it is I2S-128 or TQ2_0 with whole 32-row blocks; else {@code m} itself.
     */
    static WeightMatrix interleave(WeightMatrix m, Arena arena) {
        boolean i2s = m.format() == I2SFormat.I2S_128;
        boolean tq2 = m.format() == TQ2_0Format.INSTANCE;
        if (!(i2s || tq2) || m.rows() % I2SFormat.INTERLEAVED_ROWS != 0) {
            return m;
        }
        MemorySegment data = arena.allocate(m.tensor().data().byteSize(), 64);
        WeightMatrix interleaved = i2s
                ? new WeightMatrix(I2SFormat.interleave(m.tensor(), data), I2SFormat.I2S_128_ROWS_32)
                : new WeightMatrix(TQ2_0Format.interleave(m.tensor(), data), TQ2_0Format.ROWS_32);
        releaseFilePages(m);
        return interleaved;
    }

    /**
     * Drops the pages of {@code m}'s mapped bytes that reading it for a copy brought into memory, so that the copy
     * does not count twice in the process's resident memory. Pages that are read again later come back from the
     * page cache.
     */
    private static void releaseFilePages(WeightMatrix m) {
        MemorySegment source = m.tensor().data();
        if (source.isMapped()) {
            source.unload();
        }
    }

    static WeightMatrix requantize(WeightMatrix head, GgmlType type, Arena arena) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q6_K && type != GgmlType.F16 && type != GgmlType.F32
                && type != GgmlType.TQ2_0) {
            throw BitnetException.unsupported("--head-type " + type.name().toLowerCase(java.util.Locale.ROOT)
                    + " is not supported (q8_0, q6_k, f16 or f32)");
        }
        WeightFormat source = head.format();
        WeightFormat target = WeightFormats.of(type);
        int rows = head.rows();
        int cols = head.cols();
        if (cols % type.blockSize() != 0) {
            throw BitnetException.unsupported("the output head's rows of " + cols + " cannot be stored as " + type);
        }
        long rowBytes = type.byteSize(new long[] {cols, 1});
        MemorySegment data = LargePages.allocate(arena, rowBytes * rows);
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] row = new float[cols];
            source.decodeRow(head.tensor(), r, row, 0);
            byte[] bytes = target.encode(row, new long[] {cols, 1});
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, r * rowBytes, rowBytes);
        });
        Tensor tensor = new Tensor(head.name() + " (" + type + ")", type, new long[] {cols, rows}, data);
        releaseFilePages(head);
        return WeightMatrix.of(tensor, I2SFormat.I2S_128);
    }
}
