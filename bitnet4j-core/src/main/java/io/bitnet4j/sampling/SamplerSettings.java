package io.bitnet4j.sampling;

import io.bitnet4j.BitnetException;

/**
 * Sampling parameters with llama.cpp's defaults (spec §5.2): temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
 * repetition penalty 1.0 (off) over the last 64 tokens. A temperature of 0 or less means greedy.
 *
 * @param seed the RNG seed (unsigned 32-bit, as llama.cpp's); see {@link Seeds}
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP, float repeatPenalty,
                              int repeatLastN, float frequencyPenalty, float presencePenalty, long seed) {

    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final int DEFAULT_TOP_K = 40;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final float DEFAULT_MIN_P = 0.05f;
    public static final int DEFAULT_REPEAT_LAST_N = 64;

    public SamplerSettings {
        if (Float.isNaN(temperature)) {
            throw BitnetException.usage("--temp must be a number");
        }
        if (topK < 0) {
            throw BitnetException.usage("--top-k must be 0 (off) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw BitnetException.usage("--top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw BitnetException.usage("--min-p must be in [0, 1], got " + minP);
        }
        if (!(repeatPenalty > 0) || Float.isInfinite(repeatPenalty)) {
            throw BitnetException.usage("--repeat-penalty must be positive, got " + repeatPenalty);
        }
        if (repeatLastN < -1) {
            throw BitnetException.usage("--repeat-last-n must be -1 (whole context), 0 (off) or positive, got "
                    + repeatLastN);
        }
        if (!Float.isFinite(frequencyPenalty) || !Float.isFinite(presencePenalty)) {
            throw BitnetException.usage("frequency and presence penalties must be finite");
        }
        if (seed < 0 || seed > 0xFFFFFFFFL) {
            throw BitnetException.usage("--seed must be in [0, 4294967295], got " + seed);
        }
    }

    public static SamplerSettings defaults(long seed) {
        return new SamplerSettings(DEFAULT_TEMPERATURE, DEFAULT_TOP_K, DEFAULT_TOP_P, DEFAULT_MIN_P, 1.0f,
                DEFAULT_REPEAT_LAST_N, 0f, 0f, seed);
    }

    public static SamplerSettings greedy() {
        return new SamplerSettings(0f, DEFAULT_TOP_K, DEFAULT_TOP_P, DEFAULT_MIN_P, 1.0f, DEFAULT_REPEAT_LAST_N,
                0f, 0f, 0);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }
}
