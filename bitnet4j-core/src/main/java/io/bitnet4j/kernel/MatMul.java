package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * Runs matrix products on a {@link WorkerPool}: output rows split across threads, or, for a kernel that builds
 * something per token ({@link TokenSplitKernel}) and enough tokens, the tokens. One instance per forward pass: its
 * task object and shared weights are reused, so a product allocates nothing.
 */
public final class MatMul {
    private final WorkerPool pool;
    private final KernelSelector kernels;
    private final SharedWeights shared = new SharedWeights();
    private final ProductTask task = new ProductTask();

    public MatMul(WorkerPool pool, KernelSelector kernels) {
        this.pool = pool;
        this.kernels = kernels;
    }

    /** {@code out[t*rows + r] = W[r] · x[t]} for every row and every token of {@code x}. */
    public void multiply(WeightMatrix w, Activations x, float[] out) {
        if (x.length() != w.cols()) {
            throw new IllegalArgumentException(w.name() + ": input length " + x.length() + " != " + w.cols());
        }
        MatMulKernel kernel = kernels.forMatrix(w, x.type());
        task.set(kernel, w, x, out);
        if (kernel instanceof TokenSplitKernel split && pool.threads() > 1
                && split.splitsTokens(w, x, pool.threads())) {
            split.reserve(w, shared);
            task.step = Step.PREPARE_ROWS;
            pool.parallelFor(w.rows(), kernel.rowGrain(), task);
            task.step = Step.TOKENS;
            pool.parallelFor(x.tokens(), task);
        } else {
            task.step = Step.ROWS;
            pool.parallelFor(w.rows(), kernel.rowGrain(), task);
        }
        task.set(null, null, null, null);
    }

    private enum Step {
        /** A block of rows for every token. */
        ROWS,
        /** A block of rows prepared in the shared weights, before a token split. */
        PREPARE_ROWS,
        /** A block of tokens for every row. */
        TOKENS
    }

    private final class ProductTask implements WorkerPool.RangeTask {
        private MatMulKernel kernel;
        private WeightMatrix w;
        private Activations x;
        private float[] out;
        private Step step;

        void set(MatMulKernel kernel, WeightMatrix w, Activations x, float[] out) {
            this.kernel = kernel;
            this.w = w;
            this.x = x;
            this.out = out;
        }

        @Override
        public void run(int worker, int start, int end) {
            switch (step) {
                case ROWS -> kernel.multiply(w, x, out, start, end);
                case PREPARE_ROWS -> ((TokenSplitKernel) kernel).prepareRows(w, shared, start, end);
                case TOKENS -> ((TokenSplitKernel) kernel).multiplyTokens(w, x, out, shared, start, end);
            }
        }
    }
}
