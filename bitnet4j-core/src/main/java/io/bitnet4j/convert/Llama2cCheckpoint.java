package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A llama2.c checkpoint in its legacy format (the one {@code run.c} reads and the tinyllamas models use): seven
 * little-endian int32 — dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len — then float32 arrays
 * in this order: token embedding [vocab, dim], attention norms [layers, dim], wq [layers, dim, dim], wk and wv
 * [layers, kv_dim, dim], wo [layers, dim, dim], FFN norms [layers, dim], w1 [layers, hidden, dim], w2 [layers, dim,
 * hidden], w3 [layers, hidden, dim], final norm [dim], the RoPE tables freq_cis_real/imag [seq_len, head_size/2]
 * each, and, only when vocab_size is negative, the classifier [vocab, dim]. Every matrix is row-major with one row
 * per output, which is ggml's layout with ne0 = the input dimension, so tensors are byte slices of the file.
 */
public final class Llama2cCheckpoint implements AutoCloseable {
    private static final int HEADER_BYTES = 7 * Integer.BYTES;
    /** "ak42" as a little-endian int32: the magic of llama2.c's newer export versions, which this reader rejects. */
    private static final int VERSIONED_EXPORT_MAGIC = 0x616b3432;

    /**
     * The header. {@code sharedClassifier} is true when the stored vocab_size was positive: the output head is the
     * token embedding and no classifier follows the weights.
     */
    public record Header(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize,
                         boolean sharedClassifier, int seqLen) {
        public int headSize() {
            return dim / heads;
        }

        public int kvDim() {
            return dim / heads * kvHeads;
        }

        @Override
        public String toString() {
            return "dim " + dim + ", hidden_dim " + hiddenDim + ", " + layers + " layers, " + heads + " heads, "
                    + kvHeads + " kv heads, vocab " + vocabSize + (sharedClassifier ? "" : " (own classifier)")
                    + ", seq_len " + seqLen;
        }
    }

    private final MappedFile file;
    private final Header header;
    private final long[] sectionStart;

    /** Sections of the weights, in file order. */
    private enum Section {
        EMBEDDING, ATTENTION_NORM, WQ, WK, WV, WO, FFN_NORM, W1, W2, W3, FINAL_NORM, ROPE_TABLES, CLASSIFIER
    }

    private Llama2cCheckpoint(MappedFile file, Header header, long[] sectionStart) {
        this.file = file;
        this.header = header;
        this.sectionStart = sectionStart;
    }

