package io.bitnet4j.convert;

import io.bitnet4j.gguf.GgufWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A byte-level BPE vocabulary of any size for synthetic models: the 256 GPT-2 byte tokens, then tokens made by
 * merging two earlier tokens (each with its merge rule, so the vocabulary is a valid BPE), then Llama 3's special
 * tokens at the end (BOS, EOS, header and end-of-turn markers, reserved tokens).
 */
final class SyntheticVocabulary {
    private final List<String> tokens;
    private final List<String> merges;
    private final int[] types;
    private final int bos;
    private final int eos;

    private SyntheticVocabulary(List<String> tokens, List<String> merges, int[] types, int bos, int eos) {
        this.tokens = tokens;
        this.merges = merges;
        this.types = types;
        this.bos = bos;
        this.eos = eos;
    }

    static SyntheticVocabulary generate(int size, long seed) {
        List<String> specials = specialTokens(size);
        int regular = size - specials.size();
        List<String> tokens = new ArrayList<>(size);
        Map<String, Integer> ids = new HashMap<>(size * 2);
        for (int b = 0; b < 256; b++) {
            String t = String.valueOf((char) byteToUnicode(b));
            ids.put(t, tokens.size());
            tokens.add(t);
        }
        List<String> merges = new ArrayList<>(Math.max(0, regular - 256));
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        while (tokens.size() < regular) {
            String left = tokens.get(pickBiasedLow(rng, tokens.size()));
            String right = tokens.get(pickBiasedLow(rng, tokens.size()));
            String merged = left + right;
            if (merged.length() > 16 || ids.containsKey(merged)) {
                continue;
            }
            ids.put(merged, tokens.size());
            tokens.add(merged);
            merges.add(left + " " + right);
        }
        int[] types = new int[size];
        java.util.Arrays.fill(types, 0, regular, 1);
        java.util.Arrays.fill(types, regular, size, 3);
        tokens.addAll(specials);
        return new SyntheticVocabulary(tokens, merges, types, regular, regular + 1);
    }

    /** Llama 3's special-token names for the last tokens (256 of them for a full-size vocabulary, fewer if small). */
    private static List<String> specialTokens(int size) {
        int count = size >= 4096 ? 256 : 4;
        List<String> s = new ArrayList<>(count);
        if (count == 4) {
            s.addAll(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|eot_id|>"));
            return s;
        }
        s.add("<|begin_of_text|>");
        s.add("<|end_of_text|>");
        for (int i = 0; i < 4; i++) {
            s.add("<|reserved_special_token_" + i + "|>");
        }
        s.add("<|start_header_id|>");
        s.add("<|end_header_id|>");
        s.add("<|reserved_special_token_4|>");
        s.add("<|eot_id|>");
        for (int i = 5; s.size() < count; i++) {
            s.add("<|reserved_special_token_" + i + "|>");
        }
        return s;
    }

    /** Low indices more often, so that merged tokens stay short like real ones. */
    private static int pickBiasedLow(SplittableRandom rng, int n) {
        double u = rng.nextDouble();
        return (int) (u * u * n);
    }

    /** GPT-2's byte-to-unicode map: printable bytes as themselves, the others from U+0100 on. */
    static int byteToUnicode(int b) {
        if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
            return b;
        }
        int n = 0;
        for (int x = 0; x < b; x++) {
            if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) {
                n++;
            }
        }
        return 256 + n;
    }

    void putInto(GgufWriter w) {
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putStrings("tokenizer.ggml.tokens", tokens);
        w.putF32s("tokenizer.ggml.scores", new float[tokens.size()]);
        w.putI32s("tokenizer.ggml.token_type", types);
        w.putStrings("tokenizer.ggml.merges", merges);
        w.putU32("tokenizer.ggml.bos_token_id", bos);
        w.putU32("tokenizer.ggml.eos_token_id", eos);
        w.putU32("tokenizer.ggml.padding_token_id", eos);
        w.putString("tokenizer.chat_template", "{% for message in messages %}{{ message['role'] | capitalize }}: "
                + "{{ message['content'] }}<|eot_id|>{% endfor %}Assistant: ");
    }
}
