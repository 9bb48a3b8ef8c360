package io.bitnet4j.tokenizer;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Token text to id, an open-addressing hash table that can be probed with a slice of a {@code char[]} so that
 * encoding looks words up without building strings. All token texts live in one {@code char[]} pool, and each
 * slot packs the text's hash with its id, so a probe touches few cache lines. Hashes are
 * {@link String#hashCode()}. Immutable after construction.
 */
final class TokenMap {
    private static final long EMPTY = 0L;

    /** hash << 32 | (id + 1); 0 = empty. */
    private final long[] slots;
    private final char[] pool;
    /** Start of each token's text in the pool; the text ends where the next one starts. */
    private final int[] offsets;
    private final int mask;

    /**
     * Builds the map of {@code textOf(i) -> i} for the ids {@code [0, n)}. If a text occurs twice,
     * {@code duplicateOut[0]} and {@code duplicateOut[1]} receive the two ids of the first duplicate found and the
     * later id is not stored. {@code textOf} is called twice per id, to size the pool exactly: a grown pool left megabytes of
     * garbage that outlived the young generation and stayed resident.
     */
    TokenMap(int n, IntFunction<String> textOf, int[] duplicateOut) {
        offsets = new int[n + 1];
        long total = 0;
        for (int id = 0; id < n; id++) {
            offsets[id] = (int) total;
            total += textOf.apply(id).length();
            if (total > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("token texts too long");
            }
        }
        offsets[n] = (int) total;
        pool = new char[(int) total];
        int capacity = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
        slots = new long[capacity];
        mask = capacity - 1;
        duplicateOut[0] = -1;
        for (int id = 0; id < n; id++) {
            String text = textOf.apply(id);
            int start = offsets[id];
            int length = offsets[id + 1] - start;
            text.getChars(0, length, pool, start);
            int h = text.hashCode();
            int existing = find(h, pool, start, length);
            if (existing >= 0) {
                if (duplicateOut[0] < 0) {
                    duplicateOut[0] = existing;
                    duplicateOut[1] = id;
                }
                continue;
            }
            int slot = mix(h) & mask;
            while (slots[slot] != EMPTY) {
                slot = (slot + 1) & mask;
            }
            slots[slot] = ((long) h << 32) | (id + 1L);
        }
    }

    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** The text of a token. */
    String text(int id) {
        return new String(pool, offsets[id], offsets[id + 1] - offsets[id]);
    }

    /** The id of this text, or -1. */
    int get(String text) {
        char[] chars = text.toCharArray();
        return get(chars, 0, chars.length);
    }

    /** The id of the text {@code buf[off, off+len)}, or -1. */
    int get(char[] buf, int off, int len) {
        int h = 0;
        for (int i = off, end = off + len; i < end; i++) {
            h = 31 * h + buf[i];
        }
        return find(h, buf, off, len);
    }

    private int find(int h, char[] buf, int off, int len) {
        int slot = mix(h) & mask;
        while (true) {
            long s = slots[slot];
            if (s == EMPTY) {
                return -1;
            }
            if ((int) (s >>> 32) == h) {
                int id = (int) s - 1;
                int start = offsets[id];
                if (offsets[id + 1] - start == len
                        && Arrays.equals(pool, start, start + len, buf, off, off + len)) {
                    return id;
                }
            }
            slot = (slot + 1) & mask;
        }
    }
}
