package io.bitnet4j.model;

import io.bitnet4j.tensor.WeightMatrix;

/**
 * The weights of one transformer block. Shapes are {input, output} as ggml writes them; D = embedding, Q = heads ×
 * head_dim, KV = kv_heads × head_dim, F = feed-forward length. Sub-norms and projection scales are null where the
 * architecture or the file has none.
 */
public record LayerWeights(
        float[] attnNorm,        // [D]
        WeightMatrix wq,         // {D, Q}
        WeightMatrix wk,         // {D, KV}
        WeightMatrix wv,         // {D, KV}
        WeightMatrix wo,         // {Q, D}
        float[] attnSubNorm,     // [Q] or null
        float[] ffnNorm,         // [D]
        WeightMatrix wGate,      // {D, F}
        WeightMatrix wUp,        // {D, F}
        WeightMatrix wDown,      // {F, D}
        float[] ffnSubNorm,      // [F] or null
        ProjectionScales scales, // per-projection scalars (arch bitnet) or null
        AttentionBiases biases   // optional q/k/v/o biases or null
) {
    /** Scalars that multiply each projection's output ({@code blk.N.<proj>.scale}), 1 where absent. */
    public record ProjectionScales(float q, float k, float v, float o, float gate, float up, float down) {
    }

    /** Optional additive biases of the attention projections (null entries where absent). */
    public record AttentionBiases(float[] q, float[] k, float[] v, float[] o) {
    }
}
