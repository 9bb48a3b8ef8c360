package io.bitnet4j.generate;

import static io.bitnet4j.testing.SyntheticModel.BOS;
import static io.bitnet4j.testing.SyntheticModel.EOS;
import static io.bitnet4j.testing.SyntheticModel.byteToken;
import static io.bitnet4j.testing.SyntheticModel.word;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.model.Model;
import io.bitnet4j.sampling.SamplerSettings;
import io.bitnet4j.testing.SyntheticModel;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generation loop on {@link SyntheticModel#markov} models, whose greedy output is a known token sequence: stop
 * strings, end of generation, token limits, a full context, an over-long prompt, and UTF-8 characters spread over
 * byte tokens.
 */
class GeneratorTest {
    static final int HELLO = word("▁Hello");
    static final int WOR = word("▁wor");
    static final int LD = word("ld");
    static final int BANG = word("!");
    static final int MORE = word("▁more");
    static final int A = word("▁A");
    static final int B = word("▁B");

    @TempDir
    Path dir;

    /** "Hello world!" then EOS. */
    static Map<Integer, Integer> helloWorld() {
        return chain(BOS, HELLO, WOR, LD, BANG, EOS);
    }

    static Map<Integer, Integer> chain(int... ids) {
        Map<Integer, Integer> next = new LinkedHashMap<>();
        for (int i = 0; i + 1 < ids.length; i++) {
            next.put(ids[i], ids[i + 1]);
        }
        return next;
    }

    LanguageModel open(Map<Integer, Integer> next, int context) {
        SyntheticModel.Config c = new SyntheticModel.Config("llama", 288, 32, 1, 2, 1, 16, 16, 10000f, 64, false, true);
        Path file = SyntheticModel.markov(c, next).write(dir.resolve("markov-" + System.nanoTime() + ".gguf"));
        return LanguageModel.open(file, Model.LoadOptions.DEFAULT, TokenizerOptions.DEFAULT,
                InferenceOptions.defaults().withThreads(1).withContextLength(context));
    }

    record Run(GenerationResult result, List<String> pieces) {
        String streamed() {
            return String.join("", pieces);
        }
    }

    static Run generate(Generator g, int[] prompt, int maxTokens, List<String> stops, boolean ignoreEog) {
        List<String> pieces = new ArrayList<>();
        GenerationResult r = g.generate(new GenerationRequest(prompt, maxTokens, stops, SamplerSettings.greedy(),
                ignoreEog), pieces::add);
        assertThat(String.join("", pieces)).as("streamed text = result text").isEqualTo(r.text());
        return new Run(r, pieces);
    }

    @Test
    void greedyWalksTheChainAndStopsAtEndOfGeneration() {
        try (LanguageModel lm = open(helloWorld(), 64)) {
            Run run = generate(lm.newGenerator(), new int[] {BOS}, -1, List.of(), false);
            assertThat(run.result().tokens()).containsExactly(HELLO, WOR, LD, BANG);
            assertThat(run.result().stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
            assertThat(run.pieces()).containsExactly("Hello", " wor", "ld", "!");
            assertThat(run.result().timings().generatedTokens()).isEqualTo(4);
            assertThat(run.result().timings().promptTokens()).isEqualTo(1);
        }
    }

    @Test
    void theSentencePieceSpaceIsDroppedOnlyAtTheStartOfTheText() {
        // after BOS alone the first piece's leading space goes, as llama_detokenize and llama2.c drop it;
        // after text it stays
        try (LanguageModel lm = open(helloWorld(), 64)) {
            assertThat(generate(lm.newGenerator(), new int[] {BOS, HELLO}, -1, List.of(), false).result().text())
                    .isEqualTo(" world!");
            assertThat(lm.tokenizer().detokenize(new int[] {HELLO, WOR, LD, BANG}, false, false))
                    .isEqualTo("Hello world!");
        }
    }

    @Test
    void anEndOfTurnTokenEndsGenerationToo() {
        int eot = word("<|eot_id|>");
        try (LanguageModel lm = open(chain(BOS, HELLO, eot), 64)) {
            assertThat(lm.tokenizer().endOfGenerationIds()).containsExactly(EOS, eot);
            Run run = generate(lm.newGenerator(), new int[] {BOS}, -1, List.of(), false);
            assertThat(run.result().tokens()).containsExactly(HELLO);
            assertThat(run.result().stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
            assertThat(run.result().text()).isEqualTo("Hello");
        }
    }

    @Test
    void ignoringEndOfGenerationGoesOnPastEos() {
        Map<Integer, Integer> next = helloWorld();
        next.put(EOS, MORE);
        next.put(MORE, EOS);
        try (LanguageModel lm = open(next, 64)) {
            Run run = generate(lm.newGenerator(), new int[] {BOS}, 7, List.of(), true);
            assertThat(run.result().tokens()).containsExactly(HELLO, WOR, LD, BANG, EOS, MORE, EOS);
            assertThat(run.result().stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(run.result().text()).isEqualTo("Hello world! more");
        }
    }

    @Test
    void theTokenLimitStopsGeneration() {
        try (LanguageModel lm = open(helloWorld(), 64)) {
            Run two = generate(lm.newGenerator(), new int[] {BOS}, 2, List.of(), false);
            assertThat(two.result().tokens()).containsExactly(HELLO, WOR);
            assertThat(two.result().stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(two.result().text()).isEqualTo("Hello wor");
            Run none = generate(lm.newGenerator(), new int[] {BOS}, 0, List.of(), false);
            assertThat(none.result().tokens()).isEmpty();
            assertThat(none.result().text()).isEmpty();
            assertThat(none.result().stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        }
    }

    @Test
    void aStopStringSplitOverTokensIsHeldBackAndNotEmitted() {
        try (LanguageModel lm = open(helloWorld(), 64)) {
            Run run = generate(lm.newGenerator(), new int[] {BOS}, -1, List.of("world!"), false);
            // " wor": the space goes out, "wor" could start the stop string; "ld" keeps it open; "!" completes it
            assertThat(run.pieces()).containsExactly("Hello", " ");
            assertThat(run.result().text()).isEqualTo("Hello ");
            assertThat(run.result().stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertThat(run.result().tokens()).containsExactly(HELLO, WOR, LD, BANG);
        }
    }

    @Test
    void aHeldPrefixThatDoesNotCompleteIsReleased() {
        try (LanguageModel lm = open(helloWorld(), 64)) {
            Run run = generate(lm.newGenerator(), new int[] {BOS}, -1, List.of("world?"), false);
            assertThat(run.pieces()).containsExactly("Hello", " ", "world!");
            assertThat(run.result().stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
            Run limited = generate(lm.newGenerator(), new int[] {BOS}, 3, List.of("world!"), false);
            assertThat(limited.pieces()).as("held text is passed on when generation ends")
                    .containsExactly("Hello", " ", "world");
        }
    }

    @Test
    void utf8CharactersAreNeverSplitAcrossStreamedPieces() {
        // é = C3 A9 and 😀 = F0 9F 98 80, one byte-fallback token per byte
        Map<Integer, Integer> next = chain(BOS, HELLO, byteToken(0xC3), byteToken(0xA9), byteToken(0xF0),
                byteToken(0x9F), byteToken(0x98), byteToken(0x80), BANG, EOS);
        try (LanguageModel lm = open(next, 64)) {
            Run run = generate(lm.newGenerator(), new int[] {BOS}, -1, List.of(), false);
            assertThat(run.result().tokens()).hasSize(8);
            assertThat(run.pieces()).containsExactly("Hello", "é", "😀", "!");
            Run stopped = generate(lm.newGenerator(), new int[] {BOS}, -1, List.of("😀"), false);
            assertThat(stopped.pieces()).containsExactly("Hello", "é");
            assertThat(stopped.result().stopReason()).isEqualTo(StopReason.STOP_STRING);
            Run cut = generate(lm.newGenerator(), new int[] {BOS}, 5, List.of(), false);
            assertThat(cut.result().text()).as("a character cut off by the limit becomes U+FFFD at the end")
                    .isEqualTo("Helloé\uFFFD");
        }
    }

    @Test
    void aFullContextStopsGenerationCleanly() {
        try (LanguageModel lm = open(chain(BOS, A, B, A), 8)) {
            Generator g = lm.newGenerator();
            Run run = generate(g, new int[] {BOS}, -1, List.of(), false);
            assertThat(run.result().stopReason()).isEqualTo(StopReason.CONTEXT_FULL);
            // positions 1..7 hold generated tokens; the 8th is sampled from the logits after the last position
            assertThat(run.result().tokens()).containsExactly(A, B, A, B, A, B, A, B);
            assertThat(g.session().position()).isEqualTo(8);
            assertThat(run.result().text()).isEqualTo("A B A B A B A B");
        }
    }

    @Test
    void aPromptLongerThanTheContextIsALimitError() {
        try (LanguageModel lm = open(helloWorld(), 8)) {
            Generator g = lm.newGenerator();
            for (int length : new int[] {8, 20}) {
                int[] prompt = new int[length];
                java.util.Arrays.fill(prompt, A);
                assertThatThrownBy(() -> g.generate(new GenerationRequest(prompt, 4, SamplerSettings.greedy()), t -> { }))
                        .isInstanceOfSatisfying(BitnetException.class,
                                e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.LIMIT))
                        .hasMessage("the prompt (" + length + " tokens) does not fit in the context of 8 tokens; raise -c");
            }
            assertThat(g.session().position()).as("nothing was evaluated").isZero();
        }
    }

    @Test
    void anEmptyPromptOnAnEmptySessionIsAUsageError() {
        try (LanguageModel lm = open(helloWorld(), 8)) {
            assertThatThrownBy(() -> lm.newGenerator().generate(new GenerationRequest(new int[0], 4,
                    SamplerSettings.greedy()), t -> { })).isInstanceOfSatisfying(BitnetException.class,
                    e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.USAGE));
        }
    }

    @Test
    void theLastTokenBeforeTheLimitIsLeftPendingAndTheNextRequestEvaluatesItFirst() {
        try (LanguageModel lm = open(helloWorld(), 64)) {
            Generator g = lm.newGenerator();
            Run first = generate(g, new int[] {BOS}, 2, List.of(), false);
            assertThat(first.result().tokens()).containsExactly(HELLO, WOR);
            assertThat(first.result().stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(g.session().position()).as("BOS and Hello evaluated; wor, whose logits nobody reads, not")
                    .isEqualTo(2);
            Run rest = generate(g, new int[0], -1, List.of(), false);
            assertThat(rest.result().tokens()).as("the model saw wor before choosing").containsExactly(LD, BANG);
            assertThat(rest.result().timings().promptTokens()).isEqualTo(1);
            assertThat(g.session().tokens()).startsWith(BOS, HELLO, WOR, LD, BANG);
        }
    }

    @Test
    void aTokenLeftPendingByAStopStringComesBeforeTheNextPrompt() {
        try (LanguageModel lm = open(helloWorld(), 64)) {
            Generator g = lm.newGenerator();
            Run first = generate(g, new int[] {BOS}, -1, List.of("wor"), false);
            assertThat(first.result().stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertThat(g.session().position()).isEqualTo(2);
            Run next = generate(g, new int[] {LD}, 1, List.of(), false);
            assertThat(next.result().tokens()).containsExactly(BANG);
            assertThat(next.result().timings().promptTokens()).isEqualTo(2);
            assertThat(g.session().tokens()).startsWith(BOS, HELLO, WOR, LD);
            g.reset();
            assertThat(g.session().position()).isZero();
            assertThat(generate(g, new int[] {BOS}, 1, List.of(), false).result().timings().promptTokens())
                    .as("reset forgets the pending token").isEqualTo(1);
        }
    }

    @Test
    void aSecondRequestContinuesTheSession() {
        Map<Integer, Integer> next = helloWorld();
        next.put(A, B);
        next.put(B, EOS);
        try (LanguageModel lm = open(next, 64)) {
            Generator g = lm.newGenerator();
            generate(g, new int[] {BOS}, -1, List.of(), false);
            assertThat(g.session().position()).isEqualTo(5);
            Run second = generate(g, new int[] {A}, -1, List.of(), false);
            assertThat(second.result().tokens()).containsExactly(B);
            assertThat(second.result().text()).isEqualTo(" B");
            assertThat(g.session().position()).isEqualTo(7);
        }
    }
}
