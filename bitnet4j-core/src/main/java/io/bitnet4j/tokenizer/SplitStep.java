package io.bitnet4j.tokenizer;

/**
 * One splitting stage of a pre-tokenizer. A stage receives a piece {@code cps[start, end)} of code points and
 * appends the exclusive end offsets of the sub-pieces that cover it, in order, each non-empty. Stages mirror
 * llama.cpp's {@code unicode_regex_split}: a regex's matches and the text between them both become pieces.
 */
interface SplitStep {
    void split(int[] cps, int start, int end, IntList ends);

    /** Flags of {@code cps[pos]} if {@code pos} lies in the piece, else 0 (llama.cpp's "out of range"). */
    static int flagsAt(int[] cps, int pos, int start, int end) {
        return pos >= start && pos < end ? UnicodeFlags.of(cps[pos]) : 0;
    }

    /**
     * llama.cpp's hand-written matcher for the Llama 3 regex
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}.
     */
    SplitStep LLAMA3 = (cps, start, end, ends) -> {
        final int wsLetterNumber = UnicodeFlags.WHITESPACE | UnicodeFlags.LETTER | UnicodeFlags.NUMBER;
        int pos = start;
        while (pos < end) {
            int cp = cps[pos];
            int flags = UnicodeFlags.of(cp);
            // contractions, case-insensitive ('s 't 'm 'd 're 've 'll)
            if (cp == '\'' && pos + 1 < end) {
                int next = asciiLower(cps[pos + 1]);
                if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                    pos += 2;
                    ends.add(pos);
                    continue;
                }
                if (pos + 2 < end) {
                    int next2 = asciiLower(cps[pos + 2]);
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                        pos += 3;
                        ends.add(pos);
                        continue;
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (cp != '\r' && cp != '\n' && (flags & UnicodeFlags.NUMBER) == 0
                    && ((flags & UnicodeFlags.LETTER) != 0 || (flagsAt(cps, pos + 1, start, end) & UnicodeFlags.LETTER) != 0)) {
                pos++;
                while (pos < end && (UnicodeFlags.of(cps[pos]) & UnicodeFlags.LETTER) != 0) {
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            // \p{N}{1,3}
            if ((flags & UnicodeFlags.NUMBER) != 0) {
                int chunkStart = pos;
                while (pos < end && (UnicodeFlags.of(cps[pos]) & UnicodeFlags.NUMBER) != 0) {
                    pos++;
                    if (pos - chunkStart == 3) {
                        ends.add(pos);
                        chunkStart = pos;
                    }
                }
                if (pos > chunkStart) {
                    ends.add(pos);
                }
                continue;
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            int flags2 = cp == ' ' ? flagsAt(cps, pos + 1, start, end) : flags;
            if ((flags2 & wsLetterNumber) == 0) {
                if (cp == ' ') {
                    pos++;
                }
                while (true) {
                    int f = flagsAt(cps, pos, start, end);
                    if (f == 0 || (f & wsLetterNumber) != 0) {
                        break;
                    }
                    pos++;
                }
                while (pos < end && (cps[pos] == '\r' || cps[pos] == '\n')) {
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            // whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
            int spaces = 0;
            int afterLastNewline = -1;
            while (pos + spaces < end && (UnicodeFlags.of(cps[pos + spaces]) & UnicodeFlags.WHITESPACE) != 0) {
                int c = cps[pos + spaces];
                if (c == '\r' || c == '\n') {
                    afterLastNewline = pos + spaces + 1;
                }
                spaces++;
            }
            if (afterLastNewline > 0) {
                pos = afterLastNewline;
            } else if (spaces > 1 && pos + spaces < end) {
                pos += spaces - 1;
            } else if (spaces > 0) {
                pos += spaces;
            } else {
                pos++;
            }
            ends.add(pos);
        }
    };

    /**
     * llama.cpp's hand-written matcher for the GPT-2 regex
     * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}.
     */
    SplitStep GPT2 = (cps, start, end, ends) -> {
        final int wsLetterNumber = UnicodeFlags.WHITESPACE | UnicodeFlags.LETTER | UnicodeFlags.NUMBER;
        int pos = start;
        while (pos < end) {
            int cp = cps[pos];
            int flags = UnicodeFlags.of(cp);
            if (cp == '\'' && pos + 1 < end) {
                int next = cps[pos + 1];
                if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                    pos += 2;
                    ends.add(pos);
                    continue;
                }
                if (pos + 2 < end) {
                    int next2 = cps[pos + 2];
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                        pos += 3;
                        ends.add(pos);
                        continue;
                    }
                }
            }
            int flags2 = cp == ' ' ? flagsAt(cps, pos + 1, start, end) : flags;
            int runClass = (flags2 & UnicodeFlags.LETTER) != 0 ? UnicodeFlags.LETTER
                    : (flags2 & UnicodeFlags.NUMBER) != 0 ? UnicodeFlags.NUMBER : 0;
            if (runClass != 0) {
                if (cp == ' ') {
                    pos++;
                }
                while (pos < end && (UnicodeFlags.of(cps[pos]) & runClass) != 0) {
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            if (flags2 != 0 && (flags2 & wsLetterNumber) == 0) {
                if (cp == ' ') {
                    pos++;
                }
                while (true) {
                    int f = flagsAt(cps, pos, start, end);
                    if (f == 0 || (f & wsLetterNumber) != 0) {
                        break;
                    }
                    pos++;
                }
                ends.add(pos);
                continue;
            }
            int spaces = 0;
            while (pos + spaces < end && (UnicodeFlags.of(cps[pos + spaces]) & UnicodeFlags.WHITESPACE) != 0) {
                spaces++;
            }
            if (spaces > 1 && pos + spaces < end) {
                pos += spaces - 1;
            } else if (spaces > 0) {
                pos += spaces;
            } else {
                pos++;
            }
            ends.add(pos);
        }
    };

    /** {@code [\p{P}\$\+<=>\^~\|]+}: runs of punctuation and these ASCII symbols, and the text between them. */
    SplitStep PUNCTUATION_RUNS = classRuns(false);

    /** Falcon's {@code [\p{P}\$\+<=>\^~\|`]+}: the same with the backtick. */
    SplitStep PUNCTUATION_RUNS_WITH_BACKTICK = classRuns(true);

    /** {@code \p{N}+}: runs of numbers and the text between them. */
    SplitStep NUMBER_RUNS = (cps, start, end, ends) -> {
        int pos = start;
        while (pos < end) {
            boolean number = isRegexNumber(cps[pos]);
            pos++;
            while (pos < end && isRegexNumber(cps[pos]) == number) {
                pos++;
            }
            ends.add(pos);
        }
    };

    /** {@code \p{N}}: every number alone, and the text between them. */
    SplitStep SINGLE_NUMBERS = (cps, start, end, ends) -> {
        int pos = start;
        while (pos < end) {
            if (isRegexNumber(cps[pos])) {
                ends.add(++pos);
                continue;
            }
            while (pos < end && !isRegexNumber(cps[pos])) {
                pos++;
            }
            ends.add(pos);
        }
    };

    /** {@code [0-9][0-9][0-9]}: groups of three ASCII digits found left to right, and the text between them. */
    SplitStep DIGIT_TRIPLES = (cps, start, end, ends) -> {
        int gapStart = start;
        int pos = start;
        while (pos + 2 < end) {
            if (isAsciiDigit(cps[pos]) && isAsciiDigit(cps[pos + 1]) && isAsciiDigit(cps[pos + 2])) {
                if (pos > gapStart) {
                    ends.add(pos);
                }
                pos += 3;
                ends.add(pos);
                gapStart = pos;
            } else {
                pos++;
            }
        }
        if (end > gapStart) {
            ends.add(end);
        }
    };

    private static SplitStep classRuns(boolean withBacktick) {
        return (cps, start, end, ends) -> {
            int pos = start;
            while (pos < end) {
                boolean in = isPunctuationClass(cps[pos], withBacktick);
                pos++;
                while (pos < end && isPunctuationClass(cps[pos], withBacktick) == in) {
                    pos++;
                }
                ends.add(pos);
            }
        };
    }

    private static int asciiLower(int cp) {
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    }

    private static boolean isAsciiDigit(int cp) {
        return cp >= '0' && cp <= '9';
    }

    /**
     * {@code \p{N}} as llama.cpp's std::regex path sees it: ASCII digits, or a non-ASCII, non-whitespace number.
     */
    private static boolean isRegexNumber(int cp) {
        if (cp < 128) {
            return isAsciiDigit(cp);
        }
        int f = UnicodeFlags.of(cp);
        return (f & UnicodeFlags.WHITESPACE) == 0 && (f & UnicodeFlags.NUMBER) != 0;
    }

    /**
     * {@code [\p{P}\$\+<=>\^~\|]} (with or without the backtick) as llama.cpp's std::regex path sees it: ASCII
     * punctuation and symbols except the backtick; above ASCII only non-whitespace punctuation (not symbols).
     */
    private static boolean isPunctuationClass(int cp, boolean withBacktick) {
        if (cp < 128) {
            if (cp == '`') {
                return withBacktick;
            }
            return cp >= 0x21 && cp <= 0x7E && !(cp >= '0' && cp <= '9') && !(cp >= 'A' && cp <= 'Z')
                    && !(cp >= 'a' && cp <= 'z');
        }
        int f = UnicodeFlags.of(cp);
        return (f & UnicodeFlags.WHITESPACE) == 0 && (f & UnicodeFlags.PUNCTUATION) != 0;
    }
}
