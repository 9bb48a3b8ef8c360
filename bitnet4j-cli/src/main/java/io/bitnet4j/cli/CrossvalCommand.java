package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.ForwardPass;
import io.bitnet4j.engine.KvCache;
import io.bitnet4j.eval.LogitsComparison;
import io.bitnet4j.eval.ReferenceLogits;
import io.bitnet4j.generate.LanguageModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bitnet crossval}: our logits for a token list against a reference logits file (the layout of
 * ../shared/refdata): max |Δ|, rms and argmax agreement per position; non-zero exit beyond the tolerance.
 */
@Command(name = "crossval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compare our logits with reference logits for the same tokens.")
final class CrossvalCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--tokens", paramLabel = "FILE", required = true, description = "token ids, whitespace-separated")
    Path tokensFile;

    @Option(names = "--logits", paramLabel = "FILE", required = true,
            description = "reference logits, one line per position (a generation file: first line = generated ids)")
    Path logitsFile;

    @Option(names = "--generation", description = "the logits file is a greedy-generation file: feed the prompt and "
            + "the generated ids (teacher forcing) and compare the rows that chose each")
    boolean generation;

    @Option(names = "--tolerance", paramLabel = "X", defaultValue = "1e-3",
            description = "largest acceptable max |Δ| (default: ${DEFAULT-VALUE})")
    double tolerance;

    @Option(names = "--sequential", description = "feed one token per forward pass instead of one batch")
    boolean sequential;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int[] prompt = ReferenceLogits.readIds(tokensFile);
        int[] tokens = prompt;
        float[][] expected;
        int firstRow;
        if (generation) {
            ReferenceLogits.Generation gen = ReferenceLogits.readGeneration(logitsFile);
            tokens = new int[prompt.length + gen.tokens().length];
            System.arraycopy(prompt, 0, tokens, 0, prompt.length);
            System.arraycopy(gen.tokens(), 0, tokens, prompt.length, gen.tokens().length);
            expected = gen.logits();
            firstRow = prompt.length - 1;
        } else {
            expected = ReferenceLogits.read(logitsFile);
            firstRow = 0;
            if (expected.length != tokens.length) {
                throw BitnetException.usage(logitsFile + " has " + expected.length + " rows but " + tokensFile + " has "
                        + tokens.length + " tokens");
            }
        }
        try (LanguageModel lm = Models.open(modelOptions, System.getenv())) {
            int vocab = lm.model().config().vocabSize();
            if (expected[0].length != vocab) {
                throw BitnetException.usage(logitsFile + " has " + expected[0].length + " logits per row but the model's "
                        + "vocabulary has " + vocab);
            }
            float[][] ours = evaluate(lm.forwardPass(), tokens, vocab, firstRow, expected.length);
            LogitsComparison cmp = LogitsComparison.compare(ours, expected);
            out.printf("%-5s %-12s %-12s %-8s%n", "pos", "max|Δ|", "rms", "argmax");
            for (int i = 0; i < cmp.positions(); i++) {
                out.printf(Locale.ROOT, "%-5d %-12.3e %-12.3e %s%n", firstRow + i, cmp.maxAbsPerPosition()[i],
                        cmp.rmsPerPosition()[i], cmp.argmaxAgrees()[i] ? "=" : cmp.ourArgmax()[i] + " vs "
                                + cmp.referenceArgmax()[i]);
            }
            boolean pass = cmp.maxAbs() <= tolerance;
            out.printf(Locale.ROOT, "max |Δ| %.3e, rms %.3e, argmax %d/%d: %s (tolerance %.1e)%n", cmp.maxAbs(),
                    cmp.rms(), cmp.argmaxAgreements(), cmp.positions(), pass ? "PASS" : "FAIL", tolerance);
            out.flush();
            return pass ? 0 : 1;
        }
    }

    private float[][] evaluate(ForwardPass pass, int[] tokens, int vocab, int firstRow, int rows) {
        KvCache cache = pass.newCache(tokens.length);
        float[][] ours = new float[rows][];
        if (sequential) {
            float[] logits = new float[vocab];
            for (int i = 0; i < firstRow + rows; i++) {
                pass.forward(cache, tokens, i, 1, i, logits, false);
                if (i >= firstRow) {
                    ours[i - firstRow] = logits.clone();
                }
            }
        } else {
            float[] all = new float[tokens.length * vocab];
            pass.forward(cache, tokens, 0, tokens.length, 0, all, true);
            for (int r = 0; r < rows; r++) {
                ours[r] = java.util.Arrays.copyOfRange(all, (firstRow + r) * vocab, (firstRow + r + 1) * vocab);
            }
        }
        return ours;
    }
}
