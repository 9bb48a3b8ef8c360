package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * TQ2_0 (66-byte blocks of 256: 64 bytes of codes, then the F16 scale d) times Q8_K or per-token int8 activations,
 * one row at a time (a straight stream for the prefetcher; with its per-block sums, interleaving rows ran at a third
 * of the speed from memory). Column {@code 128c + 32l + m} of a block takes its code from bits {@code 2l+1 .. 2l} of byte
 * {@code 32c + m}. Each block's integer {@code Σ(c−1)·q} is summed exactly and combined in block order exactly as
 * the scalar reference ({@code TernaryBlockFormat.dot}) does. Prompts of at least
 * {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens go to {@link TernaryLookupKernel} where 512-bit
 * vectors allow.
 */
final class TQ2Kernel implements FileLayoutTernaryKernel {
    static final TQ2Kernel INSTANCE = new TQ2Kernel();
    private static final int BLOCK_BYTES = 66;

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
        for (int t = 0; t < x.tokens(); t++) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[t * rows + r] = dotOneRow(data, r * rowBytes, x, t, blocks, perBlock);
            }
        }
    }

    private static float dotOneRow(MemorySegment data, long base, Activations x, int t, int blocks,
                                   boolean perBlock) {
        short[] q = x.wide();
        int xOff = t * blocks * 256;
        float sum = 0;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            ShortVector acc0 = ShortVector.zero(SHORTS);
            ShortVector acc1 = acc0;
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ShortVector w = TernaryLanes.widen(data, block + 32 * half + p);
                    int xi = xOff + 256 * b + 128 * half + p;
                    acc0 = acc0.add(w.and((short) 3).mul(ShortVector.fromArray(SHORTS, q, xi)));
                    acc1 = acc1.add(w.lanewise(VectorOperators.LSHR, 2).and((short) 3)
                            .mul(ShortVector.fromArray(SHORTS, q, xi + 32)));
                    acc0 = acc0.add(w.lanewise(VectorOperators.LSHR, 4).and((short) 3)
                            .mul(ShortVector.fromArray(SHORTS, q, xi + 64)));
                    acc1 = acc1.add(w.lanewise(VectorOperators.LSHR, 6).mul(ShortVector.fromArray(SHORTS, q, xi + 96)));
                }
            }
            int isum = TernaryLanes.sum(acc0.add(acc1)) - x.blockSums()[t * blocks + b];
            float d = scaleOf(data, block);
            sum += perBlock ? (float) isum * (d * x.scales()[t * blocks + b]) : (float) isum * d;
        }
        return perBlock ? sum : sum / x.scales()[t];
    }

    private static float scaleOf(MemorySegment data, long block) {
        return Float.float16ToFloat(data.get(Layouts.SHORT, block + 64));
    }

    @Override
    public int rowGrain() {
        return TernaryLookupKernel.SUPPORTED ? TernaryLookupKernel.ROW_GRAIN : 4;
    }

    @Override
    public String describe() {
        return "TQ2_0 " + Simd.BITS + "-bit, 1 row";
    }
}
