package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * Computes a block of output rows of {@code y = W x} for every token of a prepared activation batch:
 * {@code out[t*rows + r] = W[r] · x[t]} for r in {@code [rowStart, rowEnd)}.
 */
public interface MatMulKernel {
    void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd);

    /** Output rows per block a thread's share must be a multiple of (except the last share). */
    default int rowGrain() {
        return 4;
    }

    /** A short description for the start-up log ("I2_S avx512 4-row", "scalar"). */
    String describe();
}
