package io.bitnet4j.kernel;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * Computes a block of output rows of {@code y = W x} for every token of a prepared activation batch:
 * {@code out[t*rows + r] = W[r] · x[t]} for r in {@code [rowStart, rowEnd)}.
 */
public interface MatMulKernel {
    /**
     * Row streams the decode kernels read a thread's share in: its rows split into this many parts, read in turn
     * (four at a time, one part apart, where a kernel computes four rows per call). From memory these kernels are
     * limited by how many cache lines are in flight, not by their vector work, and more streams give the hardware
     * prefetcher more to run ahead on. A copy of the I2_S kernel reading 768 MB (outside the repository) multiplied
     * 44.8-46.1 G weights/s with 16 streams against 35.0-43.3 with 4. Generation, alternating rounds of {@code bench
     * -p 0 -n 64 -t 1,2 -r 3} (Intel Xeon, 2026-11-27), 16 against 4 streams (one for Q6_K), tok/s on 1 / 2 threads:
     * the 2B I2_S file 9.33-9.65 / 17.68-18.85 against 9.04-9.23 / 17.21-17.54 (8 streams 9.13-9.33 / 17.68, 32
     * 9.22-9.86 / 17.20-18.42); TQ2_0 7.43-7.73 / 13.91-14.20 against 7.07-7.41 / 13.26-13.79; TQ1_0 ({@code -n 32})
     * 5.54-5.72 / 9.81-10.91 against 5.48-5.53 / 10.23-10.54; the Q6_K-embedding file 9.94-10.28 / 18.86-18.98 against
     * 9.81-9.98 / 17.92-19.23. The F16 head gained nothing from it (9.38-9.58 / 17.82-18.45 against 9.43-9.74 /
     * 17.83-18.03) and keeps four.
     */
    int ROW_STREAMS = 16;

    void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd);

    /** Output rows per block a thread's share must be a multiple of (except the last share). */
    default int rowGrain() {
        return 4;
    }

    /** A short description for the start-up log ("I2_S avx512 4-row", "scalar"). */
    String describe();
}
