package io.bitnet4j.kernel;

import io.bitnet4j.tensor.ActivationQuantizer;
import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import java.util.ArrayList;
import java.util.List;

/**
 * Prepares float activation rows for matrix products (rounding or quantizing them as the weight type's reference
 * does), into buffers kept per (type, row length) and reused, so the steady state allocates nothing. With a
 * worker pool, the vector quantizers split the tokens across its threads (each token's row quantized as on one
 * thread).
 */
public final class ActivationPreparer {
    private final int capacity;
    private final boolean vector;
    private final WorkerPool pool;
    private final QuantizeTask quantizeTask = new QuantizeTask();
    private final List<Activations> slots = new ArrayList<>();
    private float[] scratch = new float[0];

    /** A preparer using the reference quantizers. */
    public ActivationPreparer(int capacity) {
        this(capacity, KernelSelector.scalar(), null);
    }

    /**
     * A preparer using the quantizers that go with {@code kernels}: vectorized unless they are scalar-only or the
     * vectors are narrower than the vector quantizer needs; on the calling thread, or split over {@code pool}
     * (null: none).
     */
    public ActivationPreparer(int capacity, KernelSelector kernels, WorkerPool pool) {
        this.capacity = capacity;
        this.vector = !kernels.scalarOnly() && VectorQuantizer.SUPPORTED;
        this.pool = pool;
    }

    /** Rows {@code in[t*len .. (t+1)*len)} for t < n, prepared as {@code type}. */
    public Activations prepare(float[] in, int len, int n, ActivationType type) {
        Activations out = slot(type, len);
        if (vector && (type == ActivationType.I8_TOKEN || type == ActivationType.Q8_K)) {
            quantizeTask.set(in, len, out);
            if (pool == null) {
                quantizeTask.run(0, 0, n);
            } else {
                pool.parallelFor(n, quantizeTask);
            }
            quantizeTask.clear();
        } else {
            for (int t = 0; t < n; t++) {
                ActivationQuantizer.quantize(in, t * len, out, t);
            }
            if (out.wide() != null) {
                widen(out, n);
            }
        }
        out.setTokens(n);
        return out;
    }

    /** The 16-bit copies and 256-block sums the integer kernels read. */
    static void widen(Activations a, int n) {
        byte[] q = a.quants();
        short[] wide = a.wide();
        int[] blockSums = a.blockSums();
        int elements = n * a.length();
        for (int i = 0; i < elements; i++) {
            wide[i] = q[i];
        }
        if (blockSums != null) {
            for (int b = 0; b < elements / 256; b++) {
                int s = 0;
                for (int i = b * 256; i < b * 256 + 256; i++) {
                    s += q[i];
                }
                blockSums[b] = s;
            }
        }
    }

    /** Tokens {@code [start, end)} of the rows set, through the vector quantizer of the output's type. */
    private static final class QuantizeTask implements WorkerPool.RangeTask {
        private float[] in;
        private int len;
        private Activations out;

        void set(float[] in, int len, Activations out) {
            this.in = in;
            this.len = len;
            this.out = out;
        }

        void clear() {
            in = null;
            out = null;
        }

        @Override
        public void run(int worker, int start, int end) {
            boolean perToken = out.type() == ActivationType.I8_TOKEN;
            for (int t = start; t < end; t++) {
                if (perToken) {
                    VectorQuantizer.quantizeI8Token(in, t * len, out, t);
                } else {
                    VectorQuantizer.quantizeQ8K(in, t * len, out, t);
                }
            }
        }
    }

    private Activations slot(ActivationType type, int len) {
        for (Activations a : slots) {
            if (a.type() == type && a.length() == len) {
                return a;
            }
        }
        Activations a = new Activations(type, len, capacity);
        slots.add(a);
        return a;
    }

    /** A float buffer of at least {@code size} elements, reused between calls. */
    public float[] scratch(int size) {
        if (scratch.length < size) {
            scratch = new float[size];
        }
        return scratch;
    }
}
