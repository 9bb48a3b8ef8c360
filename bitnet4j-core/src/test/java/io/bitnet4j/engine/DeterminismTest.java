package io.bitnet4j.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.generate.GenerationRequest;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.LanguageModel;
import io.bitnet4j.model.Model;
import io.bitnet4j.sampling.Sampler;
import io.bitnet4j.sampling.SamplerSettings;
import io.bitnet4j.testing.SyntheticModel;
import io.bitnet4j.testing.TestFiles;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Results do not depend on how the work is cut: the thread count and the batch size change nothing, bit for bit.
 * Checked on a synthetic F32 model and on reference files whose activations are quantized per token (I2_S) and per
 * 256-block (TQ2_0), and on stories260K.
 */
class DeterminismTest {
    static final String SYNTHETIC = "synthetic";
    /**
     * Four query heads on one kv head: the attention takes the four together where every thread gets such a group
     * (prompts, and one token on one thread), one head at a time otherwise (one token on two threads).
     */
    static final String SYNTHETIC_GROUPS_OF_FOUR = "synthetic, groups of four heads";

    @TempDir
    Path dir;

    Path model(String which) {
        if (which.equals(SYNTHETIC)) {
            SyntheticModel.Config c = SyntheticModel.Config.of("bitnet-b1.58", 288, 64, 2, 4, 2, 48, 16, 64);
            return SyntheticModel.random(c, 11).write(dir.resolve("synthetic.gguf"));
        }
        if (which.equals(SYNTHETIC_GROUPS_OF_FOUR)) {
            SyntheticModel.Config c = SyntheticModel.Config.of("bitnet-b1.58", 288, 64, 2, 4, 1, 48, 16, 64);
            return SyntheticModel.random(c, 12).write(dir.resolve("synthetic-groups-of-four.gguf"));
        }
        return TestFiles.shared(which);
    }

    /** 40 tokens: a batch of 32 attends through the prompt attention's kernel, a batch of 7 through the decoding one. */
    static final int[] PROMPT = {1, 5, 77, 123, 200, 31, 64, 100, 250, 17, 42, 9, 150, 88, 260, 7, 3, 99, 201, 12,
        33, 180, 61, 240, 8, 111, 275, 54, 19, 163, 222, 70, 4, 133, 287, 46, 190, 25, 158, 93};

