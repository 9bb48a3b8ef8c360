package io.bitnet4j.model;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgufMetadata;
import java.util.Locale;

/**
 * Hyperparameters of a model, read from GGUF metadata under the architecture's key prefix and validated.
 *
 * @param architectureName the {@code general.architecture} string as written (it is the key prefix)
 * @param headDim          per-head dimension (key_length, or embedding/heads)
 * @param ropeDims         dimensions RoPE rotates in each head (≤ headDim)
 * @param ropeFreqScale    1/linear-scaling factor (1 when the file has no rope scaling)
 */
public record ModelConfig(
        Architecture architecture,
        String architectureName,
        int vocabSize,
        int contextLength,
        int embeddingLength,
        int blockCount,
        int feedForwardLength,
        int headCount,
        int headCountKv,
        int headDim,
        int ropeDims,
        float ropeFreqBase,
        float ropeFreqScale,
        float rmsEpsilon,
        Architecture.Activation activation) {

    private static final int MAX_DIM = 1 << 17;
    private static final int MAX_CONTEXT = 1 << 22;
    private static final int MAX_VOCAB = 1 << 23;
    private static final int MAX_LAYERS = 4096;

    /** Dimension of all query heads together. */
    public int queryDim() {
        return headCount * headDim;
    }

    /** Dimension of all key (or value) heads together. */
    public int kvDim() {
        return headCountKv * headDim;
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return headCount / headCountKv;
    }

    /** Reads and validates the hyperparameters; {@code vocabFallback} is used when no vocab_size key exists. */
    public static ModelConfig fromMetadata(GgufMetadata md, int vocabFallback) {
        String source = md.source();
        String archName = md.requireString("general.architecture");
        Architecture arch = Architecture.fromName(archName, source);
        String p = archName + ".";

        int embedding = md.requireInt(p + "embedding_length", 1, MAX_DIM);
        int layers = md.requireInt(p + "block_count", 1, MAX_LAYERS);
        int ffn = md.requireInt(p + "feed_forward_length", 1, MAX_DIM * 8);
        int heads = md.requireInt(p + "attention.head_count", 1, MAX_DIM);
        int headsKv = md.intOrDefault(p + "attention.head_count_kv", heads, 1, MAX_DIM);
        int context = md.requireInt(p + "context_length", 1, MAX_CONTEXT);
        int vocab = md.intOrDefault(p + "vocab_size", vocabFallback, 1, MAX_VOCAB);
        if (vocab < 1) {
            throw invalid(source, "cannot tell the vocabulary size: no " + p + "vocab_size key and no tokenizer or "
                    + "embedding to count it from");
        }
        if (heads % headsKv != 0) {
            throw invalid(source, p + "attention.head_count " + heads + " is not a multiple of head_count_kv " + headsKv);
        }
        int defaultHeadDim = embedding % heads == 0 ? embedding / heads : 0;
        int headDim = md.intOrDefault(p + "attention.key_length", defaultHeadDim, 1, MAX_DIM);
        int valueDim = md.intOrDefault(p + "attention.value_length", headDim, 1, MAX_DIM);
        if (headDim == 0) {
            throw invalid(source, p + "embedding_length " + embedding + " is not a multiple of head_count " + heads);
        }
        if (valueDim != headDim) {
            throw BitnetException.unsupported(source + ": value_length " + valueDim + " differs from key_length "
                    + headDim + "; not supported");
        }
        int ropeDims = md.intOrDefault(p + "rope.dimension_count", headDim, 0, headDim);
        if (ropeDims % 2 != 0) {
            throw invalid(source, p + "rope.dimension_count " + ropeDims + " must be even");
        }
        float freqBase = md.floatOrDefault(p + "rope.freq_base", 10000f);
        if (!(freqBase > 0) || Float.isInfinite(freqBase)) {
            throw invalid(source, p + "rope.freq_base " + freqBase + " must be positive");
        }
        float freqScale = ropeFreqScale(md, p, source);
        float eps = md.optionalDouble(p + "attention.layer_norm_rms_epsilon").isPresent()
                ? (float) md.optionalDouble(p + "attention.layer_norm_rms_epsilon").getAsDouble()
                : Float.NaN;
        if (Float.isNaN(eps)) {
            throw invalid(source, "metadata key '" + p + "attention.layer_norm_rms_epsilon' is missing");
        }
        if (!(eps >= 0) || eps > 1) {
            throw invalid(source, p + "attention.layer_norm_rms_epsilon " + eps + " is out of range [0, 1]");
        }
        Architecture.Activation activation = md.optionalString(p + "hidden_act")
                .map(a -> parseActivation(a, source, p))
                .orElse(arch.defaultActivation());
        return new ModelConfig(arch, archName, vocab, context, embedding, layers, ffn, heads, headsKv, headDim,
                ropeDims, freqBase, freqScale, eps, activation);
    }

    /**
     * The RoPE frequency scale as llama.cpp derives it ({@code llm_load_hparams}, {@code llama_context}): the scaling
     * type defaults to linear; the factor is {@code rope.scaling.factor}, else the older {@code rope.scale_linear};
     * no factor (or 0) means no scaling, and type none never scales.
     */
    private static float ropeFreqScale(GgufMetadata md, String p, String source) {
        String type = md.optionalString(p + "rope.scaling.type").orElse("linear").toLowerCase(Locale.ROOT);
        String factorKey = md.contains(p + "rope.scaling.factor") ? p + "rope.scaling.factor" : p + "rope.scale_linear";
        float factor = md.floatOrDefault(factorKey, 0f);
        switch (type) {
            case "none" -> {
                return 1f;
            }
            case "linear" -> {
                if (factor == 0f) {
                    return 1f;
                }
                if (!(factor > 0) || Float.isInfinite(factor)) {
                    throw invalid(source, factorKey + " " + factor + " must be positive");
                }
                return 1f / factor;
            }
            default -> throw BitnetException.unsupported(source + ": rope scaling type '" + type
                    + "' is not supported (only none and linear)");
        }
    }

    private static Architecture.Activation parseActivation(String name, String source, String p) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "silu", "swish" -> Architecture.Activation.SILU;
            case "relu2", "relu_sqr", "relu_squared", "squared_relu" -> Architecture.Activation.RELU_SQUARED;
            default -> throw BitnetException.unsupported(source + ": " + p + "hidden_act '" + name
                    + "' is not supported (silu, relu2)");
        };
    }

    private static BitnetException invalid(String source, String message) {
        return BitnetException.invalidModel(source + ": " + message);
    }
}
