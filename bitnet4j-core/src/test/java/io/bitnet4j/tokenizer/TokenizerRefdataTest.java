package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every line of {@code refdata/tokenizer/tok-<vocab>-dev.jsonl}: the ids llama.cpp's {@code llama-tokenize} gave
 * (with BOS and with {@code --no-bos}, special text parsed), its {@code llama_detokenize} text, and the raw piece
 * round trip.
 */
class TokenizerRefdataTest {

    static Stream<Arguments> cases() {
        return Stream.of("llama3-bpe", "llama-spm", "tok512-spm").flatMap(vocab ->
                Vocabs.cases(vocab).stream().map(c -> Arguments.of(vocab, c)));
    }

    private static Tokenizer tokenizer(String vocab) {
        return switch (vocab) {
            case "llama3-bpe" -> Vocabs.tokenizer(Vocabs.LLAMA3);
            case "llama-spm" -> Vocabs.tokenizer(Vocabs.LLAMA_SPM);
            default -> Vocabs.tokenizer(Vocabs.TOK512);
        };
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void idsWithBos(String vocab, Vocabs.Case c) {
        assertThat(tokenizer(vocab).encode(c.text(), true, true)).containsExactly(c.ids());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void idsWithoutBos(String vocab, Vocabs.Case c) {
        assertThat(tokenizer(vocab).encode(c.text(), false, true)).containsExactly(c.idsNoBos());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void detokenizeAsLlamaCpp(String vocab, Vocabs.Case c) {
        Tokenizer t = tokenizer(vocab);
        String detok = t.detokenize(c.idsNoBos(), false, true);
        assertThat(detok).isEqualTo(c.detok());
        assertThat(detok.equals(c.text())).isEqualTo(c.roundtripDetok());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void piecesRoundTrip(String vocab, Vocabs.Case c) {
        Tokenizer t = tokenizer(vocab);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : c.idsNoBos()) {
            bytes.writeBytes(t.tokenToPiece(id, true));
        }
        boolean same = java.util.Arrays.equals(bytes.toByteArray(), c.text().getBytes(StandardCharsets.UTF_8));
        assertThat(same).isEqualTo(c.roundtripPieces());
    }
}
