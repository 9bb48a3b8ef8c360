package io.bitnet4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Hyperparameters from metadata: defaults as llama.cpp's loader has them, and one clear error per bad value. */
class ModelConfigTest {
    private final Map<String, GgufValue> md = new LinkedHashMap<>();

    /** A minimal valid llama: 64 embd, 8 heads (head dim 8), 2 layers. */
    ModelConfigTest() {
        str("general.architecture", "llama");
        u32("llama.context_length", 512);
        u32("llama.embedding_length", 64);
        u32("llama.block_count", 2);
        u32("llama.feed_forward_length", 172);
        u32("llama.attention.head_count", 8);
        f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    }

    private void str(String key, String value) {
        md.put(key, new GgufValue.StringValue(value));
    }

    private void u32(String key, long value) {
        md.put(key, new GgufValue.IntValue(GgufValueType.UINT32, value));
    }

    private void f32(String key, float value) {
        md.put(key, new GgufValue.FloatValue(GgufValueType.FLOAT32, value));
    }

    private ModelConfig config() {
        return ModelConfig.fromMetadata(new GgufMetadata("test.gguf", md), 512);
    }

    private void assertRejected(BitnetException.Kind kind, String... messageParts) {
        assertThatThrownBy(this::config).isInstanceOfSatisfying(BitnetException.class,
                e -> assertThat(e.kind()).isEqualTo(kind)).hasMessageContainingAll(messageParts)
                .hasMessageStartingWith("test.gguf: ");
    }

