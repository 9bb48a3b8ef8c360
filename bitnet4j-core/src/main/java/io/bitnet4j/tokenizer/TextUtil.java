package io.bitnet4j.tokenizer;

/** Small text helpers shared by the tokenizers. */
final class TextUtil {
    private TextUtil() {
    }

    /**
     * Writes the code points of {@code text[from, to)} to {@code w.cps} (growing it) and returns their number.
     * A lone surrogate, which UTF-8 text cannot contain, becomes U+FFFD.
     */
    static int codePoints(String text, int from, int to, BpeTokenizer.Work w) {
        int[] cps = w.cps;
        if (cps.length < to - from) {
            cps = w.cps = new int[to - from];
        }
        int n = 0;
        for (int i = from; i < to; ) {
            char c = text.charAt(i++);
            int cp = c;
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i < to && Character.isLowSurrogate(text.charAt(i))) {
                    cp = Character.toCodePoint(c, text.charAt(i++));
                } else {
                    cp = 0xFFFD;
                }
            }
            cps[n++] = cp;
        }
        return n;
    }

    /** Number of UTF-8 bytes of a string (lone surrogates count as U+FFFD). */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
