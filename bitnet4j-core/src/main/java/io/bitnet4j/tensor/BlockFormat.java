package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * What every ggml block format shares: a tensor is a sequence of fixed-size blocks of {@code type().blockSize()}
 * elements in {@code type().blockBytes()} bytes, rows start on block boundaries, and decoding walks the blocks.
 * Subclasses own the layout of one block; their dot products stay explicit because each follows its reference's
 * own order of float operations.
 */
abstract class BlockFormat implements WeightFormat {

    /** Decodes the block at byte {@code offset} of {@code data} into {@code out[outOffset .. + blockSize)}. */
    abstract void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset);

    @Override
    public void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        int blockSize = type().blockSize();
        if (first % blockSize != 0 || count % blockSize != 0) {
            throw new IllegalArgumentException(type() + " decodes whole blocks of " + blockSize + " elements; got first "
                    + first + ", count " + count);
        }
        int blockBytes = type().blockBytes();
        long block = first / blockSize;
        for (int done = 0; done < count; done += blockSize, block++) {
            decodeBlock(tensor.data(), block * blockBytes, out, outOffset + done);
        }
    }

    /** Byte offset of the first block of weight row {@code row}. */
    final long rowOffset(Tensor tensor, long row) {
        return row * (tensor.rowLength() / type().blockSize()) * type().blockBytes();
    }

    /** Checks that {@code values} fill {@code shape} and that rows are whole blocks, before encoding. */
    final void checkEncodable(float[] values, long[] shape) {
        long elements = GgmlType.elementCount(shape);
        if (elements != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        }
        if (shape.length == 0 || shape[0] % type().blockSize() != 0) {
            throw new IllegalArgumentException(type() + " rows must be a multiple of " + type().blockSize()
                    + " elements; shape is " + Arrays.toString(shape));
        }
    }

    /** The byte array an encoder fills: {@code values.length / blockSize} blocks. */
    final byte[] newBlocks(float[] values) {
        return new byte[values.length / type().blockSize() * type().blockBytes()];
    }

    static float f16(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(Layouts.SHORT, offset));
    }

    static int u8(MemorySegment data, long offset) {
        return Byte.toUnsignedInt(data.get(Layouts.BYTE, offset));
    }

    static int i8(MemorySegment data, long offset) {
        return data.get(Layouts.BYTE, offset);
    }

    /** Stores {@code value} rounded to F16 (nearest, ties to even, as ggml's converters) little-endian. */
    static void putF16(byte[] out, int offset, float value) {
        short h = Float.floatToFloat16(value);
        out[offset] = (byte) h;
        out[offset + 1] = (byte) (h >> 8);
    }

    /** C's {@code roundf}/{@code lroundf}: to nearest, ties away from zero (unlike {@link Math#rint}). */
    static int roundHalfAwayFromZero(float value) {
        return value < 0 ? -Math.round(-value) : Math.round(value);
    }
}
