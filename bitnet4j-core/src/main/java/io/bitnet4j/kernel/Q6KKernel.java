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
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K (210-byte blocks of 256: {@code ql[128] qh[64] scales[16] d}) times Q8_K activations, {@link #ROWS} rows at a
 * time taken from as many parts of the thread's rows ({@link #ROW_STREAMS} parts in all). A half-block's 6-bit codes
 * come out of 32 bytes of {@code ql}, 32 more and 32 of {@code qh} as four vectors of 32 16-bit lanes (elements l,
 * l+32, l+64, l+96 of the half); each is multiplied with the activations in 16-bit lanes (|w·q| ≤ 32·127). Three
 * rounds of two-source permutes and adds, still in 16 bits, gather each sub-block's products into one 32-bit lane
 * ({@link #rowGroup}); the sums are widened by shifts, converted to floats and scaled, which these integers survive
 * exactly. The float part follows {@code Q6_KFormat.dot} operation for operation, so results equal the reference's
 * bit for bit. Shifts take their counts from vectors (with a scalar count C2 moves it into a vector register before
 * every shift). The activations are read from {@link AlignedShorts}. Needs 32 16-bit lanes.
 */
final class Q6KKernel implements MatMulKernel {
    static final Q6KKernel INSTANCE = new Q6KKernel();
    /** Whether this machine runs the kernel: it needs 512-bit vectors. */
    static final boolean SUPPORTED = Simd.BITS == 512;

    private static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;
    /**
     * Rows whose blocks {@link #rowGroup} takes in turn, a stride apart: more rows keep more cache-line misses in
     * flight. JMH, the 128256-row head from memory, one thread: one row at a time 37.9 ms, four 27.5, eight 24.1.
     */
    private static final int ROWS = 8;

    /** The 16 sub-block scales of a block, read at once and widened to floats. */
    private static final VectorSpecies<Byte> SCALE_BYTES = ByteVector.SPECIES_128;
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_512;
    /**
     * 64-bit lanes of two products a, b (from 8 on: b): the first vector takes quarters 0 and 2 of each (elements 0-7
     * of its two sub-blocks), the second quarters 1 and 3 (elements 8-15).
     */
    private static final long[] QUARTER_INDEXES = {0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15};
    /** The even 64-bit lanes of two vectors, then the odd ones. */
    private static final long[] EVEN_ODD_LONGS = java.util.stream.LongStream.range(0, 16)
            .map(i -> i < 8 ? 2 * i : 2 * (i - 8) + 1).toArray();
    /** The even 32-bit lanes of two vectors, then the odd ones. */
    private static final int[] EVEN_ODD_INTS = java.util.stream.IntStream.range(0, 32)
            .map(i -> i < 16 ? 2 * i : 2 * (i - 16) + 1).toArray();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 32 bytes, loaded as doubles: see {@link #codeBytes}. */
    private static final VectorSpecies<Double> CODE_WORDS = DoubleVector.SPECIES_256;
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[ROWS * 16]);
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
            for (int i = 0; i < part; i++) {
                for (int first = rowStart + i; first < rowStart + ROW_STREAMS * part; first += ROWS * part) {
                    rowGroup(data, first * rowBytes, part * rowBytes, q, x, t, blocks, sums);
                    for (int j = 0; j < ROWS; j++) {
                        out[t * rows + first + j * part] = rowSum(sums, j);
                    }
                }
            }
            int r = rowStart + ROW_STREAMS * part;
            for (; r + ROWS <= rowEnd; r += ROWS) {
                rowGroup(data, r * rowBytes, rowBytes, q, x, t, blocks, sums);
                for (int j = 0; j < ROWS; j++) {
                    out[t * rows + r + j] = rowSum(sums, j);
                }
            }
            for (; r < rowEnd; r++) {
                rowGroup(data, r * rowBytes, 0, q, x, t, blocks, sums);
                out[t * rows + r] = rowSum(sums, 0);
            }
        }
    }

    /** Row j's result from the float sums {@link #rowGroup} left: its sixteen sub-block sums added in order. */
    private static float rowSum(float[] sums, int j) {
        float sum = 0;
        for (int s = 0; s < 16; s++) {
            sum += sums[16 * j + s];
        }
        return sum;
    }

    /**
     * The reference's sixteen float sums, one per sub-block, of rows {@code base + j·stride} (j &lt; {@link #ROWS})
     * into {@code sums[16j .. 16j+16)}; the rows' blocks are taken in turn, each row's sums passed along a ring of
     * accumulators so that it meets its own again {@link #ROWS} steps later (a stride of 0 computes one row, eight
     * times over, for the last few rows of a share). Per half-block the four products (32 16-bit lanes each: elements l = 0..31 of one of the four element groups, so lanes 0-15 one
     * sub-block and lanes 16-31 the next) are added up in three rounds of two-source permutes and 16-bit adds, each
     * halving the lanes a sub-block holds: products in pairs by 128-bit quarters (8 lanes a sub-block), the two pairs
     * by 64-bit lanes (4), then the two halves by 32-bit lanes (2, each the sum of 8 elements, at most 8 · 32 · 127 <
     * 2^15 in magnitude). Int lane s then holds sub-block s's two partial sums in its halves, added exactly after
     * shifts, converted to floats (exact) and multiplied by the sub-block scale (exact: at most 16 · 32 · 127 · 128 <
     * 2^24), then {@code sums[s] += d · that}, a multiply then an add as the reference does. Every vector stays inside
     * this method (a vector passed to or returned from a call that C2 does not inline is allocated on the heap, and
     * this method is past the size up to which C2 inlines), and every shuffle is a local: one read from an array in
     * the loop costs a load, a type check and a mask per use.
     */
    private static void rowGroup(MemorySegment data, long base, long stride, MemorySegment q, Activations x, int t,
                                 int blocks, float[] sums) {
        ShortVector by2 = ShortVector.broadcast(SHORTS, (short) 2);
        ShortVector by4 = ShortVector.broadcast(SHORTS, (short) 4);
        IntVector by16 = IntVector.broadcast(INTS, 16);
        LongVector quartersFirst = LongVector.fromArray(LONGS, QUARTER_INDEXES, 0);
        LongVector quartersSecond = LongVector.fromArray(LONGS, QUARTER_INDEXES, LONGS.length());
        LongVector longsEven = LongVector.fromArray(LONGS, EVEN_ODD_LONGS, 0);
        LongVector longsOdd = LongVector.fromArray(LONGS, EVEN_ODD_LONGS, LONGS.length());
        IntVector intsEven = IntVector.fromArray(INTS, EVEN_ODD_INTS, 0);
        IntVector intsOdd = IntVector.fromArray(INTS, EVEN_ODD_INTS, INTS.length());
        FloatVector total0 = FloatVector.zero(FLOATS);
        FloatVector total1 = total0;
        FloatVector total2 = total0;
        FloatVector total3 = total0;
        FloatVector total4 = total0;
        FloatVector total5 = total0;
        FloatVector total6 = total0;
        FloatVector total7 = total0;
        for (int step = 0; step < ROWS * blocks; step++) {
            int b = step / ROWS;
            long block = base + (step % ROWS) * stride + (long) b * BLOCK_BYTES;
            ShortVector firstHalf = ShortVector.zero(SHORTS);
            ShortVector secondHalf = firstHalf;
            for (int half = 0; half < 2; half++) {
                ShortVector low = codeBytes(data, block + 64L * half);
                ShortVector high = codeBytes(data, block + 64L * half + 32);
                ShortVector top = codeBytes(data, block + QH + 32L * half);
                int xb = (t * blocks + b) * 256 + 128 * half;
                LongVector p0 = (LongVector) low.and((short) 15)
                        .or(top.lanewise(VectorOperators.LSHL, by4).and((short) 48)).sub((short) 32)
                        .mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * xb, LE)).reinterpretShape(LONGS, 0);
                LongVector p1 = (LongVector) high.and((short) 15)
                        .or(top.lanewise(VectorOperators.LSHL, by2).and((short) 48)).sub((short) 32)
                        .mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * (xb + 32), LE)).reinterpretShape(LONGS, 0);
                LongVector p2 = (LongVector) low.lanewise(VectorOperators.LSHR, by4).or(top.and((short) 48))
                        .sub((short) 32)
                        .mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * (xb + 64), LE)).reinterpretShape(LONGS, 0);
                LongVector p3 = (LongVector) high.lanewise(VectorOperators.LSHR, by4)
                        .or(top.lanewise(VectorOperators.LSHR, by2).and((short) 48)).sub((short) 32)
                        .mul(ShortVector.fromMemorySegment(SHORTS, q, 2L * (xb + 96), LE)).reinterpretShape(LONGS, 0);
                LongVector pair01 = (LongVector) ((ShortVector) quartersFirst.selectFrom(p0, p1)
                        .reinterpretShape(SHORTS, 0))
                        .add((ShortVector) quartersSecond.selectFrom(p0, p1).reinterpretShape(SHORTS, 0))
                        .reinterpretShape(LONGS, 0);
                LongVector pair23 = (LongVector) ((ShortVector) quartersFirst.selectFrom(p2, p3)
                        .reinterpretShape(SHORTS, 0))
                        .add((ShortVector) quartersSecond.selectFrom(p2, p3).reinterpretShape(SHORTS, 0))
                        .reinterpretShape(LONGS, 0);
                firstHalf = secondHalf;
                secondHalf = ((ShortVector) longsEven.selectFrom(pair01, pair23).reinterpretShape(SHORTS, 0))
                        .add((ShortVector) longsOdd.selectFrom(pair01, pair23).reinterpretShape(SHORTS, 0));
            }
            IntVector h0 = (IntVector) firstHalf.reinterpretShape(INTS, 0);
            IntVector h1 = (IntVector) secondHalf.reinterpretShape(INTS, 0);
            IntVector twoSums = (IntVector) ((ShortVector) intsEven.selectFrom(h0, h1).reinterpretShape(SHORTS, 0))
                    .add((ShortVector) intsOdd.selectFrom(h0, h1).reinterpretShape(SHORTS, 0))
                    .reinterpretShape(INTS, 0);
            FloatVector subBlockSums = (FloatVector) twoSums.lanewise(VectorOperators.LSHL, by16)
                    .lanewise(VectorOperators.ASHR, by16).add(twoSums.lanewise(VectorOperators.ASHR, by16))
                    .convert(VectorOperators.I2F, 0);
            FloatVector subScales = (FloatVector) ByteVector.fromMemorySegment(SCALE_BYTES, data, block + SCALES, LE)
                    .convertShape(VectorOperators.B2F, FLOATS, 0);
            float d = Float.float16ToFloat(data.get(Layouts.SHORT, block + D)) * x.scales()[t * blocks + b];
            FloatVector next = total7.add(subBlockSums.mul(subScales).mul(d));
            total7 = total6;
            total6 = total5;
            total5 = total4;
            total4 = total3;
            total3 = total2;
            total2 = total1;
            total1 = total0;
            total0 = next;
        }
        total7.intoArray(sums, 0);
        total6.intoArray(sums, 16);
        total5.intoArray(sums, 32);
        total4.intoArray(sums, 48);
        total3.intoArray(sums, 64);
        total2.intoArray(sums, 80);
        total1.intoArray(sums, 96);
        total0.intoArray(sums, 112);
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
