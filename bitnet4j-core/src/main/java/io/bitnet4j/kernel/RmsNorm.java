package io.bitnet4j.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm as ggml computes it (spec §6.2): the sum of {@code (float)(x*x)} accumulated in double, mean cast to
 * float, {@code scale = 1/sqrtf(mean + eps)}, {@code y = x*scale} in float, then {@code y *= g} as a separate
 * float multiplication.
 */
public final class RmsNorm {
    /**
     * Whether RMSNorm runs on vectors ({@link #applyRows} sums sixteen rows at a time in vector lanes; every row is
     * scaled a vector at a time): where 512-bit vectors are native; off with {@code -Dbitnet.rmsnorm.vector=false}.
     */
    static final boolean VECTOR_ROWS = Simd.BITS >= 512 && Simd.booleanProperty("bitnet.rmsnorm.vector", true);
    private static final VectorSpecies<Float> EIGHT_FLOATS = FloatVector.SPECIES_256;
    /** The transpose moves the floats' bits as ints: a two-vector {@code selectFrom} of floats is not intrinsified. */
    private static final VectorSpecies<Integer> EIGHT_INTS = IntVector.SPECIES_256;
    private static final VectorSpecies<Double> EIGHT_DOUBLES = DoubleVector.SPECIES_512;
    /** Two-vector int indexes of the three rounds of an 8×8 transpose (d = 4, 2, 1): keep-low and keep-high per round. */
    private static final int[] TRANSPOSE_INDEXES = transposeIndexes();
    private static final ThreadLocal<double[]> SIXTEEN_SUMS = ThreadLocal.withInitial(() -> new double[16]);

    private RmsNorm() {
    }

