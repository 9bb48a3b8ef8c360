package io.bitnet4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.CpuForwardPass;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.engine.KvCache;
import io.bitnet4j.engine.KvType;
import io.bitnet4j.model.Model;
import io.bitnet4j.testing.TestFiles;
import io.bitnet4j.tokenizer.Tokenizer;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Perplexity as llama.cpp computes it, against a direct computation and the refdata's own figure. */
class PerplexityTest {
    static final int CONTEXT = 32;

    static Path model() {
        return TestFiles.shared("refdata/stories260K/stories260K.gguf");
    }

    static int[] tokens(Model m) throws IOException {
        String text = Files.readString(TestFiles.shared("data/corpora/tinystories-dev.txt")).substring(0, 2500);
        return Tokenizer.fromGguf(m.file().metadata(), TokenizerOptions.DEFAULT).encode(text, true, false);
    }

    static CpuForwardPass pass(Model m) {
        return new CpuForwardPass(m, InferenceOptions.defaults().withThreads(1).withKvType(KvType.F32)
                .withContextLength(CONTEXT));
    }

    @Test
    void scoresTheSecondHalfOfEachChunkWithBosFirst() throws IOException {
        try (Model m = Model.load(model()); CpuForwardPass pass = pass(m)) {
            int[] tokens = tokens(m);
            int chunks = tokens.length / CONTEXT;
            assertThat(chunks).isGreaterThan(3);
            List<Perplexity.Progress> progress = new ArrayList<>();
            Perplexity.Result r = Perplexity.compute(pass, tokens, CONTEXT, 8, 1, progress::add);

            // the same by hand: a fresh cache per chunk, BOS in place of its first token, NLL of tokens
            // first+1 .. ctx-1 (predicted from positions ctx/2 .. ctx-2) in double
            int v = m.config().vocabSize();
            double nll = 0;
            int count = 0;
            for (int c = 0; c < chunks; c++) {
                int[] chunk = java.util.Arrays.copyOfRange(tokens, c * CONTEXT, (c + 1) * CONTEXT);
                chunk[0] = 1;
                float[] logits = new float[CONTEXT * v];
                KvCache cache = pass.newCache(CONTEXT);
                pass.forward(cache, chunk, 0, CONTEXT, 0, logits, true);
                for (int pos = CONTEXT / 2; pos < CONTEXT - 1; pos++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < v; i++) {
                        max = Math.max(max, logits[pos * v + i]);
                    }
                    double sum = 0;
                    for (int i = 0; i < v; i++) {
                        sum += Math.exp(logits[pos * v + i] - max);
                    }
                    nll -= logits[pos * v + chunk[pos + 1]] - max - Math.log(sum);
                    count++;
                }
            }
            assertThat(r.chunks()).isEqualTo(chunks);
            assertThat(r.scoredTokens()).isEqualTo(count).isEqualTo(chunks * (CONTEXT / 2 - 1));
            assertThat(r.meanNll()).isCloseTo(nll / count, within(1e-5));
            assertThat(r.perplexity()).isCloseTo(Math.exp(nll / count), within(1e-4));
            assertThat(r.stdError()).isPositive();
            assertThat(progress).hasSize(chunks);
            assertThat(progress.getLast().perplexity()).isCloseTo(r.perplexity(), within(1e-9));
        }
    }

    @Test
    void meanNllOfTheRefdataPromptIsTheReadmesFigure() {
        // refdata/stories260K/README.md: the float64 llama2.c port gives a mean NLL of 0.717 nats for prompt tokens
        // 1..31 of stories260K-logits32-prompt.ids
        Path dir = model().getParent();
        int[] prompt = ReferenceLogits.readIds(dir.resolve("stories260K-logits32-prompt.ids"));
        try (Model m = Model.load(model()); CpuForwardPass pass = pass(m)) {
            int v = m.config().vocabSize();
            float[] logits = new float[prompt.length * v];
            pass.forward(pass.newCache(prompt.length), prompt, 0, prompt.length, 0, logits, true);
            double nll = 0;
            for (int pos = 0; pos + 1 < prompt.length; pos++) {
                nll -= Perplexity.logSoftmax(logits, pos * v, v, prompt[pos + 1]);
            }
            assertThat(nll / (prompt.length - 1)).isCloseTo(0.717, within(5e-4));
        }
    }

    @Test
    void chunksCanBeLimited() throws IOException {
        try (Model m = Model.load(model()); CpuForwardPass pass = pass(m)) {
            int[] tokens = tokens(m);
            Perplexity.Result all = Perplexity.compute(pass, tokens, CONTEXT, 8, 1, p -> { });
            Perplexity.Result one = Perplexity.compute(pass, tokens, CONTEXT, 8, 1, 1, p -> { });
            Perplexity.Result two = Perplexity.compute(pass, tokens, CONTEXT, 8, 1, 2, p -> { });
            assertThat(one.chunks()).isEqualTo(1);
            assertThat(one.scoredTokens()).isEqualTo(CONTEXT / 2 - 1);
            assertThat(two.chunks()).isEqualTo(2);
            assertThat(Perplexity.compute(pass, tokens, CONTEXT, 8, 1, 1000, p -> { }).chunks())
                    .isEqualTo(all.chunks());
        }
    }

    @Test
    void tooLittleTextOrContextIsAUsageError() throws IOException {
        try (Model m = Model.load(model()); CpuForwardPass pass = pass(m)) {
            int[] tokens = java.util.Arrays.copyOf(tokens(m), 2 * CONTEXT - 1);
            assertThatThrownBy(() -> Perplexity.compute(pass, tokens, CONTEXT, 8, 1, p -> { }))
                    .isInstanceOfSatisfying(BitnetException.class,
                            e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.USAGE))
                    .hasMessageContaining("needs at least 64");
            assertThatThrownBy(() -> Perplexity.compute(pass, tokens, CONTEXT, 8, 1, 1, p -> { }))
                    .as("also when the chunks are limited").isInstanceOf(BitnetException.class)
                    .hasMessageContaining("needs at least 64");
            assertThatThrownBy(() -> Perplexity.compute(pass, tokens, 3, 8, 1, p -> { }))
                    .isInstanceOf(BitnetException.class).hasMessageContaining("at least 4 tokens");
        }
    }
}
