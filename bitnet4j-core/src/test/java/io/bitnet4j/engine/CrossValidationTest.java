package io.bitnet4j.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.eval.LogitsComparison;
import io.bitnet4j.eval.ReferenceLogits;
import io.bitnet4j.model.Model;
import io.bitnet4j.testing.TestFiles;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our logits against the C++ references in ../shared/refdata, with the tolerances each folder's README gives.
 * The references' one-token ("seq") files are the anchor; our prompt (batch) path computes the same numbers as
 * our one-token path, so it is held to the same files.
 */
class CrossValidationTest {
    private static final String B158 = "refdata/bitnet-b1.58/";
    private static final String SILU = "refdata/bitnet-silu/";

    @ParameterizedTest(name = "{0} vs {1}")
    @CsvSource({
            // model, reference, KV type, activations, max |Δ|, min argmax agreement (of 16)
            "tiny-b158-f32.gguf,         bitnetcpp2_f32_seq_kvf16.txt,         F16, REFERENCE,  1e-3, 16",
            "tiny-b158-I2_S-embf16.gguf, bitnetcpp2_I2_S-embf16_seq_kvf16.txt, F16, REFERENCE,  1e-3, 16",
            "tiny-b158-I2_S-embf16.gguf, numpy_relu2_embf16_aqtok_kvf16.txt,   F16, REFERENCE,  1e-3, 16",
            "tiny-b158-I2_S.gguf,        bitnetcpp2_I2_S_seq_kvf16.txt,        F16, REFERENCE,  1e-2, 16",
            "tiny-b158-TQ2_0.gguf,       bitnetcpp2_TQ2_0_seq_kvf16.txt,       F16, REFERENCE,  1e-3, 16",
            "tiny-b158-TQ1_0.gguf,       bitnetcpp2_TQ1_0_seq_kvf16.txt,       F16, REFERENCE,  1e-3, 16",
            "tiny-b158-TQ2_0.gguf,       numpy_relu2_aqq8k_kvf16.txt,          F16, REFERENCE,  1e-3, 16",
            "tiny-b158-TQ2_0.gguf,       numpy_relu2_aqtok_kvf16.txt,          F16, TOKEN_INT8, 1e-2, 16",
            "tiny-b158-TQ1_0.gguf,       bitnetcpp2_I2_S_seq_kvf16.txt,        F16, TOKEN_INT8, 1e-2, 16",
    })
    void bitnetB158MatchesTheReference(String model, String reference, KvType kv, ActivationMode mode,
                                       double tolerance, int argmax) {
        int[] tokens = ReferenceLogits.readIds(TestFiles.shared(B158 + "tokens.txt"));
        float[][] expected = ReferenceLogits.read(TestFiles.shared(B158 + "logits/" + reference));
        checkBothPaths(TestFiles.shared(B158 + model), tokens, expected, kv, mode, tolerance, argmax);
    }

    @ParameterizedTest(name = "{0} vs {1}")
    @CsvSource({
            "tiny-f32.gguf,  mainline_f32_seq_kvf32.txt,   F32, 1e-4, 16",
            "tiny-f32.gguf,  numpy_silu.txt,               F32, 1e-4, 16",
            "tiny-f32.gguf,  mainline_f32_seq_kvf16.txt,   F16, 1e-3, 16",
            "tiny-I2_S.gguf, bitnetcpp_I2_S_seq_kvf16.txt, F16, 2e-2, 16",
            "tiny-I2_S.gguf, numpy_silu_aq_kvf16.txt,      F16, 2e-2, 16",
            "tiny-TQ2_0.gguf, mainline_TQ2_0_seq_kvf16.txt, F16, 2e-2, 16",
            "tiny-TQ1_0.gguf, mainline_TQ1_0_seq_kvf16.txt, F16, 2e-2, 16",
            "tiny-TQ2_0.gguf, mainline_TQ2_0_seq_kvf32.txt, F32, 2e-2, 16",
            "tiny-TQ1_0.gguf, mainline_TQ1_0_seq_kvf32.txt, F32, 2e-2, 16",
    })
    void bitnetSiluMatchesTheReference(String model, String reference, KvType kv, double tolerance, int argmax) {
        int[] tokens = ReferenceLogits.readIds(TestFiles.shared(SILU + "tokens.txt"));
        float[][] expected = ReferenceLogits.read(TestFiles.shared(SILU + "logits/" + reference));
        checkBothPaths(TestFiles.shared(SILU + model), tokens, expected, kv, ActivationMode.REFERENCE, tolerance, argmax);
    }

