package io.bitnet4j.engine;

import static io.bitnet4j.engine.ReferenceTransformer.Gate.RELU_SQUARED;
import static io.bitnet4j.engine.ReferenceTransformer.Gate.SILU;
import static io.bitnet4j.engine.ReferenceTransformer.KvMap.INTERLEAVED;
import static io.bitnet4j.engine.ReferenceTransformer.Rope.NEOX;
import static io.bitnet4j.engine.ReferenceTransformer.Rope.NORM;
import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.engine.ReferenceTransformer.Variant;
import io.bitnet4j.eval.LogitsComparison;
import io.bitnet4j.model.Architecture;
import io.bitnet4j.model.Model;
import io.bitnet4j.testing.SyntheticModel;
import io.bitnet4j.testing.SyntheticModel.Config;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole forward pass on small random F32 models written as GGUF files, against {@link ReferenceTransformer}, an
 * independent double-precision pass. With F32 weights, F32 activations and an F32 KV cache the engine differs from
 * it only by float rounding (logits of order 1..5, errors of order 1e-6), so {@link #CLOSE} = 1e-4. Each
 * architectural choice is also checked from the other side: the reference with the wrong choice (SiLU for relu²,
 * NEOX for NORM, interleaved for contiguous GQA groups, ...) is at least {@link #FAR} away, so the close match is
 * not an accident of a choice that does not matter on this model.
 */
class SyntheticForwardPassTest {
    static final double CLOSE = 1e-4;
    static final double FAR = 1e-2;
    static final int[] TOKENS = {1, 259, 287, 17, 280, 5, 262, 270, 3, 275, 11, 260};

    @TempDir
    Path dir;

    /** Heads 4, kv heads 2 (query heads 0,1 read kv head 0; 2,3 read kv head 1), head dim 16. */
    static Config config(String arch, int ffn, int ropeDims) {
        return Config.of(arch, 288, 64, 2, 4, 2, ffn, ropeDims, 64);
    }

    static InferenceOptions exact() {
        return InferenceOptions.defaults().withKvType(KvType.F32).withThreads(1).withBatchSize(5);
    }

    float[][] engine(SyntheticModel m, InferenceOptions options) {
        Path file = m.write(dir.resolve("model-" + System.nanoTime() + ".gguf"));
        try (Model model = Model.load(file); CpuForwardPass pass = new CpuForwardPass(model, options)) {
            int v = model.config().vocabSize();
            float[] flat = new float[TOKENS.length * v];
            pass.forward(pass.newCache(TOKENS.length), TOKENS, 0, TOKENS.length, 0, flat, true);
            float[][] rows = new float[TOKENS.length][];
            for (int i = 0; i < TOKENS.length; i++) {
                rows[i] = java.util.Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            }
            return rows;
        }
    }

    static double maxDiff(float[][] ours, double[][] reference) {
        double max = 0;
        for (int p = 0; p < ours.length; p++) {
            for (int i = 0; i < ours[p].length; i++) {
                max = Math.max(max, Math.abs(ours[p][i] - reference[p][i]));
            }
        }
        return max;
    }

    static void assertMatches(float[][] ours, SyntheticModel m, Variant v) {
        assertThat(maxDiff(ours, ReferenceTransformer.logits(m, TOKENS, v))).as("max |Δ| to the reference %s", v)
                .isLessThanOrEqualTo(CLOSE);
    }

    static void assertDiffers(float[][] ours, SyntheticModel m, Variant wrong, String what) {
        assertThat(maxDiff(ours, ReferenceTransformer.logits(m, TOKENS, wrong)))
                .as("max |Δ| to the reference with %s", what).isGreaterThan(FAR);
    }

    @Test
    void bitnetB158IsReluSquaredWithSubNormsNeoxRopeAndContiguousGqaGroups() {
        SyntheticModel m = SyntheticModel.random(config("bitnet-b1.58", 48, 16), 1);
        float[][] ours = engine(m, exact());
        assertMatches(ours, m, Variant.BITNET_B158);
        assertDiffers(ours, m, Variant.BITNET_B158.withGate(SILU), "a SiLU gate");
        assertDiffers(ours, m, Variant.BITNET_B158.withRope(NORM), "NORM rope");
        assertDiffers(ours, m, Variant.BITNET_B158.withSubNorms(false), "no sub-norms");
        assertDiffers(ours, m, Variant.BITNET_B158.withKvMap(INTERLEAVED), "query head h on kv head h % kv_heads");
    }

    @Test
    void bitnetIsSiluGated() {
        // ffn 40: the first 32 gate values go through ggml's vectorized SiLU, the last 8 through the scalar tail
        SyntheticModel m = SyntheticModel.random(config("bitnet", 40, 16), 2);
        float[][] ours = engine(m, exact());
        assertMatches(ours, m, Variant.BITNET);
        assertDiffers(ours, m, Variant.BITNET.withGate(RELU_SQUARED), "a relu² gate");
    }

    @Test
    void llamaUsesNormRopeOnlyOnRopeDimsNoSubNormsAndItsOwnHead() {
        // rope.dimension_count 8 of head dim 16: dimensions 8..15 of each head are not rotated
        SyntheticModel m = SyntheticModel.random(config("llama", 40, 8), 3);
        float[][] ours = engine(m, exact());
        assertMatches(ours, m, Variant.LLAMA);
        assertDiffers(ours, m, Variant.LLAMA.withRope(NEOX), "NEOX rope");
        assertDiffers(ours, m, Variant.LLAMA.withRopeDims(16), "all 16 dimensions rotated");
        assertDiffers(ours, m, Variant.LLAMA.withOwnHead(false), "the tied embedding as head");
        assertDiffers(ours, m, Variant.LLAMA.withKvMap(INTERLEAVED), "query head h on kv head h % kv_heads");
    }

    @Test
    void llamaWithoutOutputWeightTiesTheHeadToTheEmbedding() {
        SyntheticModel m = SyntheticModel.random(config("llama", 40, 16), 4);
        m.remove("output.weight");
        assertMatches(engine(m, exact()), m, Variant.LLAMA);
    }

    @Test
    void bitnetArchitecturesIgnoreAnOutputWeight() {
        SyntheticModel m = SyntheticModel.random(config("bitnet-b1.58", 48, 16), 5);
        float[] head = new float[64 * 288];
        java.util.Arrays.fill(head, 0.25f);
        m.put("output.weight", head, 64, 288);
        float[][] ours = engine(m, exact());
        assertMatches(ours, m, Variant.BITNET_B158);
        assertDiffers(ours, m, Variant.BITNET_B158.withOwnHead(true), "output.weight as head");
    }

    @Test
    void hiddenActOverridesTheArchitecturesGate() {
        SyntheticModel relu = SyntheticModel.random(config("bitnet", 48, 16), 6).putString("bitnet.hidden_act", "relu2");
        assertMatches(engine(relu, exact()), relu, Variant.BITNET.withGate(RELU_SQUARED));
        SyntheticModel silu = SyntheticModel.random(config("bitnet-b1.58", 48, 16), 6)
                .putString("bitnet-b1.58.hidden_act", "SiLU");
        assertMatches(engine(silu, exact()), silu, Variant.BITNET_B158.withGate(SILU));
    }

    @Test
    void bitnetProjectionScalesMultiplyEachProjection() {
        SyntheticModel m = SyntheticModel.random(config("bitnet", 48, 16), 7);
        double[][] unscaled = ReferenceTransformer.logits(m, TOKENS, Variant.BITNET);
        String[] projections = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        for (int l = 0; l < 2; l++) {
            for (int i = 0; i < projections.length; i++) {
                m.put("blk." + l + "." + projections[i] + ".scale", new float[] {0.5f + 0.25f * i}, 1);
            }
        }
        float[][] ours = engine(m, exact());
        assertMatches(ours, m, Variant.BITNET);
        assertThat(maxDiff(ours, unscaled)).as("scales make a difference").isGreaterThan(FAR);
    }

    @Test
    void anF16CacheStaysNearTheExactPass() {
        // keys, values and probabilities rounded to F16 (relative 2^-11): logits move by ~1e-3, argmax stays
        SyntheticModel m = SyntheticModel.random(config("bitnet-b1.58", 48, 16), 8);
        float[][] ours = engine(m, exact().withKvType(KvType.F16));
        double[][] reference = ReferenceTransformer.logits(m, TOKENS, Variant.BITNET_B158);
        assertThat(maxDiff(ours, reference)).isLessThanOrEqualTo(2e-2);
        for (int p = 0; p < TOKENS.length; p++) {
            float[] r = new float[reference[p].length];
            for (int i = 0; i < r.length; i++) {
                r[i] = (float) reference[p][i];
            }
            assertThat(LogitsComparison.argmax(ours[p])).as("argmax at %d", p).isEqualTo(LogitsComparison.argmax(r));
        }
    }

    @Test
    void theSyntheticFilesLoadAsTheirArchitectures() {
        SyntheticModel m = SyntheticModel.random(config("llama", 40, 8), 9);
        try (Model model = Model.load(m.write(dir.resolve("llama.gguf")))) {
            assertThat(model.config().architecture()).isEqualTo(Architecture.LLAMA);
            assertThat(model.config().groupSize()).isEqualTo(2);
            assertThat(model.config().ropeDims()).isEqualTo(8);
            assertThat(model.weights().tiedHead()).isFalse();
        }
    }
}
