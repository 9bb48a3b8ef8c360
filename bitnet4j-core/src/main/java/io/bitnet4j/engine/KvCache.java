package io.bitnet4j.engine;

import io.bitnet4j.kernel.Attention;

import java.util.Arrays;

/**
 * Keys and values of every layer for positions {@code [0, capacity)}, as F16 bits or floats. Keys are stored by
 * position ({@code [pos][kvDim]}, after RoPE); values transposed ({@code [kvDim][paddedCapacity]}), as llama.cpp
 * stores them for its non-flash attention, so that both attention products read contiguous memory. The padded
 * capacity is a multiple of 32 because the reference attends over the used cells rounded up to 32 (the extra
 * cells hold zeros and carry zero probability).
 */
public final class KvCache {
    /** llama.cpp pads the attended length to a multiple of this. */
    public static final int PAD = Attention.POSITION_PAD;

    private final KvType type;
    private final int layers;
    private final int capacity;
    private final int paddedCapacity;
    private final int kvDim;
    private final short[][] keys16;
    private final short[][] values16;
    private final float[][] keys32;
    private final float[][] values32;
    private final boolean[] nonFinite;

    public KvCache(KvType type, int layers, int capacity, int kvDim) {
        this.type = type;
        this.layers = layers;
        this.capacity = capacity;
        this.paddedCapacity = (capacity + PAD - 1) / PAD * PAD;
        this.kvDim = kvDim;
        this.nonFinite = new boolean[layers];
        int keySize = Math.multiplyExact(capacity, kvDim);
        int valueSize = Math.multiplyExact(paddedCapacity, kvDim);
        if (type == KvType.F16) {
            keys16 = new short[layers][keySize];
            values16 = new short[layers][valueSize];
            keys32 = null;
            values32 = null;
        } else {
            keys32 = new float[layers][keySize];
            values32 = new float[layers][valueSize];
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

    /** Row length of the transposed values: the capacity rounded up to {@link #PAD}. */
    public int paddedCapacity() {
        return paddedCapacity;
    }

    public int kvDim() {
        return kvDim;
    }

    public int layers() {
        return layers;
    }

    /** Bytes held, for reports. */
    public long byteSize() {
        return (long) layers * kvDim * (capacity + paddedCapacity) * (type == KvType.F16 ? 2 : 4);
    }

    /** Stores one position's key and value ({@code kvDim} elements each) for a layer. */
    public void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int keyBase = pos * kvDim;
        if (type == KvType.F16) {
            short[] kd = keys16[layer];
            short[] vd = values16[layer];
            boolean finite = true;
            for (int i = 0; i < kvDim; i++) {
                short kh = Float.floatToFloat16(k[kOff + i]);
                short vh = Float.floatToFloat16(v[vOff + i]);
                kd[keyBase + i] = kh;
                vd[i * paddedCapacity + pos] = vh;
                finite &= (kh & 0x7c00) != 0x7c00 && (vh & 0x7c00) != 0x7c00;
            }
            if (!finite) {
                nonFinite[layer] = true;
            }
        } else {
            System.arraycopy(k, kOff, keys32[layer], keyBase, kvDim);
            float[] vd = values32[layer];
            for (int i = 0; i < kvDim; i++) {
                vd[i * paddedCapacity + pos] = v[vOff + i];
            }
        }
    }

    /** Zeroes the values of positions {@code [from, capacity)}: padding cells must hold finite values. */
    public void clearFrom(int from) {
        for (int layer = 0; layer < layers; layer++) {
            for (int i = 0; i < kvDim; i++) {
                int row = i * paddedCapacity;
                if (type == KvType.F16) {
                    Arrays.fill(values16[layer], row + from, row + paddedCapacity, (short) 0);
                } else {
                    Arrays.fill(values32[layer], row + from, row + paddedCapacity, 0f);
                }
            }
        }
    }

    /**
     * Whether an infinity or NaN was ever stored in this layer's F16 cache (values outside F16's range). Fast
     * attention kernels that read halves as finite numbers must then leave the layer to the reference.
     */
    public boolean hasNonFinite(int layer) {
        return nonFinite[layer];
    }

    /** Keys of a layer: position p, element i at {@code p*kvDim + i}. */
    public short[] keysF16(int layer) {
        return keys16[layer];
    }

    /** Values of a layer, transposed: element i, position p at {@code i*paddedCapacity + p}. */
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
