package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad input: one clear {@code bitnet: error:} line, the exit code of its kind (USAGE 2, INVALID_FILE 3, INVALID_MODEL
 * 4, LIMIT 6), no stack trace. The broken models are copies of a reference file with one thing changed.
 */
class CliErrorTest {
    @TempDir
    Path dir;

    static Path b158() {
        return TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf");
    }

    /** The stories260K model that ships in the repository (the same bytes as the reference folder's copy). */
    static Path stories() {
        return TestFiles.repo("models/stories260K.gguf");
    }

    Path broken(Consumer<GgufWriter> edit, String skip, Function<GgufTensorInfo, long[]> shape) {
        return Cli.copyGguf(b158(), dir.resolve("broken.gguf"), edit, skip, shape);
    }

    @Test
    void anUnknownArchitecture() {
        Path file = broken(w -> w.put("general.architecture", new GgufValue.StringValue("mamba")), null,
                t -> t.shape());
        Cli.run("run", "-m", file.toString(), "-p", "hi", "-t", "1")
                .failsWithOneLine(4, file.toString(), "unknown model architecture 'mamba'", "bitnet-b1.58");
    }

    @Test
    void aMissingTensor() {
        Path file = broken(w -> { }, "blk.1.ffn_down.weight", t -> t.shape());
        Cli.run("run", "-m", file.toString(), "-p", "hi", "-t", "1")
                .failsWithOneLine(4, "tensor 'blk.1.ffn_down.weight' is missing");
    }

    @Test
    void aTensorOfTheWrongShape() {
        // attn_k is {256, 128} (2 kv heads of 64); written as {128, 256}, same bytes
        Path file = broken(w -> { }, null, t -> t.name().equals("blk.0.attn_k.weight")
                ? new long[] {t.dim(1), t.dim(0)} : t.shape());
        Cli.run("run", "-m", file.toString(), "-p", "hi", "-t", "1")
                .failsWithOneLine(4, "tensor 'blk.0.attn_k.weight' has shape [128, 256], expected [256, 128]");
    }

    @Test
    void aTruncatedModelFile() throws IOException {
        byte[] bytes = Files.readAllBytes(b158());
        Path file = Files.write(dir.resolve("truncated.gguf"), Arrays.copyOf(bytes, bytes.length / 2));
        Cli.run("run", "-m", file.toString(), "-p", "hi", "-t", "1").failsWithOneLine(3, file.toString());
        Cli.run("verify", file.toString()).failsWithOneLine(3, file.toString());
        Cli.run("inspect", file.toString()).failsWithOneLine(3, file.toString());
        Path header = Files.write(dir.resolve("header.gguf"), Arrays.copyOf(bytes, 100));
        Cli.run("verify", header.toString()).failsWithOneLine(3, header.toString());
    }

