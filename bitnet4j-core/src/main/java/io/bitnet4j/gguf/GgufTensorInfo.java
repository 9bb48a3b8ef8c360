package io.bitnet4j.gguf;

import java.util.Arrays;

/**
 * One tensor's entry in the GGUF header: its name, ggml type, shape (ne[0] first: the row length), offset from
 * the start of the data section, and size in bytes, all validated against the file.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize, int index) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dimensions() {
        return shape.length;
    }

    /** ne[i], or 1 for dimensions beyond the stored ones (ggml's convention). */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elementCount() {
        return GgmlType.elementCount(shape);
    }

    /** The shape as ggml prints it, e.g. {@code [2560, 128256]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo other && name.equals(other.name) && type == other.type
                && Arrays.equals(shape, other.shape) && offset == other.offset && byteSize == other.byteSize
                && index == other.index;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString() + " @" + offset + " (" + byteSize + " B)";
    }
}