    @Test
    void defaultsFollowLlamaCpp() {
        ModelConfig c = config();
        assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
        assertThat(c.headCountKv()).as("head_count_kv defaults to head_count").isEqualTo(8);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.ropeDims()).as("rope.dimension_count defaults to the head dim").isEqualTo(8);
        assertThat(c.ropeFreqBase()).isEqualTo(10000f);
        assertThat(c.ropeFreqScale()).isEqualTo(1f);
        assertThat(c.vocabSize()).isEqualTo(512);
        assertThat(c.activation()).isEqualTo(Architecture.Activation.SILU);
        assertThat(c.groupSize()).isEqualTo(1);
    }

    @Test
    void explicitValuesWin() {
        u32("llama.attention.head_count_kv", 2);
        u32("llama.attention.key_length", 16);
        u32("llama.rope.dimension_count", 6);
        f32("llama.rope.freq_base", 500000f);
        u32("llama.vocab_size", 300);
        ModelConfig c = config();
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.queryDim()).isEqualTo(128);
        assertThat(c.kvDim()).isEqualTo(32);
        assertThat(c.groupSize()).isEqualTo(4);
        assertThat(c.ropeDims()).isEqualTo(6);
        assertThat(c.ropeFreqBase()).isEqualTo(500000f);
        assertThat(c.vocabSize()).as("vocab_size beats the fallback").isEqualTo(300);
    }

    @Test
    void theBitnetArchitecturesAndTheirNames() {
        for (String name : new String[] {"bitnet-b1.58", "bitnet-25"}) {
            md.clear();
            str("general.architecture", name);
            u32(name + ".context_length", 4096);
            u32(name + ".embedding_length", 64);
            u32(name + ".block_count", 1);
            u32(name + ".feed_forward_length", 32);
            u32(name + ".attention.head_count", 4);
            f32(name + ".attention.layer_norm_rms_epsilon", 1e-5f);
            ModelConfig c = config();
            assertThat(c.architecture()).isEqualTo(Architecture.BITNET_B158);
            assertThat(c.architectureName()).isEqualTo(name);
            assertThat(c.activation()).isEqualTo(Architecture.Activation.RELU_SQUARED);
        }
        assertThat(Architecture.BITNET.defaultActivation()).isEqualTo(Architecture.Activation.SILU);
        assertThat(Architecture.BITNET.ropeStyle()).isEqualTo(Architecture.RopeStyle.NEOX);
        assertThat(Architecture.LLAMA.ropeStyle()).isEqualTo(Architecture.RopeStyle.NORM);
    }

    @Test
    void anUnknownArchitectureNamesTheSupportedOnes() {
        str("general.architecture", "mamba");
        assertRejected(BitnetException.Kind.INVALID_MODEL, "unknown model architecture 'mamba'", "bitnet-b1.58",
                "bitnet", "llama");
    }

    @Test
    void headsThatDoNotDivideAreRejected() {
        u32("llama.attention.head_count_kv", 3);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "attention.head_count 8 is not a multiple of head_count_kv 3");
    }

    @Test
    void anEmbeddingThatHeadsDoNotDivideNeedsAKeyLength() {
        u32("llama.attention.head_count", 6);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "embedding_length 64 is not a multiple of head_count 6");
        u32("llama.attention.key_length", 10);
        assertThat(config().headDim()).isEqualTo(10);
    }

    @ParameterizedTest
    @ValueSource(strings = {"general.architecture", "llama.context_length", "llama.embedding_length",
            "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count",
            "llama.attention.layer_norm_rms_epsilon"})
    void missingRequiredKeysAreNamed(String key) {
        md.remove(key);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "'" + key + "'", "missing");
    }

    @Test
    void outOfRangeValuesAreRejected() {
        u32("llama.block_count", 0);
        assertThatThrownBy(this::config).isInstanceOf(BitnetException.class)
                .hasMessageContaining("llama.block_count' = 0 is out of range");
        u32("llama.block_count", 2);
        u32("llama.rope.dimension_count", 7);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "rope.dimension_count 7 must be even");
        u32("llama.rope.dimension_count", 10);
        assertThatThrownBy(this::config).isInstanceOf(BitnetException.class)
                .hasMessageContaining("rope.dimension_count' = 10 is out of range [0, 8]");
        md.remove("llama.rope.dimension_count");
        f32("llama.rope.freq_base", -1f);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "rope.freq_base -1.0 must be positive");
        md.remove("llama.rope.freq_base");
        f32("llama.attention.layer_norm_rms_epsilon", 2f);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "layer_norm_rms_epsilon 2.0 is out of range");
        f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
        u32("llama.attention.value_length", 4);
        assertRejected(BitnetException.Kind.UNSUPPORTED, "value_length 4 differs from key_length 8");
    }

    @Test
    void aKeyOfTheWrongTypeIsReported() {
        str("llama.block_count", "two");
        assertThatThrownBy(this::config).isInstanceOf(BitnetException.class)
                .hasMessageContaining("'llama.block_count' has type str, expected an integer");
    }

    // ---------------------------------------------------------------------------------------------- rope scaling

    /**
     * llama.cpp ({@code llm_load_hparams}, {@code llama_context}): the type defaults to linear; the factor is
     * rope.scaling.factor, else the older rope.scale_linear; no factor (or 0) means 1; type none never scales.
     */
    @ParameterizedTest(name = "type {0}, factor {1}, scale_linear {2}: freq scale {3}")
    @CsvSource(nullValues = "-", value = {
            "-,      -,   -,   1",
            "-,      4,   -,   0.25",
            "-,      -,   2,   0.5",
            "-,      4,   2,   0.25",
            "linear, 4,   -,   0.25",
            "linear, -,   -,   1",
            "linear, 1,   -,   1",
            "none,   4,   -,   1",
            "none,   -,   2,   1",
    })
    void ropeScaling(String type, Float factor, Float scaleLinear, float expected) {
        if (type != null) {
            str("llama.rope.scaling.type", type);
        }
        if (factor != null) {
            f32("llama.rope.scaling.factor", factor);
        }
        if (scaleLinear != null) {
            f32("llama.rope.scale_linear", scaleLinear);
        }
        assertThat(config().ropeFreqScale()).isEqualTo(expected);
    }

    @Test
    void unsupportedOrNonsensicalRopeScalingIsRejected() {
        str("llama.rope.scaling.type", "yarn");
        f32("llama.rope.scaling.factor", 4f);
        assertRejected(BitnetException.Kind.UNSUPPORTED, "rope scaling type 'yarn' is not supported");
        str("llama.rope.scaling.type", "linear");
        f32("llama.rope.scaling.factor", -2f);
        assertRejected(BitnetException.Kind.INVALID_MODEL, "rope.scaling.factor", "-2.0");
    }

    // ---------------------------------------------------------------------------------------------- hidden_act

    @ParameterizedTest
    @CsvSource({"silu, SILU", "SiLU, SILU", "swish, SILU", "relu2, RELU_SQUARED", "relu_sqr, RELU_SQUARED",
            "squared_relu, RELU_SQUARED", "ReLU_Squared, RELU_SQUARED"})
    void hiddenActOverridesTheArchitecturesGate(String name, Architecture.Activation expected) {
        str("llama.hidden_act", name);
        assertThat(config().activation()).isEqualTo(expected);
    }

    @Test
    void anUnknownHiddenActIsUnsupported() {
        str("llama.hidden_act", "gelu");
        assertRejected(BitnetException.Kind.UNSUPPORTED, "llama.hidden_act 'gelu' is not supported");
    }

    // ---------------------------------------------------------------------------------------------- vocabulary

    @Test
    void vocabularySizeFallsBackToTheCallersCountAndMustExist() {
        assertThat(ModelConfig.fromMetadata(new GgufMetadata("test.gguf", md), 320).vocabSize()).isEqualTo(320);
        assertThatThrownBy(() -> ModelConfig.fromMetadata(new GgufMetadata("test.gguf", md), 0))
                .isInstanceOfSatisfying(BitnetException.class,
                        e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.INVALID_MODEL))
                .hasMessageContaining("vocabulary size");
        u32("llama.vocab_size", 0);
        assertThatThrownBy(this::config).isInstanceOf(BitnetException.class)
                .hasMessageContaining("llama.vocab_size' = 0 is out of range");
    }
}
