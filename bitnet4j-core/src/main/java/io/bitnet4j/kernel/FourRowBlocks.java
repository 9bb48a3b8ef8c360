package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;

/**
 * What the decode kernels of the 256-column block formats with a scale per block (TQ2_0, TQ1_0) share after their
 * block loop, which computes four rows at a time: each block's 16-bit accumulators of the four rows, halved twice in
 * registers into one four-row vector (halving steps 0 and 1 of {@link TernaryLanes#HALVING_INDEXES}, the permutes
 * loaded once per call of the kernel: a quarter of the lanes per row, each lane at most 4 · 10 · 256 in magnitude),
 * and the block's four scales. {@link #finish} then adds each row's quarter of the lanes as ints (a full vector
 * reduction per block and row cost more than the block's products) and forms {@code (float) Σ(c−1)·q · (d · d_x)}
 * (Q8_K) or {@code · d} (per-token int8, divided by the token's scale at the end), added up block after block per
 * row: exactly the operations of the scalar reference ({@code TernaryBlockFormat.dot}). That part is plain Java: a
 * Vector API version of it, compiled on its own, ran boxed after prompts had warmed the lookup kernel up (141 MB
 * per token in 3 of 5 processes), and its four sums in the lanes of a 128-bit vector made C2 compile the F16 output
 * head's multiply-adds boxed in 2 of 16 processes. One per thread, grown to the widest matrix.
 */
final class FourRowBlocks {
    private static final ThreadLocal<FourRowBlocks> PER_THREAD = ThreadLocal.withInitial(FourRowBlocks::new);
    /** Lanes of a four-row vector that belong to one row. */
    private static final int ROW_LANES = SHORT_LANES / 4;

    /** Per block, its four-row vector. */
    short[] lanes = new short[0];
    /** Per block and row ({@code [4·block + row]}), the weight scale d. */
    float[] scales = new float[0];

    private FourRowBlocks() {
    }

    /** This thread's instance, with room for rows of {@code blocks} blocks. */
    static FourRowBlocks forBlocks(int blocks) {
        FourRowBlocks s = PER_THREAD.get();
        if (s.scales.length < 4 * blocks) {
            s.lanes = new short[blocks * SHORT_LANES];
            s.scales = new float[4 * blocks];
        }
        return s;
    }

    /** The rows' results after the blocks' vectors and scales are stored: {@code out[outOff + row·outStride]}. */
    void finish(int blocks, boolean perBlock, Activations x, int t, float[] out, int outOff, int outStride) {
        float sum0 = 0;
        float sum1 = 0;
        float sum2 = 0;
        float sum3 = 0;
        for (int b = 0; b < blocks; b++) {
            int activationSum = x.blockSums()[t * blocks + b];
            float activationScale = perBlock ? x.scales()[t * blocks + b] : 1f;
            int at = b * SHORT_LANES;
            sum0 += (float) (rowSum(at) - activationSum) * scale(4 * b, perBlock, activationScale);
            sum1 += (float) (rowSum(at + ROW_LANES) - activationSum) * scale(4 * b + 1, perBlock, activationScale);
            sum2 += (float) (rowSum(at + 2 * ROW_LANES) - activationSum) * scale(4 * b + 2, perBlock, activationScale);
            sum3 += (float) (rowSum(at + 3 * ROW_LANES) - activationSum) * scale(4 * b + 3, perBlock, activationScale);
        }
        float tokenScale = perBlock ? 1f : x.scales()[t];
        out[outOff] = perBlock ? sum0 : sum0 / tokenScale;
        out[outOff + outStride] = perBlock ? sum1 : sum1 / tokenScale;
        out[outOff + 2 * outStride] = perBlock ? sum2 : sum2 / tokenScale;
        out[outOff + 3 * outStride] = perBlock ? sum3 : sum3 / tokenScale;
    }

    /** One row's {@code Σ c·q} of a block: its lanes from {@code at}, added as ints. */
    private int rowSum(int at) {
        int sum = 0;
        for (int i = 0; i < ROW_LANES; i++) {
            sum += lanes[at + i];
        }
        return sum;
    }

    /** The reference's factor: {@code d · d_x} for Q8_K, {@code d} for per-token int8. */
    private float scale(int at, boolean perBlock, float activationScale) {
        return perBlock ? scales[at] * activationScale : scales[at];
    }
}
