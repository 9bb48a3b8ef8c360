package io.bitnet4j.generate;

import io.bitnet4j.BitnetException;
import io.bitnet4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How a conversation is written as text for the model (spec §5.3). Turns are rendered incrementally: the system
 * prompt once, then each user message followed by the prefix of the assistant's answer. The model's answer ends with
 * an end-of-generation token; if it ends otherwise, {@link #assistantEnd()} closes it.
 */
public enum ChatTemplate {
    /**
     * BitNet b1.58 2B-4T as trained (its Hugging Face template): {@code Role: content<|eot_id|>} per message and
     * {@code Assistant: } to answer.
     */
    BITNET("System: %s<|eot_id|>", "User: %s<|eot_id|>Assistant: ", "<|eot_id|>", List.of()),
    /**
     * bitnet.cpp's rendering of the template in the GGUF (its hard-coded {@code bitnet} branch): the system prompt
     * without a separator, for parity with llama-cli -cnv.
     */
    BITNET_CPP("System: %s", "User: %s<|eot_id|>Assistant: ", "", List.of()),
    /** Llama 3 header format. */
    LLAMA3("<|start_header_id|>system<|end_header_id|>\n\n%s<|eot_id|>",
            "<|start_header_id|>user<|end_header_id|>\n\n%s<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            "<|eot_id|>", List.of()),
    /** Plain text for vocabularies without chat tokens (e.g. small story models). */
    PLAIN("%s\n", "User: %s\nAssistant:", "\n", List.of("\nUser:"));

    private final String system;
    private final String user;
    private final String assistantEnd;
    private final List<String> stopStrings;

    ChatTemplate(String system, String user, String assistantEnd, List<String> stopStrings) {
        this.system = system;
        this.user = user;
        this.assistantEnd = assistantEnd;
        this.stopStrings = stopStrings;
    }

    /** The text of a system prompt (empty for none). */
    public String renderSystem(String content) {
        return content == null || content.isBlank() ? "" : String.format(Locale.ROOT, system, content.strip());
    }

    /** A user message and the start of the assistant's answer. */
    public String renderUser(String content) {
        return String.format(Locale.ROOT, user, content.strip());
    }

    /** What closes an assistant message that did not end with an end-of-generation token. */
    public String assistantEnd() {
        return assistantEnd;
    }

    /** Text that ends an answer in templates without an end-of-turn token. */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** The template for a name given on the command line. */
    public static ChatTemplate forName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bitnet" -> BITNET;
            case "bitnet-cpp" -> BITNET_CPP;
            case "llama3" -> LLAMA3;
            case "plain" -> PLAIN;
            default -> throw BitnetException.usage("unknown chat template '" + name
                    + "' (bitnet, bitnet-cpp, llama3, plain)");
        };
    }

    /**
     * The template for a model: Llama 3 headers if its template uses them, the BitNet format if its template or
     * vocabulary is BitNet's, plain text if the vocabulary has no end-of-turn token.
     */
    public static ChatTemplate detect(Optional<String> modelTemplate, Tokenizer tokenizer) {
        String t = modelTemplate.orElse("");
        if (t.contains("<|start_header_id|>")) {
            return LLAMA3;
        }
        boolean hasEot = tokenizer.tokenId("<|eot_id|>") >= 0;
        if (hasEot && (t.contains("BITNET") || t.contains("Assistant: ") || t.isEmpty())) {
            return BITNET;
        }
        if (hasEot && tokenizer.tokenId("<|start_header_id|>") >= 0) {
            return LLAMA3;
        }
        return hasEot ? BITNET : PLAIN;
    }
}