    @ParameterizedTest(name = "stories260K KV {0}")
    @CsvSource({
            "F32, stories260K-logits32-llamacpp-kvf32.txt, 1e-4",
            "F32, stories260K-logits32-numpy-f64.txt,      1e-4",
    })
    void stories260KMatchesLlamaCpp(KvType kv, String reference, double tolerance) {
        Path dir = TestFiles.shared("refdata/stories260K/stories260K.gguf").getParent();
        int[] tokens = ReferenceLogits.readIds(dir.resolve("stories260K-logits32-prompt.ids"));
        float[][] expected = ReferenceLogits.read(dir.resolve(reference));
        checkBothPaths(dir.resolve("stories260K.gguf"), tokens, expected, kv, ActivationMode.REFERENCE, tolerance, 32);
    }

    @ParameterizedTest(name = "{0} teacher-forced on {1}")
    @CsvSource({
            "tiny-b158-f32.gguf,         bitnetcpp2_f32_gen32_kvf16.txt",
            "tiny-b158-f32.gguf,         bitnetcpp2_f32_genseq32_kvf16.txt",
            "tiny-b158-I2_S-embf16.gguf, bitnetcpp2_I2_S-embf16_gen32_kvf16.txt",
            "tiny-b158-I2_S-embf16.gguf, bitnetcpp2_I2_S-embf16_genseq32_kvf16.txt",
            "tiny-b158-I2_S.gguf,        bitnetcpp2_I2_S_gen32_kvf16.txt",
            "tiny-b158-I2_S.gguf,        bitnetcpp2_I2_S_genseq32_kvf16.txt",
            "tiny-b158-TQ2_0.gguf,       bitnetcpp2_TQ2_0_gen32_kvf16.txt",
            "tiny-b158-TQ2_0.gguf,       bitnetcpp2_TQ2_0_genseq32_kvf16.txt",
            "tiny-b158-TQ1_0.gguf,       bitnetcpp2_TQ1_0_gen32_kvf16.txt",
            "tiny-b158-TQ1_0.gguf,       bitnetcpp2_TQ1_0_genseq32_kvf16.txt",
    })
    void greedyContinuationAgreesTeacherForced(String model, String reference) {
        int[] prompt = ReferenceLogits.readIds(TestFiles.shared(B158 + "tokens.txt"));
        ReferenceLogits.Generation gen = ReferenceLogits.readGeneration(TestFiles.shared(B158 + "logits/" + reference));
        int[] all = new int[prompt.length + gen.tokens().length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(gen.tokens(), 0, all, prompt.length, gen.tokens().length);
        try (Model m = Model.load(TestFiles.shared(B158 + model));
             CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withThreads(2))) {
            int v = m.config().vocabSize();
            float[] logits = new float[all.length * v];
            pass.forward(pass.newCache(64), all, 0, all.length, 0, logits, true);
            int agree = 0;
            for (int step = 0; step < gen.tokens().length; step++) {
                float[] row = new float[v];
                System.arraycopy(logits, (prompt.length - 1 + step) * v, row, 0, v);
                if (LogitsComparison.argmax(row) == gen.tokens()[step]) {
                    agree++;
                }
            }
            assertThat(agree).as("greedy steps agreeing with %s", reference).isGreaterThanOrEqualTo(31);
        }
    }

    /** One token per call (the reference's generation path) and all tokens in one batch (our prompt path). */
    static void checkBothPaths(Path model, int[] tokens, float[][] expected, KvType kv, ActivationMode mode,
                               double tolerance, int argmax) {
        try (Model m = Model.load(model);
             CpuForwardPass pass = new CpuForwardPass(m, InferenceOptions.defaults().withKvType(kv).withThreads(2)
                     .withBatchSize(8).withActivationMode(mode))) {
            int v = m.config().vocabSize();
            float[][] sequential = new float[tokens.length][v];
            KvCache cache = pass.newCache(tokens.length);
            for (int i = 0; i < tokens.length; i++) {
                pass.forward(cache, tokens, i, 1, i, sequential[i], false);
            }
            LogitsComparison seq = LogitsComparison.compare(sequential, expected);
            assertThat(seq.maxAbs()).as("one-token path max |Δ|").isLessThanOrEqualTo(tolerance);
            assertThat(seq.argmaxAgreements()).as("one-token path argmax agreement").isGreaterThanOrEqualTo(argmax);

            float[] flat = new float[tokens.length * v];
            pass.forward(pass.newCache(tokens.length), tokens, 0, tokens.length, 0, flat, true);
            float[][] batched = new float[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                batched[i] = java.util.Arrays.copyOfRange(flat, i * v, (i + 1) * v);
                assertThat(batched[i]).as("batch row %d equals the one-token row", i).containsExactly(sequential[i]);
            }
        }
    }
}