    /** Maps and validates a checkpoint: the header's sizes must describe the file's length exactly. */
    public static Llama2cCheckpoint open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            Header header = readHeader(file);
            long[] starts = sectionStarts(header, path);
            long expected = starts[Section.values().length];
            if (expected != file.size()) {
                throw BitnetException.invalidFile(path + ": the header (" + header + ") describes a file of "
                        + expected + " bytes, but it has " + file.size());
            }
            return new Llama2cCheckpoint(file, header, starts);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Header readHeader(MappedFile file) {
        Path path = file.path();
        if (file.size() < HEADER_BYTES) {
            throw BitnetException.invalidFile(path + ": " + file.size() + " bytes is too short for a llama2.c "
                    + "checkpoint header (" + HEADER_BYTES + " bytes)");
        }
        MemorySegment b = file.bytes();
        int[] v = new int[7];
        for (int i = 0; i < v.length; i++) {
            v[i] = b.get(Layouts.INT, 4L * i);
        }
        if (v[0] == VERSIONED_EXPORT_MAGIC) {
            throw BitnetException.unsupported(path + ": a llama2.c export of version " + v[1] + " (magic 'ak42'); "
                    + "only the legacy checkpoint format (export version 0, as run.c reads) is supported");
        }
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < v.length; i++) {
            if (i == 5 ? v[i] == 0 || v[i] == Integer.MIN_VALUE : v[i] <= 0) {
                throw BitnetException.invalidFile(path + ": header field " + names[i] + " = " + v[i]
                        + " is not valid (not a llama2.c checkpoint?)");
            }
        }
        int dim = v[0];
        int heads = v[3];
        int kvHeads = v[4];
        if (dim % heads != 0 || (dim / heads) % 2 != 0) {
            throw BitnetException.invalidFile(path + ": dim " + dim + " is not n_heads " + heads
                    + " times an even head size");
        }
        if (kvHeads > heads || heads % kvHeads != 0) {
            throw BitnetException.invalidFile(path + ": n_heads " + heads + " is not a multiple of n_kv_heads "
                    + kvHeads);
        }
        return new Header(dim, v[1], v[2], heads, kvHeads, Math.abs(v[5]), v[5] > 0, v[6]);
    }

    /** Byte offset where each section starts, plus the end of the last one; overflow-safe. */
    private static long[] sectionStarts(Header h, Path path) {
        Section[] sections = Section.values();
        long[] starts = new long[sections.length + 1];
        long offset = HEADER_BYTES;
        try {
            for (Section s : sections) {
                starts[s.ordinal()] = offset;
                offset = Math.addExact(offset, Math.multiplyExact(floats(h, s), (long) Float.BYTES));
            }
        } catch (ArithmeticException e) {
            throw BitnetException.invalidFile(path + ": the header (" + h + ") describes more than 2^63 bytes");
        }
        starts[sections.length] = offset;
        return starts;
    }

    private static long floats(Header h, Section s) {
        long dim = h.dim();
        long layers = h.layers();
        long hidden = h.hiddenDim();
        return switch (s) {
            case EMBEDDING -> Math.multiplyExact(h.vocabSize(), dim);
            case ATTENTION_NORM, FFN_NORM -> Math.multiplyExact(layers, dim);
            case WQ, WO -> Math.multiplyExact(layers, Math.multiplyExact(dim, dim));
            case WK, WV -> Math.multiplyExact(layers, Math.multiplyExact(dim, (long) h.kvDim()));
            case W1, W2, W3 -> Math.multiplyExact(layers, Math.multiplyExact(dim, hidden));
            case FINAL_NORM -> dim;
            case ROPE_TABLES -> Math.multiplyExact((long) h.seqLen(), (long) h.headSize());
            case CLASSIFIER -> h.sharedClassifier() ? 0 : Math.multiplyExact(h.vocabSize(), dim);
        };
    }

    public Path path() {
        return file.path();
    }

    public Header header() {
        return header;
    }

    /** Token embedding, {@code [vocab][dim]}. */
    public MemorySegment tokenEmbedding() {
        return whole(Section.EMBEDDING);
    }

    /** The output head: the stored classifier, or the token embedding when it is shared. */
    public MemorySegment classifier() {
        return header.sharedClassifier() ? tokenEmbedding() : whole(Section.CLASSIFIER);
    }

    public MemorySegment finalNorm() {
        return whole(Section.FINAL_NORM);
    }

    public MemorySegment attentionNorm(int layer) {
        return layerSlice(Section.ATTENTION_NORM, layer);
    }

    public MemorySegment ffnNorm(int layer) {
        return layerSlice(Section.FFN_NORM, layer);
    }

    /** Query projection {@code [dim][dim]}. */
    public MemorySegment wq(int layer) {
        return layerSlice(Section.WQ, layer);
    }

    /** Key projection {@code [kv_dim][dim]}. */
    public MemorySegment wk(int layer) {
        return layerSlice(Section.WK, layer);
    }

    /** Value projection {@code [kv_dim][dim]}. */
    public MemorySegment wv(int layer) {
        return layerSlice(Section.WV, layer);
    }

    /** Attention output projection {@code [dim][dim]}. */
    public MemorySegment wo(int layer) {
        return layerSlice(Section.WO, layer);
    }

    /** FFN gate {@code [hidden][dim]}. */
    public MemorySegment w1(int layer) {
        return layerSlice(Section.W1, layer);
    }

    /** FFN down projection {@code [dim][hidden]}. */
    public MemorySegment w2(int layer) {
        return layerSlice(Section.W2, layer);
    }

    /** FFN up projection {@code [hidden][dim]}. */
    public MemorySegment w3(int layer) {
        return layerSlice(Section.W3, layer);
    }

    private MemorySegment whole(Section s) {
        long start = sectionStart[s.ordinal()];
        return file.bytes().asSlice(start, sectionStart[s.ordinal() + 1] - start);
    }

    private MemorySegment layerSlice(Section s, int layer) {
        MemorySegment all = whole(s);
        long perLayer = all.byteSize() / header.layers();
        return all.asSlice(layer * perLayer, perLayer);
    }

    @Override
    public void close() {
        file.close();
    }
}
