package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tokenizer.TokenType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The SentencePiece vocabulary of a llama2.c tokenizer file ({@code tokenizer.bin}, {@code tok512.bin}): an int32
 * max_token_length, then per token a float32 score, an int32 byte length and the UTF-8 piece, with spaces as ' '.
 * Read into GGUF form exactly as llama.cpp's {@code llama-convert-llama2c-to-ggml} does: id 0 becomes {@code <unk>}
 * (UNKNOWN), ids 1 and 2 {@code <s>} and {@code </s>} (CONTROL; llama2.c's export renamed them), an empty piece
 * CONTROL, a piece that starts like {@code <0xNN>} BYTE, anything else NORMAL; then every ' ' becomes '▁'.
 *
 * @param tokens the pieces as GGUF stores them
 * @param scores the SentencePiece scores
 * @param types  token types, as {@link TokenType} codes
 */
public record Llama2cVocab(List<String> tokens, float[] scores, int[] types) {
    public static final int UNKNOWN_ID = 0;
    public static final int BOS_ID = 1;
    public static final int EOS_ID = 2;

    /** Reads the first {@code vocabSize} tokens; the file must hold exactly that many. */
    public static Llama2cVocab read(Path path, int vocabSize) {
        try (MappedFile file = MappedFile.open(path)) {
            MemorySegment b = file.bytes();
            long size = b.byteSize();
            if (size < Integer.BYTES) {
                throw BitnetException.invalidFile(path + ": too short for a llama2.c tokenizer");
            }
            List<String> tokens = new ArrayList<>(vocabSize);
            float[] scores = new float[vocabSize];
            int[] types = new int[vocabSize];
            long offset = Integer.BYTES; // max_token_length: not needed
            for (int id = 0; id < vocabSize; id++) {
                if (size - offset < 8) {
                    throw BitnetException.invalidFile(path + ": ends after " + id + " tokens; the checkpoint has "
                            + vocabSize);
                }
                scores[id] = b.get(Layouts.FLOAT, offset);
                int length = b.get(Layouts.INT, offset + 4);
                offset += 8;
                if (length < 0 || length > size - offset) {
                    throw BitnetException.invalidFile(path + ": token " + id + " has length " + length + ", but "
                            + (size - offset) + " bytes remain");
                }
                String piece = utf8(b.asSlice(offset, length), path, id);
                offset += length;
                TokenType type = typeOf(id, piece);
                String text = switch (id) {
                    case UNKNOWN_ID -> "<unk>";
                    case BOS_ID -> "<s>";
                    case EOS_ID -> "</s>";
                    default -> piece;
                };
                tokens.add(text.replace(' ', '\u2581'));
                types[id] = type.code();
            }
            if (offset != size) {
                throw BitnetException.invalidFile(path + ": " + (size - offset) + " bytes follow the " + vocabSize
                        + " tokens the checkpoint needs; the tokenizer does not belong to this checkpoint");
            }
            return new Llama2cVocab(List.copyOf(tokens), scores, types);
        }
    }

    private static TokenType typeOf(int id, String piece) {
        return switch (id) {
            case UNKNOWN_ID -> TokenType.UNKNOWN;
            case BOS_ID, EOS_ID -> TokenType.CONTROL;
            default -> {
                if (piece.isEmpty()) {
                    yield TokenType.CONTROL;
                }
                // llama.cpp tests sscanf(text, "<0x%02hhX>") == 1: "<0x" and a hex digit are enough
                boolean bytePiece = piece.startsWith("<0x") && piece.length() > 3
                        && Character.digit(piece.charAt(3), 16) >= 0;
                yield bytePiece ? TokenType.BYTE : TokenType.NORMAL;
            }
        };
    }

    private static String utf8(MemorySegment bytes, Path path, int id) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toArray(ValueLayout.JAVA_BYTE)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw BitnetException.invalidFile(path + ": token " + id + " is not valid UTF-8");
        }
    }
}
