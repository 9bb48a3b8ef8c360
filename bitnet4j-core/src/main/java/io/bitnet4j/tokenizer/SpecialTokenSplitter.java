package io.bitnet4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Finds special-token text in input and cuts the input into raw-text fragments and token ids, with the result of
 * llama.cpp's {@code tokenizer_st_partition}: candidates are the CONTROL, UNKNOWN and USER_DEFINED tokens, taken
 * longest first (UTF-8 length; ties by id); each one claims its non-overlapping occurrences, left to right,
 * inside the text not yet claimed. Without special parsing only USER_DEFINED tokens are candidates.
 *
 * <p>Instead of one pass over the text per candidate, all occurrences are found in one pass with a trie and then
 * claimed in the same order, which gives the same cut.
 */
final class SpecialTokenSplitter {
    /** Fragment marker in the output: a token, followed by its id. */
    static final int TOKEN = -1;

    /** Candidate ids in claiming order. */
    private final int[] order;
    /** The UTF-16 length of each candidate's text, by rank. */
    private final int[] lengths;
    private final boolean[] userDefined;
    private final boolean anyUserDefined;
    private final Node root = new Node();
    private final boolean[] firstChar = new boolean[65536];

    /** @param textOf the text of each token id, for the ids of {@code types} */
    SpecialTokenSplitter(IntFunction<String> textOf, TokenType[] types) {
        List<Integer> candidates = new ArrayList<>();
        String[] texts = new String[types.length];
        int[] utf8 = new int[types.length];
        for (int id = 0; id < types.length; id++) {
            TokenType t = types[id];
            if (t == TokenType.CONTROL || t == TokenType.UNKNOWN || t == TokenType.USER_DEFINED) {
                candidates.add(id);
                texts[id] = textOf.apply(id);
                utf8[id] = TextUtil.utf8Length(texts[id]);
            }
        }
        candidates.sort((a, b) -> utf8[a] != utf8[b] ? Integer.compare(utf8[b], utf8[a]) : Integer.compare(a, b));
        order = candidates.stream().mapToInt(Integer::intValue).toArray();
        lengths = new int[order.length];
        userDefined = new boolean[order.length];
        boolean anyUser = false;
        for (int r = 0; r < order.length; r++) {
            int id = order[r];
            String text = texts[id];
            lengths[r] = text.length();
            userDefined[r] = types[id] == TokenType.USER_DEFINED;
            anyUser |= userDefined[r];
            insert(text, r);
        }
        anyUserDefined = anyUser;
    }

    /** Candidate ids in the order they claim text (for tests). */
    int[] candidates() {
        return order.clone();
    }

    private void insert(String text, int rank) {
        Node node = root;
        for (int i = 0; i < text.length(); i++) {
            node = node.childOrCreate(text.charAt(i));
        }
        node.rank = rank;
        firstChar[text.charAt(0)] = true;
    }

    /**
     * Cuts {@code text} into fragments, appended to {@code out} as pairs: {@code (start, end)} for raw text, or
     * {@code (TOKEN, id)} for a special token. Empty text gives no fragments.
     */
    void split(String text, boolean parseSpecial, IntList out) {
        int n = text.length();
        if (n == 0) {
            return;
        }
        if (order.length == 0 || (!parseSpecial && !anyUserDefined)) {
            out.add(0);
            out.add(n);
            return;
        }
        // every occurrence of every candidate, as (rank << 32 | start)
        long[] found = new long[16];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (!firstChar[text.charAt(i)]) {
                continue;
            }
            Node node = root;
            for (int j = i; j < n && node != null; j++) {
                node = node.child(text.charAt(j));
                if (node != null && node.rank >= 0 && (parseSpecial || userDefined[node.rank])) {
                    if (count == found.length) {
                        found = Arrays.copyOf(found, count * 2);
                    }
                    found[count++] = ((long) node.rank << 32) | i;
                }
            }
        }
        if (count == 0) {
            out.add(0);
            out.add(n);
            return;
        }
        Arrays.sort(found, 0, count);
        TreeMap<Integer, int[]> claimed = new TreeMap<>(); // start -> {end, id}
        int currentRank = -1;
        int lastEnd = 0;
        for (int k = 0; k < count; k++) {
            int rank = (int) (found[k] >>> 32);
            int start = (int) found[k];
            int id = order[rank];
            int end = start + lengths[rank];
            if (rank != currentRank) {
                currentRank = rank;
                lastEnd = 0;
            }
            if (start < lastEnd) {
                continue; // overlaps this token's previous match
            }
            Map.Entry<Integer, int[]> before = claimed.floorEntry(start);
            if (before != null && before.getValue()[0] > start) {
                continue;
            }
            Map.Entry<Integer, int[]> after = claimed.ceilingEntry(start);
            if (after != null && after.getKey() < end) {
                continue;
            }
            claimed.put(start, new int[] {end, id});
            lastEnd = end;
        }
        int pos = 0;
        for (Map.Entry<Integer, int[]> e : claimed.entrySet()) {
            if (e.getKey() > pos) {
                out.add(pos);
                out.add(e.getKey());
            }
            out.add(TOKEN);
            out.add(e.getValue()[1]);
            pos = e.getValue()[0];
        }
        if (pos < n) {
            out.add(pos);
            out.add(n);
        }
    }

    /** A trie node over UTF-16 chars; children in a sorted array. */
    private static final class Node {
        char[] keys = new char[0];
        Node[] kids = new Node[0];
        int rank = -1;

        Node child(char c) {
            int i = Arrays.binarySearch(keys, c);
            return i >= 0 ? kids[i] : null;
        }

        Node childOrCreate(char c) {
            int i = Arrays.binarySearch(keys, c);
            if (i >= 0) {
                return kids[i];
            }
            int at = -i - 1;
            char[] k = new char[keys.length + 1];
            Node[] d = new Node[kids.length + 1];
            System.arraycopy(keys, 0, k, 0, at);
            System.arraycopy(kids, 0, d, 0, at);
            k[at] = c;
            d[at] = new Node();
            System.arraycopy(keys, at, k, at + 1, keys.length - at);
            System.arraycopy(kids, at, d, at + 1, kids.length - at);
            keys = k;
            kids = d;
            return d[at];
        }
    }
}
