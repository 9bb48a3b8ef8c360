package io.bitnet4j.eval;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.ForwardPass;
import io.bitnet4j.engine.KvCache;
import java.util.function.Consumer;

/**
 * Perplexity over a token stream as llama.cpp's {@code perplexity} computes it: the text is cut into chunks of
 * n_ctx tokens, each chunk starts with BOS (when the vocabulary adds one) in a fresh cache, and only the second
 * half of each chunk is scored, so every scored token has at least n_ctx/2 tokens of context.
 */
public final class Perplexity {
    private Perplexity() {
    }

    /** After each chunk: its number (from 1) and the perplexity so far. */
    public record Progress(int chunk, int chunks, double perplexity) {
    }

    /**
     * @param meanNll     mean negative log-likelihood (nats) of the scored tokens
     * @param stdError    the standard error of the perplexity estimate, as llama.cpp prints it
     */
    public record Result(int chunks, int contextLength, int scoredTokens, double meanNll, double perplexity,
                         double stdError) {
    }

    /**
     * @param bos BOS token to put first in each chunk, or -1 to leave the text's tokens alone
     */
    public static Result compute(ForwardPass pass, int[] tokens, int contextLength, int batchSize, int bos,
                                 Consumer<Progress> progress) {
        return compute(pass, tokens, contextLength, batchSize, bos, -1, progress);
    }

    /**
     * @param bos       BOS token to put first in each chunk, or -1 to leave the text's tokens alone
     * @param maxChunks most chunks to evaluate (llama.cpp's {@code --chunks}), or -1 for all
     */
    public static Result compute(ForwardPass pass, int[] tokens, int contextLength, int batchSize, int bos,
                                 int maxChunks, Consumer<Progress> progress) {
        if (contextLength < 4) {
            throw BitnetException.usage("perplexity needs a context of at least 4 tokens, got " + contextLength);
        }
        int chunks = maxChunks > 0 ? Math.min(maxChunks, tokens.length / contextLength) : tokens.length / contextLength;
        if (chunks < 1 || tokens.length < 2 * contextLength) {
            throw BitnetException.usage("the text has " + tokens.length + " tokens; perplexity with a context of "
                    + contextLength + " needs at least " + (2 * contextLength) + " (lower -c or give more text)");
        }
        int vocab = pass.config().vocabSize();
        int batch = Math.max(1, Math.min(batchSize, contextLength));
        float[] logits = new float[batch * vocab];
        int[] chunk = new int[contextLength];
        KvCache cache = pass.newCache(contextLength);
        int first = contextLength / 2;
        double nll = 0;
        double nll2 = 0;
        int count = 0;
        for (int c = 0; c < chunks; c++) {
            int start = c * contextLength;
            System.arraycopy(tokens, start, chunk, 0, contextLength);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            for (int b = 0; b < contextLength; b += batch) {
                int n = Math.min(batch, contextLength - b);
                pass.forward(cache, chunk, b, n, b, logits, true);
                for (int i = 0; i < n; i++) {
                    int pos = b + i;
                    if (pos < first || pos >= contextLength - 1) {
                        continue;
                    }
                    double v = logSoftmax(logits, i * vocab, vocab, tokens[start + pos + 1]);
                    nll -= v;
                    nll2 += v * v;
                    count++;
                }
            }
            progress.accept(new Progress(c + 1, chunks, Math.exp(nll / count)));
        }
        double mean = nll / count;
        double variance = nll2 / count - mean * mean;
        double ppl = Math.exp(mean);
        double stdError = variance > 0 && count > 1 ? ppl * Math.sqrt(variance / (count - 1)) : 0;
        return new Result(chunks, contextLength, count, mean, ppl, stdError);
    }

    /** log p(token) from logits as llama.cpp computes it: float max, double sum of expf(l - max). */
    static double logSoftmax(float[] logits, int offset, int vocab, int token) {
        float max = logits[offset];
        for (int i = 1; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += (float) Math.exp(logits[offset + i] - max);
        }
        return logits[offset + token] - max - Math.log(sum);
    }
}
