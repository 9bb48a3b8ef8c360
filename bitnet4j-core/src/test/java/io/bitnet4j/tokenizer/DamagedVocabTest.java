package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** Damaged tokenizer metadata gives one BitnetException whose one-line message names the file and the key. */
class DamagedVocabTest {

    private static SyntheticVocab llama3() {
        return new SyntheticVocab(Vocabs.metadata(Vocabs.LLAMA3));
    }

    private static SyntheticVocab tok512() {
        return new SyntheticVocab(Vocabs.metadata(Vocabs.TOK512));
    }

    private static void fails(ThrowingCallable build, BitnetException.Kind kind, String... fragments) {
        Throwable thrown = catchThrowable(build);
        if (thrown instanceof TestAbortedException skipped) {
            throw skipped; // the reference vocabulary is absent: skip, do not fail
        }
        assertThat(thrown).isInstanceOfSatisfying(BitnetException.class, e -> {
            assertThat(e.kind()).isEqualTo(kind);
            assertThat(e.getMessage()).doesNotContain("\n").contains(fragments);
        });
    }

    @Test
    void missingMerges() {
        fails(() -> llama3().remove("tokenizer.ggml.merges").build(), BitnetException.Kind.INVALID_MODEL,
                "ggml-vocab-llama3-bpe.gguf", "tokenizer.ggml.merges", "missing");
    }

    @Test
    void mergeNamingAnUnknownToken() {
        SyntheticVocab v = llama3();
        List<String> merges = new ArrayList<>(v.stringsOf("tokenizer.ggml.merges"));
        merges.set(5, "Ġ zzznotatoken");
        fails(() -> v.strings("tokenizer.ggml.merges", merges).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.merges[5]", "zzznotatoken", "not in tokenizer.ggml.tokens");
    }

    @Test
    void mergeWithoutASpace() {
        SyntheticVocab v = llama3();
        List<String> merges = new ArrayList<>(v.stringsOf("tokenizer.ggml.merges"));
        merges.set(0, "ĠĠ");
        fails(() -> v.strings("tokenizer.ggml.merges", merges).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.merges[0]", "separated by a space");
    }

    @Test
    void specialIdOutOfRange() {
        fails(() -> llama3().u32("tokenizer.ggml.bos_token_id", 128256).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.bos_token_id", "128256", "out of range", "128256 tokens");
        fails(() -> tok512().u32("tokenizer.ggml.eos_token_id", 9999).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.eos_token_id", "9999");
    }

    @Test
    void noneIsAcceptedForOptionalIds() {
        // stories260K writes u32 0xFFFFFFFF for its separator and padding ids, as llama.cpp's converter does
        Tokenizer t = tok512().u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFL).build();
        assertThat(t.vocabSize()).isEqualTo(512);
    }

    @Test
    void tokensArrayOfTheWrongType() {
        fails(() -> tok512().i32s("tokenizer.ggml.tokens", new long[512]).build(), BitnetException.Kind.INVALID_FILE,
                "tokenizer.ggml.tokens", "arr[i32,512]", "expected an array of strings");
        fails(() -> tok512().put("tokenizer.ggml.scores", new GgufValue.StringArray(List.of("a"))).build(),
                BitnetException.Kind.INVALID_FILE, "tokenizer.ggml.scores", "expected an array of floats");
        fails(() -> tok512().put("tokenizer.ggml.add_bos_token", new GgufValue.IntValue(GgufValueType.UINT8, 1))
                .build(), BitnetException.Kind.INVALID_FILE, "tokenizer.ggml.add_bos_token", "expected a bool");
    }

    @Test
    void missingTokens() {
        fails(() -> tok512().remove("tokenizer.ggml.tokens").build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.tokens", "missing");
        fails(() -> tok512().strings("tokenizer.ggml.tokens", List.of()).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.tokens is empty");
    }

    @Test
    void scoresAndTypesOfTheWrongLength() {
        fails(() -> tok512().f32s("tokenizer.ggml.scores", new double[511]).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.scores has 511 entries", "tokenizer.ggml.tokens has 512");
        fails(() -> tok512().i32s("tokenizer.ggml.token_type", new long[600]).build(),
                BitnetException.Kind.INVALID_MODEL, "tokenizer.ggml.token_type has 600 entries");
    }

    @Test
    void badTokenTypesAndByteTokens() {
        SyntheticVocab v = tok512();
        long[] types = v.intsOf("tokenizer.ggml.token_type");
        types[300] = 9;
        fails(() -> v.i32s("tokenizer.ggml.token_type", types).build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.token_type[300] = 9", "not a token type");
        SyntheticVocab w = tok512();
        long[] types2 = w.intsOf("tokenizer.ggml.token_type");
        types2[300] = TokenType.BYTE.code();
        fails(() -> w.i32s("tokenizer.ggml.token_type", types2).build(), BitnetException.Kind.INVALID_MODEL,
                "token 300", "BYTE", "<0xNN>");
    }

    @Test
    void emptyTokenIsRenamedAsLlamaCppDoes() {
        SyntheticVocab v = tok512();
        List<String> tokens = new ArrayList<>(v.stringsOf("tokenizer.ggml.tokens"));
        tokens.set(300, "");
        Tokenizer t = v.strings("tokenizer.ggml.tokens", tokens).build();
        assertThat(t.tokenText(300)).isEqualTo("[EMPTY_300]");
        assertThat(t.tokenText(299)).isEqualTo(tokens.get(299));
        assertThat(t.tokenText(301)).isEqualTo(tokens.get(301));
    }

    @Test
    void duplicateTokens() {
        SyntheticVocab v = tok512();
        List<String> tokens = new ArrayList<>(v.stringsOf("tokenizer.ggml.tokens"));
        tokens.set(400, tokens.get(300));
        fails(() -> v.strings("tokenizer.ggml.tokens", tokens).build(), BitnetException.Kind.INVALID_MODEL,
                "same token", "ids 300 and 400");
    }

    @Test
    void unknownOrUnsupportedModelsAndPreTokenizers() {
        fails(() -> tok512().remove("tokenizer.ggml.model").build(), BitnetException.Kind.INVALID_MODEL,
                "no tokenizer", "tokenizer.ggml.model");
        fails(() -> tok512().string("tokenizer.ggml.model", "wordpiece9").build(), BitnetException.Kind.INVALID_MODEL,
                "unknown tokenizer", "wordpiece9");
        fails(() -> tok512().string("tokenizer.ggml.model", "bert").build(), BitnetException.Kind.UNSUPPORTED,
                "'bert' is not supported");
        fails(() -> llama3().string("tokenizer.ggml.pre", "klingon").build(), BitnetException.Kind.INVALID_MODEL,
                "tokenizer.ggml.pre", "unknown pre-tokenizer 'klingon'");
        fails(() -> llama3().string("tokenizer.ggml.pre", "qwen2").build(), BitnetException.Kind.UNSUPPORTED,
                "pre-tokenizer 'qwen2' is not supported");
        fails(() -> new TokenizerOptions("klingon"), BitnetException.Kind.USAGE, "unknown pre-tokenizer 'klingon'");
    }

    @Test
    void addBosWithoutBos() {
        fails(() -> tok512().u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFFL).build(), BitnetException.Kind.INVALID_MODEL,
                "add_bos_token is true", "no BOS token");
    }
}
