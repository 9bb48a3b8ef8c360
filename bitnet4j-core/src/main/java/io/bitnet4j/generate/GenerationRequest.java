package io.bitnet4j.generate;

import io.bitnet4j.BitnetException;
import io.bitnet4j.sampling.SamplerSettings;
import java.util.List;

/**
 * What to generate: the prompt tokens to append to the session, how many tokens at most (-1: until an
 * end-of-generation token or the context is full), stop strings, and the sampler settings.
 */
public record GenerationRequest(int[] prompt, int maxTokens, List<String> stopStrings, SamplerSettings sampler,
                                boolean ignoreEndOfGeneration) {

    public GenerationRequest {
        if (maxTokens < -1) {
            throw BitnetException.usage("-n must be -1 (no limit) or at least 0, got " + maxTokens);
        }
        stopStrings = stopStrings.stream().filter(s -> !s.isEmpty()).toList();
    }

    public GenerationRequest(int[] prompt, int maxTokens, SamplerSettings sampler) {
        this(prompt, maxTokens, List.of(), sampler, false);
    }
}
