package io.bitnet4j.model;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufReadOptions;
import io.bitnet4j.tensor.I2SFormat;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * A loaded model: the mapped GGUF file, its validated config and its weights. Closing the model unmaps the file.
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Weights weights;
    private final Arena derived;

    private Model(GgufFile file, ModelConfig config, Weights weights, Arena derived) {
        this.file = file;
        this.config = config;
        this.weights = weights;
        this.derived = derived;
    }

    /**
     * Options of {@link #load}: how to read the file, which I2_S packing it uses, the type to re-quantize the output
     * head to at load (null: use it as stored, the faithful default), and whether to repack weights into the layout
     * the fast kernels like best (TQ1_0's base-3 digits into TQ2_0's 2-bit codes: the same values, 22% more
     * memory, several times faster to multiply), and whether that includes interleaving the rows of I2S-128 and
     * TQ2_0 matrices in blocks of 32 for the lookup kernel (the same bytes reordered; only worth it where that
     * kernel runs).
     */
    public record LoadOptions(GgufReadOptions readOptions, I2SFormat i2sLayout, GgmlType headType, boolean repack,
                              boolean interleaveRows) {
        public static final LoadOptions DEFAULT = new LoadOptions(GgufReadOptions.DEFAULT, I2SFormat.I2S_128, null,
                false, false);

        public LoadOptions(GgufReadOptions readOptions, I2SFormat i2sLayout) {
            this(readOptions, i2sLayout, null, false, false);
        }
    }

    public static Model load(Path path) {
        return load(path, LoadOptions.DEFAULT);
    }

    public static Model load(Path path, LoadOptions options) {
        GgufFile file = GgufFile.open(path, options.readOptions());
        try {
            return bind(file, options);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Binds a model to an already open file; the model takes ownership of it. */
    public static Model bind(GgufFile file, LoadOptions options) {
        int vocabFallback = file.metadata().optionalStringArray("tokenizer.ggml.tokens").map(List::size)
                .orElseGet(() -> file.tensorInfo("token_embd.weight").map(t -> (int) t.dim(1)).orElse(0));
        if (vocabFallback == 0 && !file.metadata().keys().stream().anyMatch(k -> k.endsWith(".vocab_size"))) {
            throw BitnetException.invalidModel(file.name() + ": cannot tell the vocabulary size (no vocab_size key, "
                    + "no tokenizer.ggml.tokens, no token_embd.weight)");
        }
        ModelConfig config = ModelConfig.fromMetadata(file.metadata(), vocabFallback);
        Weights weights = Weights.bind(file, config, options.i2sLayout());
        Arena derived = Arena.ofShared();
        if (options.headType() != null && options.headType() != weights.output().tensor().type()) {
            weights = weights.withOutput(MatrixReencoder.requantize(weights.output(), options.headType(), derived));
        }
        if (options.repack()) {
            weights = weights.withLayerMatrices(m -> m.tensor().type() == GgmlType.TQ1_0
                    ? MatrixReencoder.requantize(m, GgmlType.TQ2_0, derived) : m);
        }
        if (options.repack() && options.interleaveRows()) {
            weights = weights.withLayerMatrices(m -> MatrixReencoder.interleave(m, derived));
        }
        return new Model(file, config, weights, derived);
    }

    public GgufFile file() {
        return file;
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    @Override
    public void close() {
        derived.close();
        file.close();
    }
}
