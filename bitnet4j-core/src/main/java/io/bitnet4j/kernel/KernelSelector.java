package io.bitnet4j.kernel;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.WeightMatrix;

/** Chooses the matrix-product kernel for a weight matrix and activation type. */
public final class KernelSelector {
    private final boolean scalarOnly;

    private KernelSelector(boolean scalarOnly) {
        this.scalarOnly = scalarOnly;
    }

    /** The reference kernels only (tests, and {@code --kernels scalar}). */
    public static KernelSelector scalar() {
        return new KernelSelector(true);
    }

    /** The fastest kernels available on this machine. */
    public static KernelSelector fastest() {
        return new KernelSelector(false);
    }

    public MatMulKernel forMatrix(WeightMatrix w, ActivationType activations) {
        return ScalarMatMul.INSTANCE;
    }

    /** Rows per block the kernels like to work on together. */
    public int rowGrain() {
        return 4;
    }

    public boolean scalarOnly() {
        return scalarOnly;
    }
}
