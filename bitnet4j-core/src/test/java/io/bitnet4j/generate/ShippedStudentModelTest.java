package io.bitnet4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.engine.ActivationMode;
import io.bitnet4j.engine.ForwardPass;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.engine.KvCache;
import io.bitnet4j.eval.LogitsComparison;
import io.bitnet4j.eval.Perplexity;
import io.bitnet4j.eval.ReferenceLogits;
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

/**
 * The ternary student that ships in {@code models/} (distilled from stories260K, see its model card): it is as good
 * as its teacher on held-out text, its I2_S and TQ2_0 files compute the same model, and it writes the story the
 * card shows.
 */
class ShippedStudentModelTest {
    private static final Path I2S = TestFiles.repo("models/bitnet-stories-student-I2_S.gguf");
    private static final Path TQ2 = TestFiles.repo("models/bitnet-stories-student-TQ2_0.gguf");
    private static final Path TEACHER = TestFiles.repo("models/stories260K.gguf");

    private static LanguageModel open(Path file, ActivationMode mode) {
        return LanguageModel.open(file, Model.LoadOptions.DEFAULT, TokenizerOptions.DEFAULT,
                InferenceOptions.defaults().withThreads(2).withActivationMode(mode));
    }

    private static double perplexity(Path model, String text) {
        try (LanguageModel lm = open(model, ActivationMode.REFERENCE)) {
            int[] tokens = lm.tokenizer().encode(text, true, false);
            return Perplexity.compute(lm.forwardPass(), tokens, 512, 512, lm.tokenizer().bos(), p -> { })
                    .perplexity();
        }
    }

    /** The bar: within 15 % of the teacher's perplexity on text neither was trained on. */
    @Test
    void perplexityOnHeldOutStoriesIsWithinFifteenPercentOfTheTeacher() throws IOException {
        String dev = Files.readString(TestFiles.shared("data/corpora/tinystories-dev.txt"), StandardCharsets.UTF_8);
        double teacher = perplexity(TEACHER, dev);
        double student = perplexity(I2S, dev);
        assertThat(teacher).as("teacher (llama.cpp's protocol, as in the model card)").isBetween(6.40, 6.43);
        assertThat(student).as("student, teacher %.4f", teacher).isLessThanOrEqualTo(1.15 * teacher);
    }

    private static float[][] logits(Path model, ActivationMode mode, int[] tokens) {
        try (LanguageModel lm = open(model, mode)) {
            ForwardPass pass = lm.forwardPass();
            int vocab = pass.config().vocabSize();
            KvCache cache = pass.newCache(tokens.length);
            float[][] out = new float[tokens.length][vocab];
            for (int i = 0; i < tokens.length; i++) {
                pass.forward(cache, tokens, i, 1, i, out[i], false);
            }
            return out;
        }
    }

    /**
     * Both files hold the same ternary codes and scales, so they agree within the tolerances refdata/bitnet-b1.58
     * measured between bitnet.cpp's files, scaled by the logits' spread (0.81 there). With per-token int8
     * activations for both, the integers are the same and the logits differ only where a float rounding flips
     * one int8 activation (there: 8.9e-3, 1.1 % of the spread; here 0.5 %, from position 22 on). With each
     * format's own activations (per token for I2_S, per 256-block Q8_K for TQ2_0) they differ as bitnet.cpp's I2_S
     * and TQ2_0 do (there: 4.2e-2, 5.2 % of the spread, argmax 15 of 16; here 3.1 %).
     */
    @Test
    void theI2sAndTq20FilesAgree() {
        int[] tokens = ReferenceLogits.readIds(TestFiles.shared("refdata/stories260K/stories260K-logits32-prompt.ids"));
        float[][] i2s = logits(I2S, ActivationMode.REFERENCE, tokens);
        double spread = spread(i2s);
        LogitsComparison sameActivations = LogitsComparison.compare(logits(TQ2, ActivationMode.TOKEN_INT8, tokens), i2s);
        assertThat(sameActivations.maxAbs()).isLessThan(0.011 * spread);
        assertThat(sameActivations.argmaxAgreements()).isEqualTo(tokens.length);

        LogitsComparison referencePaths = LogitsComparison.compare(logits(TQ2, ActivationMode.REFERENCE, tokens), i2s);
        assertThat(referencePaths.maxAbs()).isLessThan(0.052 * spread);
        assertThat(referencePaths.argmaxAgreements()).isGreaterThanOrEqualTo(tokens.length * 15 / 16);
    }

    /** Standard deviation of all logits. */
    private static double spread(float[][] logits) {
        double sum = 0;
        double sum2 = 0;
        int n = 0;
        for (float[] row : logits) {
            for (float v : row) {
                sum += v;
                sum2 += (double) v * v;
                n++;
            }
        }
        double mean = sum / n;
        return Math.sqrt(sum2 / n - mean * mean);
    }

    /** The greedy story of the model card, token for token (the engine is deterministic). */
    @Test
    void greedyStoryIsTheOneOnTheModelCard() {
        try (LanguageModel lm = open(I2S, ActivationMode.REFERENCE)) {
            int[] prompt = lm.tokenizer().encode("Once upon a time", true, false);
            StringBuilder text = new StringBuilder();
            GenerationResult r = lm.newGenerator().generate(new GenerationRequest(prompt, 60, List.of(),
                    SamplerSettings.greedy(), false), text::append);
            assertThat(r.tokens()).hasSize(60);
            assertThat(text.toString()).isEqualTo(GREEDY_60);
        }
    }

    private static final String GREEDY_60 = ", there was a little girl named Lily. She loved to play outside in the "
            + "park. One day, she saw a big, red ball with a small ball. She wanted to play with it, but it was too";
}
