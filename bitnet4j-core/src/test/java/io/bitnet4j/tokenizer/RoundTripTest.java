package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * decode(encode(text)) == text on the shared corpora, for every vocabulary. {@link Tokenizer#decode} joins the
 * pieces without llama.cpp's space clean-up; {@link Tokenizer#detokenize} (llama_detokenize) applies it for
 * byte-level BPE and so does not round-trip Shakespeare's {@code " 's"}: that difference is asserted too.
 */
class RoundTripTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "llama3-bpe, tinyshakespeare.txt", "llama3-bpe, tinystories-dev.txt",
            "llama-spm, tinyshakespeare.txt", "llama-spm, tinystories-dev.txt",
            "tok512-spm, tinyshakespeare.txt", "tok512-spm, tinystories-dev.txt"})
    void corpusRoundTrips(String vocab, String corpus) throws IOException {
        Tokenizer t = Vocabs.tokenizer(switch (vocab) {
            case "llama3-bpe" -> Vocabs.LLAMA3;
            case "llama-spm" -> Vocabs.LLAMA_SPM;
            default -> Vocabs.TOK512;
        });
        String text = Files.readString(TestFiles.shared("data/corpora/" + corpus), StandardCharsets.UTF_8);
        int[] ids = t.encode(text, false, false);
        assertThat(ids.length).isGreaterThan(text.length() / 20);
        assertThat(t.decode(ids)).isEqualTo(text);
        // llama.cpp's llama_detokenize: the same for SentencePiece; BPE drops the space before 's 'm 're 've
        String detok = t.detokenize(ids, false, false);
        if (t.kind() == Tokenizer.Kind.SPM) {
            assertThat(detok).isEqualTo(text);
        } else {
            assertThat(detok).isEqualTo(new String(Tokenizer.cleanUpSpaces(text.getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8));
            assertThat(detok.equals(text)).isEqualTo(!text.contains(" 's") && !text.contains(" 're")
                    && !text.contains(" 'm") && !text.contains(" ' "));
        }
    }

    @org.junit.jupiter.api.Test
    void loneSurrogatesAreEncodedAsReplacementCharacters() {
        for (String vocab : new String[] {Vocabs.LLAMA3, Vocabs.LLAMA_SPM, Vocabs.TOK512}) {
            Tokenizer t = Vocabs.tokenizer(vocab);
            assertThat(t.decode(t.encode("a\uD800b\uDC00", false, false))).as(vocab).isEqualTo("a\uFFFDb\uFFFD");
            assertThat(t.encode("a\uD800b", false, false)).as(vocab).containsExactly(t.encode("a\uFFFDb", false, false));
        }
    }
}
