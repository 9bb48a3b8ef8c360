package io.bitnet4j.tokenizer;

import java.util.Arrays;

/**
 * Byte-level BPE (llama.cpp's {@code LLAMA_VOCAB_TYPE_BPE}, {@code tokenizer.ggml.model = gpt2}): each word from
 * the pre-tokenizer is turned into UTF-8 bytes, every byte into its GPT-2 character, and adjacent symbols are
 * merged, lowest merge rank first and leftmost first on ties, until no listed merge applies. With
 * {@code ignoreMerges} (Llama 3) a word that is itself a token is emitted as it is.
 *
 * <p>Symbols carry token ids, and merges are looked up by packed id pairs, so the merge loop builds no strings.
 * Thread-safe: all working state lives in a per-call {@link Work}.
 */
final class BpeTokenizer {
    private static final int DEAD = Integer.MIN_VALUE;

    private final TokenMap tokens;
    private final MergeTable merges;
    private final PreTokenizerType preTokenizer;
    private final boolean ignoreMerges;
    /** Token id of each single byte's GPT-2 character, or -1. */
    private final int[] byteTokens = new int[256];

    BpeTokenizer(TokenMap tokens, MergeTable merges, PreTokenizerType preTokenizer, boolean ignoreMerges) {
        this.tokens = tokens;
        this.merges = merges;
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = tokens.get(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
        }
    }

    /** Number of bytes (of 256) that have no token of their own; such bytes are dropped, as in llama.cpp. */
    int missingByteTokens() {
        int missing = 0;
        for (int id : byteTokens) {
            if (id < 0) {
                missing++;
            }
        }
        return missing;
    }

    /** Per-call scratch buffers. */
    static final class Work {
        int[] cps = new int[256];
        IntList ends = new IntList(64);
        char[] chars = new char[64];
        int[] bytes = new int[64];
        int[] ids = new int[64];
        int[] next = new int[64];
        int[] prev = new int[64];
        long[] heap = new long[64];
        int heapSize;

        void ensureWord(int n) {
            if (chars.length < n) {
                int size = Math.max(n, chars.length * 2);
                chars = new char[size];
                bytes = new int[size];
                ids = new int[size];
                next = new int[size];
                prev = new int[size];
            }
        }
    }

    /** Appends the tokens of {@code text[from, to)} (ordinary text, no special tokens) to {@code out}. */
    void encode(String text, int from, int to, Work w, IntList out) {
        int n = TextUtil.codePoints(text, from, to, w);
        w.ends.clear();
        preTokenizer.split(w.cps, n, w.ends);
        int start = 0;
        for (int k = 0; k < w.ends.size(); k++) {
            int end = w.ends.get(k);
            encodeWord(w.cps, start, end, w, out);
            start = end;
        }
    }

    private void encodeWord(int[] cps, int start, int end, Work w, IntList out) {
        w.ensureWord((end - start) * 4);
        char[] chars = w.chars;
        int[] bytes = w.bytes;
        int len = 0;
        for (int i = start; i < end; i++) {
            int cp = cps[i];
            if (cp < 0x80) {
                bytes[len] = cp;
                chars[len++] = ByteLevel.BYTE_TO_CHAR[cp];
            } else if (cp < 0x800) {
                len = put(chars, bytes, len, 0xC0 | (cp >> 6));
                len = put(chars, bytes, len, 0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                len = put(chars, bytes, len, 0xE0 | (cp >> 12));
                len = put(chars, bytes, len, 0x80 | ((cp >> 6) & 0x3F));
                len = put(chars, bytes, len, 0x80 | (cp & 0x3F));
            } else {
                len = put(chars, bytes, len, 0xF0 | (cp >> 18));
                len = put(chars, bytes, len, 0x80 | ((cp >> 12) & 0x3F));
                len = put(chars, bytes, len, 0x80 | ((cp >> 6) & 0x3F));
                len = put(chars, bytes, len, 0x80 | (cp & 0x3F));
            }
        }
        if (ignoreMerges) {
            int id = tokens.get(chars, 0, len);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        if (len == 1) {
            int id = byteTokens[bytes[0]];
            if (id >= 0) {
                out.add(id);
            }
            return;
        }
        merge(len, w, out);
    }

    private static int put(char[] chars, int[] bytes, int len, int b) {
        bytes[len] = b;
        chars[len] = ByteLevel.BYTE_TO_CHAR[b];
        return len + 1;
    }

    private void merge(int n, Work w, IntList out) {
        int[] ids = w.ids;
        int[] next = w.next;
        int[] prev = w.prev;
        for (int i = 0; i < n; i++) {
            ids[i] = byteTokens[w.bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1;
        }
        next[n - 1] = -1;
        w.heapSize = 0;
        for (int i = 1; i < n; i++) {
            push(w, i - 1, i);
        }
        while (w.heapSize > 0) {
            long key = pop(w);
            int rank = (int) (key >>> 32);
            int left = (int) key;
            int right = next[left];
            if (ids[left] == DEAD || right < 0) {
                continue;
            }
            // A rank names one pair of ids, so an unchanged rank means both symbols are as when queued.
            if (merges.rank(ids[left], ids[right]) != rank) {
                continue;
            }
            ids[left] = merges.result(rank);
            ids[right] = DEAD;
            int after = next[right];
            next[left] = after;
            if (after >= 0) {
                prev[after] = left;
            }
            if (prev[left] >= 0) {
                push(w, prev[left], left);
            }
            if (after >= 0) {
                push(w, left, after);
            }
        }
        for (int i = 0; i != -1; i = next[i]) {
            if (ids[i] >= 0) {
                out.add(ids[i]);
            }
            // a byte without a token of its own: llama.cpp looks its UTF-8 bytes up one by one, which finds
            // nothing for a byte-level vocabulary, so it is dropped
        }
    }

    private void push(Work w, int left, int right) {
        int rank = merges.rank(w.ids[left], w.ids[right]);
        if (rank < 0) {
            return;
        }
        long key = ((long) rank << 32) | left;
        if (w.heapSize == w.heap.length) {
            w.heap = Arrays.copyOf(w.heap, w.heap.length * 2);
        }
        long[] heap = w.heap;
        int i = w.heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    private static long pop(Work w) {
        long[] heap = w.heap;
        long top = heap[0];
        long last = heap[--w.heapSize];
        int size = w.heapSize;
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= last) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        if (size > 0) {
            heap[i] = last;
        }
        return top;
    }
}
