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

    /** {@code to[toOffset + i] = (float) from[offset + i]} for F16 values, i below {@code count}. */
    default void widen(short[] from, int offset, float[] to, int toOffset, int count) {
        for (int i = 0; i < count; i++) {
            to[toOffset + i] = Float.float16ToFloat(from[offset + i]);
        }
    }

    /**
     * {@link #groupsF16} for one group of four heads (cache head {@code kvOff / headDim}) over a cache layer that
     * {@link #widen} widened to floats: bit for bit the same results. Only where {@link #widensForPrompts}.
     */
    default void groupWidened(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                              int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
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
        public void widen(short[] from, int offset, float[] to, int toOffset, int count) {
            VectorAttention.widen(from, offset, to, toOffset, count);
        }

        @Override
        public void groupWidened(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride,
                                 int valueStride, int length, int headDim, float scale, Attention.Scratch s,
                                 float[] out, int outOff) {
            VectorAttention.groupWidened(q, qOff, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s,
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
