package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bitnet tokenize} and {@code bitnet detokenize}, run in-process. */
class TokenizeCommandTest {
    @TempDir
    Path tmp;

    record Result(int exitCode, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static String shared(String relative) {
        String dir = System.getProperty("bitnet.shared.dir", "../../shared");
        Path p = Path.of(dir).resolve(relative);
        assumeTrue(Files.isRegularFile(p), "reference file absent, test skipped: " + p);
        return p.toString();
    }

    static String llama3() {
        return shared("refdata/tokenizer/ggml-vocab-llama3-bpe.gguf");
    }

    @Test
    void printsIdsWithBos() {
        Result r = run("tokenize", "-m", llama3(), "-p", "Hello world");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("[128000, 9906, 1917]" + System.lineSeparator());
    }

    @Test
    void noBosAndSpecial() {
        assertThat(run("tokenize", "-m", llama3(), "-p", "Hi<|eot_id|>", "--no-bos").out().strip())
                .isEqualTo("[13347, 27, 91, 68, 354, 851, 91, 29]");
        assertThat(run("tokenize", "-m", llama3(), "-p", "Hi<|eot_id|>", "--no-bos", "--special").out().strip())
                .isEqualTo("[13347, 128009]");
    }

    @Test
    void piecesAndCount() {
        Result r = run("tokenize", "-m", llama3(), "-p", "Hello\n🦙", "--pieces", "--show-count");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().lines()).containsExactly(
                "128000 -> '<|begin_of_text|>'", "  9906 -> 'Hello'", "   198 -> '\\n'", "  9468 -> '<f0 9f>'",
                "    99 -> '<a6>'", "   247 -> '<99>'", "Total number of tokens: 6");
    }

    @Test
    void readsAFileAndRejectsInvalidUtf8() throws IOException {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "line one\nline two\n", StandardCharsets.UTF_8);
        assertThat(run("tokenize", "-m", llama3(), "-f", text.toString(), "--no-bos").out().strip())
                .isEqualTo("[1074, 832, 198, 1074, 1403, 198]");
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', (byte) 0xC3});
        Result r = run("tokenize", "-m", llama3(), "-f", bad.toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).isEqualTo("bitnet: error: " + bad + ": not valid UTF-8" + System.lineSeparator());
    }

    @Test
    void jsonLines() throws IOException {
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \"Hello world\"}\n\n{\"text\": \"<|eot_id|>\", \"other\": 1}\n",
                StandardCharsets.UTF_8);
        Result r = run("tokenize", "-m", llama3(), "--jsonl", in.toString(), "--special");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().lines()).containsExactly("{\"ids\":[128000,9906,1917]}", "{\"ids\":[128000,128009]}");
        Files.writeString(in, "{\"txt\": \"x\"}\n");
        Result bad = run("tokenize", "-m", llama3(), "--jsonl", in.toString());
        assertThat(bad.exitCode()).isEqualTo(3);
        assertThat(bad.err()).contains(in + ":1: expected a JSON object with a string field \"text\"");
    }

    @Test
    void sentencePieceVocab() {
        assertThat(run("tokenize", "-m", shared("data/llamacpp/ggml-vocab-llama-spm.gguf"), "-p", "Hello world")
                .out().strip()).isEqualTo("[1, 15043, 3186]");
    }

    @Test
    void preTokenizerSettingForFilesWithoutOne() {
        String model = shared("refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf");
        assertThat(run("tokenize", "-m", model, "-p", "it's", "--pre-tokenizer", "default").exitCode()).isZero();
        Result r = run("tokenize", "-m", model, "-p", "x", "--pre-tokenizer", "nonsense");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("unknown pre-tokenizer 'nonsense'");
    }

    @Test
    void usageErrors() {
        Result none = run("tokenize", "-m", llama3());
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).isEqualTo("bitnet: error: give exactly one of -p TEXT, -f FILE or --jsonl IN"
                + System.lineSeparator());
        Result missing = run("tokenize", "-m", tmp.resolve("absent.gguf").toString(), "-p", "x");
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.err()).contains("file not found");
        assertThat(run("tokenize", "-p", "x").exitCode()).isEqualTo(2); // -m is required
    }

    @Test
    void detokenize() {
        Result r = run("detokenize", "-m", llama3(), "[128000, 9906, 1917, 128009]");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("Hello world" + System.lineSeparator());
        assertThat(run("detokenize", "-m", llama3(), "--special", "128000", "9906", "1917", "128009").out().strip())
                .isEqualTo("<|begin_of_text|>Hello world<|eot_id|>");
        // llama.cpp's space clean-up, and the exact text without it
        assertThat(run("detokenize", "-m", llama3(), "364", "82").out().strip()).isEqualTo("'s");
        assertThat(run("detokenize", "-m", llama3(), "--no-clean-spaces", "364", "82").out())
                .isEqualTo(" 's" + System.lineSeparator());
        Result bad = run("detokenize", "-m", llama3(), "128256");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("token id 128256 is out of range");
        assertThat(run("detokenize", "-m", llama3(), "12a").exitCode()).isEqualTo(2);
    }

    @Test
    void detokenizeJsonLines() throws IOException {
        Path in = tmp.resolve("ids.jsonl");
        Files.writeString(in, "{\"ids\": [1, 15043, 2]}\n");
        Result r = run("detokenize", "-m", shared("data/llamacpp/ggml-vocab-llama-spm.gguf"), "--jsonl", in.toString(),
                "--special");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().strip()).isEqualTo("{\"text\":\"<s> Hello</s>\"}");
    }
}
