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
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K (210-byte blocks of 256: {@code ql[128] qh[64] scales[16] d}) times Q8_K activations, one row at a time
 * ({@link #ROW_STREAMS} says in which order). A half-block's 6-bit codes come out of 32 bytes of {@code ql}, 32 more
 * and 32 of {@code qh} as four vectors of 32 16-bit lanes (elements l, l+32, l+64, l+96 of the half); each is
 * multiplied with the activations in 16-bit lanes (|w·q| ≤ 32·128). Two permutes add, for two products at once, the two
 * elements of each sub-block that share a lane mod 8, still in 16 bits; the sums are then widened by shifts and
 * multiply-added with their sub-blocks' scales in float lanes, which hold these integers exactly ({@link #laneSums}).
 * The float part follows {@code Q6_KFormat.dot} operation for operation, so results equal the reference's bit for bit.
 * Shifts take their counts from vectors (with a scalar count C2 moves it into a vector register before every shift).
 * The activations are read from {@link AlignedShorts}: from the heap array, the pairing kernel ran slower than the one
 * it replaced once the head came from memory (29.4 against 23.3 ms for the 128256-row head), and that is why earlier
 * attempts at it were dropped. Needs 32 16-bit lanes.
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
    /** See {@link #pairIndexes}. */
    private static final short[] PAIR_INDEXES = pairIndexes();
    /**
     * Shuffle m puts sub-block scale 2m in lanes 0-7 and 2m+1 in lanes 8-15: the scales of the pair sums of product
     * m mod 4 of half-block m / 4 (sub-blocks 2m and 2m+1).
     */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] SCALE_PAIRS = java.util.stream.IntStream.range(0, 8)
            .mapToObj(m -> VectorShuffle.fromOp(FLOATS, i -> 2 * m + i / 8)).toArray(VectorShuffle[]::new);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 32 bytes, loaded as doubles: see {@link #codeBytes}. */
    private static final VectorSpecies<Double> CODE_WORDS = DoubleVector.SPECIES_256;
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[FLOATS.length()]);
    private static final ThreadLocal<AlignedShorts> ACTIVATIONS = ThreadLocal.withInitial(AlignedShorts::new);

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
        MemorySegment q = ACTIVATIONS.get().copy(x.wide(), x.tokens() * k, x.generation());
        for (int t = 0; t < x.tokens(); t++) {
            int part = (rowEnd - rowStart) / ROW_STREAMS;
            for (int i = 0; i < rowEnd - rowStart; i++) {
                int r = i < ROW_STREAMS * part ? rowStart + (i % ROW_STREAMS) * part + i / ROW_STREAMS : rowStart + i;
                laneSums(data, r * rowBytes, q, x, t, blocks, sums);
                float sum = 0;
                for (int l = 0; l < 8; l++) {
                    sum += sums[l];
                }
                out[t * rows + r] = sum;
            }
        }
    }

    /**
     * The reference's eight float sums of one row into {@code sums[0..8)}. Per half-block the four products (32 16-bit
     * lanes each, two sub-blocks of 16) are paired up: two permutes of a pair of products add the two elements of each
     * sub-block that share a lane mod 8, which leaves 32 sums of four sub-blocks in one vector, still in 16 bits (|sum|
     * ≤ 2·32·128). Read as 16 ints, its low halves hold two sub-blocks and its high halves the other two
     * ({@link #PAIR_INDEXES}); each is sign-extended by shifts, converted to floats and multiply-added with its
     * sub-blocks' scales ({@link #SCALE_PAIRS}) in float lanes, which hold these integers exactly (no partial sum of
     * a block exceeds 16 · 128 · 8192 = 2^24 in magnitude). Lane i of an accumulator only ever sees elements
     * ≡ i (mod 8); lanes i and i+8 are added (the reference's integer lane i) and {@code sums[l] += d · lane}, a multiply then an add as
     * the reference does. Every vector stays inside this method (a vector passed to or returned from a call that C2
     * does not inline is allocated on the heap).
     */
    private static void laneSums(MemorySegment data, long base, MemorySegment q, Activations x, int t, int blocks,
                                 float[] sums) {
        ShortVector by2 = ShortVector.broadcast(SHORTS, (short) 2);
        ShortVector by4 = ShortVector.broadcast(SHORTS, (short) 4);
        ShortVector firstOfPair = ShortVector.fromArray(SHORTS, PAIR_INDEXES, 0);
        ShortVector secondOfPair = ShortVector.fromArray(SHORTS, PAIR_INDEXES, SHORTS.length());
        IntVector by16 = IntVector.broadcast(INTS, 16);
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
                ShortVector p0 = low.and((short) 15).or(top.lanewise(VectorOperators.LSHL, by4).and((short) 48))
                        .sub((short) 32).mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * xb, LE));
                ShortVector p1 = high.and((short) 15).or(top.lanewise(VectorOperators.LSHL, by2).and((short) 48))
                        .sub((short) 32).mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * (xb + 32), LE));
                ShortVector p2 = low.lanewise(VectorOperators.LSHR, by4).or(top.and((short) 48))
                        .sub((short) 32).mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * (xb + 64), LE));
                ShortVector p3 = high.lanewise(VectorOperators.LSHR, by4)
                        .or(top.lanewise(VectorOperators.LSHR, by2).and((short) 48))
                        .sub((short) 32).mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * (xb + 96), LE));
                IntVector pairs01 = (IntVector) firstOfPair.selectFrom(p0, p1).add(secondOfPair.selectFrom(p0, p1))
                        .reinterpretShape(INTS, 0);
                IntVector pairs23 = (IntVector) firstOfPair.selectFrom(p2, p3).add(secondOfPair.selectFrom(p2, p3))
                        .reinterpretShape(INTS, 0);
                acc0 = ((FloatVector) pairs01.lanewise(VectorOperators.LSHL, by16).lanewise(VectorOperators.ASHR, by16)
                        .convert(VectorOperators.I2F, 0)).fma(subScales.rearrange(SCALE_PAIRS[4 * half]), acc0);
                acc1 = ((FloatVector) pairs01.lanewise(VectorOperators.ASHR, by16).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SCALE_PAIRS[4 * half + 1]), acc1);
                acc2 = ((FloatVector) pairs23.lanewise(VectorOperators.LSHL, by16).lanewise(VectorOperators.ASHR, by16)
                        .convert(VectorOperators.I2F, 0)).fma(subScales.rearrange(SCALE_PAIRS[4 * half + 2]), acc2);
                acc3 = ((FloatVector) pairs23.lanewise(VectorOperators.ASHR, by16).convert(VectorOperators.I2F, 0))
                        .fma(subScales.rearrange(SCALE_PAIRS[4 * half + 3]), acc3);
            }
            float d = Float.float16ToFloat(data.get(Layouts.SHORT, block + D)) * x.scales()[t * blocks + b];
            FloatVector acc = acc0.add(acc1).add(acc2.add(acc3));
            total = total.add(acc.add(acc.rearrange(UPPER_HALF)).mul(d));
        }
        total.intoArray(sums, 0);
    }

    /**
     * The two permutes that pair up the lanes of two products a and b (indexes from 32 on select from b): 16-bit lane
     * 2i takes lane i of a's first sub-block (i < 8) or lane i−8 of its second, lane 2i+1 the same of b; the second
     * permute the lane 8 above each. So int lane i holds a's sums in its low half and b's in its high half, both of
     * sub-block {@code i < 8 ? first : second}, lane i mod 8.
     */
    private static short[] pairIndexes() {
        int lanes = 32;
        short[] indexes = new short[2 * lanes];
        for (int i = 0; i < lanes / 2; i++) {
            int lane = i < 8 ? i : i + 8;
            indexes[2 * i] = (short) lane;
            indexes[2 * i + 1] = (short) (lanes + lane);
            indexes[lanes + 2 * i] = (short) (lane + 8);
            indexes[lanes + 2 * i + 1] = (short) (lanes + lane + 8);
        }
        return indexes;
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
