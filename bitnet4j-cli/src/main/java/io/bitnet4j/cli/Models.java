package io.bitnet4j.cli;

import io.bitnet4j.generate.LanguageModel;
import io.bitnet4j.model.ModelConfig;
import java.nio.file.Path;
import java.util.Map;

/** Opens the model a command asked for and logs, once, what was loaded and how it will run. */
final class Models {
    private static final System.Logger LOG = System.getLogger("io.bitnet4j.cli");

    private Models() {
    }

    static LanguageModel open(ModelOptions options, Map<String, String> env) {
        Path path = options.resolveModel(env);
        LanguageModel lm = LanguageModel.open(path, options.loadOptions(), options.tokenizerOptions(),
                options.inferenceOptions());
        ModelConfig c = lm.model().config();
        LOG.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
                "%s: %s, %d layers, %d embd, %d heads (%d kv), vocab %d; loaded in %.0f ms", path.getFileName(),
                c.architectureName(), c.blockCount(), c.embeddingLength(), c.headCount(), c.headCountKv(),
                c.vocabSize(), lm.loadNanos() / 1e6));
        LOG.log(System.Logger.Level.INFO, "engine: " + lm.forwardPass().describe() + ", context "
                + lm.contextLength());
        return lm;
    }
}
