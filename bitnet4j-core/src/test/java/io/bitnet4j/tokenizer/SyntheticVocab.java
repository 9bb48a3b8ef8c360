package io.bitnet4j.tokenizer;

import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds and edits GGUF tokenizer metadata in memory for tests. */
final class SyntheticVocab {
    private final Map<String, GgufValue> values;
    private final String source;

    SyntheticVocab(String source) {
        this.source = source;
        this.values = new LinkedHashMap<>();
    }

    /** A copy of real metadata to edit. */
    SyntheticVocab(GgufMetadata md) {
        this.source = md.source();
        this.values = new LinkedHashMap<>(md.asMap());
    }

    SyntheticVocab put(String key, GgufValue value) {
        values.put(key, value);
        return this;
    }

    SyntheticVocab remove(String key) {
        values.remove(key);
        return this;
    }

    SyntheticVocab string(String key, String value) {
        return put(key, new GgufValue.StringValue(value));
    }

    SyntheticVocab strings(String key, List<String> value) {
        return put(key, new GgufValue.StringArray(value));
    }

    SyntheticVocab u32(String key, long value) {
        return put(key, new GgufValue.IntValue(GgufValueType.UINT32, value));
    }

    SyntheticVocab bool(String key, boolean value) {
        return put(key, new GgufValue.BoolValue(value));
    }

    SyntheticVocab i32s(String key, long... value) {
        return put(key, new GgufValue.IntArray(GgufValueType.INT32, value));
    }

    SyntheticVocab f32s(String key, double... value) {
        return put(key, new GgufValue.FloatArray(GgufValueType.FLOAT32, value));
    }

    @SuppressWarnings("unchecked")
    List<String> stringsOf(String key) {
        return ((GgufValue.StringArray) values.get(key)).values();
    }

    long[] intsOf(String key) {
        return ((GgufValue.IntArray) values.get(key)).values().clone();
    }

    GgufMetadata metadata() {
        return new GgufMetadata(source, values);
    }

    Tokenizer build() {
        return Tokenizer.fromGguf(metadata());
    }

    Tokenizer build(TokenizerOptions options) {
        return Tokenizer.fromGguf(metadata(), options);
    }

    /**
     * A small SentencePiece vocabulary: {@code <unk> <s> </s>}, the 256 byte tokens, then the given pieces with
     * scores -1, -2, ... in order (so earlier pieces merge first).
     */
    static SyntheticVocab spm(String... pieces) {
        List<String> tokens = new java.util.ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        tokens.addAll(List.of(pieces));
        long[] types = new long[tokens.size()];
        double[] scores = new double[tokens.size()];
        for (int i = 0; i < types.length; i++) {
            types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
            scores[i] = i < 259 ? 0 : -(i - 258);
        }
        return new SyntheticVocab("synthetic-spm.gguf")
                .string("tokenizer.ggml.model", "llama")
                .strings("tokenizer.ggml.tokens", tokens)
                .f32s("tokenizer.ggml.scores", scores)
                .i32s("tokenizer.ggml.token_type", types)
                .u32("tokenizer.ggml.bos_token_id", 1)
                .u32("tokenizer.ggml.eos_token_id", 2)
                .u32("tokenizer.ggml.unknown_token_id", 0);
    }
}
