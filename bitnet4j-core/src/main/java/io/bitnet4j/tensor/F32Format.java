package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** IEEE-754 binary32, 4 bytes per element. Products with float activations, summed in double for the reference. */
public final class F32Format implements WeightFormat {
    public static final F32Format INSTANCE = new F32Format();

    private F32Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.F32;
    }

    @Override
    public void decode(Tensor tensor, long first, float[] out, int outOffset, int count) {
        for (int i = 0; i < count; i++) {
            out[outOffset + i] = tensor.data().getAtIndex(Layouts.FLOAT, first + i);
        }
    }

    @Override
    public float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        int k = tensor.rowLength();
        long base = row * k;
        float[] x = act.values();
        int xBase = token * act.length();
        double sum = 0;
        for (int i = 0; i < k; i++) {
            sum += (double) (tensor.data().getAtIndex(Layouts.FLOAT, base + i) * x[xBase + i]);
        }
        return (float) sum;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    public byte[] encode(float[] values, long[] shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return buf.array();
    }
}
