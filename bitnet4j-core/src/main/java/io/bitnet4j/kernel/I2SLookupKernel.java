package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * I2_S times per-token int8 activations by table lookup, on 32 rows at once. A 16-bit word of I2S-128 holds eight
 * 2-bit codes of one row; in the {@link I2SFormat#I2S_128_ROWS_32} layout one 512-bit load holds that word for 32
 * consecutive rows. For each word position and token, three tables hold every possible partial sum
 * {@code Σ (c−1)·q}: bits 0-5 of the word (three columns, 64 entries), bits 6-11 (three columns, 64 entries) and
 * bits 12-15 (two columns, 16 entries). A permute ({@code selectFrom}: vpermi2w / vpermw) looks up all 32 rows
 * at once, so eight multiply-adds per row cost three permutes and three adds. Sums stay in 16-bit lanes for 128
 * columns (at most 16·8·2·127 = 32512, even for the code 3 that no file holds) and are then widened to ints.
 *
 * <p>The result is the integer {@code Σ (c−1)·q = Σ c·q − Σ q}, converted as {@link I2SFormat#dot} does, so it is
 * bit for bit the reference. Needs 512-bit vectors (a 64-entry table of 16-bit values is two of them).
 *
 * <p>One token (generation) reads the repacked layout straight from memory. Several tokens (prompt processing)
 * take the tokens in tiles of {@value #TILE_TOKENS}: each 128-column chunk builds the tiles' tables once and runs
 * every row block of the thread over them. Weights in the file's layout are first transposed into the repacked
 * layout in per-thread scratch memory, which pays for itself from {@value #MIN_TOKENS_FROM_FILE_LAYOUT} tokens on.
 */
final class I2SLookupKernel implements MatMulKernel {
    static final I2SLookupKernel INSTANCE = new I2SLookupKernel();
    /** Whether this machine runs the kernel: it needs 32 16-bit lanes. */
    static final boolean SUPPORTED = Simd.BITS == 512;
    /** Tokens from which transposing the file's layout on the fly beats {@link I2SKernel}'s prompt path. */
    static final int MIN_TOKENS_FROM_FILE_LAYOUT = 8;

    private static final int ROWS = I2SFormat.INTERLEAVED_ROWS;
    private static final int WORD_BYTES = 2 * ROWS;
    /** Shorts of the three tables of one word position: 64 + 64 + 32 (16 used). */
    private static final int TABLE = 160;
    /** Words (eight columns each) per 16-bit accumulation: 128 columns. */
    private static final int CHUNK_WORDS = 16;
    private static final int TILE_TOKENS = 16;
    /** A word of codes 1 (weight 0) for the padding rows of a partial block. */
    private static final short ZERO_WEIGHTS = 0x5555;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** {@code digit(i, f) − 1} for table index i in 0..63 and field f (bits 2f+1..2f): three rows of 64. */
    private static final short[] DIGITS = digits();

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private I2SLookupKernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        if (x.tokens() == 1) {
            multiplyOneToken(w.tensor().data(), w, x, out, rowStart, rowEnd, s);
        } else {
            multiplyTokens(w.tensor().data(), rowStart / ROWS, w, x, out, rowStart, rowEnd, s);
        }
    }

    /** Several tokens with weights in the file's I2S-128 layout: transposed into scratch, then looked up. */
    static void multiplyFileLayout(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        MemorySegment repacked = s.transpose(w.tensor().data(), w.cols(), rowStart, rowEnd);
        multiplyTokens(repacked, 0, w, x, out, rowStart, rowEnd, s);
    }

    @Override
    public int rowGrain() {
        return ROWS;
    }

    @Override
    public String describe() {
        return "I2_S lookup, 32 rows";
    }

    /**
     * One token: four row blocks at a time, one from each quarter of the thread's blocks (four straight streams
     * for the hardware prefetcher, sharing each table load), then the blocks left over one at a time.
     */
    private static void multiplyOneToken(MemorySegment data, WeightMatrix w, Activations x, float[] out,
                                         int rowStart, int rowEnd, Scratch s) {
        int words = w.cols() / 8;
        short[] tables = s.tables(words);
        buildTables(x.wide(), 0, 0, words, tables, 0);
        float actScale = x.scales()[0];
        float weightScale = I2SFormat.scale(w.tensor());
        int[] sums = s.sums(4 * ROWS);
        int firstBlock = rowStart / ROWS;
        int quarter = (rowEnd - rowStart) / ROWS / 4;
        for (int i = 0; i < quarter; i++) {
            int block = firstBlock + i;
            fourBlocks(data, words, block, quarter, 0, words, tables, 0, sums);
            for (int j = 0; j < 4; j++) {
                scaleInto(sums, j * ROWS, ROWS, actScale, weightScale, out, (block + j * quarter) * ROWS);
            }
        }
        for (int block = firstBlock + 4 * quarter; block < rowEnd / ROWS; block++) {
            fourBlocks(data, words, block, 0, 0, words, tables, 0, sums);
            scaleInto(sums, 0, ROWS, actScale, weightScale, out, block * ROWS);
        }
    }

    /**
     * The sums over words {@code [firstWord, endWord)} (whose tables start at {@code tables[tableOffset]}) of row
     * blocks {@code block + i·blockStride} for i = 0..3 into {@code sums[32i ..]}, in
     * {@linkplain #sumIndex lane-pair order} (with a stride of 0, one block four times). The 16-bit sums are
     * widened by reading lane pairs as ints, as {@link TernaryLanes#sum} does. Every vector stays inside this method: C2 inlines no further here, and a vector passed
     * to or returned from a call that is not inlined is allocated on the heap.
     */
    private static void fourBlocks(MemorySegment data, int words, int block, int blockStride, int firstWord,
                                   int endWord, short[] tables, int tableOffset, int[] sums) {
        long base = (long) block * words * WORD_BYTES;
        long stride = (long) blockStride * words * WORD_BYTES;
        IntVector even0 = IntVector.zero(INTS);
        IntVector odd0 = even0;
        IntVector even1 = even0;
        IntVector odd1 = even0;
        IntVector even2 = even0;
        IntVector odd2 = even0;
        IntVector even3 = even0;
        IntVector odd3 = even0;
        for (int chunk = firstWord; chunk < endWord; chunk += CHUNK_WORDS) {
            ShortVector acc0 = ShortVector.zero(SHORTS);
            ShortVector acc1 = acc0;
            ShortVector acc2 = acc0;
            ShortVector acc3 = acc0;
            for (int word = chunk; word < chunk + CHUNK_WORDS; word++) {
                int t = tableOffset + (word - firstWord) * TABLE;
                ShortVector low = ShortVector.fromArray(SHORTS, tables, t);
                ShortVector lowUpper = ShortVector.fromArray(SHORTS, tables, t + 32);
                ShortVector middle = ShortVector.fromArray(SHORTS, tables, t + 64);
                ShortVector middleUpper = ShortVector.fromArray(SHORTS, tables, t + 96);
                ShortVector top = ShortVector.fromArray(SHORTS, tables, t + 128);
                long at = base + (long) word * WORD_BYTES;
                ShortVector c0 = ShortVector.fromMemorySegment(SHORTS, data, at, LE);
                ShortVector c1 = ShortVector.fromMemorySegment(SHORTS, data, at + stride, LE);
                ShortVector c2 = ShortVector.fromMemorySegment(SHORTS, data, at + 2 * stride, LE);
                ShortVector c3 = ShortVector.fromMemorySegment(SHORTS, data, at + 3 * stride, LE);
                acc0 = acc0.add(c0.selectFrom(low, lowUpper)
                        .add(c0.lanewise(VectorOperators.LSHR, 6).selectFrom(middle, middleUpper))
                        .add(c0.lanewise(VectorOperators.LSHR, 12).selectFrom(top)));
                acc1 = acc1.add(c1.selectFrom(low, lowUpper)
                        .add(c1.lanewise(VectorOperators.LSHR, 6).selectFrom(middle, middleUpper))
                        .add(c1.lanewise(VectorOperators.LSHR, 12).selectFrom(top)));
                acc2 = acc2.add(c2.selectFrom(low, lowUpper)
                        .add(c2.lanewise(VectorOperators.LSHR, 6).selectFrom(middle, middleUpper))
                        .add(c2.lanewise(VectorOperators.LSHR, 12).selectFrom(top)));
                acc3 = acc3.add(c3.selectFrom(low, lowUpper)
                        .add(c3.lanewise(VectorOperators.LSHR, 6).selectFrom(middle, middleUpper))
                        .add(c3.lanewise(VectorOperators.LSHR, 12).selectFrom(top)));
            }
            IntVector pairs0 = (IntVector) acc0.reinterpretShape(INTS, 0);
            even0 = even0.add(pairs0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            odd0 = odd0.add(pairs0.lanewise(VectorOperators.ASHR, 16));
            IntVector pairs1 = (IntVector) acc1.reinterpretShape(INTS, 0);
            even1 = even1.add(pairs1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            odd1 = odd1.add(pairs1.lanewise(VectorOperators.ASHR, 16));
            IntVector pairs2 = (IntVector) acc2.reinterpretShape(INTS, 0);
            even2 = even2.add(pairs2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            odd2 = odd2.add(pairs2.lanewise(VectorOperators.ASHR, 16));
            IntVector pairs3 = (IntVector) acc3.reinterpretShape(INTS, 0);
            even3 = even3.add(pairs3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            odd3 = odd3.add(pairs3.lanewise(VectorOperators.ASHR, 16));
        }
        int half = INTS.length();
        even0.intoArray(sums, 0);
        odd0.intoArray(sums, half);
        even1.intoArray(sums, ROWS);
        odd1.intoArray(sums, ROWS + half);
        even2.intoArray(sums, 2 * ROWS);
        odd2.intoArray(sums, 2 * ROWS + half);
        even3.intoArray(sums, 3 * ROWS);
        odd3.intoArray(sums, 3 * ROWS + half);
    }

    /** Where the sum of lane {@code lane} of a 32-row block is kept: even lanes first, then odd lanes. */
    private static int sumIndex(int lane) {
        return (lane & 1) * (ROWS / 2) + lane / 2;
    }

    /**
     * {@code out[firstRow + lane] = (float) sum / actScale · weightScale} for the first {@code count} lanes of the
     * block whose sums start at {@code sums[from]}, rounded as the reference does.
     */
    private static void scaleInto(int[] sums, int from, int count, float actScale, float weightScale, float[] out,
                                  int firstRow) {
        for (int lane = 0; lane < count; lane++) {
            out[firstRow + lane] = (float) sums[from + sumIndex(lane)] / actScale * weightScale;
        }
    }

    /**
     * Several tokens: rows {@code [rowStart, rowEnd)}, whose interleaved words start at block {@code firstBlock}
     * of {@code data}, for every token of {@code x}. Tokens go in tiles of {@value #TILE_TOKENS}; for each
     * 128-column chunk the tile's tables are built once, and each group of four row blocks runs over them token
     * after token, its codes staying in the L1 cache.
     */
    private static void multiplyTokens(MemorySegment data, int firstBlock, WeightMatrix w, Activations x,
                                       float[] out, int rowStart, int rowEnd, Scratch s) {
        int k = w.cols();
        int rows = w.rows();
        int words = k / 8;
        int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
        short[] tables = s.tables(TILE_TOKENS * CHUNK_WORDS);
        int[] sums = s.sums(TILE_TOKENS * blocks * ROWS);
        int[] blockSums = s.blockSums;
        float weightScale = I2SFormat.scale(w.tensor());
        for (int tile = 0; tile < x.tokens(); tile += TILE_TOKENS) {
            int n = Math.min(TILE_TOKENS, x.tokens() - tile);
            java.util.Arrays.fill(sums, 0, n * blocks * ROWS, 0);
            for (int chunk = 0; chunk < words; chunk += CHUNK_WORDS) {
                for (int t = 0; t < n; t++) {
                    buildTables(x.wide(), (tile + t) * k, chunk, CHUNK_WORDS, tables, t * CHUNK_WORDS * TABLE);
                }
                for (int b = 0; b < blocks; b += 4) {
                    int count = Math.min(4, blocks - b);
                    for (int t = 0; t < n; t++) {
                        fourBlocks(data, words, firstBlock + b, count == 4 ? 1 : 0, chunk, chunk + CHUNK_WORDS,
                                tables, t * CHUNK_WORDS * TABLE, blockSums);
                        addBlockSums(blockSums, count == 4 ? 4 : 1, sums, (t * blocks + b) * ROWS);
                    }
                    for (int extra = 1; count < 4 && extra < count; extra++) {
                        for (int t = 0; t < n; t++) {
                            fourBlocks(data, words, firstBlock + b + extra, 0, chunk, chunk + CHUNK_WORDS, tables,
                                    t * CHUNK_WORDS * TABLE, blockSums);
                            addBlockSums(blockSums, 1, sums, (t * blocks + b + extra) * ROWS);
                        }
                    }
                }
            }
            for (int t = 0; t < n; t++) {
                float actScale = x.scales()[tile + t];
                for (int b = 0; b < blocks; b++) {
                    int first = rowStart + b * ROWS;
                    scaleInto(sums, (t * blocks + b) * ROWS, Math.min(ROWS, rowEnd - first), actScale, weightScale,
                            out, (tile + t) * rows + first);
                }
            }
        }
    }

    /** {@code sums[at + i] += blockSums[i]} for the sums of {@code blocks} row blocks. */
    private static void addBlockSums(int[] blockSums, int blocks, int[] sums, int at) {
        for (int i = 0; i < blocks * ROWS; i += INTS.length()) {
            IntVector.fromArray(INTS, sums, at + i).add(IntVector.fromArray(INTS, blockSums, i))
                    .intoArray(sums, at + i);
        }
    }

    /**
     * The tables of {@code count} word positions from {@code firstWord} for the token whose 16-bit activations
     * start at {@code x[xOffset]}, at {@code tables[tableOffset ..]} ({@value #TABLE} shorts per word). Word m of a
     * row holds bytes 2m and 2m+1; byte j of 128-column block b holds columns 128b + j, +32, +64, +96 in bits
     * 7-6, 5-4, 3-2, 1-0.
     */
    static void buildTables(short[] x, int xOffset, int firstWord, int count, short[] tables, int tableOffset) {
        ShortVector d0Low = ShortVector.fromArray(SHORTS, DIGITS, 0);
        ShortVector d0High = ShortVector.fromArray(SHORTS, DIGITS, 32);
        ShortVector d1Low = ShortVector.fromArray(SHORTS, DIGITS, 64);
        ShortVector d1High = ShortVector.fromArray(SHORTS, DIGITS, 96);
        ShortVector d2Low = ShortVector.fromArray(SHORTS, DIGITS, 128);
        ShortVector d2High = ShortVector.fromArray(SHORTS, DIGITS, 160);
        for (int i = 0; i < count; i++) {
            int word = firstWord + i;
            int c = xOffset + (word / 16) * 128 + 2 * (word % 16);
            short a0 = x[c + 96];
            short a1 = x[c + 64];
            short a2 = x[c + 32];
            short b0 = x[c];
            short b1 = x[c + 97];
            short b2 = x[c + 65];
            int t = tableOffset + i * TABLE;
            d0Low.mul(a0).add(d1Low.mul(a1)).add(d2Low.mul(a2)).intoArray(tables, t);
            d0High.mul(a0).add(d1High.mul(a1)).add(d2High.mul(a2)).intoArray(tables, t + 32);
            d0Low.mul(b0).add(d1Low.mul(b1)).add(d2Low.mul(b2)).intoArray(tables, t + 64);
            d0High.mul(b0).add(d1High.mul(b1)).add(d2High.mul(b2)).intoArray(tables, t + 96);
            d0Low.mul(x[c + 33]).add(d1Low.mul(x[c + 1])).intoArray(tables, t + 128);
        }
    }

    private static short[] digits() {
        short[] d = new short[3 * 64];
        for (int f = 0; f < 3; f++) {
            for (int i = 0; i < 64; i++) {
                d[f * 64 + i] = (short) (((i >> (2 * f)) & 3) - 1);
            }
        }
        return d;
    }

    /** Per-thread buffers, grown on demand and kept, so the steady state allocates nothing. */
    private static final class Scratch {
        private short[] tables = new short[0];
        private int[] sums = new int[0];
        private final int[] blockSums = new int[4 * ROWS];
        private short[] repacked = new short[0];
        private MemorySegment repackedSegment = MemorySegment.ofArray(repacked);

        short[] tables(int words) {
            if (tables.length < words * TABLE) {
                tables = new short[words * TABLE];
            }
            return tables;
        }

        int[] sums(int size) {
            if (sums.length < size) {
                sums = new int[size];
            }
            return sums;
        }

        /**
         * Rows {@code [rowStart, rowEnd)} of an I2S-128 tensor in the interleaved layout, the last block padded
         * with zero weights.
         */
        MemorySegment transpose(MemorySegment data, int k, int rowStart, int rowEnd) {
            int words = k / 8;
            int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
            int size = blocks * words * ROWS;
            if (repacked.length < size) {
                repacked = new short[size];
                repackedSegment = MemorySegment.ofArray(repacked);
            }
            for (int r = rowStart; r < rowStart + blocks * ROWS; r++) {
                int local = r - rowStart;
                int blockBase = (local / ROWS) * words * ROWS + local % ROWS;
                if (r < rowEnd) {
                    long rowOffset = (long) r * words * 2;
                    for (int m = 0; m < words; m++) {
                        repacked[blockBase + m * ROWS] = data.get(Layouts.SHORT, rowOffset + 2L * m);
                    }
                } else {
                    for (int m = 0; m < words; m++) {
                        repacked[blockBase + m * ROWS] = ZERO_WEIGHTS;
                    }
                }
            }
            return repackedSegment;
        }
    }
}
