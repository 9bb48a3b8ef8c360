package io.bitnet4j.gguf;

import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * An immutable list of strings kept as their UTF-8 bytes, back to back, each decoded when read. A vocabulary's
 * tokens and merges stay in a model's metadata for as long as the model is open, and as separate strings they took
 * about 48 bytes of heap each (400k strings for a Llama 3 vocabulary); packed they take their bytes and an offset.
 */
final class PackedStrings extends AbstractList<String> implements RandomAccess {
    private final byte[] utf8;
    /** Start of each string in {@code utf8}; the last entry is the end of the last string. */
    private final int[] starts;

    PackedStrings(byte[] utf8, int[] starts) {
        this.utf8 = utf8;
        this.starts = starts;
    }

    @Override
    public String get(int index) {
        int start = starts[index];
        return new String(utf8, start, starts[index + 1] - start, StandardCharsets.UTF_8);
    }

    @Override
    public int size() {
        return starts.length - 1;
    }
}
