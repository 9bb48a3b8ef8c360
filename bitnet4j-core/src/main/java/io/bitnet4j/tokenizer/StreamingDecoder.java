package io.bitnet4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token ids into text as they are generated. A token may end in the middle of a UTF-8 character (byte-level
 * BPE splits emoji and CJK characters across tokens; SentencePiece spells rare characters with {@code <0xNN>}
 * tokens); such bytes are held back until the character is complete, so {@link #feed} never returns half a
 * character or a replacement character for one. Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean special;
    private byte[] pending = new byte[16];
    private int size;

    StreamingDecoder(Tokenizer tokenizer, boolean special) {
        this.tokenizer = tokenizer;
        this.special = special;
    }

    /** Adds one token and returns the text completed by it (possibly empty). */
    public String feed(int id) {
        byte[] piece = tokenizer.piece(id, special);
        if (size + piece.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, size + piece.length));
        }
        System.arraycopy(piece, 0, pending, size, piece.length);
        size += piece.length;
        int complete = completeLength(pending, size);
        if (complete == 0) {
            return "";
        }
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, size - complete);
        size -= complete;
        return text;
    }

    /** Returns what is still held back (an unfinished character becomes U+FFFD) and empties the decoder. */
    public String flush() {
        String text = new String(pending, 0, size, StandardCharsets.UTF_8);
        size = 0;
        return text;
    }

    /** Number of bytes held back for an unfinished character. */
    public int pendingBytes() {
        return size;
    }

    /**
     * The length of the longest prefix that does not end inside a UTF-8 character that more bytes could still
     * complete. Bytes that can never form a character are let through (they decode to U+FFFD).
     */
    static int completeLength(byte[] b, int n) {
        for (int k = n - 1; k >= 0 && k >= n - 4; k--) {
            int x = b[k] & 0xFF;
            if ((x & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead byte
            }
            int need = x >= 0xF8 ? 1 : x >= 0xF0 ? 4 : x >= 0xE0 ? 3 : x >= 0xC0 ? 2 : 1;
            return n - k < need ? k : n;
        }
        return n;
    }
}
