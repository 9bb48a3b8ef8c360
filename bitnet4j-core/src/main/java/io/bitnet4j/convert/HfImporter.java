package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.model.Architecture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Converts a Hugging Face BitNet or Llama model directory ({@code config.json} + safetensors) to GGUF, as
 * bitnet.cpp's pipeline does (HF → F32 GGUF with absmean-ternarized projections → {@code llama-quantize}) but in
 * one streamed pass: each tensor is read from the mapped safetensors, transformed and encoded only when the file is
 * written, so no second copy of the model is held in memory.
 *
 * <p>Projections that are already ternary ({−a, 0, +a} for one a) are kept; any other projection is ternarized with
 * BitNet's absmean rule ({@link Ternary#absmean}) and named in the log and the result. Projections are then stored
 * as {@code outType}, the token embedding (and an untied output head) as {@code embeddingType}, norms and biases as
 * F32. {@code LlamaForCausalLM} Q and K rows are permuted as llama.cpp's {@code convert_hf_to_gguf.py} does, so that
 * llama.cpp's NORM RoPE (adjacent pairs) equals HF's rotate-half RoPE. Tokenizer metadata is copied from another
 * GGUF ({@code vocabFrom}); building one from {@code tokenizer.json} is not implemented.
 */
public final class HfImporter {
    private static final System.Logger LOG = System.getLogger(HfImporter.class.getName());
    /** Projection types; the embedding types are {@link OutputTypes#EMBEDDING_TYPES}. */
    public static final List<GgmlType> OUT_TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.I2_S,
            GgmlType.TQ2_0, GgmlType.TQ1_0);

    private HfImporter() {
    }

    /**
     * @param vocabFrom     a GGUF whose {@code tokenizer.*} keys to copy, or null for a file without a tokenizer
     * @param embeddingType null for the default: F32 when {@code outType} is F32, else F16 (the released 2B-4T layout)
     * @param name          {@code general.name}, or null for the model directory's name
     */
    public record Options(Path modelDir, Path output, Path vocabFrom, GgmlType outType, GgmlType embeddingType,
                          String name) {
    }

    /** What was written: the tensor counts, and which projections had to be ternarized. */
    public record Result(HfConfig config, int tensors, int projections, GgmlType embeddingType,
                         List<String> ternarized, boolean hasTokenizer) {
    }

    private enum Role { EMBEDDING, NORM, PROJECTION, BIAS }

    /** One output tensor: where it comes from, how to store it, and how many heads to permute (0: none). */
    private record Planned(String name, SafetensorsTensor source, Role role, GgmlType type, int permuteHeads) {
    }

    public static Result convert(Options o) {
        if (!OUT_TYPES.contains(o.outType())) {
            throw BitnetException.usage("--outtype must be one of " + OutputTypes.names(OUT_TYPES) + ", got "
                    + o.outType());
        }
        GgmlType embeddingType = o.embeddingType() != null ? o.embeddingType()
                : o.outType() == GgmlType.F32 ? GgmlType.F32 : GgmlType.F16;
        if (!OutputTypes.EMBEDDING_TYPES.contains(embeddingType)) {
            throw BitnetException.usage("--embedding-type must be one of "
                    + OutputTypes.names(OutputTypes.EMBEDDING_TYPES) + ", got " + embeddingType);
        }
        if (!Files.isDirectory(o.modelDir())) {
            throw BitnetException.invalidFile(o.modelDir() + ": not a directory (expected a Hugging Face model "
                    + "directory with config.json and model.safetensors)");
        }
        HfConfig c = HfConfig.read(o.modelDir().resolve("config.json"));
        Map<String, GgufValue> tokenizer = o.vocabFrom() == null ? Map.of() : tokenizerKeys(o.vocabFrom(), c);
        if (tokenizer.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "no --vocab-from: {0} will have no tokenizer", o.output());
        }
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(o.modelDir())) {
            List<Planned> plan = plan(c, o.modelDir(), checkpoint, o.outType(), embeddingType);
            GgufWriter out = new GgufWriter();
            writeMetadata(out, c, o, tokenizer);
            List<String> ternarized = new ArrayList<>();
            for (Planned p : plan) {
                long[] shape = p.source().ggmlShape();
                out.addTensor(p.name(), p.type(), shape, data(p, shape, ternarized));
            }
            out.write(o.output());
            int projections = (int) plan.stream().filter(p -> p.role() == Role.PROJECTION).count();
            return new Result(c, plan.size(), projections, embeddingType, List.copyOf(ternarized),
                    !tokenizer.isEmpty());
        }
    }

    /** The {@code tokenizer.*} keys of {@code vocabFrom}, checked against the config's vocabulary size. */
    private static Map<String, GgufValue> tokenizerKeys(Path vocabFrom, HfConfig c) {
        try (GgufFile vocab = GgufFile.open(vocabFrom)) {
            Map<String, GgufValue> keys = new LinkedHashMap<>();
            vocab.metadata().asMap().forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) {
                    keys.put(k, v);
                }
            });
            List<String> tokens = vocab.metadata().optionalStringArray("tokenizer.ggml.tokens").orElseThrow(() ->
                    BitnetException.invalidModel(vocabFrom + ": no tokenizer.ggml.tokens to copy"));
            if (tokens.size() != c.vocabSize()) {
                throw BitnetException.invalidModel(vocabFrom + ": has " + tokens.size() + " tokens, but the model's "
                        + "vocab_size is " + c.vocabSize());
            }
            return keys;
        }
    }

    private static void writeMetadata(GgufWriter out, HfConfig c, Options o, Map<String, GgufValue> tokenizer) {
        String a = c.ggufArchitecture() + ".";
        String name = o.name() != null ? o.name()
                : String.valueOf(o.modelDir().toAbsolutePath().normalize().getFileName());
        out.putString("general.architecture", c.ggufArchitecture());
        out.putString("general.name", name);
        out.putU32(a + "vocab_size", c.vocabSize());
        out.putU32(a + "context_length", c.maxPositionEmbeddings());
        out.putU32(a + "embedding_length", c.hiddenSize());
        out.putU32(a + "block_count", c.layers());
        out.putU32(a + "feed_forward_length", c.intermediateSize());
        out.putU32(a + "rope.dimension_count", c.headDim());
        out.putU32(a + "attention.head_count", c.heads());
        out.putU32(a + "attention.head_count_kv", c.kvHeads());
        if (c.headDim() * c.heads() != c.hiddenSize()) {
            out.putU32(a + "attention.key_length", c.headDim());
            out.putU32(a + "attention.value_length", c.headDim());
        }
        if (c.activation() != c.architecture().defaultActivation()) {
            out.putString(a + "hidden_act", c.activation() == Architecture.Activation.SILU ? "silu" : "relu2");
        }
        out.putF32(a + "attention.layer_norm_rms_epsilon", c.rmsNormEps());
        c.ropeTheta().ifPresent(theta -> out.putF32(a + "rope.freq_base", theta));
        c.ropeScalingFactor().ifPresent(factor -> {
            out.putString(a + "rope.scaling.type", "linear");
            out.putF32(a + "rope.scaling.factor", factor);
        });
        out.putU32("general.file_type", OutputTypes.fileType(o.outType()));
        tokenizer.forEach(out::put);
        if (OutputTypes.isQuantized(o.outType())) {
            out.putU32("general.quantization_version", 2);
        }
    }

    private static List<Planned> plan(HfConfig c, Path dir, SafetensorsCheckpoint checkpoint, GgmlType outType,
                                      GgmlType embeddingType) {
        Planner p = new Planner(dir, checkpoint);
        boolean llama = c.architecture() == Architecture.LLAMA;
        int d = c.hiddenSize();
        p.take("model.embed_tokens.weight", "token_embd.weight", Role.EMBEDDING, embeddingType, 0, c.vocabSize(), d);
        p.take("model.norm.weight", "output_norm.weight", Role.NORM, GgmlType.F32, 0, d);
        boolean hasHead = checkpoint.tensors().containsKey("lm_head.weight");
        boolean tied = c.tieWordEmbeddings().orElse(!hasHead);
        if (tied) {
            p.skip("lm_head.weight");
        } else if (!hasHead) {
            throw BitnetException.invalidModel(dir.resolve("config.json") + ": tie_word_embeddings is false, but "
                    + "the checkpoint has no lm_head.weight");
        } else {
            p.take("lm_head.weight", "output.weight", Role.EMBEDDING, embeddingType, 0, c.vocabSize(), d);
            if (c.architecture().headSource() == Architecture.HeadSource.EMBEDDING_ALWAYS) {
                LOG.log(System.Logger.Level.WARNING, "lm_head.weight is written as output.weight, but {0} graphs "
                        + "(bitnet.cpp's and bitnet4j's) use the token embedding as the head", c.ggufArchitecture());
            }
        }
        for (int i = 0; i < c.layers(); i++) {
            String hf = "model.layers." + i + ".";
            String gg = "blk." + i + ".";
            p.take(hf + "input_layernorm.weight", gg + "attn_norm.weight", Role.NORM, GgmlType.F32, 0, d);
            p.projection(hf + "self_attn.q_proj", gg + "attn_q", outType, llama ? c.heads() : 0, c.queryDim(), d);
            p.projection(hf + "self_attn.k_proj", gg + "attn_k", outType, llama ? c.kvHeads() : 0, c.kvDim(), d);
            p.projection(hf + "self_attn.v_proj", gg + "attn_v", outType, 0, c.kvDim(), d);
            p.projection(hf + "self_attn.o_proj", gg + "attn_output", outType, 0, d, c.queryDim());
            if (c.architecture().hasSubNorms()) {
                p.take(hf + "self_attn.attn_sub_norm.weight", gg + "attn_sub_norm.weight", Role.NORM, GgmlType.F32,
                        0, c.queryDim());
            }
            p.take(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", Role.NORM, GgmlType.F32, 0, d);
            p.projection(hf + "mlp.gate_proj", gg + "ffn_gate", outType, 0, c.intermediateSize(), d);
            p.projection(hf + "mlp.up_proj", gg + "ffn_up", outType, 0, c.intermediateSize(), d);
            p.projection(hf + "mlp.down_proj", gg + "ffn_down", outType, 0, d, c.intermediateSize());
            if (c.architecture().hasSubNorms()) {
                p.take(hf + "mlp.ffn_sub_norm.weight", gg + "ffn_sub_norm.weight", Role.NORM, GgmlType.F32, 0,
                        c.intermediateSize());
            }
        }
        p.skipIf(n -> n.endsWith(".rotary_emb.inv_freq")); // recomputed from rope_theta by every runtime
        p.checkAllTaken();
        return p.plan;
    }

    /** Takes HF tensors by name, checking shapes and target types, and remembers which ones are left. */
    private static final class Planner {
        private final Path dir;
        private final Map<String, SafetensorsTensor> left;
        private final List<Planned> plan = new ArrayList<>();

        Planner(Path dir, SafetensorsCheckpoint checkpoint) {
            this.dir = dir;
            left = new LinkedHashMap<>(checkpoint.tensors());
        }

        void take(String hfName, String ggufName, Role role, GgmlType type, int permuteHeads, long... hfShape) {
            SafetensorsTensor t = left.remove(hfName);
            if (t == null) {
                throw BitnetException.invalidModel(dir + ": tensor '" + hfName + "' is missing");
            }
            add(t, ggufName, role, type, permuteHeads, hfShape);
        }

        /** A projection's weight, and its bias if the checkpoint has one. */
        void projection(String hfPrefix, String ggufPrefix, GgmlType type, int permuteHeads, long out, long in) {
            take(hfPrefix + ".weight", ggufPrefix + ".weight", Role.PROJECTION, type, permuteHeads, out, in);
            SafetensorsTensor bias = left.remove(hfPrefix + ".bias");
            if (bias != null) {
                add(bias, ggufPrefix + ".bias", Role.BIAS, GgmlType.F32, permuteHeads, out);
            }
        }

        private void add(SafetensorsTensor t, String ggufName, Role role, GgmlType type, int permuteHeads,
                         long... hfShape) {
            if (!Arrays.equals(t.shape(), hfShape)) {
                throw BitnetException.invalidModel(t.file() + ": tensor '" + t.name() + "' has shape "
                        + t.shapeString() + ", expected " + Arrays.toString(hfShape) + " from config.json");
            }
            t.requireConvertible();
            OutputTypes.checkRowLength(ggufName, t.ggmlShape(), type);
            if (role == Role.PROJECTION || role == Role.BIAS) {
                TensorEncoder.checkFitsInArray(ggufName, t.elementCount());
            }
            plan.add(new Planned(ggufName, t, role, type, permuteHeads));
        }

        void skip(String hfName) {
            left.remove(hfName);
        }

        void skipIf(Predicate<String> unused) {
            left.keySet().removeIf(unused);
        }

        void checkAllTaken() {
            if (!left.isEmpty()) {
                SafetensorsTensor first = left.values().iterator().next();
                throw BitnetException.unsupported(first.file() + ": cannot map tensor '" + first.name() + "' to a "
                        + "GGUF tensor" + (left.size() > 1 ? " (and " + (left.size() - 1) + " more)" : ""));
            }
        }
    }

    private static GgufWriter.TensorData data(Planned p, long[] shape, List<String> ternarized) {
        SafetensorsTensor source = p.source();
        return switch (p.role()) {
            case EMBEDDING, NORM -> TensorEncoder.of(p.name(), source::read, p.type(), shape);
            case BIAS -> sink -> TensorEncoder.of(permuted(p), p.type(), shape).writeTo(sink);
            case PROJECTION -> sink -> {
                float[] w = permuted(p);
                for (float v : w) {
                    if (!Float.isFinite(v)) {
                        throw BitnetException.invalidModel(source.file() + ": tensor '" + source.name()
                                + "' holds " + v);
                    }
                }
                if (Float.isNaN(Ternary.magnitude(w))) {
                    w = Ternary.absmean(w);
                    ternarized.add(p.name());
                    LOG.log(System.Logger.Level.INFO, "{0}: not ternary, ternarized (absmean)", p.name());
                }
                TensorEncoder.of(w, p.type(), shape).writeTo(sink);
            };
        };
    }

    /** The tensor's values, with rows permuted for llama.cpp's RoPE where the plan says so. */
    private static float[] permuted(Planned p) {
        float[] w = p.source().toFloats();
        if (p.permuteHeads() == 0) {
            return w;
        }
        long[] shape = p.source().shape();
        int rows = Math.toIntExact(shape[0]);
        int cols = shape.length > 1 ? Math.toIntExact(shape[1]) : 1;
        return permuteRopeRows(w, rows, cols, p.permuteHeads());
    }

    /**
     * convert_hf_to_gguf.py's {@code LlamaModel.permute}: within each head's rows, which HF orders as two halves
     * [x0..x_{n/2-1}, y0..y_{n/2-1}] (rotate-half RoPE), interleave them to [x0, y0, x1, y1, ...] (adjacent pairs).
     */
    static float[] permuteRopeRows(float[] w, int rows, int cols, int heads) {
        int headRows = rows / heads;
        int half = headRows / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int from = h * headRows + j * half + i;
                    int to = h * headRows + 2 * i + j;
                    System.arraycopy(w, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }
}
