package io.bitnet4j.eval;

import io.bitnet4j.BitnetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reference logits in the text layout of {@code ../shared/refdata}: one line per position, whitespace-separated
 * floats. Generation files carry the generated token ids on their first line ({@link #readGeneration}).
 */
public final class ReferenceLogits {
    private ReferenceLogits() {
    }

    /** Every line as a row of floats; all rows must have the same length. */
    public static float[][] read(Path path) {
        List<String> lines = lines(path);
        return parseRows(path, lines, 0);
    }

    /** A generation file: the generated ids (first line) and the logits that chose each of them (the rest). */
    public record Generation(int[] tokens, float[][] logits) {
    }

    public static Generation readGeneration(Path path) {
        List<String> lines = lines(path);
        if (lines.isEmpty()) {
            throw BitnetException.invalidFile(path + ": empty logits file");
        }
        int[] ids = parseIds(path, lines.getFirst(), 1);
        float[][] rows = parseRows(path, lines, 1);
        if (rows.length != ids.length) {
            throw BitnetException.invalidFile(path + ": " + ids.length + " generated ids but " + rows.length
                    + " logits rows");
        }
        return new Generation(ids, rows);
    }

    /** Token ids from a whitespace-separated text file (e.g. {@code tokens.txt}). */
    public static int[] readIds(Path path) {
        StringBuilder all = new StringBuilder();
        for (String line : lines(path)) {
            all.append(line).append(' ');
        }
        return parseIds(path, all.toString(), 1);
    }

    private static List<String> lines(Path path) {
        try {
            return Files.readAllLines(path).stream().filter(l -> !l.isBlank()).toList();
        } catch (NoSuchFileException e) {
            throw BitnetException.invalidFile(path + ": file not found");
        } catch (IOException e) {
            throw BitnetException.io(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static int[] parseIds(Path path, String line, int lineNumber) {
        String[] parts = line.trim().split("\\s+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw BitnetException.invalidFile(path + ": line " + lineNumber + ": '" + parts[i] + "' is not a token id");
            }
        }
        return ids;
    }

    private static float[][] parseRows(Path path, List<String> lines, int first) {
        List<float[]> rows = new ArrayList<>();
        for (int i = first; i < lines.size(); i++) {
            String[] parts = lines.get(i).trim().split("\\s+");
            float[] row = new float[parts.length];
            for (int j = 0; j < parts.length; j++) {
                try {
                    row[j] = Float.parseFloat(parts[j]);
                } catch (NumberFormatException e) {
                    throw BitnetException.invalidFile(path + ": line " + (i + 1) + ": '" + parts[j] + "' is not a number");
                }
            }
            if (!rows.isEmpty() && row.length != rows.getFirst().length) {
                throw BitnetException.invalidFile(path + ": line " + (i + 1) + " has " + row.length + " values, expected "
                        + rows.getFirst().length);
            }
            rows.add(row);
        }
        return rows.toArray(new float[0][]);
    }
}
