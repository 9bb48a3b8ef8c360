package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormat;
import io.bitnet4j.tensor.WeightFormats;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fast matrix kernel against the scalar reference on random data: random shapes (odd row counts, several
 * blocks per row), weights at odd offsets inside a larger segment, one to nine tokens (prompt kernels take them
 * two at a time), one to three threads.
 * Integer kernels must agree bit for bit; float kernels (F16, F32) within float rounding of the sum.
 */
class KernelDifferentialTest {
    private static Arena arena;

    @BeforeAll
    static void open() {
        arena = Arena.ofShared();
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    @ParameterizedTest(name = "{0} with {1} activations")
    @CsvSource({
            "I2_S,  I8_TOKEN",
            "TQ2_0, Q8_K",
            "TQ2_0, I8_TOKEN",
            "TQ1_0, Q8_K",
            "TQ1_0, I8_TOKEN",
    })
    void ternaryKernelsEqualTheReferenceExactly(GgmlType type, ActivationType activations) {
        SplittableRandom rng = new SplittableRandom(type.ordinal() * 31L + activations.ordinal());
        int blockColumns = type == GgmlType.I2_S ? 128 : 256;
        for (int trial = 0; trial < 12; trial++) {
            int cols = blockColumns * (1 + rng.nextInt(type == GgmlType.I2_S ? 40 : 20));
            int rows = trial % 3 == 2 ? 100 + rng.nextInt(300) : 1 + rng.nextInt(37);
            int tokens = 1 + rng.nextInt(9);
            float scale = (1 + rng.nextInt(8)) / 64f;
            float[] blockScales = new float[rows * cols / blockColumns];
            for (int b = 0; b < blockScales.length; b++) {
                blockScales[b] = type == GgmlType.I2_S ? scale : (1 + rng.nextInt(64)) / 256f;
            }
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = (rng.nextInt(3) - 1) * blockScales[i / blockColumns];
            }
            WeightMatrix w = matrix(type, values, cols, rows, rng);
            Activations x = activations(activations, cols, tokens, rng, trial % 3 == 0);
            float[] expected = multiply(w, x, KernelSelector.scalar(), 1);
            for (int threads = 1; threads <= 3; threads++) {
                float[] actual = multiply(w, x, KernelSelector.fastest(), threads);
                assertThat(actual).as("%s %dx%d, %d tokens, %d threads", type, rows, cols, tokens, threads)
                        .containsExactly(expected);
            }
        }
    }

    /**
     * Every weight +1 (code 2) against activations at the ends of their codes: all −1 (−127 throughout, for Q8_K,
     * whose iscale is −127/max, and for per-token int8) and all +1 (per-token int8: 127 throughout; Q8_K, with a
     * larger first element −1.01: −127, then 126). The 16-bit lanes of the TQ2_0 decode kernel then reach −32512 and
     * 32512, the most a 256-column block of weights −1, 0 and 1 can give.
     */
    @ParameterizedTest(name = "TQ2_0 with {0} activations of {1}")
    @CsvSource({"Q8_K, -1", "Q8_K, 1", "I8_TOKEN, 1", "I8_TOKEN, -1"})
    void tq2KernelIsExactAtTheEndsOfItsSixteenBitLanes(ActivationType activations, float sign) {
        SplittableRandom rng = new SplittableRandom(7);
        int cols = 256 * 27;
        int rows = 9;
        float[] values = new float[rows * cols];
        java.util.Arrays.fill(values, 0.25f);
        WeightMatrix w = matrix(GgmlType.TQ2_0, values, cols, rows, rng);
        float[] x = new float[cols];
        java.util.Arrays.fill(x, sign);
        if (activations == ActivationType.Q8_K && sign > 0) {
            x[0] = -1.01f;
        }
        Activations prepared = new ActivationPreparer(1).prepare(x, cols, 1, activations);
        float[] expected = multiply(w, prepared, KernelSelector.scalar(), 1);
        assertThat(expected[0]).isEqualTo(sign * cols * 0.25f, org.assertj.core.data.Offset.offset(cols * 0.01f));
        assertThat(multiply(w, prepared, KernelSelector.fastest(), 2)).containsExactly(expected);
    }

