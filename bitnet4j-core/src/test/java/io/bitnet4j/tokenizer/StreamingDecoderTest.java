package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

    @Test
    void llama3EmojiSplitOverThreeTokensComesOutWhole() {
        Tokenizer t = Vocabs.llama3();
        int[] ids = t.encode("🦙", false, false);
        assertThat(ids).containsExactly(9468, 99, 247); // "\xF0\x9F", "\xA6", "\x99"
        StreamingDecoder d = t.streamingDecoder(false);
        assertThat(d.feed(ids[0])).isEmpty();
        assertThat(d.pendingBytes()).isEqualTo(2);
        assertThat(d.feed(ids[1])).isEmpty();
        assertThat(d.feed(ids[2])).isEqualTo("🦙");
        assertThat(d.pendingBytes()).isZero();
    }

    @Test
    void byteFallbackTokensFedOneAtATimeNeverSplitACharacter() {
        Tokenizer t = Vocabs.tokenizer(Vocabs.TOK512);
        String text = "A 👨‍👩‍👧 family, 日本語, café ✓";
        int[] ids = t.encode(text, false, false);
        StreamingDecoder d = t.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        int withheld = 0;
        for (int id : ids) {
            String s = d.feed(id);
            assertThat(s).doesNotContain("\uFFFD");
            if (!s.isEmpty()) {
                assertThat(Character.isLowSurrogate(s.charAt(0))).isFalse();
                assertThat(Character.isHighSurrogate(s.charAt(s.length() - 1))).isFalse();
            }
            if (d.pendingBytes() > 0) {
                withheld++;
            }
            out.append(s);
        }
        assertThat(withheld).as("some tokens end inside a character").isGreaterThan(5);
        assertThat(d.flush()).isEmpty();
        assertThat(out.toString()).isEqualTo(" " + text); // SentencePiece's leading space is a real piece
    }

    @Test
    void everyTokenOfAMixedTextStreamsToTheSameText() {
        Tokenizer t = Vocabs.llama3();
        String text = "Zalgo Z̤͔ͧ̑̓ä͖̭, 中文English混合, 👍🏽 and ❤️ — done\n";
        StreamingDecoder d = t.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        for (int id : t.encode(text, false, false)) {
            String s = d.feed(id);
            assertThat(s).doesNotContain("\uFFFD");
            out.append(s);
        }
        assertThat(out.toString()).isEqualTo(text);
    }

    @Test
    void flushReplacesAnUnfinishedCharacter() {
        Tokenizer t = Vocabs.llama3();
        StreamingDecoder d = t.streamingDecoder(false);
        assertThat(d.feed(9468)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
        assertThat(d.pendingBytes()).isZero();
    }

    @Test
    void controlTokensAreTextOnlyWhenAsked() {
        Tokenizer t = Vocabs.llama3();
        assertThat(t.streamingDecoder(false).feed(128009)).isEmpty();
        assertThat(t.streamingDecoder(true).feed(128009)).isEqualTo("<|eot_id|>");
    }

    @Test
    void completeLengthHoldsOnlyAPossibleCharacterStart() {
        byte[] b = "a€".getBytes(StandardCharsets.UTF_8); // 61 E2 82 AC
        assertThat(StreamingDecoder.completeLength(b, 4)).isEqualTo(4);
        assertThat(StreamingDecoder.completeLength(b, 3)).isEqualTo(1);
        assertThat(StreamingDecoder.completeLength(b, 2)).isEqualTo(1);
        assertThat(StreamingDecoder.completeLength(new byte[] {(byte) 0x80, (byte) 0x80}, 2)).isEqualTo(2);
        assertThat(StreamingDecoder.completeLength(new byte[] {(byte) 0xFF}, 1)).isEqualTo(1);
    }
}
