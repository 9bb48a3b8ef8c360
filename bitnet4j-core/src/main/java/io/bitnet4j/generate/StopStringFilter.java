package io.bitnet4j.generate;

import java.util.List;
import java.util.function.Consumer;

/**
 * Passes generated text on, holding back the tail that could still become a stop string, and reports when one
 * appears (the text before it is passed on, the stop string is not).
 */
final class StopStringFilter {
    private final List<String> stops;
    private final Consumer<String> sink;
    private final StringBuilder held = new StringBuilder();
    private final StringBuilder all = new StringBuilder();

    StopStringFilter(List<String> stops, Consumer<String> sink) {
        this.stops = stops;
        this.sink = sink;
    }

    /** Adds text; returns true if a stop string is now complete. */
    boolean accept(String piece) {
        if (piece.isEmpty()) {
            return false;
        }
        held.append(piece);
        int stopAt = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (stopAt < 0 || i < stopAt)) {
                stopAt = i;
            }
        }
        if (stopAt >= 0) {
            emit(held.substring(0, stopAt));
            held.setLength(0);
            return true;
        }
        int keep = longestPrefixSuffix();
        emit(held.substring(0, held.length() - keep));
        held.delete(0, held.length() - keep);
        return false;
    }

    /** Passes on whatever is still held back. */
    void finish() {
        emit(held.toString());
        held.setLength(0);
    }

    /** All text passed on so far. */
    String text() {
        return all.toString();
    }

    private void emit(String text) {
        if (!text.isEmpty()) {
            all.append(text);
            sink.accept(text);
        }
    }

    /** Length of the longest tail of the held text that is a proper prefix of some stop string. */
    private int longestPrefixSuffix() {
        int best = 0;
        String text = held.toString();
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length()); len > best; len--) {
                if (text.regionMatches(text.length() - len, s, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
