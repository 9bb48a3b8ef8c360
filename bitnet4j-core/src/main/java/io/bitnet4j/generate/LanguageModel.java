package io.bitnet4j.generate;

import io.bitnet4j.engine.CpuForwardPass;
import io.bitnet4j.engine.ForwardPass;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.engine.Session;
import io.bitnet4j.model.Model;
import io.bitnet4j.tokenizer.Tokenizer;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.nio.file.Path;

/**
 * A model ready to generate: the mapped weights, the tokenizer from the same file, and a forward pass. The entry
 * point for library users:
 * <pre>{@code
 * try (LanguageModel lm = LanguageModel.open(Path.of("model.gguf"))) {
 *     Generator g = lm.newGenerator();
 *     int[] prompt = lm.tokenizer().encode("Once upon a time", true, false);
 *     GenerationResult r = g.generate(new GenerationRequest(prompt, 64, SamplerSettings.greedy()), System.out::print);
 * }
 * }</pre>
 */
public final class LanguageModel implements AutoCloseable {
    private final Model model;
    private final Tokenizer tokenizer;
    private final ForwardPass forwardPass;
    private final InferenceOptions options;
    private final long loadNanos;

    private LanguageModel(Model model, Tokenizer tokenizer, ForwardPass forwardPass, InferenceOptions options,
                          long loadNanos) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.forwardPass = forwardPass;
        this.options = options;
        this.loadNanos = loadNanos;
    }

    public static LanguageModel open(Path path) {
        return open(path, Model.LoadOptions.DEFAULT, TokenizerOptions.DEFAULT, InferenceOptions.defaults());
    }

    public static LanguageModel open(Path path, Model.LoadOptions loadOptions, TokenizerOptions tokenizerOptions,
                                     InferenceOptions options) {
        long start = System.nanoTime();
        Model model = Model.load(path, loadOptions);
        try {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.file().metadata(), tokenizerOptions);
            ForwardPass pass = new CpuForwardPass(model, options);
            return new LanguageModel(model, tokenizer, pass, options, System.nanoTime() - start);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ForwardPass forwardPass() {
        return forwardPass;
    }

    /** Time taken to map the file, bind the weights and build the tokenizer. */
    public long loadNanos() {
        return loadNanos;
    }

    /** The context length sessions get by default (-c, or the model's, capped at 4096). */
    public int contextLength() {
        return options.effectiveContext(model.config().contextLength());
    }

    public Session newSession() {
        return new Session(forwardPass, contextLength());
    }

    public Generator newGenerator() {
        return new Generator(newSession(), tokenizer);
    }

    @Override
    public void close() {
        forwardPass.close();
        model.close();
    }
}
