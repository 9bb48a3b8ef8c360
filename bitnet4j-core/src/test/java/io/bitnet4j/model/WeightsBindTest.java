package io.bitnet4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.testing.SyntheticModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binding tensors by name: each missing or misshapen tensor is one error naming it and what was expected. */
class WeightsBindTest {
    @TempDir
    Path dir;

    static SyntheticModel model(String arch) {
        return SyntheticModel.zeros(SyntheticModel.Config.of(arch, 288, 64, 2, 4, 2, 48, 16, 64));
    }

    private void assertInvalid(SyntheticModel m, String message) {
        Path file = m.write(dir.resolve("broken.gguf"));
        assertThatThrownBy(() -> Model.load(file).close()).isInstanceOfSatisfying(BitnetException.class,
                e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.INVALID_MODEL))
                .hasMessage(file + ": " + message);
    }

    @Test
    void aMissingTensorIsNamed() {
        assertInvalid(model("bitnet-b1.58").remove("blk.1.ffn_down.weight"), "tensor 'blk.1.ffn_down.weight' is missing");
        assertInvalid(model("bitnet").remove("blk.0.attn_sub_norm.weight"),
                "tensor 'blk.0.attn_sub_norm.weight' is missing");
    }

    @Test
    void aWrongShapeNamesBothShapes() {
        SyntheticModel m = model("bitnet-b1.58");
        m.put("blk.0.attn_k.weight", new float[32 * 64], 32, 64); // expected {64, 32}: kv heads 2 × head dim 16
        assertInvalid(m, "tensor 'blk.0.attn_k.weight' has shape [32, 64], expected [64, 32]");
        m = model("llama");
        m.put("output_norm.weight", new float[63], 63);
        assertInvalid(m, "tensor 'output_norm.weight' has shape [63], expected [64]");
    }

    @Test
    void trailingDimensionsOfOneAreAccepted() {
        SyntheticModel m = model("llama");
        m.put("output_norm.weight", new float[64], 64, 1);
        try (Model loaded = Model.load(m.write(dir.resolve("ok.gguf")))) {
            assertThat(loaded.weights().outputNorm()).hasSize(64);
        }
    }

    @Test
    void aNormWithANonFiniteValueIsRejected() {
        SyntheticModel m = model("llama");
        m.get("blk.1.ffn_norm.weight")[3] = Float.NaN;
        assertInvalid(m, "tensor 'blk.1.ffn_norm.weight' holds NaN");
    }

    @Test
    void subNormsAreOnlyBoundForTheBitnetArchitectures() {
        try (Model llama = Model.load(model("llama").write(dir.resolve("llama.gguf")));
             Model bitnet = Model.load(model("bitnet").write(dir.resolve("bitnet.gguf")))) {
            assertThat(llama.weights().layers().get(0).attnSubNorm()).isNull();
            assertThat(llama.weights().layers().get(0).scales()).isNull();
            assertThat(bitnet.weights().layers().get(1).ffnSubNorm()).hasSize(48);
            assertThat(bitnet.weights().layers().get(1).scales()).as("absent scales read as 1")
                    .isEqualTo(new LayerWeights.ProjectionScales(1, 1, 1, 1, 1, 1, 1));
        }
    }

    @Test
    void theVocabularySizeComesFromTheTokenListWhenThereIsNoKey() {
        try (Model m = Model.load(model("llama").write(dir.resolve("v.gguf")))) {
            assertThat(m.config().vocabSize()).isEqualTo(288);
        }
        SyntheticModel wrong = model("llama").putU32("llama.vocab_size", 300);
        assertInvalid(wrong, "tensor 'token_embd.weight' has shape [64, 288], expected [64, 300]");
    }
}
