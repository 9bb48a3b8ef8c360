package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bench in llama-bench's manner: one row per (thread count, test), markdown or JSON; on the shipped student. */
class BenchCommandTest {
    private static final java.util.regex.Pattern LAYER_MATRIX = java.util.regex.Pattern.compile(
            "blk\\.\\d+\\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\\.weight");
    private final String model = TestFiles.repo("models/bitnet-stories-student-I2_S.gguf").toString();

    @Test
    void jsonHasOneEntryPerThreadCountAndTest() throws IOException {
        Cli.Result r = Cli.run("bench", "-m", model, "-p", "8", "-n", "4", "-r", "2", "-t", "1,2", "-o", "json")
                .succeeds();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        List<String> seen = new ArrayList<>();
        for (JsonNode row : rows) {
            seen.add(row.get("test").asText() + "@" + row.get("threads").asInt());
            assertThat(row.get("avg_ts").asDouble()).as("tokens per second").isPositive();
            assertThat(row.get("samples_ts")).hasSize(2);
            assertThat(row.get("heap_bytes_allocated_per_token").asLong()).isNotNegative();
        }
        assertThat(seen).containsExactly("pp8@1", "tg4@1", "pp8@2", "tg4@2");
    }

    /**
     * Generation rows say how many weight bytes a token reads: every layer matrix plus the head (the student's head is
     * its tied embedding), counted here from the file's tensor table; a Q8_0 head reads 8.5 bits per weight, not 16.
     */
    @Test
    void generationRowsSayHowManyWeightBytesATokenReads() throws IOException {
        long layers = 0;
        long embedding;
        try (io.bitnet4j.gguf.GgufFile file = io.bitnet4j.gguf.GgufFile.open(java.nio.file.Path.of(model))) {
            for (io.bitnet4j.gguf.GgufTensorInfo t : file.tensors()) {
                if (LAYER_MATRIX.matcher(t.name()).matches()) {
                    layers += t.byteSize();
                }
            }
            embedding = file.tensors().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst()
                    .orElseThrow().byteSize();
        }
        JsonNode f16 = new ObjectMapper().readTree(Cli.run("bench", "-m", model, "-p", "0", "-n", "2", "-r", "1", "-t",
                "1", "-o", "json").succeeds().out());
        assertThat(f16.get(0).get("weight_bytes_per_token").asLong()).isEqualTo(layers + embedding);
        JsonNode q8 = new ObjectMapper().readTree(Cli.run("bench", "-m", model, "-p", "0", "-n", "2", "-r", "1", "-t",
                "1", "--head-type", "q8_0", "-o", "json").succeeds().out());
        assertThat(q8.get(0).get("weight_bytes_per_token").asLong()).isEqualTo(layers + embedding / 2 * 17 / 16);
        assertThat(Cli.run("bench", "-m", model, "-p", "0", "-n", "2", "-r", "1", "-t", "1").succeeds().out())
                .contains("tg2, 1 thread(s): 0.00 GB of weights read per generated token, ");
    }

    @Test
    void markdownTableNamesTheFormatAndHowItWasMeasured() {
        Cli.Result r = Cli.run("bench", "-m", model, "-p", "4", "-n", "0", "-r", "1", "-t", "1").succeeds();
        assertThat(r.out()).contains("| model", " pp4 |", "| I2_S + F16 ", " MiB |", "repetitions after one warm-up");
        assertThat(r.out().lines().filter(l -> l.startsWith("| bitnet-stories-student-I2_S.gguf"))).hasSize(1);
    }

    @Test
    void aReQuantizedHeadIsNamedInTheFormatColumn() {
        Cli.Result r = Cli.run("bench", "-m", model, "-p", "0", "-n", "2", "-r", "1", "-t", "1", "--head-type", "q8_0")
                .succeeds();
        assertThat(r.out()).contains("| I2_S + F16, head Q8_0 ");
        Cli.Result q6k = Cli.run("bench", "-m", model, "-p", "0", "-n", "2", "-r", "1", "-t", "1", "--head-type",
                "q6_k").succeeds();
        assertThat(q6k.out()).contains("| I2_S + F16, head Q6_K ");
    }

    /** {@code -d} as llama-bench's: each test starts with that many tokens in the cache, and says so in its name. */
    @Test
    void depthNamesEachTestAndRunsItAfterThatManyTokens() throws IOException {
        JsonNode rows = new ObjectMapper().readTree(Cli.run("bench", "-m", model, "-p", "4", "-n", "2", "-d", "0,40",
                "-r", "1", "-t", "1", "-o", "json").succeeds().out());
        List<String> seen = new ArrayList<>();
        for (JsonNode row : rows) {
            seen.add(row.get("test").asText() + "/" + row.get("n_depth").asInt());
        }
        assertThat(seen).containsExactly("pp4/0", "tg2/0", "pp4 @ d40/40", "tg2 @ d40/40");
        assertThat(Cli.run("bench", "-m", model, "-p", "0", "-n", "2", "-d", "8", "-r", "1", "-t", "1").succeeds()
                .out()).contains("| tg2 @ d8 |");
        Cli.run("bench", "-m", model, "-d", "-1").failsWithOneLine(2, "-d must not be negative");
    }

    @Test
    void badRepetitionsOrFormatIsAUsageError() {
        Cli.run("bench", "-m", model, "-r", "0").failsWithOneLine(2, "-r must be at least 1");
        Cli.run("bench", "-m", model, "-o", "csv").failsWithOneLine(2, "-o must be md or json, got 'csv'");
    }
}
