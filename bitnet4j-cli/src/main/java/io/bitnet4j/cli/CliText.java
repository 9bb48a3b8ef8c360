package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading text and ids for the tokenizer commands. */
final class CliText {
    private static final Pattern INTEGER = Pattern.compile("-?\\d+");
    private static final Pattern ALLOWED = Pattern.compile("[\\s,\\[\\]\\-0-9]*");

    private CliText() {
    }

    /** The whole content of a file ('-' = standard input), which must be UTF-8. */
    static String readUtf8(String file) {
        byte[] bytes;
        try {
            bytes = file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(file));
        } catch (NoSuchFileException e) {
            throw BitnetException.invalidFile(file + ": file not found");
        } catch (IOException e) {
            throw BitnetException.io(file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (MalformedInputException e) {
            throw BitnetException.invalidFile(file + ": not valid UTF-8");
        } catch (CharacterCodingException e) {
            throw BitnetException.invalidFile(file + ": not valid UTF-8: " + e.getMessage());
        }
    }

    /** A UTF-8 reader of a file ('-' = standard input). */
    static BufferedReader reader(String file) {
        try {
            InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file));
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw BitnetException.invalidFile(file + ": file not found");
        } catch (IOException e) {
            throw BitnetException.io(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Integers from "1 2 3", "1,2,3" or "[1, 2, 3]". */
    static int[] parseIds(String text) {
        if (!ALLOWED.matcher(text).matches()) {
            throw BitnetException.usage("token ids must be integers, e.g. \"9906 1917\" or \"[9906, 1917]\"");
        }
        Matcher m = INTEGER.matcher(text);
        java.util.List<Integer> ids = new java.util.ArrayList<>();
        while (m.find()) {
            try {
                ids.add(Integer.parseInt(m.group()));
            } catch (NumberFormatException e) {
                throw BitnetException.usage("token id " + m.group() + " is out of range");
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** "[1, 2, 3]", as llama-tokenize --ids prints. */
    static String idList(int[] ids) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                s.append(", ");
            }
            s.append(ids[i]);
        }
        return s.append(']').toString();
    }

    /**
     * A token's bytes for display: valid UTF-8 as text with control characters escaped (\n, \t, \r, \xNN); a
     * piece that is part of a character as its bytes, e.g. {@code <f0 9f>}.
     */
    static String printablePiece(byte[] piece) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(piece)).toString();
        } catch (CharacterCodingException e) {
            StringBuilder s = new StringBuilder("<");
            for (int i = 0; i < piece.length; i++) {
                s.append(i > 0 ? " " : "").append(String.format("%02x", piece[i] & 0xFF));
            }
            return s.append('>').toString();
        }
        StringBuilder s = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        s.append(String.format("\\x%02x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.toString();
    }
}
