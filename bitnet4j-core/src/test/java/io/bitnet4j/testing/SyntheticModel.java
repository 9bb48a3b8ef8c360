package io.bitnet4j.testing;

import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import io.bitnet4j.gguf.GgufWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small model written as a real GGUF file with F32 tensors under the names and shapes {@code Weights.bind} expects,
 * and a SentencePiece vocabulary: {@code <unk>} 0, {@code <s>} 1, {@code </s>} 2, the 256 byte tokens
 * {@code <0x00>..<0xFF>} at 3..258, then {@link #WORDS} (the last, {@code <|eot_id|>}, a control token), then filler
 * pieces up to the vocabulary size. The tensor
 * values stay available (in ggml's layout: element (row r, column c) of a {in, out} matrix at {@code r*in + c}) so
 * tests can compute the same model independently.
 */
public final class SyntheticModel {
    /** Ordinary pieces after the byte tokens, in id order from {@link #FIRST_WORD}. */
    public static final List<String> WORDS = List.of("▁Hello", "▁wor", "ld", "!", "▁more", "▁A", "▁B", "▁C",
            "▁the", "▁cat", "a", "b", "<|eot_id|>");
    public static final int UNK = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    public static final int FIRST_WORD = 259;

    /**
     * The hyperparameters.
     *
     * @param subNorms     write attn_sub_norm and ffn_sub_norm (the bitnet architectures need them)
     * @param untiedOutput write output.weight (only arch llama reads it)
     */
    public record Config(String arch, int vocab, int embd, int layers, int heads, int kvHeads, int ffn, int ropeDims,
                         float freqBase, int context, boolean subNorms, boolean untiedOutput) {

        public int headDim() {
            return embd / heads;
        }

        /** The usual shape for an architecture: sub-norms for the bitnet ones, an own head for llama. */
        public static Config of(String arch, int vocab, int embd, int layers, int heads, int kvHeads, int ffn,
                                int ropeDims, int context) {
            boolean llama = arch.equals("llama");
            return new Config(arch, vocab, embd, layers, heads, kvHeads, ffn, ropeDims, 10000f, context, !llama, llama);
        }
    }

    public static final float EPS = 1e-5f;

    private final Config config;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> data = new LinkedHashMap<>();

    private SyntheticModel(Config c) {
        if (c.vocab() < FIRST_WORD + WORDS.size()) {
            throw new IllegalArgumentException("vocab must hold the " + (FIRST_WORD + WORDS.size()) + " fixed pieces");
        }
        this.config = c;
        String p = c.arch() + ".";
        putString("general.architecture", c.arch());
        putString("general.name", "synthetic");
        putU32(p + "context_length", c.context());
        putU32(p + "embedding_length", c.embd());
        putU32(p + "block_count", c.layers());
        putU32(p + "feed_forward_length", c.ffn());
        putU32(p + "attention.head_count", c.heads());
        putU32(p + "attention.head_count_kv", c.kvHeads());
        putU32(p + "rope.dimension_count", c.ropeDims());
        putF32(p + "rope.freq_base", c.freqBase());
        putF32(p + "attention.layer_norm_rms_epsilon", EPS);
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        tokens.addAll(WORDS);
        while (tokens.size() < c.vocab()) {
            tokens.add("▁w" + tokens.size());
        }
        int[] types = new int[c.vocab()];
        float[] scores = new float[c.vocab()];
        for (int id = 0; id < c.vocab(); id++) {
            types[id] = id == UNK ? 2 : id <= EOS || tokens.get(id).startsWith("<|") ? 3 : id < FIRST_WORD ? 6 : 1;
            scores[id] = id < FIRST_WORD ? 0f : -(id - FIRST_WORD);
        }
        putString("tokenizer.ggml.model", "llama");
        metadata.put("tokenizer.ggml.tokens", new GgufValue.StringArray(tokens));
        double[] ds = new double[scores.length];
        for (int i = 0; i < scores.length; i++) {
            ds[i] = scores[i];
        }
        metadata.put("tokenizer.ggml.scores", new GgufValue.FloatArray(GgufValueType.FLOAT32, ds));
        metadata.put("tokenizer.ggml.token_type", new GgufValue.IntArray(GgufValueType.INT32,
                Arrays.stream(types).asLongStream().toArray()));
        putU32("tokenizer.ggml.bos_token_id", BOS);
        putU32("tokenizer.ggml.eos_token_id", EOS);
        putU32("tokenizer.ggml.unknown_token_id", UNK);
    }

    /** Every tensor present and zero, every norm weight one. */
    public static SyntheticModel zeros(Config c) {
        SyntheticModel m = new SyntheticModel(c);
        int d = c.embd();
        int q = c.heads() * c.headDim();
        int kv = c.kvHeads() * c.headDim();
        int f = c.ffn();
        m.put("token_embd.weight", new float[d * c.vocab()], d, c.vocab());
        m.put("output_norm.weight", ones(d), d);
        if (c.untiedOutput()) {
            m.put("output.weight", new float[d * c.vocab()], d, c.vocab());
        }
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            m.put(p + "attn_norm.weight", ones(d), d);
            m.put(p + "attn_q.weight", new float[d * q], d, q);
            m.put(p + "attn_k.weight", new float[d * kv], d, kv);
            m.put(p + "attn_v.weight", new float[d * kv], d, kv);
            m.put(p + "attn_output.weight", new float[q * d], q, d);
            if (c.subNorms()) {
                m.put(p + "attn_sub_norm.weight", ones(q), q);
            }
            m.put(p + "ffn_norm.weight", ones(d), d);
            m.put(p + "ffn_gate.weight", new float[d * f], d, f);
            m.put(p + "ffn_up.weight", new float[d * f], d, f);
            m.put(p + "ffn_down.weight", new float[f * d], f, d);
            if (c.subNorms()) {
                m.put(p + "ffn_sub_norm.weight", ones(f), f);
            }
        }
        return m;
    }

    /**
     * Random weights of a size that keeps activations of order one: matrices N(0,1)/sqrt(in), norms 1 + 0.1·N(0,1),
     * embeddings 0.5·N(0,1).
     */
    public static SyntheticModel random(Config c, long seed) {
        SyntheticModel m = zeros(c);
        Random random = new Random(seed);
        for (Map.Entry<String, float[]> e : m.data.entrySet()) {
            String name = e.getKey();
            float[] v = e.getValue();
            long[] shape = m.shapes.get(name);
            for (int i = 0; i < v.length; i++) {
                double g = random.nextGaussian();
                v[i] = (float) (name.endsWith("norm.weight") ? 1 + 0.1 * g
                        : name.startsWith("token_embd") || name.startsWith("output.") ? 0.5 * g
                        : g / Math.sqrt(shape[0]));
            }
        }
        return m;
    }

    /**
     * A model whose next token depends only on the current one, through a table: every layer's weights are zero, so
     * the hidden state stays the token's embedding, a one-hot vector, and the untied output head maps it to a logit
     * of about 10·sqrt(embd) for the successor and 0 for every other token. Greedy decoding (and sampling at any
     * ordinary temperature) walks the table. Tokens without a successor have zero embeddings (all logits 0).
     * Needs arch llama (own output head) and at most {@code embd} tokens with successors.
     */
    public static SyntheticModel markov(Config c, Map<Integer, Integer> next) {
        if (!c.untiedOutput()) {
            throw new IllegalArgumentException("a Markov model needs its own output head (arch llama)");
        }
        if (next.size() > c.embd()) {
            throw new IllegalArgumentException(next.size() + " states need embd >= " + next.size());
        }
        SyntheticModel m = zeros(c);
        float[] embedding = m.get("token_embd.weight");
        float[] head = m.get("output.weight");
        int d = c.embd();
        int slot = 0;
        for (Map.Entry<Integer, Integer> e : next.entrySet()) {
            embedding[e.getKey() * d + slot] = 1f;
            head[e.getValue() * d + slot] = 10f;
            slot++;
        }
        return m;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    public Config config() {
        return config;
    }

    /** A tensor's values (the live array: changes go into the file). */
    public float[] get(String name) {
        float[] v = data.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return v;
    }

    public boolean has(String name) {
        return data.containsKey(name);
    }

    public long[] shape(String name) {
        return shapes.get(name).clone();
    }

    /** Adds or replaces an F32 tensor of shape {@code shape} (ggml order). */
    public SyntheticModel put(String name, float[] values, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for shape " + Arrays.toString(shape));
        }
        shapes.put(name, shape.clone());
        data.put(name, values);
        return this;
    }

    public SyntheticModel remove(String name) {
        shapes.remove(name);
        data.remove(name);
        return this;
    }

    public SyntheticModel putString(String key, String value) {
        metadata.put(key, new GgufValue.StringValue(value));
        return this;
    }

    public SyntheticModel putU32(String key, long value) {
        metadata.put(key, new GgufValue.IntValue(GgufValueType.UINT32, value));
        return this;
    }

    public SyntheticModel putF32(String key, float value) {
        metadata.put(key, new GgufValue.FloatValue(GgufValueType.FLOAT32, value));
        return this;
    }

    public SyntheticModel removeKey(String key) {
        metadata.remove(key);
        return this;
    }

    /** Writes the model as a GGUF file and returns its path. */
    public Path write(Path path) {
        GgufWriter w = new GgufWriter();
        metadata.forEach(w::put);
        for (Map.Entry<String, float[]> e : data.entrySet()) {
            w.addTensor(e.getKey(), GgmlType.F32, shapes.get(e.getKey()), littleEndian(e.getValue()));
        }
        w.write(path);
        return path;
    }

    /** F32 values as little-endian bytes. */
    public static byte[] littleEndian(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    /** The id of an ordinary piece of {@link #WORDS}. */
    public static int word(String piece) {
        int i = WORDS.indexOf(piece);
        if (i < 0) {
            throw new IllegalArgumentException("not a fixed piece: " + piece);
        }
        return FIRST_WORD + i;
    }

    /** The id of the byte-fallback token of byte {@code b}. */
    public static int byteToken(int b) {
        return 3 + (b & 0xFF);
    }
}
