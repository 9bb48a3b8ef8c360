package io.bitnet4j.tensor;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * bitnet.cpp's I2_S (spec §2.8): 2-bit codes 0/1/2 meaning -1/0/+1, then a 32-byte tail whose first 4 bytes are
 * the per-tensor f32 scale, at byte {@code elements/4}. The tensor is one flat row-major array cut into blocks;
 * in the canonical I2S-128 layout each 128 elements take 32 bytes and byte {@code 32b + p%32} holds element
 * {@code p} of block {@code b} in bits {@code 6-2*(p/32)} (the first 32 elements in the top bits). The I2S-64
 * layout that current ARM builds write uses 64-element blocks in 16 bytes the same way; the file does not say
 * which, so I2S-64 is an explicit option.
 *
 * <p>{@link #I2S_128_ROWS_32} is the I2S-128 layout repacked at load ({@code --repack}) for the lookup kernel:
 * the same 16-bit words (two packed bytes, eight codes) with rows interleaved in blocks of
 * {@value #INTERLEAVED_ROWS}, so one 64-byte load gives the same eight columns of 32 consecutive rows, in passes of
 * {@value #PASS_WORDS} word positions ({@link #interleavedWord}). The scale tail stays where it was.
 *
 * <p>Products use per-token int8 activations: {@code y = ((float)Σc·q − (float)Σq) / actScale · wScale}.
 */
public final class I2SFormat implements WeightFormat {
    /** The layout of the released 2B-4T file and of every x86 build. */
    public static final I2SFormat I2S_128 = new I2SFormat(128, false);
    /** The layout of ARM builds of bitnet.cpp since Nov 2025. */
    public static final I2SFormat I2S_64 = new I2SFormat(64, false);
    /** I2S-128 with rows interleaved in blocks of 32, made at load by {@link #interleave}; never in a file. */
    public static final I2SFormat I2S_128_ROWS_32 = new I2SFormat(128, true);
    /** Rows per interleaved block of {@link #I2S_128_ROWS_32}: the 16-bit lanes of a 512-bit vector. */
    public static final int INTERLEAVED_ROWS = 32;
    /**
     * Word positions per pass of the interleaved layouts: the lookup kernel's tables for one pass (10 KB) stay in
     * the L1 cache while it streams the pass's words of every row in memory order. With the tables of whole rows
     * (up to 276 KB, read from L2) generation streamed the weights at 19 GB/s; in passes of 32, at 22–26 GB/s.
     */
    public static final int PASS_WORDS = 32;

    private final int blockElements;
    private final int groupBytes;
    private final boolean interleaved;

    private I2SFormat(int blockElements, boolean interleaved) {
        this.blockElements = blockElements;
        this.groupBytes = blockElements / 4;
        this.interleaved = interleaved;
    }

    /** Whether rows are interleaved in blocks of {@value #INTERLEAVED_ROWS} ({@link #I2S_128_ROWS_32}). */
    public boolean interleaved() {
        return interleaved;
    }

    /** Elements per packed block (128 or 64). */
    public int blockElements() {
        return blockElements;
    }

    @Override
    public GgmlType type() {
        return GgmlType.I2_S;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.I8_TOKEN;
    }

    /** The per-tensor scale stored after the packed codes. */
    public static float scale(Tensor tensor) {
        return tensor.data().get(Layouts.FLOAT, tensor.elementCount() / 4);
    }

    /** Code (0, 1, 2; 3 is never written) of flat element {@code e}. */
    public int code(Tensor tensor, long e) {
        long block = e / blockElements;
        int p = (int) (e % blockElements);
        long offset = block * groupBytes + p % groupBytes;
        if (interleaved) {
            int k = tensor.rowLength();
            long row = e / k;
            long rowByte = offset - row * (k / 4);
            long word = interleavedWord(row, (int) (rowByte / 2), k / 8, tensor.rowCount(), PASS_WORDS);
            offset = 2 * word + (rowByte & 1);
        }
        byte b = tensor.data().get(Layouts.BYTE, offset);
        return (b >> (6 - 2 * (p / groupBytes))) & 3;
    }

    /**
     * Index, in 16-bit words, of word {@code m} of row {@code r} in an interleaved layout of a matrix of {@code rows}
     * rows of {@code words} words: word positions go in passes of {@code passWords}; a pass holds its positions for
     * every row, block of {@value #INTERLEAVED_ROWS} rows after block, each position's 32 rows side by side. With
     * one pass ({@code passWords = words}) that is plain block after block.
     */
    public static long interleavedWord(long row, int m, int words, long rows, int passWords) {
        int first = m - m % passWords;
        int width = Math.min(passWords, words - first);
        return (long) first * rows + ((row / INTERLEAVED_ROWS) * width + (m - first)) * INTERLEAVED_ROWS
                + row % INTERLEAVED_ROWS;
    }

    /**
     * Copies an I2S-128 tensor into {@code target} (as many bytes as the tensor) in the {@link #I2S_128_ROWS_32}
     * layout, on all cores, and returns the new tensor. Its row count must be a multiple of
     * {@value #INTERLEAVED_ROWS}.
     */
    public static Tensor interleave(Tensor tensor, MemorySegment target) {
        int k = tensor.rowLength();
        long rows = tensor.rowCount();
        if (tensor.type() != GgmlType.I2_S || k % 128 != 0 || rows % INTERLEAVED_ROWS != 0
                || target.byteSize() != tensor.data().byteSize()) {
            throw new IllegalArgumentException("cannot interleave " + tensor + " into " + target.byteSize() + " bytes");
        }
        MemorySegment source = tensor.data();
        int words = k / 8;
        IntStream.range(0, (int) (rows / INTERLEAVED_ROWS)).parallel().forEach(block -> {
            for (int lane = 0; lane < INTERLEAVED_ROWS; lane++) {
                long row = (long) block * INTERLEAVED_ROWS + lane;
                for (int m = 0; m < words; m++) {
                    short word = source.get(Layouts.SHORT, (row * words + m) * 2);
                    target.set(Layouts.SHORT, interleavedWord(row, m, words, rows, PASS_WORDS) * 2, word);
                }
            }
        });
        long packed = tensor.elementCount() / 4;
        MemorySegment.copy(source, packed, target, packed, source.byteSize() - packed);
        return new Tensor(tensor.name(), GgmlType.I2_S, tensor.shape(), target);
    }

    /** Rejects tensors whose rows do not start on a block boundary (the reference kernels misread them). */
    public void checkRowsAligned(Tensor tensor) {
        if (interleaved && tensor.rowCount() % INTERLEAVED_ROWS != 0) {
            throw new IllegalArgumentException("tensor '" + tensor.name() + "' has " + tensor.rowCount()
                    + " rows, not a multiple of " + INTERLEAVED_ROWS + ", and cannot be interleaved");
        }
        if (tensor.rowLength() % blockElements != 0) {
            throw BitnetException.unsupported("tensor '" + tensor.name() + "': I2_S row length " + tensor.rowLength()
                    + " is not a multiple of " + blockElements + "; bitnet.cpp cannot run such a tensor either "
                    + "(re-quantize it to TQ2_0 or TQ1_0)");
        }
    }

    @Override
    public void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        float scale = scale(tensor);
        for (int i = 0; i < count; i++) {
            int c = code(tensor, first + i);
            out[outOffset + i] = c == 0 ? -scale : c == 2 ? scale : 0f;
        }
    }

    @Override
    public float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        checkRowsAligned(tensor);
        int k = tensor.rowLength();
        long base = row * k;
        byte[] q = act.quants();
        int qBase = token * act.length();
        int dot = 0;
        for (int i = 0; i < k; i++) {
            dot += code(tensor, base + i) * q[qBase + i];
        }
        return ((float) dot - (float) act.sums()[token]) / act.scales()[token] * scale(tensor);
    }

    @Override
    public boolean canEncode() {
        return !interleaved;
    }

    /**
     * bitnet.cpp's {@code quantize_i2_s} over the whole tensor (as its one-thread quantizer writes it): scale =
     * max|w|; code 1 where |w| < 1e-6, 2 where w·scale > 0, 0 otherwise, both tests in double as the C code does
     * (in float, the float 1e-6f itself would fall on the other side). The tail holds the scale and 28 zero bytes
     * (the C quantizer leaves them unwritten).
     */
    @Override
    public byte[] encode(float[] values, long[] shape) {
        if (interleaved) {
            throw new UnsupportedOperationException("the interleaved I2_S layout is made by interleave(), not encoded");
        }
        if (GgmlType.elementCount(shape) != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape "
                    + Arrays.toString(shape));
        }
        if (values.length % blockElements != 0) {
            throw new IllegalArgumentException("I2_S needs a multiple of " + blockElements + " elements, got "
                    + values.length);
        }
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs((double) v));
        }
        byte[] out = new byte[values.length / 4 + 32];
        for (int e = 0; e < values.length; e++) {
            double w = values[e];
            int c = Math.abs(w) < 1e-6 ? 1 : w * max > 0 ? 2 : 0;
            int block = e / blockElements;
            int p = e % blockElements;
            out[block * groupBytes + p % groupBytes] |= (byte) (c << (6 - 2 * (p / groupBytes)));
        }
        ByteBuffer.wrap(out, values.length / 4, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat((float) max);
        return out;
    }
}
