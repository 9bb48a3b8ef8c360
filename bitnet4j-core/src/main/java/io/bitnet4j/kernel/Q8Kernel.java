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
 * accumulated lane by lane scaled by {@code d_w·d_a}, as ggml's x86 kernel does; the lanes are summed in a fixed
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

    private static float dot(MemorySegment data, long base, short[] q, int qOff, float[] scales, int scaleOff,
                             int blocks) {
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            FloatVector scale = FloatVector.broadcast(FLOATS,
                    Float.float16ToFloat(data.get(Layouts.SHORT, block)) * scales[scaleOff + b]);
            for (int p = 0; p < 32; p += SHORT_LANES) {
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, block + 2 + p, LE)
                        .convertShape(VectorOperators.B2S, SHORTS, 0);
                IntVector products = (IntVector) w.mul(ShortVector.fromArray(SHORTS, q, qOff + 32 * b + p))
                        .reinterpretShape(INTS, 0);
                IntVector pairs = products.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(products.lanewise(VectorOperators.ASHR, 16));
                acc = ((FloatVector) pairs.convertShape(VectorOperators.I2F, FLOATS, 0)).fma(scale, acc);
            }
        }
        return FloatLanes.sum(acc);
    }

    @Override
    public String describe() {
        return "Q8_0 " + Simd.BITS + "-bit";
    }
}
