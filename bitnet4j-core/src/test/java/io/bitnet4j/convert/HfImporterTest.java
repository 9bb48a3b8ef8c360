package io.bitnet4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.generate.LanguageModel;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.model.Model;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormats;
import io.bitnet4j.testing.TestFiles;
import io.bitnet4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HfImporterTest {
    @TempDir
    Path tmp;

    /** A tiny model in HF layout; projections in BF16 (odd layers F32), everything random, so nothing is ternary. */
    private static final class TinyModel {
        final int hidden;
        final int ffn;
        final int layers = 2;
        final int heads = 4;
        final int kvHeads = 2;
        final int vocab;
        final String architecture;
        final TestSafetensors tensors = new TestSafetensors();
        final Map<String, Object> config = new LinkedHashMap<>();
        private final Random random = new Random(42);

        TinyModel(String architecture, int hidden, int ffn, int vocab) {
            this.architecture = architecture;
            this.hidden = hidden;
            this.ffn = ffn;
            this.vocab = vocab;
            boolean bitnet = architecture.equals("BitNetForCausalLM");
            config.put("architectures", List.of(architecture));
            config.put("hidden_size", hidden);
            config.put("intermediate_size", ffn);
            config.put("num_hidden_layers", layers);
            config.put("num_attention_heads", heads);
            config.put("num_key_value_heads", kvHeads);
            config.put("vocab_size", vocab);
            config.put("max_position_embeddings", 256);
            config.put("rms_norm_eps", 1e-5);
            config.put("rope_theta", 500000.0);
            config.put("hidden_act", bitnet ? "relu2" : "silu");
            config.put("tie_word_embeddings", true);
            int kvDim = hidden / heads * kvHeads;
            put("model.embed_tokens.weight", "F32", vocab, hidden);
            put("model.norm.weight", "F32", hidden);
            for (int i = 0; i < layers; i++) {
                String p = "model.layers." + i + ".";
                String proj = i % 2 == 0 ? "BF16" : "F32";
                put(p + "input_layernorm.weight", "BF16", hidden);
                put(p + "self_attn.q_proj.weight", proj, hidden, hidden);
                put(p + "self_attn.k_proj.weight", proj, kvDim, hidden);
                put(p + "self_attn.v_proj.weight", proj, kvDim, hidden);
                put(p + "self_attn.o_proj.weight", proj, hidden, hidden);
                if (bitnet) {
                    put(p + "self_attn.attn_sub_norm.weight", "F32", hidden);
                }
                put(p + "post_attention_layernorm.weight", "F32", hidden);
                put(p + "mlp.gate_proj.weight", proj, ffn, hidden);
                put(p + "mlp.up_proj.weight", proj, ffn, hidden);
                put(p + "mlp.down_proj.weight", proj, hidden, ffn);
                if (bitnet) {
                    put(p + "mlp.ffn_sub_norm.weight", "F32", ffn);
                }
            }
        }

        void put(String name, String dtype, long... shape) {
            float[] v = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * 0.05);
            }
            tensors.put(name, dtype, v, shape);
        }

        Path writeTo(Path dir) throws IOException {
            Files.createDirectories(dir);
            tensors.write(dir.resolve("model.safetensors"));
            writeConfig(dir, config);
            return dir;
        }
    }

    static void writeConfig(Path dir, Map<String, Object> config) throws IOException {
        Files.writeString(dir.resolve("config.json"), new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter().writeValueAsString(config));
    }

    private static HfImporter.Result convert(Path dir, Path out, GgmlType type) {
        return HfImporter.convert(new HfImporter.Options(dir, out, null, type, null, null));
    }

    /** HF name → GGUF name, for the checks. */
    private static String ggufName(String hf) {
        return hf.replace("model.embed_tokens.", "token_embd.")
                .replace("model.norm.", "output_norm.")
                .replace("lm_head.", "output.")
                .replace("model.layers.", "blk.")
                .replace("input_layernorm", "attn_norm")
                .replace("self_attn.q_proj", "attn_q").replace("self_attn.k_proj", "attn_k")
                .replace("self_attn.v_proj", "attn_v").replace("self_attn.o_proj", "attn_output")
                .replace("self_attn.attn_sub_norm", "attn_sub_norm")
                .replace("post_attention_layernorm", "ffn_norm")
                .replace("mlp.gate_proj", "ffn_gate").replace("mlp.up_proj", "ffn_up")
                .replace("mlp.down_proj", "ffn_down").replace("mlp.ffn_sub_norm", "ffn_sub_norm");
    }

    private static boolean isProjection(String hf) {
        return hf.endsWith("_proj.weight");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"I2_S, F16", "TQ2_0, F16", "TQ1_0, F16", "F32, F32", "F16, F16"})
    void everyTensorDecodesToTheTernarizedValues(GgmlType type, GgmlType expectedEmbedding) throws IOException {
        TinyModel m = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        Path dir = m.writeTo(tmp.resolve("tiny-bitnet"));
        Path out = tmp.resolve("out.gguf");

        HfImporter.Result result = convert(dir, out, type);

        assertThat(result.tensors()).isEqualTo(2 + 2 * 11);
        assertThat(result.embeddingType()).isEqualTo(expectedEmbedding);
        assertThat(result.ternarized()).hasSize(14).contains("blk.0.attn_q.weight", "blk.1.ffn_down.weight");
        try (Model model = Model.load(out)) {
            assertThat(model.config().architectureName()).isEqualTo("bitnet-b1.58");
            assertThat(model.config().ropeFreqBase()).isEqualTo(500000f);
            GgufFile file = model.file();
            assertThat(file.metadata().requireLong("general.file_type")).isEqualTo(OutputTypes.fileType(type));
            assertThat(file.metadata().contains("general.quantization_version"))
                    .isEqualTo(OutputTypes.isQuantized(type));
            assertThat(file.metadata().contains("bitnet-b1.58.hidden_act")).isFalse();
            assertThat(file.tensors()).hasSize(24);
            for (Map.Entry<String, TestSafetensors.Entry> e : m.tensors.tensors().entrySet()) {
                String name = ggufName(e.getKey());
                Tensor t = Tensor.of(file, name);
                float[] expected = TestSafetensors.stored(e.getValue());
                if (isProjection(e.getKey())) {
                    assertThat(t.type()).as(name).isEqualTo(type);
                    expected = expectedStored(Ternary.absmean(expected), type);
                } else if (name.startsWith("token_embd")) {
                    assertThat(t.type()).isEqualTo(expectedEmbedding);
                    expected = expectedStored(expected, expectedEmbedding);
                } else {
                    assertThat(t.type()).as(name).isEqualTo(GgmlType.F32);
                }
                float[] decoded = WeightFormats.of(t.type()).decodeAll(t);
                assertThat(Arrays.mismatch(decoded, expected)).as("%s: first wrong element", name).isEqualTo(-1);
            }
        }
    }

    /** What a ternary (or float) tensor decodes to once stored as {@code type}. */
    private static float[] expectedStored(float[] values, GgmlType type) {
        float[] out = values.clone();
        switch (type) {
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(Float.floatToFloat16(out[i]));
                }
            }
            case TQ1_0, TQ2_0 -> {
                // each 256-block stores its absmax as F16; every non-zero block of a ternary tensor has absmax a
                for (int b = 0; b < out.length; b += 256) {
                    float amax = 0;
                    for (int i = b; i < b + 256; i++) {
                        amax = Math.max(amax, Math.abs(out[i]));
                    }
                    float d = Float.float16ToFloat(Float.floatToFloat16(amax));
                    for (int i = b; i < b + 256; i++) {
                        out[i] = out[i] == 0 ? 0f : Math.signum(out[i]) * d;
                    }
                }
            }
            case I2_S -> {
                // codes and the scale a hold a ternary tensor exactly, but a zero code decodes as +0
                for (int i = 0; i < out.length; i++) {
                    out[i] = out[i] == 0 ? 0f : out[i];
                }
            }
            default -> {
                // F32 holds it exactly, -0 included
            }
        }
        return out;
    }

    @Test
    void tensorsThatAreAlreadyTernaryAreKept() throws IOException {
        TinyModel m = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        // an exactly ternary BF16 projection with an F16-exact scale, as the student exporter writes them
        float[] ternary = new float[256 * 256];
        Random r = new Random(7);
        for (int i = 0; i < ternary.length; i++) {
            ternary[i] = (r.nextInt(3) - 1) * 0.0234375f;
        }
        m.tensors.put("model.layers.0.self_attn.q_proj.weight", "BF16", ternary, 256, 256);
        Path dir = m.writeTo(tmp.resolve("ternary"));
        Path out = tmp.resolve("t.gguf");

        HfImporter.Result result = convert(dir, out, GgmlType.I2_S);

        assertThat(result.ternarized()).hasSize(13).doesNotContain("blk.0.attn_q.weight");
        try (GgufFile f = GgufFile.open(out)) {
            Tensor q = Tensor.of(f, "blk.0.attn_q.weight");
            assertThat(I2SFormat.scale(q)).isEqualTo(0.0234375f);
            assertThat(I2SFormat.I2S_128.decodeAll(q)).containsExactly(expectedStored(ternary, GgmlType.I2_S));
        }
    }

    @Test
    void ternaryCheckIsExact() {
        assertThat(Ternary.magnitude(new float[] {0.5f, -0.5f, 0f, -0f})).isEqualTo(0.5f);
        assertThat(Ternary.magnitude(new float[] {0.5f, -0.5f, Math.nextUp(0.5f)})).isNaN();
        assertThat(Ternary.magnitude(new float[] {0f, 0f})).isNaN();
        assertThat(Ternary.magnitude(new float[] {Float.NaN})).isNaN();
        assertThat(Ternary.magnitude(new float[] {Float.POSITIVE_INFINITY, 0f})).isNaN();
    }

    @Test
    void absmeanFollowsBitNetsFormula() {
        // mean|W| = 0.25, s = 4: W·s = 0.4, -1.2, 2, 0.4 (ties to even at 0.5: 0.125·4 = 0.5 → 0)
        float[] w = {0.1f, -0.3f, 0.5f, 0.1f};
        assertThat(Ternary.absmean(w)).containsExactly(0f, -0.25f, 0.25f, 0f);
        float[] tie = {0.125f, 0.375f, -0.25f, 0.25f};
        assertThat(Ternary.absmean(tie)).containsExactly(0f, 0.25f, -0.25f, 0.25f);
        // an all-zero tensor stays zero (the mean is clamped to 1e-5)
        assertThat(Ternary.absmean(new float[4])).containsOnly(0f);
    }

    @Test
    void llamaQueryAndKeyRowsArePermutedForNormRope() throws IOException {
        TinyModel m = new TinyModel("LlamaForCausalLM", 256, 512, 64);
        m.tensors.tensors().remove("model.norm.weight");
        m.put("model.norm.weight", "F32", 256);
        m.put("lm_head.weight", "F32", 64, 256);
        m.config.put("tie_word_embeddings", false);
        Path dir = m.writeTo(tmp.resolve("llama"));
        Path out = tmp.resolve("llama.gguf");

        HfImporter.Result result = convert(dir, out, GgmlType.F32);

        assertThat(result.tensors()).isEqualTo(3 + 2 * 9);
        try (Model model = Model.load(out)) {
            assertThat(model.config().architectureName()).isEqualTo("llama");
            assertThat(model.weights().tiedHead()).isFalse();
            GgufFile f = model.file();
            int headDim = 64;
            for (String proj : List.of("q", "k")) {
                int heads = proj.equals("q") ? 4 : 2;
                String hf = "model.layers.1.self_attn." + proj + "_proj.weight";
                float[] original = Ternary.absmean(TestSafetensors.stored(m.tensors.tensors().get(hf)));
                float[] stored = Tensor.of(f, "blk.1.attn_" + proj + ".weight").data()
                        .toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < headDim / 2; i++) {
                        // HF row (first half i, second half i) → GGUF rows 2i and 2i+1 of the head
                        assertRow(stored, h * headDim + 2 * i, original, h * headDim + i);
                        assertRow(stored, h * headDim + 2 * i + 1, original, h * headDim + headDim / 2 + i);
                    }
                }
            }
            float[] v = Tensor.of(f, "blk.1.attn_v.weight").data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            assertThat(v).containsExactly(Ternary.absmean(TestSafetensors.stored(
                    m.tensors.tensors().get("model.layers.1.self_attn.v_proj.weight"))));
        }
    }

    private static void assertRow(float[] actual, int actualRow, float[] expected, int expectedRow) {
        assertThat(Arrays.copyOfRange(actual, actualRow * 256, actualRow * 256 + 256))
                .containsExactly(Arrays.copyOfRange(expected, expectedRow * 256, expectedRow * 256 + 256));
    }

    @Test
    void permutationInterleavesTheTwoHalvesOfEachHead() {
        float[] rows = {0, 1, 2, 3, 10, 11, 12, 13}; // 2 heads of 4 rows, 1 column
        assertThat(HfImporter.permuteRopeRows(rows, 8, 1, 2)).containsExactly(0, 2, 1, 3, 10, 12, 11, 13);
    }

    /** The reference F32 model written out as HF safetensors, with the config that describes it. */
    private Path refdataAsHfDirectory() throws IOException {
        Path f32 = TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf");
        Path dir = tmp.resolve("tiny-b158-hf");
        Files.createDirectories(dir);
        TestSafetensors st = new TestSafetensors();
        try (GgufFile f = GgufFile.open(f32)) {
            for (GgufTensorInfo info : f.tensors()) {
                String hf = hfName(info.name());
                long[] ne = info.shape();
                long[] shape = new long[ne.length];
                for (int i = 0; i < ne.length; i++) {
                    shape[i] = ne[ne.length - 1 - i];
                }
                st.put(hf, "F32", f.tensorData(info).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED), shape);
            }
        }
        st.write(dir.resolve("model.safetensors"));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("BitNetForCausalLM"));
        config.put("hidden_size", 256);
        config.put("intermediate_size", 512);
        config.put("num_hidden_layers", 2);
        config.put("num_attention_heads", 4);
        config.put("num_key_value_heads", 2);
        config.put("vocab_size", 320);
        config.put("max_position_embeddings", 4096);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 500000.0);
        config.put("hidden_act", "relu2");
        config.put("tie_word_embeddings", true);
        writeConfig(dir, config);
        return dir;
    }

    private static String hfName(String gguf) {
        Map<String, String> parts = new HashMap<>(Map.of(
                "attn_norm", "input_layernorm", "attn_q", "self_attn.q_proj", "attn_k", "self_attn.k_proj",
                "attn_v", "self_attn.v_proj", "attn_output", "self_attn.o_proj",
                "attn_sub_norm", "self_attn.attn_sub_norm", "ffn_norm", "post_attention_layernorm",
                "ffn_gate", "mlp.gate_proj", "ffn_up", "mlp.up_proj", "ffn_down", "mlp.down_proj"));
        parts.put("ffn_sub_norm", "mlp.ffn_sub_norm");
        if (gguf.equals("token_embd.weight")) {
            return "model.embed_tokens.weight";
        }
        if (gguf.equals("output_norm.weight")) {
            return "model.norm.weight";
        }
        String[] p = gguf.split("\\.");
        return "model.layers." + p[1] + "." + parts.get(p[2]) + ".weight";
    }

    @ParameterizedTest(name = "{0} with embedding {1}")
    @CsvSource({"I2_S, F32, tiny-b158-I2_S.gguf", "I2_S, F16, tiny-b158-I2_S-embf16.gguf",
            "TQ2_0, F32, tiny-b158-TQ2_0.gguf", "TQ1_0, F32, tiny-b158-TQ1_0.gguf"})
    void refdataWeightsConvertToTheReferenceQuantizersBytes(GgmlType type, GgmlType embedding, String reference)
            throws IOException {
        Path dir = refdataAsHfDirectory();
        Path out = tmp.resolve("converted.gguf");
        Path vocab = TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf");

        HfImporter.Result result = HfImporter.convert(new HfImporter.Options(dir, out, vocab, type, embedding,
                "bitnet2b-synthetic-tiny"));

        assertThat(result.ternarized()).as("the reference weights are ternary already").isEmpty();
        try (GgufFile actual = GgufFile.open(out);
             GgufFile expected = GgufFile.open(TestFiles.shared("refdata/bitnet-b1.58/" + reference))) {
            // same keys and values; only tokenizer.ggml.add_bos_token sits elsewhere (the 2B-4T file has it
            // among the hyperparameters; we copy the tokenizer keys together)
            assertThat(actual.metadata().keys()).containsExactlyInAnyOrderElementsOf(expected.metadata().keys());
            for (String key : expected.metadata().keys()) {
                assertThat(describeFully(actual.metadata().get(key).orElseThrow())).as(key)
                        .isEqualTo(describeFully(expected.metadata().get(key).orElseThrow()));
            }
            assertThat(actual.tensors().stream().map(GgufTensorInfo::name))
                    .containsExactlyElementsOf(expected.tensors().stream().map(GgufTensorInfo::name).toList());
            for (GgufTensorInfo e : expected.tensors()) {
                GgufTensorInfo a = actual.tensorInfo(e.name()).orElseThrow();
                assertThat(a.type()).as(e.name()).isEqualTo(e.type());
                assertThat(a.shape()).as(e.name()).containsExactly(e.shape());
                assertSameTensorBytes(actual, a, expected, e);
            }
        }
    }

    /** Bytes equal; for I2_S the codes and the scale (quantize_i2_s leaves the rest of the tail unwritten). */
    static void assertSameTensorBytes(GgufFile actualFile, GgufTensorInfo actual, GgufFile expectedFile,
                                      GgufTensorInfo expected) {
        byte[] a = actualFile.tensorData(actual).toArray(ValueLayout.JAVA_BYTE);
        byte[] e = expectedFile.tensorData(expected).toArray(ValueLayout.JAVA_BYTE);
        assertThat(a.length).as(expected.name()).isEqualTo(e.length);
        int meaningful = expected.type() == GgmlType.I2_S ? (int) (expected.elementCount() / 4 + 4) : e.length;
        assertThat(Arrays.mismatch(a, 0, meaningful, e, 0, meaningful)).as("%s: first differing byte",
                expected.name()).isEqualTo(-1);
    }

    private static String describeFully(GgufValue v) {
        return switch (v) {
            case GgufValue.StringArray s -> s.values().toString();
            case GgufValue.IntArray i -> i.elementType() + Arrays.toString(i.values());
            case GgufValue.FloatArray f -> f.elementType() + Arrays.toString(f.values());
            case GgufValue.StringValue s -> s.value();
            default -> v.type() + " " + v.describe();
        };
    }

    @Test
    void studentLayoutWithTheStoriesVocabularyLoadsAndTokenizes() throws IOException {
        // the layout tools/student exports: F32 ternary projections (code · F16 scale), tied, relu2, vocab 512
        TinyModel m = new TinyModel("BitNetForCausalLM", 128, 256, 512);
        Random r = new Random(3);
        for (Map.Entry<String, TestSafetensors.Entry> e : new ArrayList<>(m.tensors.tensors().entrySet())) {
            if (isProjection(e.getKey())) {
                float[] v = new float[e.getValue().values().length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (r.nextInt(3) - 1) * 0.01171875f;
                }
                m.tensors.put(e.getKey(), "F32", v, e.getValue().shape());
            }
        }
        m.config.put("rope_theta", 10000.0);
        Path dir = m.writeTo(tmp.resolve("student"));
        Path out = tmp.resolve("student-I2_S.gguf");
        Path stories = TestFiles.repo("models/stories260K.gguf");

        HfImporter.Result result = HfImporter.convert(new HfImporter.Options(dir, out, stories, GgmlType.I2_S, null,
                null));

        assertThat(result.ternarized()).isEmpty();
        assertThat(result.hasTokenizer()).isTrue();
        try (LanguageModel lm = LanguageModel.open(out);
             GgufFile reference = GgufFile.open(stories)) {
            assertThat(lm.model().config().architectureName()).isEqualTo("bitnet-b1.58");
            assertThat(lm.model().file().metadata().requireString("general.name")).isEqualTo("student");
            Tokenizer expected = Tokenizer.fromGguf(reference.metadata());
            Tokenizer actual = lm.tokenizer();
            assertThat(actual.encode("Once upon a time", true, false))
                    .containsExactly(expected.encode("Once upon a time", true, false))
                    .startsWith(1);
            assertThat(actual.bos()).isEqualTo(1);
            assertThat(actual.eos()).isEqualTo(2);
            Tensor embedding = Tensor.of(lm.model().file(), "token_embd.weight");
            assertThat(embedding.type()).isEqualTo(GgmlType.F16);
        }
    }

    @Test
    void shardedCheckpointsConvertLikeASingleFile() throws IOException {
        TinyModel m = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        Path single = m.writeTo(tmp.resolve("single"));
        Path sharded = tmp.resolve("sharded");
        Files.createDirectories(sharded);
        TestSafetensors first = new TestSafetensors();
        TestSafetensors second = new TestSafetensors();
        StringBuilder index = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        int n = 0;
        for (Map.Entry<String, TestSafetensors.Entry> e : m.tensors.tensors().entrySet()) {
            TestSafetensors.Entry t = e.getValue();
            String shard = n++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            (n % 2 == 1 ? first : second).put(e.getKey(), t.dtype(), t.values(), t.shape());
            index.append(n > 1 ? "," : "").append('"').append(e.getKey()).append("\":\"").append(shard).append('"');
        }
        first.write(sharded.resolve("model-00001-of-00002.safetensors"));
        second.write(sharded.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(sharded.resolve("model.safetensors.index.json"), index.append("}}"));
        writeConfig(sharded, m.config);

        HfImporter.convert(new HfImporter.Options(single, tmp.resolve("a.gguf"), null, GgmlType.TQ2_0, null, "x"));
        HfImporter.convert(new HfImporter.Options(sharded, tmp.resolve("b.gguf"), null, GgmlType.TQ2_0, null, "x"));

        assertThat(Files.readAllBytes(tmp.resolve("b.gguf"))).isEqualTo(Files.readAllBytes(tmp.resolve("a.gguf")));
    }

    @Test
    void rowsThatDoNotFitTheTypeAreNamed() throws IOException {
        Path dir = new TinyModel("BitNetForCausalLM", 64, 128, 64).writeTo(tmp.resolve("small"));

        assertThatThrownBy(() -> convert(dir, tmp.resolve("x.gguf"), GgmlType.I2_S))
                .isInstanceOf(BitnetException.class)
                .hasMessageContaining("tensor 'blk.0.attn_q.weight': rows of 64 elements cannot be I2_S, which needs "
                        + "a multiple of 128");
        assertThatThrownBy(() -> convert(dir, tmp.resolve("x.gguf"), GgmlType.TQ2_0))
                .hasMessageContaining("tensor 'blk.0.attn_q.weight': rows of 64 elements cannot be TQ2_0");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
        assertThat(convert(dir, tmp.resolve("ok.gguf"), GgmlType.F16).tensors()).isEqualTo(24);
    }

    @Test
    void checkpointThatDoesNotMatchTheConfigIsRejected() throws IOException {
        TinyModel missing = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        missing.tensors.tensors().remove("model.layers.1.mlp.up_proj.weight");
        Path a = missing.writeTo(tmp.resolve("missing"));
        assertThatThrownBy(() -> convert(a, tmp.resolve("x.gguf"), GgmlType.I2_S))
                .hasMessageContaining("tensor 'model.layers.1.mlp.up_proj.weight' is missing");

        TinyModel extra = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        extra.put("model.layers.0.mlp.mystery.weight", "F32", 4);
        Path b = extra.writeTo(tmp.resolve("extra"));
        assertThatThrownBy(() -> convert(b, tmp.resolve("x.gguf"), GgmlType.I2_S))
                .hasMessageContaining("cannot map tensor 'model.layers.0.mlp.mystery.weight'");

        TinyModel wrongShape = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        wrongShape.config.put("intermediate_size", 768);
        Path c = wrongShape.writeTo(tmp.resolve("shape"));
        assertThatThrownBy(() -> convert(c, tmp.resolve("x.gguf"), GgmlType.I2_S))
                .hasMessageContaining("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [512, 256], expected "
                        + "[768, 256] from config.json");

        TinyModel packed = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        Path d = packed.writeTo(tmp.resolve("packed"));
        byte[] st = Files.readAllBytes(d.resolve("model.safetensors"));
        String header = new String(st, 8, 200, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = header.indexOf("\"F32\"");
        st[8 + at + 1] = 'U'; // F32 → U32: same size, integer dtype
        st[8 + at + 2] = '3';
        st[8 + at + 3] = '2';
        Files.write(d.resolve("model.safetensors"), st);
        assertThatThrownBy(() -> convert(d, tmp.resolve("x.gguf"), GgmlType.I2_S))
                .hasMessageContaining("tensor 'model.embed_tokens.weight' has dtype U32");
    }

    @Test
    void vocabularyMustMatchTheConfig() throws IOException {
        Path dir = new TinyModel("BitNetForCausalLM", 256, 512, 64).writeTo(tmp.resolve("v"));
        Path vocab = TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf");

        assertThatThrownBy(() -> HfImporter.convert(new HfImporter.Options(dir, tmp.resolve("x.gguf"), vocab,
                GgmlType.I2_S, null, null)))
                .isInstanceOf(BitnetException.class)
                .hasMessageContaining("has 320 tokens, but the model's vocab_size is 64");
    }

    @Test
    void configProblemsAreNamed() throws IOException {
        Path dir = tmp.resolve("cfg");
        Files.createDirectories(dir);
        assertThatThrownBy(() -> HfConfig.read(dir.resolve("config.json"))).hasMessageContaining("file not found");

        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"]}");
        assertThatThrownBy(() -> HfConfig.read(dir.resolve("config.json")))
                .hasMessageContaining("architecture GPT2LMHeadModel is not supported");

        Map<String, Object> config = new TinyModel("BitNetForCausalLM", 256, 512, 64).config;
        config.remove("rms_norm_eps");
        writeConfig(dir, config);
        assertThatThrownBy(() -> HfConfig.read(dir.resolve("config.json"))).hasMessageContaining("'rms_norm_eps' is missing");

        config.put("rms_norm_eps", 1e-6);
        config.put("hidden_act", "gelu");
        writeConfig(dir, config);
        assertThatThrownBy(() -> HfConfig.read(dir.resolve("config.json"))).hasMessageContaining("hidden_act 'gelu'");

        config.put("hidden_act", "silu");
        writeConfig(dir, config);
        assertThat(HfConfig.read(dir.resolve("config.json")).activation())
                .isEqualTo(io.bitnet4j.model.Architecture.Activation.SILU);
    }

    @Test
    void nonDefaultActivationIsRecorded() throws IOException {
        TinyModel m = new TinyModel("BitNetForCausalLM", 256, 512, 64);
        m.config.put("hidden_act", "silu");
        Path dir = m.writeTo(tmp.resolve("silu"));
        Path out = tmp.resolve("silu.gguf");
        convert(dir, out, GgmlType.TQ2_0);
        try (Model model = Model.load(out)) {
            assertThat(model.file().metadata().requireString("bitnet-b1.58.hidden_act")).isEqualTo("silu");
            assertThat(model.config().activation()).isEqualTo(io.bitnet4j.model.Architecture.Activation.SILU);
        }
    }
}
