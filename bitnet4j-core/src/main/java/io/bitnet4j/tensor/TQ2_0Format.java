package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * ggml's TQ2_0 (spec §2.5): 256 ternary codes in 66 bytes, {@code [u8 qs[64]][f16 d]}, 2 bits per code. Element
 * {@code 128c + 32l + m} (c ∈ {0,1}, l ∈ 0..3, m ∈ 0..31) sits in bits {@code 2l..2l+1} of {@code qs[32c + m]}:
 * the lowest bit pair holds the first 32 elements of each half, the opposite bit order to I2_S.
 *
 * <p>{@link #ROWS_32} is the layout {@code --repack} makes at load for the lookup kernel: the 16-bit words of the
 * codes with rows interleaved in blocks of {@value I2SFormat#INTERLEAVED_ROWS} in passes of
 * {@value I2SFormat#PASS_WORDS} word positions (as {@link I2SFormat#I2S_128_ROWS_32}: see
 * {@link I2SFormat#interleavedWord}), then the F16 scales, scale b of row
 * r at {@code (b·(R/32) + r/32)·32 + p} with p = 16·(r%2) + (r%32)/2: one 256-column block's scales of every row
 * in row order (so a pass reads them as one stream), even rows of each 32 first, the order in which the kernel
 * widens its 16-bit sums. The same bytes as the file, in another order.
 */
public final class TQ2_0Format extends TernaryBlockFormat {
    public static final TQ2_0Format INSTANCE = new TQ2_0Format(false);
    /** Rows interleaved in blocks of 32 by {@link #interleave}; never in a file. */
    public static final TQ2_0Format ROWS_32 = new TQ2_0Format(true);

    private static final int SCALE_OFFSET = 64;
    private static final int ROWS = I2SFormat.INTERLEAVED_ROWS;
    private static final int WORDS_PER_BLOCK = 32;

    private final boolean interleaved;

    private TQ2_0Format(boolean interleaved) {
        this.interleaved = interleaved;
    }

    /**
     * Copies a TQ2_0 tensor into {@code target} (as many bytes as the tensor) in the {@link #ROWS_32} layout, on all
     * cores, and returns the new tensor. Its row count must be a multiple of 32.
     */
    public static Tensor interleave(Tensor tensor, MemorySegment target) {
        int k = tensor.rowLength();
        long rows = tensor.rowCount();
        if (tensor.type() != GgmlType.TQ2_0 || rows % ROWS != 0 || target.byteSize() != tensor.data().byteSize()) {
            throw new IllegalArgumentException("cannot interleave " + tensor + " into " + target.byteSize() + " bytes");
        }
        MemorySegment source = tensor.data();
        int blocks = k / BLOCK;
        int words = blocks * WORDS_PER_BLOCK;
        long rowBytes = (long) blocks * GgmlType.TQ2_0.blockBytes();
        java.util.stream.IntStream.range(0, (int) (rows / ROWS)).parallel().forEach(rowBlock -> {
            for (int lane = 0; lane < ROWS; lane++) {
                long row = (long) rowBlock * ROWS + lane;
                for (int b = 0; b < blocks; b++) {
                    long block = row * rowBytes + (long) b * GgmlType.TQ2_0.blockBytes();
                    for (int i = 0; i < WORDS_PER_BLOCK; i++) {
                        long word = I2SFormat.interleavedWord(row, b * WORDS_PER_BLOCK + i, words, rows,
                                I2SFormat.PASS_WORDS);
                        target.set(Layouts.SHORT, 2 * word, source.get(Layouts.SHORT, block + 2L * i));
                    }
                    target.set(Layouts.SHORT, interleavedScaleByte(rows, k, rowBlock, b) + 2L * pairPosition(lane),
                            source.get(Layouts.SHORT, block + SCALE_OFFSET));
                }
            }
        });
        return new Tensor(tensor.name(), GgmlType.TQ2_0, tensor.shape(), target);
    }

    /** Where the scale of lane {@code lane} of a 32-row block is kept: even lanes first, then odd lanes. */
    private static int pairPosition(int lane) {
        return (lane & 1) * (ROWS / 2) + lane / 2;
    }

    /**
     * Byte offset, in the {@link #ROWS_32} layout of a matrix of {@code rows} rows of {@code cols} columns, of the
     * 32 scales of 256-column block {@code block} of row block {@code rowBlock}: after every row's words, block after
     * block.
     */
    public static long interleavedScaleByte(long rows, int cols, long rowBlock, int block) {
        return 2 * (rows * (cols / 8) + ((long) block * (rows / ROWS) + rowBlock) * ROWS);
    }

    @Override
    void blockCodes(Tensor tensor, long row, int block, byte[] out) {
        if (!interleaved) {
            super.blockCodes(tensor, row, block, out);
            return;
        }
        int words = tensor.rowLength() / 8;
        byte[] packed = new byte[2 * WORDS_PER_BLOCK];
        for (int i = 0; i < WORDS_PER_BLOCK; i++) {
            long word = I2SFormat.interleavedWord(row, block * WORDS_PER_BLOCK + i, words, tensor.rowCount(),
                    I2SFormat.PASS_WORDS);
            short w = tensor.data().get(Layouts.SHORT, 2 * word);
            packed[2 * i] = (byte) w;
            packed[2 * i + 1] = (byte) (w >> 8);
        }
        codes(MemorySegment.ofArray(packed), 0, out);
    }

    @Override
    float blockScale(Tensor tensor, long row, int block) {
        if (!interleaved) {
            return super.blockScale(tensor, row, block);
        }
        int blocks = tensor.rowLength() / BLOCK;
        long at = interleavedScaleByte(tensor.rowCount(), tensor.rowLength(), row / ROWS, block)
                + 2L * pairPosition((int) (row % ROWS));
        return f16(tensor.data(), at);
    }

    @Override
    public void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        if (!interleaved) {
            super.decode(tensor, first, out, outOffset, count);
            return;
        }
        int k = tensor.rowLength();
        if (first % BLOCK != 0 || count % BLOCK != 0) {
            throw new IllegalArgumentException("TQ2_0 decodes whole blocks of 256 elements; got first " + first
                    + ", count " + count);
        }
        byte[] c = new byte[BLOCK];
        for (int done = 0; done < count; done += BLOCK) {
            long e = first + done;
            long row = e / k;
            int block = (int) (e % k) / BLOCK;
            blockCodes(tensor, row, block, c);
            float d = blockScale(tensor, row, block);
            for (int i = 0; i < BLOCK; i++) {
                out[outOffset + done + i] = (float) (c[i] - 1) * d;
            }
        }
    }

    @Override
    public boolean canEncode() {
        return !interleaved;
    }

    @Override
    public byte[] encode(float[] values, long[] shape) {
        if (interleaved) {
            throw new UnsupportedOperationException(
                    "the interleaved TQ2_0 layout is made by interleave(), not encoded");
        }
        return super.encode(values, shape);
    }

    @Override
    public GgmlType type() {
        return GgmlType.TQ2_0;
    }

    @Override
    int scaleOffset() {
        return SCALE_OFFSET;
    }

    @Override
    void codes(MemorySegment data, long offset, byte[] out) {
        for (int half = 0; half < 2; half++) {
            for (int m = 0; m < 32; m++) {
                int b = u8(data, offset + 32 * half + m);
                for (int l = 0; l < 4; l++) {
                    out[128 * half + 32 * l + m] = (byte) ((b >> (2 * l)) & 3);
                }
            }
        }
    }

    @Override
    void pack(byte[] codes, byte[] out, int offset) {
        for (int half = 0; half < 2; half++) {
            for (int m = 0; m < 32; m++) {
                int b = 0;
                for (int l = 0; l < 4; l++) {
                    b |= (codes[128 * half + 32 * l + m] & 3) << (2 * l);
                }
                out[offset + 32 * half + m] = (byte) b;
            }
        }
    }
}
