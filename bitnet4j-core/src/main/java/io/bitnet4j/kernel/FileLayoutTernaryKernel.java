package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * A ternary kernel on a file's layout (I2S-128, TQ2_0) whose prompts, on machines that run the lookup kernel, go
 * split by tokens over one transposed copy that all threads share ({@link TernaryLookupKernel#prepareFileLayout}).
 */
interface FileLayoutTernaryKernel extends TokenSplitKernel {
    @Override
    default boolean splitsTokens(WeightMatrix w, Activations x, int threads) {
        return TernaryLookupKernel.splitsTokens(x, threads);
    }

    @Override
    default void reserve(WeightMatrix w, SharedWeights shared) {
        TernaryLookupKernel.reserveFileLayout(w, shared);
    }

    @Override
    default void prepareRows(WeightMatrix w, SharedWeights shared, int rowStart, int rowEnd) {
        TernaryLookupKernel.prepareFileLayout(w, shared, rowStart, rowEnd);
    }

    @Override
    default void multiplyTokens(WeightMatrix[] ws, float[][] outs, SharedWeights[] shared, int count,
                                Activations x, int tokenStart, int tokenEnd) {
        TernaryLookupKernel.multiplyFileLayoutTokens(ws, outs, shared, count, x, tokenStart, tokenEnd);
    }
}
