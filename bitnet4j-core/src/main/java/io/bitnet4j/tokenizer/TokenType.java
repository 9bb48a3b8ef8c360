package io.bitnet4j.tokenizer;

/**
 * The token types of {@code tokenizer.ggml.token_type}, with their GGUF codes (llama.cpp {@code llama_token_type}).
 * They decide which tokens count as special text and how a token is turned back into bytes.
 */
public enum TokenType {
    /** Code 0: no type given; decodes to nothing. */
    UNDEFINED(0),
    /** Code 1: ordinary text. */
    NORMAL(1),
    /** Code 2: the unknown token, e.g. {@code <unk>}; special. */
    UNKNOWN(2),
    /** Code 3: a control token such as BOS, EOS or {@code <|eot_id|>}; special. */
    CONTROL(3),
    /** Code 4: a token added by the model's authors; always matched in input text and printed verbatim. */
    USER_DEFINED(4),
    /** Code 5: an unused slot; decodes to nothing. */
    UNUSED(5),
    /** Code 6: a SentencePiece byte-fallback token {@code <0xNN>}. */
    BYTE(6);

    private static final TokenType[] BY_CODE = values();

    private final int code;

    TokenType(int code) {
        this.code = code;
    }

    /** The value stored in GGUF files. */
    public int code() {
        return code;
    }

    /** The type with this GGUF code, or null if the code is not one. */
    public static TokenType fromCode(long code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[(int) code] : null;
    }

    /** Control and unknown tokens: skipped in plain text unless special parsing is asked for. */
    public boolean isSpecial() {
        return this == CONTROL || this == UNKNOWN;
    }
}
