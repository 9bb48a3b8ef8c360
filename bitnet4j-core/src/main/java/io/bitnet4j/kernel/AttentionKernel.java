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
        public void headF32(float[] q, int qOff, float[] k, float[] v, int kvOff, int rowStride, int valueStride,
                            int length, int headDim, float scale, Attention.Scratch s, float[] out, int outOff) {
            VectorAttention.headF32(q, qOff, k, v, kvOff, rowStride, valueStride, length, headDim, scale, s, out,
                    outOff);
        }
    };
}
