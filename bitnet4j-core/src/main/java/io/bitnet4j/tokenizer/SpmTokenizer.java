package io.bitnet4j.tokenizer;

import io.bitnet4j.BitnetException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SentencePiece BPE as llama.cpp runs it ({@code LLAMA_VOCAB_TYPE_SPM}, {@code tokenizer.ggml.model = llama}):
 * spaces become {@code ▁} (U+2581), the text starts as one symbol per character, and the adjacent pair whose
 * concatenation is the token with the highest score is merged (leftmost first on ties) until no pair is a token.
 * A final symbol that is not a token is spelled with byte-fallback tokens {@code <0xNN>}, one per UTF-8 byte.
 */
final class SpmTokenizer {
    static final char SPACE_MARK = '\u2581';

    private final String source;
    private final TokenMap tokens;
    private final float[] scores;
    /** Byte-fallback token of each byte ({@code <0xNN>}, else the one-character token of an ASCII byte), or -1. */
    private final int[] byteTokens = new int[256];
    private final int unk;

    SpmTokenizer(String source, TokenMap tokens, float[] scores, int unk) {
        this.source = source;
        this.tokens = tokens;
        this.scores = scores;
        this.unk = unk;
        for (int b = 0; b < 256; b++) {
            int id = tokens.get(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = tokens.get(String.valueOf((char) b));
            }
            byteTokens[b] = id;
        }
    }

    /** Per-call scratch state. */
    static final class Work {
        char[] buf = new char[64];
        int[] start = new int[64];
        int[] len = new int[64];
        int[] prev = new int[64];
        int[] next = new int[64];
        float[] eScore = new float[64];
        int[] eLeft = new int[64];
        int[] eRight = new int[64];
        int[] eSize = new int[64];
        int entries;
        int[] heap = new int[64];
        int heapSize;
    }

    /**
     * Appends the tokens of {@code text[from, to)} to {@code out}, with a leading {@code ▁} if {@code prefixSpace}.
     */
    void encode(String text, int from, int to, boolean prefixSpace, Work w, IntList out) {
        int n = to - from + (prefixSpace ? 1 : 0);
        if (n == 0) {
            return;
        }
        if (w.buf.length < n) {
            int size = Math.max(n, w.buf.length * 2);
            w.buf = new char[size];
            w.start = new int[size];
            w.len = new int[size];
            w.prev = new int[size];
            w.next = new int[size];
        }
        char[] buf = w.buf;
        int p = 0;
        if (prefixSpace) {
            buf[p++] = SPACE_MARK;
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) ? i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))
                        : i > from && Character.isHighSurrogate(text.charAt(i - 1));
                if (!paired) {
                    c = '\uFFFD'; // UTF-8 text cannot hold a lone surrogate
                }
            }
            buf[p++] = c == ' ' ? SPACE_MARK : c;
        }
        // one symbol per code point
        int symbols = 0;
        for (int i = 0; i < n; ) {
            int l = Character.isHighSurrogate(buf[i]) && i + 1 < n && Character.isLowSurrogate(buf[i + 1]) ? 2 : 1;
            w.start[symbols] = i;
            w.len[symbols] = l;
            w.prev[symbols] = symbols - 1;
            w.next[symbols] = symbols + 1;
            symbols++;
            i += l;
        }
        w.next[symbols - 1] = -1;
        w.entries = 0;
        w.heapSize = 0;
        for (int i = 1; i < symbols; i++) {
            tryAdd(w, i - 1, i);
        }
        int[] len = w.len;
        while (w.heapSize > 0) {
            int e = pop(w);
            int left = w.eLeft[e];
            int right = w.eRight[e];
            if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != w.eSize[e]) {
                continue; // one side has changed since this pair was queued
            }
            len[left] += len[right];
            len[right] = 0;
            int after = w.next[right];
            w.next[left] = after;
            if (after >= 0) {
                w.prev[after] = left;
            }
            tryAdd(w, w.prev[left], left);
            tryAdd(w, left, after);
        }
        for (int i = 0; i != -1; i = w.next[i]) {
            int id = tokens.get(buf, w.start[i], len[i]);
            if (id >= 0) {
                out.add(id);
            } else {
                byteFallback(new String(buf, w.start[i], len[i]), out);
            }
        }
    }

    private void byteFallback(String symbol, IntList out) {
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int id = byteTokens[b & 0xFF];
            if (id < 0) {
                id = unk;
            }
            if (id < 0) {
                throw BitnetException.invalidModel(String.format(
                        "%s: the vocabulary has no byte-fallback token <0x%02X> and no unknown token", source, b & 0xFF));
            }
            out.add(id);
        }
    }

    private void tryAdd(Work w, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int size = w.len[left] + w.len[right];
        int id = tokens.get(w.buf, w.start[left], size);
        if (id < 0) {
            return;
        }
        int e = w.entries++;
        if (e == w.eScore.length) {
            int cap = e * 2;
            w.eScore = Arrays.copyOf(w.eScore, cap);
            w.eLeft = Arrays.copyOf(w.eLeft, cap);
            w.eRight = Arrays.copyOf(w.eRight, cap);
            w.eSize = Arrays.copyOf(w.eSize, cap);
        }
        w.eScore[e] = scores[id];
        w.eLeft[e] = left;
        w.eRight[e] = right;
        w.eSize[e] = size;
        if (w.heapSize == w.heap.length) {
            w.heap = Arrays.copyOf(w.heap, w.heap.length * 2);
        }
        int[] heap = w.heap;
        int i = w.heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(w, e, heap[parent])) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = e;
    }

    /** Whether entry a is taken before entry b: higher score, then leftmost (scores compare as floats: -0 == 0). */
    private static boolean before(Work w, int a, int b) {
        float sa = w.eScore[a];
        float sb = w.eScore[b];
        if (sa != sb) {
            return sa > sb;
        }
        return w.eLeft[a] < w.eLeft[b];
    }

    private static int pop(Work w) {
        int[] heap = w.heap;
        int top = heap[0];
        int last = heap[--w.heapSize];
        int size = w.heapSize;
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && before(w, heap[child + 1], heap[child])) {
                child++;
            }
            if (!before(w, heap[child], last)) {
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
