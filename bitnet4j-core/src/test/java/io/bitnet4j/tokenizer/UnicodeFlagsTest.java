package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UnicodeFlagsTest {

    /**
     * Code points per category in llama.cpp's {@code unicode-data.cpp} (Unicode 15.1). If a newer JDK brings newer
     * Unicode data this fails: add the newly assigned ranges to {@link UnicodeFlags#UNICODE_16_ADDITIONS}.
     */
    @Test
    void categoryCountsEqualLlamaCppsTable() {
        int[] counts = new int[9];
        for (int cp = 0; cp <= 0x10FFFF; cp++) {
            int f = UnicodeFlags.of(cp) & 0xFF;
            counts[Integer.numberOfTrailingZeros(f)]++;
        }
        assertThat(counts).containsExactly(824_718, 1_831, 136_726, 19, 2_450, 842, 7_775, 139_751, 0);
        assertThat(UnicodeFlags.assignedCount()).isEqualTo(UnicodeFlags.EXPECTED_ASSIGNED);
    }

    @Test
    void trickyCodePoints() {
        assertThat(UnicodeFlags.of(0xA0)).isEqualTo(UnicodeFlags.SEPARATOR | UnicodeFlags.WHITESPACE); // NBSP
        assertThat(UnicodeFlags.of(0x3000)).isEqualTo(UnicodeFlags.SEPARATOR | UnicodeFlags.WHITESPACE);
        assertThat(UnicodeFlags.of(0x2003)).isEqualTo(UnicodeFlags.SEPARATOR | UnicodeFlags.WHITESPACE);
        assertThat(UnicodeFlags.of(0x200B)).isEqualTo(UnicodeFlags.CONTROL); // zero width space: format, not space
        assertThat(UnicodeFlags.of(0x85)).isEqualTo(UnicodeFlags.CONTROL | UnicodeFlags.WHITESPACE);
        assertThat(UnicodeFlags.of(0x1C)).isEqualTo(UnicodeFlags.CONTROL); // Java's isWhitespace says yes
        assertThat(UnicodeFlags.of(0x0301)).isEqualTo(UnicodeFlags.MARK);
        assertThat(UnicodeFlags.of(0xFE0F)).isEqualTo(UnicodeFlags.MARK); // VS16
        assertThat(UnicodeFlags.of(0x1F999)).isEqualTo(UnicodeFlags.SYMBOL); // llama emoji
        assertThat(UnicodeFlags.of(0x0663)).isEqualTo(UnicodeFlags.NUMBER); // Arabic-Indic three
        assertThat(UnicodeFlags.of(0xFF11)).isEqualTo(UnicodeFlags.NUMBER); // full-width one
        assertThat(UnicodeFlags.of(0x00BD)).isEqualTo(UnicodeFlags.NUMBER); // one half
        assertThat(UnicodeFlags.of(0x2019)).isEqualTo(UnicodeFlags.PUNCTUATION);
        assertThat(UnicodeFlags.of(0x20AC)).isEqualTo(UnicodeFlags.SYMBOL); // euro
        assertThat(UnicodeFlags.of(0x1FAE9)).isEqualTo(UnicodeFlags.UNDEFINED); // Unicode 16 emoji
        assertThat(UnicodeFlags.of(0xD800)).isEqualTo(UnicodeFlags.CONTROL); // surrogate
        assertThat(UnicodeFlags.of(0x110000)).isEqualTo(UnicodeFlags.UNDEFINED);
    }
}
