package io.bitnet4j.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.testing.TestFiles;
import org.junit.jupiter.api.Test;

class GgufFileRefdataTest {

    @Test
    void readsTheReleasedLayoutTinyModel() {
        try (GgufFile f = GgufFile.open(TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf"))) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.metadata().size()).isEqualTo(24);
            assertThat(f.architecture()).contains("bitnet-b1.58");
            assertThat(f.dialect()).isEqualTo(TypeDialect.BITNET_CPP);
            assertThat(f.alignment()).isEqualTo(32);
            GgufTensorInfo q = f.tensorInfo("blk.0.attn_q.weight").orElseThrow();
            assertThat(q.type()).isEqualTo(GgmlType.I2_S);
            assertThat(q.shape()).containsExactly(256, 256);
            assertThat(q.byteSize()).isEqualTo(256 * 256 / 4 + 32);
            assertThat(f.tensorInfo("token_embd.weight").orElseThrow().type()).isEqualTo(GgmlType.F16);
            assertThat(f.metadata().optionalStringArray("tokenizer.ggml.tokens").orElseThrow()).hasSize(320);
        }
    }

    @Test
    void readsStoriesModel() {
        try (GgufFile f = GgufFile.open(TestFiles.shared("refdata/stories260K/stories260K.gguf"))) {
            assertThat(f.metadata().size()).isEqualTo(19);
            assertThat(f.tensors()).hasSize(48);
            assertThat(f.dialect()).isEqualTo(TypeDialect.MAINLINE);
            assertThat(f.metadata().requireLong("llama.context_length")).isEqualTo(512);
        }
    }
}
