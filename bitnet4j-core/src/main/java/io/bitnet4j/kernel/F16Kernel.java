package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 weights (the tied output head of BitNet b1.58 2B-4T) times F16-rounded activations, summed in float lanes,
 * four rows at a time. The Vector API has no half-precision conversion, so weights are widened with integer
 * operations: the magnitude bits shifted into a float's place and multiplied by 2^112 (exact for normal and
 * subnormal halves alike), the sign bit kept, infinities and NaNs patched. The sum order is the lanes', so
 * results differ from the scalar reference (a double sum) by float rounding only.
 */
final class F16Kernel implements MatMulKernel {
    static final F16Kernel INSTANCE = new F16Kernel();
    /** Halves with as many lanes as {@link Simd#FLOATS}. */
    private static final VectorSpecies<Short> HALVES =
            VectorSpecies.of(short.class, VectorShape.forBitSize(Simd.BITS / 2));
    private static final int LANES = FLOATS.length();
    private static final float TWO_POW_112 = 0x1p112f;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private F16Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        long rowBytes = 2L * k;
        float[] xs = x.values();
        for (int t = 0; t < x.tokens(); t++) {
            int xOff = t * k;
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                dotFourRows(data, r * rowBytes, rowBytes, xs, xOff, k, out, t * rows + r);
            }
            for (; r < rowEnd; r++) {
                out[t * rows + r] = dotOneRow(data, r * rowBytes, xs, xOff, k);
            }
        }
    }

    private static void dotFourRows(MemorySegment data, long base, long rowBytes, float[] x, int xOff, int k,
                                    float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i + LANES <= k; i += LANES) {
            FloatVector xv = FloatVector.fromArray(FLOATS, x, xOff + i);
            long off = base + 2L * i;
            a0 = widen(data, off).fma(xv, a0);
            a1 = widen(data, off + rowBytes).fma(xv, a1);
            a2 = widen(data, off + 2 * rowBytes).fma(xv, a2);
            a3 = widen(data, off + 3 * rowBytes).fma(xv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            float xi = x[xOff + i];
            long off = base + 2L * i;
            s0 += half(data, off) * xi;
            s1 += half(data, off + rowBytes) * xi;
            s2 += half(data, off + 2 * rowBytes) * xi;
            s3 += half(data, off + 3 * rowBytes) * xi;
        }
        out[outOff] = s0;
        out[outOff + 1] = s1;
        out[outOff + 2] = s2;
        out[outOff + 3] = s3;
    }

    private static float dotOneRow(MemorySegment data, long base, float[] x, int xOff, int k) {
        FloatVector acc = FloatVector.zero(FLOATS);
        int i = 0;
        for (; i + LANES <= k; i += LANES) {
            acc = widen(data, base + 2L * i).fma(FloatVector.fromArray(FLOATS, x, xOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            s += half(data, base + 2L * i) * x[xOff + i];
        }
        return s;
    }

    /** {@link #LANES} halves at byte {@code offset} as floats, exactly. */
    static FloatVector widen(MemorySegment data, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(HALVES, data, offset, LE)
                .convertShape(VectorOperators.S2I, INTS, 0);
        IntVector sign = h.and(0x80000000);
        IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        FloatVector value = sign.or(magnitude).reinterpretAsFloats().mul(TWO_POW_112);
        VectorMask<Integer> special = h.and(0x7c00).compare(VectorOperators.EQ, 0x7c00);
        if (special.anyTrue()) {
            FloatVector infOrNan = sign.or(0x7f800000).or(h.and(0x03ff).lanewise(VectorOperators.LSHL, 13))
                    .reinterpretAsFloats();
            value = value.blend(infOrNan, special.cast(FLOATS));
        }
        return value;
    }

    private static float half(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(io.bitnet4j.tensor.Layouts.SHORT, offset));
    }

    @Override
    public String describe() {
        return "F16 " + Simd.BITS + "-bit, 4 rows";
    }
}