    static float[] allLogits(Model m, int batch, int threads) {
        try (CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withBatchSize(batch)
                .withThreads(threads))) {
            float[] out = new float[PROMPT.length * m.config().vocabSize()];
            pass.forward(pass.newCache(PROMPT.length), PROMPT, 0, PROMPT.length, 0, out, true);
            return out;
        }
    }

    static void assertSameBits(float[] actual, float[] expected, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {SYNTHETIC, SYNTHETIC_GROUPS_OF_FOUR, "refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf",
            "refdata/bitnet-b1.58/tiny-b158-TQ2_0.gguf", "refdata/stories260K/stories260K.gguf"})
    void batchSizesAndThreadCountsGiveIdenticalLogits(String which) {
        try (Model m = Model.load(model(which))) {
            float[] one = allLogits(m, 1, 1);
            assertSameBits(allLogits(m, 7, 1), one, "batch 7");
            assertSameBits(allLogits(m, 32, 1), one, "batch 32");
            assertSameBits(allLogits(m, 7, 2), one, "batch 7, 2 threads");
            assertSameBits(allLogits(m, 1, 2), one, "batch 1, 2 threads");
            // and the last row equals a plain one-token-at-a-time run
            try (CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withThreads(1))) {
                int v = m.config().vocabSize();
                KvCache cache = pass.newCache(PROMPT.length);
                float[] logits = new float[v];
                for (int i = 0; i < PROMPT.length; i++) {
                    pass.forward(cache, PROMPT, i, 1, i, logits, false);
                }
                assertSameBits(logits, Arrays.copyOfRange(one, (PROMPT.length - 1) * v, PROMPT.length * v),
                        "one token per call");
            }
        }
    }

    /**
     * {@code --repack} of I2_S and TQ2_0 weights (rows interleaved in blocks of 32 for the lookup kernel) reorders
     * bytes and nothing else: the shipped students give the same logits bit for bit, for a prompt and token by
     * token.
     */
    @ParameterizedTest
    @ValueSource(strings = {"I2_S", "TQ2_0"})
    void repackedTernaryWeightsGiveIdenticalLogits(String type) {
        Path student = TestFiles.repo("models/bitnet-stories-student-" + type + ".gguf");
        Model.LoadOptions repack = new Model.LoadOptions(io.bitnet4j.gguf.GgufReadOptions.DEFAULT,
                io.bitnet4j.tensor.I2SFormat.I2S_128, null, true, true);
        try (Model plain = Model.load(student); Model repacked = Model.load(student, repack)) {
            assertThat(repacked.weights().layers().get(0).wGate().format()).isSameAs(type.equals("I2_S")
                    ? io.bitnet4j.tensor.I2SFormat.I2S_128_ROWS_32 : io.bitnet4j.tensor.TQ2_0Format.ROWS_32);
            assertSameBits(allLogits(repacked, 32, 2), allLogits(plain, 32, 2), "prompt, 2 threads");
            assertSameBits(allLogits(repacked, 1, 1), allLogits(plain, 1, 1), "one token at a time");
        }
    }

    /** The ids sampled and the logits each was sampled from. */
    record Trace(int[] ids, List<float[]> logits) {
    }

    static Trace sample(Model m, int threads, long seed, int steps) {
        try (CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withThreads(threads))) {
            Session session = new Session(pass, 64);
            Sampler sampler = new Sampler(new SamplerSettings(1.0f, 0, 1f, 0f, 1.1f, 64, 0f, 0f, seed),
                    m.config().vocabSize(), -1);
            float[] logits = session.evaluate(PROMPT, 0, 4);
            int[] ids = new int[steps];
            List<float[]> rows = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                rows.add(logits.clone());
                ids[i] = sampler.sample(logits, session.tokens(), session.position());
                logits = session.evaluate(ids[i]);
            }
            return new Trace(ids, rows);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {SYNTHETIC, "refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf"})
    void aSeededRunIsIdenticalWithOneAndTwoThreads(String which) {
        try (Model m = Model.load(model(which))) {
            Trace one = sample(m, 1, 77, 24);
            Trace two = sample(m, 2, 77, 24);
            assertThat(two.ids()).containsExactly(one.ids());
            for (int i = 0; i < one.logits().size(); i++) {
                assertSameBits(two.logits().get(i), one.logits().get(i), "logits before step " + i);
            }
            assertThat(Arrays.stream(one.ids()).distinct().count()).as("temperature sampling varies").isGreaterThan(3);
            assertThat(sample(m, 1, 78, 24).ids()).as("another seed, another run").isNotEqualTo(one.ids());
        }
    }

    @Test
    void aGeneratorRunIsIdenticalWithOneAndTwoThreads() {
        Path file = TestFiles.repo("models/stories260K.gguf");
        GenerationResult[] results = new GenerationResult[2];
        for (int threads = 1; threads <= 2; threads++) {
            try (LanguageModel lm = LanguageModel.open(file, Model.LoadOptions.DEFAULT, TokenizerOptions.DEFAULT,
                    InferenceOptions.defaults().withThreads(threads))) {
                int[] prompt = lm.tokenizer().encode("Once upon a time", true, false);
                results[threads - 1] = lm.newGenerator().generate(new GenerationRequest(prompt, 32,
                        SamplerSettings.defaults(1234)), t -> { });
            }
        }
        assertThat(results[1].tokens()).containsExactly(results[0].tokens());
        assertThat(results[1].text()).isEqualTo(results[0].text());
        assertThat(results[0].tokens()).hasSize(32);
    }

    @Test
    void truncatingASessionAndGoingOnRecomputesTheSameLogits() {
        try (Model m = Model.load(model(SYNTHETIC));
             CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withThreads(1))) {
            Session fresh = new Session(pass, 16);
            float[] expected = fresh.evaluate(PROMPT, 0, 6).clone();
            Session edited = new Session(pass, 16);
            edited.evaluate(new int[] {1, 5, 77, 9, 9, 9, 9, 9}, 0, 8);
            edited.truncate(3);
            assertThat(edited.position()).isEqualTo(3);
            assertSameBits(edited.evaluate(PROMPT, 3, 3), expected, "after truncate(3)");
            assertThat(Arrays.copyOf(edited.tokens(), 6)).containsExactly(Arrays.copyOf(PROMPT, 6));
        }
    }

    @Test
    void aSessionRefusesMoreTokensThanItsCapacity() {
        try (Model m = Model.load(model(SYNTHETIC));
             CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withThreads(1)
                     .withContextLength(16))) {
            Session s = new Session(pass, 4);
            s.evaluate(PROMPT, 0, 3);
            assertThatThrownBy(() -> s.evaluate(PROMPT, 3, 2)).isInstanceOfSatisfying(BitnetException.class,
                    e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.LIMIT))
                    .hasMessageContaining("context of 4 tokens");
            assertThat(s.position()).isEqualTo(3);
            assertThatThrownBy(() -> new Session(pass, 17)).isInstanceOfSatisfying(BitnetException.class,
                    e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.USAGE))
                    .hasMessageContaining("exceeds the context length 16");
            assertThatThrownBy(() -> pass.forward(pass.newCache(4), new int[] {1, 400}, 0, 2, 0, new float[288 * 2], true))
                    .isInstanceOf(BitnetException.class).hasMessageContaining("token id 400 is outside the vocabulary");
        }
    }
}
