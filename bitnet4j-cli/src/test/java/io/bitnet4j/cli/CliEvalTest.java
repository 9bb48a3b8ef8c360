package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bitnet crossval}, {@code perplexity}, {@code inspect} and {@code verify} on the reference files. */
class CliEvalTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String B158 = "refdata/bitnet-b1.58/";

    @TempDir
    Path dir;

    /** The stories260K model that ships in the repository (the same bytes as the reference folder's copy). */
    static Path stories() {
        return TestFiles.repo("models/stories260K.gguf");
    }

    // ------------------------------------------------------------------------------------------------ crossval

    static String[] crossval(String model, String logits, String... extra) {
        String[] base = {"crossval", "-m", TestFiles.shared(B158 + model).toString(), "--tokens",
                TestFiles.shared(B158 + "tokens.txt").toString(), "--logits",
                TestFiles.shared(B158 + "logits/" + logits).toString(), "-t", "1"};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void crossvalPassesWithinTheTolerance() {
        Cli.Result r = Cli.run(crossval("tiny-b158-I2_S-embf16.gguf", "bitnetcpp2_I2_S-embf16_seq_kvf16.txt",
                "--tolerance", "1e-3")).succeeds();
        assertThat(r.out().lines()).hasSize(1 + 16 + 1);
        assertThat(r.out().lines().toList().getLast()).contains("argmax 16/16: PASS (tolerance 1.0e-03)");
    }

    @Test
    void crossvalFailsWithExitCodeOneBeyondTheTolerance() {
        Cli.Result r = Cli.run(crossval("tiny-b158-I2_S-embf16.gguf", "bitnetcpp2_I2_S-embf16_seq_kvf16.txt",
                "--tolerance", "1e-9"));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out().lines().toList().getLast()).contains(": FAIL (tolerance 1.0e-09)");
        assertThat(r.err()).doesNotContain("bitnet: error");
    }

    @Test
    void crossvalTeacherForcesAGenerationFile() {
        Cli.Result r = Cli.run(crossval("tiny-b158-I2_S-embf16.gguf", "bitnetcpp2_I2_S-embf16_genseq32_kvf16.txt",
                "--generation", "--sequential", "--tolerance", "1e-2")).succeeds();
        assertThat(r.out().lines()).hasSize(1 + 32 + 1);
        assertThat(r.out()).contains("argmax 32/32: PASS");
    }

    // ------------------------------------------------------------------------------------------------ perplexity

    Path text() throws IOException {
        String story = Files.readString(TestFiles.shared("data/corpora/tinystories-dev.txt")).substring(0, 3000);
        return Files.writeString(dir.resolve("stories.txt"), story);
    }

    @Test
    void perplexityPrintsProgressAndAFinalEstimate() throws IOException {
        Cli.Result r = Cli.run("perplexity", "-m", stories().toString(), "-f", text().toString(), "-c", "64",
                "-t", "1").succeeds();
        assertThat(r.out()).startsWith("[1]").contains("[2]");
        assertThat(r.out().lines().toList().getLast()).matches(
                "Final estimate: PPL = \\d+\\.\\d{4} \\+/- \\d+\\.\\d{5} \\(mean NLL .* nats over \\d+ tokens, "
                        + "\\d+ chunks of 64, .* s\\)");
    }

    @Test
    void perplexityAsJson() throws IOException {
        Path text = text();
        JsonNode all = JSON.readTree(Cli.run("perplexity", "-m", stories().toString(), "-f", text.toString(), "-c",
                "64", "-t", "1", "--json").succeeds().out());
        int tokens = all.get("tokens").asInt();
        assertThat(all.get("file").asText()).isEqualTo(text.toString());
        assertThat(all.get("context").asInt()).isEqualTo(64);
        assertThat(all.get("chunks").asInt()).isEqualTo(tokens / 64);
        assertThat(all.get("scored_tokens").asInt()).isEqualTo(tokens / 64 * 31);
        // a small story model on stories: far better than chance (512), not perfect
        assertThat(all.get("perplexity").asDouble()).isBetween(1.5, 50.0);
        assertThat(all.get("perplexity").asDouble()).isCloseTo(Math.exp(all.get("mean_nll").asDouble()),
                org.assertj.core.api.Assertions.within(1e-9));
        assertThat(all.get("std_error").asDouble()).isPositive();

        JsonNode one = JSON.readTree(Cli.run("perplexity", "-m", stories().toString(), "-f", text.toString(), "-c",
                "64", "-t", "1", "--json", "--chunks", "1").succeeds().out());
        assertThat(one.get("chunks").asInt()).isEqualTo(1);
        assertThat(one.get("scored_tokens").asInt()).isEqualTo(31);
        assertThat(one.get("tokens").asInt()).as("the text's token count").isEqualTo(tokens);
    }

    // ------------------------------------------------------------------------------------------------ inspect, verify

    @Test
    void inspectShowsArchitectureHyperparametersTokenizerAndTensors() {
        Cli.Result r = Cli.run("inspect", TestFiles.shared(B158 + "tiny-b158-I2_S-embf16.gguf").toString()).succeeds();
        assertThat(r.out()).contains("architecture:  bitnet-b1.58", "bitnet-b1.58.attention.head_count_kv",
                "tokenizer:", "gpt2", "token_embd.weight", "F16", "blk.1.ffn_down.weight", "I2_S");
    }

    @Test
    void inspectAsJson() throws IOException {
        Path file = stories();
        JsonNode json = JSON.readTree(Cli.run("inspect", file.toString(), "--json").succeeds().out());
        assertThat(json.get("architecture").asText()).isEqualTo("llama");
        assertThat(json.get("version").asInt()).isEqualTo(3);
        assertThat(json.get("file_size").asLong()).isEqualTo(Files.size(file));
        assertThat(json.get("metadata").get("llama.context_length").asInt()).isEqualTo(512);
        assertThat(json.get("metadata").get("tokenizer.ggml.tokens").get("length").asInt()).isEqualTo(512);
        assertThat(json.get("tensors")).hasSize(48);
        assertThat(json.get("tensors").get(0).get("name").asText()).isEqualTo("token_embd.weight");
    }

    @Test
    void verifyAcceptsEveryReferenceModel() throws IOException {
        String[][] models = {
                {B158 + "tiny-b158-I2_S.gguf", "bitnet-b1.58", "2"},
                {B158 + "tiny-b158-TQ1_0.gguf", "bitnet-b1.58", "2"},
                {"refdata/bitnet-silu/tiny-TQ2_0.gguf", "bitnet", "2"},
                {"refdata/stories260K/stories260K.gguf", "llama", "5"}};
        for (String[] m : models) {
            Path file = TestFiles.shared(m[0]);
            int tensors;
            try (GgufFile gguf = GgufFile.open(file)) {
                tensors = gguf.tensors().size();
            }
            assertThat(Cli.run("verify", file.toString()).succeeds().out())
                    .isEqualTo(file + ": OK (GGUF v3, " + tensors + " tensors, " + m[1] + ", " + m[2] + " layers)\n");
        }
    }

    @Test
    void verifyListsEveryMissingTensorOfAVocabularyOnlyOrBrokenFile() throws IOException {
        Path vocab = TestFiles.shared("refdata/tokenizer/ggml-vocab-tok512-spm.gguf");
        Cli.Result r = Cli.run("verify", vocab.toString());
        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.err()).contains("has no tensors: a vocabulary-only file");
    }
}
