package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * I2_S (I2S-128 layout, as in the file) times per-token int8 activations, four rows at a time so each activation
 * vector is loaded once for four rows. In a 128-column block, byte g of a row holds the codes of columns g, g+32,
 * g+64, g+96 in bits 7-6, 5-4, 3-2, 1-0; so the 32 columns {@code 32j .. 32j+31} take their high bits from bit
 * {@code 7-2j} and their low bits from bit {@code 6-2j} of the block's 32 bytes. The result is the integer
 * {@code Σ c·q} of the scalar reference, converted exactly as {@link I2SFormat#dot} does.
 */
final class I2SKernel implements MatMulKernel {
    static final I2SKernel INSTANCE = new I2SKernel();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

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
        short[] doubled = x.wideDoubled();
        for (int t = 0; t < x.tokens(); t++) {
            int xOff = t * k;
            float actScale = x.scales()[t];
            float actSum = x.sums()[t];
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                dotFourRows(data, r * rowBytes, rowBytes, wide, doubled, xOff, k, out, t * rows + r, actSum,
                        actScale, weightScale);
            }
            for (; r < rowEnd; r++) {
                int dot = dotOneRow(data, r * rowBytes, wide, doubled, xOff, k);
                out[t * rows + r] = ((float) dot - actSum) / actScale * weightScale;
            }
        }
    }

    /**
     * Rows r..r+3, whose bytes start at {@code base} {@code rowBytes} apart: {@code out[outOff+i] =
     * ((float) Σc·q − actSum) / actScale · weightScale}.
     */
    static void dotFourRows(MemorySegment data, long base, long rowBytes, short[] x, short[] x2, int xOff, int k,
                            float[] out, int outOff, float actSum, float actScale, float weightScale) {
        int d0 = 0;
        int d1 = 0;
        int d2 = 0;
        int d3 = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector a0 = SHORTS.zero().reinterpretAsShorts();
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            for (int col = chunk; col < end; col += 128) {
                long off = base + col / 4;
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ByteVector v0 = ByteVector.fromMemorySegment(MASK_BYTES, data, off + p, LE);
                    ByteVector v1 = ByteVector.fromMemorySegment(MASK_BYTES, data, off + rowBytes + p, LE);
                    ByteVector v2 = ByteVector.fromMemorySegment(MASK_BYTES, data, off + 2 * rowBytes + p, LE);
                    ByteVector v3 = ByteVector.fromMemorySegment(MASK_BYTES, data, off + 3 * rowBytes + p, LE);
                    for (int j = 0; j < 4; j++) {
                        int xi = xOff + col + 32 * j + p;
                        ShortVector xv = ShortVector.fromArray(SHORTS, x, xi);
                        ShortVector x2v = ShortVector.fromArray(SHORTS, x2, xi);
                        byte hi = (byte) (1 << (7 - 2 * j));
                        byte lo = (byte) (1 << (6 - 2 * j));
                        a0 = a0.add(x2v, bit(v0, hi)).add(xv, bit(v0, lo));
                        a1 = a1.add(x2v, bit(v1, hi)).add(xv, bit(v1, lo));
                        a2 = a2.add(x2v, bit(v2, hi)).add(xv, bit(v2, lo));
                        a3 = a3.add(x2v, bit(v3, hi)).add(xv, bit(v3, lo));
                    }
                }
            }
            d0 += TernaryLanes.sum(a0);
            d1 += TernaryLanes.sum(a1);
            d2 += TernaryLanes.sum(a2);
            d3 += TernaryLanes.sum(a3);
        }
        out[outOff] = ((float) d0 - actSum) / actScale * weightScale;
        out[outOff + 1] = ((float) d1 - actSum) / actScale * weightScale;
        out[outOff + 2] = ((float) d2 - actSum) / actScale * weightScale;
        out[outOff + 3] = ((float) d3 - actSum) / actScale * weightScale;
    }

    static int dotOneRow(MemorySegment data, long base, short[] x, short[] x2, int xOff, int k) {
        int dot = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector acc = SHORTS.zero().reinterpretAsShorts();
            for (int col = chunk; col < end; col += 128) {
                long off = base + col / 4;
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ByteVector v = ByteVector.fromMemorySegment(MASK_BYTES, data, off + p, LE);
                    for (int j = 0; j < 4; j++) {
                        int xi = xOff + col + 32 * j + p;
                        acc = acc.add(ShortVector.fromArray(SHORTS, x2, xi), bit(v, (byte) (1 << (7 - 2 * j))))
                                .add(ShortVector.fromArray(SHORTS, x, xi), bit(v, (byte) (1 << (6 - 2 * j))));
                    }
                }
            }
            dot += TernaryLanes.sum(acc);
        }
        return dot;
    }

    /** Lanes whose weight byte has {@code bit} set, as a mask over the 16-bit activation lanes. */
    static VectorMask<Short> bit(ByteVector bytes, byte bit) {
        return bytes.and(bit).compare(VectorOperators.NE, (byte) 0).cast(SHORTS);
    }

    @Override
    public String describe() {
        return "I2_S " + Simd.BITS + "-bit, 4 rows";
    }
}
