package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.BitnetException;
import io.bitnet4j.eval.Perplexity;
import io.bitnet4j.generate.LanguageModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet perplexity -f FILE}: llama.cpp's perplexity over a text file. */
@Command(name = "perplexity", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Perplexity of a model on a text file (chunks of -c tokens, second half of each scored).")
final class PerplexityCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "text file")
    Path file;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "most chunks to evaluate, -1 = all")
    int maxChunks;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw BitnetException.usage("text file not found: " + file + " (-f)");
        }
        try (LanguageModel lm = Models.open(modelOptions, System.getenv())) {
            int context = lm.contextLength();
            int[] tokens = lm.tokenizer().encode(text, true, false);
            int bos = lm.tokenizer().addBos() ? lm.tokenizer().bos() : -1;
            long start = System.nanoTime();
            Perplexity.Result r = Perplexity.compute(lm.forwardPass(), tokens, context,
                    modelOptions.batchSize, bos, maxChunks, p -> {
                        if (!json) {
                            out.printf(Locale.ROOT, "[%d]%.4f,", p.chunk(), p.perplexity());
                            out.flush();
                        }
                    });
            double seconds = (System.nanoTime() - start) / 1e9;
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode root = mapper.createObjectNode();
                root.put("file", file.toString());
                root.put("tokens", tokens.length);
                root.put("context", r.contextLength());
                root.put("chunks", r.chunks());
                root.put("scored_tokens", r.scoredTokens());
                root.put("mean_nll", r.meanNll());
                root.put("perplexity", r.perplexity());
                root.put("std_error", r.stdError());
                root.put("seconds", seconds);
                out.println(mapper.writeValueAsString(root));
            } else {
                out.println();
                out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f (mean NLL %.5f nats over %d tokens, "
                                + "%d chunks of %d, %.1f s)%n", r.perplexity(), r.stdError(), r.meanNll(),
                        r.scoredTokens(), r.chunks(), r.contextLength(), seconds);
            }
            out.flush();
            return 0;
        }
    }
}