    /** {@code out[outOff..+n) = rmsnorm(x[xOff..+n)) * weight}; {@code out} may be {@code x}. */
    public static void apply(float[] x, int xOff, int n, float[] weight, float eps, float[] out, int outOff) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        scale(x, xOff, n, sum, weight, eps, out, outOff);
    }

    /**
     * {@link #apply} to {@code rows} consecutive rows of {@code n} values, from {@code x[xOff]} into
     * {@code out[outOff]}, bit for bit. Each row's sum still runs in column order, as ggml's does, so a single sum
     * waits four cycles per column on its double addition: sixteen rows at a time sum in the lanes of two vectors
     * ({@link #addSquares}), the rest four rows per pass over the columns, which keeps four scalar additions in
     * flight.
     */
    public static void applyRows(float[] x, int xOff, int rows, int n, float[] weight, float eps, float[] out,
                                 int outOff) {
        int r = 0;
        if (VECTOR_ROWS) {
            double[] sums = SIXTEEN_SUMS.get();
            int whole = n & -8;
            for (; r + 16 <= rows; r += 16) {
                int first = xOff + r * n;
                java.util.Arrays.fill(sums, 0);
                for (int i = 0; i < whole; i += 8) {
                    addSquares(x, first + i, n, sums, 0);
                    addSquares(x, first + 8 * n + i, n, sums, 8);
                }
                for (int k = 0; k < 16; k++) {
                    double sum = sums[k];
                    int row = first + k * n;
                    for (int i = whole; i < n; i++) {
                        float v = x[row + i];
                        sum += v * v;
                    }
                    scale(x, row, n, sum, weight, eps, out, outOff + (r + k) * n);
                }
            }
        }
        for (; r + 4 <= rows; r += 4) {
            int b0 = xOff + r * n;
            int b1 = b0 + n;
            int b2 = b1 + n;
            int b3 = b2 + n;
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            for (int i = 0; i < n; i++) {
                float v0 = x[b0 + i];
                float v1 = x[b1 + i];
                float v2 = x[b2 + i];
                float v3 = x[b3 + i];
                s0 += v0 * v0;
                s1 += v1 * v1;
                s2 += v2 * v2;
                s3 += v3 * v3;
            }
            int o = outOff + r * n;
            scale(x, b0, n, s0, weight, eps, out, o);
            scale(x, b1, n, s1, weight, eps, out, o + n);
            scale(x, b2, n, s2, weight, eps, out, o + 2 * n);
            scale(x, b3, n, s3, weight, eps, out, o + 3 * n);
        }
        for (; r < rows; r++) {
            apply(x, xOff + r * n, n, weight, eps, out, outOff + r * n);
        }
    }

    /**
     * Adds {@code (double) (x·x)} of eight columns of eight rows (row k at {@code x[at + k·n]}) to the rows' sums
     * {@code sums[sumsAt + k]}, column after column: the 8×8 block is transposed (three rounds of two-vector int
     * permutes on the floats' bits), so that a vector holds one column of the eight rows. A method of its own, with
     * the sums in memory between calls, and with no helper that returns a vector: as one method over sixteen rows,
     * or with the squares in a helper, the Vector API calls were left to their Java fallbacks (7–21 MB allocated a
     * token in a pp128). Consecutive calls for the two sets of eight rows overlap, since their additions do not wait
     * on each other.
     */
    static void addSquares(float[] x, int at, int n, double[] sums, int sumsAt) {
        IntVector low4 = IntVector.fromArray(EIGHT_INTS, TRANSPOSE_INDEXES, 0);
        IntVector high4 = IntVector.fromArray(EIGHT_INTS, TRANSPOSE_INDEXES, 8);
        IntVector low2 = IntVector.fromArray(EIGHT_INTS, TRANSPOSE_INDEXES, 16);
        IntVector high2 = IntVector.fromArray(EIGHT_INTS, TRANSPOSE_INDEXES, 24);
        IntVector low1 = IntVector.fromArray(EIGHT_INTS, TRANSPOSE_INDEXES, 32);
        IntVector high1 = IntVector.fromArray(EIGHT_INTS, TRANSPOSE_INDEXES, 40);
        IntVector r0 = FloatVector.fromArray(EIGHT_FLOATS, x, at).reinterpretAsInts();
        IntVector r1 = FloatVector.fromArray(EIGHT_FLOATS, x, at + n).reinterpretAsInts();
        IntVector r2 = FloatVector.fromArray(EIGHT_FLOATS, x, at + 2 * n).reinterpretAsInts();
        IntVector r3 = FloatVector.fromArray(EIGHT_FLOATS, x, at + 3 * n).reinterpretAsInts();
        IntVector r4 = FloatVector.fromArray(EIGHT_FLOATS, x, at + 4 * n).reinterpretAsInts();
        IntVector r5 = FloatVector.fromArray(EIGHT_FLOATS, x, at + 5 * n).reinterpretAsInts();
        IntVector r6 = FloatVector.fromArray(EIGHT_FLOATS, x, at + 6 * n).reinterpretAsInts();
        IntVector r7 = FloatVector.fromArray(EIGHT_FLOATS, x, at + 7 * n).reinterpretAsInts();
        IntVector s0 = low4.selectFrom(r0, r4);
        IntVector s4 = high4.selectFrom(r0, r4);
        IntVector s1 = low4.selectFrom(r1, r5);
        IntVector s5 = high4.selectFrom(r1, r5);
        IntVector s2 = low4.selectFrom(r2, r6);
        IntVector s6 = high4.selectFrom(r2, r6);
        IntVector s3 = low4.selectFrom(r3, r7);
        IntVector s7 = high4.selectFrom(r3, r7);
        IntVector t0 = low2.selectFrom(s0, s2);
        IntVector t2 = high2.selectFrom(s0, s2);
        IntVector t1 = low2.selectFrom(s1, s3);
        IntVector t3 = high2.selectFrom(s1, s3);
        IntVector t4 = low2.selectFrom(s4, s6);
        IntVector t6 = high2.selectFrom(s4, s6);
        IntVector t5 = low2.selectFrom(s5, s7);
        IntVector t7 = high2.selectFrom(s5, s7);
        DoubleVector sum = DoubleVector.fromArray(EIGHT_DOUBLES, sums, sumsAt);
        FloatVector c1 = low1.selectFrom(t0, t1).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c1.lanewise(VectorOperators.MUL, c1)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c2 = high1.selectFrom(t0, t1).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c2.lanewise(VectorOperators.MUL, c2)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c3 = low1.selectFrom(t2, t3).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c3.lanewise(VectorOperators.MUL, c3)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c4 = high1.selectFrom(t2, t3).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c4.lanewise(VectorOperators.MUL, c4)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c5 = low1.selectFrom(t4, t5).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c5.lanewise(VectorOperators.MUL, c5)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c6 = high1.selectFrom(t4, t5).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c6.lanewise(VectorOperators.MUL, c6)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c7 = low1.selectFrom(t6, t7).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c7.lanewise(VectorOperators.MUL, c7)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        FloatVector c8 = high1.selectFrom(t6, t7).reinterpretAsFloats();
        sum = sum.lanewise(VectorOperators.ADD, c8.lanewise(VectorOperators.MUL, c8)
                .convertShape(VectorOperators.F2D, EIGHT_DOUBLES, 0));
        sum.intoArray(sums, sumsAt);
    }

    /**
     * {@code out = (x·scale)·weight} for one row whose sum of squares is {@code sum}: two float products per element,
     * a vector of them at a time where vectors are on (the JIT did not vectorize this loop itself: 1.8 cycles an
     * element).
     */
    private static void scale(float[] x, int xOff, int n, double sum, float[] weight, float eps, float[] out,
                              int outOff) {
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        int i = 0;
        if (VECTOR_ROWS) {
            FloatVector scales = FloatVector.broadcast(Simd.FLOATS, scale);
            for (int whole = n - n % Simd.FLOATS.length(); i < whole; i += Simd.FLOATS.length()) {
                FloatVector.fromArray(Simd.FLOATS, x, xOff + i).lanewise(VectorOperators.MUL, scales)
                        .lanewise(VectorOperators.MUL, FloatVector.fromArray(Simd.FLOATS, weight, i))
                        .intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            float y = x[xOff + i] * scale;
            out[outOff + i] = y * weight[i];
        }
    }

    private static int[] transposeIndexes() {
        int[] indexes = new int[48];
        for (int round = 0; round < 3; round++) {
            int d = 4 >> round;
            for (int lane = 0; lane < 8; lane++) {
                boolean low = (lane & d) == 0;
                indexes[16 * round + lane] = low ? lane : 8 + lane - d;
                indexes[16 * round + 8 + lane] = low ? lane + d : 8 + lane;
            }
        }
        return indexes;
    }
}
