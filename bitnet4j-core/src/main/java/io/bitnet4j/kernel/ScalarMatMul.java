package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/** The reference matrix product: each format's scalar dot, row by row. Slow; the truth for the fast kernels. */
public final class ScalarMatMul implements MatMulKernel {
    public static final ScalarMatMul INSTANCE = new ScalarMatMul();

    private ScalarMatMul() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        int rows = w.rows();
        for (int t = 0; t < x.tokens(); t++) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[t * rows + r] = w.format().dot(w.tensor(), r, x, t);
            }
        }
    }

    @Override
    public String describe() {
        return "scalar";
    }
}
