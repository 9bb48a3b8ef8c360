package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.WeightFormats;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void quantizesTheReferenceModelToI2S() {
        Path out = tmp.resolve("i2s.gguf");

        CliRun run = CliRun.of("quantize", CliRun.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf").toString(),
                out.toString(), "I2_S", "--embedding-type", "f16");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("wrote " + out + ": 15 tensors re-encoded, 9 copied unchanged\n");
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensorInfo("token_embd.weight").orElseThrow().type()).isEqualTo(GgmlType.F16);
            assertThat(f.tensorInfo("blk.1.ffn_up.weight").orElseThrow().type()).isEqualTo(GgmlType.I2_S);
            assertThat(f.metadata().requireLong("general.file_type")).isEqualTo(40);
        }
        CliRun verify = CliRun.of("verify", out.toString());
        assertThat(verify.exitCode()).isZero();
    }

    @Test
    void keepsTheEmbeddingAndConvertsTheOutputHead() {
        Path out = tmp.resolve("f16.gguf");
        CliRun run = CliRun.of("quantize", CliRun.repo("models/stories260K.gguf").toString(), out.toString(), "f16",
                "--output-type", "q8_0");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("wrote " + out + ": 36 tensors re-encoded, 12 copied unchanged\n");
        CliRun generate = CliRun.of("run", "-m", out.toString(), "-p", "Once upon a time", "--temp", "0", "-n", "8");
        assertThat(generate.exitCode()).as(generate.err()).isZero();
        assertThat(generate.out()).startsWith("Once upon a time, there was a little girl");
    }

    @Test
    void warnsWhenValuesAreNotTernary() {
        float[] values = new float[256 * 2];
        Random r = new Random(9);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) r.nextGaussian();
        }
        Path in = tmp.resolve("float.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .addTensor("blk.0.attn_q.weight", GgmlType.F32, new long[] {256, 2},
                        WeightFormats.of(GgmlType.F32).encode(values, new long[] {256, 2}))
                .write(in);

        CliRun run = CliRun.of("quantize", in.toString(), tmp.resolve("tq.gguf").toString(), "tq2_0");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("warning: not ternary, so TQ2_0 lost precision: blk.0.attn_q.weight");
    }

    @Test
    void errorsAreOneLineWithTheirExitCode() {
        String stories = CliRun.repo("models/stories260K.gguf").toString();
        String out = tmp.resolve("o.gguf").toString();

        CliRun badType = CliRun.of("quantize", stories, out, "q4_k");
        assertThat(badType.exitCode()).isEqualTo(2);
        assertThat(badType.errorLines()).isEqualTo("bitnet: error: TYPE must be one of i2_s, tq1_0, tq2_0, q8_0, "
                + "f16, f32, got 'q4_k'\n");

        CliRun badEmbedding = CliRun.of("quantize", stories, out, "f16", "--embedding-type", "tq2_0");
        assertThat(badEmbedding.exitCode()).isEqualTo(2);
        assertThat(badEmbedding.errorLines()).contains("--embedding-type must be one of f32, f16, q8_0");

        CliRun missing = CliRun.of("quantize", tmp.resolve("none.gguf").toString(), out, "f16");
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.errorLines()).isEqualTo("bitnet: error: " + tmp.resolve("none.gguf") + ": file not found\n");

        CliRun shape = CliRun.of("quantize", stories, out, "i2_s");
        assertThat(shape.exitCode()).isEqualTo(4);
        assertThat(shape.errorLines()).isEqualTo("bitnet: error: tensor 'blk.0.attn_q.weight': rows of 64 elements "
                + "cannot be I2_S, which needs a multiple of 128 (use tq2_0 or tq1_0 if the rows are a multiple of "
                + "256, else f16)\n");

        CliRun tooFew = CliRun.of("quantize", stories, out);
        assertThat(tooFew.exitCode()).isEqualTo(2);
        assertThat(tooFew.err()).contains("Missing required parameter: 'TYPE'");
        assertThat(tmp.resolve("o.gguf")).doesNotExist();
    }
}
