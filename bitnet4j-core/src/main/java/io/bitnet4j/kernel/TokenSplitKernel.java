package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * A kernel whose products of many tokens go faster split by tokens than by rows. The ternary lookup kernel builds
 * its tables per token; split by rows, every thread would build the tables of every token. {@link MatMul} runs
 * {@link #prepareRows} over the rows on all threads (for weights in a file's layout: one shared transposed copy),
 * then {@link #multiplyTokens} over the tokens, each thread taking all rows for its tokens. Matrices that take the
 * same input (q, k and v; gate and up) go through {@link #multiplyTokens} together, so that each token's tables
 * are built once for all of them.
 */
interface TokenSplitKernel extends MatMulKernel {
    /** Whether the product of {@code x} on {@code threads} threads should be split by tokens. */
    boolean splitsTokens(WeightMatrix w, Activations x, int threads);

    /**
     * Makes {@code shared} large enough for {@code w}; called on one thread before {@link #prepareRows}. Nothing by
     * default: weights already in the kernel's layout need no shared copy.
     */
    default void reserve(WeightMatrix w, SharedWeights shared) {
    }

    /**
     * Prepares rows {@code [rowStart, rowEnd)} (a multiple of {@link #rowGrain()} from the start) in {@code shared}.
     * Nothing by default, as for {@link #reserve}.
     */
    default void prepareRows(WeightMatrix w, SharedWeights shared, int rowStart, int rowEnd) {
    }

    /**
     * {@code outs[i][t*rows + r] = ws[i][r] · x[t]} for every row of the {@code count} matrices {@code ws[i]} (each
     * prepared in {@code shared[i]}) and the tokens {@code [tokenStart, tokenEnd)}.
     */
    void multiplyTokens(WeightMatrix[] ws, float[][] outs, SharedWeights[] shared, int count, Activations x,
                        int tokenStart, int tokenEnd);
}
