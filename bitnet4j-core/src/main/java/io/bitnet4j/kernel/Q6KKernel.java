package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K (210-byte blocks of 256: {@code ql[128] qh[64] scales[16] d}) times Q8_K activations, one row at a time. A
 * half-block's 6-bit codes come out of 32 bytes of {@code ql}, 32 more and 32 of {@code qh} as four vectors of 32
 * 16-bit lanes (elements l, l+32, l+64, l+96 of the half); each is multiplied with the activations in 16-bit lanes
 * (|w·q| ≤ 32·128), widened per 16-element sub-block and multiply-added with that sub-block's scale in float lanes,
 * which hold these integers exactly. Lane i of the accumulator only ever sees elements ≡ i (mod 16), so lanes i and
 * i+8 add up to the reference's integer lane {@code i} (elements ≡ i mod 8); the float part then follows
 * {@code Q6_KFormat.dot} operation for operation. Shifts take their counts from vectors (with a scalar count C2 moves
 * it into a vector register before every shift). Adding lanes i and i+8 of each sub-block in 16 bits before widening,
 * or broadcasting the sub-block scales from an array, ran faster in JMH on a native segment but slower on the mapped
 * file in the engine (Q6_K-embedding file, 1 thread: 16 against 20.5 tok/s), so neither is done.
 * Needs 32 16-bit lanes.
 */
final class Q6KKernel implements MatMulKernel {
    static final Q6KKernel INSTANCE = new Q6KKernel();
    /** Whether this machine runs the kernel: it needs 512-bit vectors. */
    static final boolean SUPPORTED = Simd.BITS == 512;

