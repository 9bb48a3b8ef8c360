package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 weights (34-byte blocks: F16 d, 32 int8) times Q8_0 activations, as for an output head re-quantized with
 * {@code --head-type q8_0}. Per block the int8 products are summed exactly in pairs, turned into floats and
 * accumulated lane by lane scaled by {@code d_w·d_a}, as ggml's x86 kernel does, but into two accumulators (even and
 * odd blocks; with one, the chain of fused multiply-adds made it 1.5x slower); the lanes are summed in a fixed
 * order. Results differ from the scalar reference (blocks summed in sequence) by float rounding only.
 */
final class Q8Kernel implements MatMulKernel {
    static final Q8Kernel INSTANCE = new Q8Kernel();
    private static final int BLOCK_BYTES = 34;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Q8Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        int blocks = k / 32;
        long rowBytes = (long) blocks * BLOCK_BYTES;
        for (int t = 0; t < x.tokens(); t++) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[t * rows + r] = dot(data, r * rowBytes, x.wide(), t * k, x.scales(), t * blocks, blocks);
            }
        }
    }

    /** Even blocks go to one accumulator, odd blocks to another, so that two chains of fused multiply-adds overlap. */
    private static float dot(MemorySegment data, long base, short[] q, int qOff, float[] scales, int scaleOff,
                             int blocks) {
        FloatVector even = FloatVector.zero(FLOATS);
        FloatVector odd = even;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long block = base + (long) b * BLOCK_BYTES;
            FloatVector evenScale = blockScale(data, block, scales[scaleOff + b]);
            FloatVector oddScale = blockScale(data, block + BLOCK_BYTES, scales[scaleOff + b + 1]);
            for (int p = 0; p < 32; p += SHORT_LANES) {
                even = blockProducts(data, block + 2 + p, q, qOff + 32 * b + p).fma(evenScale, even);
                odd = blockProducts(data, block + BLOCK_BYTES + 2 + p, q, qOff + 32 * b + 32 + p).fma(oddScale, odd);
            }
        }
        if (b < blocks) {
            long block = base + (long) b * BLOCK_BYTES;
            FloatVector evenScale = blockScale(data, block, scales[scaleOff + b]);
            for (int p = 0; p < 32; p += SHORT_LANES) {
                even = blockProducts(data, block + 2 + p, q, qOff + 32 * b + p).fma(evenScale, even);
            }
        }
        return FloatLanes.sum(even.add(odd));
    }

    private static FloatVector blockScale(MemorySegment data, long block, float activationScale) {
        return FloatVector.broadcast(FLOATS, Float.float16ToFloat(data.get(Layouts.SHORT, block)) * activationScale);
    }

    /** {@link Simd#SHORT_LANES} int8 weights at {@code offset} times their activations, summed exactly in pairs. */
    private static FloatVector blockProducts(MemorySegment data, long offset, short[] q, int qOff) {
        ShortVector w = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, offset, LE)
                .convertShape(VectorOperators.B2S, SHORTS, 0);
        IntVector products = (IntVector) w.mul(ShortVector.fromArray(SHORTS, q, qOff)).reinterpretShape(INTS, 0);
        IntVector pairs = products.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(products.lanewise(VectorOperators.ASHR, 16));
        return (FloatVector) pairs.convertShape(VectorOperators.I2F, FLOATS, 0);
    }

    @Override
    public String describe() {
        return "Q8_0 " + Simd.BITS + "-bit";
    }
}