    @Test
    void aFileThatIsNotGguf() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.gguf"), "just some text, certainly not a model\n");
        Cli.run("run", "-m", file.toString(), "-p", "hi").failsWithOneLine(3, file.toString());
    }

    @Test
    void aPromptLongerThanTheContext() {
        Cli.run("run", "-m", stories().toString(), "-c", "8", "-t", "1", "-p",
                        "Once upon a time there was a little girl named Lily who loved to play outside")
                .failsWithOneLine(6, "does not fit in the context of 8 tokens", "raise -c");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--temp        | nan  | Invalid value for option '--temp'",
            "--top-k       | many | Invalid value for option '--top-k'",
            "-n            | 1.5  | Invalid value for option '--n-predict'",
            "--seed        | x    | Invalid value for option '--seed'",
    })
    void flagValuesPicocliCannotParse(String flag, String value, String message) {
        Cli.run("run", "-m", stories().toString(), flag, value, "-p", "hi").failsAsUsage(message);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--temp           | NaN  | --temp must be a number",
            "--top-p          | 2    | --top-p must be in (0, 1], got 2.0",
            "--top-p          | 0    | --top-p must be in (0, 1], got 0.0",
            "--min-p          | 1.5  | --min-p must be in [0, 1], got 1.5",
            "--top-k          | -3   | --top-k must be 0 (off) or positive, got -3",
            "--repeat-penalty | 0    | --repeat-penalty must be positive, got 0.0",
            "-t               | -1   | -t must be positive, got -1",
            "-t               | 1,2  | -t takes one thread count here (a list such as 1,2 is for bench), got 2",
            "-c               | -5   | -c must be positive, got -5",
            "-b               | 0    | -b must be at least 1, got 0",
            "--kv-type        | q4   | --kv-type must be f16 or f32, got 'q4'",
            "--activations    | fp8  | --activations must be reference or token-int8, got 'fp8'",
            "--i2s-layout     | 32   | --i2s-layout must be 128 or 64, got 32",
            "--seed           | -5   | --seed must be in [0, 4294967295], got -5",
            "--seed           | 4294967296 | --seed must be in [0, 4294967295], got 4294967296",
            "-n               | -2   | -n must be -1 (no limit) or at least 0, got -2",
    })
    void flagValuesOutOfRange(String flag, String value, String message) {
        String threads = flag.equals("-t") ? "-n" : "-t"; // -t 1 unless -t is the flag under test
        Cli.run("run", "-m", stories().toString(), threads, "1", flag, value, "-p", "hi").failsWithOneLine(2, message);
    }

    @Test
    void unknownFlagsAndCommands() {
        Cli.run("run", "--bogus", "-p", "hi").failsAsUsage("Unknown option: '--bogus'");
        Cli.run("frobnicate").failsAsUsage("Unmatched argument");
        Cli.run().failsAsUsage("a command is required");
        Cli.run("crossval", "-m", stories().toString()).failsAsUsage("Missing required options");
    }

    @Test
    void aModelPathThatDoesNotExist() {
        Path missing = dir.resolve("no-such-model.gguf");
        Cli.run("run", "-m", missing.toString(), "-p", "hi")
                .failsWithOneLine(2, "model file not found: " + missing + " (from -m)");
        Cli.run("perplexity", "-m", missing.toString(), "-f", missing.toString()).failsWithOneLine(2);
    }

    @Test
    void noModelAtAll() {
        // without -m and BITNET_GGUF the CLI falls back to the model shipped under <bitnet.home>/models/; point
        // bitnet.home at an empty folder so that the test does not depend on whether one ships
        assumeTrue(System.getenv("BITNET_GGUF") == null, "BITNET_GGUF is set in this environment");
        String saved = System.getProperty("bitnet.home");
        System.setProperty("bitnet.home", dir.toString());
        try {
            Cli.run("run", "-p", "hi").failsWithOneLine(2, "no model given: pass -m FILE.gguf or set BITNET_GGUF",
                    "models/bitnet-stories-student-I2_S.gguf is not in " + dir);
        } finally {
            if (saved == null) {
                System.clearProperty("bitnet.home");
            } else {
                System.setProperty("bitnet.home", saved);
            }
        }
    }

    @Test
    void missingInputFiles() {
        Path missing = dir.resolve("missing.txt");
        Cli.run("run", "-m", stories().toString(), "-f", missing.toString())
                .failsWithOneLine(2, "prompt file not found: " + missing);
        Cli.run("run", "-m", stories().toString(), "-f", missing.toString(), "-p", "x")
                .failsWithOneLine(2, "give either -p or -f, not both");
        Cli.run("perplexity", "-m", stories().toString(), "-f", missing.toString())
                .failsWithOneLine(2, "text file not found: " + missing);
        Cli.run("crossval", "-m", stories().toString(), "--tokens", missing.toString(), "--logits",
                missing.toString()).failsWithOneLine(3, missing.toString());
    }

    @Test
    void perplexityOnTooShortATextSaysHowMuchItNeeds() throws IOException {
        Path text = Files.writeString(dir.resolve("short.txt"), "Once upon a time there was a cat.");
        Cli.run("perplexity", "-m", stories().toString(), "-f", text.toString(), "-c", "64", "-t", "1")
                .failsWithOneLine(2, "needs at least 128");
        Cli.run("perplexity", "-m", stories().toString(), "-f", text.toString(), "-c", "64", "-t", "1",
                "--chunks", "1").failsWithOneLine(2, "needs at least 128");
    }

    @Test
    void crossvalWithLogitsForAnotherVocabulary() {
        Path tokens = TestFiles.shared("refdata/bitnet-b1.58/tokens.txt");
        Path logits = TestFiles.shared("refdata/bitnet-b1.58/logits/bitnetcpp2_f32_seq_kvf16.txt");
        Cli.run("crossval", "-m", stories().toString(), "--tokens", tokens.toString(), "--logits",
                logits.toString(), "-t", "1").failsWithOneLine(2, "320 logits per row", "vocabulary has 512");
    }

    @Test
    void anUnknownChatTemplate() {
        Cli.Result r = Cli.runWithInput("hi\n", "chat", "-m", stories().toString(), "--chat-template", "chatml",
                "-t", "1");
        r.failsWithOneLine(2, "unknown chat template 'chatml'");
        assertThat(r.out()).doesNotContain("> ");
    }
}
