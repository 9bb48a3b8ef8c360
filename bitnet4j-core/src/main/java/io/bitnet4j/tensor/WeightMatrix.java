package io.bitnet4j.tensor;

import io.bitnet4j.BitnetException;

/**
 * A weight tensor bound to its format, seen as a matrix of {@link #rows()} outputs by {@link #cols()} inputs
 * (ggml's ne[1] by ne[0]); {@code y = W x} multiplies each row with the activation row.
 */
public record WeightMatrix(Tensor tensor, WeightFormat format) {

    public WeightMatrix {
        if (format.type() != tensor.type()) {
            throw new IllegalArgumentException(tensor.name() + ": format " + format.type() + " for a " + tensor.type()
                    + " tensor");
        }
        if (tensor.rowCount() > Integer.MAX_VALUE) {
            throw BitnetException.invalidModel("tensor '" + tensor.name() + "' has too many rows: " + tensor.rowCount());
        }
        if (tensor.rowLength() % format.activationType().blockSize() != 0) {
            throw BitnetException.invalidModel("tensor '" + tensor.name() + "': row length " + tensor.rowLength()
                    + " is not a multiple of " + format.activationType().blockSize() + ", which "
                    + format.activationType() + " activations need");
        }
        if (format instanceof I2SFormat i2s) {
            i2s.checkRowsAligned(tensor);
        }
    }

    /** Binds {@code tensor} to the format of its type. */
    public static WeightMatrix of(Tensor tensor, I2SFormat i2sLayout) {
        return new WeightMatrix(tensor, WeightFormats.of(tensor.type(), i2sLayout));
    }

    /** Output dimension (ne[1]). */
    public int rows() {
        return (int) tensor.rowCount();
    }

    /** Input dimension (ne[0]). */
    public int cols() {
        return tensor.rowLength();
    }

    public String name() {
        return tensor.name();
    }

    public ActivationType activationType() {
        return format.activationType();
    }
}
