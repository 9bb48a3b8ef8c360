package io.bitnet4j.tensor;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A typed view of one tensor's bytes: name, ggml type, shape ({@code shape[0]} is the row length) and the memory
 * that holds it, usually a zero-copy slice of a mapped GGUF file.
 */
public record Tensor(String name, GgmlType type, long[] shape, MemorySegment data) {

    public Tensor {
        shape = shape.clone();
        long expected = type.byteSize(shape);
        if (expected != data.byteSize()) {
            throw BitnetException.invalidFile("tensor '" + name + "': " + data.byteSize() + " bytes, expected " + expected
                    + " for " + type + " " + Arrays.toString(shape));
        }
    }

    /** The tensor named {@code name} in {@code file}, or an error naming the file and tensor. */
    public static Tensor of(GgufFile file, String name) {
        GgufTensorInfo info = file.tensorInfo(name).orElseThrow(() ->
                BitnetException.invalidModel(file.name() + ": tensor '" + name + "' is missing"));
        return of(file, info);
    }

    public static Tensor of(GgufFile file, GgufTensorInfo info) {
        return new Tensor(info.name(), info.type(), info.shape(), file.tensorData(info));
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public long elementCount() {
        return GgmlType.elementCount(shape);
    }

    /** ne[0]: elements per row, the input dimension of a weight matrix. */
    public int rowLength() {
        return Math.toIntExact(shape.length == 0 ? 1 : shape[0]);
    }

    /** Number of rows (product of ne[1..]), the output dimension of a weight matrix. */
    public long rowCount() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor other && name.equals(other.name) && type == other.type
                && Arrays.equals(shape, other.shape) && data.equals(other.data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString();
    }
}
