package io.bitnet4j.engine;

/** How the inputs of ternary matrix products are quantized. */
public enum ActivationMode {
    /**
     * As the reference of each weight format does it: per-token int8 for I2_S (bitnet.cpp), per-256-element Q8_K
     * blocks for TQ1_0/TQ2_0 (llama.cpp).
     */
    REFERENCE,
    /** Per-token int8 (absmax) for every ternary format, as BitNet b1.58 was trained. */
    TOKEN_INT8
}
