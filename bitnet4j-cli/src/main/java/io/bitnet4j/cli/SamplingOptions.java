package io.bitnet4j.cli;

import io.bitnet4j.sampling.SamplerSettings;
import io.bitnet4j.sampling.Seeds;
import java.util.Map;
import picocli.CommandLine.Option;

/** Sampling flags in llama.cpp's names and with its defaults. */
final class SamplingOptions {
    @Option(names = {"-s", "--seed"}, paramLabel = "N", description = "RNG seed (default: $BITNET_SEED, a fixed "
            + "seed if BITNET_DETERMINISTIC=1, else random)")
    Long seed;

    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8",
            description = "temperature; 0 = greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "40", description = "top-k, 0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "top-p, 1.0 = off (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "min-p, 0 = off (default: ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", defaultValue = "1.0",
            description = "repetition penalty, 1.0 = off (default: ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64",
            description = "tokens the penalties look back on, -1 = whole context (default: ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = "--presence-penalty", paramLabel = "X", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "X", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    float frequencyPenalty;

    SamplerSettings settings(Map<String, String> env) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, Seeds.resolve(seed, env));
    }
}
