package io.bitnet4j.tokenizer;

import io.bitnet4j.BitnetException;
import java.util.Objects;

/**
 * Settings for building a {@link Tokenizer} from GGUF metadata.
 *
 * @param preTokenizerIfAbsent the {@code tokenizer.ggml.pre} name to use for byte-level BPE files that do not have
 *                             the key, such as the official BitNet b1.58 2B-4T GGUF. The default, {@code llama3},
 *                             is the Llama 3 split the model was trained with (as Hugging Face and ik_llama.cpp
 *                             tokenize); {@code default} is what bitnet.cpp and llama.cpp fall back to.
 */
public record TokenizerOptions(String preTokenizerIfAbsent) {
    /** {@code llama3} for files without a pre-tokenizer. */
    public static final TokenizerOptions DEFAULT = new TokenizerOptions("llama3");

    public TokenizerOptions {
        Objects.requireNonNull(preTokenizerIfAbsent, "preTokenizerIfAbsent");
        PreTokenizerChoice.forName(preTokenizerIfAbsent, "pre-tokenizer setting", BitnetException.Kind.USAGE);
    }
}
