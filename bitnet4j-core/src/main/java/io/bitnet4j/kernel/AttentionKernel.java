package io.bitnet4j.kernel;

/** One head of causal attention over the KV cache ({@link Attention} describes the arithmetic). */
public interface AttentionKernel {
    void headF16(float[] q, int qOff, short[] k, short[] v, int kvOff, int rowStride, int valueStride, int length,
                 int headDim, float scale, Attention.Scratch s, float[] out, int outOff);

    void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride, int length,
                 int headDim, float scale, Attention.Scratch s, float[] out, int outOff);

    /**
     * {@link #headF16} for the {@code 4·groups} query heads from {@code firstHead} on, head h reading cache head
     * {@code h / groupSize} (a multiple of 4): their queries and outputs lie one after the other from {@code qOff}
     * and {@code outOff}.
     */
    default void groupsF16(float[] q, int qOff, short[] k, short[] v, int firstHead, int groupSize, int rowStride,
                           int valueStride, int length, int headDim, int groups, float scale, Attention.Scratch s,
                           float[] out, int outOff) {
        for (int h = 0; h < 4 * groups; h++) {
            int kvOff = (firstHead + h) / groupSize * headDim;
            headF16(q, qOff + h * headDim, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s, out,
                    outOff + h * headDim);
        }
    }

    /**
     * Whether prompts widen each F16 cache layer to floats once per batch and attend with {@link #groupWidened}
     * (where this kernel has it); else they attend with {@link #groupsF16}.
     */
    default boolean widensForPrompts() {
        return false;
    }

    /**
     * Block {@code block} of 16 positions of the first {@code positions} cached F16 keys ({@code kvDim} per
     * position) widened to floats as {@link #groupWidened} reads them: element i of position 16·block + l at
     * {@code keys[(block·kvDim + i)·16 + l]}, zero for positions from {@code positions} on.
     */
    default void widenKeys(short[] cached, int kvDim, int positions, int block, float[] keys) {
        int lanes = GgmlMath.LANES;
        int tile = block * kvDim * lanes;
        for (int l = 0; l < lanes; l++) {
            int j = block * lanes + l;
            for (int i = 0; i < kvDim; i++) {
                keys[tile + i * lanes + l] = j < positions ? Float.float16ToFloat(cached[j * kvDim + i]) : 0f;
            }
        }
    }

    /**
     * Block {@code block} of a cache head's dimensions (block c of cache head k is block k·⌈headDim/16⌉ + c: its
     * dimensions k·headDim + 16c + l, l < 16 and 16c + l < headDim) of the first {@code positions} cached F16 values
     * (transposed in the cache: dimension d of position j at {@code cached[d·cacheStride + j]}) widened to floats as
     * {@link #groupWidened} reads them: position j's lane l at {@code values[(block·rows + j)·16 + l]} for
     * {@code rows} positions, zero for positions from {@code positions} on and for lanes past the head.
     */
    default void widenValues(short[] cached, int cacheStride, int headDim, int positions, int rows, int block,
                             float[] values) {
        int lanes = GgmlMath.LANES;
        int blocks = (headDim + lanes - 1) / lanes;
        int first = block / blocks * headDim + block % blocks * lanes;
        int count = Math.min(lanes, headDim - block % blocks * lanes);
        int tile = block * rows * lanes;
        java.util.Arrays.fill(values, tile, tile + rows * lanes, 0f);
        for (int l = 0; l < count; l++) {
            int row = (first + l) * cacheStride;
            for (int j = 0; j < positions; j++) {
                values[tile + j * lanes + l] = Float.float16ToFloat(cached[row + j]);
            }
        }
    }

    /**
     * {@link #groupsF16} for one group of four heads (cache head {@code kvOff / headDim}) over a cache layer that
     * {@link #widenKeys} and {@link #widenValues} widened to floats with {@code positions} rows (at least the
     * padded {@code length}, a multiple of 16): bit for bit the same results. Only where {@link #widensForPrompts}.
     */
    default void groupWidened(float[] q, int qOff, float[] keys, float[] values, int positions, int kvOff,
                              int kvDim, int length, int headDim, float scale, Attention.Scratch s, float[] out,
                              int outOff) {
        throw new UnsupportedOperationException("this attention kernel attends only the F16 cache itself");
    }

    /** The scalar reference. */
    AttentionKernel SCALAR = new AttentionKernel() {
        @Override
        public void headF16(float[] q, int qOff, short[] k, short[] v, int kvOff, int rowStride, int valueStride,
                            int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
            Attention.headF16(q, qOff, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s, out, outOff);
        }

        @Override
        public void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                            int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
            Attention.headF32(q, qOff, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s, out, outOff);
        }
    };

    /** The Vector API twin of {@link #SCALAR} (only where {@link VectorAttention#SUPPORTED}). */
    AttentionKernel VECTOR = new AttentionKernel() {
        @Override
        public void headF16(float[] q, int qOff, short[] k, short[] v, int kvOff, int rowStride, int valueStride,
                            int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
            VectorAttention.headF16(q, qOff, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s, out,
                    outOff);
        }

        @Override
        public void groupsF16(float[] q, int qOff, short[] k, short[] v, int firstHead, int groupSize,
                              int rowStride, int valueStride, int length, int headDim, int groups, float scale,
                              Attention.Scratch s, float[] out, int outOff) {
            VectorAttention.groupsF16(q, qOff, k, v, firstHead, groupSize, rowStride, valueStride, length, headDim,
                    groups, scale, s, out, outOff);
        }

        @Override
        public boolean widensForPrompts() {
            return true;
        }

        @Override
        public void groupWidened(float[] q, int qOff, float[] keys, float[] values, int positions, int kvOff,
                                 int kvDim, int length, int headDim, float scale, Attention.Scratch s, float[] out,
                                 int outOff) {
            VectorAttention.groupWidened(q, qOff, keys, values, positions, kvOff, kvDim, length, headDim, scale, s,
                    out, outOff);
        }

        @Override
        public void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                            int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
            VectorAttention.headF32(q, qOff, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s, out,
                    outOff);
        }
    };
}
