package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * TQ2_0 (66-byte blocks of 256: 64 bytes of codes, then the F16 scale d) times Q8_K or per-token int8 activations.
 * Column {@code 128c + 32l + m} of a block takes its code from bits {@code 2l+1 .. 2l} of byte {@code 32c + m}.
 * Generation computes four rows at a time, one part of the thread's rows apart ({@link #ROW_STREAMS} parts, so as many
 * straight streams for the prefetcher, sharing each activation load), each block's {@code Σ c·q} in 16-bit lanes (codes
 * shifted out but not masked, against {@link TernaryLanes#differences} of the activations), and {@link FourRowBlocks}
 * finishes them exactly as the scalar reference (the one-row kernel with a reduction per block that this replaces ran
 * at 37 G weights/s from L3, this one at 61, and at 69 since it does not mask the codes). Prompts of at least
 * {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens go to {@link TernaryLookupKernel} where 512-bit
 * vectors allow.
 */
final class TQ2Kernel implements FileLayoutTernaryKernel {
    static final TQ2Kernel INSTANCE = new TQ2Kernel();
    private static final int BLOCK_BYTES = 66;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

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
        FourRowBlocks scratch = FourRowBlocks.forBlocks(blocks);
        int part = (rowEnd - rowStart) / ROW_STREAMS;
        int rest = rowStart + ROW_STREAMS * part;
        int quarter = (rowEnd - rest) / 4;
        MemorySegment differences = TernaryLanes.differences(x, false);
        for (int t = 0; t < x.tokens(); t++) {
            for (int i = 0; i < part; i++) {
                for (int first = rowStart + i; first < rest; first += 4 * part) {
                    fourRows(data, first * rowBytes, part * rowBytes, differences, t, blocks, scratch);
                    scratch.finish(blocks, perBlock, x, t, out, t * rows + first, part);
                }
            }
            for (int i = 0; i < quarter; i++) {
                int r = rest + i;
                fourRows(data, r * rowBytes, quarter * rowBytes, differences, t, blocks, scratch);
                scratch.finish(blocks, perBlock, x, t, out, t * rows + r, quarter);
            }
            for (int r = rest + 4 * quarter; r < rowEnd; r++) {
                fourRows(data, r * rowBytes, 0, differences, t, blocks, scratch);
                scratch.finish(blocks, perBlock, x, t, out, t * rows + r, 0);
            }
        }
    }

    /**
     * The block vectors and scales of four rows whose bytes start at {@code base}, {@code stride} bytes apart, into
     * {@code scratch}; a stride of 0 computes one row (four times, for the few rows left over).
     */
    private static void fourRows(MemorySegment data, long base, long stride, MemorySegment differences, int t,
                                 int blocks, FourRowBlocks scratch) {
        int[] pairSums = scratch.pairSums;
        IntVector by16 = IntVector.broadcast(INTS, 16);
        float[] scales = scratch.scales;
        int xOff = t * blocks * 256;
        ShortVector lower0 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.lower(0));
        ShortVector upper0 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.upper(0));
        ShortVector lower1 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.lower(1));
        ShortVector upper1 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.upper(1));
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
                        ShortVector xv = ShortVector.fromMemorySegment(SHORTS, differences, 2L * (xi + 32 * j), LE);
                        ShortVector shift = ShortVector.broadcast(SHORTS, (short) (2 * j));
                        a0 = a0.add(TernaryLanes.shifted(w0, shift).mul(xv));
                        a1 = a1.add(TernaryLanes.shifted(w1, shift).mul(xv));
                        a2 = a2.add(TernaryLanes.shifted(w2, shift).mul(xv));
                        a3 = a3.add(TernaryLanes.shifted(w3, shift).mul(xv));
                    }
                }
            }
            // The same halving as TQ1Kernel.halveRows, kept in registers here: storing the four accumulators and
            // halving them in one shared method afterwards made this kernel 2-5 % slower (JMH and tg32).
            ShortVector rows01 = lower0.selectFrom(a0, a1).add(upper0.selectFrom(a0, a1));
            ShortVector rows23 = lower0.selectFrom(a2, a3).add(upper0.selectFrom(a2, a3));
            IntVector pairs = (IntVector) lower1.selectFrom(rows01, rows23).add(upper1.selectFrom(rows01, rows23))
                    .reinterpretShape(INTS, 0);
            pairs.lanewise(VectorOperators.LSHL, by16).lanewise(VectorOperators.ASHR, by16)
                    .add(pairs.lanewise(VectorOperators.ASHR, by16)).intoArray(pairSums, b * FourRowBlocks.PAIR_INTS);
            scales[4 * b] = Float.float16ToFloat(data.get(Layouts.SHORT, block + 64));
            scales[4 * b + 1] = Float.float16ToFloat(data.get(Layouts.SHORT, block + stride + 64));
            scales[4 * b + 2] = Float.float16ToFloat(data.get(Layouts.SHORT, block + 2 * stride + 64));
            scales[4 * b + 3] = Float.float16ToFloat(data.get(Layouts.SHORT, block + 3 * stride + 64));
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