    /** Weight type, layout ("interleaved" by {@code --repack}, or the file's) and activations of the lookup tests. */
    static Stream<Arguments> lookupCases() {
        return Stream.of(
                Arguments.of(GgmlType.I2_S, "interleaved", ActivationType.I8_TOKEN),
                Arguments.of(GgmlType.I2_S, "file", ActivationType.I8_TOKEN),
                Arguments.of(GgmlType.TQ2_0, "interleaved", ActivationType.Q8_K),
                Arguments.of(GgmlType.TQ2_0, "interleaved", ActivationType.I8_TOKEN),
                Arguments.of(GgmlType.TQ2_0, "file", ActivationType.Q8_K),
                Arguments.of(GgmlType.TQ2_0, "file", ActivationType.I8_TOKEN),
                Arguments.of(GgmlType.TQ1_0, "file", ActivationType.Q8_K),
                Arguments.of(GgmlType.TQ1_0, "file", ActivationType.I8_TOKEN));
    }

    /**
     * The ternary lookup kernel: I2_S and TQ2_0 (both activation types) on the repacked layout (one token and
     * several) and, with TQ1_0 (re-encoded as TQ2_0 on the way), on the file's layout (prompts of at least
     * {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens, transposed on the fly; row counts that are
     * no multiple of 32 pad the last block), against the reference on the file's layout; on one to three threads,
     * so that prompts of at least {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens per thread are
     * split by tokens (over a shared transposed copy, for the file's layout) and shorter ones by rows.
     */
    @ParameterizedTest(name = "{0} ({1}) with {2} activations")
    @MethodSource("lookupCases")
    void ternaryLookupKernelEqualsTheReferenceExactly(GgmlType type, String layout, ActivationType activations) {
        assumeLookupKernel();
        boolean interleave = layout.equals("interleaved");
        SplittableRandom rng = new SplittableRandom(77 + type.ordinal() * 7L + activations.ordinal());
        int blockColumns = type == GgmlType.I2_S ? 128 : 256;
        for (int trial = 0; trial < 8; trial++) {
            int cols = blockColumns * (1 + rng.nextInt(type == GgmlType.I2_S ? 30 : 15));
            int rows = interleave ? 32 * (1 + rng.nextInt(5)) : 1 + rng.nextInt(140);
            // Trials 1 and 3: more than a tile of the base-3 kernel on one thread (six-token steps, the last tile
            // ending in a step of five, or of three), and two or three tiles' worth split across threads.
            int tokens = interleave && trial % 2 == 0 ? 1 + rng.nextInt(2)
                    : trial == 1 ? Base3LookupKernel.TILE_TOKENS + 5
                    : trial == 3 ? 2 * Base3LookupKernel.TILE_TOKENS + 3
                    : TernaryLookupKernel.MIN_TOKENS_FROM_FILE_LAYOUT + rng.nextInt(33);
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = (rng.nextInt(3) - 1) * (1 + rng.nextInt(4)) * 0.125f;
            }
            WeightMatrix file = matrix(type, values, cols, rows, rng);
            WeightMatrix w = interleave ? interleaved(file) : file;
            Activations x = activations(activations, cols, tokens, rng, trial % 3 == 0);
            float[] expected = multiply(file, x, KernelSelector.scalar(), 1);
            if (interleave) {
                assertThat(multiply(w, x, KernelSelector.scalar(), 1)).as("reference on the interleaved layout")
                        .containsExactly(expected);
            }
            for (int threads = 1; threads <= 3; threads++) {
                float[] actual = multiply(w, x, KernelSelector.fastest(), threads);
                assertThat(actual).as("%s %s %dx%d, %d tokens, %d threads", type, layout, rows, cols, tokens,
                        threads).containsExactly(expected);
            }
        }
    }

    /**
     * Matrices that take the same input go through the lookup kernel together ({@link MatMul#multiply(WeightMatrix[],
     * float[][], int, Activations)}: each chunk's tables built once for all of them), each product exactly its
     * reference: two or three matrices of different row counts (some no multiple of 32), on one to three threads;
     * also groups of more than {@link TernaryLookupKernel#MAX_SHARED_ROWS} rows, which go one after the other, and
     * prompts too short to split by tokens.
     */
    @ParameterizedTest(name = "{0} ({1}) with {2} activations")
    @MethodSource("lookupCases")
    void matricesWithOneInputShareTheirTablesExactly(GgmlType type, String layout, ActivationType activations) {
        assumeLookupKernel();
        boolean interleave = layout.equals("interleaved");
        SplittableRandom rng = new SplittableRandom(91 + type.ordinal() * 5L + activations.ordinal());
        int blockColumns = type == GgmlType.I2_S ? 128 : 256;
        for (int trial = 0; trial < 6; trial++) {
            int cols = blockColumns * (1 + rng.nextInt(type == GgmlType.I2_S ? 12 : 6));
            int count = 2 + rng.nextInt(2);
            boolean large = trial == 5;
            int tokens = trial == 4 ? 1 + rng.nextInt(TernaryLookupKernel.MIN_TOKENS_FROM_FILE_LAYOUT - 1)
                    : TernaryLookupKernel.MIN_TOKENS_FROM_FILE_LAYOUT + rng.nextInt(25);
            WeightMatrix[] ws = new WeightMatrix[count];
            float[][] expected = new float[count][];
            Activations x = activations(activations, cols, tokens, rng, trial % 2 == 0);
            for (int m = 0; m < count; m++) {
                int rows = large ? TernaryLookupKernel.MAX_SHARED_ROWS / 2 + 32 * rng.nextInt(4)
                        : interleave ? 32 * (1 + rng.nextInt(5)) : 1 + rng.nextInt(140);
                float[] values = new float[rows * cols];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (rng.nextInt(3) - 1) * (1 + rng.nextInt(4)) * 0.125f;
                }
                WeightMatrix file = matrix(type, values, cols, rows, rng);
                expected[m] = multiply(file, x, KernelSelector.scalar(), 1);
                ws[m] = interleave ? interleaved(file) : file;
            }
            for (int threads = 1; threads <= 3; threads++) {
                float[][] actual = new float[count][];
                for (int m = 0; m < count; m++) {
                    actual[m] = new float[tokens * ws[m].rows()];
                }
                try (WorkerPool pool = new WorkerPool(threads)) {
                    new MatMul(pool, KernelSelector.fastest()).multiply(ws, actual, count, x);
                }
                for (int m = 0; m < count; m++) {
                    assertThat(actual[m]).as("%s %s, matrix %d of %d (%dx%d), %d tokens, %d threads", type, layout,
                            m, count, ws[m].rows(), cols, tokens, threads).containsExactly(expected[m]);
                }
            }
        }
    }

    private static void assumeLookupKernel() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TernaryLookupKernel.SUPPORTED,
                "the ternary lookup kernel needs 512-bit vectors; this run has " + Simd.BITS);
    }

    private static WeightMatrix interleaved(WeightMatrix file) {
        MemorySegment target = arena.allocate(file.tensor().data().byteSize());
        return file.tensor().type() == GgmlType.I2_S
                ? new WeightMatrix(I2SFormat.interleave(file.tensor(), target), I2SFormat.I2S_128_ROWS_32)
                : new WeightMatrix(io.bitnet4j.tensor.TQ2_0Format.interleave(file.tensor(), target),
                        io.bitnet4j.tensor.TQ2_0Format.ROWS_32);
    }

    /**
     * The prompt kernel's 16-bit sums at their ends, activations that all quantize to 127 against code bytes of
     * every weight 1 (0xAA, codes 2), of codes 3 and 2 alternating (0xEE) and of every code 3 (0xFF; a code 3 is a
     * weight of 2, which no file holds but the reference reads as 2). Over 256 columns the first reach 32512, the
     * most the kernel adds in 16 bits when it has seen no code 3; the others would reach 48768 and 65024, so the
     * kernel, which notices a code 3 while it transposes (the file's layout) or when it is chosen (the repacked
     * one), must sum 128 columns at a time. On one thread, on two (tokens split, one transposed copy shared) and on
     * three (rows split); 136 rows in the file's layout (four row blocks together and one alone), 160 repacked.
     */
    @ParameterizedTest(name = "{0} ({1}), code bytes {2}")
    @CsvSource({"I2_S, file, 0xAA, 1", "I2_S, file, 0xEE, 1.5", "I2_S, file, 0xFF, 2", "TQ2_0, file, 0xAA, 1",
            "TQ2_0, file, 0xEE, 1.5", "TQ2_0, file, 0xFF, 2", "I2_S, interleaved, 0xAA, 1",
            "I2_S, interleaved, 0xEE, 1.5", "TQ2_0, interleaved, 0xAA, 1", "TQ2_0, interleaved, 0xFF, 2"})
    void lookupKernelIsExactAtTheEndsOfItsSixteenBitLanes(GgmlType type, String layout, String codeByte,
                                                           float meanWeight) {
        assumeLookupKernel();
        boolean interleave = layout.equals("interleaved");
        int cols = 2560;
        int rows = interleave ? 160 : 136;
        int tokens = 16;
        float[] values = new float[rows * cols];
        java.util.Arrays.fill(values, 0.25f);
        WeightMatrix w = matrix(type, values, cols, rows, new SplittableRandom(3));
        MemorySegment data = w.tensor().data();
        int blockBytes = type == GgmlType.I2_S ? 32 : 66;
        int codeBytes = type == GgmlType.I2_S ? 32 : 64;
        for (long block = 0; block < (long) rows * cols / (4 * codeBytes); block++) {
            data.asSlice(block * blockBytes, codeBytes).fill((byte) Integer.decode(codeByte).intValue());
        }
        WeightMatrix file = w;
        if (interleave) {
            w = interleaved(file);
        }
        float[] x = new float[tokens * cols];
        java.util.Arrays.fill(x, 1f);
        Activations prepared = new ActivationPreparer(tokens).prepare(x, cols, tokens, ActivationType.I8_TOKEN);
        float[] expected = multiply(file, prepared, KernelSelector.scalar(), 1);
        assertThat(expected[0]).as("the reference").isEqualTo(meanWeight * cols * 0.25f);
        for (int threads = 1; threads <= 3; threads++) {
            assertThat(multiply(w, prepared, KernelSelector.fastest(), threads)).as("%d threads", threads)
                    .containsExactly(expected);
        }
    }

    /**
     * The base-3 prompt kernel keeps I2_S sums in 16 bits over 4, 2 or 1 chunks of 256 columns, as far as every
     * token's {@code Σ |q|} allows: activations of one outlier (127) and the rest 20, 40 or 100 (spans of 4, 2 and
     * 1 chunks) against weights of every +1 (each row's sum is {@code Σ q}, the most a span can hold) and of random
     * signs, 2,560 columns (ten chunks: spans that do not divide them) plus 128 (a partial chunk), on one to three
     * threads, exactly the reference.
     */
    @ParameterizedTest(name = "activations {0}, {1} columns")
    @CsvSource({"20, 2560", "40, 2560", "100, 2560", "40, 2688", "20, 2688"})
    void base3KernelWidensItsSumsBeforeTheyCanOverflow(int level, int cols) {
        assumeLookupKernel();
        int rows = 128;
        int tokens = 16;
        SplittableRandom rng = new SplittableRandom(level * 31L + cols);
        float[] x = new float[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            java.util.Arrays.fill(x, t * cols, (t + 1) * cols, (t % 2 == 0 ? 1 : -1) * level / 127f);
            x[t * cols + rng.nextInt(cols)] = 1f;
        }
        Activations prepared = new ActivationPreparer(tokens).prepare(x, cols, tokens, ActivationType.I8_TOKEN);
        for (boolean allOnes : new boolean[] {true, false}) {
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = allOnes ? 0.25f : (rng.nextInt(3) - 1) * 0.25f;
            }
            WeightMatrix w = matrix(GgmlType.I2_S, values, cols, rows, rng);
            float[] expected = multiply(w, prepared, KernelSelector.scalar(), 1);
            if (allOnes) {
                assertThat(expected[0]).as("the reference").isNotEqualTo(0f);
            }
            for (int threads = 1; threads <= 3; threads++) {
                assertThat(multiply(w, prepared, KernelSelector.fastest(), threads))
                        .as("%s weights, %d threads", allOnes ? "+1" : "random", threads).containsExactly(expected);
            }
        }
    }

    /**
     * TQ1_0 rows re-encoded as TQ2_0 for the lookup kernel's prompts hold the same values: random bytes (every base-3
     * digit pattern, and bytes no encoder writes), nonzero scales, rows from the middle of a matrix at an odd offset,
     * against the scalar decoders of both formats.
     */
    @org.junit.jupiter.api.Test
    void tq1RowsReencodedAsTq2KeepEveryValue() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TernaryLookupKernel.SUPPORTED,
                "the TQ1_0 to TQ2_0 re-encoding serves the lookup kernel, which needs 512-bit vectors; this run has "
                        + Simd.BITS);
        SplittableRandom rng = new SplittableRandom(54);
        for (int trial = 0; trial < 20; trial++) {
            int blocks = 1 + rng.nextInt(12);
            int rows = 1 + rng.nextInt(40);
            int first = rng.nextInt(rows);
            int count = 1 + rng.nextInt(rows - first);
            long tq1RowBytes = 54L * blocks;
            MemorySegment holder = arena.allocate(tq1RowBytes * rows + 3);
            MemorySegment tq1 = holder.asSlice(1 + rng.nextInt(2), tq1RowBytes * rows);
            for (long i = 0; i < tq1.byteSize(); i++) {
                tq1.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rng.nextInt(256));
            }
            for (long block = 0; block < (long) rows * blocks; block++) {
                short scale = Float.floatToFloat16((rng.nextBoolean() ? 1 : -1) * (1 + rng.nextInt(1000)) / 64f);
                tq1.set(io.bitnet4j.tensor.Layouts.SHORT, 54 * block + 52, scale);
            }
            MemorySegment tq2 = arena.allocate(66L * blocks * count);
            TQ1Kernel.toTQ2(tq1, blocks, first, count, tq2);
            Tensor source = new Tensor("tq1", GgmlType.TQ1_0, new long[] {256L * blocks, rows}, tq1);
            Tensor target = new Tensor("tq2", GgmlType.TQ2_0, new long[] {256L * blocks, count}, tq2);
            for (int r = 0; r < count; r++) {
                float[] expected = new float[256 * blocks];
                float[] actual = new float[256 * blocks];
                WeightFormats.of(GgmlType.TQ1_0).decodeRow(source, first + r, expected, 0);
                WeightFormats.of(GgmlType.TQ2_0).decodeRow(target, r, actual, 0);
                assertThat(actual).as("row %d of %d, %d blocks", first + r, rows, blocks).containsExactly(expected);
            }
        }
    }

    /**
     * The Q6_K kernel on random blocks (every 6-bit code, signed sub-block scales, random F16 block scales) against
     * the reference, bit for bit: its integer sums are exact and its float steps are the reference's. Row counts
     * from a handful (single rows) to hundreds (groups of rows from several parts of a thread's share, then leftovers).
     */
    @org.junit.jupiter.api.Test
    void q6kKernelEqualsTheReferenceExactly() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Q6KKernel.SUPPORTED,
                "the Q6_K kernel needs 512-bit vectors; this run has " + Simd.BITS);
        SplittableRandom rng = new SplittableRandom(66);
        for (int trial = 0; trial < 10; trial++) {
            int cols = 256 * (1 + rng.nextInt(12));
            int rows = trial % 2 == 0 ? 1 + rng.nextInt(37) : 100 + rng.nextInt(300);
            int tokens = 1 + rng.nextInt(4);
            byte[] bytes = new byte[rows * cols / 256 * 210];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) rng.nextInt(256);
            }
            for (int block = 0; block < bytes.length / 210; block++) {
                short d = Float.floatToFloat16((float) (rng.nextDouble(0.5, 2) / 256));
                bytes[block * 210 + 208] = (byte) d;
                bytes[block * 210 + 209] = (byte) (d >> 8);
            }
            int offset = 1 + 2 * rng.nextInt(20);
            MemorySegment data = arena.allocate(bytes.length + offset).asSlice(offset, bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
            WeightMatrix w = WeightMatrix.of(new Tensor("q6k", GgmlType.Q6_K, new long[] {cols, rows}, data),
                    I2SFormat.I2S_128);
            Activations x = activations(ActivationType.Q8_K, cols, tokens, rng, trial % 3 == 0);
            float[] expected = multiply(w, x, KernelSelector.scalar(), 1);
            assertThat(KernelSelector.fastest().forMatrix(w, ActivationType.Q8_K)).isSameAs(Q6KKernel.INSTANCE);
            for (int threads = 1; threads <= 2; threads++) {
                assertThat(multiply(w, x, KernelSelector.fastest(), threads))
                        .as("Q6_K %dx%d, %d tokens, %d threads", rows, cols, tokens, threads).containsExactly(expected);
            }
        }
    }

    /**
     * The kernels keep per-thread copies made from the activations (aligned 16-bit rows, differences) until the rows
     * change: products on one thread, on rows the same preparer rewrites each round, must each see the new rows.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q6_K, Q8_K", "I2_S, I8_TOKEN", "TQ2_0, Q8_K"})
    void kernelsSeeRowsRewrittenInTheSameActivations(GgmlType type, ActivationType activationType) {
        SplittableRandom rng = new SplittableRandom(type.ordinal());
        int cols = 512;
        int rows = 8;
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (rng.nextInt(3) - 1) * 0.25f;
        }
        WeightMatrix w = matrix(type, values, cols, rows, rng);
        ActivationPreparer preparer = new ActivationPreparer(1, KernelSelector.fastest(), null);
        try (WorkerPool pool = new WorkerPool(1)) {
            MatMul fastest = new MatMul(pool, KernelSelector.fastest());
            for (int round = 0; round < 3; round++) {
                float[] x = new float[cols];
                for (int i = 0; i < cols; i++) {
                    x[i] = (float) rng.nextGaussian();
                }
                Activations a = preparer.prepare(x, cols, 1, activationType);
                float[] expected = multiply(w, a, KernelSelector.scalar(), 1);
                float[] actual = new float[rows];
                fastest.multiply(w, a, actual);
                assertThat(actual).as("%s, round %d", type, round).containsExactly(expected);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"F16", "F32", "Q8_0"})
    void floatKernelsAgreeWithTheReferenceWithinRounding(GgmlType type) {
        SplittableRandom rng = new SplittableRandom(type.ordinal());
        for (int trial = 0; trial < 12; trial++) {
            int cols = type == GgmlType.Q8_0 ? 32 * (1 + rng.nextInt(40)) : 1 + rng.nextInt(700);
            int rows = 1 + rng.nextInt(37);
            int tokens = 1 + rng.nextInt(3);
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (rng.nextGaussian() * 0.05);
            }
            WeightMatrix w = matrix(type, values, cols, rows, rng);
            ActivationType at = WeightFormats.of(type).activationType();
            Activations x = activations(at, cols, tokens, rng, false);
            float[] expected = multiply(w, x, KernelSelector.scalar(), 1);
            float[] actual = multiply(w, x, KernelSelector.fastest(), 1 + trial % 3);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double magnitude = 0;
                    for (int c = 0; c < cols; c++) {
                        double xc = at == ActivationType.Q8_0 ? x.quants()[t * cols + c] * x.scales()[(t * cols + c) / 32]
                                : x.values()[t * cols + c];
                        magnitude += Math.abs((double) values[r * cols + c] * xc);
                    }
                    int i = t * rows + r;
                    assertThat((double) actual[i]).as("%s row %d of %dx%d", type, r, rows, cols)
                            .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6 * magnitude + 1e-30));
                }
            }
        }
    }

    /**
     * Weights of −128 and 127 (int8's ends: a file may hold −128, which weights encoded here never do) times
     * activations quantized to ±127, so that the products the kernel sums exactly in pairs reach their extremes.
     */
    @org.junit.jupiter.api.Test
    void q8KernelAddsExtremeProductsExactly() {
        int cols = 128;
        int rows = 8;
        int blocks = cols / 32;
        MemorySegment data = arena.allocate(34L * blocks * rows);
        SplittableRandom rng = new SplittableRandom(3);
        for (int block = 0; block < blocks * rows; block++) {
            data.set(io.bitnet4j.tensor.Layouts.SHORT, 34L * block, Float.floatToFloat16(0.5f));
            for (int i = 0; i < 32; i++) {
                data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 34L * block + 2 + i,
                        rng.nextBoolean() ? (byte) -128 : (byte) 127);
            }
        }
        WeightMatrix w = WeightMatrix.of(new Tensor("w", GgmlType.Q8_0, new long[] {cols, rows}, data),
                I2SFormat.I2S_128);
        float[] input = new float[cols];
        for (int i = 0; i < cols; i++) {
            input[i] = rng.nextBoolean() ? 1f : -1f;
        }
        Activations x = new ActivationPreparer(1).prepare(input, cols, 1, ActivationType.Q8_0);
        float[] expected = multiply(w, x, KernelSelector.scalar(), 1);
        float[] actual = new float[rows];
        Q8Kernel.INSTANCE.multiply(w, x, actual, 0, rows);
        double magnitude = cols * 0.5 * 128 * 127 * x.scales()[0];
        for (int r = 0; r < rows; r++) {
            assertThat((double) actual[r]).as("row %d", r).isCloseTo(expected[r],
                    org.assertj.core.data.Offset.offset(1e-6 * magnitude));
        }
    }

    @org.junit.jupiter.api.Test
    void f16KernelReadsInfinitiesAndNaNsAsTheyAre() {
        int cols = 64;
        float[] values = new float[2 * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = 0.5f;
        }
        values[3] = Float.POSITIVE_INFINITY;
        values[cols + 5] = Float.NaN;
        WeightMatrix w = matrix(GgmlType.F16, values, cols, 2, new SplittableRandom(1));
        Activations x = new Activations(ActivationType.F16, cols, 1);
        java.util.Arrays.fill(x.values(), 1f);
        x.setTokens(1);
        float[] out = multiply(w, x, KernelSelector.fastest(), 1);
        assertThat(out[0]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(out[1]).isNaN();
    }

    /**
     * The scan that picks the F16 kernel finds one infinity or NaN wherever it sits (in the four-halves-at-a-time
     * part and in the tail, at an odd byte offset), and passes the finite halves nearest to them.
     */
    @org.junit.jupiter.api.Test
    void f16ScanFindsEveryNonFiniteHalf() {
        int cols = 7;
        int rows = 5;
        short[] finite = {0x7bff, (short) 0xfbff, 0x0000, (short) 0x8000, 0x03ff, 0x3c00, 0x7800};
        short[] nonFinite = {0x7c00, (short) 0xfc00, 0x7e00, 0x7c01, (short) 0xffff};
        MemorySegment holder = arena.allocate(2L * cols * rows + 3);
        MemorySegment data = holder.asSlice(1, 2L * cols * rows);
        WeightMatrix w = WeightMatrix.of(new Tensor("w", GgmlType.F16, new long[] {cols, rows}, data),
                I2SFormat.I2S_128);
        for (int i = 0; i < cols * rows; i++) {
            data.set(io.bitnet4j.tensor.Layouts.SHORT, 2L * i, finite[i % finite.length]);
        }
        assertThat(F16Kernel.forTensor(w)).isSameAs(F16Kernel.FINITE);
        for (int at = 0; at < cols * rows; at++) {
            short kept = data.get(io.bitnet4j.tensor.Layouts.SHORT, 2L * at);
            for (short half : nonFinite) {
                data.set(io.bitnet4j.tensor.Layouts.SHORT, 2L * at, half);
                assertThat(F16Kernel.forTensor(w)).as("0x%04x at half %d", half & 0xffff, at)
                        .isSameAs(F16Kernel.PATCHED);
            }
            data.set(io.bitnet4j.tensor.Layouts.SHORT, 2L * at, kept);
        }
    }

    /**
     * Weights and activations at the ends of the F16 range (the largest finite half, subnormal halves, activations of
     * ±65504 and ±2^-24): the eight-row path moves the weights' rebiasing by 2^112 onto the activations, which must
     * neither overflow nor lose bits there.
     */
    @org.junit.jupiter.api.Test
    void f16KernelIsExactAtTheEndsOfTheHalfRange() {
        int cols = 96;
        int rows = 8;
        float[] extremes = {65504f, -65504f, 0x1p-24f, -0x1p-24f, 0x1.ff8p-15f, 1f, -0.5f, 0f};
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = extremes[(i * 7 + i / cols) % extremes.length];
        }
        WeightMatrix w = matrix(GgmlType.F16, values, cols, rows, new SplittableRandom(3));
        Activations x = new Activations(ActivationType.F16, cols, 1);
        for (int c = 0; c < cols; c++) {
            x.values()[c] = c % 2 == 0 ? extremes[(c / 2) % extremes.length] * 0x1p-32f : extremes[(c / 2) % 4];
        }
        x.setTokens(1);
        float[] expected = multiply(w, x, KernelSelector.scalar(), 1);
        float[] actual = multiply(w, x, KernelSelector.fastest(), 1);
        for (int r = 0; r < rows; r++) {
            double magnitude = 0;
            for (int c = 0; c < cols; c++) {
                magnitude += Math.abs((double) values[r * cols + c] * x.values()[c]);
            }
            assertThat((double) actual[r]).as("row %d", r)
                    .isCloseTo(expected[r], org.assertj.core.data.Offset.offset(1e-6 * magnitude + 1e-30));
            assertThat(Float.isFinite(actual[r])).as("row %d is finite", r).isEqualTo(Float.isFinite(expected[r]));
        }
    }

    /** Encodes {@code values} and places the bytes at an odd offset inside a larger segment. */
    private static WeightMatrix matrix(GgmlType type, float[] values, int cols, int rows, SplittableRandom rng) {
        WeightFormat format = WeightFormats.of(type);
        byte[] bytes = format.encode(values, new long[] {cols, rows});
        int offset = 1 + 2 * rng.nextInt(20);
        MemorySegment holder = arena.allocate(bytes.length + offset + 64);
        MemorySegment data = holder.asSlice(offset, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
        return WeightMatrix.of(new Tensor("w", type, new long[] {cols, rows}, data), I2SFormat.I2S_128);
    }

    /** Random activation rows prepared for {@code type}; some rows with outliers, so codes span the int8 range. */
    private static Activations activations(ActivationType type, int cols, int tokens, SplittableRandom rng,
                                           boolean outliers) {
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
            if (outliers && rng.nextInt(50) == 0) {
                x[i] *= 40;
            }
        }
        return new ActivationPreparer(tokens).prepare(x, cols, tokens, type);
    }

    private static float[] multiply(WeightMatrix w, Activations x, KernelSelector kernels, int threads) {
        float[] out = new float[x.tokens() * w.rows()];
        try (WorkerPool pool = new WorkerPool(threads)) {
            new MatMul(pool, kernels).multiply(w, x, out);
        }
        return out;
    }
}
