package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.eval.ReferenceLogits;
import io.bitnet4j.generate.ChatTemplate;
import io.bitnet4j.generate.GenerationRequest;
import io.bitnet4j.generate.LanguageModel;
import io.bitnet4j.model.Model;
import io.bitnet4j.sampling.SamplerSettings;
import io.bitnet4j.testing.TestFiles;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bitnet run} and {@code bitnet chat} on stories260K. */
class CliRunTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** The stories260K model that ships in the repository (the same bytes as the reference folder's copy). */
    static Path stories() {
        return TestFiles.repo("models/stories260K.gguf");
    }

    static String expectedGreedy() throws IOException {
        return Files.readString(TestFiles.shared("data/llama2c/expected_greedy_200.txt"), StandardCharsets.UTF_8);
    }

    @Test
    void greedyRunPrintsLlama2csGoldenText() throws IOException {
        Cli.Result r = Cli.run("run", "-m", stories().toString(), "-p", "", "-n", "200", "--temp", "0",
                "--ignore-eos", "-t", "1").succeeds();
        assertThat(r.out()).isEqualTo(expectedGreedy());
        assertThat(r.errLines()).singleElement().asString().startsWith("bitnet: load ")
                .contains("prompt 1 tokens", "generated 200 tokens", "stop: token limit (-n)");
    }

    /** The README's first command: the shipped student model and nothing but a prompt. */
    @Test
    void withoutAModelFlagRunUsesTheShippedStudent() {
        assumeTrue(System.getenv("BITNET_GGUF") == null, "BITNET_GGUF is set in this environment");
        String saved = System.getProperty("bitnet.home");
        System.setProperty("bitnet.home", TestFiles.repoDir().toString());
        try {
            String plain = Cli.run("run", "-p", "Once upon a time", "-n", "50", "--temp", "0").succeeds().out();
            String student = Cli.run("run", "-m", TestFiles.repo("models/bitnet-stories-student-I2_S.gguf").toString(),
                    "-p", "Once upon a time", "-n", "50", "--temp", "0").succeeds().out();
            String teacher = Cli.run("run", "-m", TestFiles.repo("models/stories260K.gguf").toString(),
                    "-p", "Once upon a time", "-n", "50", "--temp", "0").succeeds().out();
            assertThat(plain).startsWith("Once upon a time, there was a little girl named Lily.")
                    .isEqualTo(student).isNotEqualTo(teacher);
        } finally {
            if (saved == null) {
                System.clearProperty("bitnet.home");
            } else {
                System.setProperty("bitnet.home", saved);
            }
        }
    }

    /** {@code --repack} changes the layout in memory, not the numbers: greedy text is the same for both students. */
    @Test
    void repackGeneratesTheSameGreedyText() {
        for (String type : new String[] {"I2_S", "TQ2_0"}) {
            String model = TestFiles.repo("models/bitnet-stories-student-" + type + ".gguf").toString();
            String prompt = "Once upon a time, there was a little dog. The dog liked to run in the park.";
            String plain = Cli.run("run", "-m", model, "-p", prompt, "-n", "40", "--temp", "0").succeeds().out();
            String repacked = Cli.run("run", "-m", model, "-p", prompt, "-n", "40", "--temp", "0", "--repack")
                    .succeeds().out();
            assertThat(repacked).as(type).isEqualTo(plain).startsWith(prompt).hasSizeGreaterThan(prompt.length() + 40);
        }
    }

    @Test
    void jsonOutputCarriesTextTokensStopReasonAndTimings() throws IOException {
        Cli.Result r = Cli.run("run", "-m", stories().toString(), "-p", "", "-n", "200", "--temp", "0", "-t", "1",
                "--json").succeeds();
        JsonNode json = JSON.readTree(r.out());
        assertThat(r.out().lines()).hasSize(1);
        assertThat(json.get("prompt").asText()).isEmpty();
        assertThat(ints(json.get("prompt_tokens"))).containsExactly(1);
        assertThat(json.get("text").asText() + "\n").isEqualTo(expectedGreedy());
        int[] ids = ReferenceLogits.readIds(TestFiles.shared("refdata/stories260K/stories260K-greedy200-llamacpp.ids"));
        assertThat(ints(json.get("tokens"))).containsExactly(java.util.Arrays.copyOfRange(ids, 1, ids.length));
        assertThat(json.get("stop").asText()).isEqualTo("length");
        JsonNode t = json.get("timings");
        assertThat(t.get("prompt_tokens").asInt()).isEqualTo(1);
        assertThat(t.get("generated_tokens").asInt()).isEqualTo(200);
        for (String field : List.of("load_ms", "prompt_ms", "prompt_tokens_per_second", "generation_ms",
                "generation_tokens_per_second", "time_to_first_token_ms")) {
            assertThat(t.get(field).isNumber()).as(field).isTrue();
            assertThat(t.get(field).asDouble()).as(field).isGreaterThanOrEqualTo(0);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void aStopStringEndsTheRunAndIsNotPrinted() throws IOException {
        Cli.Result r = Cli.run("run", "-m", stories().toString(), "-p", "", "-n", "200", "--temp", "0", "-t", "1",
                "--stop", "Lily", "--json").succeeds();
        JsonNode json = JSON.readTree(r.out());
        assertThat(json.get("text").asText()).isEqualTo("Once upon a time, there was a little girl named ");
        assertThat(json.get("stop").asText()).isEqualTo("stop");
        Cli.Result plain = Cli.run("run", "-m", stories().toString(), "-p", "Once upon a time", "-n", "200",
                "--temp", "0", "-t", "1", "--stop", "Lily").succeeds();
        assertThat(plain.out()).isEqualTo("Once upon a time, there was a little girl named \n");
        assertThat(plain.err()).contains("stop: stop string");
    }

    @Test
    void thePromptIsEchoedBeforeTheContinuation() {
        Cli.Result r = Cli.run("run", "-m", stories().toString(), "-p", "Once upon a time", "-n", "12", "--temp",
                "0", "-t", "1").succeeds();
        assertThat(r.out()).startsWith("Once upon a time,").endsWith("\n");
        Cli.Result quiet = Cli.run("run", "-m", stories().toString(), "-p", "Once upon a time", "-n", "12",
                "--temp", "0", "-t", "1", "--no-display-prompt").succeeds();
        assertThat("Once upon a time" + quiet.out()).isEqualTo(r.out());
    }

    @Test
    void aSeededSampledRunIsReproducible() {
        String[] args = {"run", "-m", stories().toString(), "-p", "Once", "-n", "40", "--temp", "1.0", "-s", "42",
                "-t", "1"};
        Cli.Result a = Cli.run(args).succeeds();
        assertThat(Cli.run(args).succeeds().out()).isEqualTo(a.out());
        args[args.length - 3] = "43";
        assertThat(Cli.run(args).succeeds().out()).isNotEqualTo(a.out());
    }

    // ------------------------------------------------------------------------------------------------ chat

    /** What the library generates for one first chat turn in the plain template (stories260K has no chat tokens). */
    static String expectedAnswer(String message, int maxTokens) {
        try (LanguageModel lm = LanguageModel.open(stories(), Model.LoadOptions.DEFAULT, TokenizerOptions.DEFAULT,
                InferenceOptions.defaults().withThreads(1))) {
            int[] prompt = lm.tokenizer().encode(ChatTemplate.PLAIN.renderUser(message), true, true);
            return lm.newGenerator().generate(new GenerationRequest(prompt, maxTokens,
                    ChatTemplate.PLAIN.stopStrings(), SamplerSettings.greedy(), false), t -> { }).text();
        }
    }

    @Test
    void chatAnswersFromStdinAndEndsAtEndOfInput() {
        Cli.Result r = Cli.runWithInput("Hello there\n", "chat", "-m", stories().toString(), "-n", "24",
                "--temp", "0", "-t", "1").succeeds();
        String answer = expectedAnswer("Hello there", 24);
        assertThat(answer).isNotBlank();
        assertThat(r.out()).isEqualTo("chat template: plain; /reset starts over, /exit or end of input quits\n"
                + "> " + answer + "\n> \n");
    }

    @Test
    void chatResetStartsOverAndExitQuits() {
        Cli.Result r = Cli.runWithInput("Hello there\n/reset\nHello there\n/exit\nnot read\n", "chat", "-m",
                stories().toString(), "-n", "24", "--temp", "0", "-t", "1").succeeds();
        String answer = expectedAnswer("Hello there", 24);
        assertThat(r.out()).doesNotContain("not read");
        assertThat(r.out()).contains("> " + answer + "\n> > " + answer + "\n> \n");
    }
}
