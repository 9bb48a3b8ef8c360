package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Ternary prompts (I2_S, TQ2_0, TQ1_0) by byte permutes: three columns of 32 rows per lookup. Each 256-column chunk
 * of a row is cut into {@value #GROUPS} groups of (at most) three columns; a group's three weights w = c − 1 are one
 * base-3 index i = c₀ + 3c₁ + 9c₂ (0..26), stored per row as the byte pair (2i, 2i+1). For each token and group a
 * 64-byte table holds the 27 sums {@code Σ w·q} as 16-bit values, so one {@code selectFrom} of bytes
 * ({@code vpermb}, which needs AVX-512 VBMI) looks up all 32 rows' sums of the group at once: three multiply-adds
 * per row for one permute and one add, where {@link TernaryLookupKernel} spends five cycles of the permute port per
 * eight columns. Sums stay in 16 bits for a chunk (at most 256·127 = 32512) and are then widened; the result is the
 * integer {@code Σ (c−1)·q} of each row, converted as {@link I2SFormat#dot} does, or per 256-column block (a chunk
 * is one TQ2_0 block) folded with the block scales in block order as {@code TernaryBlockFormat.dot} does: bit for
 * bit the reference either way.
 *
 * <p>The weights are encoded per product from the 32×32 tiles of words that {@link TernaryLookupKernel} transposes
 * (or reads from a repacked layout), 16 bits per three columns: 2.7 times the bytes of the 2-bit codes, into one
 * copy all threads share when the tokens are split. A code 3 (a weight of 2, which no file holds) has no base-3
 * index: such weights stay on {@link TernaryLookupKernel}'s path.
 */
final class Base3LookupKernel {
    /**
     * Whether this machine runs the kernel: 512-bit vectors and byte permutes (AVX-512 VBMI); off with
     * {@code -Dbitnet.kernel.base3=false}.
     */
    static final boolean SUPPORTED = TernaryLookupKernel.SUPPORTED && Simd.BYTE_PERMUTES
            && Simd.booleanProperty("bitnet.kernel.base3", true);
    static final int CHUNK_COLUMNS = 256;
    /** 32-row words (eight columns each) per chunk, the tile that is encoded at once. */
    static final int CHUNK_WORDS = CHUNK_COLUMNS / 8;
    /** 80 groups from the fields of word triples, 6 from the last two words (the last with one column). */
    static final int GROUPS = 86;
    private static final int GROUP_BYTES = 64;
    static final int CHUNK_BYTES = GROUPS * GROUP_BYTES;
    private static final int ROWS = I2SFormat.INTERLEAVED_ROWS;
    /** Int lanes of a vector: the 16-bit sums of a row block as lane pairs. */
    private static final int HALF = ROWS / 2;
    /**
     * Tokens whose tables are built together: their tables of a chunk (132 KB; 528 KB for a span of four chunks)
     * stay in the L2 cache while every row block runs over them six tokens at a time (four for the last up to
     * four), and each chunk's codes are read once per tile. With four tokens a step, tiles of 8 measured slower and
     * 32 the same as 16 (pp128, alternating processes); 24 is a whole number of six-token steps.
     */
    static final int TILE_TOKENS = 24;
    /** Lanes 0..7 of two vectors interleaved (a0 b0 a1 b1 ...): a block's even and odd rows back in row order. */
    private static final VectorShuffle<Float> INTERLEAVE_LOWER = interleave(0);
    /** Lanes 8..15 of two vectors interleaved. */
    private static final VectorShuffle<Float> INTERLEAVE_UPPER = interleave(HALF / 2);
    /** The most chunks whose sums stay in 16 bits (see {@link #span}). */
    private static final int MAX_SPAN = 4;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Codes and tables are loaded as longs and read as bytes: the decode kernels load weight bytes from the mapped
     * file as {@code ByteVector}, and this kernel's loads of off-heap memory with the same method made C2 compile
     * theirs for two kinds of segment (I2_S tg64 after pp128 in one process, 1 / 2 threads: 8.51 / 16.16 against
     * 9.35 / 17.36 tok/s without this kernel).
     */
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_512;
    /** The columns (relative to the chunk) of each group's digits, lowest first, −1 for none: I2_S packing. */
    private static final int[] I2S_GROUP_COLUMNS = groupColumns(TernaryLookupKernel.Packing.I2S);
    /** The same for TQ2_0 packing. */
    private static final int[] TQ2_GROUP_COLUMNS = groupColumns(TernaryLookupKernel.Packing.TQ2);
    /** {@code digit_j(i) − 1} for table index i in 0..31 (0 from 27 on) and digit j: three rows of 32. */
    private static final short[] WEIGHTS = weights();

    private Base3LookupKernel() {
    }

    /** Chunks of a row of {@code cols} columns (the last may be partial). */
    static int chunks(int cols) {
        return (cols + CHUNK_COLUMNS - 1) / CHUNK_COLUMNS;
    }

    /** Bytes of the encoded weights of {@code rows} rows (padded to whole blocks) of {@code cols} columns. */
    static long encodedBytes(int rows, int cols) {
        return (long) ((rows + ROWS - 1) / ROWS) * chunks(cols) * CHUNK_BYTES;
    }

    /** Byte offset of chunk {@code chunk} of row block {@code block} in the encoded weights. */
    static long chunkByte(int block, int chunk, int chunks) {
        return ((long) block * chunks + chunk) * CHUNK_BYTES;
    }

    /**
     * Encodes one chunk of a row block: short {@code 32·i + lane} of {@code tile} (two to an int, the lower first) is
     * word i of the chunk (either packing) of row lane;
     * words past the row's end must hold zero weights (codes 1). Group 8k+f takes field f of words 3k, 3k+1, 3k+2;
     * two groups at once, fields f and f+4 in the low and high byte of each lane (indexes below 27 do not carry).
     */
    static void encodeChunk(int[] tile, MemorySegment into, long at) {
        for (int k = 0; k < 10; k++) {
            ShortVector first = IntVector.fromArray(INTS, tile, 3 * k * HALF).reinterpretAsShorts();
            ShortVector second = IntVector.fromArray(INTS, tile, (3 * k + 1) * HALF).reinterpretAsShorts();
            ShortVector third = IntVector.fromArray(INTS, tile, (3 * k + 2) * HALF).reinterpretAsShorts();
            for (int f = 0; f < 4; f++) {
                ShortVector indexes = first.lanewise(VectorOperators.LSHR, 2 * f).and((short) 0x0303)
                        .add(second.lanewise(VectorOperators.LSHR, 2 * f).and((short) 0x0303).mul((short) 3))
                        .add(third.lanewise(VectorOperators.LSHR, 2 * f).and((short) 0x0303).mul((short) 9));
                bytePairs(indexes.and((short) 0xff)).intoMemorySegment(into, at + (8L * k + f) * GROUP_BYTES, LE);
                bytePairs(indexes.lanewise(VectorOperators.LSHR, 8))
                        .intoMemorySegment(into, at + (8L * k + f + 4) * GROUP_BYTES, LE);
            }
        }
        for (int g = 80; g < GROUPS; g++) {
            ShortVector indexes = ShortVector.zero(SHORTS);
            int power = 1;
            for (int j = 0; j < 3; j++) {
                int field = 3 * (g - 80) + j;
                ShortVector digit = field < 16
                        ? IntVector.fromArray(INTS, tile, (30 + field / 8) * HALF).reinterpretAsShorts()
                                .lanewise(VectorOperators.LSHR, 2 * (field % 8)).and((short) 3)
                        : ShortVector.broadcast(SHORTS, (short) 1);
                indexes = indexes.add(digit.mul((short) power));
                power *= 3;
            }
            bytePairs(indexes).intoMemorySegment(into, at + (long) g * GROUP_BYTES, LE);
        }
    }

    /** Index i as the byte pair (2i, 2i+1) that picks the i-th 16-bit table entry. */
    private static ShortVector bytePairs(ShortVector indexes) {
        return indexes.mul((short) 514).add((short) 256);
    }

    /**
     * The {@value #GROUPS} tables of chunk {@code chunk} for the token whose 16-bit activations start at
     * {@code x[xOffset]} (row of {@code cols}), the groups' columns as {@code groupColumns} places them, at byte
     * {@code at} of {@code tables}; columns past the row count as 0.
     */
    static void buildTables(short[] x, int xOffset, int cols, int chunk, int[] groupColumns, MemorySegment tables,
                            long at) {
        ShortVector w0 = ShortVector.fromArray(SHORTS, WEIGHTS, 0);
        ShortVector w1 = ShortVector.fromArray(SHORTS, WEIGHTS, 32);
        ShortVector w2 = ShortVector.fromArray(SHORTS, WEIGHTS, 64);
        int first = chunk * CHUNK_COLUMNS;
        boolean whole = first + CHUNK_COLUMNS <= cols;
        for (int g = 0; g < GROUPS; g++) {
            short q0 = activation(x, xOffset, cols, first, groupColumns[3 * g], whole);
            short q1 = activation(x, xOffset, cols, first, groupColumns[3 * g + 1], whole);
            short q2 = activation(x, xOffset, cols, first, groupColumns[3 * g + 2], whole);
            w0.mul(q0).add(w1.mul(q1)).add(w2.mul(q2)).intoMemorySegment(tables, at + (long) g * GROUP_BYTES, LE);
        }
    }

    private static short activation(short[] x, int xOffset, int cols, int first, int column, boolean whole) {
        if (column < 0 || !whole && first + column >= cols) {
            return 0;
        }
        return x[xOffset + first + column];
    }

    /**
     * One chunk of four row blocks (codes at bytes {@code base + i·stride}, i = 0..3; a stride of 0 repeats one
     * block) for four tokens (tables at {@code tables + j·tableStride}), whose first {@code tokens} and
     * {@code blocks} are added to {@code sums[at + j·tokenStride + 32·i ..]} in {@linkplain #sumIndex lane-pair
     * order}. The accumulators go through {@code acc} (16·16 ints) to be widened: with 16 of them widened in place
     * the method has too many values for C1, whose failure left it in the interpreter's profiling tier, never
     * compiled by C2. The sums are {@code lanewise(ADD, ..)}, as in {@code I2SKernel.dotEightRows}: C2 inlines the call
     * on an accumulator through its call site's type profile, which {@code add} shares with every kernel. The loop
     * steps by a constant: with the step read from a field (chosen when an earlier version unrolled eight times and
     * spilled) both kernels ran 5-8 % slower in a stand-alone harness (16 to 128 tokens times a 6912×2560 matrix)
     * and a one-thread pp128 about 10 % slower (58 against 65 tok/s, alternating processes).
     */
    private static void fourTokens(MemorySegment codes, long base, long stride, MemorySegment tables, long table,
                                   long tableStride, long end, int tokens, int blocks, int[] sums, int at,
                                   int tokenStride, int[] acc) {
        ShortVector a0 = ShortVector.zero(SHORTS);
        ShortVector a1 = a0;
        ShortVector a2 = a0;
        ShortVector a3 = a0;
        ShortVector b0 = a0;
        ShortVector b1 = a0;
        ShortVector b2 = a0;
        ShortVector b3 = a0;
        ShortVector c0 = a0;
        ShortVector c1 = a0;
        ShortVector c2 = a0;
        ShortVector c3 = a0;
        ShortVector d0 = a0;
        ShortVector d1 = a0;
        ShortVector d2 = a0;
        ShortVector d3 = a0;
        for (long o = 0; o < end; o += GROUP_BYTES) {
            ByteVector ta = LongVector.fromMemorySegment(LONGS, tables, table + o, LE).reinterpretAsBytes();
            ByteVector tb = LongVector.fromMemorySegment(LONGS, tables, table + tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector tc = LongVector.fromMemorySegment(LONGS, tables, table + 2 * tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector td = LongVector.fromMemorySegment(LONGS, tables, table + 3 * tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector i0 = LongVector.fromMemorySegment(LONGS, codes, base + o, LE).reinterpretAsBytes();
            a0 = a0.lanewise(VectorOperators.ADD, i0.selectFrom(ta).reinterpretAsShorts());
            b0 = b0.lanewise(VectorOperators.ADD, i0.selectFrom(tb).reinterpretAsShorts());
            c0 = c0.lanewise(VectorOperators.ADD, i0.selectFrom(tc).reinterpretAsShorts());
            d0 = d0.lanewise(VectorOperators.ADD, i0.selectFrom(td).reinterpretAsShorts());
            ByteVector i1 = LongVector.fromMemorySegment(LONGS, codes, base + stride + o, LE).reinterpretAsBytes();
            a1 = a1.lanewise(VectorOperators.ADD, i1.selectFrom(ta).reinterpretAsShorts());
            b1 = b1.lanewise(VectorOperators.ADD, i1.selectFrom(tb).reinterpretAsShorts());
            c1 = c1.lanewise(VectorOperators.ADD, i1.selectFrom(tc).reinterpretAsShorts());
            d1 = d1.lanewise(VectorOperators.ADD, i1.selectFrom(td).reinterpretAsShorts());
            ByteVector i2 = LongVector.fromMemorySegment(LONGS, codes, base + 2 * stride + o, LE).reinterpretAsBytes();
            a2 = a2.lanewise(VectorOperators.ADD, i2.selectFrom(ta).reinterpretAsShorts());
            b2 = b2.lanewise(VectorOperators.ADD, i2.selectFrom(tb).reinterpretAsShorts());
            c2 = c2.lanewise(VectorOperators.ADD, i2.selectFrom(tc).reinterpretAsShorts());
            d2 = d2.lanewise(VectorOperators.ADD, i2.selectFrom(td).reinterpretAsShorts());
            ByteVector i3 = LongVector.fromMemorySegment(LONGS, codes, base + 3 * stride + o, LE).reinterpretAsBytes();
            a3 = a3.lanewise(VectorOperators.ADD, i3.selectFrom(ta).reinterpretAsShorts());
            b3 = b3.lanewise(VectorOperators.ADD, i3.selectFrom(tb).reinterpretAsShorts());
            c3 = c3.lanewise(VectorOperators.ADD, i3.selectFrom(tc).reinterpretAsShorts());
            d3 = d3.lanewise(VectorOperators.ADD, i3.selectFrom(td).reinterpretAsShorts());
        }
        a0.reinterpretAsInts().intoArray(acc, 0);
        a1.reinterpretAsInts().intoArray(acc, HALF);
        a2.reinterpretAsInts().intoArray(acc, 2 * HALF);
        a3.reinterpretAsInts().intoArray(acc, 3 * HALF);
        b0.reinterpretAsInts().intoArray(acc, 4 * HALF);
        b1.reinterpretAsInts().intoArray(acc, 5 * HALF);
        b2.reinterpretAsInts().intoArray(acc, 6 * HALF);
        b3.reinterpretAsInts().intoArray(acc, 7 * HALF);
        c0.reinterpretAsInts().intoArray(acc, 8 * HALF);
        c1.reinterpretAsInts().intoArray(acc, 9 * HALF);
        c2.reinterpretAsInts().intoArray(acc, 10 * HALF);
        c3.reinterpretAsInts().intoArray(acc, 11 * HALF);
        d0.reinterpretAsInts().intoArray(acc, 12 * HALF);
        d1.reinterpretAsInts().intoArray(acc, 13 * HALF);
        d2.reinterpretAsInts().intoArray(acc, 14 * HALF);
        d3.reinterpretAsInts().intoArray(acc, 15 * HALF);
        widenInto(acc, tokens, blocks, sums, at, tokenStride);
    }

    /**
     * {@link #fourTokens} for six tokens (24 accumulators): ten loads, each with the bounds check C2 keeps, for 24
     * permutes instead of eight for 16; the checks share the vector ports. Stand-alone (outside the repository, codes
     * from L3): 71-75 against 63-65 multiply-adds per cycle for four tokens. Only where a thread has at least a
     * tile of tokens: C2 takes up to 41 MB of memory to compile it (27 MB for {@link #fourTokens}), which raised
     * the peak RSS of a 17-token prompt (2B-4T, -c 4096) by 12-28 MiB, and the time to its first token from
     * 3.0-3.1 s to 3.4-3.7 s.
     */
    private static void sixTokens(MemorySegment codes, long base, long stride, MemorySegment tables, long table,
                                  long tableStride, long end, int tokens, int blocks, int[] sums, int at,
                                  int tokenStride, int[] acc) {
        ShortVector a0 = ShortVector.zero(SHORTS);
        ShortVector a1 = a0;
        ShortVector a2 = a0;
        ShortVector a3 = a0;
        ShortVector b0 = a0;
        ShortVector b1 = a0;
        ShortVector b2 = a0;
        ShortVector b3 = a0;
        ShortVector c0 = a0;
        ShortVector c1 = a0;
        ShortVector c2 = a0;
        ShortVector c3 = a0;
        ShortVector d0 = a0;
        ShortVector d1 = a0;
        ShortVector d2 = a0;
        ShortVector d3 = a0;
        ShortVector e0 = a0;
        ShortVector e1 = a0;
        ShortVector e2 = a0;
        ShortVector e3 = a0;
        ShortVector f0 = a0;
        ShortVector f1 = a0;
        ShortVector f2 = a0;
        ShortVector f3 = a0;
        for (long o = 0; o < end; o += GROUP_BYTES) {
            ByteVector ta = LongVector.fromMemorySegment(LONGS, tables, table + o, LE)
                    .reinterpretAsBytes();
            ByteVector tb = LongVector.fromMemorySegment(LONGS, tables, table + tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector tc = LongVector.fromMemorySegment(LONGS, tables, table + 2 * tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector td = LongVector.fromMemorySegment(LONGS, tables, table + 3 * tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector te = LongVector.fromMemorySegment(LONGS, tables, table + 4 * tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector tf = LongVector.fromMemorySegment(LONGS, tables, table + 5 * tableStride + o, LE)
                    .reinterpretAsBytes();
            ByteVector i0 = LongVector.fromMemorySegment(LONGS, codes, base + o, LE).reinterpretAsBytes();
            a0 = a0.lanewise(VectorOperators.ADD, i0.selectFrom(ta).reinterpretAsShorts());
            b0 = b0.lanewise(VectorOperators.ADD, i0.selectFrom(tb).reinterpretAsShorts());
            c0 = c0.lanewise(VectorOperators.ADD, i0.selectFrom(tc).reinterpretAsShorts());
            d0 = d0.lanewise(VectorOperators.ADD, i0.selectFrom(td).reinterpretAsShorts());
            e0 = e0.lanewise(VectorOperators.ADD, i0.selectFrom(te).reinterpretAsShorts());
            f0 = f0.lanewise(VectorOperators.ADD, i0.selectFrom(tf).reinterpretAsShorts());
            ByteVector i1 = LongVector.fromMemorySegment(LONGS, codes, base + stride + o, LE).reinterpretAsBytes();
            a1 = a1.lanewise(VectorOperators.ADD, i1.selectFrom(ta).reinterpretAsShorts());
            b1 = b1.lanewise(VectorOperators.ADD, i1.selectFrom(tb).reinterpretAsShorts());
            c1 = c1.lanewise(VectorOperators.ADD, i1.selectFrom(tc).reinterpretAsShorts());
            d1 = d1.lanewise(VectorOperators.ADD, i1.selectFrom(td).reinterpretAsShorts());
            e1 = e1.lanewise(VectorOperators.ADD, i1.selectFrom(te).reinterpretAsShorts());
            f1 = f1.lanewise(VectorOperators.ADD, i1.selectFrom(tf).reinterpretAsShorts());
            ByteVector i2 = LongVector.fromMemorySegment(LONGS, codes, base + 2 * stride + o, LE).reinterpretAsBytes();
            a2 = a2.lanewise(VectorOperators.ADD, i2.selectFrom(ta).reinterpretAsShorts());
            b2 = b2.lanewise(VectorOperators.ADD, i2.selectFrom(tb).reinterpretAsShorts());
            c2 = c2.lanewise(VectorOperators.ADD, i2.selectFrom(tc).reinterpretAsShorts());
            d2 = d2.lanewise(VectorOperators.ADD, i2.selectFrom(td).reinterpretAsShorts());
            e2 = e2.lanewise(VectorOperators.ADD, i2.selectFrom(te).reinterpretAsShorts());
            f2 = f2.lanewise(VectorOperators.ADD, i2.selectFrom(tf).reinterpretAsShorts());
            ByteVector i3 = LongVector.fromMemorySegment(LONGS, codes, base + 3 * stride + o, LE).reinterpretAsBytes();
            a3 = a3.lanewise(VectorOperators.ADD, i3.selectFrom(ta).reinterpretAsShorts());
            b3 = b3.lanewise(VectorOperators.ADD, i3.selectFrom(tb).reinterpretAsShorts());
            c3 = c3.lanewise(VectorOperators.ADD, i3.selectFrom(tc).reinterpretAsShorts());
            d3 = d3.lanewise(VectorOperators.ADD, i3.selectFrom(td).reinterpretAsShorts());
            e3 = e3.lanewise(VectorOperators.ADD, i3.selectFrom(te).reinterpretAsShorts());
            f3 = f3.lanewise(VectorOperators.ADD, i3.selectFrom(tf).reinterpretAsShorts());
        }
        a0.reinterpretAsInts().intoArray(acc, 0);
        a1.reinterpretAsInts().intoArray(acc, HALF);
        a2.reinterpretAsInts().intoArray(acc, 2 * HALF);
        a3.reinterpretAsInts().intoArray(acc, 3 * HALF);
        b0.reinterpretAsInts().intoArray(acc, 4 * HALF);
        b1.reinterpretAsInts().intoArray(acc, 5 * HALF);
        b2.reinterpretAsInts().intoArray(acc, 6 * HALF);
        b3.reinterpretAsInts().intoArray(acc, 7 * HALF);
        c0.reinterpretAsInts().intoArray(acc, 8 * HALF);
        c1.reinterpretAsInts().intoArray(acc, 9 * HALF);
        c2.reinterpretAsInts().intoArray(acc, 10 * HALF);
        c3.reinterpretAsInts().intoArray(acc, 11 * HALF);
        d0.reinterpretAsInts().intoArray(acc, 12 * HALF);
        d1.reinterpretAsInts().intoArray(acc, 13 * HALF);
        d2.reinterpretAsInts().intoArray(acc, 14 * HALF);
        d3.reinterpretAsInts().intoArray(acc, 15 * HALF);
        e0.reinterpretAsInts().intoArray(acc, 16 * HALF);
        e1.reinterpretAsInts().intoArray(acc, 17 * HALF);
        e2.reinterpretAsInts().intoArray(acc, 18 * HALF);
        e3.reinterpretAsInts().intoArray(acc, 19 * HALF);
        f0.reinterpretAsInts().intoArray(acc, 20 * HALF);
        f1.reinterpretAsInts().intoArray(acc, 21 * HALF);
        f2.reinterpretAsInts().intoArray(acc, 22 * HALF);
        f3.reinterpretAsInts().intoArray(acc, 23 * HALF);
        widenInto(acc, tokens, blocks, sums, at, tokenStride);
    }

    /**
     * Adds the first {@code tokens} × {@code blocks} of the 16-bit sums in {@code acc} to their int sums, even lanes
     * first, then odd ones ({@link #sumIndex}): lane pairs read as ints and split by shifts, which leave the permute
     * port to the lookups (a sign extension, {@code vpmovsxwd}, would take it).
     */
    private static void widenInto(int[] acc, int tokens, int blocks, int[] sums, int at, int tokenStride) {
        int half = INTS.length();
        for (int t = 0; t < tokens; t++) {
            for (int b = 0; b < blocks; b++) {
                IntVector pairs = IntVector.fromArray(INTS, acc, (4 * t + b) * half);
                int i = at + t * tokenStride + b * ROWS;
                IntVector.fromArray(INTS, sums, i)
                        .add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .intoArray(sums, i);
                IntVector.fromArray(INTS, sums, i + half).add(pairs.lanewise(VectorOperators.ASHR, 16))
                        .intoArray(sums, i + half);
            }
        }
    }

    /**
     * Tokens {@code [tokenStart, tokenEnd)} of {@code x} times the {@code count} encoded matrices: tile by tile
     * ({@value #TILE_TOKENS} tokens), each chunk builds the tile's tables once and runs every row block of every
     * matrix over them, six tokens (where the range holds a whole tile; else, and for the last four or fewer, four)
     * and four row blocks at a time (the last blocks of a matrix one at a time).
     */
    static void multiply(Matrix[] matrices, int count, Activations x, int tokenStart, int tokenEnd,
                         Buffers buffers) {
        int cols = x.length();
        int chunks = chunks(cols);
        int totalBlocks = 0;
        for (int m = 0; m < count; m++) {
            matrices[m].sumsAt = TILE_TOKENS * totalBlocks * ROWS;
            totalBlocks += matrices[m].blocks;
        }
        int size = TILE_TOKENS * totalBlocks * ROWS;
        int[] sums = buffers.sums(size);
        boolean blockScaled = matrices[0].scales != null;
        float[] sumf = blockScaled ? buffers.floatSums(size) : null;
        int[] groupColumns = blockScaled ? TQ2_GROUP_COLUMNS : I2S_GROUP_COLUMNS;
        MemorySegment tables = buffers.tables();
        int[] acc = buffers.acc;
        int tokensPerStep = tokenEnd - tokenStart >= TILE_TOKENS ? 6 : 4;
        for (int tile = tokenStart; tile < tokenEnd; tile += TILE_TOKENS) {
            int n = Math.min(TILE_TOKENS, tokenEnd - tile);
            java.util.Arrays.fill(sums, 0, size, 0);
            if (blockScaled) {
                java.util.Arrays.fill(sumf, 0, size, 0f);
            }
            int span = blockScaled ? 1 : span(x.wide(), tile, n, cols, chunks, buffers.absSums(n * chunks));
            for (int chunk = 0; chunk < chunks; chunk += span) {
                int width = Math.min(span, chunks - chunk);
                long tokenTables = (long) width * CHUNK_BYTES;
                for (int t = 0; t < n; t++) {
                    for (int c = 0; c < width; c++) {
                        buildTables(x.wide(), (tile + t) * cols, cols, chunk + c, groupColumns, tables,
                                t * tokenTables + (long) c * CHUNK_BYTES);
                    }
                }
                for (int m = 0; m < count; m++) {
                    Matrix matrix = matrices[m];
                    int blocks = matrix.blocks;
                    for (int b = 0, blockCount; b < blocks; b += blockCount) {
                        blockCount = blocks - b >= 4 ? 4 : 1;
                        long base = chunkByte(b, chunk, chunks);
                        long stride = blockCount == 4 ? chunkByte(b + 1, chunk, chunks) - base : 0;
                        for (int t = 0, tokens; t < n; t += tokens) {
                            tokens = Math.min(n - t, n - t > 4 ? tokensPerStep : 4);
                            if (tokens > 4) {
                                sixTokens(matrix.codes, base, stride, tables, t * tokenTables, tokenTables,
                                        tokenTables, tokens, blockCount, sums,
                                        matrix.sumsAt + (t * blocks + b) * ROWS, blocks * ROWS, acc);
                            } else {
                                fourTokens(matrix.codes, base, stride, tables, t * tokenTables, tokenTables,
                                        tokenTables, tokens, blockCount, sums,
                                        matrix.sumsAt + (t * blocks + b) * ROWS, blocks * ROWS, acc);
                            }
                        }
                    }
                }
                if (blockScaled) {
                    for (int m = 0; m < count; m++) {
                        matrices[m].fold(sums, sumf, chunk, chunks, tile, n, x);
                    }
                    java.util.Arrays.fill(sums, 0, size, 0);
                }
            }
            for (int m = 0; m < count; m++) {
                if (blockScaled) {
                    matrices[m].storeFloats(sumf, tile, n, x);
                } else {
                    matrices[m].scaleInto(sums, tile, n, x.scales());
                }
            }
        }
    }

    /** Lane i of the result takes lane {@code first + i/2} of the first vector (even i) or of the second (odd i). */
    private static VectorShuffle<Float> interleave(int first) {
        return VectorShuffle.fromOp(Simd.FLOATS, i -> first + i / 2 + (i % 2) * Simd.FLOATS.length());
    }

    /** Where the sum of lane {@code lane} of a 32-row block is kept: even lanes first, then odd lanes. */
    private static int sumIndex(int lane) {
        return (lane & 1) * HALF + lane / 2;
    }

    /**
     * How many chunks the 16-bit sums of tokens {@code tile .. tile+n} may take before they are widened: 4, 2 or 1,
     * the most for which every aligned span of chunks has {@code Σ |q| ≤ 32767} for every token. A row's sum over
     * the span is at most that (|w| ≤ 1), and 16-bit additions wrap, so however the partial sums run over, the
     * final one is exact when it fits. {@code absSums} takes each token's {@code Σ |q|} per chunk.
     */
    private static int span(short[] x, int tile, int n, int cols, int chunks, int[] absSums) {
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < chunks; c++) {
                absSums[t * chunks + c] = absSum(x, (tile + t) * cols + c * CHUNK_COLUMNS,
                        Math.min(CHUNK_COLUMNS, cols - c * CHUNK_COLUMNS));
            }
        }
        for (int span = MAX_SPAN; span > 1; span /= 2) {
            if (spanFits(absSums, n, chunks, span)) {
                return span;
            }
        }
        return 1;
    }

    private static boolean spanFits(int[] absSums, int n, int chunks, int span) {
        for (int t = 0; t < n; t++) {
            for (int first = 0; first < chunks; first += span) {
                int sum = 0;
                for (int c = first; c < Math.min(chunks, first + span); c++) {
                    sum += absSums[t * chunks + c];
                }
                if (sum > Short.MAX_VALUE) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@code Σ |x[from + i]|} for i below {@code count} (a multiple of 128, at most 256): exact in 16-bit lanes. */
    private static int absSum(short[] x, int from, int count) {
        ShortVector sum = ShortVector.zero(SHORTS);
        for (int i = 0; i < count; i += SHORTS.length()) {
            sum = sum.add(ShortVector.fromArray(SHORTS, x, from + i).abs());
        }
        return sum.reduceLanes(VectorOperators.ADD) & 0xffff;
    }

    /** {@code digit_j(i) − 1} of a base-3 index i < 27, 0 for the unused entries 27..31. */
    private static short[] weights() {
        short[] w = new short[3 * ROWS];
        for (int j = 0; j < 3; j++) {
            int power = j == 0 ? 1 : j == 1 ? 3 : 9;
            for (int i = 0; i < 27; i++) {
                w[j * ROWS + i] = (short) ((i / power) % 3 - 1);
            }
        }
        return w;
    }

    /** The chunk-relative columns of each group's digits, as {@link #encodeChunk} takes them from the words. */
    private static int[] groupColumns(TernaryLookupKernel.Packing packing) {
        int[] fieldColumns = packing.fieldColumns();
        int[] columns = new int[3 * GROUPS];
        java.util.Arrays.fill(columns, -1);
        for (int g = 0; g < GROUPS; g++) {
            for (int j = 0; j < 3; j++) {
                int word;
                int field;
                if (g < 80) {
                    word = 3 * (g / 8) + j;
                    field = g % 8;
                } else {
                    int f = 3 * (g - 80) + j;
                    if (f >= 16) {
                        continue;
                    }
                    word = 30 + f / 8;
                    field = f % 8;
                }
                columns[3 * g + j] = 128 * (word / 16) + 2 * (word % 16) + fieldColumns[field];
            }
        }
        return columns;
    }

    /**
     * One matrix of a product: its encoded weights (row blocks from the first of rows {@code [rowStart, rowEnd)}),
     * the output those rows go to, and where its sums start.
     */
    static final class Matrix {
        private MemorySegment codes;
        private int blocks;
        private int rows;
        private int rowStart;
        private int rowEnd;
        private float weightScale;
        /**
         * TQ2_0 block scales as floats, {@code [chunk·blocks·32 + 32·block + sumIndex(lane)]}, the layout of
         * {@code TernaryLookupKernel.Scratch.blockScales}; null for I2_S, whose scale is {@link #weightScale}.
         */
        private float[] scales;
        private float[] out;
        private int sumsAt;

        /** An I2_S matrix: one scale per tensor. */
        void set(MemorySegment codes, int rows, int rowStart, int rowEnd, float weightScale, float[] out) {
            setRows(codes, rows, rowStart, rowEnd, out);
            this.weightScale = weightScale;
            this.scales = null;
        }

        /** A TQ2_0 (or re-encoded TQ1_0) matrix: one scale per row and 256-column block. */
        void setBlockScaled(MemorySegment codes, int rows, int rowStart, int rowEnd, float[] scales, float[] out) {
            setRows(codes, rows, rowStart, rowEnd, out);
            this.scales = scales;
        }

        private void setRows(MemorySegment codes, int rows, int rowStart, int rowEnd, float[] out) {
            this.codes = codes;
            this.rows = rows;
            this.rowStart = rowStart;
            this.rowEnd = rowEnd;
            this.out = out;
            this.blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
        }

        /**
         * {@code sumf += (float) sum · (d · d_x)} (Q8_K) or {@code · d} (per-token int8) for chunk {@code chunk}
         * (one 256-column block) of tokens {@code tile .. tile+n}, lane by lane the reference's operations.
         */
        private void fold(int[] sums, float[] sumf, int chunk, int chunks, int tile, int n, Activations x) {
            boolean perBlock = x.type() == io.bitnet4j.tensor.ActivationType.Q8_K;
            int lanes = Simd.FLOATS.length();
            int scalesAt = chunk * blocks * ROWS;
            for (int t = 0; t < n; t++) {
                float activationScale = perBlock ? x.scales()[(tile + t) * chunks + chunk] : 1f;
                int at = sumsAt + t * blocks * ROWS;
                for (int i = 0; i < blocks * ROWS; i += lanes) {
                    FloatVector d = FloatVector.fromArray(Simd.FLOATS, scales, scalesAt + i);
                    FloatVector product = ((FloatVector) IntVector.fromArray(INTS, sums, at + i)
                            .convert(VectorOperators.I2F, 0)).mul(perBlock ? d.mul(activationScale) : d);
                    FloatVector.fromArray(Simd.FLOATS, sumf, at + i).add(product).intoArray(sumf, at + i);
                }
            }
        }

        /**
         * {@code out[t·rows + r] = sumf} (Q8_K) or {@code sumf / actScale} (per-token int8), as the reference: a
         * block's even and odd rows as two vectors, interleaved into row order as in {@link #scaleInto}.
         */
        private void storeFloats(float[] sumf, int tile, int n, Activations x) {
            boolean perBlock = x.type() == io.bitnet4j.tensor.ActivationType.Q8_K;
            int count = rowEnd - rowStart;
            int whole = count & -ROWS;
            for (int t = 0; t < n; t++) {
                float actScale = perBlock ? 1f : x.scales()[tile + t];
                int from = sumsAt + t * blocks * ROWS;
                int to = (tile + t) * rows + rowStart;
                for (int r = 0; r < whole; r += ROWS) {
                    FloatVector even = FloatVector.fromArray(Simd.FLOATS, sumf, from + r);
                    FloatVector odd = FloatVector.fromArray(Simd.FLOATS, sumf, from + r + HALF);
                    if (!perBlock) {
                        even = even.div(actScale);
                        odd = odd.div(actScale);
                    }
                    even.rearrange(INTERLEAVE_LOWER, odd).intoArray(out, to + r);
                    even.rearrange(INTERLEAVE_UPPER, odd).intoArray(out, to + r + HALF);
                }
                for (int r = whole; r < count; r++) {
                    float sum = sumf[from + (r & -ROWS) + sumIndex(r % ROWS)];
                    out[to + r] = perBlock ? sum : sum / actScale;
                }
            }
        }

        /**
         * {@code out[t·rows + r] = (float) sum / actScale · weightScale}, rounded as the reference does: a block's
         * even and odd rows as two vectors, interleaved into row order (one at a time, the division made this loop
         * 6 % of a one-thread pp128).
         */
        private void scaleInto(int[] sums, int tile, int n, float[] actScales) {
            int count = rowEnd - rowStart;
            int whole = count & -ROWS;
            for (int t = 0; t < n; t++) {
                float actScale = actScales[tile + t];
                int from = sumsAt + t * blocks * ROWS;
                int to = (tile + t) * rows + rowStart;
                for (int r = 0; r < whole; r += ROWS) {
                    FloatVector even = ((FloatVector) IntVector.fromArray(INTS, sums, from + r)
                            .convert(VectorOperators.I2F, 0)).div(actScale).mul(weightScale);
                    FloatVector odd = ((FloatVector) IntVector.fromArray(INTS, sums, from + r + HALF)
                            .convert(VectorOperators.I2F, 0)).div(actScale).mul(weightScale);
                    even.rearrange(INTERLEAVE_LOWER, odd).intoArray(out, to + r);
                    even.rearrange(INTERLEAVE_UPPER, odd).intoArray(out, to + r + HALF);
                }
                for (int r = whole; r < count; r++) {
                    out[to + r] = (float) sums[from + (r & -ROWS) + sumIndex(r % ROWS)] / actScale * weightScale;
                }
            }
        }
    }

    /** Per-thread buffers, grown on demand and kept, so the steady state allocates nothing. */
    static final class Buffers {
        private final int[] acc = new int[24 * HALF];
        private int[] sums = new int[0];
        private float[] floatSums = new float[0];
        private int[] absSums = new int[0];
        /** Off-heap and on a cache-line boundary, so that no table load splits across two lines. */
        private final MemorySegment tables =
                java.lang.foreign.Arena.ofAuto().allocate((long) TILE_TOKENS * MAX_SPAN * CHUNK_BYTES, 64);

        int[] sums(int size) {
            if (sums.length < size) {
                sums = new int[size];
            }
            return sums;
        }

        int[] absSums(int size) {
            if (absSums.length < size) {
                absSums = new int[size];
            }
            return absSums;
        }

        float[] floatSums(int size) {
            if (floatSums.length < size) {
                floatSums = new float[size];
            }
            return floatSums;
        }

        MemorySegment tables() {
            return tables;
        }
    }
}
