package io.bitnet4j.sampling;

import java.util.Arrays;

/**
 * llama.cpp's default sampler chain (spec §5.2): repetition penalties over the last N tokens, then either greedy
 * (temperature ≤ 0) or top-k → top-p → min-p → temperature → softmax → a draw from the distribution with a seeded
 * Mersenne Twister. All buffers are sized to the vocabulary once.
 */
public final class Sampler {
    private final SamplerSettings settings;
    private final int vocabSize;
    private final int newlineToken;
    private final Mt19937 rng;
    private final float[] logits;   // working copy of the logits, penalised
    private final long[] keys;      // candidates: (logit descending, id ascending) packed for sorting
    private final int[] ids;        // candidate ids, best first
    private final float[] values;   // candidate logits, best first
    private final float[] probs;    // candidate probabilities
    private final int[] counts;     // occurrences of each token in the penalty window
    private int size;

    /**
     * @param newlineToken the token excluded from repetition penalties (llama.cpp's penalize_nl = false), or -1
     */
    public Sampler(SamplerSettings settings, int vocabSize, int newlineToken) {
        this.settings = settings;
        this.vocabSize = vocabSize;
        this.newlineToken = newlineToken;
        this.rng = new Mt19937(settings.seed());
        this.logits = new float[vocabSize];
        this.keys = new long[vocabSize];
        this.ids = new int[vocabSize];
        this.values = new float[vocabSize];
        this.probs = new float[vocabSize];
        this.counts = new int[vocabSize];
    }

    public SamplerSettings settings() {
        return settings;
    }

    /** Chooses the next token from {@code raw} logits given the tokens so far ({@code history[0 .. length)}). */
    public int sample(float[] raw, int[] history, int length) {
        System.arraycopy(raw, 0, logits, 0, vocabSize);
        applyPenalties(history, length);
        if (settings.isGreedy()) {
            return argmax(logits, vocabSize);
        }
        topK(settings.topK());
        topP(settings.topP());
        minP(settings.minP());
        for (int i = 0; i < size; i++) {
            values[i] /= settings.temperature();
        }
        softmax();
        return draw();
    }

    /** The index of the largest value, the first one on ties. */
    public static int argmax(float[] v, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** {@code l = l <= 0 ? l*rep : l/rep; l -= count*freq + (count>0)*presence} for tokens in the window. */
    void applyPenalties(int[] history, int length) {
        boolean off = settings.repeatPenalty() == 1f && settings.frequencyPenalty() == 0f
                && settings.presencePenalty() == 0f;
        int window = settings.repeatLastN() < 0 ? length : Math.min(settings.repeatLastN(), length);
        if (off || window == 0) {
            return;
        }
        for (int i = length - window; i < length; i++) {
            counts[history[i]]++;
        }
        for (int i = length - window; i < length; i++) {
            int token = history[i];
            int count = counts[token];
            if (count == 0 || token == newlineToken) {
                counts[token] = 0;
                continue;
            }
            float l = logits[token];
            l = l <= 0 ? l * settings.repeatPenalty() : l / settings.repeatPenalty();
            l -= count * settings.frequencyPenalty() + settings.presencePenalty();
            logits[token] = l;
            counts[token] = 0;
        }
    }

    /** Keeps the k largest logits, sorted best first (k = 0 keeps all, sorted). */
    void topK(int k) {
        int n = vocabSize;
        for (int i = 0; i < n; i++) {
            keys[i] = sortKey(logits[i], i);
        }
        int keep = k <= 0 ? n : Math.min(k, n);
        if (keep < n) {
            select(keys, 0, n - 1, keep);
        }
        Arrays.sort(keys, 0, keep);
        for (int i = 0; i < keep; i++) {
            ids[i] = (int) keys[i];
            values[i] = logits[ids[i]];
        }
        size = keep;
    }

    /** Keeps the shortest prefix whose probability (at temperature 1) reaches p. */
    void topP(float p) {
        if (p >= 1f) {
            return;
        }
        softmax();
        float cumulative = 0;
        for (int i = 0; i < size; i++) {
            cumulative += probs[i];
            if (cumulative >= p) {
                size = i + 1;
                return;
            }
        }
    }

    /** Keeps candidates whose logit is at least the best logit plus ln(p). */
    void minP(float p) {
        if (p <= 0f || size == 0) {
            return;
        }
        float threshold = values[0] + (float) Math.log(p);
        int keep = 1;
        while (keep < size && values[keep] >= threshold) {
            keep++;
        }
        size = keep;
    }

    /** Probabilities of the (sorted) candidates: exp(l - max), normalised by their float sum. */
    void softmax() {
        float max = values[0];
        float sum = 0;
        for (int i = 0; i < size; i++) {
            float e = (float) Math.exp(values[i] - max);
            probs[i] = e;
            sum += e;
        }
        for (int i = 0; i < size; i++) {
            probs[i] /= sum;
        }
    }

    /** A draw as {@code std::discrete_distribution} makes it: a canonical double against normalised cumulative sums. */
    private int draw() {
        double total = 0;
        for (int i = 0; i < size; i++) {
            total += probs[i];
        }
        double u = rng.nextCanonical();
        double cumulative = 0;
        for (int i = 0; i < size - 1; i++) {
            cumulative += probs[i] / total;
            if (u <= cumulative) {
                return ids[i];
            }
        }
        return ids[size - 1];
    }

    /** Candidates currently kept (for tests). */
    int candidateCount() {
        return size;
    }

    int candidateId(int i) {
        return ids[i];
    }

    float candidateLogit(int i) {
        return values[i];
    }

    float candidateProbability(int i) {
        return probs[i];
    }

    float penalisedLogit(int token) {
        return logits[token];
    }

    /** Sorts ascending as (logit descending, id ascending). */
    private static long sortKey(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | (id & 0xffffffffL);
    }

    /** Rearranges {@code a[lo..hi]} so that its {@code k} smallest values come first (quickselect). */
    private static void select(long[] a, int lo, int hi, int k) {
        int target = lo + k - 1;
        while (lo < hi) {
            long pivot = a[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }
}
