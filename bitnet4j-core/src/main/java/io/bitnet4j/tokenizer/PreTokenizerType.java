package io.bitnet4j.tokenizer;

/**
 * How byte-level BPE text is split into words before merging, as llama.cpp does for each
 * {@code tokenizer.ggml.pre} value ({@link PreTokenizerChoice} maps the names). Each type is a sequence of
 * {@link SplitStep}s; every step splits each piece left by the previous one.
 */
public enum PreTokenizerType {
    /** The Llama 3 regex (llama.cpp's {@code LLAMA3}): contractions, letter runs with one leading non-letter, digits in threes. */
    LLAMA3(SplitStep.LLAMA3),
    /** llama.cpp's {@code DEFAULT}: punctuation runs, then GPT-2, then number runs, then groups of three ASCII digits. */
    DEFAULT(SplitStep.PUNCTUATION_RUNS, SplitStep.GPT2, SplitStep.NUMBER_RUNS, SplitStep.DIGIT_TRIPLES),
    /** The GPT-2 regex alone ({@code GPT2}, {@code MPT}, {@code OLMO}, {@code JAIS}). */
    GPT2(SplitStep.GPT2),
    /** Falcon: punctuation runs (with backtick), GPT-2, groups of three ASCII digits. */
    FALCON(SplitStep.PUNCTUATION_RUNS_WITH_BACKTICK, SplitStep.GPT2, SplitStep.DIGIT_TRIPLES),
    /** StarCoder and relatives: every digit alone, then GPT-2. */
    STARCODER(SplitStep.SINGLE_NUMBERS, SplitStep.GPT2);

    private final SplitStep[] steps;

    PreTokenizerType(SplitStep... steps) {
        this.steps = steps;
    }

    /** Appends the exclusive end offsets of the words of {@code cps[0, n)} to {@code ends}. */
    void split(int[] cps, int n, IntList ends) {
        if (n == 0) {
            return;
        }
        if (steps.length == 1) {
            steps[0].split(cps, 0, n, ends);
            return;
        }
        IntList current = new IntList(4);
        current.add(n);
        IntList next = new IntList(Math.max(16, n / 4));
        for (int s = 0; s < steps.length; s++) {
            IntList out = s == steps.length - 1 ? ends : next;
            int start = 0;
            for (int i = 0; i < current.size(); i++) {
                int end = current.get(i);
                steps[s].split(cps, start, end, out);
                start = end;
            }
            if (out == next) {
                IntList t = current;
                current = next;
                next = t;
                next.clear();
            }
        }
    }
}
