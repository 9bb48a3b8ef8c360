package io.bitnet4j.engine;

import io.bitnet4j.model.ModelConfig;

/**
 * The transformer forward pass: tokens at consecutive positions in, logits out, keys and values appended to a
 * {@link KvCache}. The CPU implementation is {@link CpuForwardPass}; other backends plug in here.
 */
public interface ForwardPass extends AutoCloseable {

    ModelConfig config();

    /** A cache of {@code capacity} positions for this forward pass. */
    KvCache newCache(int capacity);

    /**
     * Runs {@code tokens[offset .. offset+count)} at positions {@code startPos ..} through the model. Writes the
     * logits of the last token into {@code logits[0 .. vocab)}, or, when {@code allPositions}, the logits of every
     * token into {@code logits[i*vocab ..]}.
     */
    void forward(KvCache cache, int[] tokens, int offset, int count, int startPos, float[] logits,
                 boolean allPositions);

    /** A one-line description of the kernels and threads in use, for the start-up log. */
    String describe();

    @Override
    void close();
}
