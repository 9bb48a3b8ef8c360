package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    @TempDir
    Path tmp;

    @Test
    void llama2cConvertsStories260KAsTheShippedModel() throws IOException {
        Path out = tmp.resolve("s.gguf");

        CliRun run = CliRun.of("convert", "llama2c", "--checkpoint", CliRun.shared("data/llama2c/stories260K.bin").toString(),
                "--tokenizer", CliRun.shared("data/llama2c/tok512.bin").toString(), "-o", out.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("wrote " + out + ": llama, F32, 48 tensors").contains("context 512");
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(CliRun.repo("models/stories260K.gguf")));
    }

    @Test
    void llama2cErrorsAreOneLineWithTheirExitCode() throws IOException {
        CliRun missing = CliRun.of("convert", "llama2c", "--checkpoint", tmp.resolve("none.bin").toString(),
                "--tokenizer", tmp.resolve("tok.bin").toString(), "-o", tmp.resolve("o.gguf").toString());
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.errorLines()).isEqualTo("bitnet: error: " + tmp.resolve("none.bin") + ": file not found\n");

        Path truncated = tmp.resolve("t.bin");
        byte[] original = Files.readAllBytes(CliRun.shared("data/llama2c/stories260K.bin"));
        Files.write(truncated, java.util.Arrays.copyOf(original, 1000));
        CliRun bad = CliRun.of("convert", "llama2c", "--checkpoint", truncated.toString(), "--tokenizer",
                CliRun.shared("data/llama2c/tok512.bin").toString(), "-o", tmp.resolve("o.gguf").toString());
        assertThat(bad.exitCode()).isEqualTo(3);
        assertThat(bad.errorLines()).contains("t.bin: the header (dim 64").contains("but it has 1000").hasLineCount(1);

        CliRun noOutput = CliRun.of("convert", "llama2c", "--checkpoint", "a", "--tokenizer", "b");
        assertThat(noOutput.exitCode()).isEqualTo(2);
        assertThat(noOutput.err()).contains("Missing required option: '--output=FILE'");

        CliRun noSource = CliRun.of("convert");
        assertThat(noSource.exitCode()).isEqualTo(2);
        assertThat(noSource.err()).contains("say what to convert from: llama2c or hf");
    }

    /** A tiny BitNet in the layout tools/student exports: F32, ternary projections, tied, relu2, vocab 512. */
    private Path studentLikeDirectory() throws IOException {
        int hidden = 128;
        int ffn = 256;
        int kvDim = 64;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {512, hidden});
        shapes.put("model.norm.weight", new long[] {hidden});
        String p = "model.layers.0.";
        shapes.put(p + "input_layernorm.weight", new long[] {hidden});
        shapes.put(p + "self_attn.q_proj.weight", new long[] {hidden, hidden});
        shapes.put(p + "self_attn.k_proj.weight", new long[] {kvDim, hidden});
        shapes.put(p + "self_attn.v_proj.weight", new long[] {kvDim, hidden});
        shapes.put(p + "self_attn.o_proj.weight", new long[] {hidden, hidden});
        shapes.put(p + "self_attn.attn_sub_norm.weight", new long[] {hidden});
        shapes.put(p + "post_attention_layernorm.weight", new long[] {hidden});
        shapes.put(p + "mlp.gate_proj.weight", new long[] {ffn, hidden});
        shapes.put(p + "mlp.up_proj.weight", new long[] {ffn, hidden});
        shapes.put(p + "mlp.down_proj.weight", new long[] {hidden, ffn});
        shapes.put(p + "mlp.ffn_sub_norm.weight", new long[] {ffn});

        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = e.getValue().length == 1 ? e.getValue()[0] : e.getValue()[0] * e.getValue()[1];
            header.append(offset == 0 ? "" : ",").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(java.util.Arrays.toString(e.getValue())).append(",\"data_offsets\":[").append(offset)
                    .append(',').append(offset + 4 * n).append("]}");
            offset += 4 * n;
        }
        byte[] h = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate((int) (8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Random r = new Random(5);
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = e.getValue().length == 1 ? e.getValue()[0] : e.getValue()[0] * e.getValue()[1];
            boolean projection = e.getKey().endsWith("_proj.weight");
            for (long i = 0; i < n; i++) {
                b.putFloat(projection ? (r.nextInt(3) - 1) * 0.0625f
                        : e.getValue().length == 1 ? 1f : (float) r.nextGaussian() * 0.1f);
            }
        }
        Path dir = tmp.resolve("student");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.safetensors"), b.array());
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["BitNetForCausalLM"], "model_type": "bitnet", "hidden_size": 128,
                 "intermediate_size": 256, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 512, "rms_norm_eps": 1e-05,
                 "rope_theta": 10000.0, "hidden_act": "relu2", "tie_word_embeddings": true, "bos_token_id": 1,
                 "eos_token_id": 2, "torch_dtype": "float32"}
                """);
        return dir;
    }

    @Test
    void hfStudentConvertsWithTheStoriesVocabularyAndRuns() throws IOException {
        Path dir = studentLikeDirectory();
        Path out = tmp.resolve("student-I2_S.gguf");

        CliRun convert = CliRun.of("convert", "hf", "--model", dir.toString(), "-o", out.toString(), "--vocab-from",
                CliRun.repo("models/stories260K.gguf").toString(), "--outtype", "i2_s", "--name", "student");

        assertThat(convert.exitCode()).as(convert.err()).isZero();
        assertThat(convert.out())
                .contains("wrote " + out + ": bitnet-b1.58 (BitNetForCausalLM), 13 tensors, projections I2_S, "
                        + "embedding F16, tokenizer from")
                .contains("ternarized (absmean): 0 of 7 projections (all were ternary already)");

        CliRun run = CliRun.of("run", "-m", out.toString(), "-p", "Once upon a time", "--temp", "0", "-n", "4");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("Once upon a time");

        CliRun inspect = CliRun.of("inspect", out.toString());
        assertThat(inspect.out()).contains("general.file_type                            40")
                .contains("model                                        llama");
    }

    @Test
    void hfErrorsAreOneLineWithTheirExitCode() throws IOException {
        Path dir = studentLikeDirectory();

        CliRun badType = CliRun.of("convert", "hf", "--model", dir.toString(), "-o", tmp.resolve("x.gguf").toString(),
                "--outtype", "q4_0");
        assertThat(badType.exitCode()).isEqualTo(2);
        assertThat(badType.errorLines()).isEqualTo("bitnet: error: --outtype must be one of f32, f16, i2_s, tq2_0, "
                + "tq1_0, got 'q4_0'\n");

        CliRun badEmbedding = CliRun.of("convert", "hf", "--model", dir.toString(), "-o",
                tmp.resolve("x.gguf").toString(), "--embedding-type", "i2_s");
        assertThat(badEmbedding.exitCode()).isEqualTo(2);
        assertThat(badEmbedding.errorLines()).contains("--embedding-type must be one of f32, f16, q8_0");

        CliRun noDir = CliRun.of("convert", "hf", "--model", tmp.resolve("absent").toString(), "-o",
                tmp.resolve("x.gguf").toString());
        assertThat(noDir.exitCode()).isEqualTo(3);
        assertThat(noDir.errorLines()).contains("absent: not a directory").hasLineCount(1);

        CliRun shape = CliRun.of("convert", "hf", "--model", dir.toString(), "-o", tmp.resolve("x.gguf").toString(),
                "--outtype", "tq2_0");
        assertThat(shape.exitCode()).isEqualTo(4);
        assertThat(shape.errorLines()).isEqualTo("bitnet: error: tensor 'blk.0.attn_q.weight': rows of 128 elements "
                + "cannot be TQ2_0, which needs a multiple of 256\n");

        CliRun vocab = CliRun.of("convert", "hf", "--model", dir.toString(), "-o", tmp.resolve("x.gguf").toString(),
                "--vocab-from", CliRun.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf").toString());
        assertThat(vocab.exitCode()).isEqualTo(4);
        assertThat(vocab.errorLines()).contains("has 320 tokens, but the model's vocab_size is 512");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
    }
}
