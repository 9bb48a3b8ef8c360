package io.bitnet4j.tokenizer;

import io.bitnet4j.BitnetException;
import java.util.List;
import java.util.Locale;

/**
 * A {@code tokenizer.ggml.pre} name resolved as llama.cpp's {@code llama_vocab::load} resolves it: the splitting,
 * whether a word that is itself a token skips the merges ({@code ignore_merges}), whether BOS is added unless the
 * metadata says otherwise, and whether detokenizing cleans spaces before punctuation ({@code clean_spaces}).
 *
 * @param name         the name as given
 * @param type         the splitting
 * @param ignoreMerges emit a whole word directly when it is a token
 * @param addBos       the add-BOS default before {@code tokenizer.ggml.add_bos_token} is applied
 * @param cleanSpaces  whether {@link Tokenizer#detokenize} applies llama.cpp's space clean-up
 */
public record PreTokenizerChoice(String name, PreTokenizerType type, boolean ignoreMerges, boolean addBos,
                                 boolean cleanSpaces) {

    /** The names this implementation accepts (llama.cpp's names whose splitting is implemented). */
    public static final List<String> SUPPORTED = List.of(
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon_e", "dbrx", "smaug-bpe", "default",
            "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
            "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "falcon", "starcoder", "refact", "command-r",
            "smollm", "codeshell", "exaone", "minerva-7b");

    /** Names llama.cpp knows whose regexes this implementation does not (yet) run. */
    private static final List<String> KNOWN_UNSUPPORTED = List.of(
            "deepseek-llm", "deepseek-coder", "deepseek-v3", "qwen2", "deepseek-r1-qwen", "stablelm2",
            "poro-chat", "chatglm-bpe", "viking", "tekken", "bloom", "gpt3-finnish", "chameleon", "megrez");

    /**
     * Resolves a pre-tokenizer name.
     *
     * @param where names the source of the name in errors (e.g. a file and key, or a command-line flag)
     * @throws BitnetException UNSUPPORTED for names llama.cpp knows but this code does not run, USAGE or
     *                         INVALID_MODEL (by {@code where}) for unknown names
     */
    public static PreTokenizerChoice forName(String name, String where, BitnetException.Kind unknownKind) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon_e" ->
                    new PreTokenizerChoice(name, PreTokenizerType.LLAMA3, true, true, true);
            case "dbrx", "smaug-bpe" -> new PreTokenizerChoice(name, PreTokenizerType.LLAMA3, false, false, true);
            case "default" -> new PreTokenizerChoice(name, PreTokenizerType.DEFAULT, false, false, true);
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
                 "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais" ->
                    new PreTokenizerChoice(name, PreTokenizerType.GPT2, false, false, true);
            case "falcon" -> new PreTokenizerChoice(name, PreTokenizerType.FALCON, false, false, true);
            case "starcoder", "refact", "codeshell", "exaone", "minerva-7b" ->
                    new PreTokenizerChoice(name, PreTokenizerType.STARCODER, false, false, true);
            case "command-r", "smollm" -> new PreTokenizerChoice(name, PreTokenizerType.STARCODER, false, false, false);
            default -> {
                if (KNOWN_UNSUPPORTED.contains(n)) {
                    throw BitnetException.unsupported(where + ": pre-tokenizer '" + name
                            + "' is not supported (supported: " + String.join(", ", SUPPORTED) + ")");
                }
                throw new BitnetException(unknownKind, where + ": unknown pre-tokenizer '" + name
                        + "' (supported: " + String.join(", ", SUPPORTED) + ")");
            }
        };
    }
}
