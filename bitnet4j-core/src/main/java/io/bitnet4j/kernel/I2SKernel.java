package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * I2_S (I2S-128 layout, as in the file) times per-token int8 activations. In a 128-column block, byte g of a row
 * holds the codes of columns g, g+32, g+64, g+96 in bits 7-6, 5-4, 3-2, 1-0; so the 32 columns
 * {@code 32j .. 32j+31} take their codes from bits {@code 7-2j .. 6-2j} of the block's 32 bytes. The result is the
 * integer {@code Σ c·q} of the scalar reference, converted exactly as {@link I2SFormat#dot} does.
 *
 * <p>Generation (fewer than four tokens) reads one row at a time: the weights then stream through memory in one
 * straight line, which the hardware prefetcher follows at full speed, whereas interleaving several rows (to share
 * activation loads) made it lose track (measured: 54 vs 34–40 G weights/s from memory on one core, though faster in
 * cache). Prompt processing shares each decoded code among four tokens, where the weights are reused from cache.
 */
final class I2SKernel implements MatMulKernel {
    static final I2SKernel INSTANCE = new I2SKernel();

    private I2SKernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        long rowBytes = k / 4;
        float weightScale = I2SFormat.scale(w.tensor());
        short[] wide = x.wide();
        int tokens = x.tokens();
        int t0 = 0;
        for (; t0 + 4 <= tokens; t0 += 4) {
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                dotFourRowsFourTokens(data, r * rowBytes, rowBytes, wide, t0, k, x, out, rows, r, weightScale);
            }
            for (; r < rowEnd; r++) {
                for (int t = t0; t < t0 + 4; t++) {
                    int dot = dotOneRow(data, r * rowBytes, wide, t * k, k);
                    out[t * rows + r] = ((float) dot - x.sums()[t]) / x.scales()[t] * weightScale;
                }
            }
        }
        for (int t = t0; t < tokens; t++) {
            int xOff = t * k;
            float actScale = x.scales()[t];
            float actSum = x.sums()[t];
            int quarter = (rowEnd - rowStart) / 4;
            for (int i = 0; i < quarter; i++) {
                int r = rowStart + i;
                dotFourRows(data, r * rowBytes, quarter * rowBytes, wide, xOff, k, out, t * rows + r, quarter, actSum,
                        actScale, weightScale);
            }
            for (int r = rowStart + 4 * quarter; r < rowEnd; r++) {
                int dot = dotOneRow(data, r * rowBytes, wide, xOff, k);
                out[t * rows + r] = ((float) dot - actSum) / actScale * weightScale;
            }
        }
    }

    /**
     * Four rows whose bytes start at {@code base}, {@code stride} bytes apart (one from each quarter of the rows a
     * thread computes): {@code out[outOff + i·outStride] = ((float) Σc·q − actSum) / actScale · weightScale}.
     */
    private static void dotFourRows(MemorySegment data, long base, long stride, short[] x, int xOff, int k,
                                    float[] out, int outOff, int outStride, float actSum, float actScale,
                                    float weightScale) {
        int d0 = 0;
        int d1 = 0;
        int d2 = 0;
        int d3 = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector a0 = ShortVector.zero(SHORTS);
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            for (int col = chunk; col < end; col += 128) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    long off = base + col / 4 + p;
                    ShortVector w0 = TernaryLanes.widen(data, off);
                    ShortVector w1 = TernaryLanes.widen(data, off + stride);
                    ShortVector w2 = TernaryLanes.widen(data, off + 2 * stride);
                    ShortVector w3 = TernaryLanes.widen(data, off + 3 * stride);
                    for (int j = 0; j < 4; j++) {
                        ShortVector xv = ShortVector.fromArray(SHORTS, x, xOff + col + 32 * j + p);
                        int shift = 6 - 2 * j;
                        a0 = a0.add(TernaryLanes.code(w0, shift).mul(xv));
                        a1 = a1.add(TernaryLanes.code(w1, shift).mul(xv));
                        a2 = a2.add(TernaryLanes.code(w2, shift).mul(xv));
                        a3 = a3.add(TernaryLanes.code(w3, shift).mul(xv));
                    }
                }
            }
            IntVector p0 = (IntVector) a0.reinterpretShape(INTS, 0);
            IntVector p1 = (IntVector) a1.reinterpretShape(INTS, 0);
            IntVector p2 = (IntVector) a2.reinterpretShape(INTS, 0);
            IntVector p3 = (IntVector) a3.reinterpretShape(INTS, 0);
            d0 += p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p0.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            d1 += p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p1.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            d2 += p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p2.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            d3 += p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p3.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
        }
        out[outOff] = ((float) d0 - actSum) / actScale * weightScale;
        out[outOff + outStride] = ((float) d1 - actSum) / actScale * weightScale;
        out[outOff + 2 * outStride] = ((float) d2 - actSum) / actScale * weightScale;
        out[outOff + 3 * outStride] = ((float) d3 - actSum) / actScale * weightScale;
    }

    /**
     * Rows r..r+3 for tokens t0..t0+3 (prompt processing): two rows at a time, each code is shifted out once and
     * multiplied with four activation rows into eight accumulators.
     */
    private static void dotFourRowsFourTokens(MemorySegment data, long base, long rowBytes, short[] x, int t0, int k,
                                              Activations act, float[] out, int rows, int r, float weightScale) {
        for (int pair = 0; pair < 4; pair += 2) {
            long pairBase = base + pair * rowBytes;
            int d00 = 0;
            int d01 = 0;
            int d02 = 0;
            int d03 = 0;
            int d10 = 0;
            int d11 = 0;
            int d12 = 0;
            int d13 = 0;
            for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
                int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
                ShortVector a00 = ShortVector.zero(SHORTS);
                ShortVector a01 = a00;
                ShortVector a02 = a00;
                ShortVector a03 = a00;
                ShortVector a10 = a00;
                ShortVector a11 = a00;
                ShortVector a12 = a00;
                ShortVector a13 = a00;
                for (int col = chunk; col < end; col += 128) {
                    for (int p = 0; p < 32; p += SHORT_LANES) {
                        long off = pairBase + col / 4 + p;
                        ShortVector w0 = TernaryLanes.widen(data, off);
                        ShortVector w1 = TernaryLanes.widen(data, off + rowBytes);
                        for (int j = 0; j < 4; j++) {
                            int xi = t0 * k + col + 32 * j + p;
                            ShortVector c0 = TernaryLanes.code(w0, 6 - 2 * j);
                            ShortVector c1 = TernaryLanes.code(w1, 6 - 2 * j);
                            ShortVector x0 = ShortVector.fromArray(SHORTS, x, xi);
                            ShortVector x1 = ShortVector.fromArray(SHORTS, x, xi + k);
                            ShortVector x2 = ShortVector.fromArray(SHORTS, x, xi + 2 * k);
                            ShortVector x3 = ShortVector.fromArray(SHORTS, x, xi + 3 * k);
                            a00 = a00.add(c0.mul(x0));
                            a01 = a01.add(c0.mul(x1));
                            a02 = a02.add(c0.mul(x2));
                            a03 = a03.add(c0.mul(x3));
                            a10 = a10.add(c1.mul(x0));
                            a11 = a11.add(c1.mul(x1));
                            a12 = a12.add(c1.mul(x2));
                            a13 = a13.add(c1.mul(x3));
                        }
                    }
                }
                d00 += TernaryLanes.sum(a00);
                d01 += TernaryLanes.sum(a01);
                d02 += TernaryLanes.sum(a02);
                d03 += TernaryLanes.sum(a03);
                d10 += TernaryLanes.sum(a10);
                d11 += TernaryLanes.sum(a11);
                d12 += TernaryLanes.sum(a12);
                d13 += TernaryLanes.sum(a13);
            }
            int row0 = r + pair;
            store(out, act, t0, rows, row0, weightScale, d00, d01, d02, d03);
            store(out, act, t0, rows, row0 + 1, weightScale, d10, d11, d12, d13);
        }
    }

    /** The results of one row for tokens t0..t0+3, converted as the scalar reference does. */
    private static void store(float[] out, Activations act, int t0, int rows, int row, float weightScale, int d0,
                              int d1, int d2, int d3) {
        out[t0 * rows + row] = ((float) d0 - act.sums()[t0]) / act.scales()[t0] * weightScale;
        out[(t0 + 1) * rows + row] = ((float) d1 - act.sums()[t0 + 1]) / act.scales()[t0 + 1] * weightScale;
        out[(t0 + 2) * rows + row] = ((float) d2 - act.sums()[t0 + 2]) / act.scales()[t0 + 2] * weightScale;
        out[(t0 + 3) * rows + row] = ((float) d3 - act.sums()[t0 + 3]) / act.scales()[t0 + 3] * weightScale;
    }

    /** Σ c·q of one row whose bytes start at {@code base}. */
    private static int dotOneRow(MemorySegment data, long base, short[] x, int xOff, int k) {
        int dot = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector acc0 = ShortVector.zero(SHORTS);
            ShortVector acc1 = acc0;
            ShortVector acc2 = acc0;
            ShortVector acc3 = acc0;
            for (int col = chunk; col < end; col += 128) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ShortVector w = TernaryLanes.widen(data, base + col / 4 + p);
                    int xi = xOff + col + p;
                    acc0 = acc0.add(w.lanewise(VectorOperators.LSHR, 6).mul(ShortVector.fromArray(SHORTS, x, xi)));
                    acc1 = acc1.add(w.lanewise(VectorOperators.LSHR, 4).and((short) 3)
                            .mul(ShortVector.fromArray(SHORTS, x, xi + 32)));
                    acc2 = acc2.add(w.lanewise(VectorOperators.LSHR, 2).and((short) 3)
                            .mul(ShortVector.fromArray(SHORTS, x, xi + 64)));
                    acc3 = acc3.add(w.and((short) 3).mul(ShortVector.fromArray(SHORTS, x, xi + 96)));
                }
            }
            dot += TernaryLanes.sum(acc0.add(acc1).add(acc2.add(acc3)));
        }
        return dot;
    }

    @Override
    public String describe() {
        return "I2_S " + Simd.BITS + "-bit, 4 rows";
    }
}
