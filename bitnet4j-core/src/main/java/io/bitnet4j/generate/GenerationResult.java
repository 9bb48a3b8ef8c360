package io.bitnet4j.generate;

/** The generated tokens and text (without the stop string that ended it), why it stopped, and its timings. */
public record GenerationResult(int[] tokens, String text, StopReason stopReason, Timings timings) {
}
