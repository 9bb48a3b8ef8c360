package io.bitnet4j.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.bitnet4j.BitnetException;
import io.bitnet4j.model.Architecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * What the converter needs from a Hugging Face {@code config.json}, checked: the architecture class, the
 * dimensions, and the settings that become GGUF metadata.
 *
 * @param architectureClass  {@code architectures[0]}, e.g. {@code BitNetForCausalLM}
 * @param ggufArchitecture   the {@code general.architecture} it becomes
 * @param headDim            {@code head_dim}, or hidden_size / num_attention_heads
 * @param ropeTheta          {@code rope_theta} if the config has it (GGUF readers default to 10000 as HF does)
 * @param activation         {@code hidden_act} (default: the architecture's)
 * @param tieWordEmbeddings  {@code tie_word_embeddings} if the config has it
 * @param ropeScalingFactor  the factor of a linear {@code rope_scaling}, if any
 */
public record HfConfig(
        String architectureClass,
        String ggufArchitecture,
        Architecture architecture,
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        float rmsNormEps,
        Optional<Float> ropeTheta,
        Architecture.Activation activation,
        Optional<Boolean> tieWordEmbeddings,
        Optional<Float> ropeScalingFactor) {

    public static HfConfig read(Path path) {
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            throw BitnetException.invalidFile(path + ": file not found");
        } catch (IOException e) {
            throw BitnetException.invalidFile(path + ": not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw BitnetException.invalidFile(path + ": not a JSON object");
        }
        return new Reader(path, root).config();
    }

    /** Total size of the query heads, the input of the attention output projection. */
    public int queryDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    private record Reader(Path path, JsonNode root) {
        HfConfig config() {
            JsonNode archs = root.get("architectures");
            if (archs == null || !archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
                throw invalid("'architectures' is missing (expected e.g. [\"BitNetForCausalLM\"])");
            }
            String archClass = archs.get(0).asText();
            String ggufArch;
            Architecture arch;
            switch (archClass) {
                case "BitNetForCausalLM" -> {
                    ggufArch = "bitnet-b1.58";
                    arch = Architecture.BITNET_B158;
                }
                case "LlamaForCausalLM" -> {
                    ggufArch = "llama";
                    arch = Architecture.LLAMA;
                }
                default -> throw BitnetException.unsupported(path + ": architecture " + archClass
                        + " is not supported (supported: BitNetForCausalLM, LlamaForCausalLM)");
            }
            int hidden = positive("hidden_size");
            int heads = positive("num_attention_heads");
            int kvHeads = root.has("num_key_value_heads") ? positive("num_key_value_heads") : heads;
            if (heads % kvHeads != 0) {
                throw invalid("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
            }
            int headDim;
            if (root.has("head_dim") && !root.get("head_dim").isNull()) {
                headDim = positive("head_dim");
            } else if (hidden % heads == 0) {
                headDim = hidden / heads;
            } else {
                throw invalid("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
            }
            if (headDim % 2 != 0) {
                throw invalid("the head size " + headDim + " is odd; RoPE rotates pairs");
            }
            Architecture.Activation activation = root.has("hidden_act")
                    ? activation(text("hidden_act")) : arch.defaultActivation();
            Optional<Boolean> tied = Optional.empty();
            if (root.has("tie_word_embeddings")) {
                if (!root.get("tie_word_embeddings").isBoolean()) {
                    throw invalid("tie_word_embeddings is not true or false");
                }
                tied = Optional.of(root.get("tie_word_embeddings").asBoolean());
            }
            return new HfConfig(archClass, ggufArch, arch, hidden, positive("intermediate_size"),
                    positive("num_hidden_layers"), heads, kvHeads, headDim, positive("vocab_size"),
                    positive("max_position_embeddings"), positiveFloat("rms_norm_eps"),
                    root.has("rope_theta") ? Optional.of(positiveFloat("rope_theta")) : Optional.empty(),
                    activation, tied, ropeScaling());
        }

        private Architecture.Activation activation(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "silu", "swish" -> Architecture.Activation.SILU;
                case "relu2", "relu_sqr", "relu_squared", "squared_relu" -> Architecture.Activation.RELU_SQUARED;
                default -> throw BitnetException.unsupported(path + ": hidden_act '" + name
                        + "' is not supported (silu, relu2)");
            };
        }

        private Optional<Float> ropeScaling() {
            JsonNode scaling = root.get("rope_scaling");
            if (scaling == null || scaling.isNull()) {
                return Optional.empty();
            }
            JsonNode type = scaling.has("rope_type") ? scaling.get("rope_type") : scaling.get("type");
            JsonNode factor = scaling.get("factor");
            if (type == null || !"linear".equals(type.asText()) || factor == null || !factor.isNumber()
                    || !(factor.floatValue() > 0)) {
                throw BitnetException.unsupported(path + ": rope_scaling " + scaling
                        + " is not supported (only {\"type\": \"linear\", \"factor\": F})");
            }
            return Optional.of(factor.floatValue());
        }

        private int positive(String key) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) {
                throw invalid("'" + key + "' is missing");
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
                throw invalid("'" + key + "' = " + v + " is not a positive integer");
            }
            return v.asInt();
        }

        private float positiveFloat(String key) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) {
                throw invalid("'" + key + "' is missing");
            }
            if (!v.isNumber() || !(v.floatValue() > 0) || Float.isInfinite(v.floatValue())) {
                throw invalid("'" + key + "' = " + v + " is not a positive number");
            }
            return v.floatValue();
        }

        private String text(String key) {
            JsonNode v = root.get(key);
            if (!v.isTextual()) {
                throw invalid("'" + key + "' = " + v + " is not a string");
            }
            return v.asText();
        }

        private BitnetException invalid(String message) {
            return BitnetException.invalidModel(path + ": " + message);
        }
    }
}
