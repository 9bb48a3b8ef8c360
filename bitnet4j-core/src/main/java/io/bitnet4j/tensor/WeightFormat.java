package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;

/**
 * One ggml weight type: its block layout, decoding to float, the reference (scalar) dot product of one weight row
 * with one prepared activation row, and, where the reference has one, the quantizer from float. The scalar dot is
 * the truth that every fast kernel is tested against.
 *
 * <p>Rows are rows of the flat row-major tensor: row {@code r} holds elements {@code [r*K, (r+1)*K)}, K = ne[0].
 */
public interface WeightFormat {

    GgmlType type();

    /** What the reference does to activations before multiplying them with this type. */
    ActivationType activationType();

    /**
     * Whether {@link #dot} takes activations of {@code type}. Always true for {@link #activationType()}; the ternary
     * block formats also take {@link ActivationType#I8_TOKEN}, the engine's "per-token int8 for every format" option.
     */
    default boolean accepts(ActivationType type) {
        return type == activationType();
    }

    /**
     * Decodes {@code count} elements starting at flat element {@code first} (both multiples of the block size
     * within one row for block formats) into {@code out[outOffset ..]}.
     */
    void decode(Tensor tensor, long first, float[] out, int outOffset, int count);

    /**
     * The reference dot product of weight row {@code row} with activation row {@code token} of {@code act}, which
     * must be of a type this format {@link #accepts} and as long as a row. Integer parts are summed exactly and
     * converted to float where the reference converts them, so fast kernels can be held to it bit for bit.
     */
    float dot(Tensor tensor, long row, Activations act, int token);

    /** Rejects activations that {@link #dot} cannot take with {@code tensor}; a programming error, not a user's. */
    default void checkActivations(Tensor tensor, Activations act) {
        if (!accepts(act.type())) {
            throw new IllegalArgumentException(type() + " weights ('" + tensor.name() + "') do not take "
                    + act.type() + " activations (expected " + activationType() + ")");
        }
        if (act.length() != tensor.rowLength()) {
            throw new IllegalArgumentException("activation rows of " + act.length() + " elements do not match the "
                    + tensor.rowLength() + "-element rows of '" + tensor.name() + "'");
        }
    }

    /** Whether {@link #encode} is implemented for this type. */
    default boolean canEncode() {
        return false;
    }

    /**
     * Quantizes a whole tensor of the given shape from float, as the reference quantizer does, and returns its
     * bytes (exactly {@code type().byteSize(shape)} of them).
     */
    default byte[] encode(float[] values, long[] shape) {
        throw new UnsupportedOperationException("no encoder for " + type());
    }

    /** Decodes a whole row of {@code tensor} (convenience over {@link #decode}). */
    default void decodeRow(Tensor tensor, long row, float[] out, int outOffset) {
        int k = tensor.rowLength();
        decode(tensor, row * k, out, outOffset, k);
    }

    /** Decodes the whole tensor (tests and tools; needs elementCount ≤ Integer.MAX_VALUE). */
    default float[] decodeAll(Tensor tensor) {
        float[] out = new float[Math.toIntExact(tensor.elementCount())];
        long rows = tensor.rowCount();
        int k = tensor.rowLength();
        for (long r = 0; r < rows; r++) {
            decode(tensor, r * k, out, (int) (r * k), k);
        }
        return out;
    }
}
