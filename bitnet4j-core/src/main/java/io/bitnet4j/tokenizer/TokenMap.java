package io.bitnet4j.tokenizer;

/**
 * Token text to id, an open-addressing hash table that can be probed with a slice of a {@code char[]} so that
 * encoding looks words up without building strings. Hashes are {@link String#hashCode()}.
 */
final class TokenMap {
    private final String[] keys;
    private final int[] hashes;
    private final int[] values;
    private final int mask;

    /**
     * Builds the map of {@code tokens[i] -> i}. If a text occurs twice, {@code duplicateOut[0]} and
     * {@code duplicateOut[1]} receive the two ids of the first duplicate found and the later id is not stored.
     */
    TokenMap(String[] tokens, int[] duplicateOut) {
        int capacity = Integer.highestOneBit(Math.max(4, tokens.length * 2 - 1)) << 1;
        keys = new String[capacity];
        hashes = new int[capacity];
        values = new int[capacity];
        mask = capacity - 1;
        duplicateOut[0] = -1;
        for (int id = 0; id < tokens.length; id++) {
            String key = tokens[id];
            int h = key.hashCode();
            int slot = mix(h) & mask;
            while (true) {
                String existing = keys[slot];
                if (existing == null) {
                    keys[slot] = key;
                    hashes[slot] = h;
                    values[slot] = id;
                    break;
                }
                if (hashes[slot] == h && existing.equals(key)) {
                    if (duplicateOut[0] < 0) {
                        duplicateOut[0] = values[slot];
                        duplicateOut[1] = id;
                    }
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
    }

    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** The id of this text, or -1. */
    int get(String text) {
        int h = text.hashCode();
        int slot = mix(h) & mask;
        while (true) {
            String existing = keys[slot];
            if (existing == null) {
                return -1;
            }
            if (hashes[slot] == h && existing.equals(text)) {
                return values[slot];
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The id of the text {@code buf[off, off+len)}, or -1. */
    int get(char[] buf, int off, int len) {
        int h = 0;
        for (int i = off, end = off + len; i < end; i++) {
            h = 31 * h + buf[i];
        }
        int slot = mix(h) & mask;
        while (true) {
            String existing = keys[slot];
            if (existing == null) {
                return -1;
            }
            if (hashes[slot] == h && existing.length() == len && regionEquals(existing, buf, off, len)) {
                return values[slot];
            }
            slot = (slot + 1) & mask;
        }
    }

    private static boolean regionEquals(String s, char[] buf, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (s.charAt(i) != buf[off + i]) {
                return false;
            }
        }
        return true;
    }
}
