package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * What the decode kernels of the 256-column block formats with a scale per block (TQ2_0, TQ1_0) share after their
 * block loop, which computes four rows at a time: each block's 16-bit accumulators of the four rows, halved twice in
 * registers into one four-row vector (halving steps 0 and 1 of {@link TernaryLanes#HALVING_INDEXES}, the permutes
 * loaded once per call of the kernel), and the block's four scales. {@link #finish} then reduces a few blocks'
 * vectors together ({@link TernaryLanes#blockSums}: a full reduction per block and row cost more than the block's
 * products), forms {@code (float) Σ(c−1)·q · (d · d_x)} (Q8_K) or {@code · d} (per-token int8, divided by the
 * token's scale at the end) for all blocks and rows a vector at a time, and adds them up block after block per row:
 * exactly the operations of the scalar reference ({@code TernaryBlockFormat.dot}). (The four sums in the lanes of a
 * 128-bit vector were 5 % faster, but a second float vector shape made C2 compile the F16 output head's
 * multiply-adds boxed in 2 of 16 processes: 1.6 GB per token.) One per thread, grown to the widest matrix; every
 * array is indexed {@code [4·block + row]} except the block vectors.
 */
final class FourRowBlocks {
    private static final ThreadLocal<FourRowBlocks> PER_THREAD = ThreadLocal.withInitial(FourRowBlocks::new);

    /** Per block, its four-row vector. */
    short[] lanes = new short[0];
    /** Per block and row, the weight scale d. */
    float[] scales = new float[0];
    private int[] sums = new int[0];
    private float[] terms = new float[0];
    private int[] activationSums = new int[0];
    private float[] activationScales = new float[0];

    private FourRowBlocks() {
    }

    /** This thread's instance, with room for rows of {@code blocks} blocks. */
    static FourRowBlocks forBlocks(int blocks) {
        FourRowBlocks s = PER_THREAD.get();
        int padded = TernaryLanes.paddedBlocks(blocks);
        if (s.sums.length < 4 * padded) {
            s.lanes = new short[padded * SHORT_LANES];
            s.scales = new float[4 * padded];
            s.sums = new int[4 * padded];
            s.terms = new float[4 * padded];
            s.activationSums = new int[4 * padded];
            s.activationScales = new float[4 * padded];
        }
        return s;
    }

    /** Token t's block sums (and Q8_K block scales) for every row, once per token. */
    void spreadActivations(Activations x, int t, int blocks, boolean perBlock) {
        for (int b = 0; b < blocks; b++) {
            Arrays.fill(activationSums, 4 * b, 4 * b + 4, x.blockSums()[t * blocks + b]);
            if (perBlock) {
                Arrays.fill(activationScales, 4 * b, 4 * b + 4, x.scales()[t * blocks + b]);
            }
        }
    }

    /** The rows' {@code Σ c·q} after the blocks' vectors are stored: {@code out[outOff + row·outStride]}. */
    void finish(int blocks, boolean perBlock, Activations x, int t, float[] out, int outOff, int outStride) {
        int padded = TernaryLanes.paddedBlocks(blocks);
        for (int b = blocks; b < padded; b++) {
            ShortVector.zero(SHORTS).intoArray(lanes, b * SHORT_LANES);
        }
        TernaryLanes.blockSums(lanes, padded, sums);
        for (int at = 0; at < 4 * padded; at += FLOATS.length()) {
            FloatVector isum = (FloatVector) IntVector.fromArray(INTS, sums, at)
                    .sub(IntVector.fromArray(INTS, activationSums, at)).convert(VectorOperators.I2F, 0);
            FloatVector d = FloatVector.fromArray(FLOATS, scales, at);
            isum.mul(perBlock ? d.mul(FloatVector.fromArray(FLOATS, activationScales, at)) : d).intoArray(terms, at);
        }
        float sum0 = 0;
        float sum1 = 0;
        float sum2 = 0;
        float sum3 = 0;
        for (int b = 0; b < blocks; b++) {
            sum0 += terms[4 * b];
            sum1 += terms[4 * b + 1];
            sum2 += terms[4 * b + 2];
            sum3 += terms[4 * b + 3];
        }
        float tokenScale = perBlock ? 1f : x.scales()[t];
        out[outOff] = perBlock ? sum0 : sum0 / tokenScale;
        out[outOff + outStride] = perBlock ? sum1 : sum1 / tokenScale;
        out[outOff + 2 * outStride] = perBlock ? sum2 : sum2 / tokenScale;
        out[outOff + 3 * outStride] = perBlock ? sum3 : sum3 / tokenScale;
    }
}
