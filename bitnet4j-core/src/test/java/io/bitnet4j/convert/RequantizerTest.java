package io.bitnet4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.model.Model;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormats;
import io.bitnet4j.testing.TestFiles;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequantizerTest {
    @TempDir
    Path tmp;

    private static Path refdata(String name) {
        return TestFiles.shared("refdata/bitnet-b1.58/" + name);
    }

    @ParameterizedTest(name = "{0} → {1} (embedding {2})")
    @CsvSource({
            "tiny-b158-f32.gguf,  I2_S,  F32, tiny-b158-I2_S.gguf",
            "tiny-b158-f32.gguf,  I2_S,  F16, tiny-b158-I2_S-embf16.gguf",
            "tiny-b158-f32.gguf,  TQ2_0, F32, tiny-b158-TQ2_0.gguf",
            "tiny-b158-f32.gguf,  TQ1_0, F32, tiny-b158-TQ1_0.gguf",
            // between ternary formats nothing is lost: the same bytes as from the F32 source
            "tiny-b158-I2_S.gguf, TQ2_0, ,    tiny-b158-TQ2_0.gguf",
            "tiny-b158-TQ1_0.gguf, I2_S, ,    tiny-b158-I2_S.gguf",
    })
    void matchesBitnetCppsLlamaQuantize(String input, GgmlType type, GgmlType embedding, String reference) {
        Path out = tmp.resolve("q.gguf");

        Requantizer.Result result = Requantizer.quantize(new Requantizer.Options(refdata(input), out, type, embedding,
                null));

        assertThat(result.converted() + result.copied()).isEqualTo(24);
        assertThat(result.notTernary()).isEmpty();
        try (GgufFile actual = GgufFile.open(out); GgufFile expected = GgufFile.open(refdata(reference))) {
            // the metadata is the reference's, key order included
            assertThat(actual.metadata().keys()).containsExactlyElementsOf(expected.metadata().keys());
            assertThat(actual.metadata().requireLong("general.file_type"))
                    .isEqualTo(expected.metadata().requireLong("general.file_type"));
            assertThat(actual.tensors()).hasSameSizeAs(expected.tensors());
            for (GgufTensorInfo e : expected.tensors()) {
                GgufTensorInfo a = actual.tensors().get(e.index());
                assertThat(a.name()).isEqualTo(e.name());
                assertThat(a.type()).as(e.name()).isEqualTo(e.type());
                assertThat(a.offset()).as(e.name()).isEqualTo(e.offset());
                HfImporterTest.assertSameTensorBytes(actual, a, expected, e);
            }
        }
    }

    @Test
    void normsAndOneDimensionalTensorsAreCopied() {
        Path out = tmp.resolve("f16.gguf");
        Path source = TestFiles.repo("models/stories260K.gguf");

        Requantizer.Result result = Requantizer.quantize(new Requantizer.Options(source, out, GgmlType.F16, null,
                GgmlType.Q8_0));

        assertThat(result.converted()).isEqualTo(1 + 5 * 7);
        assertThat(result.copied()).isEqualTo(1 + 1 + 5 * 2);
        try (Model model = Model.load(out)) {
            GgufFile f = model.file();
            assertThat(f.tensorInfo("token_embd.weight").orElseThrow().type()).isEqualTo(GgmlType.F32);
            assertThat(f.tensorInfo("output.weight").orElseThrow().type()).isEqualTo(GgmlType.Q8_0);
            assertThat(f.tensorInfo("blk.3.ffn_down.weight").orElseThrow().type()).isEqualTo(GgmlType.F16);
            assertThat(f.tensorInfo("blk.3.ffn_norm.weight").orElseThrow().type()).isEqualTo(GgmlType.F32);
            assertThat(f.metadata().requireLong("general.file_type")).isEqualTo(1);
            assertThat(f.metadata().requireLong("general.quantization_version")).isEqualTo(2);
            assertThat(f.metadata().requireString("tokenizer.ggml.model")).isEqualTo("llama");
        }
    }

    @Test
    void rowsThatDoNotFitTheTypeAreNamed() {
        Path stories = TestFiles.repo("models/stories260K.gguf");
        assertThatThrownBy(() -> Requantizer.quantize(new Requantizer.Options(stories, tmp.resolve("x.gguf"),
                GgmlType.Q8_0, null, null)))
                .hasMessageContaining("tensor 'blk.0.ffn_down.weight': rows of 172 elements cannot be Q8_0, which "
                        + "needs a multiple of 32");

        assertThatThrownBy(() -> Requantizer.quantize(new Requantizer.Options(stories, tmp.resolve("x.gguf"),
                GgmlType.I2_S, null, null)))
                .isInstanceOf(BitnetException.class)
                .hasMessageContaining("tensor 'blk.0.attn_q.weight': rows of 64 elements cannot be I2_S, which "
                        + "needs a multiple of 128");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
    }

    @Test
    void valuesThatAreNotTernaryAreReported() {
        float[] random = new float[256 * 4];
        Random r = new Random(1);
        for (int i = 0; i < random.length; i++) {
            random[i] = (float) r.nextGaussian();
        }
        float[] ternary = new float[256 * 4];
        for (int i = 0; i < ternary.length; i++) {
            ternary[i] = (r.nextInt(3) - 1) * (i < 512 ? 0.5f : 0.25f); // two scales: fine per block, not per tensor
        }
        Path in = tmp.resolve("in.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama")
                .addTensor("blk.0.attn_q.weight", GgmlType.F32, new long[] {256, 4},
                        WeightFormats.of(GgmlType.F32).encode(random, new long[] {256, 4}))
                .addTensor("blk.0.attn_k.weight", GgmlType.F32, new long[] {256, 4},
                        WeightFormats.of(GgmlType.F32).encode(ternary, new long[] {256, 4}))
                .write(in);

        assertThat(Requantizer.quantize(new Requantizer.Options(in, tmp.resolve("tq.gguf"), GgmlType.TQ2_0, null,
                null)).notTernary()).containsExactly("blk.0.attn_q.weight");
        assertThat(Requantizer.quantize(new Requantizer.Options(in, tmp.resolve("i2s.gguf"), GgmlType.I2_S, null,
                null)).notTernary()).containsExactly("blk.0.attn_q.weight", "blk.0.attn_k.weight");
        try (GgufFile f = GgufFile.open(tmp.resolve("tq.gguf"))) {
            Tensor k = Tensor.of(f, "blk.0.attn_k.weight");
            assertThat(WeightFormats.of(k.type()).decodeAll(k)).containsExactly(ternary);
        }
    }

    @Test
    void outputMustNotReplaceTheInput() {
        Path stories = TestFiles.repo("models/stories260K.gguf");
        assertThatThrownBy(() -> Requantizer.quantize(new Requantizer.Options(stories, stories, GgmlType.F16, null,
                null)))
                .hasMessageContaining("the output file must differ from the input file");
    }
}
