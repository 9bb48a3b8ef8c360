package io.bitnet4j.tensor;

/**
 * What the reference does to the float input of a matrix product before multiplying it with a given weight type
 * (ggml's {@code vec_dot_type}, or bitnet.cpp's per-token int8 for I2_S).
 */
public enum ActivationType {
    /** Float activations as they are (F32 weights). */
    F32(1),
    /** Activations rounded to F16 (F16 weights). */
    F16(1),
    /** Activations rounded to BF16 (BF16 weights). */
    BF16(1),
    /** int8 per 32-element block with an F16 scale (Q8_0 and Q4_0 weights). */
    Q8_0(32),
    /** int8 per 256-element block with an F32 scale and 16-element sums (k-quants, IQ2_S, TQ1_0, TQ2_0). */
    Q8_K(256),
    /** int8 per token: one scale 127/absmax and the sum of the codes (bitnet.cpp's I2_S; spec §3.4). */
    I8_TOKEN(1);

    private final int blockSize;

    ActivationType(int blockSize) {
        this.blockSize = blockSize;
    }

    /** Elements per quantization block (the row length must be a multiple). */
    public int blockSize() {
        return blockSize;
    }

    public boolean isQuantized() {
        return this == Q8_0 || this == Q8_K || this == I8_TOKEN;
    }
}
