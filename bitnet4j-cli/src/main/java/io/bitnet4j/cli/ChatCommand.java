package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.Session;
import io.bitnet4j.generate.ChatTemplate;
import io.bitnet4j.generate.GenerationRequest;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.Generator;
import io.bitnet4j.generate.LanguageModel;
import io.bitnet4j.generate.StopReason;
import io.bitnet4j.sampling.SamplerSettings;
import io.bitnet4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet chat}: an interactive conversation in the model's chat template, one line per message. */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Chat with a model: type a message, get an answer; /reset starts over, /exit or EOF ends.")
final class ChatCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Mixin
    SamplingOptions samplingOptions = new SamplingOptions();

    @Option(names = {"-sys", "--system-prompt"}, paramLabel = "TEXT", description = "system prompt")
    String systemPrompt;

    @Option(names = "--chat-template", paramLabel = "NAME", description = "bitnet (as 2B-4T was trained), bitnet-cpp "
            + "(llama-cli -cnv's rendering), llama3, plain (default: from the model)")
    String template;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "most tokens per answer, -1 = until end of turn (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (LanguageModel lm = Models.open(modelOptions, System.getenv())) {
            Tokenizer tokenizer = lm.tokenizer();
            ChatTemplate chat = template != null ? ChatTemplate.forName(template)
                    : ChatTemplate.detect(lm.model().file().metadata().optionalString("tokenizer.chat_template"),
                    tokenizer);
            SamplerSettings sampling = samplingOptions.settings(System.getenv());
            Generator generator = lm.newGenerator();
            Session session = generator.session();
            out.println("chat template: " + chat.name().toLowerCase(java.util.Locale.ROOT)
                    + "; /reset starts over, /exit or end of input quits");
            GenerationResult previous = null;
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    out.println();
                    return 0;
                }
                if (line.strip().equals("/reset")) {
                    generator.reset();
                    previous = null;
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                int[] turn = turnTokens(tokenizer, chat, session, previous, line);
                GenerationResult result;
                try {
                    result = generator.generate(new GenerationRequest(turn, maxTokens, chat.stopStrings(), sampling,
                            false), piece -> {
                                out.print(piece);
                                out.flush();
                            });
                } catch (BitnetException e) {
                    if (e.kind() == BitnetException.Kind.LIMIT) {
                        err.println("bitnet: the conversation has filled the context of " + session.capacity()
                                + " tokens; /reset to start over or raise -c");
                        err.flush();
                        continue;
                    }
                    throw e;
                }
                out.println();
                out.flush();
                if (result.stopReason() == StopReason.CONTEXT_FULL) {
                    err.println("bitnet: the context of " + session.capacity() + " tokens is full; /reset to start over "
                            + "or raise -c");
                    err.flush();
                }
                previous = result;
            }
        }
    }

    /**
     * The tokens of the next turn: what closes the previous answer (its end-of-generation token, which llama-cli
     * also feeds back, or the template's end marker), then the user message and the answer prefix. The first turn
     * starts with BOS and the system prompt.
     */
    private int[] turnTokens(Tokenizer tokenizer, ChatTemplate chat, Session session, GenerationResult previous,
                             String message) {
        StringBuilder text = new StringBuilder();
        boolean first = session.position() == 0;
        if (first) {
            text.append(chat.renderSystem(systemPrompt));
        } else if (previous != null && previous.stopReason() != StopReason.END_OF_GENERATION) {
            text.append(chat.assistantEnd());
        }
        text.append(chat.renderUser(message));
        int[] body = tokenizer.encode(text.toString(), first, true);
        if (!first && previous != null && previous.stopReason() == StopReason.END_OF_GENERATION) {
            int endOfTurn = tokenizer.eot() >= 0 ? tokenizer.eot() : tokenizer.eos();
            int[] withEnd = new int[body.length + 1];
            withEnd[0] = endOfTurn;
            System.arraycopy(body, 0, withEnd, 1, body.length);
            return withEnd;
        }
        return body;
    }
}
