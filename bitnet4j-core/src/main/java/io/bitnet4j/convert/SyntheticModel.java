package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.WeightFormat;
import io.bitnet4j.tensor.WeightFormats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Writes a synthetic model of a named shape: architecture {@code bitnet-b1.58} with the 24 metadata keys of the
 * released 2B-4T file, ternary projection weights times one per-tensor scale (a multiple of 1/64, so every format
 * holds them exactly), norms near 1, an embedding of small F16-exact values, and a byte-level BPE vocabulary of the
 * shape's size. Every value comes from the seed; tensors are generated while they are written, so a 1.2 GB model
 * needs little memory.
 */
public final class SyntheticModel {

    /** Model dimensions. */
    public record Shape(String name, int vocab, int context, int embedding, int layers, int feedForward, int heads,
                        int kvHeads, float ropeBase) {
        /** BitNet b1.58 2B-4T exactly (spec §3.2, §2.10). */
        public static final Shape B2_4T = new Shape("2b-4t", 128256, 4096, 2560, 30, 6912, 20, 5, 500000f);
        /** The shape of the tiny reference models in ../shared/refdata (seconds to write and run). */
        public static final Shape TINY = new Shape("tiny", 320, 4096, 256, 2, 512, 4, 2, 500000f);

        public static Shape forName(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "2b-4t", "2b" -> B2_4T;
                case "tiny" -> TINY;
                default -> throw BitnetException.usage("unknown synthetic shape '" + name + "' (2b-4t, tiny)");
            };
        }

