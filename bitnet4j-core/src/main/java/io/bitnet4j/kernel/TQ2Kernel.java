package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * TQ2_0 (66-byte blocks of 256: 64 bytes of codes, then the F16 scale d) times Q8_K or per-token int8 activations,
 * four rows at a time. Column {@code 128c + 32l + m} of a block takes its code from bits {@code 2l+1 .. 2l} of byte
 * {@code 32c + m}. Each block's integer {@code Σ(c−1)·q} is summed exactly and combined in block order exactly as
 * the scalar reference ({@code TernaryBlockFormat.dot}) does.
 */
final class TQ2Kernel implements MatMulKernel {
    static final TQ2Kernel INSTANCE = new TQ2Kernel();
    private static final int BLOCK_BYTES = 66;

    private TQ2Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        int blocks = k / 256;
        long rowBytes = (long) blocks * BLOCK_BYTES;
        boolean perBlock = x.type() == ActivationType.Q8_K;
        for (int t = 0; t < x.tokens(); t++) {
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                dotFourRows(data, r * rowBytes, rowBytes, x, t, blocks, perBlock, out, t * rows + r);
            }
            for (; r < rowEnd; r++) {
                out[t * rows + r] = dotOneRow(data, r * rowBytes, x, t, blocks, perBlock);
            }
        }
    }

    private static void dotFourRows(MemorySegment data, long base, long rowBytes, Activations x, int t, int blocks,
                                    boolean perBlock, float[] out, int outOff) {
        short[] q = x.wide();
        int xOff = t * blocks * 256;
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            ShortVector a0 = ShortVector.zero(SHORTS);
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    long off = block + 32 * half + p;
                    ShortVector w0 = TernaryLanes.widen(data, off);
                    ShortVector w1 = TernaryLanes.widen(data, off + rowBytes);
                    ShortVector w2 = TernaryLanes.widen(data, off + 2 * rowBytes);
                    ShortVector w3 = TernaryLanes.widen(data, off + 3 * rowBytes);
                    for (int l = 0; l < 4; l++) {
                        ShortVector xv = ShortVector.fromArray(SHORTS, q, xOff + 256 * b + 128 * half + 32 * l + p);
                        a0 = a0.add(TernaryLanes.code(w0, 2 * l).mul(xv));
                        a1 = a1.add(TernaryLanes.code(w1, 2 * l).mul(xv));
                        a2 = a2.add(TernaryLanes.code(w2, 2 * l).mul(xv));
                        a3 = a3.add(TernaryLanes.code(w3, 2 * l).mul(xv));
                    }
                }
            }
            int qSum = x.blockSums()[t * blocks + b];
            float scale = perBlock ? x.scales()[t * blocks + b] : 1f;
            IntVector p0 = (IntVector) a0.reinterpretShape(INTS, 0);
            IntVector p1 = (IntVector) a1.reinterpretShape(INTS, 0);
            IntVector p2 = (IntVector) a2.reinterpretShape(INTS, 0);
            IntVector p3 = (IntVector) a3.reinterpretShape(INTS, 0);
            int i0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p0.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD) - qSum;
            int i1 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p1.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD) - qSum;
            int i2 = p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p2.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD) - qSum;
            int i3 = p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p3.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD) - qSum;
            s0 += perBlock ? (float) i0 * (scaleOf(data, block) * scale) : (float) i0 * scaleOf(data, block);
            s1 += perBlock ? (float) i1 * (scaleOf(data, block + rowBytes) * scale)
                    : (float) i1 * scaleOf(data, block + rowBytes);
            s2 += perBlock ? (float) i2 * (scaleOf(data, block + 2 * rowBytes) * scale)
                    : (float) i2 * scaleOf(data, block + 2 * rowBytes);
            s3 += perBlock ? (float) i3 * (scaleOf(data, block + 3 * rowBytes) * scale)
                    : (float) i3 * scaleOf(data, block + 3 * rowBytes);
        }
        float divisor = perBlock ? 1f : x.scales()[t];
        out[outOff] = perBlock ? s0 : s0 / divisor;
        out[outOff + 1] = perBlock ? s1 : s1 / divisor;
        out[outOff + 2] = perBlock ? s2 : s2 / divisor;
        out[outOff + 3] = perBlock ? s3 : s3 / divisor;
    }

    private static float dotOneRow(MemorySegment data, long base, Activations x, int t, int blocks,
                                   boolean perBlock) {
        short[] q = x.wide();
        int xOff = t * blocks * 256;
        float sum = 0;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            ShortVector acc = ShortVector.zero(SHORTS);
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ShortVector w = TernaryLanes.widen(data, block + 32 * half + p);
                    for (int l = 0; l < 4; l++) {
                        ShortVector xv = ShortVector.fromArray(SHORTS, q, xOff + 256 * b + 128 * half + 32 * l + p);
                        acc = acc.add(TernaryLanes.code(w, 2 * l).mul(xv));
                    }
                }
            }
            int isum = TernaryLanes.sum(acc) - x.blockSums()[t * blocks + b];
            float d = scaleOf(data, block);
            sum += perBlock ? (float) isum * (d * x.scales()[t * blocks + b]) : (float) isum * d;
        }
        return perBlock ? sum : sum / x.scales()[t];
    }

    private static float scaleOf(MemorySegment data, long block) {
        return Float.float16ToFloat(data.get(Layouts.SHORT, block + 64));
    }

    @Override
    public String describe() {
        return "TQ2_0 " + Simd.BITS + "-bit, 4 rows";
    }
}
