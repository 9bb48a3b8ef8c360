package io.bitnet4j.tokenizer;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Code point classes as llama.cpp's pre-tokenizers see them: one general category (number, letter, separator,
 * mark, punctuation, symbol, control, or undefined) plus a whitespace bit.
 *
 * <p>Categories come from {@link Character#getType(int)}. llama.cpp generated its table from Unicode 15.1 data,
 * while Java 25 knows Unicode 16.0, so the code points first assigned in Unicode 16.0 ({@link #UNICODE_16_ADDITIONS},
 * from the UCD's DerivedAge) are treated as unassigned here, as llama.cpp does. The categories of all other code
 * points agree (checked over all 1,114,112 code points). Whitespace is the Unicode {@code White_Space} property,
 * which is what llama.cpp uses; it differs from {@link Character#isWhitespace(int)} (NBSP and U+202F are
 * whitespace, U+001C..U+001F are not). A test checks the count of each category against llama.cpp's table, so
 * a JDK with newer Unicode data is noticed.
 */
final class UnicodeFlags {
    static final int UNDEFINED = 0x001;
    static final int NUMBER = 0x002;
    static final int LETTER = 0x004;
    static final int SEPARATOR = 0x008;
    static final int MARK = 0x010;
    static final int PUNCTUATION = 0x020;
    static final int SYMBOL = 0x040;
    static final int CONTROL = 0x080;
    static final int WHITESPACE = 0x100;

    /** Code points assigned in Unicode 16.0, as inclusive [first, last] pairs. */
    static final int[] UNICODE_16_ADDITIONS = {
            0x00897, 0x00897, 0x01B4E, 0x01B4F, 0x01B7F, 0x01B7F, 0x01C89, 0x01C8A,
            0x02427, 0x02429, 0x031E4, 0x031E5, 0x0A7CB, 0x0A7CD, 0x0A7DA, 0x0A7DC,
            0x105C0, 0x105F3, 0x10D40, 0x10D65, 0x10D69, 0x10D85, 0x10D8E, 0x10D8F,
            0x10EC2, 0x10EC4, 0x10EFC, 0x10EFC, 0x11380, 0x11389, 0x1138B, 0x1138B,
            0x1138E, 0x1138E, 0x11390, 0x113B5, 0x113B7, 0x113C0, 0x113C2, 0x113C2,
            0x113C5, 0x113C5, 0x113C7, 0x113CA, 0x113CC, 0x113D5, 0x113D7, 0x113D8,
            0x113E1, 0x113E2, 0x116D0, 0x116E3, 0x11BC0, 0x11BE1, 0x11BF0, 0x11BF9,
            0x11F5A, 0x11F5A, 0x13460, 0x143FA, 0x16100, 0x16139, 0x16D40, 0x16D79,
            0x18CFF, 0x18CFF, 0x1CC00, 0x1CCF9, 0x1CD00, 0x1CEB3, 0x1E5D0, 0x1E5FA,
            0x1E5FF, 0x1E5FF, 0x1F8B2, 0x1F8BB, 0x1F8C0, 0x1F8C1, 0x1FA89, 0x1FA89,
            0x1FA8F, 0x1FA8F, 0x1FABE, 0x1FABE, 0x1FAC6, 0x1FAC6, 0x1FADC, 0x1FADC,
            0x1FADF, 0x1FADF, 0x1FAE9, 0x1FAE9, 0x1FBCB, 0x1FBEF,
    };

    /** The Unicode White_Space property (stable since Unicode 6.3). */
    private static final int[] WHITE_SPACE = {
            0x0009, 0x000A, 0x000B, 0x000C, 0x000D, 0x0020, 0x0085, 0x00A0, 0x1680,
            0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
            0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    };

    /** Number of assigned code points (category other than undefined) in Unicode 15.1, llama.cpp's table. */
    static final int EXPECTED_ASSIGNED = 289_394;

    private static final int MAX_CODEPOINT = 0x10FFFF;
    private static final int[] FLAGS_OF_CODE = new int[16];
    /**
     * The 4-bit codes (category index 0..7 | whitespace << 3) of each 256-code-point block, computed on first use:
     * most text touches a handful of blocks, and building all 4,352 up front would cost a noticeable part of a
     * tokenizer's load time.
     */
    private static final AtomicReferenceArray<byte[]> BLOCKS = new AtomicReferenceArray<>((MAX_CODEPOINT + 1) >> 8);
    private static final int[] ASCII = new int[128];

    static {
        for (int code = 0; code < 16; code++) {
            FLAGS_OF_CODE[code] = (1 << (code & 7)) | ((code & 8) != 0 ? WHITESPACE : 0);
        }
        for (int cp = 0; cp < 128; cp++) {
            ASCII[cp] = lookup(cp);
        }
    }

    private static byte[] block(int b) {
        byte[] block = BLOCKS.get(b);
        if (block == null) {
            block = new byte[256];
            for (int i = 0; i < 256; i++) {
                block[i] = (byte) code((b << 8) | i);
            }
            BLOCKS.set(b, block); // racing threads compute the same contents
        }
        return block;
    }

    private static int code(int cp) {
        int category = isUnicode16Addition(cp) ? 0 : categoryIndex(Character.getType(cp));
        int ws = cp <= 0x3000 && Arrays.binarySearch(WHITE_SPACE, cp) >= 0 ? 8 : 0;
        return category | ws;
    }

    private static boolean isUnicode16Addition(int cp) {
        if (cp < UNICODE_16_ADDITIONS[0] || cp > UNICODE_16_ADDITIONS[UNICODE_16_ADDITIONS.length - 1]) {
            return false;
        }
        int lo = 0;
        int hi = UNICODE_16_ADDITIONS.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (UNICODE_16_ADDITIONS[2 * mid + 1] < cp) {
                lo = mid + 1;
            } else if (UNICODE_16_ADDITIONS[2 * mid] > cp) {
                hi = mid - 1;
            } else {
                return true;
            }
        }
        return false;
    }

    private UnicodeFlags() {
    }

    private static int categoryIndex(int javaType) {
        return switch (javaType) {
            case Character.UNASSIGNED -> 0;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> 1;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> 2;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> 3;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> 4;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> 5;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> 6;
            default -> 7; // control, format, surrogate, private use
        };
    }

    private static int lookup(int cp) {
        return FLAGS_OF_CODE[block(cp >> 8)[cp & 0xFF]];
    }

    /** The flags of a code point; never 0 (out-of-range values are undefined). */
    static int of(int cp) {
        if (cp < 128 && cp >= 0) {
            return ASCII[cp];
        }
        if (cp > MAX_CODEPOINT || cp < 0) {
            return UNDEFINED;
        }
        return lookup(cp);
    }

    static boolean isLetter(int cp) {
        return (of(cp) & LETTER) != 0;
    }

    static boolean isNumber(int cp) {
        return (of(cp) & NUMBER) != 0;
    }

    static boolean isWhitespace(int cp) {
        return (of(cp) & WHITESPACE) != 0;
    }

    /** Number of code points whose category is not undefined (for tests; builds every block). */
    static int assignedCount() {
        int assigned = 0;
        for (int cp = 0; cp <= MAX_CODEPOINT; cp++) {
            if ((of(cp) & UNDEFINED) == 0) {
                assigned++;
            }
        }
        return assigned;
    }
}
