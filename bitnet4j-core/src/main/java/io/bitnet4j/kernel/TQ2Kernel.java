package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * TQ2_0 (66-byte blocks of 256: 64 bytes of codes, then the F16 scale d) times Q8_K or per-token int8 activations.
 * Column {@code 128c + 32l + m} of a block takes its code from bits {@code 2l+1 .. 2l} of byte {@code 32c + m}.
 *
 * <p>Generation computes four rows at a time, one from each quarter of the thread's rows (four straight streams for
 * the prefetcher, sharing each activation load). Each block's {@code Σ c·q} of the four rows is summed in 16-bit
 * lanes and halved into one vector in registers; a few blocks' vectors are then reduced together
 * ({@link TernaryLanes#blockSums}), since a full reduction per block and row cost more than the block's products
 * (the one-row kernel this replaces ran at 37 G weights/s from L3, this one at 63). Then
 * {@code (float) Σ(c−1)·q · (d · d_x)} (Q8_K) or {@code · d} (per-token int8, divided by the token's scale at the
 * end) for all blocks and rows a vector at a time, added up block after block per row: exactly the scalar
 * reference's operations. (Those four sums in the lanes of a 128-bit vector were 5 % faster here, but a second float
 * vector shape made C2 compile the F16 output head's multiply-adds boxed in 2 of 16 processes: 1.6 GB per token.) ({@code TernaryBlockFormat.dot}). Prompts of at least
 * {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens go to {@link TernaryLookupKernel} where 512-bit
 * vectors allow.
 */
final class TQ2Kernel implements FileLayoutTernaryKernel {
    static final TQ2Kernel INSTANCE = new TQ2Kernel();
    private static final int BLOCK_BYTES = 66;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private TQ2Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        int blocks = k / 256;
        long rowBytes = (long) blocks * BLOCK_BYTES;
        if (x.tokens() >= TernaryLookupKernel.MIN_TOKENS_FROM_FILE_LAYOUT && TernaryLookupKernel.SUPPORTED) {
            TernaryLookupKernel.multiplyTQ2FileLayout(w, x, out, rowStart, rowEnd);
            return;
        }
        boolean perBlock = x.type() == ActivationType.Q8_K;
        Scratch scratch = SCRATCH.get().fit(blocks);
        int quarter = (rowEnd - rowStart) / 4;
        for (int t = 0; t < x.tokens(); t++) {
            scratch.spreadActivations(x, t, blocks, perBlock);
            for (int i = 0; i < quarter; i++) {
                int r = rowStart + i;
                fourRows(data, r * rowBytes, quarter * rowBytes, x, t, blocks, perBlock, scratch, out, t * rows + r,
                        quarter);
            }
            for (int r = rowStart + 4 * quarter; r < rowEnd; r++) {
                fourRows(data, r * rowBytes, 0, x, t, blocks, perBlock, scratch, out, t * rows + r, 0);
            }
        }
    }

    /**
     * Four rows whose bytes start at {@code base}, {@code stride} bytes apart, into
     * {@code out[outOff + i·outStride]}; a stride of 0 computes one row (four times, for the few rows left over).
     */
    private static void fourRows(MemorySegment data, long base, long stride, Activations x, int t, int blocks,
                                 boolean perBlock, Scratch scratch, float[] out, int outOff, int outStride) {
        short[] q = x.wide();
        short[] lanes = scratch.lanes;
        float[] scales = scratch.scales;
        int padded = TernaryLanes.paddedBlocks(blocks);
        int xOff = t * blocks * 256;
        ShortVector lower0 = TernaryLanes.halvingLower(0);
        ShortVector upper0 = TernaryLanes.halvingUpper(0);
        ShortVector lower1 = TernaryLanes.halvingLower(1);
        ShortVector upper1 = TernaryLanes.halvingUpper(1);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            ShortVector a0 = ShortVector.zero(SHORTS);
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    long off = block + 32 * half + p;
                    ShortVector w0 = TernaryLanes.widen(data, off);
                    ShortVector w1 = TernaryLanes.widen(data, off + stride);
                    ShortVector w2 = TernaryLanes.widen(data, off + 2 * stride);
                    ShortVector w3 = TernaryLanes.widen(data, off + 3 * stride);
                    int xi = xOff + 256 * b + 128 * half + p;
                    for (int j = 0; j < 4; j++) {
                        ShortVector xv = ShortVector.fromArray(SHORTS, q, xi + 32 * j);
                        ShortVector shift = ShortVector.broadcast(SHORTS, (short) (2 * j));
                        a0 = a0.add(TernaryLanes.code(w0, shift).mul(xv));
                        a1 = a1.add(TernaryLanes.code(w1, shift).mul(xv));
                        a2 = a2.add(TernaryLanes.code(w2, shift).mul(xv));
                        a3 = a3.add(TernaryLanes.code(w3, shift).mul(xv));
                    }
                }
            }
            ShortVector rows01 = lower0.selectFrom(a0, a1).add(upper0.selectFrom(a0, a1));
            ShortVector rows23 = lower0.selectFrom(a2, a3).add(upper0.selectFrom(a2, a3));
            lower1.selectFrom(rows01, rows23).add(upper1.selectFrom(rows01, rows23)).intoArray(lanes, b * SHORT_LANES);
            scales[4 * b] = Float.float16ToFloat(data.get(Layouts.SHORT, block + 64));
            scales[4 * b + 1] = Float.float16ToFloat(data.get(Layouts.SHORT, block + stride + 64));
            scales[4 * b + 2] = Float.float16ToFloat(data.get(Layouts.SHORT, block + 2 * stride + 64));
            scales[4 * b + 3] = Float.float16ToFloat(data.get(Layouts.SHORT, block + 3 * stride + 64));
        }
        for (int b = blocks; b < padded; b++) {
            ShortVector.zero(SHORTS).intoArray(lanes, b * SHORT_LANES);
        }
        int[] sums = scratch.sums;
        TernaryLanes.blockSums(lanes, padded, sums);
        float[] terms = scratch.terms;
        for (int at = 0; at < 4 * padded; at += FLOATS.length()) {
            FloatVector isum = (FloatVector) IntVector.fromArray(INTS, sums, at)
                    .sub(IntVector.fromArray(INTS, scratch.activationSums, at)).convert(VectorOperators.I2F, 0);
            FloatVector d = FloatVector.fromArray(FLOATS, scales, at);
            isum.mul(perBlock ? d.mul(FloatVector.fromArray(FLOATS, scratch.activationScales, at)) : d)
                    .intoArray(terms, at);
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

    /**
     * Four rows' block vectors (see {@link TernaryLanes#blockSums}), then per block and row
     * ({@code [4·block + row]}) their sums, scales and float terms and the token's block sums and scales, padded to
     * {@link TernaryLanes#paddedBlocks}; grown to the widest matrix.
     */
    private static final class Scratch {
        short[] lanes = new short[0];
        int[] sums = new int[0];
        float[] scales = new float[0];
        float[] terms = new float[0];
        int[] activationSums = new int[0];
        float[] activationScales = new float[0];

        Scratch fit(int blocks) {
            int padded = TernaryLanes.paddedBlocks(blocks);
            if (sums.length < 4 * padded) {
                lanes = new short[padded * SHORT_LANES];
                sums = new int[4 * padded];
                scales = new float[4 * padded];
                terms = new float[4 * padded];
                activationSums = new int[4 * padded];
                activationScales = new float[4 * padded];
            }
            return this;
        }

        /** Token t's block sums (and Q8_K block scales) at {@code [4·block + row]} for every row, once per token. */
        void spreadActivations(Activations x, int t, int blocks, boolean perBlock) {
            for (int b = 0; b < blocks; b++) {
                java.util.Arrays.fill(activationSums, 4 * b, 4 * b + 4, x.blockSums()[t * blocks + b]);
                if (perBlock) {
                    java.util.Arrays.fill(activationScales, 4 * b, 4 * b + 4, x.scales()[t * blocks + b]);
                }
            }
        }
    }

    @Override
    public int rowGrain() {
        return TernaryLookupKernel.SUPPORTED ? TernaryLookupKernel.ROW_GRAIN : 4;
    }

    @Override
    public String describe() {
        return "TQ2_0 " + Simd.BITS + "-bit, 4 rows";
    }
}
