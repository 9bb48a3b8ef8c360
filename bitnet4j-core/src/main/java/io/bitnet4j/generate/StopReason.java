package io.bitnet4j.generate;

/** Why generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (EOS, EOT, ...). */
    END_OF_GENERATION("eos"),
    /** The requested number of tokens was generated. */
    MAX_TOKENS("length"),
    /** A stop string appeared in the text. */
    STOP_STRING("stop"),
    /** The context is full: no room to process another token. */
    CONTEXT_FULL("context");

    private final String label;

    StopReason(String label) {
        this.label = label;
    }

    /** Short name used in JSON output. */
    public String label() {
        return label;
    }
}
