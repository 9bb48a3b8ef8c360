package io.bitnet4j;

/**
 * The one exception family of bitnet4j. Every failure a user can cause (a damaged file, a model that does not
 * match its metadata, a bad argument) is one of these, with a message that names the file, tensor, key or flag
 * and says what was expected. Front ends print {@link #getMessage()} as one line and exit with {@link #exitCode()}.
 */
public class BitnetException extends RuntimeException {
    private final Kind kind;

    /** Stable categories with stable process exit codes. */
    public enum Kind {
        /** Wrong or missing command-line argument or option value. */
        USAGE(2),
        /** A file that cannot be read or is not a valid GGUF (or other input format). */
        INVALID_FILE(3),
        /** A readable file whose model does not fit together: missing tensor, wrong shape, unknown architecture. */
        INVALID_MODEL(4),
        /** A valid file using something bitnet4j does not implement (e.g. TL1/TL2). */
        UNSUPPORTED(5),
        /** A request that cannot be served as asked (context full, prompt too long). */
        LIMIT(6),
        /** Input/output failure of the operating system. */
        IO(7);

        private final int exitCode;

        Kind(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    public BitnetException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public BitnetException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public int exitCode() {
        return kind.exitCode();
    }

    public static BitnetException usage(String message) {
        return new BitnetException(Kind.USAGE, message);
    }

    public static BitnetException invalidFile(String message) {
        return new BitnetException(Kind.INVALID_FILE, message);
    }

    public static BitnetException invalidModel(String message) {
        return new BitnetException(Kind.INVALID_MODEL, message);
    }

    public static BitnetException unsupported(String message) {
        return new BitnetException(Kind.UNSUPPORTED, message);
    }

    public static BitnetException limit(String message) {
        return new BitnetException(Kind.LIMIT, message);
    }

    public static BitnetException io(String message, Throwable cause) {
        return new BitnetException(Kind.IO, message, cause);
    }
}