        public int headDim() {
            return embedding / heads;
        }
    }

    private static final String ARCH = "bitnet-b1.58";

    private final Shape shape;
    private final GgmlType weightType;
    private final GgmlType embeddingType;
    private final long seed;
    private final GgufMetadata vocabulary;

    /**
     * @param vocabulary tokenizer metadata to copy (a GGUF's {@code tokenizer.*} keys), or null to generate a
     *                   byte-level BPE vocabulary of the shape's size
     */
    public SyntheticModel(Shape shape, GgmlType weightType, GgmlType embeddingType, long seed, GgufMetadata vocabulary) {
        this.shape = shape;
        this.weightType = weightType;
        this.embeddingType = embeddingType;
        this.seed = seed;
        this.vocabulary = vocabulary;
        WeightFormat format = WeightFormats.of(weightType);
        if (!format.canEncode() || weightType == GgmlType.Q8_0) {
            throw BitnetException.usage("synthetic weights must be i2_s, tq2_0, tq1_0, f16 or f32, got " + weightType);
        }
        if (embeddingType != GgmlType.F16 && embeddingType != GgmlType.F32) {
            throw BitnetException.usage("synthetic embeddings must be f16 or f32, got " + embeddingType);
        }
        int rowBlock = weightType == GgmlType.I2_S ? 128 : weightType.blockSize();
        if (shape.embedding() % rowBlock != 0 || shape.feedForward() % rowBlock != 0) {
            throw BitnetException.usage("shape " + shape.name() + " has rows that " + weightType
                    + " cannot hold (row lengths must be multiples of " + rowBlock + ")");
        }
        if (vocabulary != null) {
            int size = vocabulary.optionalStringArray("tokenizer.ggml.tokens").map(List::size).orElse(0);
            if (size != shape.vocab()) {
                throw BitnetException.usage(vocabulary.source() + ": vocabulary of " + size + " tokens, the shape "
                        + shape.name() + " needs " + shape.vocab());
            }
        }
    }

    /** Bytes the file's tensors will take. */
    public long tensorBytes() {
        long total = embeddingType.byteSize(new long[] {shape.embedding(), shape.vocab()});
        total += 4L * shape.embedding();
        int d = shape.embedding();
        int q = shape.heads() * shape.headDim();
        int kv = shape.kvHeads() * shape.headDim();
        int f = shape.feedForward();
        long perLayer = 4L * (d + q + d + f)
                + weightType.byteSize(new long[] {d, q}) + 2 * weightType.byteSize(new long[] {d, kv})
                + weightType.byteSize(new long[] {q, d}) + 2 * weightType.byteSize(new long[] {d, f})
                + weightType.byteSize(new long[] {f, d});
        return total + perLayer * shape.layers();
    }

    /** Writes the model; {@code progress} receives the bytes of tensor data written so far. */
    public void write(Path out, LongConsumer progress) {
        GgufWriter w = new GgufWriter();
        putMetadata(w);
        long[] written = {0};
        int d = shape.embedding();
        int q = shape.heads() * shape.headDim();
        int kv = shape.kvHeads() * shape.headDim();
        int f = shape.feedForward();
        int index = 0;
        addEmbedding(w, index++, written, progress);
        addNorm(w, "output_norm.weight", d, index++, written, progress);
        for (int layer = 0; layer < shape.layers(); layer++) {
            String p = "blk." + layer + ".";
            addNorm(w, p + "attn_norm.weight", d, index++, written, progress);
            addTernary(w, p + "attn_q.weight", d, q, index++, written, progress);
            addTernary(w, p + "attn_k.weight", d, kv, index++, written, progress);
            addTernary(w, p + "attn_v.weight", d, kv, index++, written, progress);
            addTernary(w, p + "attn_output.weight", q, d, index++, written, progress);
            addNorm(w, p + "attn_sub_norm.weight", q, index++, written, progress);
            addNorm(w, p + "ffn_norm.weight", d, index++, written, progress);
            addTernary(w, p + "ffn_gate.weight", d, f, index++, written, progress);
            addTernary(w, p + "ffn_up.weight", d, f, index++, written, progress);
            addTernary(w, p + "ffn_down.weight", f, d, index++, written, progress);
            addNorm(w, p + "ffn_sub_norm.weight", f, index++, written, progress);
        }
        w.write(out);
    }

    private void putMetadata(GgufWriter w) {
        String p = ARCH + ".";
        w.putString("general.architecture", ARCH);
        w.putString("general.name", "bitnet4j-synthetic-" + shape.name());
        w.putU32(p + "vocab_size", shape.vocab());
        w.putU32(p + "context_length", shape.context());
        w.putU32(p + "embedding_length", shape.embedding());
        w.putU32(p + "block_count", shape.layers());
        w.putU32(p + "feed_forward_length", shape.feedForward());
        w.putU32(p + "rope.dimension_count", shape.headDim());
        w.putU32(p + "attention.head_count", shape.heads());
        w.putU32(p + "attention.head_count_kv", shape.kvHeads());
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putF32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.putF32(p + "rope.freq_base", shape.ropeBase());
        w.putU32("general.file_type", fileType(weightType, embeddingType));
        if (vocabulary != null) {
            for (var e : vocabulary.asMap().entrySet()) {
                if (e.getKey().startsWith("tokenizer.")) {
                    w.put(e.getKey(), e.getValue());
                }
            }
        } else {
            SyntheticVocabulary.generate(shape.vocab(), seed).putInto(w);
        }
        w.putU32("general.quantization_version", 2);
    }

    /** llama.cpp's {@code llama_ftype} values (bitnet.cpp's for I2_S). */
    static int fileType(GgmlType weights, GgmlType embedding) {
        return switch (weights) {
            case F32 -> 0;
            case F16 -> 1;
            case TQ1_0 -> 36;
            case TQ2_0 -> 37;
            case I2_S -> 40;
            default -> throw new IllegalArgumentException(weights.toString());
        };
    }

    private SplittableRandom random(int tensorIndex) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + tensorIndex);
    }

    private void addEmbedding(GgufWriter w, int index, long[] written, LongConsumer progress) {
        int d = shape.embedding();
        long[] dims = {d, shape.vocab()};
        w.addTensor("token_embd.weight", embeddingType, dims, sink -> {
            SplittableRandom rng = random(index);
            int bytesPerValue = embeddingType == GgmlType.F16 ? 2 : 4;
            ByteBuffer row = ByteBuffer.allocate(d * bytesPerValue).order(ByteOrder.LITTLE_ENDIAN);
            for (int t = 0; t < shape.vocab(); t++) {
                row.clear();
                for (int i = 0; i < d; i++) {
                    short h = Float.floatToFloat16((float) (gaussian(rng) * 0.05));
                    if (embeddingType == GgmlType.F16) {
                        row.putShort(h);
                    } else {
                        row.putFloat(Float.float16ToFloat(h));
                    }
                }
                row.flip();
                sink.write(row);
                report(written, progress, row.capacity());
            }
        });
    }

    private void addNorm(GgufWriter w, String name, int n, int index, long[] written, LongConsumer progress) {
        w.addTensor(name, GgmlType.F32, new long[] {n}, sink -> {
            SplittableRandom rng = random(index);
            ByteBuffer buf = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                buf.putFloat((float) (1 + 0.1 * gaussian(rng)));
            }
            buf.flip();
            sink.write(buf);
            report(written, progress, 4L * n);
        });
    }

    /** Random codes -1/0/+1 times one scale k/64 (k in 1..4), encoded row by row. */
    private void addTernary(GgufWriter w, String name, int in, int out, int index, long[] written,
                            LongConsumer progress) {
        w.addTensor(name, weightType, new long[] {in, out}, sink -> {
            SplittableRandom rng = random(index);
            float scale = (1 + rng.nextInt(4)) / 64f;
            if (weightType == GgmlType.I2_S) {
                writeI2S(sink, rng, in, out, scale, written, progress);
                return;
            }
            WeightFormat format = WeightFormats.of(weightType);
            float[] row = new float[in];
            for (int r = 0; r < out; r++) {
                for (int i = 0; i < in; i++) {
                    row[i] = (nextCode(rng) - 1) * scale;
                }
                byte[] bytes = format.encode(row, new long[] {in, 1});
                sink.write(ByteBuffer.wrap(bytes));
                report(written, progress, bytes.length);
            }
        });
    }

    /** I2S-128 directly from codes: byte g of each 32-byte group holds elements g, g+32, g+64, g+96. */
    private static void writeI2S(GgufWriter.TensorSink sink, SplittableRandom rng, int in, int out, float scale,
                                 long[] written, LongConsumer progress) throws java.io.IOException {
        byte[] codes = new byte[in];
        ByteBuffer packed = ByteBuffer.allocate(in / 4);
        for (int r = 0; r < out; r++) {
            for (int i = 0; i < in; i++) {
                codes[i] = (byte) nextCode(rng);
            }
            packed.clear();
            for (int block = 0; block < in; block += 128) {
                for (int g = 0; g < 32; g++) {
                    int b = codes[block + g] << 6 | codes[block + g + 32] << 4 | codes[block + g + 64] << 2
                            | codes[block + g + 96];
                    packed.put((byte) b);
                }
            }
            packed.flip();
            sink.write(packed);
            report(written, progress, in / 4);
        }
        ByteBuffer tail = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        tail.putFloat(scale);
        tail.clear();
        sink.write(tail);
    }

    /** A code 0, 1 or 2 (meaning -1, 0, +1), uniformly. */
    private static int nextCode(SplittableRandom rng) {
        return rng.nextInt(3);
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static void report(long[] written, LongConsumer progress, long bytes) {
        written[0] += bytes;
        progress.accept(written[0]);
    }

    /** Names of the tensors a synthetic model has, in file order (for tests). */
    public List<String> tensorNames() {
        List<String> names = new ArrayList<>(List.of("token_embd.weight", "output_norm.weight"));
        for (int layer = 0; layer < shape.layers(); layer++) {
            for (String t : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_sub_norm",
                    "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_sub_norm")) {
                names.add("blk." + layer + "." + t + ".weight");
            }
        }
        return names;
    }

    static GgufValue.StringValue text(String s) {
        return new GgufValue.StringValue(s);
    }
}
