package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** F32 weights times float activations in float lanes, one row at a time. */
final class F32Kernel implements MatMulKernel {
    static final F32Kernel INSTANCE = new F32Kernel();
    private static final int LANES = FLOATS.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private F32Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        long rowBytes = 4L * k;
        float[] xs = x.values();
        for (int t = 0; t < x.tokens(); t++) {
            int xOff = t * k;
            for (int r = rowStart; r < rowEnd; r++) {
                long base = r * rowBytes;
                FloatVector acc = FloatVector.zero(FLOATS);
                int i = 0;
                for (; i + LANES <= k; i += LANES) {
                    acc = FloatVector.fromMemorySegment(FLOATS, data, base + 4L * i, LE)
                            .fma(FloatVector.fromArray(FLOATS, xs, xOff + i), acc);
                }
                float s = FloatLanes.sum(acc);
                for (; i < k; i++) {
                    s += data.get(Layouts.FLOAT, base + 4L * i) * xs[xOff + i];
                }
                out[t * rows + r] = s;
            }
        }
    }

    @Override
    public String describe() {
        return "F32 " + Simd.BITS + "-bit";
    }
}
