package io.bitnet4j.engine;

import io.bitnet4j.BitnetException;
import io.bitnet4j.kernel.ActivationPreparer;
import io.bitnet4j.kernel.Attention;
import io.bitnet4j.kernel.AttentionKernel;
import io.bitnet4j.kernel.GgmlMath;
import io.bitnet4j.kernel.KernelSelector;
import io.bitnet4j.kernel.MatMul;
import io.bitnet4j.kernel.RmsNorm;
import io.bitnet4j.kernel.RopeTable;
import io.bitnet4j.kernel.WorkerPool;
import io.bitnet4j.model.Architecture;
import io.bitnet4j.model.LayerWeights;
import io.bitnet4j.model.Model;
import io.bitnet4j.model.ModelConfig;
import io.bitnet4j.model.Weights;
import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;

/**
 * The forward pass of the BitNet family and llama on the CPU (spec §3.3), one method per step. A batch of up to
 * {@code batchSize} tokens goes through each weight matrix together; every buffer is allocated once here.
 *
 * <p>Shapes: T = tokens in the batch, D = embedding, Q = heads × head_dim, KV = kv heads × head_dim,
 * F = feed-forward length, V = vocabulary.
 */
public final class CpuForwardPass implements ForwardPass {
    /**
     * A batch of at least this many tokens attends a layer's F16 cache widened to floats once for all of them, by
     * the prompt attention's own kernel (each token otherwise widens every key and value it reads again, through the
     * decoding attention). Compiling that kernel costs a short prompt more than it saves: with it from 4 tokens on,
     * a 17-token prompt's first token came 0.8-1.2 s later and its peak RSS rose by 7 MiB (C2's compiler memory).
     */
    private static final int MIN_TOKENS_TO_WIDEN = 32;
    /** Up to this many positions (10.5 MB of floats for the 2B-4T shape); longer contexts attend the F16 cache. */
    private static final int MAX_POSITIONS_TO_WIDEN = 2048;

    private final ModelConfig c;
    private final Weights w;
    private final InferenceOptions options;
    private final WorkerPool pool;
    private final MatMul matmul;
    private final AttentionKernel attention;
    private final ActivationPreparer preparer;
    private final RopeTable rope;
    private final int maxBatch;
    private final float attentionScale;

    private final float[] hidden;     // [T][D] residual stream
    private final float[] normed;     // [T][D] normalized input of a block
    private final float[] q;          // [T][Q]
    private final float[] k;          // [T][KV]
    private final float[] v;          // [T][KV]
    private final float[] attended;   // [T][Q] attention output
    private final float[] projected;  // [T][D] output of attn_output / ffn_down
    private final float[] gate;       // [T][F]
    private final float[] up;         // [T][F]
    private final float[][] qkv;      // {q, k, v}
    private final float[][] upGate;   // {up, gate}
    /** The weights of one product with a shared input, while it runs. */
    private final WeightMatrix[] sameInput = new WeightMatrix[MatMul.MAX_SAME_INPUT];
    private final AttentionTask attentionTask;
    private final TokenRowsTask tokenRowsTask = new TokenRowsTask();

