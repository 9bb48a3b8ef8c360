package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.TQ2_0Format;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Ternary weights (I2_S, TQ2_0; TQ1_0 re-encoded) times int8 activations by table lookup, on 32 rows at once. A
 * 16-bit word of either packing holds eight 2-bit codes of one row ({@link Packing} says which columns); in the
 * {@link I2SFormat#I2S_128_ROWS_32} layout one 512-bit load holds that word for 32 consecutive rows. For each word
 * position and token, three tables hold every possible partial sum {@code Σ (c−1)·q}: bits 0-5 of the word (three
 * columns, 64 entries), bits 6-11 (three columns, 64 entries) and bits 12-15 (two columns, 16 entries). A permute
 * ({@code selectFrom}: vpermi2w / vpermw) looks up all 32 rows at once, so eight multiply-adds per row cost three
 * permutes and three adds. Sums stay in 16-bit lanes for 128 columns (at most 16·8·2·127 = 32512, even for the
 * code 3, a weight of 2, that no file holds) and are then widened to ints; for 256 columns where the prompt path has
 * just transposed the weights and seen no code 3 (32·8·127 = 32512: both activation types lie in [−127, 127]).
 *
 * <p>For I2_S the result is the integer {@code Σ (c−1)·q = Σ c·q − Σ q} of the row, converted as
 * {@link I2SFormat#dot} does; for TQ2_0 it is one such integer per 256-column block, combined with the block scales
 * in block order as {@code TernaryBlockFormat.dot} does. Either way it is bit for bit the reference. Needs 512-bit
 * vectors (a 64-entry table of 16-bit values is two of them).
 *
 * <p>One token (generation) reads the repacked layout straight from memory, one pass of {@value I2SFormat#PASS_WORDS}
 * word positions after another, so that the pass's tables stay in the L1 cache. Several tokens (prompt processing) take
 * the tokens in tiles of {@value #TILE_TOKENS}: each chunk of 128 or 256 columns builds the tiles' tables once and
 * runs every row block of the thread over them, two tokens per load of the codes, and over the row blocks of the
 * other matrices that take the same input where {@link MatMul} passes them together (q, k and v). Weights in the
 * file's layout are first transposed into per-thread scratch memory (one pass per row), which pays for itself from
 * {@value #MIN_TOKENS_FROM_FILE_LAYOUT} tokens on; generation from the file's layout stays on {@link I2SKernel},
 * {@link TQ2Kernel} and {@link TQ1Kernel}. TQ1_0 prompts go as TQ2_0: each 32 rows are re-encoded into 2-bit codes
 * (the same codes and scales) just before they are transposed. With at least that many tokens per thread,
 * {@link MatMul} splits the tokens instead of the rows ({@link TokenSplitKernel}), so that each token's tables are
 * built on one thread only; weights in a file's layout are then transposed once into a copy all threads share.
 *
 * <p>Where the CPU has byte permutes ({@link Base3LookupKernel#SUPPORTED}), prompts take {@link Base3LookupKernel}
 * instead: weights in a file's layout (and those repacked by {@code --repack}) are encoded per product from the same
 * transposed tiles into its base-3 layout, three columns per 16 bits, and looked up three columns per permute. Rows
 * that hold a code 3 (file's layout) stay on this kernel's 128-column path.
 */
final class TernaryLookupKernel implements TokenSplitKernel {
    /** For repacked weights whose codes are all 0, 1 or 2: 256-column chunks for prompts. */
    private static final TernaryLookupKernel WEIGHTS_UP_TO_ONE = new TernaryLookupKernel(32);
    /** For repacked weights with a code 3 (a weight of 2): 128-column chunks, one token at a time. */
    private static final TernaryLookupKernel WEIGHTS_UP_TO_TWO = new TernaryLookupKernel(16);
    /** Whether this machine runs the kernel: it needs 32 16-bit lanes. */
    static final boolean SUPPORTED = Simd.BITS == 512;
    /**
     * Rows per share of a thread: four row blocks, so that every thread's blocks go four at a time (a group of
     * fewer computes its blocks one by one, at the cost of four).
     */
    static final int ROW_GRAIN = 4 * I2SFormat.INTERLEAVED_ROWS;
    /**
     * The most rows of matrices that share their tables ({@link MatMul#multiply(WeightMatrix[], float[][], int,
     * Activations)}): each chunk of columns runs every row block of all of them, so their codes of one chunk and
     * their sums (2 KB + 512 bytes per row block) should stay in a core's L2 cache (1 MB here). q, k and v of the
     * 2B model (3,840 rows) together: pp128 on one thread 98.3-101.6 against 93.0-98.9 tok/s (four alternating
     * pairs), on two 173-195 against 176-181 (six pairs); gate and up (13,824 rows) together as well: 93.5-96.5
     * against 97.3-100.5 on one thread.
     */
    static final int MAX_SHARED_ROWS = 4096;
    /** Tokens from which transposing the file's layout on the fly beats {@link I2SKernel}'s prompt path. */
    static final int MIN_TOKENS_FROM_FILE_LAYOUT = 8;

    private static final int ROWS = I2SFormat.INTERLEAVED_ROWS;
    private static final int WORD_BYTES = 2 * ROWS;
    /** Shorts of the three tables of one word position: 64 + 64 + 32 (16 used). */
    private static final int TABLE = 160;
    /** Words (eight columns each) per 16-bit accumulation: 128 columns, whatever the codes. */
    private static final int CHUNK_WORDS = 16;
    /**
     * Words per 16-bit accumulation when no weight is 2: 256 columns. Twice as many words per call of the two-token
     * kernel halve its widening and loop set-up per word: pp128 on the 2B I2_S file 85-90 -> 92-94 tok/s on one
     * thread (three alternating pairs of processes), TQ2_0 78-80 -> 84, `--repack` 84-87 -> 93-94. That kernel's loop
     * runs exactly this many times: with the count as a parameter (16 or 32) C2 compiled it slower than the 16-word
     * kernel before (82-85 tok/s).
     */
    private static final int WIDE_CHUNK_WORDS = 32;
    /**
     * Tokens whose tables are built together: four tokens' tables of a chunk (20 KB, 40 KB for 256 columns) stay
     * in the L1 cache while every row block runs over them, two tokens at a time. Measured against 16 (JMH, 64
     * tokens, 6912x2560, 128-column chunks): 4-6 took 4.3-4.6 ms, 8 4.8 ms, 16 5.0-5.5 ms; prompts of 128 tokens
     * +2-5 % (I2_S, TQ2_0). With 256-column chunks, tiles of 2 measured the same (pp128 92-94 against 91-92 tok/s
     * on one thread).
     */
    private static final int TILE_TOKENS = 4;
    /** A word of codes 1 (weight 0) for the padding rows of a partial block. */
    private static final short ZERO_WEIGHTS = 0x5555;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * The transpose reads the weights (mapped from the file) as longs: reading them with ShortVector, whose loads
     * in {@link #fourBlocks} only ever see the scratch copy, made those loads slower by a fifth.
     */
    private static final jdk.incubator.vector.VectorSpecies<Long> LONGS = LongVector.SPECIES_512;
    /** 16 halves, widened to one float vector. */
    private static final jdk.incubator.vector.VectorSpecies<Short> HALF_SHORTS = ShortVector.SPECIES_256;
    /** {@code digit(i, f) − 1} for table index i in 0..31 and field f (bits 2f+1..2f): three rows of 32. */
    private static final short[] DIGITS = digits();
    /** The rounds of {@link #transposeTile} that move pairs of words: two rows of int indexes per round. */
    private static final int[] PAIR_SWAP_INDEXES = pairSwapIndexes();
    /** Int lanes of a vector: a row's words in pairs. */
    private static final int PAIRS = ROWS / 2;
    /** Two words of codes 1 (weight 0) for the padding rows of a partial block. */
    private static final int ZERO_WEIGHT_PAIRS = ZERO_WEIGHTS << 16 | ZERO_WEIGHTS;
    /**
     * Two-vector indexes that put a block's sums, kept {@linkplain #sumIndex even lanes first, then odd}, back in
     * row order: 0, 16, 1, 17, ... 15, 31.
     */
    private static final float[] INTERLEAVE = interleave();

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Where a format keeps its 16-bit words: {@code wordsPerBlock} words at the start of each block of
     * {@code blockBytes} bytes, and the column (relative to 128·(m/16) + 2·(m%16) for word m) of each of the eight
     * bit pairs, lowest first.
     */
    record Packing(int wordsPerBlock, int blockBytes, int[] fieldColumns) {
        /** Byte j of a 128-column block: columns j, j+32, j+64, j+96 from the top bit pair down. */
        static final Packing I2S = new Packing(16, 32, new int[] {96, 64, 32, 0, 97, 65, 33, 1});
        /** Byte 32h+j of a 256-column block: columns 128h + j, +32, +64, +96 from the lowest bit pair up. */
        static final Packing TQ2 = new Packing(32, 66, new int[] {0, 32, 64, 96, 1, 33, 65, 97});

        /** Byte offset of word m inside a row. */
        long wordByte(int m) {
            return (long) (m / wordsPerBlock) * blockBytes + 2L * (m % wordsPerBlock);
        }
    }

    /** Words per 16-bit accumulation of a prompt over repacked weights. */
    private final int chunkWords;

    private TernaryLookupKernel(int chunkWords) {
        this.chunkWords = chunkWords;
    }

    /**
     * The kernel for {@code w} in a repacked layout ({@link I2SFormat#I2S_128_ROWS_32}, {@link TQ2_0Format#ROWS_32},
     * both with every code in the first rows·cols/4 bytes): its codes are read once, for a code 3.
     */
    static TernaryLookupKernel forRepacked(WeightMatrix w) {
        MemorySegment data = w.tensor().data();
        long bytes = (long) w.rows() * w.cols() / 4;
        long threes = 0;
        for (long i = 0; i < bytes; i += 8) {
            long codes = data.get(Layouts.LONG, i);
            threes |= codes & (codes >>> 1);
        }
        return (threes & 0x5555555555555555L) == 0 ? WEIGHTS_UP_TO_ONE : WEIGHTS_UP_TO_TWO;
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        if (promptsByBase3() && x.tokens() >= MIN_TOKENS_FROM_FILE_LAYOUT) {
            int blocks = blocks(rowEnd - rowStart);
            MemorySegment codes = s.base3Codes(Base3LookupKernel.encodedBytes(rowEnd - rowStart, w.cols()));
            float[] scales = blockScaled(w) ? s.scales(w.cols() / 256 * blocks * ROWS) : null;
            s.encodeBase3(w, rowStart, rowEnd, codes, 0, scales, blocks);
            s.multiplyBase3(codes, scales, w, out, rowStart, rowEnd, x);
        } else if (w.format() == TQ2_0Format.ROWS_32 && x.tokens() == 1) {
            multiplyTQ2OneToken(w, x, out, rowStart, rowEnd, s);
        } else if (x.tokens() == 1) {
            multiplyOneToken(w.tensor().data(), w, x, out, rowStart, rowEnd, s);
        } else {
            s.targets[0].set(w.tensor().data(), rowStart / ROWS, I2SFormat.PASS_WORDS, w, out, rowStart, rowEnd,
                    null);
            multiplyTargets(1, x, 0, x.tokens(), chunkWords, s);
        }
    }

    @Override
    public boolean splitsTokens(WeightMatrix w, Activations x, int threads) {
        return splitsTokens(x, threads);
    }

    @Override
    public void reserve(WeightMatrix w, SharedWeights shared) {
        if (promptsByBase3()) {
            reserveBase3(w, shared);
        }
    }

    @Override
    public void prepareRows(WeightMatrix w, SharedWeights shared, int rowStart, int rowEnd) {
        if (promptsByBase3()) {
            SCRATCH.get().encodeBase3(w, rowStart, rowEnd, shared.codes(), rowStart / ROWS, shared.scales(),
                    blocks(w.rows()));
        }
    }

    @Override
    public void multiplyTokens(WeightMatrix[] ws, float[][] outs, SharedWeights[] shared, int count, Activations x,
                               int tokenStart, int tokenEnd) {
        Scratch s = SCRATCH.get();
        if (promptsByBase3()) {
            s.multiplyBase3(ws, outs, shared, count, x, tokenStart, tokenEnd);
            return;
        }
        for (int m = 0; m < count; m++) {
            s.targets[m].set(ws[m].tensor().data(), 0, I2SFormat.PASS_WORDS, ws[m], outs[m], 0, ws[m].rows(), null);
        }
        multiplyTargets(count, x, tokenStart, tokenEnd, chunkWords, s);
    }

    /** Whether prompts times this instance's repacked weights (every weight up to 1) go by the base-3 kernel. */
    private boolean promptsByBase3() {
        return Base3LookupKernel.SUPPORTED && this == WEIGHTS_UP_TO_ONE;
    }

    /**
     * Whether a product of the tokens of {@code x} on {@code threads} threads goes by tokens: when every thread gets
     * at least {@value #MIN_TOKENS_FROM_FILE_LAYOUT} tokens (fewer would read all the weights on every thread for
     * little work).
     */
    static boolean splitsTokens(Activations x, int threads) {
        return SUPPORTED && x.tokens() >= MIN_TOKENS_FROM_FILE_LAYOUT * threads;
    }

    /**
     * Room in {@code shared} for the transposed (or base-3 encoded) codes, and the block scales, of a matrix in a
     * file's layout.
     */
    static void reserveFileLayout(WeightMatrix w, SharedWeights shared) {
        if (Base3LookupKernel.SUPPORTED) {
            reserveBase3(w, shared);
            return;
        }
        int blocks = (w.rows() + ROWS - 1) / ROWS;
        shared.reserve((long) blocks * (w.cols() / 8) * WORD_BYTES,
                blockScaled(w) ? w.cols() / 256 * blocks * ROWS : 0);
    }

    /** Room in {@code shared} for the base-3 codes of every row of {@code w} and, for TQ2_0 and TQ1_0, its scales. */
    private static void reserveBase3(WeightMatrix w, SharedWeights shared) {
        shared.reserve(Base3LookupKernel.encodedBytes(w.rows(), w.cols()),
                blockScaled(w) ? w.cols() / 256 * blocks(w.rows()) * ROWS : 0);
    }

    /** Row blocks of 32 that hold {@code rows} rows. */
    private static int blocks(int rows) {
        return (rows + ROWS - 1) / ROWS;
    }

    /** Whether {@code w} has a scale per 256-column block (TQ2_0, TQ1_0) rather than one per tensor (I2_S). */
    private static boolean blockScaled(WeightMatrix w) {
        io.bitnet4j.gguf.GgmlType type = w.tensor().type();
        return type == io.bitnet4j.gguf.GgmlType.TQ2_0 || type == io.bitnet4j.gguf.GgmlType.TQ1_0;
    }

    /**
     * Rows {@code [rowStart, rowEnd)} of a matrix in a file's layout (I2S-128, TQ2_0 or TQ1_0) encoded for
     * {@link Base3LookupKernel} where it runs, else transposed into
     * {@code shared}, block after block (and the block scales as floats), for {@link #multiplyFileLayoutTokens}.
     */
    static void prepareFileLayout(WeightMatrix w, SharedWeights shared, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        MemorySegment data = w.tensor().data();
        int words = w.cols() / 8;
        int totalBlocks = (w.rows() + ROWS - 1) / ROWS;
        if (Base3LookupKernel.SUPPORTED) {
            if (s.encodeBase3(w, rowStart, rowEnd, shared.codes(), rowStart / ROWS, shared.scales(), totalBlocks)) {
                shared.markWeightTwo();
            }
            return;
        }
        if (w.tensor().type() == io.bitnet4j.gguf.GgmlType.TQ1_0) {
            s.transposeTQ1(data, w.cols(), rowStart, rowEnd, shared.codes(), rowStart / ROWS, shared.scales(),
                    totalBlocks);
        } else if (w.tensor().type() == io.bitnet4j.gguf.GgmlType.TQ2_0) {
            int blockBytes = Packing.TQ2.blockBytes();
            long rowBytes = (long) w.cols() / 256 * blockBytes;
            s.transpose(data, Packing.TQ2, rowBytes, words, rowStart, rowEnd, shared.codes(), rowStart / ROWS);
            s.blockScales(data, 2L * Packing.TQ2.wordsPerBlock(), ROWS * rowBytes, rowBytes, blockBytes,
                    w.cols() / 256, rowStart, rowEnd, shared.scales(), totalBlocks, rowStart / ROWS);
        } else {
            s.transpose(data, Packing.I2S, w.cols() / 4, words, rowStart, rowEnd, shared.codes(), rowStart / ROWS);
        }
        if (s.sawWeightTwo) {
            shared.markWeightTwo();
        }
    }

    /**
     * Tokens {@code [tokenStart, tokenEnd)} times every row of the matrices {@code ws[0 .. count)}, which take the
     * same input and which {@link #prepareFileLayout} transposed into {@code shared[i]}: the tables of each chunk of
     * columns are built once for all of them.
     */
    static void multiplyFileLayoutTokens(WeightMatrix[] ws, float[][] outs, SharedWeights[] shared, int count,
                                         Activations x, int tokenStart, int tokenEnd) {
        Scratch s = SCRATCH.get();
        if (Base3LookupKernel.SUPPORTED) {
            s.multiplyBase3(ws, outs, shared, count, x, tokenStart, tokenEnd);
            return;
        }
        boolean sawWeightTwo = false;
        for (int m = 0; m < count; m++) {
            WeightMatrix w = ws[m];
            s.targets[m].set(shared[m].codes(), 0, w.cols() / 8, w, outs[m], 0, w.rows(),
                    blockScaled(w) ? shared[m].scales() : null);
            sawWeightTwo |= shared[m].sawWeightTwo();
        }
        multiplyTargets(count, x, tokenStart, tokenEnd, sawWeightTwo ? CHUNK_WORDS : WIDE_CHUNK_WORDS, s);
    }

    /** Several tokens with weights in the file's I2S-128 layout: transposed into scratch, then looked up. */
    static void multiplyI2SFileLayout(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        if (s.multiplyBase3FileLayout(w, x, out, rowStart, rowEnd)) {
            return;
        }
        MemorySegment repacked = s.transpose(w.tensor().data(), Packing.I2S, w.cols() / 4, w.cols() / 8, rowStart,
                rowEnd);
        s.targets[0].set(repacked, 0, w.cols() / 8, w, out, rowStart, rowEnd, null);
        multiplyTargets(1, x, 0, x.tokens(), s.chunkWords(), s);
    }

    @Override
    public int rowGrain() {
        return ROW_GRAIN;
    }

    @Override
    public String describe() {
        return "ternary lookup, 32 rows";
    }

    /**
     * One token: the token's tables are built once for the whole row, then the thread's row blocks go pass by pass
     * ({@link I2SFormat#interleavedWord}), four at a time, one from each quarter of the thread's blocks (four
     * straight streams for the hardware prefetcher, sharing each table load), then the blocks left over one at a
     * time. The int sums of the passes are added up per row and converted at the end.
     */
    private static void multiplyOneToken(MemorySegment data, WeightMatrix w, Activations x, float[] out,
                                         int rowStart, int rowEnd, Scratch s) {
        int words = w.cols() / 8;
        MemorySegment tables = s.tokenTables(x, Packing.I2S, words);
        float actScale = x.scales()[0];
        float weightScale = I2SFormat.scale(w.tensor());
        int firstBlock = rowStart / ROWS;
        int blocks = rowEnd / ROWS - firstBlock;
        int quarter = blocks / 4;
        int[] sums = s.sums(blocks * ROWS);
        java.util.Arrays.fill(sums, 0, blocks * ROWS, 0);
        for (int first = 0; first < words; first += I2SFormat.PASS_WORDS) {
            int end = Math.min(words, first + I2SFormat.PASS_WORDS);
            long pass = wordByte(firstBlock, first, words, w.rows(), I2SFormat.PASS_WORDS);
            long blockBytes = (long) (end - first) * WORD_BYTES;
            for (int i = 0; i < quarter; i++) {
                fourBlocks(data, pass + i * blockBytes, quarter * blockBytes, first, end, tables, first * TABLE,
                        sums, i * ROWS, quarter * ROWS, true);
            }
            for (int block = 4 * quarter; block < blocks; block++) {
                fourBlocks(data, pass + block * blockBytes, 0, first, end, tables, first * TABLE, sums,
                        block * ROWS, 0, true);
            }
        }
        for (int block = 0; block < blocks; block++) {
            scaleInto(sums, block * ROWS, ROWS, actScale, weightScale, out, (firstBlock + block) * ROWS);
        }
    }

    /** Byte offset of word {@code word} of the first row of row block {@code block} in an interleaved layout. */
    private static long wordByte(int block, int word, int words, long rows, int passWords) {
        return 2 * I2SFormat.interleavedWord((long) block * ROWS, word, words, rows, passWords);
    }

    /**
     * The sums over words {@code [firstWord, endWord)} (whose tables start at {@code tables[tableOffset]}, and which
     * lie in one pass of the layout) of the four row blocks whose words {@code firstWord} are at bytes
     * {@code base + i·stride} for i = 0..3, stored into (or, with {@code add}, added to) {@code sums[at +
     * i·sumsStride ..]} in {@linkplain #sumIndex lane-pair order}; with a stride of 0, the one block at {@code base}
     * into {@code sums[at ..]}. The 16-bit sums are widened by reading lane pairs as ints, as
     * {@link TernaryLanes#sum} does. Every vector stays inside this
     * method: C2 inlines no further here, and a vector passed to or returned from a call that is not inlined is
     * allocated on the heap.
     */
    private static void fourBlocks(MemorySegment data, long base, long stride, int firstWord, int endWord,
                                   MemorySegment tables, int tableOffset, int[] sums, int at, int sumsStride,
                                   boolean add) {
        ShortVector by6 = ShortVector.broadcast(SHORTS, (short) 6);
        ShortVector by12 = ShortVector.broadcast(SHORTS, (short) 12);
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
                ShortVector low = ShortVector.fromMemorySegment(SHORTS, tables, 2L * t, LE);
                ShortVector lowUpper = ShortVector.fromMemorySegment(SHORTS, tables, 2L * (t + 32), LE);
                ShortVector middle = ShortVector.fromMemorySegment(SHORTS, tables, 2L * (t + 64), LE);
                ShortVector middleUpper = ShortVector.fromMemorySegment(SHORTS, tables, 2L * (t + 96), LE);
                ShortVector top = ShortVector.fromMemorySegment(SHORTS, tables, 2L * (t + 128), LE);
                long codes = base + (long) (word - firstWord) * WORD_BYTES;
                ShortVector c0 = ShortVector.fromMemorySegment(SHORTS, data, codes, LE);
                ShortVector c1 = ShortVector.fromMemorySegment(SHORTS, data, codes + stride, LE);
                ShortVector c2 = ShortVector.fromMemorySegment(SHORTS, data, codes + 2 * stride, LE);
                ShortVector c3 = ShortVector.fromMemorySegment(SHORTS, data, codes + 3 * stride, LE);
                acc0 = acc0.add(c0.selectFrom(low, lowUpper)
                        .add(c0.lanewise(VectorOperators.LSHR, by6).selectFrom(middle, middleUpper))
                        .add(c0.lanewise(VectorOperators.LSHR, by12).selectFrom(top)));
                acc1 = acc1.add(c1.selectFrom(low, lowUpper)
                        .add(c1.lanewise(VectorOperators.LSHR, by6).selectFrom(middle, middleUpper))
                        .add(c1.lanewise(VectorOperators.LSHR, by12).selectFrom(top)));
                acc2 = acc2.add(c2.selectFrom(low, lowUpper)
                        .add(c2.lanewise(VectorOperators.LSHR, by6).selectFrom(middle, middleUpper))
                        .add(c2.lanewise(VectorOperators.LSHR, by12).selectFrom(top)));
                acc3 = acc3.add(c3.selectFrom(low, lowUpper)
                        .add(c3.lanewise(VectorOperators.LSHR, by6).selectFrom(middle, middleUpper))
                        .add(c3.lanewise(VectorOperators.LSHR, by12).selectFrom(top)));
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
        if (add) {
            even0 = even0.add(IntVector.fromArray(INTS, sums, at));
            odd0 = odd0.add(IntVector.fromArray(INTS, sums, at + half));
        }
        even0.intoArray(sums, at);
        odd0.intoArray(sums, at + half);
        if (stride == 0) {
            return;
        }
        int at1 = at + sumsStride;
        int at2 = at1 + sumsStride;
        int at3 = at2 + sumsStride;
        if (add) {
            even1 = even1.add(IntVector.fromArray(INTS, sums, at1));
            odd1 = odd1.add(IntVector.fromArray(INTS, sums, at1 + half));
            even2 = even2.add(IntVector.fromArray(INTS, sums, at2));
            odd2 = odd2.add(IntVector.fromArray(INTS, sums, at2 + half));
            even3 = even3.add(IntVector.fromArray(INTS, sums, at3));
            odd3 = odd3.add(IntVector.fromArray(INTS, sums, at3 + half));
        }
        even1.intoArray(sums, at1);
        odd1.intoArray(sums, at1 + half);
        even2.intoArray(sums, at2);
        odd2.intoArray(sums, at2 + half);
        even3.intoArray(sums, at3);
        odd3.intoArray(sums, at3 + half);
    }

    /**
     * {@link #fourBlocks} over one chunk of {@value #WIDE_CHUNK_WORDS} words for two tokens at once, whose tables lie
     * one after the other from byte {@code tablesAt}: each code vector is loaded and cut into its three indexes once
     * for both tokens. The sums are added to {@code sums[at + i·32 ..]} (first token) and {@code sums[at +
     * tokenStride + i·32 ..]} (second token) for the four row blocks i, widened through {@code pairs} (8·16 ints).
     */
    private static void fourBlocksTwoTokens(MemorySegment data, long base, long stride, MemorySegment tables,
                                            long tablesAt, int[] sums, int at, int tokenStride, int[] pairs) {
        ShortVector first0 = ShortVector.zero(SHORTS);
        ShortVector first1 = first0;
        ShortVector first2 = first0;
        ShortVector first3 = first0;
        ShortVector second0 = first0;
        ShortVector second1 = first0;
        ShortVector second2 = first0;
        ShortVector second3 = first0;
        long secondTables = 2L * WIDE_CHUNK_WORDS * TABLE;
        // Shift counts as vectors (vpsrlvw): with int counts C2 moved each count into a vector register before every
        // shift, 16 of the loop's 150 instructions; pp128 on the 2B I2_S file +2 % on one thread.
        ShortVector by6 = ShortVector.broadcast(SHORTS, (short) 6);
        ShortVector by12 = ShortVector.broadcast(SHORTS, (short) 12);
        for (int i = 0; i < WIDE_CHUNK_WORDS; i++) {
            long t = tablesAt + 2L * i * TABLE;
            ShortVector low = ShortVector.fromMemorySegment(SHORTS, tables, t, LE);
            ShortVector lowUpper = ShortVector.fromMemorySegment(SHORTS, tables, t + 64, LE);
            ShortVector middle = ShortVector.fromMemorySegment(SHORTS, tables, t + 128, LE);
            ShortVector middleUpper = ShortVector.fromMemorySegment(SHORTS, tables, t + 192, LE);
            ShortVector top = ShortVector.fromMemorySegment(SHORTS, tables, t + 256, LE);
            long u = t + secondTables;
            ShortVector low2 = ShortVector.fromMemorySegment(SHORTS, tables, u, LE);
            ShortVector lowUpper2 = ShortVector.fromMemorySegment(SHORTS, tables, u + 64, LE);
            ShortVector middle2 = ShortVector.fromMemorySegment(SHORTS, tables, u + 128, LE);
            ShortVector middleUpper2 = ShortVector.fromMemorySegment(SHORTS, tables, u + 192, LE);
            ShortVector top2 = ShortVector.fromMemorySegment(SHORTS, tables, u + 256, LE);
            long codes = base + (long) i * WORD_BYTES;
            ShortVector c0 = ShortVector.fromMemorySegment(SHORTS, data, codes, LE);
            ShortVector m0 = c0.lanewise(VectorOperators.LSHR, by6);
            ShortVector h0 = c0.lanewise(VectorOperators.LSHR, by12);
            first0 = first0.add(c0.selectFrom(low, lowUpper).add(m0.selectFrom(middle, middleUpper))
                    .add(h0.selectFrom(top)));
            second0 = second0.add(c0.selectFrom(low2, lowUpper2).add(m0.selectFrom(middle2, middleUpper2))
                    .add(h0.selectFrom(top2)));
            ShortVector c1 = ShortVector.fromMemorySegment(SHORTS, data, codes + stride, LE);
            ShortVector m1 = c1.lanewise(VectorOperators.LSHR, by6);
            ShortVector h1 = c1.lanewise(VectorOperators.LSHR, by12);
            first1 = first1.add(c1.selectFrom(low, lowUpper).add(m1.selectFrom(middle, middleUpper))
                    .add(h1.selectFrom(top)));
            second1 = second1.add(c1.selectFrom(low2, lowUpper2).add(m1.selectFrom(middle2, middleUpper2))
                    .add(h1.selectFrom(top2)));
            ShortVector c2 = ShortVector.fromMemorySegment(SHORTS, data, codes + 2 * stride, LE);
            ShortVector m2 = c2.lanewise(VectorOperators.LSHR, by6);
            ShortVector h2 = c2.lanewise(VectorOperators.LSHR, by12);
            first2 = first2.add(c2.selectFrom(low, lowUpper).add(m2.selectFrom(middle, middleUpper))
                    .add(h2.selectFrom(top)));
            second2 = second2.add(c2.selectFrom(low2, lowUpper2).add(m2.selectFrom(middle2, middleUpper2))
                    .add(h2.selectFrom(top2)));
            ShortVector c3 = ShortVector.fromMemorySegment(SHORTS, data, codes + 3 * stride, LE);
            ShortVector m3 = c3.lanewise(VectorOperators.LSHR, by6);
            ShortVector h3 = c3.lanewise(VectorOperators.LSHR, by12);
            first3 = first3.add(c3.selectFrom(low, lowUpper).add(m3.selectFrom(middle, middleUpper))
                    .add(h3.selectFrom(top)));
            second3 = second3.add(c3.selectFrom(low2, lowUpper2).add(m3.selectFrom(middle2, middleUpper2))
                    .add(h3.selectFrom(top2)));
        }
        int lanes = INTS.length();
        ((IntVector) first0.reinterpretShape(INTS, 0)).intoArray(pairs, 0);
        ((IntVector) first1.reinterpretShape(INTS, 0)).intoArray(pairs, lanes);
        ((IntVector) first2.reinterpretShape(INTS, 0)).intoArray(pairs, 2 * lanes);
        ((IntVector) first3.reinterpretShape(INTS, 0)).intoArray(pairs, 3 * lanes);
        ((IntVector) second0.reinterpretShape(INTS, 0)).intoArray(pairs, 4 * lanes);
        ((IntVector) second1.reinterpretShape(INTS, 0)).intoArray(pairs, 5 * lanes);
        ((IntVector) second2.reinterpretShape(INTS, 0)).intoArray(pairs, 6 * lanes);
        ((IntVector) second3.reinterpretShape(INTS, 0)).intoArray(pairs, 7 * lanes);
        for (int token = 0; token < 2; token++) {
            for (int block = 0; block < 4; block++) {
                IntVector lanePairs = IntVector.fromArray(INTS, pairs, (4 * token + block) * lanes);
                int even = at + token * tokenStride + block * ROWS;
                IntVector.fromArray(INTS, sums, even).add(lanePairs.lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 16)).intoArray(sums, even);
                IntVector.fromArray(INTS, sums, even + lanes).add(lanePairs.lanewise(VectorOperators.ASHR, 16))
                        .intoArray(sums, even + lanes);
            }
        }
    }

    /** Where the sum of lane {@code lane} of a 32-row block is kept: even lanes first, then odd lanes. */
    private static int sumIndex(int lane) {
        return (lane & 1) * (ROWS / 2) + lane / 2;
    }

    /**
     * {@code out[firstRow + lane] = sum} (or {@code sum / divisor}) for the first {@code count} lanes of the block
     * whose float sums start at {@code sumf[from]}: sixteen lanes at a time for a whole block, as
     * {@link #scaleInto}.
     */
    private static void storeBlock(float[] sumf, int from, int count, boolean divide, float divisor, float[] out,
                                   int firstRow) {
        if (count == ROWS) {
            int half = FLOATS.length();
            FloatVector even = FloatVector.fromArray(FLOATS, sumf, from);
            FloatVector odd = FloatVector.fromArray(FLOATS, sumf, from + half);
            if (divide) {
                even = even.div(divisor);
                odd = odd.div(divisor);
            }
            FloatVector.fromArray(FLOATS, INTERLEAVE, 0).selectFrom(even, odd).intoArray(out, firstRow);
            FloatVector.fromArray(FLOATS, INTERLEAVE, half).selectFrom(even, odd).intoArray(out, firstRow + half);
            return;
        }
        for (int lane = 0; lane < count; lane++) {
            float sum = sumf[from + sumIndex(lane)];
            out[firstRow + lane] = divide ? sum / divisor : sum;
        }
    }

    /**
     * {@code out[firstRow + lane] = (float) sum / actScale · weightScale} for the first {@code count} lanes of the
     * block whose sums start at {@code sums[from]}, rounded as the reference does.
     */
    private static void scaleInto(int[] sums, int from, int count, float actScale, float weightScale, float[] out,
                                  int firstRow) {
        if (count == ROWS) {
            int half = FLOATS.length();
            FloatVector even = ((FloatVector) IntVector.fromArray(INTS, sums, from).convert(VectorOperators.I2F, 0))
                    .div(actScale).mul(weightScale);
            FloatVector odd = ((FloatVector) IntVector.fromArray(INTS, sums, from + half)
                    .convert(VectorOperators.I2F, 0)).div(actScale).mul(weightScale);
            FloatVector.fromArray(FLOATS, INTERLEAVE, 0).selectFrom(even, odd).intoArray(out, firstRow);
            FloatVector.fromArray(FLOATS, INTERLEAVE, half).selectFrom(even, odd).intoArray(out, firstRow + half);
            return;
        }
        for (int lane = 0; lane < count; lane++) {
            out[firstRow + lane] = (float) sums[from + sumIndex(lane)] / actScale * weightScale;
        }
    }

    /**
     * Tokens {@code [tokenStart, tokenEnd)} of {@code x} times the {@code count} matrices of {@link Scratch#targets},
     * which all take {@code x}: tile by tile, each chunk of {@code chunkWords} words (per 16-bit accumulation) builds
     * the tile's tables once and runs every row block of every matrix over them. A matrix whose scales go per
     * 256-column block (TQ2_0, and TQ1_0 re-encoded) makes all of them go as {@link #multiplyTQ2}.
     */
    private static void multiplyTargets(int count, Activations x, int tokenStart, int tokenEnd, int chunkWords,
                                        Scratch s) {
        if (s.targets[0].blockScaled) {
            multiplyTQ2(s.targets, count, x, tokenStart, tokenEnd, chunkWords, s);
        } else {
            multiplyI2S(s.targets, count, x, tokenStart, tokenEnd, chunkWords, s);
        }
    }

    /** {@link #multiplyTargets} for I2_S: each row's integer sum converted as {@link I2SFormat#dot} does. */
    private static void multiplyI2S(Target[] targets, int count, Activations x, int tokenStart, int tokenEnd,
                                    int chunkWords, Scratch s) {
        int words = x.length() / 8;
        int size = TILE_TOKENS * placeSums(targets, count) * ROWS;
        int[] sums = s.sums(size);
        MemorySegment tables = s.tables(TILE_TOKENS * WIDE_CHUNK_WORDS);
        for (int tile = tokenStart; tile < tokenEnd; tile += TILE_TOKENS) {
            int n = Math.min(TILE_TOKENS, tokenEnd - tile);
            java.util.Arrays.fill(sums, 0, size, 0);
            for (int chunk = 0; chunk < words; chunk += chunkWords) {
                int width = Math.min(chunkWords, words - chunk);
                buildTileTables(x, tile, n, chunk, width, Packing.I2S, tables);
                for (int m = 0; m < count; m++) {
                    lookUpChunk(targets[m], words, chunk, width, n, tables, sums, s.pairSums);
                }
            }
            for (int m = 0; m < count; m++) {
                Target target = targets[m];
                float weightScale = I2SFormat.scale(target.w.tensor());
                int rows = target.w.rows();
                for (int t = 0; t < n; t++) {
                    float actScale = x.scales()[tile + t];
                    for (int b = 0; b < target.blocks; b++) {
                        int first = target.rowStart + b * ROWS;
                        scaleInto(sums, target.sumsAt + (t * target.blocks + b) * ROWS,
                                Math.min(ROWS, target.rowEnd - first), actScale, weightScale, target.out,
                                (tile + t) * rows + first);
                    }
                }
            }
        }
    }

    /**
     * Places the sums of {@code targets[0 .. count)} one after the other, {@value #TILE_TOKENS} tokens of each
     * target's row blocks, and returns the row blocks of all of them.
     */
    private static int placeSums(Target[] targets, int count) {
        int blocks = 0;
        for (int m = 0; m < count; m++) {
            targets[m].sumsAt = TILE_TOKENS * blocks * ROWS;
            blocks += targets[m].blocks;
        }
        return blocks;
    }

    /**
     * Several tokens times TQ2_0 weights in the file's layout, transposed into scratch: each 256-column block's
     * integer sums are looked up as for I2_S, then {@code sumf += (float) Σ(c−1)·q · (d · d_x)} (Q8_K) or
     * {@code · d} (per-token int8, divided by the token's scale at the end), in block order as the reference.
     */
    static void multiplyTQ2FileLayout(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        if (s.multiplyBase3FileLayout(w, x, out, rowStart, rowEnd)) {
            return;
        }
        MemorySegment data = w.tensor().data();
        int blockBytes = Packing.TQ2.blockBytes();
        long rowBytes = (long) w.cols() / 256 * blockBytes;
        MemorySegment repacked = s.transpose(data, Packing.TQ2, rowBytes, w.cols() / 8, rowStart, rowEnd);
        int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
        float[] scales = s.blockScales(data, 2L * Packing.TQ2.wordsPerBlock(), ROWS * rowBytes, rowBytes, blockBytes,
                w.cols() / 256, rowStart, rowEnd, s.scales(w.cols() / 256 * blocks * ROWS), blocks, 0);
        s.targets[0].set(repacked, 0, w.cols() / 8, w, out, rowStart, rowEnd, scales);
        multiplyTargets(1, x, 0, x.tokens(), s.chunkWords(), s);
    }

    /**
     * Several tokens times TQ1_0 weights: 32 rows at a time re-encoded as TQ2_0 ({@link TQ1Kernel#toTQ2}, exact)
     * and transposed into scratch, then looked up as TQ2_0.
     */
    static void multiplyTQ1FileLayout(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        Scratch s = SCRATCH.get();
        if (s.multiplyBase3FileLayout(w, x, out, rowStart, rowEnd)) {
            return;
        }
        int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
        MemorySegment repacked = s.repacked((long) blocks * (w.cols() / 8) * WORD_BYTES);
        float[] scales = s.scales(w.cols() / 256 * blocks * ROWS);
        s.transposeTQ1(w.tensor().data(), w.cols(), rowStart, rowEnd, repacked, 0, scales, blocks);
        s.targets[0].set(repacked, 0, w.cols() / 8, w, out, rowStart, rowEnd, scales);
        multiplyTargets(1, x, 0, x.tokens(), s.chunkWords(), s);
    }

    /**
     * {@link #multiplyTargets} for TQ2_0: each 256-column block's integer sums are looked up as for I2_S, then
     * {@code sumf += (float) Σ(c−1)·q · (d · d_x)} (Q8_K) or {@code · d} (per-token int8, divided by the token's
     * scale at the end), in block order as the reference.
     */
    private static void multiplyTQ2(Target[] targets, int count, Activations x, int tokenStart, int tokenEnd,
                                    int chunkWords, Scratch s) {
        int k = x.length();
        int words = k / 8;
        int scaleBlocks = k / 256;
        int size = TILE_TOKENS * placeSums(targets, count) * ROWS;
        int[] sums = s.sums(size);
        float[] sumf = s.floatSums(size);
        MemorySegment tables = s.tables(TILE_TOKENS * WIDE_CHUNK_WORDS);
        boolean perBlock = x.type() == io.bitnet4j.tensor.ActivationType.Q8_K;
        for (int tile = tokenStart; tile < tokenEnd; tile += TILE_TOKENS) {
            int n = Math.min(TILE_TOKENS, tokenEnd - tile);
            java.util.Arrays.fill(sumf, 0, size, 0f);
            for (int b = 0; b < scaleBlocks; b++) {
                java.util.Arrays.fill(sums, 0, size, 0);
                for (int chunk = 32 * b; chunk < 32 * b + 32; chunk += chunkWords) {
                    buildTileTables(x, tile, n, chunk, chunkWords, Packing.TQ2, tables);
                    for (int m = 0; m < count; m++) {
                        lookUpChunk(targets[m], words, chunk, chunkWords, n, tables, sums, s.pairSums);
                    }
                }
                for (int m = 0; m < count; m++) {
                    foldScaleBlock(targets[m], b, scaleBlocks, x, tile, n, perBlock, sums, sumf);
                }
            }
            for (int m = 0; m < count; m++) {
                Target target = targets[m];
                int rows = target.w.rows();
                for (int t = 0; t < n; t++) {
                    for (int b = 0; b < target.blocks; b++) {
                        int first = target.rowStart + b * ROWS;
                        storeBlock(sumf, target.sumsAt + (t * target.blocks + b) * ROWS,
                                Math.min(ROWS, target.rowEnd - first), !perBlock, x.scales()[tile + t], target.out,
                                (tile + t) * rows + first);
                    }
                }
            }
        }
    }

    /**
     * Folds the integer sums of 256-column block {@code b} of one target's row blocks, tokens {@code tile ..
     * tile+n}, into its float sums, with the block scales as {@link Scratch#blockScales} laid them out or (none
     * there) read from the {@link TQ2_0Format#ROWS_32} layout.
     */
    private static void foldScaleBlock(Target target, int b, int scaleBlocks, Activations x, int tile, int n,
                                       boolean perBlock, int[] sums, float[] sumf) {
        int blocks = target.blocks;
        for (int t = 0; t < n; t++) {
            float activationScale = perBlock ? x.scales()[(tile + t) * scaleBlocks + b] : 1f;
            int at = target.sumsAt + t * blocks * ROWS;
            if (target.scales != null) {
                foldBlock(sums, sumf, at, target.scales, b * blocks * ROWS, blocks * ROWS, activationScale, perBlock);
            } else {
                for (int rb = 0; rb < blocks; rb++) {
                    long halves = TQ2_0Format.interleavedScaleByte(target.w.rows(), x.length(),
                            target.firstBlock + rb, b);
                    foldBlockHalves(sums, at + rb * ROWS, sumf, at + rb * ROWS, target.data, halves,
                            activationScale, perBlock);
                }
            }
        }
    }

    /**
     * One token times TQ2_0 weights in the {@link TQ2_0Format#ROWS_32} layout: the token's tables are built once
     * for the whole row; the thread's row blocks go pass by pass (whole 256-column blocks), four at a time, one
     * from each quarter of the thread's blocks (as {@link #multiplyOneToken}), each 256-column block's integer sums
     * folded with the block's scales in block order.
     */
    private static void multiplyTQ2OneToken(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd,
                                            Scratch s) {
        MemorySegment data = w.tensor().data();
        int words = w.cols() / 8;
        int scaleBlocks = words / 32;
        MemorySegment tables = s.tokenTables(x, Packing.TQ2, words);
        int firstBlock = rowStart / ROWS;
        int blocks = rowEnd / ROWS - firstBlock;
        int quarter = blocks / 4;
        float[] sumf = s.floatSums(blocks * ROWS);
        java.util.Arrays.fill(sumf, 0, blocks * ROWS, 0f);
        int passBlocks = I2SFormat.PASS_WORDS / 32;
        for (int first = 0; first < scaleBlocks; first += passBlocks) {
            int end = Math.min(scaleBlocks, first + passBlocks);
            for (int i = 0; i < quarter; i++) {
                tq2RowBlocks(w, firstBlock, i, quarter, 4, first, end, tables, x, sumf, s);
            }
            for (int block = 4 * quarter; block < blocks; block++) {
                tq2RowBlocks(w, firstBlock, block, 0, 1, first, end, tables, x, sumf, s);
            }
        }
        boolean perBlock = x.type() == io.bitnet4j.tensor.ActivationType.Q8_K;
        for (int block = 0; block < blocks; block++) {
            storeBlock(sumf, block * ROWS, ROWS, !perBlock, x.scales()[0], out, (firstBlock + block) * ROWS);
        }
    }

    /**
     * 256-column blocks {@code [firstScaleBlock, endScaleBlock)} of {@code count} row blocks
     * {@code firstBlock + block + j·stride} of one token's TQ2_0 product: each 256-column block's integer sums
     * (four row blocks per {@link #fourBlocks}; with a stride of 0 the one block is computed four times) folded
     * with that block's scales (from the {@link TQ2_0Format#ROWS_32} layout) into {@code sumf[32·(block + j·stride)
     * ..]}.
     */
    private static void tq2RowBlocks(WeightMatrix w, int firstBlock, int block, int stride, int count,
                                     int firstScaleBlock, int endScaleBlock, MemorySegment tables, Activations x,
                                     float[] sumf, Scratch s) {
        MemorySegment data = w.tensor().data();
        int words = w.cols() / 8;
        boolean perBlock = x.type() == io.bitnet4j.tensor.ActivationType.Q8_K;
        int[] blockSums = s.blockSums;
        for (int b = firstScaleBlock; b < endScaleBlock; b++) {
            long base = wordByte(firstBlock + block, 32 * b, words, w.rows(), I2SFormat.PASS_WORDS);
            long next = wordByte(firstBlock + block + stride, 32 * b, words, w.rows(), I2SFormat.PASS_WORDS);
            fourBlocks(data, base, next - base, 32 * b, 32 * b + 32, tables, 32 * b * TABLE, blockSums, 0, ROWS,
                    false);
            float activationScale = perBlock ? x.scales()[b] : 1f;
            for (int j = 0; j < count; j++) {
                long halves = TQ2_0Format.interleavedScaleByte(w.rows(), w.cols(), firstBlock + block + j * stride, b);
                foldBlockHalves(blockSums, j * ROWS, sumf, (block + j * stride) * ROWS, data, halves,
                        activationScale, perBlock);
            }
        }
    }

    /**
     * {@link #foldBlock} for one 32-row block whose 32 F16 scales (in lane-pair order) are at byte
     * {@code halvesAt} of {@code data}. The halves are widened exactly, infinities and NaNs included (as
     * {@link F16Kernel#widenPatched}, inline: a vector returned from a call C2 does not inline is boxed).
     */
    private static void foldBlockHalves(int[] sums, int sumsAt, float[] sumf, int sumfAt, MemorySegment data,
                                        long halvesAt, float activationScale, boolean perBlock) {
        for (int i = 0; i < ROWS; i += FLOATS.length()) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(HALF_SHORTS, data, halvesAt + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            IntVector bits = h.and(0x80000000).or(h.and(0x7fff).lanewise(VectorOperators.LSHL, 13));
            FloatVector value = ((FloatVector) bits.reinterpretShape(FLOATS, 0)).mul(0x1p112f);
            FloatVector d = value.blend((FloatVector) bits.or(0x7f800000).reinterpretShape(FLOATS, 0),
                    value.abs().compare(VectorOperators.GE, 65536f));
            FloatVector product = ((FloatVector) IntVector.fromArray(INTS, sums, sumsAt + i)
                    .convert(VectorOperators.I2F, 0)).mul(perBlock ? d.mul(activationScale) : d);
            FloatVector.fromArray(FLOATS, sumf, sumfAt + i).add(product).intoArray(sumf, sumfAt + i);
        }
    }

    /**
     * {@code sumf[i] += (float) sums[i] · (d[i] · activationScale)} (Q8_K) or {@code (float) sums[i] · d[i]} for
     * {@code count} rows, lane by lane the reference's operations.
     */
    private static void foldBlock(int[] sums, float[] sumf, int at, float[] scales, int scalesAt, int count,
                                  float activationScale, boolean perBlock) {
        for (int i = 0; i < count; i += FLOATS.length()) {
            FloatVector d = FloatVector.fromArray(FLOATS, scales, scalesAt + i);
            FloatVector product = ((FloatVector) IntVector.fromArray(INTS, sums, at + i)
                    .convert(VectorOperators.I2F, 0)).mul(perBlock ? d.mul(activationScale) : d);
            FloatVector.fromArray(FLOATS, sumf, at + i).add(product).intoArray(sumf, at + i);
        }
    }

    /** The tables of words {@code [chunk, chunk+chunkWords)} for tokens {@code tile .. tile+n} of {@code x}. */
    private static void buildTileTables(Activations x, int tile, int n, int chunk, int chunkWords, Packing packing,
                                        MemorySegment tables) {
        int k = x.length();
        for (int t = 0; t < n; t++) {
            buildTables(x.wide(), (tile + t) * k, chunk, chunkWords, packing, tables, t * chunkWords * TABLE);
        }
    }

    /**
     * Adds one chunk (words {@code [chunk, chunk+chunkWords)}) of every row block of {@code target} to its int sums
     * of tokens {@code 0 .. n} of the tile whose tables {@link #buildTileTables} built: each group of four row blocks
     * runs over them two tokens at a time (the last of an odd count alone), its codes staying in the L1 cache. Chunks
     * of 16 words (weights of 2, or the last 128 columns of a row) go one token at a time.
     * {@code sums[target.sumsAt + (t·blocks + b)·32 + sumIndex(lane)]}.
     */
    private static void lookUpChunk(Target target, int words, int chunk, int chunkWords, int n, MemorySegment tables,
                                    int[] sums, int[] pairSums) {
        MemorySegment data = target.data;
        int firstBlock = target.firstBlock;
        int passWords = target.passWords;
        int blocks = target.blocks;
        long rows = target.w.rows();
        int at = target.sumsAt;
        for (int b = 0; b < blocks; b += 4) {
            int count = Math.min(4, blocks - b);
            long base = wordByte(firstBlock + b, chunk, words, rows, passWords);
            long stride = count == 4 ? wordByte(firstBlock + b + 1, chunk, words, rows, passWords) - base : 0;
            int paired = count == 4 && chunkWords == WIDE_CHUNK_WORDS ? n & ~1 : 0;
            for (int t = 0; t < paired; t += 2) {
                fourBlocksTwoTokens(data, base, stride, tables, 2L * t * chunkWords * TABLE, sums,
                        at + (t * blocks + b) * ROWS, blocks * ROWS, pairSums);
            }
            for (int t = paired; t < n; t++) {
                fourBlocks(data, base, stride, chunk, chunk + chunkWords, tables, t * chunkWords * TABLE,
                        sums, at + (t * blocks + b) * ROWS, ROWS, true);
            }
            for (int extra = 1; count < 4 && extra < count; extra++) {
                long extraBase = wordByte(firstBlock + b + extra, chunk, words, rows, passWords);
                for (int t = 0; t < n; t++) {
                    fourBlocks(data, extraBase, 0, chunk, chunk + chunkWords, tables, t * chunkWords * TABLE,
                            sums, at + (t * blocks + b + extra) * ROWS, 0, true);
                }
            }
        }
    }

    /**
     * The tables of {@code count} word positions from {@code firstWord} for the token whose 16-bit activations
     * start at {@code x[xOffset]}, at {@code tables[tableOffset ..]} ({@value #TABLE} shorts per word), the columns
     * of each bit pair as {@code packing} places them. Entries 32-63 of a 64-entry table differ from entries 0-31
     * only in the third column's digit, larger by 2: they are the first half plus twice that column's activation.
     */
    static void buildTables(short[] x, int xOffset, int firstWord, int count, Packing packing, MemorySegment tables,
                            int tableOffset) {
        int[] field = packing.fieldColumns();
        int f0 = field[0];
        int f1 = field[1];
        int f2 = field[2];
        int f3 = field[3];
        int f4 = field[4];
        int f5 = field[5];
        int f6 = field[6];
        int f7 = field[7];
        ShortVector d0 = ShortVector.fromArray(SHORTS, DIGITS, 0);
        ShortVector d1 = ShortVector.fromArray(SHORTS, DIGITS, 32);
        ShortVector d2 = ShortVector.fromArray(SHORTS, DIGITS, 64);
        for (int i = 0; i < count; i++) {
            int word = firstWord + i;
            int c = xOffset + (word / 16) * 128 + 2 * (word % 16);
            short a0 = x[c + f0];
            short a1 = x[c + f1];
            short a2 = x[c + f2];
            short b0 = x[c + f3];
            short b1 = x[c + f4];
            short b2 = x[c + f5];
            int t = tableOffset + i * TABLE;
            ShortVector low = d0.mul(a0).add(d1.mul(a1)).add(d2.mul(a2));
            low.intoMemorySegment(tables, 2L * t, LE);
            low.add((short) (2 * a2)).intoMemorySegment(tables, 2L * (t + 32), LE);
            ShortVector middle = d0.mul(b0).add(d1.mul(b1)).add(d2.mul(b2));
            middle.intoMemorySegment(tables, 2L * (t + 64), LE);
            middle.add((short) (2 * b2)).intoMemorySegment(tables, 2L * (t + 96), LE);
            d0.mul(x[c + f6]).add(d1.mul(x[c + f7])).intoMemorySegment(tables, 2L * (t + 128), LE);
        }
    }

    /**
     * Finishes the transpose of a 32×32 tile of words (row r at ints {@code [16r, 16r+16)}) that
     * {@link Scratch#transposedTile} started with its first round. Each round swaps the off-diagonal d×d blocks of
     * every 2d×2d block; the rounds commute, so they go two per pass over the tile, four rows in registers at once:
     * d = 8 and 4, then d = 2 and 1. Rounds of d ≥ 2 move pairs of words, one two-vector int permute per row
     * ({@code vpermt2d}, one cycle; the word permute {@code vpermt2w} takes two); d = 1 swaps the words within
     * each pair with shifts and masks, off the permute port.
     */
    static void transposeTile(int[] tile) {
        IntVector low8 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 2 * PAIRS);
        IntVector high8 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 3 * PAIRS);
        IntVector low4 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 4 * PAIRS);
        IntVector high4 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 5 * PAIRS);
        // b = 0..3 and 16..19: each quadruple b, b+4, b+8, b+12 stays within one half of the tile
        for (int b = 0; b < ROWS; b += (b & 3) == 3 ? 13 : 1) {
            IntVector r0 = IntVector.fromArray(INTS, tile, b * PAIRS);
            IntVector r4 = IntVector.fromArray(INTS, tile, (b + 4) * PAIRS);
            IntVector r8 = IntVector.fromArray(INTS, tile, (b + 8) * PAIRS);
            IntVector r12 = IntVector.fromArray(INTS, tile, (b + 12) * PAIRS);
            IntVector s0 = low8.selectFrom(r0, r8);
            IntVector s8 = high8.selectFrom(r0, r8);
            IntVector s4 = low8.selectFrom(r4, r12);
            IntVector s12 = high8.selectFrom(r4, r12);
            low4.selectFrom(s0, s4).intoArray(tile, b * PAIRS);
            high4.selectFrom(s0, s4).intoArray(tile, (b + 4) * PAIRS);
            low4.selectFrom(s8, s12).intoArray(tile, (b + 8) * PAIRS);
            high4.selectFrom(s8, s12).intoArray(tile, (b + 12) * PAIRS);
        }
        IntVector low2 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 6 * PAIRS);
        IntVector high2 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 7 * PAIRS);
        IntVector lowWords = IntVector.broadcast(INTS, 0xffff);
        IntVector highWords = IntVector.broadcast(INTS, 0xffff0000);
        for (int b = 0; b < ROWS; b += 4) {
            IntVector r0 = IntVector.fromArray(INTS, tile, b * PAIRS);
            IntVector r1 = IntVector.fromArray(INTS, tile, (b + 1) * PAIRS);
            IntVector r2 = IntVector.fromArray(INTS, tile, (b + 2) * PAIRS);
            IntVector r3 = IntVector.fromArray(INTS, tile, (b + 3) * PAIRS);
            IntVector s0 = low2.selectFrom(r0, r2);
            IntVector s2 = high2.selectFrom(r0, r2);
            IntVector s1 = low2.selectFrom(r1, r3);
            IntVector s3 = high2.selectFrom(r1, r3);
            s0.lanewise(VectorOperators.AND, lowWords).lanewise(VectorOperators.OR,
                    s1.lanewise(VectorOperators.LSHL, 16)).intoArray(tile, b * PAIRS);
            s0.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.OR,
                    s1.lanewise(VectorOperators.AND, highWords)).intoArray(tile, (b + 1) * PAIRS);
            s2.lanewise(VectorOperators.AND, lowWords).lanewise(VectorOperators.OR,
                    s3.lanewise(VectorOperators.LSHL, 16)).intoArray(tile, (b + 2) * PAIRS);
            s2.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.OR,
                    s3.lanewise(VectorOperators.AND, highWords)).intoArray(tile, (b + 3) * PAIRS);
        }
    }

    /**
     * For the rounds of d = 16, 8, 4, 2 words (round r moves blocks of e = 8 >> r int lanes between rows 2e
     * apart): row {@code 2r} of 16 holds the two-vector int indexes that keep the upper row's low half of each 2e
     * group and take the lower row's; row {@code 2r+1} those for the lower row.
     */
    private static int[] pairSwapIndexes() {
        int lanes = ROWS / 2;
        int[] indexes = new int[8 * lanes];
        for (int round = 0; round < 4; round++) {
            int e = lanes >> (round + 1);
            for (int lane = 0; lane < lanes; lane++) {
                boolean low = (lane & e) == 0;
                indexes[2 * round * lanes + lane] = low ? lane : lanes + lane - e;
                indexes[(2 * round + 1) * lanes + lane] = low ? lane + e : lanes + lane;
            }
        }
        return indexes;
    }

    private static float[] interleave() {
        float[] indexes = new float[ROWS];
        for (int lane = 0; lane < ROWS; lane++) {
            indexes[lane] = lane / 2 + (lane % 2) * (ROWS / 2);
        }
        return indexes;
    }

    private static short[] digits() {
        short[] d = new short[3 * 32];
        for (int f = 0; f < 3; f++) {
            for (int i = 0; i < 32; i++) {
                d[f * 32 + i] = (short) (((i >> (2 * f)) & 3) - 1);
            }
        }
        return d;
    }

    /**
     * One matrix of a product over several tokens: its codes in an interleaved layout (rows from block
     * {@code firstBlock} of {@code data}, {@code passWords} words per pass), the rows {@code [rowStart, rowEnd)} it
     * computes into {@code out}, its block scales where {@link Scratch#blockScales} laid them out (TQ2_0 transposed;
     * null to read them from the {@link TQ2_0Format#ROWS_32} layout, or for I2_S), and where its sums start.
     */
    private static final class Target {
        private MemorySegment data;
        private int firstBlock;
        private int passWords;
        private WeightMatrix w;
        private float[] out;
        private int rowStart;
        private int rowEnd;
        private float[] scales;
        /** Whether the scales go per 256-column block (TQ2_0, TQ1_0) rather than per tensor (I2_S). */
        private boolean blockScaled;
        private int blocks;
        private int sumsAt;

        void set(MemorySegment data, int firstBlock, int passWords, WeightMatrix w, float[] out, int rowStart,
                 int rowEnd, float[] scales) {
            this.data = data;
            this.firstBlock = firstBlock;
            this.passWords = passWords;
            this.w = w;
            this.out = out;
            this.rowStart = rowStart;
            this.rowEnd = rowEnd;
            this.scales = scales;
            this.blockScaled = w.format() == TQ2_0Format.ROWS_32 || blockScaled(w);
            this.blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
        }
    }

    /** Per-thread buffers, grown on demand and kept, so the steady state allocates nothing. */
    private static final class Scratch {
        /** The matrices of the product this thread is computing. */
        private final Target[] targets = {new Target(), new Target(), new Target()};
        private MemorySegment tables = MemorySegment.NULL;
        private MemorySegment tokenTables = MemorySegment.NULL;
        private Activations tokenTablesFrom;
        private long tokenTablesGeneration;
        private Packing tokenTablesPacking;
        private int[] sums = new int[0];
        private float[] floatSums = new float[0];
        private float[] scales = new float[0];
        private final int[] blockSums = new int[4 * ROWS];
        /** The 16-bit sums of two tokens' four row blocks, as lane pairs. */
        private final int[] pairSums = new int[8 * ROWS / 2];
        /** A 32×32 tile of words, two to an int: row r at ints {@code [16r, 16r+16)}. */
        private final int[] tile = new int[ROWS * PAIRS];
        /**
         * {@link #tile} as a segment, copied segment to segment: copied from the array with a value layout, every
         * copy checked the destination's alignment out of line (2.4 % of a prompt's JFR samples, pp128, 1 thread).
         */
        private final MemorySegment tileSegment = MemorySegment.ofArray(tile);
        /** Whether the last {@link #transpose} or {@link #transposeTQ1} met a code 3 (a weight of 2). */
        private boolean sawWeightTwo;
        /**
         * Off-heap and on a cache-line boundary, like the tables: every 16-bit vector load of the kernel then sees
         * one kind of segment (a call site that has seen two kinds is compiled less well), and no load splits across
         * two cache lines.
         */
        private MemorySegment repacked = MemorySegment.NULL;
        /** 32 rows of TQ1_0 weights re-encoded as TQ2_0, before they are transposed. */
        private MemorySegment tq2Rows = MemorySegment.NULL;
        /** One block's rows, copied in order before they are transposed. */
        private MemorySegment blockRows = MemorySegment.NULL;
        /** {@link #tq2Rows}, grown to at least {@code bytes}. */
        private MemorySegment tq2Rows(long bytes) {
            if (tq2Rows.byteSize() < bytes) {
                tq2Rows = java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
            }
            return tq2Rows;
        }

        /** This thread's weights encoded for {@link Base3LookupKernel} (prompts split by rows). */
        private MemorySegment base3Codes = MemorySegment.NULL;
        private final Base3LookupKernel.Matrix[] base3Matrices = {
            new Base3LookupKernel.Matrix(), new Base3LookupKernel.Matrix(), new Base3LookupKernel.Matrix()};
        private Base3LookupKernel.Buffers base3Buffers;

        MemorySegment base3Codes(long bytes) {
            if (base3Codes.byteSize() < bytes) {
                base3Codes = java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
            }
            return base3Codes;
        }

        private Base3LookupKernel.Buffers base3Buffers() {
            if (base3Buffers == null) {
                base3Buffers = new Base3LookupKernel.Buffers();
            }
            return base3Buffers;
        }

        /**
         * Rows {@code [rowStart, rowEnd)} of weights encoded in {@code codes} (with their block {@code scales}
         * for TQ2_0 and TQ1_0, else null) times every token of {@code x}.
         */
        void multiplyBase3(MemorySegment codes, float[] scales, WeightMatrix w, float[] out, int rowStart,
                           int rowEnd, Activations x) {
            setBase3Matrix(0, codes, scales, w, out, rowStart, rowEnd);
            Base3LookupKernel.multiply(base3Matrices, 1, x, 0, x.tokens(), base3Buffers());
        }

        private void setBase3Matrix(int m, MemorySegment codes, float[] scales, WeightMatrix w, float[] out,
                                    int rowStart, int rowEnd) {
            if (scales == null) {
                base3Matrices[m].set(codes, w.rows(), rowStart, rowEnd, I2SFormat.scale(w.tensor()), out);
            } else {
                base3Matrices[m].setBlockScaled(codes, w.rows(), rowStart, rowEnd, scales, out);
            }
        }

        /**
         * Rows {@code [rowStart, rowEnd)} of ternary weights in a file's layout, encoded into this thread's memory,
         * times every token of {@code x}, where {@link Base3LookupKernel} runs here and the rows hold no code 3;
         * returns whether it did.
         */
        boolean multiplyBase3FileLayout(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
            if (!Base3LookupKernel.SUPPORTED) {
                return false;
            }
            int blocks = blocks(rowEnd - rowStart);
            MemorySegment codes = base3Codes(Base3LookupKernel.encodedBytes(rowEnd - rowStart, w.cols()));
            float[] blockScales = blockScaled(w) ? scales(w.cols() / 256 * blocks * ROWS) : null;
            if (encodeBase3(w, rowStart, rowEnd, codes, 0, blockScales, blocks)) {
                return false;
            }
            multiplyBase3(codes, blockScales, w, out, rowStart, rowEnd, x);
            return true;
        }

        /**
         * Every row of the {@code count} matrices encoded in {@code shared} times tokens {@code [tokenStart,
         * tokenEnd)} of {@code x}; where a thread met a code 3 while encoding (I2_S or TQ2_0 in a file's layout),
         * each matrix instead goes through this thread's own transposed copy and the 128-column lookup.
         */
        void multiplyBase3(WeightMatrix[] ws, float[][] outs, SharedWeights[] shared, int count, Activations x,
                           int tokenStart, int tokenEnd) {
            boolean sawWeightTwo = false;
            for (int m = 0; m < count; m++) {
                sawWeightTwo |= shared[m].sawWeightTwo();
                setBase3Matrix(m, shared[m].codes(), blockScaled(ws[m]) ? shared[m].scales() : null, ws[m], outs[m],
                        0, ws[m].rows());
            }
            if (!sawWeightTwo) {
                Base3LookupKernel.multiply(base3Matrices, count, x, tokenStart, tokenEnd, base3Buffers());
                return;
            }
            for (int m = 0; m < count; m++) {
                WeightMatrix w = ws[m];
                boolean tq2 = w.tensor().type() == io.bitnet4j.gguf.GgmlType.TQ2_0;
                Packing packing = tq2 ? Packing.TQ2 : Packing.I2S;
                long rowBytes = tq2 ? (long) w.cols() / 256 * packing.blockBytes() : w.cols() / 4;
                MemorySegment own = transpose(w.tensor().data(), packing, rowBytes, w.cols() / 8, 0, w.rows());
                float[] ownScales = tq2 ? blockScales(w.tensor().data(), 2L * packing.wordsPerBlock(),
                        ROWS * rowBytes, rowBytes, packing.blockBytes(), w.cols() / 256, 0, w.rows(),
                        scales(w.cols() / 256 * blocks(w.rows()) * ROWS), blocks(w.rows()), 0) : null;
                targets[0].set(own, 0, w.cols() / 8, w, outs[m], 0, w.rows(), ownScales);
                multiplyTargets(1, x, tokenStart, tokenEnd, chunkWords(), this);
            }
        }

        /**
         * Rows {@code [rowStart, rowEnd)} of ternary weights (I2_S, TQ2_0 or TQ1_0 in the file's layout, or
         * repacked: {@link I2SFormat#I2S_128_ROWS_32}, {@link TQ2_0Format#ROWS_32}) encoded for
         * {@link Base3LookupKernel} into {@code into}, the range's first block as block {@code intoBlock}, padded
         * with zero weights; TQ2_0 and TQ1_0 block scales into {@code scales} as {@link #blockScales} lays them out
         * for {@code totalBlocks} row blocks. Returns whether the weights held a code 3 (a weight of 2), which the
         * encoding cannot hold: {@code into} is then unusable.
         */
        boolean encodeBase3(WeightMatrix w, int rowStart, int rowEnd, MemorySegment into, int intoBlock,
                            float[] scales, int totalBlocks) {
            MemorySegment data = w.tensor().data();
            int cols = w.cols();
            int chunks = Base3LookupKernel.chunks(cols);
            io.bitnet4j.gguf.GgmlType type = w.tensor().type();
            if (w.format() == I2SFormat.I2S_128_ROWS_32 || w.format() == TQ2_0Format.ROWS_32) {
                for (int first = rowStart; first < rowEnd; first += ROWS) {
                    int block = intoBlock + (first - rowStart) / ROWS;
                    for (int chunk = 0; chunk < chunks; chunk++) {
                        interleavedTile(data, first / ROWS, chunk * Base3LookupKernel.CHUNK_WORDS, cols / 8,
                                w.rows());
                        Base3LookupKernel.encodeChunk(tile, into,
                                Base3LookupKernel.chunkByte(block, chunk, chunks));
                        if (w.format() == TQ2_0Format.ROWS_32) {
                            long halves = TQ2_0Format.interleavedScaleByte(w.rows(), cols, first / ROWS, chunk);
                            for (int i = 0; i < ROWS; i++) {
                                scales[(chunk * totalBlocks + block) * ROWS + i] =
                                        Float.float16ToFloat(data.get(Layouts.SHORT, halves + 2L * i));
                            }
                        }
                    }
                }
                return false;
            }
            if (type == io.bitnet4j.gguf.GgmlType.TQ1_0) {
                int scaleBlocks = cols / 256;
                long rowBytes = (long) scaleBlocks * TQ1Kernel.TQ2_BLOCK_BYTES;
                MemorySegment rows = tq2Rows(ROWS * rowBytes);
                for (int first = rowStart; first < rowEnd; first += ROWS) {
                    int valid = Math.min(ROWS, rowEnd - first);
                    int block = intoBlock + (first - rowStart) / ROWS;
                    TQ1Kernel.toTQ2(data, scaleBlocks, first, valid, rows);
                    encodeBlock(rows, Packing.TQ2, rowBytes, cols, valid, into, block);
                    blockScales(rows, 2L * Packing.TQ2.wordsPerBlock(), ROWS * rowBytes, rowBytes,
                            Packing.TQ2.blockBytes(), scaleBlocks, 0, valid, scales, totalBlocks, block);
                }
                return false;
            }
            boolean tq2 = type == io.bitnet4j.gguf.GgmlType.TQ2_0;
            Packing packing = tq2 ? Packing.TQ2 : Packing.I2S;
            long rowBytes = tq2 ? (long) cols / 256 * packing.blockBytes() : cols / 4;
            long threes = 0;
            for (int first = rowStart; first < rowEnd; first += ROWS) {
                int valid = Math.min(ROWS, rowEnd - first);
                threes |= encodeBlock(blockRows(data, first * rowBytes, valid * rowBytes), packing, rowBytes, cols,
                        valid, into, intoBlock + (first - rowStart) / ROWS);
            }
            if (tq2) {
                blockScales(data, 2L * packing.wordsPerBlock(), ROWS * rowBytes, rowBytes, packing.blockBytes(),
                        cols / 256, rowStart, rowEnd, scales, totalBlocks, intoBlock);
            }
            return (threes & 0x5555555555555555L) != 0;
        }

        /**
         * The {@code valid} rows at the start of {@code rows} (each {@code rowBytes} long, words placed as
         * {@code packing} says) encoded as block {@code block} of {@code into}, chunk after chunk; words past the
         * row's end (a last chunk of 128 columns) count as zero weights. Returns the transposes' code-3 bits.
         */
        private long encodeBlock(MemorySegment rows, Packing packing, long rowBytes, int cols, int valid,
                                 MemorySegment into, int block) {
            int words = cols / 8;
            int chunks = Base3LookupKernel.chunks(cols);
            long threes = 0;
            for (int chunk = 0; chunk < chunks; chunk++) {
                int m0 = chunk * Base3LookupKernel.CHUNK_WORDS;
                if (m0 + ROWS <= words) {
                    threes |= transposedTile(rows, packing, rowBytes, m0, valid);
                } else {
                    for (int i = 0; i < ROWS; i++) {
                        for (int lane = 0; lane < ROWS; lane++) {
                            short word = m0 + i < words && lane < valid
                                    ? rows.get(Layouts.SHORT, lane * rowBytes + packing.wordByte(m0 + i))
                                    : ZERO_WEIGHTS;
                            int bits = word & 0xffff;
                            threes |= bits & (bits >>> 1);
                            tileSegment.set(Layouts.SHORT, 2L * (i * ROWS + lane), word);
                        }
                    }
                }
                Base3LookupKernel.encodeChunk(tile, into, Base3LookupKernel.chunkByte(block, chunk, chunks));
            }
            return threes;
        }

        /**
         * Words {@code [m0, m0+32)} of row block {@code block} of repacked weights (I2_S or TQ2_0, 32 rows
         * interleaved) into {@link #tile} (word i of lane r at {@code 32·i + r}), zero weights past the row's end.
         */
        private void interleavedTile(MemorySegment data, int block, int m0, int words, int rows) {
            for (int i = 0; i < ROWS; i++) {
                if (m0 + i < words) {
                    MemorySegment.copy(data, wordByte(block, m0 + i, words, rows, I2SFormat.PASS_WORDS),
                            tileSegment, 2L * i * ROWS, WORD_BYTES);
                } else {
                    java.util.Arrays.fill(tile, i * PAIRS, (i + 1) * PAIRS, ZERO_WEIGHT_PAIRS);
                }
            }
        }

        /**
         * Off-heap memory for the tables of {@code words} word positions, on a cache-line boundary: a 512-bit load
         * from a heap array is only 16-byte aligned and, three times in four, splits across two cache lines.
         */
        private static MemorySegment aligned(int words) {
            return java.lang.foreign.Arena.ofAuto().allocate(2L * words * TABLE, 64);
        }

        MemorySegment tables(int words) {
            if (tables.byteSize() < 2L * words * TABLE) {
                tables = aligned(words);
            }
            return tables;
        }

        /**
         * The tables of every word position of the one token of {@code x}, for {@code packing}: built on the first
         * call for those activations and reused by the next matrices that take them (q, k and v; gate and up).
         */
        MemorySegment tokenTables(Activations x, Packing packing, int words) {
            if (tokenTablesFrom != x || tokenTablesGeneration != x.generation() || tokenTablesPacking != packing) {
                if (tokenTables.byteSize() < 2L * words * TABLE) {
                    tokenTables = aligned(words);
                }
                buildTables(x.wide(), 0, 0, words, packing, tokenTables, 0);
                tokenTablesFrom = x;
                tokenTablesGeneration = x.generation();
                tokenTablesPacking = packing;
            }
            return tokenTables;
        }

        /** Words per 16-bit accumulation over what this thread transposed last: 32 unless it met a weight of 2. */
        int chunkWords() {
            return sawWeightTwo ? CHUNK_WORDS : WIDE_CHUNK_WORDS;
        }

        int[] sums(int size) {
            if (sums.length < size) {
                sums = new int[size];
            }
            return sums;
        }

        float[] floatSums(int size) {
            if (floatSums.length < size) {
                floatSums = new float[size];
            }
            return floatSums;
        }

        float[] scales(int size) {
            if (scales.length < size) {
                scales = new float[size];
            }
            return scales;
        }

        /**
         * The F16 scales of TQ2_0 rows {@code [rowStart, rowEnd)} as floats into {@code into}, at
         * {@code [b·totalBlocks·32 + 32·(intoBlock + rowBlock) + sumIndex(lane)]} for scale block b and row block
         * rowBlock of the range (zero for padding rows). Scale b of row r is at byte
         * {@code first + (r/32)·rowBlockStride + (r%32)·laneStride + b·blockStride} of {@code data}.
         */
        float[] blockScales(MemorySegment data, long first, long rowBlockStride, long laneStride, long blockStride,
                            int scaleBlocks, int rowStart, int rowEnd, float[] into, int totalBlocks,
                            int intoBlock) {
            int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
            for (int local = 0; local < blocks * ROWS; local++) {
                int r = rowStart + local;
                int at = (intoBlock + local / ROWS) * ROWS + sumIndex(local % ROWS);
                for (int b = 0; b < scaleBlocks; b++) {
                    long scaleByte = first + (r / ROWS) * rowBlockStride + (r % ROWS) * laneStride + b * blockStride;
                    into[b * totalBlocks * ROWS + at] = r < rowEnd
                            ? Float.float16ToFloat(data.get(Layouts.SHORT, scaleByte)) : 0f;
                }
            }
            return into;
        }

        /**
         * The {@code words} words of rows {@code [rowStart, rowEnd)} (each {@code rowBytes} long, words placed as
         * {@code packing} says) in the interleaved layout, the last block padded with zero weights. Each 32 rows by
         * 32 words go through a 32×32 transpose in registers; words after the last multiple of 32 are copied one by
         * one.
         */
        MemorySegment transpose(MemorySegment data, Packing packing, long rowBytes, int words, int rowStart,
                                int rowEnd) {
            int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
            return transpose(data, packing, rowBytes, words, rowStart, rowEnd,
                    repacked((long) blocks * words * WORD_BYTES), 0);
        }

        /** This thread's memory for transposed codes, grown to at least {@code bytes}. */
        MemorySegment repacked(long bytes) {
            if (repacked.byteSize() < bytes) {
                repacked = java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
            }
            return repacked;
        }

        /**
         * Rows {@code [rowStart, rowEnd)} of TQ1_0 weights of {@code cols} columns, 32 at a time re-encoded as TQ2_0
         * rows ({@link TQ1Kernel#toTQ2}), transposed into {@code into} from block {@code intoBlock} on and their
         * scales into {@code scales} (as {@link #blockScales} lays them out for {@code totalBlocks} row blocks).
         */
        void transposeTQ1(MemorySegment data, int cols, int rowStart, int rowEnd, MemorySegment into, int intoBlock,
                          float[] scales, int totalBlocks) {
            int scaleBlocks = cols / 256;
            long rowBytes = (long) scaleBlocks * TQ1Kernel.TQ2_BLOCK_BYTES;
            tq2Rows(ROWS * rowBytes);
            sawWeightTwo = false;
            for (int first = rowStart; first < rowEnd; first += ROWS) {
                int valid = Math.min(ROWS, rowEnd - first);
                int block = intoBlock + (first - rowStart) / ROWS;
                TQ1Kernel.toTQ2(data, scaleBlocks, first, valid, tq2Rows);
                transposeBlock(tq2Rows, Packing.TQ2, rowBytes, cols / 8, valid, into, block);
                blockScales(tq2Rows, 2L * Packing.TQ2.wordsPerBlock(), ROWS * rowBytes, rowBytes,
                        Packing.TQ2.blockBytes(), scaleBlocks, 0, valid, scales, totalBlocks, block);
            }
        }

        /**
         * A copy of the {@code bytes} bytes (one block's rows, which lie one after the other) from byte {@code from}
         * of {@code data}, read in order. The transpose reads 32 rows side by side, 32 streams at once, which the
         * hardware prefetcher does not follow: those loads from the mapped file were 9 % of a prompt's JFR samples
         * (pp128, 1 thread); with the copy the whole transpose is 6 %, most of it writing the transposed copy.
         */
        private MemorySegment blockRows(MemorySegment data, long from, long bytes) {
            if (blockRows.byteSize() < bytes) {
                blockRows = java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
            }
            MemorySegment.copy(data, from, blockRows, 0, bytes);
            return blockRows;
        }

        /** {@link #transpose} into {@code into}, the range's first block going to block {@code intoBlock} there. */
        MemorySegment transpose(MemorySegment data, Packing packing, long rowBytes, int words, int rowStart,
                                int rowEnd, MemorySegment into, int intoBlock) {
            int blocks = (rowEnd - rowStart + ROWS - 1) / ROWS;
            sawWeightTwo = false;
            for (int b = 0; b < blocks; b++) {
                int first = rowStart + b * ROWS;
                int valid = Math.min(ROWS, rowEnd - first);
                transposeBlock(blockRows(data, first * rowBytes, valid * rowBytes), packing, rowBytes, words, valid,
                        into, intoBlock + b);
            }
            return into;
        }

        /**
         * The {@code valid} rows at the start of {@code rows} (each {@code rowBytes} long, words placed as
         * {@code packing} says) as block {@code block} of {@code into}, padded with zero weights: each 32 words go
         * through a 32×32 transpose in registers, words after the last multiple of 32 one by one. Notes in
         * {@link #sawWeightTwo} whether a code among the first is 3 (both bits of a pair set); the words after them
         * make up the last chunk of the prompt kernel, of fewer than 32 words, safe whatever they hold.
         */
        private void transposeBlock(MemorySegment rows, Packing packing, long rowBytes, int words, int valid,
                                    MemorySegment into, int block) {
            int whole = words - words % ROWS;
            long threes = 0;
            for (int m0 = 0; m0 < whole; m0 += ROWS) {
                threes |= transposedTile(rows, packing, rowBytes, m0, valid);
                MemorySegment.copy(tileSegment, 0, into, 2L * ((long) block * words + m0) * ROWS, 2L * ROWS * ROWS);
            }
            for (int lane = 0; lane < ROWS; lane++) {
                for (int m = whole; m < words; m++) {
                    short word = lane < valid
                            ? rows.get(Layouts.SHORT, lane * rowBytes + packing.wordByte(m))
                            : ZERO_WEIGHTS;
                    into.set(Layouts.SHORT, 2L * (((long) block * words + m) * ROWS + lane), word);
                }
            }
            if ((threes & 0x5555555555555555L) != 0) {
                sawWeightTwo = true;
            }
        }

        /**
         * Words {@code [m0, m0+32)} of the {@code valid} rows at the start of {@code rows} (each {@code rowBytes}
         * long, words placed as {@code packing} says) transposed into {@link #tile} (word i of row r at
         * short {@code 32·i + r}), padded with zero weights: the first round of {@link #transposeTile} (d = 16) on
         * the rows as they are loaded, the others there. Returns the OR of each loaded int ANDed with itself shifted
         * by one bit: a low bit of a pair set there means a code 3.
         */
        private long transposedTile(MemorySegment rows, Packing packing, long rowBytes, int m0, int valid) {
            IntVector low16 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, 0);
            IntVector high16 = IntVector.fromArray(INTS, PAIR_SWAP_INDEXES, PAIRS);
            IntVector zeroWeights = IntVector.broadcast(INTS, ZERO_WEIGHT_PAIRS);
            IntVector threes = IntVector.zero(INTS);
            for (int lane = 0; lane < PAIRS; lane++) {
                IntVector upper = zeroWeights;
                IntVector lower = zeroWeights;
                if (lane < valid) {
                    upper = LongVector.fromMemorySegment(LONGS, rows, lane * rowBytes + packing.wordByte(m0), LE)
                            .reinterpretAsInts();
                    threes = threes.lanewise(VectorOperators.OR,
                            upper.lanewise(VectorOperators.AND, upper.lanewise(VectorOperators.LSHR, 1)));
                }
                if (lane + PAIRS < valid) {
                    lower = LongVector.fromMemorySegment(LONGS, rows,
                            (lane + PAIRS) * rowBytes + packing.wordByte(m0), LE).reinterpretAsInts();
                    threes = threes.lanewise(VectorOperators.OR,
                            lower.lanewise(VectorOperators.AND, lower.lanewise(VectorOperators.LSHR, 1)));
                }
                low16.selectFrom(upper, lower).intoArray(tile, lane * PAIRS);
                high16.selectFrom(upper, lower).intoArray(tile, (lane + PAIRS) * PAIRS);
            }
            transposeTile(tile);
            return threes.reduceLanes(VectorOperators.OR) & 0xffffffffL;
        }
    }
}
