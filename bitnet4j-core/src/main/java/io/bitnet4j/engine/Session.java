package io.bitnet4j.engine;

import io.bitnet4j.BitnetException;
import java.util.Arrays;

/**
 * One sequence being processed: its KV cache, the tokens in it, and the logits after the last one. Tokens are
 * appended with {@link #evaluate}; {@link #truncate} forgets the tail (for chat edits and retries).
 */
public final class Session {
    private final ForwardPass pass;
    private final KvCache cache;
    private final int[] tokens;
    private final float[] logits;
    private final int[] single = new int[1];
    private int position;

    public Session(ForwardPass pass, int capacity) {
        this.pass = pass;
        this.cache = pass.newCache(capacity);
        this.tokens = new int[capacity];
        this.logits = new float[pass.config().vocabSize()];
    }

    /** Tokens the cache can hold. */
    public int capacity() {
        return tokens.length;
    }

    /** Tokens processed so far (the next position). */
    public int position() {
        return position;
    }

    /** Room left in the context. */
    public int remaining() {
        return tokens.length - position;
    }

    /** The tokens processed so far (a view; do not modify). */
    public int[] tokens() {
        return tokens;
    }

    public ForwardPass forwardPass() {
        return pass;
    }

    /** Appends {@code ids[offset .. offset+count)} and returns the logits after the last of them. */
    public float[] evaluate(int[] ids, int offset, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("nothing to evaluate");
        }
        if (count > remaining()) {
            throw BitnetException.limit((position + count) + " tokens do not fit in the context of " + capacity()
                    + " tokens (raise -c)");
        }
        pass.forward(cache, ids, offset, count, position, logits, false);
        System.arraycopy(ids, offset, tokens, position, count);
        position += count;
        return logits;
    }

    /** Appends one token. */
    public float[] evaluate(int token) {
        single[0] = token;
        return evaluate(single, 0, 1);
    }

    /** Logits after the last evaluated token. */
    public float[] logits() {
        return logits;
    }

    /** Forgets everything from {@code newPosition} on. */
    public void truncate(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot truncate to " + newPosition + " (at " + position + ")");
        }
        position = newPosition;
        Arrays.fill(tokens, newPosition, tokens.length, 0);
        cache.clearFrom(newPosition);
    }

    /** Evaluates all positions of {@code ids} at once and returns their logits ([count][vocab], flattened). */
    public float[] evaluateAll(int[] ids, int offset, int count, float[] out) {
        if (count > remaining()) {
            throw BitnetException.limit((position + count) + " tokens do not fit in the context of " + capacity()
                    + " tokens (raise -c)");
        }
        pass.forward(cache, ids, offset, count, position, out, true);
        System.arraycopy(ids, offset, tokens, position, count);
        position += count;
        System.arraycopy(out, (count - 1) * logits.length, logits, 0, logits.length);
        return out;
    }
}
