package io.bitnet4j.tokenizer;

/**
 * GPT-2's reversible byte-to-character mapping used by byte-level BPE vocabularies: the printable bytes
 * 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for themselves; the other 68 bytes, in increasing order, become
 * U+0100, U+0101, ... (so a space is {@code Ġ} U+0120 and a newline {@code Ċ} U+010A). Every mapped character
 * is a single UTF-16 char.
 */
final class ByteLevel {
    /** Mapped character of each byte. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** Byte of each mapped character (index = char), or -1. Covers U+0000..U+0143. */
    static final short[] CHAR_TO_BYTE = new short[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {
    }

    /** The byte a mapped character stands for, or -1 if it is not in the GPT-2 alphabet. */
    static int byteOf(int codepoint) {
        return codepoint >= 0 && codepoint < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[codepoint] : -1;
    }

    /** The mapped string of raw bytes (e.g. for tests and tools). */
    static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }
}
