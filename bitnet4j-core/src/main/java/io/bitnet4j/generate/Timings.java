package io.bitnet4j.generate;

/**
 * How long a generation took: prompt processing, generation, and the time to the first generated token (from the
 * start of prompt processing). Nanoseconds.
 */
public record Timings(int promptTokens, long promptNanos, int generatedTokens, long generationNanos,
                      long firstTokenNanos) {

    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    public double generationTokensPerSecond() {
        return generationNanos == 0 ? 0 : generatedTokens * 1e9 / generationNanos;
    }

    public double promptMillis() {
        return promptNanos / 1e6;
    }

    public double generationMillis() {
        return generationNanos / 1e6;
    }

    public double timeToFirstTokenMillis() {
        return firstTokenNanos / 1e6;
    }
}
