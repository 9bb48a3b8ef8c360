package io.bitnet4j.tokenizer;

import java.util.Arrays;

/**
 * BPE merges by token ids: (left id, right id) packed in a long -> rank (position in
 * {@code tokenizer.ggml.merges}); the merged token of each rank is kept in an array by rank. Open addressing
 * with linear probing at a load factor of at most 0.75, no boxing. A pair listed twice keeps its first rank, as
 * llama.cpp does.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final int[] ranks;
    private final int[] resultByRank;
    private final int mask;

    /**
     * @param resultByRank the merged token id of each rank
     */
    MergeTable(int[] resultByRank) {
        this.resultByRank = resultByRank;
        int capacity = Integer.highestOneBit(Math.max(4, resultByRank.length + resultByRank.length / 3)) << 1;
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        ranks = new int[capacity];
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
    boolean put(int left, int right, int rank) {
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
        return true;
    }

    /** The rank of a pair, or -1 if the pair does not merge. */
    int rank(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        long k = key(left, right);
        int slot = slotOf(k) & mask;
        while (true) {
            long existing = keys[slot];
            if (existing == k) {
                return ranks[slot];
            }
            if (existing == EMPTY) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The token a merge of this rank produces. */
    int result(int rank) {
        return resultByRank[rank];
    }
}
