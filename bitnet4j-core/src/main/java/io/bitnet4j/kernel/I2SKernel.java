package io.bitnet4j.kernel;

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
 * I2_S (I2S-128 layout, as in the file) times per-token int8 activations, four rows at a time so each activation
 * vector is loaded once for four rows. In a 128-column block, byte g of a row holds the codes of columns g, g+32,
 * g+64, g+96 in bits 7-6, 5-4, 3-2, 1-0; so the 32 columns {@code 32j .. 32j+31} take their codes from bits
 * {@code 7-2j .. 6-2j} of the block's 32 bytes. The result is the integer {@code Σ c·q} of the scalar reference,
 * converted exactly as {@link I2SFormat#dot} does.
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
        for (int t = 0; t < x.tokens(); t++) {
            int xOff = t * k;
            float actScale = x.scales()[t];
            float actSum = x.sums()[t];
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                dotFourRows(data, r * rowBytes, rowBytes, wide, xOff, k, out, t * rows + r, actSum, actScale,
                        weightScale);
            }
            for (; r < rowEnd; r++) {
                int dot = dotOneRow(data, r * rowBytes, wide, xOff, k);
                out[t * rows + r] = ((float) dot - actSum) / actScale * weightScale;
            }
        }
    }

    /**
     * Rows r..r+3, whose bytes start at {@code base} {@code rowBytes} apart: {@code out[outOff+i] =
     * ((float) Σc·q − actSum) / actScale · weightScale}.
     */
    private static void dotFourRows(MemorySegment data, long base, long rowBytes, short[] x, int xOff, int k,
                                    float[] out, int outOff, float actSum, float actScale, float weightScale) {
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
                    ShortVector w1 = TernaryLanes.widen(data, off + rowBytes);
                    ShortVector w2 = TernaryLanes.widen(data, off + 2 * rowBytes);
                    ShortVector w3 = TernaryLanes.widen(data, off + 3 * rowBytes);
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
            IntVector p0 = a0.reinterpretAsInts();
            IntVector p1 = a1.reinterpretAsInts();
            IntVector p2 = a2.reinterpretAsInts();
            IntVector p3 = a3.reinterpretAsInts();
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
        out[outOff + 1] = ((float) d1 - actSum) / actScale * weightScale;
        out[outOff + 2] = ((float) d2 - actSum) / actScale * weightScale;
        out[outOff + 3] = ((float) d3 - actSum) / actScale * weightScale;
    }

    /** Σ c·q of one row whose bytes start at {@code base}. */
    private static int dotOneRow(MemorySegment data, long base, short[] x, int xOff, int k) {
        int dot = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector acc = ShortVector.zero(SHORTS);
            for (int col = chunk; col < end; col += 128) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ShortVector w = TernaryLanes.widen(data, base + col / 4 + p);
                    for (int j = 0; j < 4; j++) {
                        ShortVector xv = ShortVector.fromArray(SHORTS, x, xOff + col + 32 * j + p);
                        acc = acc.add(TernaryLanes.code(w, 6 - 2 * j).mul(xv));
                    }
                }
            }
            dot += TernaryLanes.sum(acc);
        }
        return dot;
    }

    @Override
    public String describe() {
        return "I2_S " + Simd.BITS + "-bit, 4 rows";
    }
}
