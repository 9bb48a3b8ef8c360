package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.BitnetException;
import io.bitnet4j.generate.GenerationRequest;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.Generator;
import io.bitnet4j.generate.LanguageModel;
import io.bitnet4j.generate.StopReason;
import io.bitnet4j.generate.Timings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet run}: generate text from a prompt, as llama-cli does without -cnv. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text from a prompt.")
final class RunCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Mixin
    SamplingOptions samplingOptions = new SamplingOptions();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "prompt text")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the prompt from a file")
    Path promptFile;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "128",
            description = "tokens to generate, -1 = until end of text or a full context (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop when this text appears (repeatable)")
    List<String> stops = new ArrayList<>();

    @Option(names = "--special", description = "turn special-token text in the prompt (e.g. <|eot_id|>) into tokens")
    boolean special;

    @Option(names = "--ignore-eos", description = "keep generating after end-of-generation tokens")
    boolean ignoreEos;

    @Option(names = "--no-display-prompt", description = "do not print the prompt before the generated text")
    boolean noDisplayPrompt;

    @Option(names = "--json", description = "print one JSON object (text, tokens, stop reason, timings) at the end "
            + "instead of streaming text")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String text = promptText();
        try (LanguageModel lm = Models.open(modelOptions, System.getenv())) {
            int[] ids = lm.tokenizer().encode(text, true, special);
            Generator generator = lm.newGenerator();
            GenerationRequest request = new GenerationRequest(ids, maxTokens, stops,
                    samplingOptions.settings(System.getenv()), ignoreEos);
            if (!json && !noDisplayPrompt) {
                out.print(text);
                out.flush();
            }
            GenerationResult result = generator.generate(request, piece -> {
                if (!json) {
                    out.print(piece);
                    out.flush();
                }
            });
            if (json) {
                out.println(toJson(text, ids, result, lm));
            } else {
                out.println();
            }
            out.flush();
            printTimings(err, lm, result);
            return 0;
        }
    }

    private String promptText() {
        if (prompt != null && promptFile != null) {
            throw BitnetException.usage("give either -p or -f, not both");
        }
        if (promptFile != null) {
            try {
                return Files.readString(promptFile, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw BitnetException.usage("prompt file not found: " + promptFile + " (-f)");
            } catch (IOException e) {
                throw BitnetException.io(promptFile + ": cannot read the prompt: " + e.getMessage(), e);
            }
        }
        return prompt == null ? "" : prompt;
    }

    static void printTimings(PrintWriter err, LanguageModel lm, GenerationResult result) {
        Timings t = result.timings();
        err.printf(Locale.ROOT, "bitnet: load %.0f ms | prompt %d tokens in %.1f ms (%.2f tok/s) | generated %d tokens"
                        + " in %.1f ms (%.2f tok/s) | first token after %.1f ms | stop: %s%n",
                lm.loadNanos() / 1e6, t.promptTokens(), t.promptMillis(), t.promptTokensPerSecond(),
                t.generatedTokens(), t.generationMillis(), t.generationTokensPerSecond(), t.timeToFirstTokenMillis(),
                describe(result.stopReason()));
        err.flush();
    }

    static String describe(StopReason reason) {
        return switch (reason) {
            case END_OF_GENERATION -> "end of text";
            case MAX_TOKENS -> "token limit (-n)";
            case STOP_STRING -> "stop string";
            case CONTEXT_FULL -> "context full (raise -c to generate more)";
        };
    }

    private static String toJson(String prompt, int[] promptIds, GenerationResult result, LanguageModel lm) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("prompt", prompt);
        root.putPOJO("prompt_tokens", promptIds);
        root.put("text", result.text());
        root.putPOJO("tokens", result.tokens());
        root.put("stop", result.stopReason().label());
        Timings t = result.timings();
        ObjectNode timings = root.putObject("timings");
        timings.put("load_ms", lm.loadNanos() / 1e6);
        timings.put("prompt_tokens", t.promptTokens());
        timings.put("prompt_ms", t.promptMillis());
        timings.put("prompt_tokens_per_second", t.promptTokensPerSecond());
        timings.put("generated_tokens", t.generatedTokens());
        timings.put("generation_ms", t.generationMillis());
        timings.put("generation_tokens_per_second", t.generationTokensPerSecond());
        timings.put("time_to_first_token_ms", t.timeToFirstTokenMillis());
        try {
            return mapper.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
