package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpecialTokensTest {

    @Test
    void specialTextStaysTextUnlessParsingIsAsked() {
        Tokenizer t = Vocabs.llama3();
        String text = "Hello<|eot_id|>world";
        int[] plain = t.encode(text, false, false);
        assertThat(plain).doesNotContain(128009).hasSizeGreaterThan(3);
        assertThat(t.decode(plain)).isEqualTo(text);
        assertThat(t.encode(text, false, true)).containsExactly(9906, 128009, 14957);
        assertThat(t.encode(text, true, true)).containsExactly(128000, 9906, 128009, 14957);
        // plain text never produces a control token, however it is written
        for (String s : new String[] {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>x<|end_header_id|>"}) {
            int[] ids = t.encode(s, false, false);
            for (int id : ids) {
                assertThat(t.tokenType(id)).as(s).isEqualTo(TokenType.NORMAL);
            }
        }
    }

    @Test
    void chatHeaderIsParsedWithSpecialParsing() {
        Tokenizer t = Vocabs.llama3();
        assertThat(t.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", false, true))
                .containsExactly(128006, 882, 128007, 271, 13347, 128009);
    }

    @Test
    void bosEosAndEndOfGenerationFromMetadata() {
        Tokenizer t = Vocabs.llama3();
        assertThat(t.bos()).isEqualTo(128000);
        assertThat(t.eos()).isEqualTo(128001);
        assertThat(t.eot()).isEqualTo(128009);
        assertThat(t.addBos()).isTrue();
        assertThat(t.addEos()).isFalse();
        assertThat(t.endOfGenerationIds()).containsExactly(128001, 128009);
        assertThat(t.isEndOfGeneration(128009)).isTrue();
        assertThat(t.isEndOfGeneration(128000)).isFalse();
        assertThat(t.tokenType(128000)).isEqualTo(TokenType.CONTROL);
        assertThat(t.tokenType(9906)).isEqualTo(TokenType.NORMAL);
        assertThat(t.vocabSize()).isEqualTo(128256);
        assertThat(t.encode("", true, false)).containsExactly(128000);
        assertThat(t.encode("", false, false)).isEmpty();

        Tokenizer spm = Vocabs.tokenizer(Vocabs.LLAMA_SPM);
        assertThat(spm.bos()).isEqualTo(1);
        assertThat(spm.eos()).isEqualTo(2);
        assertThat(spm.endOfGenerationIds()).containsExactly(2);
        assertThat(spm.tokenType(0)).isEqualTo(TokenType.UNKNOWN);
        assertThat(spm.tokenType(3)).isEqualTo(TokenType.BYTE);
    }

    @Test
    void addEosFromMetadataAppendsEos() {
        Tokenizer t = new SyntheticVocab(Vocabs.metadata(Vocabs.TOK512)).bool("tokenizer.ggml.add_eos_token", true)
                .bool("tokenizer.ggml.add_bos_token", false).build();
        int[] ids = t.encode("Once", true, false);
        assertThat(ids[ids.length - 1]).isEqualTo(2);
        assertThat(ids[0]).isNotEqualTo(1);
        assertThat(t.encode("Once", false, false)).doesNotContain(2);
    }

    @Test
    void userDefinedTokensAreAlwaysMatched() {
        SyntheticVocab v = new SyntheticVocab(Vocabs.metadata(Vocabs.LLAMA3));
        long[] types = v.intsOf("tokenizer.ggml.token_type");
        types[128002] = TokenType.USER_DEFINED.code();
        Tokenizer t = v.i32s("tokenizer.ggml.token_type", types).build();
        assertThat(t.encode("a<|reserved_special_token_0|>b", false, false)).containsExactly(64, 128002, 65);
        assertThat(t.encode("a<|eot_id|>b", false, false)).doesNotContain(128009);
        assertThat(t.decode(new int[] {128002})).isEqualTo("<|reserved_special_token_0|>"); // printed verbatim
    }

    @Test
    void longerSpecialTokensClaimTextFirstEvenWhenTheyStartLater() {
        // "bc d" is longer than "ab", so in "abcd" it is taken first and "ab" no longer fits (llama.cpp order)
        SyntheticVocab v = SyntheticVocab.spm("▁", "a", "b", "c", "d", "ab", "bcd");
        long[] types = v.intsOf("tokenizer.ggml.token_type");
        int ab = 259 + 5;
        int bcd = 259 + 6;
        types[ab] = TokenType.CONTROL.code();
        types[bcd] = TokenType.CONTROL.code();
        Tokenizer t = v.i32s("tokenizer.ggml.token_type", types).build();
        assertThat(t.encode("abcd", false, true)).containsExactly(259, 260, bcd);
        assertThat(t.encode("abab", false, true)).containsExactly(ab, ab);
        // without special parsing the text is ordinary text; note that llama.cpp's SentencePiece merge step
        // looks pairs up among all tokens, so "a"+"b" still merges into the CONTROL token "ab" here
        assertThat(t.encode("abcd", false, false)).containsExactly(259, ab, 262, 263);
    }

    @Test
    void realSentencePieceVocabsDoNotFormControlTokensFromPlainText() {
        for (String vocab : new String[] {Vocabs.LLAMA_SPM, Vocabs.TOK512}) {
            Tokenizer t = Vocabs.tokenizer(vocab);
            for (int id : t.encode("<s></s><unk> <s> </s> <unk>", true, false)) {
                assertThat(id == t.bos() || !t.tokenType(id).isSpecial()).as(vocab + " id " + id).isTrue();
            }
        }
    }

    @Test
    void sentencePieceAddsASpaceAfterEverySpecialToken() {
        Tokenizer t = Vocabs.tokenizer(Vocabs.LLAMA_SPM);
        assertThat(t.encode("<s>Hello</s>", false, true)).containsExactly(1, 15043, 2);
        assertThat(t.detokenize(new int[] {1, 15043, 2}, false, true)).isEqualTo("<s> Hello</s>");
        // llama.cpp keeps the leading space when it removes the BOS (remove_special)
        assertThat(t.detokenize(new int[] {1, 15043, 2}, true, false)).isEqualTo(" Hello");
        assertThat(t.decode(t.encode("Hello world", true, false))).isEqualTo("Hello world");
    }

    @Test
    void tokenToPieceHidesControlTokensUnlessSpecial() {
        Tokenizer t = Vocabs.llama3();
        assertThat(t.tokenToPiece(128000, false)).isEmpty();
        assertThat(new String(t.tokenToPiece(128000, true), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("<|begin_of_text|>");
        assertThat(new String(t.tokenToPiece(9906, false), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("Hello");
        assertThat(new String(t.tokenToPiece(22691, false), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(" Hello");
        assertThat(t.tokenId("<|eot_id|>")).isEqualTo(128009);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.tokenToPiece(128256, true))
                .isInstanceOf(io.bitnet4j.BitnetException.class).hasMessageContaining("out of range");
    }
}
