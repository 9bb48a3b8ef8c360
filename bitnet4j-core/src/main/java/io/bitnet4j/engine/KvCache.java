package io.bitnet4j.engine;

/**
 * Keys and values of every layer for positions {@code [0, capacity)}: per layer a {@code [capacity][kvDim]} array
 * of F16 bits or floats. K is stored after RoPE. Values are rounded to F16 on store when the type is F16.
 */
public final class KvCache {
    private final KvType type;
    private final int layers;
    private final int capacity;
    private final int kvDim;
    private final short[][] keys16;
    private final short[][] values16;
    private final float[][] keys32;
    private final float[][] values32;

    public KvCache(KvType type, int layers, int capacity, int kvDim) {
        this.type = type;
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        int size = Math.multiplyExact(capacity, kvDim);
        if (type == KvType.F16) {
            keys16 = new short[layers][size];
            values16 = new short[layers][size];
            keys32 = null;
            values32 = null;
        } else {
            keys32 = new float[layers][size];
            values32 = new float[layers][size];
            keys16 = null;
            values16 = null;
        }
    }

    public KvType type() {
        return type;
    }

    public int capacity() {
        return capacity;
    }

    public int kvDim() {
        return kvDim;
    }

    public int layers() {
        return layers;
    }

    /** Bytes held, for reports. */
    public long byteSize() {
        return 2L * layers * capacity * kvDim * (type == KvType.F16 ? 2 : 4);
    }

    /** Stores one position's key and value ({@code kvDim} elements each) for a layer. */
    public void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int base = pos * kvDim;
        if (type == KvType.F16) {
            short[] kd = keys16[layer];
            short[] vd = values16[layer];
            for (int i = 0; i < kvDim; i++) {
                kd[base + i] = Float.floatToFloat16(k[kOff + i]);
                vd[base + i] = Float.floatToFloat16(v[vOff + i]);
            }
        } else {
            System.arraycopy(k, kOff, keys32[layer], base, kvDim);
            System.arraycopy(v, vOff, values32[layer], base, kvDim);
        }
    }

    public short[] keysF16(int layer) {
        return keys16[layer];
    }

    public short[] valuesF16(int layer) {
        return values16[layer];
    }

    public float[] keysF32(int layer) {
        return keys32[layer];
    }

    public float[] valuesF32(int layer) {
        return values32[layer];
    }
}
