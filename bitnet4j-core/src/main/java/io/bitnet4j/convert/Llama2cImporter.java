package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Converts a llama2.c checkpoint and its tokenizer into an F32 GGUF of architecture {@code llama}, as llama.cpp's
 * {@code llama-convert-llama2c-to-ggml} does: the same 19 metadata keys in the same order, the same tensors in the
 * same order, the weights copied unchanged (llama2.c's RoPE rotates adjacent pairs, which is llama.cpp's NORM
 * RoPE, so Q and K need no permutation) and {@code output.weight} written out even when it is the shared
 * embedding. Two deliberate differences: {@code context_length} is the checkpoint's seq_len (llama.cpp's converter
 * writes a hard-coded 128 unless told otherwise), and {@code rope.dimension_count} is the head size (llama.cpp's
 * caps it at 64, which would rotate only part of a larger head where llama2.c rotates all of it; no tinyllamas
 * model has a head larger than 64).
 */
public final class Llama2cImporter {
    /** llama.cpp's {@code LLAMA_TOKEN_NULL} as the u32 its converter writes for "no such token". */
    private static final long NO_TOKEN = 0xFFFFFFFFL;
    /** llama2.c's RMSNorm epsilon, which llama.cpp's converter writes as a constant. */
    private static final float RMS_EPSILON = 1e-5f;

    private Llama2cImporter() {
    }

    /**
     * @param contextLength the context length to record; 0 means the checkpoint's seq_len
     */
    public record Options(Path checkpoint, Path tokenizer, Path output, int contextLength) {
    }

    /** What was converted, for the caller to report. */
    public record Result(Llama2cCheckpoint.Header header, int contextLength, int tensors) {
    }

    public static Result convert(Options options) {
        if (options.contextLength() < 0) {
            throw BitnetException.usage("--context must be positive, got " + options.contextLength());
        }
        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(options.checkpoint())) {
            Llama2cCheckpoint.Header h = checkpoint.header();
            Llama2cVocab vocab = Llama2cVocab.read(options.tokenizer(), h.vocabSize());
            int context = options.contextLength() > 0 ? options.contextLength() : h.seqLen();

            GgufWriter out = new GgufWriter();
            out.putStrings("tokenizer.ggml.tokens", vocab.tokens());
            out.putF32s("tokenizer.ggml.scores", vocab.scores());
            out.putI32s("tokenizer.ggml.token_type", vocab.types());
            out.putString("tokenizer.ggml.model", "llama");
            out.putString("general.architecture", "llama");
            out.putString("general.name", "llama");
            out.putU32("tokenizer.ggml.unknown_token_id", Llama2cVocab.UNKNOWN_ID);
            out.putU32("tokenizer.ggml.bos_token_id", Llama2cVocab.BOS_ID);
            out.putU32("tokenizer.ggml.eos_token_id", Llama2cVocab.EOS_ID);
            out.putU32("tokenizer.ggml.seperator_token_id", NO_TOKEN); // sic: llama.cpp's spelling
            out.putU32("tokenizer.ggml.padding_token_id", NO_TOKEN);
            out.putU32("llama.context_length", context);
            out.putU32("llama.embedding_length", h.dim());
            out.putU32("llama.feed_forward_length", h.hiddenDim());
            out.putU32("llama.attention.head_count", h.heads());
            out.putU32("llama.attention.head_count_kv", h.kvHeads());
            out.putU32("llama.block_count", h.layers());
            out.putU32("llama.rope.dimension_count", h.headSize());
            out.putF32("llama.attention.layer_norm_rms_epsilon", RMS_EPSILON);

            long dim = h.dim();
            long kvDim = h.kvDim();
            long hidden = h.hiddenDim();
            long vocabSize = h.vocabSize();
            f32(out, "token_embd.weight", checkpoint.tokenEmbedding(), dim, vocabSize);
            f32(out, "output_norm.weight", checkpoint.finalNorm(), dim);
            f32(out, "output.weight", checkpoint.classifier(), dim, vocabSize);
            for (int i = 0; i < h.layers(); i++) {
                String p = "blk." + i + ".";
                f32(out, p + "attn_q.weight", checkpoint.wq(i), dim, dim);
                f32(out, p + "attn_k.weight", checkpoint.wk(i), dim, kvDim);
                f32(out, p + "attn_v.weight", checkpoint.wv(i), dim, kvDim);
                f32(out, p + "attn_output.weight", checkpoint.wo(i), dim, dim);
                f32(out, p + "attn_norm.weight", checkpoint.attentionNorm(i), dim);
                f32(out, p + "ffn_gate.weight", checkpoint.w1(i), dim, hidden);
                f32(out, p + "ffn_down.weight", checkpoint.w2(i), hidden, dim);
                f32(out, p + "ffn_up.weight", checkpoint.w3(i), dim, hidden);
                f32(out, p + "ffn_norm.weight", checkpoint.ffnNorm(i), dim);
            }
            out.write(options.output());
            return new Result(h, context, 3 + 9 * h.layers());
        }
    }

    private static void f32(GgufWriter out, String name, MemorySegment data, long... shape) {
        out.addTensor(name, GgmlType.F32, shape, data);
    }
}
