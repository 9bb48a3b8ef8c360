package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * Runs matrix products on a {@link WorkerPool}: output rows split across threads, or, for a kernel that builds
 * something per token ({@link TokenSplitKernel}) and enough tokens, the tokens. One instance per forward pass: its
 * task object and shared weights are reused, so a product allocates nothing.
 */
public final class MatMul {
    /** The most matrices one call of {@link #multiply(WeightMatrix[], float[][], int, Activations)} takes. */
    public static final int MAX_SAME_INPUT = 3;

    private final WorkerPool pool;
    private final KernelSelector kernels;
    private final SharedWeights[] shared = {new SharedWeights(), new SharedWeights(), new SharedWeights()};
    private final WeightMatrix[] one = new WeightMatrix[1];
    private final float[][] oneOut = new float[1][];
    private final ProductTask task = new ProductTask();

    public MatMul(WorkerPool pool, KernelSelector kernels) {
        this.pool = pool;
        this.kernels = kernels;
    }

    /** {@code out[t*rows + r] = W[r] · x[t]} for every row and every token of {@code x}. */
    public void multiply(WeightMatrix w, Activations x, float[] out) {
        checkInput(w, x);
        MatMulKernel kernel = kernels.forMatrix(w, x.type());
        if (kernel instanceof TokenSplitKernel split && pool.threads() > 1
                && split.splitsTokens(w, x, pool.threads())) {
            one[0] = w;
            oneOut[0] = out;
            multiplyByTokens(split, one, oneOut, 1, x);
            one[0] = null;
            oneOut[0] = null;
        } else {
            task.set(kernel, w, x, out, null);
            task.step = Step.ROWS;
            pool.parallelFor(w.rows(), kernel.rowGrain(), task);
            task.clear();
        }
    }

    /**
     * {@code outs[i][t*rows + r] = ws[i][r] · x[t]} for the first {@code count} (at most {@value #MAX_SAME_INPUT})
     * matrices, which take the same input (q, k and v; gate and up). Where their kernel splits a prompt by tokens
     * and they are not too large together, they go through it together, so that it builds what it needs per token
     * (the lookup tables) once for all of them; otherwise one after the other.
     */
    public void multiply(WeightMatrix[] ws, float[][] outs, int count, Activations x) {
        if (count < 1 || count > MAX_SAME_INPUT) {
            throw new IllegalArgumentException("products with the same input: " + count + " matrices, expected 1 to "
                    + MAX_SAME_INPUT);
        }
        for (int i = 0; i < count; i++) {
            checkInput(ws[i], x);
        }
        TokenSplitKernel together = sharedKernel(ws, count, x);
        if (together != null) {
            multiplyByTokens(together, ws, outs, count, x);
        } else {
            for (int i = 0; i < count; i++) {
                multiply(ws[i], x, outs[i]);
            }
        }
    }

    private static void checkInput(WeightMatrix w, Activations x) {
        if (x.length() != w.cols()) {
            throw new IllegalArgumentException(w.name() + ": input length " + x.length() + " != " + w.cols());
        }
    }

    /**
     * The kernel of all {@code count} (more than one) matrices when it is one kernel that splits this product by
     * tokens and they have at most {@link TernaryLookupKernel#MAX_SHARED_ROWS} rows in all; else null.
     */
    private TokenSplitKernel sharedKernel(WeightMatrix[] ws, int count, Activations x) {
        MatMulKernel kernel = kernels.forMatrix(ws[0], x.type());
        if (count == 1 || !(kernel instanceof TokenSplitKernel split)) {
            return null;
        }
        int rows = 0;
        for (int i = 0; i < count; i++) {
            if (kernels.forMatrix(ws[i], x.type()) != kernel || !split.splitsTokens(ws[i], x, pool.threads())) {
                return null;
            }
            rows += ws[i].rows();
        }
        return rows <= TernaryLookupKernel.MAX_SHARED_ROWS ? split : null;
    }

    /** The matrices' rows prepared in the shared weights on all threads, then the tokens split across threads. */
    private void multiplyByTokens(TokenSplitKernel split, WeightMatrix[] ws, float[][] outs, int count,
                                  Activations x) {
        for (int i = 0; i < count; i++) {
            split.reserve(ws[i], shared[i]);
            task.set(split, ws[i], x, null, shared[i]);
            task.step = Step.PREPARE_ROWS;
            pool.parallelFor(ws[i].rows(), split.rowGrain(), task);
        }
        task.setAll(split, ws, outs, count, x);
        task.step = Step.TOKENS;
        pool.parallelFor(x.tokens(), task);
        task.clear();
    }

    private enum Step {
        /** A block of rows for every token. */
        ROWS,
        /** A block of rows prepared in the shared weights, before a token split. */
        PREPARE_ROWS,
        /** A block of tokens for every row of every matrix. */
        TOKENS
    }

    private final class ProductTask implements WorkerPool.RangeTask {
        private MatMulKernel kernel;
        private WeightMatrix w;
        private Activations x;
        private float[] out;
        private SharedWeights prepared;
        private WeightMatrix[] ws;
        private float[][] outs;
        private int count;
        private Step step;

        void set(MatMulKernel kernel, WeightMatrix w, Activations x, float[] out, SharedWeights prepared) {
            this.kernel = kernel;
            this.w = w;
            this.x = x;
            this.out = out;
            this.prepared = prepared;
        }

        void setAll(MatMulKernel kernel, WeightMatrix[] ws, float[][] outs, int count, Activations x) {
            set(kernel, null, x, null, null);
            this.ws = ws;
            this.outs = outs;
            this.count = count;
        }

        void clear() {
            set(null, null, null, null, null);
            ws = null;
            outs = null;
        }

        @Override
        public void run(int worker, int start, int end) {
            switch (step) {
                case ROWS -> kernel.multiply(w, x, out, start, end);
                case PREPARE_ROWS -> ((TokenSplitKernel) kernel).prepareRows(w, prepared, start, end);
                case TOKENS -> ((TokenSplitKernel) kernel).multiplyTokens(ws, outs, shared, count, x, start, end);
            }
        }
    }
}
