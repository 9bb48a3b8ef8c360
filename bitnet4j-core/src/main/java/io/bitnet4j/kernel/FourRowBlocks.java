package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;

/**
 * What the decode kernels of the 256-column block formats with a scale per block (TQ2_0, TQ1_0) share after their
 * block loop, which computes four rows at a time: each block's 16-bit accumulators of the four rows, halved twice in
 * registers into one four-row vector (halving steps 0 and 1 of {@link TernaryLanes#HALVING_INDEXES}, the permutes
 * loaded once per call of the kernel: a quarter of the lanes per row, each lane at most 4 · 10 · 256 in magnitude),
 * its neighbouring 16-bit lanes then added in pairs into ints, still in the kernel's registers, and the block's four
 * scales. {@link #finish} then adds each row's ints (a full vector reduction per block and row cost more than the
 * block's products; adding the 16-bit lanes one by one here, rather than the pair sums, made the TQ2_0 kernel 14 %
 * slower) and forms {@code (float) Σ(c−1)·q · (d · d_x)}
 * (Q8_K) or {@code · d} (per-token int8, divided by the token's scale at the end), added up block after block per
 * row: exactly the operations of the scalar reference ({@code TernaryBlockFormat.dot}). That part is plain Java: a
 * Vector API version of it, compiled on its own, ran boxed after prompts had warmed the lookup kernel up (141 MB
 * per token in 3 of 5 processes), and its four sums in the lanes of a 128-bit vector made C2 compile the F16 output
 * head's multiply-adds boxed in 2 of 16 processes. One per thread, grown to the widest matrix.
 */
final class FourRowBlocks {
    /** Ints per block in {@link #pairSums}. */
    static final int PAIR_INTS = SHORT_LANES / 2;
    private static final ThreadLocal<FourRowBlocks> PER_THREAD = ThreadLocal.withInitial(FourRowBlocks::new);
    /** Int lanes of a four-row vector's pair sums that belong to one row. */
    private static final int ROW_INTS = SHORT_LANES / 8;

    /** Per block, its four-row vector with each pair of 16-bit lanes added into an int ({@link #PAIR_INTS} ints). */
    int[] pairSums = new int[0];
    /** Per block and row ({@code [4·block + row]}), the weight scale d. */
    float[] scales = new float[0];

    private FourRowBlocks() {
    }

    /** This thread's instance, with room for rows of {@code blocks} blocks. */
    static FourRowBlocks forBlocks(int blocks) {
        FourRowBlocks s = PER_THREAD.get();
        if (s.scales.length < 4 * blocks) {
            s.pairSums = new int[blocks * PAIR_INTS];
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
            int at = b * PAIR_INTS;
            sum0 += (float) (rowSum(at) - activationSum) * scale(4 * b, perBlock, activationScale);
            sum1 += (float) (rowSum(at + ROW_INTS) - activationSum) * scale(4 * b + 1, perBlock, activationScale);
            sum2 += (float) (rowSum(at + 2 * ROW_INTS) - activationSum) * scale(4 * b + 2, perBlock, activationScale);
            sum3 += (float) (rowSum(at + 3 * ROW_INTS) - activationSum) * scale(4 * b + 3, perBlock, activationScale);
        }
        float tokenScale = perBlock ? 1f : x.scales()[t];
        out[outOff] = perBlock ? sum0 : sum0 / tokenScale;
        out[outOff + outStride] = perBlock ? sum1 : sum1 / tokenScale;
        out[outOff + 2 * outStride] = perBlock ? sum2 : sum2 / tokenScale;
        out[outOff + 3 * outStride] = perBlock ? sum3 : sum3 / tokenScale;
    }

    /** One row's {@code Σ c·q} of a block: its pair sums from {@code at}, added up. */
    private int rowSum(int at) {
        int sum = 0;
        for (int i = 0; i < ROW_INTS; i++) {
            sum += pairSums[at + i];
        }
        return sum;
    }

    /** The reference's factor: {@code d · d_x} for Q8_K, {@code d} for per-token int8. */
    private float scale(int at, boolean perBlock, float activationScale) {
        return perBlock ? scales[at] * activationScale : scales[at];
    }
}
