package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * TQ1_0 (54-byte blocks of 256: 48 bytes of five base-3 digits each, 4 bytes of four digits, then the F16 scale d)
 * times Q8_K or per-token int8 activations. Digit n of byte v is {@code ((v·3^n mod 256)·3) >> 8}; generation
 * multiplies {@code (v·3^(n+1)) >> 8} (two operations a digit) with activation differences instead, which gives the
 * same sums ({@link #firstBytes}; JMH, 6912 rows from L3: 610 -> 516 µs against taking the digits one after another,
 * {@code t = v·3}, digit {@code t >> 8}, next {@code v = t mod 256}); bytes 0..31 give columns {@code 32n + m}, bytes
 * 32..47 columns {@code 160 + 16n + m}, bytes 48..51 columns {@code 240 + 4n + m}. The last 20 bytes are read as one
 * run: per token, their activations are laid out once so that digit n of run byte j meets its column's activation at
 * {@code [(5·block + n)·32 + j]} (zero where no column is, so digit 4 of the four-digit bytes counts for nothing).
 * Generation takes four rows at a time from {@link #ROW_STREAMS} parts of the thread's rows, as {@link TQ2Kernel} does,
 * and {@link FourRowBlocks} finishes them exactly as the scalar reference; each block's digits go through the four rows
 * one after another (a loop doing the four together grew past C2's inlining node limit and ran with its vectors boxed).
 * The one-row kernel this replaces, with a reduction and a scalar tail per block, ran at 9 G weights/s from L3 and
 * decoded the 2B-4T file at 4 tokens/s on one thread. Prompts of at least
 * {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens go to {@link TernaryLookupKernel} where 512-bit
 * vectors allow, re-encoded as TQ2_0 by {@link #toTQ2} on the way.
 */
final class TQ1Kernel implements FileLayoutTernaryKernel {
    static final TQ1Kernel INSTANCE = new TQ1Kernel();
    private static final int BLOCK_BYTES = 54;
    /** A TQ2_0 block, as {@link #toTQ2} writes it. */
    static final int TQ2_BLOCK_BYTES = 66;
    /** 32 bytes of a block, widened to 32 16-bit lanes by {@link #toTQ2}. */
    private static final VectorSpecies<Byte> HALF_BYTES = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> TQ2_SHORTS = ShortVector.SPECIES_512;
    /** Where {@link #toTQ2} loads the block's last 32 bytes: bytes 32..51 are then lanes 10..29. */
    private static final int TAIL_LOAD = 22;
    /** Lane m of the permute that gives bit pairs 1 and 2 of TQ2_0 byte 32 + m their byte. */
    private static final VectorShuffle<Short> RUN_PERMUTE = VectorShuffle.fromOp(TQ2_SHORTS,
            m -> 32 - TAIL_LOAD + m % 16);
    /** Lane m of the permute that gives bit pair 3 of TQ2_0 byte 32 + m its byte. */
    private static final VectorShuffle<Short> LAST_PAIR_PERMUTE = VectorShuffle.fromOp(TQ2_SHORTS,
            m -> m < 16 ? 32 - TAIL_LOAD + m : 48 - TAIL_LOAD + (m - 16) % 4);
    /** Shift counts for {@link #toTQ2}, as vectors: with a scalar count C2 moves it to a register before each shift. */
    private static final ShortVector BY_2 = ShortVector.broadcast(TQ2_SHORTS, (short) 2);
    private static final ShortVector BY_4 = ShortVector.broadcast(TQ2_SHORTS, (short) 4);
    private static final ShortVector BY_6 = ShortVector.broadcast(TQ2_SHORTS, (short) 6);
    private static final ShortVector BY_8 = ShortVector.broadcast(TQ2_SHORTS, (short) 8);
    /** Powers of 3 of the four digits of a {@code qh} byte. */
    private static final int[] POW3 = {1, 3, 9, 27};
    /**
     * Per lane of TQ2_0 bytes 32..63, the power of 3 of the digit that bit pair 1, 2, 3 takes (three rows of 32):
     * see {@link #toTQ2}.
     */
    private static final short[] POWERS = powers();

    /** Bytes 32..51 of a block: 16 of five digits, then 4 of four. */
    private static final int RUN_BYTES = 20;
    /** Activations per digit of the run, padded to a whole number of vectors on any width. */
    private static final int RUN_COLUMNS = 32;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Each block's vectors of the four rows, before they are halved together. */
    private static final ThreadLocal<short[]> ROW_VECTORS = ThreadLocal.withInitial(() -> new short[0]);
    private static final ThreadLocal<short[]> RUN_ACTIVATIONS = ThreadLocal.withInitial(() -> new short[0]);
    private static final ThreadLocal<short[]> FIRST_ACTIVATIONS = ThreadLocal.withInitial(() -> new short[0]);

    private TQ1Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        int blocks = k / 256;
        long rowBytes = (long) blocks * BLOCK_BYTES;
        if (x.tokens() >= TernaryLookupKernel.MIN_TOKENS_FROM_FILE_LAYOUT && TernaryLookupKernel.SUPPORTED) {
            TernaryLookupKernel.multiplyTQ1FileLayout(w, x, out, rowStart, rowEnd);
            return;
        }
        boolean perBlock = x.type() == ActivationType.Q8_K;
        FourRowBlocks scratch = FourRowBlocks.forBlocks(blocks);
        short[] run = grown(RUN_ACTIVATIONS, blocks * 5 * RUN_COLUMNS);
        short[] first = grown(FIRST_ACTIVATIONS, blocks * 256);
        short[] rowVectors = grown(ROW_VECTORS, blocks * 4 * SHORT_LANES);
        int part = (rowEnd - rowStart) / ROW_STREAMS;
        int rest = rowStart + ROW_STREAMS * part;
        int quarter = (rowEnd - rest) / 4;
        for (int t = 0; t < x.tokens(); t++) {
            arrangeRun(x.wide(), t * blocks * 256, blocks, run);
            arrangeFirst(x.wide(), t * blocks * 256, blocks, first);
            for (int i = 0; i < part; i++) {
                for (int r = rowStart + i; r < rest; r += 4 * part) {
                    fourRows(data, r * rowBytes, part * rowBytes, first, run, blocks, rowVectors, scratch);
                    scratch.finish(blocks, perBlock, x, t, out, t * rows + r, part);
                }
            }
            for (int i = 0; i < quarter; i++) {
                int r = rest + i;
                fourRows(data, r * rowBytes, quarter * rowBytes, first, run, blocks, rowVectors, scratch);
                scratch.finish(blocks, perBlock, x, t, out, t * rows + r, quarter);
            }
            for (int r = rest + 4 * quarter; r < rowEnd; r++) {
                fourRows(data, r * rowBytes, 0, first, run, blocks, rowVectors, scratch);
                scratch.finish(blocks, perBlock, x, t, out, t * rows + r, 0);
            }
        }
    }

    /** This thread's array of {@code local}, grown to at least {@code length}. */
    private static short[] grown(ThreadLocal<short[]> local, int length) {
        short[] array = local.get();
        if (array.length < length) {
            array = new short[length];
            local.set(array);
        }
        return array;
    }

    /**
     * The activations of one token's run columns, digit by digit (see the class comment), then each digit's less 3
     * times the next digit's ({@link #firstBytes} says why).
     */
    private static void arrangeRun(short[] q, int xOff, int blocks, short[] run) {
        for (int b = 0; b < blocks; b++) {
            int x = xOff + 256 * b;
            for (int n = 0; n < 5; n++) {
                int at = (5 * b + n) * RUN_COLUMNS;
                System.arraycopy(q, x + 160 + 16 * n, run, at, 16);
                for (int j = 16; j < RUN_COLUMNS; j++) {
                    run[at + j] = n < 4 && j < RUN_BYTES ? q[x + 240 + 4 * n + j - 16] : 0;
                }
            }
            for (int n = 0; n < 4; n++) {
                int at = (5 * b + n) * RUN_COLUMNS;
                for (int j = 0; j < RUN_COLUMNS; j++) {
                    run[at + j] = (short) (run[at + j] - 3 * run[at + RUN_COLUMNS + j]);
                }
            }
        }
    }

    /**
     * For the columns {@code 32n + m} (n = 0..4) of each block, whose digits sit in bytes 0..31, the token's
     * activation less 3 times that of the next digit's column ({@code 32(n+1) + m}; nothing after digit 4), at the
     * same places in {@code first}.
     */
    private static void arrangeFirst(short[] q, int xOff, int blocks, short[] first) {
        for (int b = 0; b < blocks; b++) {
            int x = xOff + 256 * b;
            int at = 256 * b;
            for (int i = 0; i < 128; i++) {
                first[at + i] = (short) (q[x + i] - 3 * q[x + i + 32]);
            }
            System.arraycopy(q, x + 128, first, at + 128, 32);
        }
    }

    /**
     * The block vectors and scales of four rows whose bytes start at {@code base}, {@code stride} bytes apart, into
     * {@code scratch}; a stride of 0 computes one row (four times, for the few rows left over). Each block's digits
     * go through the rows one after another, into {@code rows} ({@code [(4·block + row)·SHORT_LANES]}), in two passes
     * over the rows' blocks (their bytes stay in the L1 cache); then the four rows of each block are halved together.
     * Each a method small enough for C2 to inline every vector operation in it: one loop doing the four rows together
     * grew past C2's inlining node limit and ran with its vectors boxed.
     */
    private static void fourRows(MemorySegment data, long base, long stride, short[] first, short[] run,
                                 int blocks, short[] rows, FourRowBlocks scratch) {
        firstBytes(data, base, stride, first, blocks, rows);
        addRun(data, base, stride, run, blocks, rows);
        halveRows(rows, blocks, scratch.pairSums);
        float[] scales = scratch.scales;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            for (int row = 0; row < 4; row++) {
                scales[4 * b + row] = Float.float16ToFloat(data.get(Layouts.SHORT, block + row * stride + 52));
            }
        }
    }

    /**
     * Bytes 0..31 of each block, digit n for columns {@code 32n + m}, into {@code rows}. With
     * {@code F_n = (v·3^(n+1)) >> 8} (below 2^16 for a byte v, so exact in a 16-bit lane), digit n is
     * {@code F_n − 3·F_(n−1)}, and so {@code Σ digit_n·q_n = Σ F_n·(q_n − 3·q_(n+1))}: against the activations
     * {@link #arrangeFirst} prepared, each digit costs a multiplication and a shift, with no mask and no chain from
     * one digit to the next. The identity holds modulo 2^16, where the 16-bit lanes wrap, so the sums are exactly
     * those of the digits.
     */
    private static void firstBytes(MemorySegment data, long base, long stride, short[] first, int blocks,
                                   short[] rows) {
        ShortVector by8 = ShortVector.broadcast(SHORTS, (short) 8);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            for (int row = 0; row < 4; row++) {
                ShortVector acc = ShortVector.zero(SHORTS);
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ShortVector bytes = TernaryLanes.widen(data, block + row * stride + p);
                    int power = 3;
                    for (int n = 0; n < 5; n++) {
                        acc = acc.add(bytes.mul((short) power).lanewise(VectorOperators.LSHR, by8)
                                .mul(ShortVector.fromArray(SHORTS, first, 256 * b + 32 * n + p)));
                        power *= 3;
                    }
                }
                acc.intoArray(rows, (4 * b + row) * SHORT_LANES);
            }
        }
    }

    /**
     * The run (bytes 32..51 of each block) against its arranged activations, added to {@code rows}. The masked load
     * (lanes past the run load zeros: they would read the scale and the next block) is written out here, since a
     * vector returned from a call that is not inlined is allocated.
     */
    private static void addRun(MemorySegment data, long base, long stride, short[] run, int blocks, short[] rows) {
        ShortVector by8 = ShortVector.broadcast(SHORTS, (short) 8);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES + 32;
            for (int row = 0; row < 4; row++) {
                int at = (4 * b + row) * SHORT_LANES;
                ShortVector acc = ShortVector.fromArray(SHORTS, rows, at);
                for (int p = 0; p < RUN_BYTES; p += SHORT_LANES) {
                    ShortVector bytes = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data,
                            block + row * stride + p, LE, MASK_BYTES.indexInRange(p, RUN_BYTES))
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    int power = 3;
                    for (int n = 0; n < 5; n++) {
                        acc = acc.add(bytes.mul((short) power).lanewise(VectorOperators.LSHR, by8)
                                .mul(ShortVector.fromArray(SHORTS, run, (5 * b + n) * RUN_COLUMNS + p)));
                        power *= 3;
                    }
                }
                acc.intoArray(rows, at);
            }
        }
    }

    /** Each block's four row vectors halved twice into its four-row vector (see {@link FourRowBlocks}). */
    private static void halveRows(short[] rows, int blocks, int[] pairSums) {
        IntVector by16 = IntVector.broadcast(INTS, 16);
        ShortVector lower0 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.lower(0));
        ShortVector upper0 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.upper(0));
        ShortVector lower1 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.lower(1));
        ShortVector upper1 = ShortVector.fromArray(SHORTS, TernaryLanes.HALVING_INDEXES, TernaryLanes.upper(1));
        for (int b = 0; b < blocks; b++) {
            int at = 4 * b * SHORT_LANES;
            ShortVector a0 = ShortVector.fromArray(SHORTS, rows, at);
            ShortVector a1 = ShortVector.fromArray(SHORTS, rows, at + SHORT_LANES);
            ShortVector a2 = ShortVector.fromArray(SHORTS, rows, at + 2 * SHORT_LANES);
            ShortVector a3 = ShortVector.fromArray(SHORTS, rows, at + 3 * SHORT_LANES);
            ShortVector rows01 = lower0.selectFrom(a0, a1).add(upper0.selectFrom(a0, a1));
            ShortVector rows23 = lower0.selectFrom(a2, a3).add(upper0.selectFrom(a2, a3));
            IntVector pairs = (IntVector) lower1.selectFrom(rows01, rows23).add(upper1.selectFrom(rows01, rows23))
                    .reinterpretShape(INTS, 0);
            pairs.lanewise(VectorOperators.LSHL, by16).lanewise(VectorOperators.ASHR, by16)
                    .add(pairs.lanewise(VectorOperators.ASHR, by16)).intoArray(pairSums, b * FourRowBlocks.PAIR_INTS);
        }
    }

    /** Digit n (pow3 = 3^n) of each byte lane: ((v·3^n mod 256)·3) >> 8, the shift count as a vector. */
    private static ShortVector digit(ShortVector bytes, short pow3, ShortVector by8) {
        return bytes.mul(pow3).and((short) 0xFF).mul((short) 3).lanewise(VectorOperators.LSHR, by8);
    }

    /**
     * Rows {@code [rowStart, rowStart + count)} of TQ1_0 weights ({@code blocks} blocks a row) re-encoded as TQ2_0
     * rows at the start of {@code into}: the same codes and scales, so the lookup kernel takes TQ1_0 prompts as
     * TQ2_0 ones. TQ2_0 byte m (m < 32) holds digits 0..3 of byte m in its bit pairs 0..3; byte 32 + m holds digit 4
     * of byte m, then the columns 160 + m, 192 + m, 224 + m: digits 0, 2, 4 of byte 32 + m for m < 16, and for
     * m ≥ 16 digits 1, 3 of byte 16 + m and digit (m − 16)/4 of {@code qh[(m − 16) % 4]}. The last two bit pairs thus
     * take their bytes through one permute each and their digit's power of 3 per lane. Needs 512-bit vectors.
     */
    static void toTQ2(MemorySegment data, int blocks, long rowStart, int count, MemorySegment into) {
        long tq2RowBytes = (long) blocks * TQ2_BLOCK_BYTES;
        for (int row = 0; row < count; row++) {
            for (int b = 0; b < blocks; b++) {
                long block = (rowStart + row) * blocks * BLOCK_BYTES + (long) b * BLOCK_BYTES;
                long target = row * tq2RowBytes + (long) b * TQ2_BLOCK_BYTES;
                firstQuarterCodes(data, block, into, target);
                secondQuarterCodes(data, block, into, target);
                into.set(Layouts.SHORT, target + 64, data.get(Layouts.SHORT, block + 52));
            }
        }
    }

    /**
     * TQ2_0 bytes 0..31 of the block at {@code block}: digits 0..3 of its bytes 0..31. This and
     * {@link #secondQuarterCodes} are separate methods, their vectors never leaving them, because together they
     * pass C2's inlining node limit (its vectors were then boxed: 43 MB per token of a prompt).
     */
    private static void firstQuarterCodes(MemorySegment data, long block, MemorySegment into, long target) {
        ShortVector head = (ShortVector) ByteVector.fromMemorySegment(HALF_BYTES, data, block, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, TQ2_SHORTS, 0);
        digit(head, (short) 1, BY_8)
                .or(digit(head, (short) 3, BY_8).lanewise(VectorOperators.LSHL, BY_2))
                .or(digit(head, (short) 9, BY_8).lanewise(VectorOperators.LSHL, BY_4))
                .or(digit(head, (short) 27, BY_8).lanewise(VectorOperators.LSHL, BY_6))
                .convertShape(VectorOperators.S2B, HALF_BYTES, 0).intoMemorySegment(into, target, LE);
    }

    /** TQ2_0 bytes 32..63 of the block at {@code block}: see {@link #toTQ2}. */
    private static void secondQuarterCodes(MemorySegment data, long block, MemorySegment into, long target) {
        ShortVector head = (ShortVector) ByteVector.fromMemorySegment(HALF_BYTES, data, block, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, TQ2_SHORTS, 0);
        ShortVector tail = (ShortVector) ByteVector.fromMemorySegment(HALF_BYTES, data, block + TAIL_LOAD, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, TQ2_SHORTS, 0);
        ShortVector run = tail.rearrange(RUN_PERMUTE);
        digit(head, (short) 81, BY_8)
                .or(digit(run, ShortVector.fromArray(TQ2_SHORTS, POWERS, 0), BY_8)
                        .lanewise(VectorOperators.LSHL, BY_2))
                .or(digit(run, ShortVector.fromArray(TQ2_SHORTS, POWERS, 32), BY_8)
                        .lanewise(VectorOperators.LSHL, BY_4))
                .or(digit(tail.rearrange(LAST_PAIR_PERMUTE), ShortVector.fromArray(TQ2_SHORTS, POWERS, 64), BY_8)
                        .lanewise(VectorOperators.LSHL, BY_6))
                .convertShape(VectorOperators.S2B, HALF_BYTES, 0).intoMemorySegment(into, target + 32, LE);
    }

    private static short[] powers() {
        short[] powers = new short[3 * 32];
        for (int m = 0; m < 32; m++) {
            powers[m] = (short) (m < 16 ? 1 : 3);
            powers[32 + m] = (short) (m < 16 ? 9 : 27);
            powers[64 + m] = (short) (m < 16 ? 81 : POW3[(m - 16) / 4]);
        }
        return powers;
    }

    /** Digit n of each byte lane, with 3^n per lane. */
    private static ShortVector digit(ShortVector bytes, ShortVector pow3, ShortVector by8) {
        return bytes.mul(pow3).and((short) 0xFF).mul((short) 3).lanewise(VectorOperators.LSHR, by8);
    }

    @Override
    public int rowGrain() {
        return TernaryLookupKernel.SUPPORTED ? TernaryLookupKernel.ROW_GRAIN : 4;
    }

    @Override
    public String describe() {
        return "TQ1_0 " + Simd.BITS + "-bit, 4 rows";
    }
}
