package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its shape in PyTorch order (the last dimension varies fastest, so a weight
 * matrix is {@code [out, in]}, the reverse of ggml's ne order) and its bytes, a slice of the mapped file.
 */
public record SafetensorsTensor(String name, SafetensorsDtype dtype, long[] shape, MemorySegment data, Path file) {

    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return GgmlType.elementCount(shape);
    }

    /** The shape as ggml writes it: dimensions reversed, ne0 = the last PyTorch dimension. */
    public long[] ggmlShape() {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }

    /** Reads {@code count} elements from flat element {@code first} as floats (exact for every float dtype). */
    public void read(long first, float[] out, int offset, int count) {
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = data.getAtIndex(Layouts.FLOAT, first + i);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = Float.float16ToFloat(data.getAtIndex(Layouts.SHORT, first + i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = Float.intBitsToFloat(data.getAtIndex(Layouts.SHORT, first + i) << 16);
                }
            }
            default -> requireConvertible();
        }
    }

    /** Rejects a tensor whose dtype is not a float type, naming it. */
    public void requireConvertible() {
        if (!dtype.isConvertible()) {
            throw BitnetException.unsupported(file + ": tensor '" + name + "' has dtype " + dtype
                    + "; only F32, F16 and BF16 tensors can be converted (packed or integer checkpoints need "
                    + "their float master weights)");
        }
    }

    /** All elements as floats. */
    public float[] toFloats() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw BitnetException.unsupported(file + ": tensor '" + name + "' has " + n
                    + " elements, more than one array can hold");
        }
        float[] out = new float[(int) n];
        read(0, out, 0, out.length);
        return out;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
