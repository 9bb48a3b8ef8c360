package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;

import java.util.Arrays;
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
        Attention.softmax(p, length, scale, s.lanes);
        int padded = Attention.paddedLength(length);
        for (int j = 0; j < length; j++) {
            p[j] = Attention.roundToF16(p[j]);
        }
        Arrays.fill(p, length, padded, 0f);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = dotF16(v, (kvOff + d) * valueStride, p, 0, padded);
        }
    }

    static void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                        int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
        float[] p = s.scores;
        for (int j = 0; j < length; j++) {
            p[j] = dotF32(k, j * rowStride + kvOff, q, qOff, headDim);
        }
        Attention.softmax(p, length, scale, s.lanes);
        int padded = Attention.paddedLength(length);
        Arrays.fill(p, length, padded, 0f);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = dotF32(v, (kvOff + d) * valueStride, p, 0, padded);
        }
    }

    private static float dotF16(short[] x, int xOff, float[] y, int yOff, int n) {
        int blocked = n & ~63;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < blocked; i += 64) {
            a0 = widen(x, xOff + i).fma(FloatVector.fromArray(FLOATS, y, yOff + i), a0);
            a1 = widen(x, xOff + i + 16).fma(FloatVector.fromArray(FLOATS, y, yOff + i + 16), a1);
            a2 = widen(x, xOff + i + 32).fma(FloatVector.fromArray(FLOATS, y, yOff + i + 32), a2);
            a3 = widen(x, xOff + i + 48).fma(FloatVector.fromArray(FLOATS, y, yOff + i + 48), a3);
        }
        double sum = FloatLanes.sum(a0.add(a2).add(a1.add(a3)));
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

    /**
     * 16 finite halves as floats, exactly (as {@link F16Kernel#widen}). Infinities and NaNs would be misread: a
     * cache layer that holds one
     * ({@link io.bitnet4j.engine.KvCache#hasNonFinite}) is attended by the reference instead.
     */
    private static FloatVector widen(short[] x, int offset) {
        IntVector h = (IntVector) ShortVector.fromArray(HALVES, x, offset).convertShape(VectorOperators.S2I, INTS, 0);
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
    }
}
