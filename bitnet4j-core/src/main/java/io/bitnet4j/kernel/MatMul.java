package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * Runs matrix products on a {@link WorkerPool}, output rows split across threads. One instance per forward pass:
 * its task object is reused, so a product allocates nothing.
 */
public final class MatMul {
    private final WorkerPool pool;
    private final KernelSelector kernels;
    private final RowTask task = new RowTask();

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
}