    private static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    /** Lane i+8 to lane i: adds the reference's two 16-lane halves of a mod-8 lane. */
    private static final VectorShuffle<Float> UPPER_HALF = VectorShuffle.fromOp(FLOATS, i -> (i + 8) % 16);
    /** The 16 sub-block scales of a block, read at once and widened to floats. */
    private static final VectorSpecies<Byte> SCALE_BYTES = ByteVector.SPECIES_128;
    /** Shuffles that broadcast sub-block scale j to every lane. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] SUB_BLOCK = java.util.stream.IntStream.range(0, 16)
            .mapToObj(j -> VectorShuffle.fromOp(FLOATS, i -> j)).toArray(VectorShuffle[]::new);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 32 bytes, loaded as doubles: see {@link #codeBytes}. */
    private static final VectorSpecies<Double> CODE_WORDS = DoubleVector.SPECIES_256;
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[FLOATS.length()]);

    private Q6KKernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        int blocks = k / 256;
        long rowBytes = (long) blocks * BLOCK_BYTES;
        float[] sums = SUMS.get();
        for (int t = 0; t < x.tokens(); t++) {
            for (int r = rowStart; r < rowEnd; r++) {
                laneSums(data, r * rowBytes, x, t, blocks, sums);
                float sum = 0;
                for (int l = 0; l < 8; l++) {
                    sum += sums[l];
                }
                out[t * rows + r] = sum;
            }
        }
    }

    /**
     * The reference's eight float sums of one row into {@code sums[0..8)}: per block, {@code acc[i]} = Σ scale·w·q
     * over the elements ≡ i (mod 16), summed in float lanes (four accumulators, one per product vector, so the
     * fused multiply-adds do not wait on each other), exact in any order since every partial sum is an integer below
     * 2^24 (at most 16 · 32 · 128 · 128); lanes i and i+8 are added (the reference's integer lane i mod 8) and
     * {@code sums[l] += d · lane}, a multiply then an add as the reference does. Every vector stays inside this
     * method (a vector passed to or returned from a call that C2 does not inline is allocated on the heap).
     */
    private static void laneSums(MemorySegment data, long base, Activations x, int t, int blocks, float[] sums) {
        short[] q = x.wide();
        ShortVector by2 = ShortVector.broadcast(SHORTS, (short) 2);
        ShortVector by4 = ShortVector.broadcast(SHORTS, (short) 4);
        ShortVector by6 = ShortVector.broadcast(SHORTS, (short) 6);
        FloatVector total = FloatVector.zero(FLOATS);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            FloatVector subScales = (FloatVector) ByteVector.fromMemorySegment(SCALE_BYTES, data, block + SCALES, LE)
                    .convertShape(VectorOperators.B2F, FLOATS, 0);
            FloatVector acc0 = FloatVector.zero(FLOATS);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int half = 0; half < 2; half++) {
                ShortVector low = codeBytes(data, block + 64L * half);
                ShortVector high = codeBytes(data, block + 64L * half + 32);
                ShortVector top = codeBytes(data, block + QH + 32L * half);
                int xb = (t * blocks + b) * 256 + 128 * half;
                ShortVector p0 = low.and((short) 15).or(top.and((short) 3).lanewise(VectorOperators.LSHL, by4))
                        .sub((short) 32).mul(ShortVector.fromArray(SHORTS, q, xb));
                ShortVector p1 = high.and((short) 15).or(top.lanewise(VectorOperators.LSHR, by2).and((short) 3)
                        .lanewise(VectorOperators.LSHL, by4)).sub((short) 32)
                        .mul(ShortVector.fromArray(SHORTS, q, xb + 32));
                ShortVector p2 = low.lanewise(VectorOperators.LSHR, by4).or(top.lanewise(VectorOperators.LSHR, by4)
                        .and((short) 3).lanewise(VectorOperators.LSHL, by4)).sub((short) 32)
                        .mul(ShortVector.fromArray(SHORTS, q, xb + 64));
                ShortVector p3 = high.lanewise(VectorOperators.LSHR, by4).or(top.lanewise(VectorOperators.LSHR, by6)
                        .lanewise(VectorOperators.LSHL, by4)).sub((short) 32)
                        .mul(ShortVector.fromArray(SHORTS, q, xb + 96));
                acc0 = ((FloatVector) p0.convertShape(VectorOperators.S2I, INTS, 0).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half]), acc0);
                acc0 = ((FloatVector) p0.convertShape(VectorOperators.S2I, INTS, 1).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 1]), acc0);
                acc1 = ((FloatVector) p1.convertShape(VectorOperators.S2I, INTS, 0).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 2]), acc1);
                acc1 = ((FloatVector) p1.convertShape(VectorOperators.S2I, INTS, 1).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 3]), acc1);
                acc2 = ((FloatVector) p2.convertShape(VectorOperators.S2I, INTS, 0).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 4]), acc2);
                acc2 = ((FloatVector) p2.convertShape(VectorOperators.S2I, INTS, 1).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 5]), acc2);
                acc3 = ((FloatVector) p3.convertShape(VectorOperators.S2I, INTS, 0).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 6]), acc3);
                acc3 = ((FloatVector) p3.convertShape(VectorOperators.S2I, INTS, 1).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SUB_BLOCK[8 * half + 7]), acc3);
            }
            float d = Float.float16ToFloat(data.get(Layouts.SHORT, block + D)) * x.scales()[t * blocks + b];
            FloatVector acc = acc0.add(acc1).add(acc2.add(acc3));
            total = total.add(acc.add(acc.rearrange(UPPER_HALF)).mul(d));
        }
        total.intoArray(sums, 0);
    }

    /**
     * 32 bytes at {@code offset}, zero-extended to 16-bit lanes. They are loaded as doubles because no other kernel
     * loads doubles: the ternary kernels load bytes from the mapped file, and a load that has seen both a mapped
     * segment and the heap copy {@code --head-type q6_k} makes is compiled less well (generation ran 10 % slower).
     */
    private static ShortVector codeBytes(MemorySegment data, long offset) {
        return (ShortVector) DoubleVector.fromMemorySegment(CODE_WORDS, data, offset, LE).reinterpretAsBytes()
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    @Override
    public String describe() {
        return "Q6_K " + Simd.BITS + "-bit, 1 row";
    }
}
