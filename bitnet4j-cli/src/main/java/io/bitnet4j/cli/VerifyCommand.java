package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufReadOptions;
import io.bitnet4j.model.ModelConfig;
import io.bitnet4j.model.Weights;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tokenizer.Tokenizer;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bitnet verify FILE}: is this file sound, and does it hold everything a model load needs (a known
 * architecture, valid hyperparameters, every tensor with the right shape and a supported type, a tokenizer)?
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check a GGUF file's structure and that it loads as a model; exit 0 if so, else print one "
                + "line per problem.")
final class VerifyCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF file")
    Path file;

    @Option(names = "--strict", description = "also require contiguous tensor packing, as mainline llama.cpp does")
    boolean strict;

    @Option(names = "--i2s-layout", paramLabel = "N", defaultValue = "128", description = "I2_S packing: 128 or 64")
    int i2sLayout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        I2SFormat layout = switch (i2sLayout) {
            case 128 -> I2SFormat.I2S_128;
            case 64 -> I2SFormat.I2S_64;
            default -> throw BitnetException.usage("--i2s-layout must be 128 or 64, got " + i2sLayout);
        };
        try (GgufFile gguf = GgufFile.open(file, new GgufReadOptions(strict, null))) {
            List<String> problems = new ArrayList<>();
            ModelConfig config = null;
            try {
                int vocab = gguf.metadata().optionalStringArray("tokenizer.ggml.tokens").map(List::size)
                        .orElseGet(() -> gguf.tensorInfo("token_embd.weight").map(t -> (int) t.dim(1)).orElse(0));
                config = ModelConfig.fromMetadata(gguf.metadata(), vocab);
            } catch (BitnetException e) {
                problems.add(e.getMessage());
            }
            if (gguf.tensors().isEmpty()) {
                problems.add(file + ": has no tensors: a vocabulary-only file (usable by tokenize, not as a model)");
            } else if (config != null) {
                problems.addAll(Weights.problems(gguf, config, layout));
            }
            if (!gguf.metadata().contains("tokenizer.ggml.model")) {
                problems.add(file + ": no tokenizer (tokenizer.ggml.* keys): text cannot be encoded or decoded");
            } else {
                try {
                    Tokenizer.fromGguf(gguf.metadata(), TokenizerOptions.DEFAULT);
                } catch (BitnetException e) {
                    problems.add(e.getMessage());
                }
            }
            if (problems.isEmpty()) {
                out.printf("%s: OK (GGUF v%d, %d tensors, %s, %d layers)%n", file, gguf.version(),
                        gguf.tensors().size(), config.architectureName(), config.blockCount());
                out.flush();
                return 0;
            }
            for (String p : problems) {
                err.println("bitnet: error: " + p);
            }
            err.flush();
            return BitnetException.Kind.INVALID_MODEL.exitCode();
        }
    }
}