    public CpuForwardPass(Model model, InferenceOptions options) {
        this.c = model.config();
        this.w = model.weights();
        this.options = options;
        this.maxBatch = options.batchSize();
        this.pool = new WorkerPool(options.effectiveThreads());
        KernelSelector kernels = options.scalarKernels() ? KernelSelector.scalar() : KernelSelector.fastest();
        this.matmul = new MatMul(pool, kernels);
        this.attention = kernels.attention();
        this.preparer = new ActivationPreparer(maxBatch, kernels, pool);
        int context = options.effectiveContext(c.contextLength());
        this.rope = new RopeTable(c.ropeDims(), c.headDim(), c.architecture().ropeStyle() == Architecture.RopeStyle.NEOX,
                c.ropeFreqBase(), c.ropeFreqScale(), context);
        this.attentionScale = 1.0f / (float) Math.sqrt(c.headDim());
        int t = maxBatch;
        this.hidden = new float[t * c.embeddingLength()];
        this.normed = new float[t * c.embeddingLength()];
        this.q = new float[t * c.queryDim()];
        this.k = new float[t * c.kvDim()];
        this.v = new float[t * c.kvDim()];
        this.attended = new float[t * c.queryDim()];
        this.projected = new float[t * c.embeddingLength()];
        this.gate = new float[t * c.feedForwardLength()];
        this.up = new float[t * c.feedForwardLength()];
        this.qkv = new float[][] {q, k, v};
        this.upGate = new float[][] {up, gate};
        this.attentionTask = new AttentionTask(pool.threads(), context, c.headDim());
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    /** The most positions a cache for this pass may hold (the RoPE table's length). */
    public int contextLength() {
        return options.effectiveContext(c.contextLength());
    }

    @Override
    public KvCache newCache(int capacity) {
        if (capacity > contextLength()) {
            throw BitnetException.usage("KV cache of " + capacity + " positions exceeds the context length "
                    + contextLength());
        }
        return new KvCache(options.kvType(), c.blockCount(), capacity, c.kvDim());
    }

    @Override
    public String describe() {
        return pool.threads() + " thread(s), batch " + maxBatch + ", KV cache " + options.kvType() + ", activations "
                + options.activationMode().name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void forward(KvCache cache, int[] tokens, int offset, int count, int startPos, float[] logits,
                        boolean allPositions) {
        if (startPos < 0 || count < 0 || startPos + count > cache.capacity()) {
            throw BitnetException.limit("positions " + startPos + ".." + (startPos + count) + " exceed the context of "
                    + cache.capacity() + " tokens");
        }
        for (int done = 0; done < count; done += maxBatch) {
            int n = Math.min(maxBatch, count - done);
            boolean last = done + n == count;
            forwardBatch(cache, tokens, offset + done, n, startPos + done);
            if (allPositions) {
                outputHead(0, n, logits, done * c.vocabSize());
            } else if (last) {
                outputHead(n - 1, 1, logits, 0);
            }
        }
    }

    private void forwardBatch(KvCache cache, int[] tokens, int offset, int n, int startPos) {
        embed(tokens, offset, n);
        for (int layer = 0; layer < c.blockCount(); layer++) {
            LayerWeights lw = w.layers().get(layer);
            attentionBlock(layer, lw, cache, n, startPos);
            feedForwardBlock(lw, n);
        }
    }

    /** h = token_embd[token]: one row per token, decoded exactly. */
    private void embed(int[] tokens, int offset, int n) {
        int d = c.embeddingLength();
        WeightMatrix embedding = w.tokenEmbedding();
        for (int t = 0; t < n; t++) {
            int token = tokens[offset + t];
            if (token < 0 || token >= c.vocabSize()) {
                throw BitnetException.usage("token id " + token + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            embedding.format().decodeRow(embedding.tensor(), token, hidden, t * d);
        }
    }

    /** h += Wo · subnorm(attention(rope(Wq a), rope(Wk a), Wv a)), a = rmsnorm(h). */
    private void attentionBlock(int layer, LayerWeights lw, KvCache cache, int n, int startPos) {
        int d = c.embeddingLength();
        normalize(hidden, d, n, lw.attnNorm(), normed);
        multiplySameInput(normed, d, n, qkv, lw.wq(), lw.wk(), lw.wv());
        scaleAndBias(lw.wq(), q, scaleOf(lw, 0), biasOf(lw, 0), n);
        scaleAndBias(lw.wk(), k, scaleOf(lw, 1), biasOf(lw, 1), n);
        scaleAndBias(lw.wv(), v, scaleOf(lw, 2), biasOf(lw, 2), n);
        rotateAndCache(layer, cache, n, startPos);
        attend(layer, cache, n, startPos);
        if (lw.attnSubNorm() != null) {
            normalize(attended, c.queryDim(), n, lw.attnSubNorm(), attended);
        }
        Activations x = prepare(lw.wo(), attended, c.queryDim(), n, null);
        project(lw.wo(), x, projected, scaleOf(lw, 3), biasOf(lw, 3), n);
        addResidual(projected, d, n);
    }

    /** h += Wdown · subnorm(act(Wgate f) ⊙ Wup f), f = rmsnorm(h). */
    private void feedForwardBlock(LayerWeights lw, int n) {
        int d = c.embeddingLength();
        int f = c.feedForwardLength();
        normalize(hidden, d, n, lw.ffnNorm(), normed);
        multiplySameInput(normed, d, n, upGate, lw.wUp(), lw.wGate(), null);
        scaleAndBias(lw.wUp(), up, scaleOf(lw, 5), null, n);
        scaleAndBias(lw.wGate(), gate, scaleOf(lw, 4), null, n);
        gateActivation(n);
        if (lw.ffnSubNorm() != null) {
            normalize(gate, f, n, lw.ffnSubNorm(), gate);
        }
        Activations x = prepare(lw.wDown(), gate, f, n, null);
        project(lw.wDown(), x, projected, scaleOf(lw, 6), null, n);
        addResidual(projected, d, n);
    }

    /** logits = head · rmsnorm(h) for tokens [first, first+count) of the batch. */
    private void outputHead(int first, int count, float[] logits, int logitsOffset) {
        int d = c.embeddingLength();
        for (int t = 0; t < count; t++) {
            RmsNorm.apply(hidden, (first + t) * d, d, w.outputNorm(), c.rmsEpsilon(), normed, t * d);
        }
        WeightMatrix head = w.output();
        Activations x = prepare(head, normed, d, count, null);
        if (logitsOffset == 0) {
            matmul.multiply(head, x, logits);
        } else {
            float[] block = preparer.scratch(count * c.vocabSize());
            matmul.multiply(head, x, block);
            System.arraycopy(block, 0, logits, logitsOffset, count * c.vocabSize());
        }
    }

    /** RMSNorm of each of n rows of length len. */
    private void normalize(float[] in, int len, int n, float[] weight, float[] out) {
        tokenRowsTask.normalize(in, len, weight, out);
        pool.parallelFor(n, tokenRowsTask);
        tokenRowsTask.clear();
    }

    /** The input rows prepared for w's activation type, reusing {@code previous} when it already is. */
    private Activations prepare(WeightMatrix weight, float[] in, int len, int n, Activations previous) {
        ActivationType type = activationTypeFor(weight);
        if (previous != null && previous.type() == type) {
            return previous;
        }
        return preparer.prepare(in, len, n, type);
    }

    private ActivationType activationTypeFor(WeightMatrix weight) {
        if (options.activationMode() == ActivationMode.TOKEN_INT8 && weight.format().accepts(ActivationType.I8_TOKEN)) {
            return ActivationType.I8_TOKEN;
        }
        return weight.activationType();
    }

    /**
     * {@code outs[i] = W_i a} for the two or three weights ({@code third} may be null) that read the same rows
     * {@code a} (q, k and v; up and gate): one product for all where they take one activation type, so that a
     * prompt's lookup tables are built once for all of them.
     */
    private void multiplySameInput(float[] in, int len, int n, float[][] outs, WeightMatrix first,
                                   WeightMatrix second, WeightMatrix third) {
        sameInput[0] = first;
        sameInput[1] = second;
        sameInput[2] = third;
        int count = third == null ? 2 : 3;
        Activations x = prepare(first, in, len, n, null);
        boolean oneType = true;
        for (int i = 1; i < count; i++) {
            oneType &= activationTypeFor(sameInput[i]) == x.type();
        }
        if (oneType) {
            matmul.multiply(sameInput, outs, count, x);
        } else {
            for (int i = 0; i < count; i++) {
                x = prepare(sameInput[i], in, len, n, x);
                matmul.multiply(sameInput[i], x, outs[i]);
            }
        }
        java.util.Arrays.fill(sameInput, null);
    }

    /** out = W x (then × scale, + bias, per token). */
    private void project(WeightMatrix weight, Activations x, float[] out, float scale, float[] bias, int n) {
        matmul.multiply(weight, x, out);
        scaleAndBias(weight, out, scale, bias, n);
    }

    /** {@code out *= scale}, then {@code out += bias} per token, for the product of {@code weight}. */
    private static void scaleAndBias(WeightMatrix weight, float[] out, float scale, float[] bias, int n) {
        int rows = weight.rows();
        if (scale != 1f) {
            for (int i = 0; i < n * rows; i++) {
                out[i] *= scale;
            }
        }
        if (bias != null) {
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < rows; r++) {
                    out[t * rows + r] += bias[r];
                }
            }
        }
    }

    /** RoPE on q and k of each token at its position, then k and v into the cache. */
    private void rotateAndCache(int layer, KvCache cache, int n, int startPos) {
        tokenRowsTask.rotateAndCache(cache, layer, startPos);
        pool.parallelFor(n, tokenRowsTask);
        tokenRowsTask.clear();
    }

    /** Causal grouped-query attention of every (token, head), split across threads. */
    private void attend(int layer, KvCache cache, int n, int startPos) {
        attentionTask.set(cache, layer, startPos, n);
        if (attentionTask.widened) {
            attentionTask.widening = true;
            pool.parallelFor(attentionTask.widenItems(), attentionTask);
            attentionTask.widening = false;
        }
        pool.parallelFor(attentionTask.items(), attentionTask);
        attentionTask.clear();
    }

    /** gate = act(gate) ⊙ up: relu² or SiLU, tokens split across threads. */
    private void gateActivation(int n) {
        tokenRowsTask.activate();
        pool.parallelFor(n, tokenRowsTask);
        tokenRowsTask.clear();
    }

    /** act(gate) ⊙ up over {@code gate[from, to)}, a whole number of token rows. */
    private void activateRows(int from, int to) {
        if (c.activation() == Architecture.Activation.RELU_SQUARED) {
            for (int i = from; i < to; i++) {
                float r = Math.max(gate[i], 0f);
                gate[i] = r * r * up[i];
            }
        } else {
            int f = c.feedForwardLength();
            for (int row = from; row < to; row += f) {
                int grouped = f & ~(GgmlMath.LANES - 1);
                for (int i = row; i < row + grouped; i++) {
                    gate[i] = GgmlMath.silu(gate[i]) * up[i];
                }
                for (int i = row + grouped; i < row + f; i++) {
                    gate[i] = GgmlMath.siluTail(gate[i]) * up[i];
                }
            }
        }
    }

    /** h += x. */
    private void addResidual(float[] x, int len, int n) {
        for (int i = 0; i < n * len; i++) {
            hidden[i] += x[i];
        }
    }

    private static float scaleOf(LayerWeights lw, int projection) {
        LayerWeights.ProjectionScales s = lw.scales();
        if (s == null) {
            return 1f;
        }
        return switch (projection) {
            case 0 -> s.q();
            case 1 -> s.k();
            case 2 -> s.v();
            case 3 -> s.o();
            case 4 -> s.gate();
            case 5 -> s.up();
            default -> s.down();
        };
    }

    private static float[] biasOf(LayerWeights lw, int projection) {
        LayerWeights.AttentionBiases b = lw.biases();
        if (b == null) {
            return null;
        }
        return switch (projection) {
            case 0 -> b.q();
            case 1 -> b.k();
            case 2 -> b.v();
            default -> b.o();
        };
    }

    @Override
    public void close() {
        pool.close();
    }

    /**
     * The per-token steps between matrix products (RMSNorm, the gated activation, RoPE and the cache store),
     * tokens split across threads: each token's row is computed as on one thread, so results do not depend on the
     * thread count.
     */
    private final class TokenRowsTask implements WorkerPool.RangeTask {
        private enum Step { NORMALIZE, ACTIVATE, ROTATE_AND_CACHE }

        private Step step;
        private float[] in;
        private int len;
        private float[] weight;
        private float[] out;
        private KvCache cache;
        private int layer;
        private int startPos;

        /** RMSNorm of each token's row of {@code in} (rows of {@code len}) times {@code weight}, into {@code out}. */
        void normalize(float[] in, int len, float[] weight, float[] out) {
            this.step = Step.NORMALIZE;
            this.in = in;
            this.len = len;
            this.weight = weight;
            this.out = out;
        }

        /** The gated activation of each token's feed-forward row. */
        void activate() {
            this.step = Step.ACTIVATE;
            this.len = c.feedForwardLength();
        }

        /** RoPE on each token's q and k, and k and v into the cache at position {@code startPos + t}. */
        void rotateAndCache(KvCache cache, int layer, int startPos) {
            this.step = Step.ROTATE_AND_CACHE;
            this.cache = cache;
            this.layer = layer;
            this.startPos = startPos;
        }

        void clear() {
            in = null;
            weight = null;
            out = null;
            cache = null;
        }

        @Override
        public void run(int worker, int start, int end) {
            switch (step) {
                case NORMALIZE -> RmsNorm.applyRows(in, start * len, end - start, len, weight, c.rmsEpsilon(), out,
                        start * len);
                case ACTIVATE -> activateRows(start * len, end * len);
                case ROTATE_AND_CACHE -> {
                    int kvDim = c.kvDim();
                    for (int t = start; t < end; t++) {
                        int pos = startPos + t;
                        rope.apply(q, t * c.queryDim(), c.headCount(), pos);
                        rope.apply(k, t * kvDim, c.headCountKv(), pos);
                        cache.store(layer, pos, k, t * kvDim, v, t * kvDim);
                    }
                }
            }
        }
    }

    /** One (token, head) of attention per work item, with per-worker scratch. */
    private final class AttentionTask implements WorkerPool.RangeTask {
        private final Attention.Scratch[] scratch;   // [worker]
        private KvCache cache;
        private int layer;
        private int startPos;
        private int tokens;
        /** Query heads per work item: 4 of one group together, or 1. */
        private int headsPerItem;
        /** Whether this layer's cache is attended widened to floats, in {@link #keysWide} and {@link #valuesWide}. */
        private boolean widened;
        /** Whether the pool runs the widening of the cache rather than the attention. */
        private boolean widening;
        private float[] keysWide = new float[0];     // [padded L / 16][KV][16]: the layer's keys in tiles
        private float[] valuesWide = new float[0];   // [KV heads · ⌈head dim / 16⌉][padded L][16]: its values

        AttentionTask(int workers, int context, int headDim) {
            scratch = new Attention.Scratch[workers];
            for (int i = 0; i < workers; i++) {
                scratch[i] = new Attention.Scratch(context, headDim);
            }
        }

        /**
         * Heads of one group go four at a time (each cached key and value widened once for them: 2.1-2.7 times
         * cheaper per head in {@code AttentionBenchmark}) where the group size allows it and every thread gets an
         * item. Generation on two threads then splits 5 groups 3 : 2 (2B-4T), still less work than 10 single heads
         * each: tg64 33.4-33.8 -> 34.1-35.7 tok/s (three alternating processes).
         */
        void set(KvCache cache, int layer, int startPos, int tokens) {
            this.cache = cache;
            this.layer = layer;
            this.startPos = startPos;
            this.tokens = tokens;
            boolean fours = cache.type() == KvType.F16 && c.groupSize() % 4 == 0
                    && tokens * c.headCount() / 4 >= scratch.length;
            this.headsPerItem = fours ? 4 : 1;
            int positions = startPos + tokens;
            this.widened = fours && tokens >= MIN_TOKENS_TO_WIDEN && positions <= MAX_POSITIONS_TO_WIDEN
                    && attention.widensForPrompts() && !cache.hasNonFinite(layer);
            if (widened) {
                int floats = tileFloats(Attention.paddedLength(positions));
                if (keysWide.length < floats || valuesWide.length < floats) {
                    int room = tileFloats(Attention.paddedLength(Math.min(2 * positions, MAX_POSITIONS_TO_WIDEN)));
                    keysWide = new float[Math.max(floats, room)];
                    valuesWide = new float[Math.max(floats, room)];
                }
            }
        }

        /** Floats of a layer's keys (or values) widened in tiles of 16 lanes for {@code padded} positions. */
        private int tileFloats(int padded) {
            int lanes = GgmlMath.LANES;
            return padded * c.headCountKv() * ((c.headDim() + lanes - 1) / lanes) * lanes;
        }

        /** Work items of the widening: the keys of each block of 16 positions, then each block of values. */
        int widenItems() {
            int lanes = GgmlMath.LANES;
            return Attention.paddedLength(startPos + tokens) / lanes
                    + c.headCountKv() * ((c.headDim() + lanes - 1) / lanes);
        }

        /** Widens the key blocks, then the value blocks, {@code [start, end)} of the widen items. */
        private void widen(int start, int end) {
            int positions = startPos + tokens;
            int padded = Attention.paddedLength(positions);
            int keyBlocks = padded / GgmlMath.LANES;
            short[] keys = cache.keysF16(layer);
            short[] values = cache.valuesF16(layer);
            for (int item = start; item < end; item++) {
                if (item < keyBlocks) {
                    attention.widenKeys(keys, c.kvDim(), positions, item, keysWide);
                } else {
                    attention.widenValues(values, cache.paddedCapacity(), c.headDim(), positions, padded,
                            item - keyBlocks, valuesWide);
                }
            }
        }

        /** Work items: (token, head) pairs, or (token, four heads). */
        int items() {
            return tokens * c.headCount() / headsPerItem;
        }

        /**
         * The token at place {@code p} of the order 0, n−1, 1, n−2, ...: a causal token's attention costs its
         * position, so contiguous shares of that order (one per thread) cost about the same.
         */
        private int tokenOf(int p) {
            return p % 2 == 0 ? p / 2 : tokens - 1 - p / 2;
        }

        void clear() {
            cache = null;
        }

        @Override
        public void run(int worker, int start, int end) {
            if (widening) {
                widen(start, end);
                return;
            }
            int itemsPerToken = c.headCount() / headsPerItem;
            int headDim = c.headDim();
            for (int item = start; item < end; item++) {
                int t = tokenOf(item / itemsPerToken);
                int h = item % itemsPerToken * headsPerItem;
                int length = startPos + t + 1;
                int kvOff = (h / c.groupSize()) * headDim;
                int qOff = t * c.queryDim() + h * headDim;
                int valueStride = cache.paddedCapacity();
                if (widened) {
                    attention.groupWidened(q, qOff, keysWide, valuesWide, Attention.paddedLength(startPos + tokens),
                            kvOff, c.kvDim(), length, headDim, attentionScale, scratch[worker], attended, qOff);
                } else if (cache.type() == KvType.F16) {
                    AttentionKernel kernel = cache.hasNonFinite(layer) ? AttentionKernel.SCALAR : attention;
                    if (headsPerItem == 4) {
                        // A generated token whose groups all fall to this thread has them done together, its keys
                        // read row by row: at 2,048 positions one thread decoded 6 % faster. Not where two threads
                        // split a token's groups (both then streamed the rows, 12 and 8 of each row's 20 cache
                        // lines: 22 % slower), nor for prompts (2-4 % slower at pp512).
                        boolean wholeToken = tokens == 1 && item == 0 && itemsPerToken <= end;
                        int groups = wholeToken ? itemsPerToken : 1;
                        kernel.groupsF16(q, qOff, cache.keysF16(layer), cache.valuesF16(layer), h, c.groupSize(),
                                c.kvDim(), valueStride, length, headDim, groups, attentionScale, scratch[worker],
                                attended, qOff);
                        item += groups - 1;
                    } else {
                        kernel.headF16(q, qOff, cache.keysF16(layer), cache.valuesF16(layer), kvOff, c.kvDim(),
                                valueStride, length, headDim, attentionScale, scratch[worker], attended, qOff);
                    }
                } else {
                    attention.headF32(q, qOff, cache.keysF32(layer), cache.valuesF32(layer), kvOff, c.kvDim(),
                            valueStride, length, headDim, attentionScale, scratch[worker], attended, qOff);
                }
            }
        }
    }
}
