package io.bitnet4j.tokenizer;

import java.util.Arrays;

/**
 * BPE merges by token ids: (left id, right id) packed in a long -> rank (position in
 * {@code tokenizer.ggml.merges}) and the id of the merged token. Open addressing, no boxing; a pair listed twice
 * keeps its first rank, as llama.cpp does.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final int[] ranks;
    private final int[] results;
    private final int mask;
    private int size;

    MergeTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        ranks = new int[capacity];
        results = new int[capacity];
        mask = capacity - 1;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slotOf(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    /** Adds a merge; returns false (and keeps the earlier one) if the pair is already there. */
    boolean put(int left, int right, int rank, int result) {
        long k = key(left, right);
        int slot = slotOf(k) & mask;
        while (keys[slot] != EMPTY) {
            if (keys[slot] == k) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = k;
        ranks[slot] = rank;
        results[slot] = result;
        size++;
        return true;
    }

    /** The slot of a pair, or -1 if the pair does not merge. */
    int find(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        long k = key(left, right);
        int slot = slotOf(k) & mask;
        while (true) {
            long existing = keys[slot];
            if (existing == k) {
                return slot;
            }
            if (existing == EMPTY) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    int rankAt(int slot) {
        return ranks[slot];
    }

    int resultAt(int slot) {
        return results[slot];
    }

    int size() {
        return size;
    }
}
