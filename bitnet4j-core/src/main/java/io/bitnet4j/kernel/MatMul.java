package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * Runs matrix products on a {@link WorkerPool}: output rows split across threads, or, for a kernel that builds
 * something per token ({@link TokenSplitKernel}) and enough tokens, the tokens. One instance per forward pass: its
 * task objects and shared weights are reused, so a product allocates nothing.
 */
public final class MatMul {
    private final WorkerPool pool;
    private final KernelSelector kernels;
    private final RowTask task = new RowTask();
    private final PrepareTask prepareTask = new PrepareTask();
    private final TokenTask tokenTask = new TokenTask();
    private final SharedWeights shared = new SharedWeights();

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
        if (kernel instanceof TokenSplitKernel split && pool.threads() > 1
                && split.splitsTokens(w, x, pool.threads())) {
            split.reserve(w, shared);
            prepareTask.set(split, w);
            pool.parallelFor(w.rows(), kernel.rowGrain(), prepareTask);
            prepareTask.set(null, null);
            tokenTask.set(split, w, x, out);
            pool.parallelFor(x.tokens(), tokenTask);
            tokenTask.set(null, null, null, null);
            return;
        }
        task.set(kernel, w, x, out);
        pool.parallelFor(w.rows(), kernel.rowGrain(), task);
        task.clear();
    }

    private static final class RowTask implements WorkerPool.RangeTask {
        private MatMulKernel kernel;
        private WeightMatrix w;
        private Activations x;
        private float[] out;

        void set(MatMulKernel kernel, WeightMatrix w, Activations x, float[] out) {
            this.kernel = kernel;
            this.w = w;
            this.x = x;
            this.out = out;
        }

        void clear() {
            set(null, null, null, null);
        }

        @Override
        public void run(int worker, int start, int end) {
            kernel.multiply(w, x, out, start, end);
        }
    }

    /** Rows of the matrix prepared in the shared weights, before a token split. */
    private final class PrepareTask implements WorkerPool.RangeTask {
        private TokenSplitKernel kernel;
        private WeightMatrix w;

        void set(TokenSplitKernel kernel, WeightMatrix w) {
            this.kernel = kernel;
            this.w = w;
        }

        @Override
        public void run(int worker, int start, int end) {
            kernel.prepareRows(w, shared, start, end);
        }
    }

    /** A block of tokens times every row. */
    private final class TokenTask implements WorkerPool.RangeTask {
        private TokenSplitKernel kernel;
        private WeightMatrix w;
        private Activations x;
        private float[] out;

        void set(TokenSplitKernel kernel, WeightMatrix w, Activations x, float[] out) {
            this.kernel = kernel;
            this.w = w;
            this.x = x;
            this.out = out;
        }

        @Override
        public void run(int worker, int start, int end) {
            kernel.multiplyTokens(w, x, out, shared, start, end);
        }
    }
}
