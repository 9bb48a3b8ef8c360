package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.MUL;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention} on the Vector API, operation for operation: each 16-lane accumulator of ggml's {@code vec_dot}
 * is one 512-bit float vector, the fused multiply-adds and the lane tree are the same, so the results are bit for bit
 * those of the scalar reference. Used when float vectors have 16 lanes (AVX-512); other machines run the reference.
 */
final class VectorAttention {
    /** Whether this machine's float vectors match ggml's 16 lanes. */
    static final boolean SUPPORTED = FLOATS.length() == GgmlMath.LANES;
    private static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class,
            VectorShape.forBitSize(Simd.BITS / 2));
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_512;
    private static final VectorSpecies<Float> HALF_FLOATS = FloatVector.SPECIES_256;

    private VectorAttention() {
    }

    static void headF16(float[] q, int qOff, short[] k, short[] v, int kvOff, int rowStride, int valueStride,
                        int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
        float[] query = s.query;
        for (int i = 0; i < headDim; i++) {
            query[i] = Attention.roundToF16(q[qOff + i]);
        }
        float[] p = s.scores;
        for (int j = 0; j < length; j++) {
            p[j] = dotF16(k, j * rowStride + kvOff, query, 0, headDim);
        }
        softmax(p, length, scale, s.lanes);
        int padded = Attention.paddedLength(length);
        for (int j = 0; j < length; j++) {
            p[j] = Attention.roundToF16(p[j]);
        }
        Arrays.fill(p, length, padded, 0f);
        valuesF16(v, kvOff * valueStride, valueStride, p, length, padded, headDim, out, outOff);
    }

    /**
     * {@link #headF16} for {@code groups} groups of four query heads, each four sharing one cache head (grouped-query
     * attention): the heads from {@code firstHead} on, at {@code q[qOff + h·headDim ..]}, results at
     * {@code out[outOff + h·headDim ..]}; head h reads cache head {@code h / groupSize}. Every head's operations and
     * their order are those of {@link #headF16}: each position's keys (those of all the groups' cache heads) and each
     * pair of value rows are widened into scratch once and go through {@link #fourScores} and
     * {@link #twoValueRows} (widened inside those loops, each value row was widened once per pair of heads; decoding
     * ran the same speed, tg64 and tg32 at depth 1024). The scores go position by position through all the groups,
     * so that each position's keys (for the groups side by side in one cache row) are read once and in order: group
     * by group, decoding read 256 of every 1,280 bytes per pass, at half the speed from memory (the 2B-4T shape at
     * 2,048 positions).
     */
    static void groupsF16(float[] q, int qOff, short[] k, short[] v, int firstHead, int groupSize, int rowStride,
                          int valueStride, int length, int headDim, int groups, float scale, Attention.Scratch s,
                          float[] out, int outOff) {
        s.reserveGroups(groups);
        float[] query = s.groupQueries;
        for (int i = 0; i < 4 * headDim * groups; i++) {
            query[i] = Attention.roundToF16(q[qOff + i]);
        }
        float[][] p = s.groupScores;
        int firstKv = firstHead / groupSize * headDim;
        int keys = ((firstHead + 4 * groups - 1) / groupSize + 1) * headDim - firstKv;
        for (int j = 0; j < length; j++) {
            widen(k, j * rowStride + firstKv, s.keyRows, 0, keys);
            for (int g = 0; g < groups; g++) {
                int kvOff = (firstHead + 4 * g) / groupSize * headDim;
                fourScores(s.keyRows, kvOff - firstKv, query, 4 * g * headDim, headDim, p, 4 * g, j);
            }
        }
        int padded = probabilities(p, 4 * groups, length, scale, s);
        for (int g = 0; g < groups; g++) {
            int kvOff = (firstHead + 4 * g) / groupSize * headDim;
            int base = kvOff * valueStride;
            int half = (headDim + 1) / 2;
            for (int d = 0; d < half; d++) {
                int dB = Math.min(d + half, headDim - 1);
                widen(v, base + d * valueStride, s.valueRows, 0, padded);
                widen(v, base + dB * valueStride, s.valueRows, padded, padded);
                twoValueRows(s.valueRows, 0, padded, p, 4 * g, length, padded, d, dB, headDim, out,
                        outOff + 4 * g * headDim);
            }
        }
    }

    /**
     * {@link #groupsF16} for one group of four heads over a cache layer widened to floats for a prompt, in tiles of
     * 16 lanes ({@link AttentionKernel#widenKeys}, {@link AttentionKernel#widenValues}): keys by blocks of 16
     * positions, element i of position 16b + l at {@code keys[(b·kvDim + i)·16 + l]}; values by blocks of 16 of a
     * cache head's dimensions, dimension 16c + l of cache head k at position j at
     * {@code values[((k·⌈headDim/16⌉ + c)·positions + j)·16 + l]}. Every dot product is still ggml's
     * {@code vec_dot} of one key (or value column) with one query (or row of probabilities), operation for
     * operation, but sixteen of them run side by side in the lanes of a vector, sixteen positions' scores and then
     * sixteen output dimensions, for the four heads at once ({@link #fourHeadDots}): each tile row is loaded once
     * for the four, and no lane tree runs across a vector. One dot at a time with a lane tree at its end took about
     * 130 cycles a position for four heads, mostly range checks and trees, and the values' remaining elements were
     * added in double one output at a time (a third of the attention of a 128-token prompt).
     */
    static void groupWidened(float[] q, int qOff, float[] keys, float[] values, int positions, int kvOff, int kvDim,
                             int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
        int lanes = GgmlMath.LANES;
        float[] sideBySide = s.sideBySide(4 * Math.max(headDim, Attention.paddedLength(length)));
        for (int h = 0; h < 4; h++) {
            for (int i = 0; i < headDim; i++) {
                sideBySide[4 * i + h] = Attention.roundToF16(q[qOff + h * headDim + i]);
            }
        }
        float[][] p = s.groupScores;
        float[] sums = s.laneSums;
        for (int j = 0; j < length; j += lanes) {
            fourHeadDots(keys, (j / lanes * kvDim + kvOff) * lanes, sideBySide, headDim, headDim, sums);
            for (int h = 0; h < 4; h++) {
                System.arraycopy(sums, RESULTS + h * lanes, p[h], j, lanes);
            }
        }
        int padded = probabilities(p, 4, length, scale, s);
        for (int h = 0; h < 4; h++) {
            for (int j = 0; j < padded; j++) {
                sideBySide[4 * j + h] = p[h][j];
            }
        }
        // The padding cells after the blocks only add ±0 to each sum: stop at the length ({@link #twoValueRows}).
        int end = Math.min(length, padded);
        int blocks = (headDim + lanes - 1) / lanes;
        int firstBlock = kvOff / headDim * blocks;
        for (int c = 0; c < blocks; c++) {
            fourHeadDots(values, (firstBlock + c) * positions * lanes, sideBySide, padded, end, sums);
            int count = Math.min(lanes, headDim - c * lanes);
            for (int h = 0; h < 4; h++) {
                System.arraycopy(sums, RESULTS + h * lanes, out, outOff + h * headDim + c * lanes, count);
            }
        }
    }

    /** Where {@link #fourHeadDots} leaves its results in the scratch: head h's sixteen at {@code RESULTS + 16h}. */
    private static final int RESULTS = 4 * GgmlMath.LANES * GgmlMath.LANES;

    /**
     * Sixteen of ggml's {@code vec_dot} over {@code n} elements side by side for each of four heads: lane l of head
     * h is the dot of tile column l (element i at {@code m[base + 16i + l]}) with head h's row, whose element i is
     * {@code x[4i + h]} (the heads side by side at constant distances, so that C2 checks the bounds of a loop's loads
     * once rather than each head's; each is broadcast from memory, which takes no vector port: spread over 16 lanes
     * in memory, the rows of four heads crowded the L1 cache and the attention ran 40 % slower). The 64-element
     * blocks as {@link #blockedDots} sums them, then the elements after them up to {@code end} added one by one in
     * double ({@link #addRemaining}). Results in {@code sums} from {@link #RESULTS} on, which holds 1,088 floats.
     * (Three methods: as one, C2 stopped inlining the vector operations at its node limit and boxed their results.)
     */
    private static void fourHeadDots(float[] m, int base, float[] x, int n, int end, float[] sums) {
        int blocked = n & ~63;
        if (blocked > 0) {
            blockedDots(m, base, x, blocked, sums);
            for (int h = 0; h < 4; h++) {
                laneTree(sums, h * GgmlMath.LANES * GgmlMath.LANES, RESULTS + h * GgmlMath.LANES);
            }
        } else {
            Arrays.fill(sums, RESULTS, RESULTS + 4 * GgmlMath.LANES, 0f);
        }
        if (end > blocked) {
            addRemaining(m, base, x, blocked, end, sums);
        }
    }

    /**
     * The first {@code blocked} (a multiple of 64) elements as ggml sums them: each block multiplied into four
     * accumulators of 16 lanes with fused multiply-adds, lane k of accumulator a holding element 16a + k of every
     * block (here lane k of all four per pass over the blocks, for sixteen dots at once), and the four combined
     * {@code (a0+a2)+(a1+a3)}: head h's lane k of every dot in row k of {@code sums[256h ..]}.
     */
    private static void blockedDots(float[] m, int base, float[] x, int blocked, float[] sums) {
        FloatVector zero = FloatVector.zero(FLOATS);
        for (int k = 0; k < GgmlMath.LANES; k++) {
            int e = k * GgmlMath.LANES;
            int xk = 4 * k;
            // The first two blocks (all a prompt of up to 128 positions has) written out: as one loop from the first
            // block, a stand-alone run of 128 tokens once allocated 4 MB a layer (boxed vectors) and ran 3.6 against
            // 3.0-3.3 ms a layer, and the loop's range checks ran again at every k.
            FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
            FloatVector w0 = FloatVector.fromArray(FLOATS, m, base + e);
            FloatVector w1 = FloatVector.fromArray(FLOATS, m, base + e + 256);
            FloatVector w2 = FloatVector.fromArray(FLOATS, m, base + e + 512);
            FloatVector w3 = FloatVector.fromArray(FLOATS, m, base + e + 768);
            a00 = w0.fma(FloatVector.broadcast(FLOATS, x[xk]), zero);
            a01 = w1.fma(FloatVector.broadcast(FLOATS, x[xk + 64]), zero);
            a02 = w2.fma(FloatVector.broadcast(FLOATS, x[xk + 128]), zero);
            a03 = w3.fma(FloatVector.broadcast(FLOATS, x[xk + 192]), zero);
            a10 = w0.fma(FloatVector.broadcast(FLOATS, x[xk + 1]), zero);
            a11 = w1.fma(FloatVector.broadcast(FLOATS, x[xk + 65]), zero);
            a12 = w2.fma(FloatVector.broadcast(FLOATS, x[xk + 129]), zero);
            a13 = w3.fma(FloatVector.broadcast(FLOATS, x[xk + 193]), zero);
            a20 = w0.fma(FloatVector.broadcast(FLOATS, x[xk + 2]), zero);
            a21 = w1.fma(FloatVector.broadcast(FLOATS, x[xk + 66]), zero);
            a22 = w2.fma(FloatVector.broadcast(FLOATS, x[xk + 130]), zero);
            a23 = w3.fma(FloatVector.broadcast(FLOATS, x[xk + 194]), zero);
            a30 = w0.fma(FloatVector.broadcast(FLOATS, x[xk + 3]), zero);
            a31 = w1.fma(FloatVector.broadcast(FLOATS, x[xk + 67]), zero);
            a32 = w2.fma(FloatVector.broadcast(FLOATS, x[xk + 131]), zero);
            a33 = w3.fma(FloatVector.broadcast(FLOATS, x[xk + 195]), zero);
            if (blocked > 64) {
                FloatVector v0 = FloatVector.fromArray(FLOATS, m, base + e + 1024);
                FloatVector v1 = FloatVector.fromArray(FLOATS, m, base + e + 1280);
                FloatVector v2 = FloatVector.fromArray(FLOATS, m, base + e + 1536);
                FloatVector v3 = FloatVector.fromArray(FLOATS, m, base + e + 1792);
                a00 = v0.fma(FloatVector.broadcast(FLOATS, x[xk + 256]), a00);
                a01 = v1.fma(FloatVector.broadcast(FLOATS, x[xk + 320]), a01);
                a02 = v2.fma(FloatVector.broadcast(FLOATS, x[xk + 384]), a02);
                a03 = v3.fma(FloatVector.broadcast(FLOATS, x[xk + 448]), a03);
                a10 = v0.fma(FloatVector.broadcast(FLOATS, x[xk + 257]), a10);
                a11 = v1.fma(FloatVector.broadcast(FLOATS, x[xk + 321]), a11);
                a12 = v2.fma(FloatVector.broadcast(FLOATS, x[xk + 385]), a12);
                a13 = v3.fma(FloatVector.broadcast(FLOATS, x[xk + 449]), a13);
                a20 = v0.fma(FloatVector.broadcast(FLOATS, x[xk + 258]), a20);
                a21 = v1.fma(FloatVector.broadcast(FLOATS, x[xk + 322]), a21);
                a22 = v2.fma(FloatVector.broadcast(FLOATS, x[xk + 386]), a22);
                a23 = v3.fma(FloatVector.broadcast(FLOATS, x[xk + 450]), a23);
                a30 = v0.fma(FloatVector.broadcast(FLOATS, x[xk + 259]), a30);
                a31 = v1.fma(FloatVector.broadcast(FLOATS, x[xk + 323]), a31);
                a32 = v2.fma(FloatVector.broadcast(FLOATS, x[xk + 387]), a32);
                a33 = v3.fma(FloatVector.broadcast(FLOATS, x[xk + 451]), a33);
            }
            for (int b = 128; b < blocked; b += 64) {
                FloatVector u0 = FloatVector.fromArray(FLOATS, m, base + e + 16 * b);
                FloatVector u1 = FloatVector.fromArray(FLOATS, m, base + e + 16 * b + 256);
                FloatVector u2 = FloatVector.fromArray(FLOATS, m, base + e + 16 * b + 512);
                FloatVector u3 = FloatVector.fromArray(FLOATS, m, base + e + 16 * b + 768);
                a00 = u0.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b]), a00);
                a01 = u1.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 64]), a01);
                a02 = u2.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 128]), a02);
                a03 = u3.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 192]), a03);
                a10 = u0.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 1]), a10);
                a11 = u1.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 65]), a11);
                a12 = u2.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 129]), a12);
                a13 = u3.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 193]), a13);
                a20 = u0.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 2]), a20);
                a21 = u1.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 66]), a21);
                a22 = u2.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 130]), a22);
                a23 = u3.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 194]), a23);
                a30 = u0.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 3]), a30);
                a31 = u1.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 67]), a31);
                a32 = u2.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 131]), a32);
                a33 = u3.fma(FloatVector.broadcast(FLOATS, x[xk + 4 * b + 195]), a33);
            }
            a00.add(a02).add(a01.add(a03)).intoArray(sums, e);
            a10.add(a12).add(a11.add(a13)).intoArray(sums, 256 + e);
            a20.add(a22).add(a21.add(a23)).intoArray(sums, 512 + e);
            a30.add(a32).add(a31.add(a33)).intoArray(sums, 768 + e);
        }
    }

    /**
     * {@code _mm512_reduce_add_ps}'s tree for sixteen dots, lane k of every dot in row k of {@code sums[from ..]}:
     * k + (k+8), then + 4, + 2, + 1; the sixteen sums to {@code sums[to ..]}.
     */
    private static void laneTree(float[] sums, int from, int to) {
        FloatVector t0 = FloatVector.fromArray(FLOATS, sums, from).add(FloatVector.fromArray(FLOATS, sums, from + 128));
        FloatVector t1 = FloatVector.fromArray(FLOATS, sums, from + 16)
                .add(FloatVector.fromArray(FLOATS, sums, from + 144));
        FloatVector t2 = FloatVector.fromArray(FLOATS, sums, from + 32)
                .add(FloatVector.fromArray(FLOATS, sums, from + 160));
        FloatVector t3 = FloatVector.fromArray(FLOATS, sums, from + 48)
                .add(FloatVector.fromArray(FLOATS, sums, from + 176));
        FloatVector t4 = FloatVector.fromArray(FLOATS, sums, from + 64)
                .add(FloatVector.fromArray(FLOATS, sums, from + 192));
        FloatVector t5 = FloatVector.fromArray(FLOATS, sums, from + 80)
                .add(FloatVector.fromArray(FLOATS, sums, from + 208));
        FloatVector t6 = FloatVector.fromArray(FLOATS, sums, from + 96)
                .add(FloatVector.fromArray(FLOATS, sums, from + 224));
        FloatVector t7 = FloatVector.fromArray(FLOATS, sums, from + 112)
                .add(FloatVector.fromArray(FLOATS, sums, from + 240));
        t0.add(t4).add(t2.add(t6)).add(t1.add(t5).add(t3.add(t7))).intoArray(sums, to);
    }

    /**
     * Elements {@code [from, end)} of the four heads' sixteen dots added to their sums ({@link #RESULTS}) in
     * double, one element after the other (ggml's order for the elements after the blocks), eight dots a vector.
     * Sums and products are {@code lanewise(ADD|MUL, vector)} calls, for the reason {@code I2SKernel.dotEightRows}
     * gives (with a scalar operand {@code lanewise} is again such a shared call).
     */
    private static void addRemaining(float[] m, int base, float[] x, int from, int end, float[] sums) {
        int half = HALF_FLOATS.length();
        DoubleVector low0 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector high0 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + half)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector low1 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + 16)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector high1 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + 16 + half)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector low2 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + 32)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector high2 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + 32 + half)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector low3 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + 48)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector high3 = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, sums, RESULTS + 48 + half)
                .convertShape(VectorOperators.F2D, DOUBLES, 0);
        for (int i = from; i < end; i++) {
            int row = base + i * GgmlMath.LANES;
            FloatVector first = FloatVector.fromArray(HALF_FLOATS, m, row);
            FloatVector second = FloatVector.fromArray(HALF_FLOATS, m, row + half);
            FloatVector x0 = FloatVector.broadcast(HALF_FLOATS, x[4 * i]);
            FloatVector x1 = FloatVector.broadcast(HALF_FLOATS, x[4 * i + 1]);
            FloatVector x2 = FloatVector.broadcast(HALF_FLOATS, x[4 * i + 2]);
            FloatVector x3 = FloatVector.broadcast(HALF_FLOATS, x[4 * i + 3]);
            low0 = low0.lanewise(ADD,
                    (DoubleVector) first.lanewise(MUL, x0).convertShape(VectorOperators.F2D, DOUBLES, 0));
            high0 = high0.lanewise(ADD,
                    (DoubleVector) second.lanewise(MUL, x0).convertShape(VectorOperators.F2D, DOUBLES, 0));
            low1 = low1.lanewise(ADD,
                    (DoubleVector) first.lanewise(MUL, x1).convertShape(VectorOperators.F2D, DOUBLES, 0));
            high1 = high1.lanewise(ADD,
                    (DoubleVector) second.lanewise(MUL, x1).convertShape(VectorOperators.F2D, DOUBLES, 0));
            low2 = low2.lanewise(ADD,
                    (DoubleVector) first.lanewise(MUL, x2).convertShape(VectorOperators.F2D, DOUBLES, 0));
            high2 = high2.lanewise(ADD,
                    (DoubleVector) second.lanewise(MUL, x2).convertShape(VectorOperators.F2D, DOUBLES, 0));
            low3 = low3.lanewise(ADD,
                    (DoubleVector) first.lanewise(MUL, x3).convertShape(VectorOperators.F2D, DOUBLES, 0));
            high3 = high3.lanewise(ADD,
                    (DoubleVector) second.lanewise(MUL, x3).convertShape(VectorOperators.F2D, DOUBLES, 0));
        }
        ((FloatVector) low0.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS);
        ((FloatVector) high0.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + half);
        ((FloatVector) low1.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + 16);
        ((FloatVector) high1.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + 16 + half);
        ((FloatVector) low2.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + 32);
        ((FloatVector) high2.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + 32 + half);
        ((FloatVector) low3.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + 48);
        ((FloatVector) high3.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(sums, RESULTS + 48 + half);
    }

    /**
     * The first {@code heads} score rows of {@code p} made probabilities as {@link #headF16} makes them (softmax,
     * rounded to F16, zero up to the padded length); returns that padded length.
     */
    private static int probabilities(float[][] p, int heads, int length, float scale, Attention.Scratch s) {
        int padded = Attention.paddedLength(length);
        for (int h = 0; h < heads; h++) {
            softmax(p[h], length, scale, s.lanes);
            for (int j = 0; j < length; j++) {
                p[h][j] = Attention.roundToF16(p[h][j]);
            }
            Arrays.fill(p[h], length, padded, 0f);
        }
        return padded;
    }

    /**
     * {@code to[toOffset + i] = (float) from[offset + i]} for F16 values, i below {@code count}, with
     * {@link F16Kernel#widen}'s integer steps: exact for every finite value (a layer holding an infinity or NaN is
     * attended by the reference).
     */
    static void widen(short[] from, int offset, float[] to, int toOffset, int count) {
        int i = 0;
        for (; i + FLOATS.length() <= count; i += FLOATS.length()) {
            ((FloatVector) ((IntVector) ShortVector.fromArray(HALVES, from, offset + i)
                    .convertShape(VectorOperators.S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretShape(FLOATS, 0)).mul(0x1p112f).intoArray(to, toOffset + i);
        }
        for (; i < count; i++) {
            to[toOffset + i] = Float.float16ToFloat(from[offset + i]);
        }
    }


    /**
     * {@code p[p0 + h][j] = dotF16(key, query of head h)} for four heads, whose F16-rounded queries lie one after
     * the other in {@code query} from {@code q0}, the key widened to floats at {@code k[kOff ..]}: the blocked sums
     * as {@link #blockedF16}, the four lane trees at once ({@link FloatLanes#UPPER_HALF}), then the remaining elements
     * in double.
     */
    private static void fourScores(float[] k, int kOff, float[] query, int q0, int headDim, float[][] p, int p0,
                                   int j) {
        int blocked = headDim & ~63;
        int q1 = q0 + headDim;
        int q2 = q1 + headDim;
        int q3 = q2 + headDim;
        FloatVector a00 = FloatVector.zero(FLOATS);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = 0; i < blocked; i += 64) {
            FloatVector x0 = FloatVector.fromArray(FLOATS, k, kOff + i);
            FloatVector x1 = FloatVector.fromArray(FLOATS, k, kOff + i + 16);
            FloatVector x2 = FloatVector.fromArray(FLOATS, k, kOff + i + 32);
            FloatVector x3 = FloatVector.fromArray(FLOATS, k, kOff + i + 48);
            a00 = x0.fma(FloatVector.fromArray(FLOATS, query, q0 + i), a00);
            a01 = x1.fma(FloatVector.fromArray(FLOATS, query, q0 + i + 16), a01);
            a02 = x2.fma(FloatVector.fromArray(FLOATS, query, q0 + i + 32), a02);
            a03 = x3.fma(FloatVector.fromArray(FLOATS, query, q0 + i + 48), a03);
            a10 = x0.fma(FloatVector.fromArray(FLOATS, query, q1 + i), a10);
            a11 = x1.fma(FloatVector.fromArray(FLOATS, query, q1 + i + 16), a11);
            a12 = x2.fma(FloatVector.fromArray(FLOATS, query, q1 + i + 32), a12);
            a13 = x3.fma(FloatVector.fromArray(FLOATS, query, q1 + i + 48), a13);
            a20 = x0.fma(FloatVector.fromArray(FLOATS, query, q2 + i), a20);
            a21 = x1.fma(FloatVector.fromArray(FLOATS, query, q2 + i + 16), a21);
            a22 = x2.fma(FloatVector.fromArray(FLOATS, query, q2 + i + 32), a22);
            a23 = x3.fma(FloatVector.fromArray(FLOATS, query, q2 + i + 48), a23);
            a30 = x0.fma(FloatVector.fromArray(FLOATS, query, q3 + i), a30);
            a31 = x1.fma(FloatVector.fromArray(FLOATS, query, q3 + i + 16), a31);
            a32 = x2.fma(FloatVector.fromArray(FLOATS, query, q3 + i + 32), a32);
            a33 = x3.fma(FloatVector.fromArray(FLOATS, query, q3 + i + 48), a33);
        }
        FloatVector a = a00.add(a02).add(a01.add(a03));
        FloatVector b = a10.add(a12).add(a11.add(a13));
        FloatVector c = a20.add(a22).add(a21.add(a23));
        FloatVector e = a30.add(a32).add(a31.add(a33));
        FloatVector ab = a.add(a.rearrange(FloatLanes.SWAP_HALF)).blend(b.add(b.rearrange(FloatLanes.SWAP_HALF)),
                FloatLanes.UPPER_HALF);
        FloatVector ce = c.add(c.rearrange(FloatLanes.SWAP_HALF)).blend(e.add(e.rearrange(FloatLanes.SWAP_HALF)),
                FloatLanes.UPPER_HALF);
        ab = ab.add(ab.rearrange(FloatLanes.SWAP_QUARTER));
        ce = ce.add(ce.rearrange(FloatLanes.SWAP_QUARTER));
        FloatVector all = ab.blend(ce, FloatLanes.UPPER_QUARTERS);
        all = all.add(all.rearrange(FloatLanes.SWAP_2));
        all = all.add(all.rearrange(FloatLanes.SWAP_1));
        double s0 = blocked == 0 ? 0f : all.lane(0);
        double s1 = blocked == 0 ? 0f : all.lane(8);
        double s2 = blocked == 0 ? 0f : all.lane(4);
        double s3 = blocked == 0 ? 0f : all.lane(12);
        for (int i = blocked; i < headDim; i++) {
            float x = k[kOff + i];
            s0 += x * query[q0 + i];
            s1 += x * query[q1 + i];
            s2 += x * query[q2 + i];
            s3 += x * query[q3 + i];
        }
        p[p0][j] = (float) s0;
        p[p0 + 1][j] = (float) s1;
        p[p0 + 2][j] = (float) s2;
        p[p0 + 3][j] = (float) s3;
    }

    /**
     * Outputs d and dB (d + headDim/2) of {@link #valuesF16} for four heads' probabilities {@code p[first + h]}, from
     * value rows d and dB widened to floats at {@code v[rowA ..]} and {@code v[rowB ..]} (two rows: two streams from
     * memory where they are the cache's; with one, a stand-alone copy of this loop read the 2B-4T cache at 2,048
     * positions at a third of its speed from L3), each row for two heads and then the other two (16 accumulators:
     * four heads of two rows would need 32). Each row's blocks are multiplied into their heads' accumulators, whose
     * lane trees run at once as in {@link #fourScores} (written out in both: a vector passed to a call C2 does not
     * inline is boxed, and these methods are past its inlining budget: the four lane trees as one shared helper
     * allocated 10-14 MB per token and made prompts 15-40 % slower), then the remaining elements are added in double,
     * output by output in the reference's order.
     */
    private static void twoValueRows(float[] v, int rowA, int rowB, float[][] p, int first, int length, int n,
                                     int d, int dB, int headDim, float[] out, int outOff) {
        int blocked = n & ~63;
        for (int pair = 0; pair < 2; pair++) {
            float[] pX = p[first + 2 * pair];
            float[] pY = p[first + 2 * pair + 1];
            FloatVector a00 = FloatVector.zero(FLOATS);
            FloatVector a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int i = 0; i < blocked; i += 64) {
                FloatVector x0 = FloatVector.fromArray(FLOATS, v, rowA + i);
                FloatVector x1 = FloatVector.fromArray(FLOATS, v, rowA + i + 16);
                FloatVector x2 = FloatVector.fromArray(FLOATS, v, rowA + i + 32);
                FloatVector x3 = FloatVector.fromArray(FLOATS, v, rowA + i + 48);
                FloatVector px0 = FloatVector.fromArray(FLOATS, pX, i);
                FloatVector px1 = FloatVector.fromArray(FLOATS, pX, i + 16);
                FloatVector px2 = FloatVector.fromArray(FLOATS, pX, i + 32);
                FloatVector px3 = FloatVector.fromArray(FLOATS, pX, i + 48);
                FloatVector py0 = FloatVector.fromArray(FLOATS, pY, i);
                FloatVector py1 = FloatVector.fromArray(FLOATS, pY, i + 16);
                FloatVector py2 = FloatVector.fromArray(FLOATS, pY, i + 32);
                FloatVector py3 = FloatVector.fromArray(FLOATS, pY, i + 48);
                a00 = x0.fma(px0, a00);
                a01 = x1.fma(px1, a01);
                a02 = x2.fma(px2, a02);
                a03 = x3.fma(px3, a03);
                a10 = x0.fma(py0, a10);
                a11 = x1.fma(py1, a11);
                a12 = x2.fma(py2, a12);
                a13 = x3.fma(py3, a13);
                FloatVector y0 = FloatVector.fromArray(FLOATS, v, rowB + i);
                FloatVector y1 = FloatVector.fromArray(FLOATS, v, rowB + i + 16);
                FloatVector y2 = FloatVector.fromArray(FLOATS, v, rowB + i + 32);
                FloatVector y3 = FloatVector.fromArray(FLOATS, v, rowB + i + 48);
                a20 = y0.fma(px0, a20);
                a21 = y1.fma(px1, a21);
                a22 = y2.fma(px2, a22);
                a23 = y3.fma(px3, a23);
                a30 = y0.fma(py0, a30);
                a31 = y1.fma(py1, a31);
                a32 = y2.fma(py2, a32);
                a33 = y3.fma(py3, a33);
            }
            FloatVector a = a00.add(a02).add(a01.add(a03));
            FloatVector b = a10.add(a12).add(a11.add(a13));
            FloatVector c = a20.add(a22).add(a21.add(a23));
            FloatVector e = a30.add(a32).add(a31.add(a33));
            FloatVector ab = a.add(a.rearrange(FloatLanes.SWAP_HALF)).blend(b.add(b.rearrange(FloatLanes.SWAP_HALF)),
                    FloatLanes.UPPER_HALF);
            FloatVector ce = c.add(c.rearrange(FloatLanes.SWAP_HALF)).blend(e.add(e.rearrange(FloatLanes.SWAP_HALF)),
                    FloatLanes.UPPER_HALF);
            ab = ab.add(ab.rearrange(FloatLanes.SWAP_QUARTER));
            ce = ce.add(ce.rearrange(FloatLanes.SWAP_QUARTER));
            FloatVector all = ab.blend(ce, FloatLanes.UPPER_QUARTERS);
            all = all.add(all.rearrange(FloatLanes.SWAP_2));
            all = all.add(all.rearrange(FloatLanes.SWAP_1));
            double sXA = blocked == 0 ? 0f : all.lane(0);
            double sYA = blocked == 0 ? 0f : all.lane(8);
            double sXB = blocked == 0 ? 0f : all.lane(4);
            double sYB = blocked == 0 ? 0f : all.lane(12);
            // The reference adds the padding cells too, each a product of +0 and a finite value (clearFrom keeps
            // them finite; a layer with an infinity or NaN goes to the reference), so ±0. A sum starts at +0 and
            // rounding to nearest never makes it −0, and any other sum stays itself when ±0 is added: stopping
            // at the attended length is exact and halves the serial tail on average.
            for (int i = blocked; i < length; i++) {
                float xA = v[rowA + i];
                float xB = v[rowB + i];
                sXA += xA * pX[i];
                sYA += xA * pY[i];
                sXB += xB * pX[i];
                sYB += xB * pY[i];
            }
            int oX = outOff + 2 * pair * headDim;
            int oY = oX + headDim;
            out[oX + d] = (float) sXA;
            out[oY + d] = (float) sYA;
            out[oX + dB] = (float) sXB;
            out[oY + dB] = (float) sYB;
        }
    }

    /**
     * {@code out[d] = vec_dot_f16(v row d, p)} for every output dimension d. The full 64-blocks are summed first,
     * one row per call (it returns a float, so it costs no allocation where C2 does not inline it); the elements
     * after them are then added one by one in double, a serial chain per d, four dimensions side by side so the
     * chains overlap (each in its own order, so the result is unchanged). The chains stop at {@code length}, as
     * {@link #twoValueRows} explains.
     */
    private static void valuesF16(short[] v, int base, int stride, float[] p, int length, int n, int headDim,
                                  float[] out, int outOff) {
        int blocked = n & ~63;
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = blocked == 0 ? 0f : blockedF16(v, base + d * stride, p, 0, blocked);
        }
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            int r0 = base + d * stride;
            int r1 = r0 + stride;
            int r2 = r1 + stride;
            int r3 = r2 + stride;
            double s0 = out[outOff + d];
            double s1 = out[outOff + d + 1];
            double s2 = out[outOff + d + 2];
            double s3 = out[outOff + d + 3];
            for (int i = blocked; i < length; i++) {
                float pi = p[i];
                s0 += Float.float16ToFloat(v[r0 + i]) * pi;
                s1 += Float.float16ToFloat(v[r1 + i]) * pi;
                s2 += Float.float16ToFloat(v[r2 + i]) * pi;
                s3 += Float.float16ToFloat(v[r3 + i]) * pi;
            }
            out[outOff + d] = (float) s0;
            out[outOff + d + 1] = (float) s1;
            out[outOff + d + 2] = (float) s2;
            out[outOff + d + 3] = (float) s3;
        }
        for (; d < headDim; d++) {
            double sum = out[outOff + d];
            int row = base + d * stride;
            for (int i = blocked; i < n; i++) {
                sum += Float.float16ToFloat(v[row + i]) * p[i];
            }
            out[outOff + d] = (float) sum;
        }
    }

    /**
     * The lane-tree sum of ggml's four accumulators over the first {@code blocked} elements (a multiple of 64). The
     * halves are widened in place ({@link F16Kernel#widen}'s integer steps, exact for finite values; a cache layer
     * holding an infinity or NaN is attended by the reference instead): C2 does not always inline a helper that
     * returns a vector here, and then boxes every vector it returns.
     */
    private static float blockedF16(short[] x, int xOff, float[] y, int yOff, int blocked) {
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < blocked; i += 64) {
            IntVector h0 = (IntVector) ShortVector.fromArray(HALVES, x, xOff + i)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            IntVector h1 = (IntVector) ShortVector.fromArray(HALVES, x, xOff + i + 16)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            IntVector h2 = (IntVector) ShortVector.fromArray(HALVES, x, xOff + i + 32)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            IntVector h3 = (IntVector) ShortVector.fromArray(HALVES, x, xOff + i + 48)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            a0 = ((FloatVector) h0.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretShape(FLOATS, 0))
                    .mul(0x1p112f).fma(FloatVector.fromArray(FLOATS, y, yOff + i), a0);
            a1 = ((FloatVector) h1.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretShape(FLOATS, 0))
                    .mul(0x1p112f).fma(FloatVector.fromArray(FLOATS, y, yOff + i + 16), a1);
            a2 = ((FloatVector) h2.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretShape(FLOATS, 0))
                    .mul(0x1p112f).fma(FloatVector.fromArray(FLOATS, y, yOff + i + 32), a2);
            a3 = ((FloatVector) h3.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretShape(FLOATS, 0))
                    .mul(0x1p112f).fma(FloatVector.fromArray(FLOATS, y, yOff + i + 48), a3);
        }
        return FloatLanes.sum(a0.add(a2).add(a1.add(a3)));
    }

    /**
     * {@link Attention#softmax} with the exponentials of each full group of 16 scores computed as one vector, lane
     * by lane the operations of {@link GgmlMath#expf} (the scaling by 2^n in two steps, 2^n' with n' = n clamped to
     * [-125, 127], exact, then 2^(n-n'), rounded once, as {@code Math.scalb} rounds), and their sum by the same lane
     * tree, written out ({@link FloatLanes#sum(FloatVector)} is not always inlined here, and then boxes its vector);
     * the last partial group as the reference. expf's |n| > 192 tests are one comparison each (n < −192, n > 192):
     * ANDed as two masks, the mask's {@code and}, a call shared by every mask class, was in some processes left a
     * call, and the blends boxed (171 KB a token, pp128).
     */
    static void softmax(float[] s, int n, float scale, float[] lanes) {
        float max = Attention.scaleAndMax(s, n, scale);
        double sum = 0;
        int whole = n & ~(GgmlMath.LANES - 1);
        for (int group = 0; group < whole; group += GgmlMath.LANES) {
            FloatVector x = FloatVector.fromArray(FLOATS, s, group).sub(max);
            FloatVector z = x.fma(0x1.715476p+0f, 0x1.8p23f);
            FloatVector k = z.sub(0x1.8p23f);
            FloatVector minusK = k.neg();
            FloatVector b = minusK.fma(FloatVector.broadcast(FLOATS, 0x1.7f7d1cp-20f),
                    minusK.fma(FloatVector.broadcast(FLOATS, 0x1.62e4p-1f), x));
            FloatVector u = b.mul(b);
            FloatVector low = FloatVector.broadcast(FLOATS, 0x1.0e4020p-7f).fma(b,
                    FloatVector.broadcast(FLOATS, 0x1.573e2ep-5f));
            FloatVector high = FloatVector.broadcast(FLOATS, 0x1.555e66p-3f).fma(b,
                    FloatVector.broadcast(FLOATS, 0x1.fffdb6p-2f));
            FloatVector j = low.fma(u, high).fma(u, FloatVector.broadcast(FLOATS, 0x1.ffffecp-1f).fma(b,
                    FloatVector.broadcast(FLOATS, 1.0f)));
            FloatVector first = k.max(-125f).min(127f);
            IntVector firstBits = ((IntVector) first.convert(VectorOperators.F2I, 0)).add(127)
                    .lanewise(VectorOperators.LSHL, 23);
            IntVector restBits = ((IntVector) k.sub(first).convert(VectorOperators.F2I, 0)).add(127)
                    .lanewise(VectorOperators.LSHL, 23);
            FloatVector e = j.mul((FloatVector) firstBits.reinterpretShape(FLOATS, 0))
                    .mul((FloatVector) restBits.reinterpretShape(FLOATS, 0));
            e = e.blend(0f, k.compare(VectorOperators.LT, -192f));
            e = e.blend(Float.POSITIVE_INFINITY, k.compare(VectorOperators.GT, 192f));
            e.intoArray(s, group);
            e = e.add(e.rearrange(FloatLanes.SWAP_8));
            e = e.add(e.rearrange(FloatLanes.SWAP_4));
            e = e.add(e.rearrange(FloatLanes.SWAP_2));
            sum += e.add(e.rearrange(FloatLanes.SWAP_1)).lane(0);
        }
        if (whole < n) {
            for (int l = 0; l < GgmlMath.LANES; l++) {
                int j = whole + l;
                lanes[l] = j < n ? (s[j] = GgmlMath.expf(s[j] - max)) : 0f;
            }
            sum += GgmlMath.reduceLanes(lanes);
        }
        Attention.normalize(s, n, sum);
    }

    static void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                        int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
        float[] p = s.scores;
        for (int j = 0; j < length; j++) {
            p[j] = dotF32(k, j * rowStride + kvOff, q, qOff, headDim);
        }
        softmax(p, length, scale, s.lanes);
        int padded = Attention.paddedLength(length);
        Arrays.fill(p, length, padded, 0f);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = dotF32(v, (kvOff + d) * valueStride, p, 0, padded);
        }
    }

    private static float dotF16(short[] x, int xOff, float[] y, int yOff, int n) {
        int blocked = n & ~63;
        double sum = blocked == 0 ? 0f : blockedF16(x, xOff, y, yOff, blocked);
        for (int i = blocked; i < n; i++) {
            sum += Float.float16ToFloat(x[xOff + i]) * y[yOff + i];
        }
        return (float) sum;
    }

    private static float dotF32(float[] x, int xOff, float[] y, int yOff, int n) {
        int blocked = n & ~63;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < blocked; i += 64) {
            a0 = FloatVector.fromArray(FLOATS, x, xOff + i).fma(FloatVector.fromArray(FLOATS, y, yOff + i), a0);
            a1 = FloatVector.fromArray(FLOATS, x, xOff + i + 16)
                    .fma(FloatVector.fromArray(FLOATS, y, yOff + i + 16), a1);
            a2 = FloatVector.fromArray(FLOATS, x, xOff + i + 32)
                    .fma(FloatVector.fromArray(FLOATS, y, yOff + i + 32), a2);
            a3 = FloatVector.fromArray(FLOATS, x, xOff + i + 48)
                    .fma(FloatVector.fromArray(FLOATS, y, yOff + i + 48), a3);
        }
        float sum = FloatLanes.sum(a0.add(a2).add(a1.add(a3)));
        for (int i = blocked; i < n; i++) {
            sum = Math.fma(x[xOff + i], y[yOff + i], sum);
        }
        return sum;
    }
}
