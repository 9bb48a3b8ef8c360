package io.bitnet4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.model.Model;
import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cImporterTest {
    @TempDir
    Path tmp;

    private static Path checkpoint() {
        return TestFiles.shared("data/llama2c/stories260K.bin");
    }

    private static Path tokenizer() {
        return TestFiles.shared("data/llama2c/tok512.bin");
    }

    @Test
    void stories260KConvertsToTheSameBytesAsLlamaCppsConverter() throws IOException {
        Path reference = TestFiles.shared("refdata/stories260K/stories260K.gguf");
        Path out = tmp.resolve("stories260K.gguf");

        Llama2cImporter.Result result = Llama2cImporter.convert(new Llama2cImporter.Options(checkpoint(), tokenizer(), out, 0));

        assertThat(result.contextLength()).isEqualTo(512);
        assertThat(result.tensors()).isEqualTo(48);
        byte[] actual = Files.readAllBytes(out);
        byte[] expected = Files.readAllBytes(reference);
        assertThat(actual.length).isEqualTo(expected.length);
        assertThat(Arrays.mismatch(actual, expected)).as("first differing byte").isEqualTo(-1);
    }

    @Test
    void contextOptionOverridesTheCheckpointsSeqLen() throws IOException {
        Path out = tmp.resolve("ctx128.gguf");
        Llama2cImporter.convert(new Llama2cImporter.Options(checkpoint(), tokenizer(), out, 128));

        // with 128, the output is what llama.cpp's converter writes by default
        byte[] raw = Files.readAllBytes(TestFiles.shared("refdata/stories260K/stories260K-converter-raw.gguf"));
        assertThat(Arrays.mismatch(Files.readAllBytes(out), raw)).isEqualTo(-1);
    }

    @Test
    void vocabularyFollowsLlamaCppsRules() {
        Llama2cVocab vocab = Llama2cVocab.read(tokenizer(), 512);

        assertThat(vocab.tokens().subList(0, 4)).containsExactly("<unk>", "<s>", "</s>", "<0x00>");
        assertThat(vocab.types()[0]).isEqualTo(2);
        assertThat(vocab.types()[1]).isEqualTo(3);
        assertThat(vocab.types()[2]).isEqualTo(3);
        assertThat(Arrays.stream(vocab.types(), 3, 259).distinct().toArray()).containsExactly(6);
        assertThat(Arrays.stream(vocab.types(), 259, 512).distinct().toArray()).containsExactly(1);
        assertThat(vocab.tokens()).noneMatch(t -> t.contains(" "));
        assertThat(vocab.tokens()).anyMatch(t -> t.startsWith("\u2581"));
    }

    @Test
    void negativeVocabSizeMeansAnOwnClassifier() throws IOException {
        // stories260K with the header's vocab negated and a classifier (all 0.5) appended
        byte[] original = Files.readAllBytes(checkpoint());
        ByteBuffer untied = ByteBuffer.allocate(original.length + 512 * 64 * 4).order(ByteOrder.LITTLE_ENDIAN);
        untied.put(original);
        untied.putInt(5 * 4, -512);
        while (untied.hasRemaining()) {
            untied.putFloat(0.5f);
        }
        Path in = tmp.resolve("untied.bin");
        Files.write(in, untied.array());
        Path out = tmp.resolve("untied.gguf");

        Llama2cImporter.convert(new Llama2cImporter.Options(in, tokenizer(), out, 0));

        try (GgufFile gguf = GgufFile.open(out)) {
            GgufTensorInfo output = gguf.tensorInfo("output.weight").orElseThrow();
            assertThat(output.shape()).containsExactly(64, 512);
            float[] head = gguf.tensorData(output).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            assertThat(head).containsOnly(0.5f);
        }
        try (Model model = Model.load(out)) {
            assertThat(model.weights().tiedHead()).isFalse();
        }
    }

    @Test
    void convertedModelLoads() {
        Path out = tmp.resolve("m.gguf");
        Llama2cImporter.convert(new Llama2cImporter.Options(checkpoint(), tokenizer(), out, 0));
        try (Model model = Model.load(out)) {
            assertThat(model.config().contextLength()).isEqualTo(512);
            assertThat(model.config().ropeDims()).isEqualTo(8);
            assertThat(model.weights().tokenEmbedding().tensor().type()).isEqualTo(GgmlType.F32);
        }
    }

    @Test
    void truncatedCheckpointIsRejectedWithBothSizes() throws IOException {
        byte[] original = Files.readAllBytes(checkpoint());
        Path in = tmp.resolve("short.bin");
        Files.write(in, Arrays.copyOf(original, original.length - 4));

        assertThatThrownBy(() -> Llama2cImporter.convert(new Llama2cImporter.Options(in, tokenizer(), tmp.resolve("x.gguf"), 0)))
                .isInstanceOf(BitnetException.class)
                .hasMessageContaining("short.bin")
                .hasMessageContaining("describes a file of 1056540 bytes, but it has 1056536");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
    }

    @Test
    void headerSizesThatOverflowAreRejected() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[] {1 << 30, 1 << 30, 1 << 30, 1, 1, 1 << 30, 1 << 30}) {
            header.putInt(v);
        }
        Path in = tmp.resolve("huge.bin");
        Files.write(in, header.array());

        assertThatThrownBy(() -> Llama2cCheckpoint.open(in))
                .isInstanceOf(BitnetException.class)
                .hasMessageContaining("huge.bin")
                .hasMessageContaining("more than 2^63 bytes");
    }

    @Test
    void nonsenseHeaderFieldsAreNamed() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[] {64, 172, 5, 8, 3, 512, 512}) {
            header.putInt(v);
        }
        Path in = tmp.resolve("kv.bin");
        Files.write(in, header.array());
        assertThatThrownBy(() -> Llama2cCheckpoint.open(in)).hasMessageContaining("n_heads 8 is not a multiple of n_kv_heads 3");

        header.putInt(0, -1);
        Files.write(in, header.array());
        assertThatThrownBy(() -> Llama2cCheckpoint.open(in)).hasMessageContaining("header field dim = -1");

        Files.write(in, new byte[10]);
        assertThatThrownBy(() -> Llama2cCheckpoint.open(in)).hasMessageContaining("too short");
    }

    @Test
    void versionedExportsAreNamedAsUnsupported() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0x616b3432).putInt(1);
        Path in = tmp.resolve("v1.bin");
        Files.write(in, header.array());

        assertThatThrownBy(() -> Llama2cCheckpoint.open(in))
                .isInstanceOf(BitnetException.class)
                .satisfies(e -> assertThat(((BitnetException) e).kind()).isEqualTo(BitnetException.Kind.UNSUPPORTED))
                .hasMessageContaining("version 1");
    }

    @Test
    void tokenizerThatDoesNotMatchTheCheckpointIsRejected() throws IOException {
        byte[] tok = Files.readAllBytes(tokenizer());
        Path shorter = tmp.resolve("short-tok.bin");
        Files.write(shorter, Arrays.copyOf(tok, tok.length - 3));
        assertThatThrownBy(() -> Llama2cVocab.read(shorter, 512)).hasMessageContaining("token 511 has length");

        assertThatThrownBy(() -> Llama2cVocab.read(tokenizer(), 500))
                .hasMessageContaining("follow the 500 tokens the checkpoint needs");

        assertThatThrownBy(() -> Llama2cVocab.read(tmp.resolve("absent.bin"), 512))
                .hasMessageContaining("absent.bin: file not found");
    }
}
