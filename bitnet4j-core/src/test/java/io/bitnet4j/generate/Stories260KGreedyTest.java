package io.bitnet4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.engine.KvType;
import io.bitnet4j.eval.ReferenceLogits;
import io.bitnet4j.model.Model;
import io.bitnet4j.sampling.SamplerSettings;
import io.bitnet4j.testing.TestFiles;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * llama2.c's golden output: stories260K, greedy from [BOS] for 200 tokens, stopping only on BOS (so end-of-text is
 * ignored), the first piece's leading space dropped and a newline at the end, byte for byte; llama.cpp reproduced
 * it with both KV cache types (refdata/stories260K/README.md). Run on the file that ships in {@code models/} and on the
 * reference file.
 */
class Stories260KGreedyTest {

    @ParameterizedTest(name = "{0}, {1} cache")
    @CsvSource({
            "models/stories260K.gguf, F16",
            "models/stories260K.gguf, F32",
            "refdata/stories260K/stories260K.gguf, F16",
            "refdata/stories260K/stories260K.gguf, F32",
    })
    void reproducesLlama2cGreedyOutputByteForByte(String file, KvType kv) throws IOException {
        Path model = file.startsWith("models/") ? TestFiles.repo(file) : TestFiles.shared(file);
        byte[] expected = Files.readAllBytes(TestFiles.shared("data/llama2c/expected_greedy_200.txt"));
        int[] ids = ReferenceLogits.readIds(TestFiles.shared("refdata/stories260K/stories260K-greedy200-llamacpp.ids"));
        try (LanguageModel lm = LanguageModel.open(model, Model.LoadOptions.DEFAULT, TokenizerOptions.DEFAULT,
                InferenceOptions.defaults().withThreads(1).withKvType(kv))) {
            int[] prompt = lm.tokenizer().encode("", true, false);
            assertThat(prompt).containsExactly(1);
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = lm.newGenerator().generate(new GenerationRequest(prompt, 200, List.of(),
                    SamplerSettings.greedy(), true), streamed::append);
            assertThat(r.tokens()).containsExactly(Arrays.copyOfRange(ids, 1, ids.length));
            assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(streamed + "\n").isEqualTo(new String(expected, StandardCharsets.UTF_8));
            assertThat((streamed + "\n").getBytes(StandardCharsets.UTF_8)).isEqualTo(expected);
            assertThat(r.text()).isEqualTo(streamed.toString());
            assertThat(lm.tokenizer().detokenize(r.tokens(), false, false) + "\n")
                    .isEqualTo(new String(expected, StandardCharsets.UTF_8));
        }
    }
}
