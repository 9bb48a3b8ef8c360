package io.bitnet4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The reference vocabularies and their reference tokenizations, loaded once per test run. */
final class Vocabs {
    static final String LLAMA3 = "refdata/tokenizer/ggml-vocab-llama3-bpe.gguf";
    static final String LLAMA_SPM = "data/llamacpp/ggml-vocab-llama-spm.gguf";
    static final String TOK512 = "refdata/tokenizer/ggml-vocab-tok512-spm.gguf";

    private static final Map<String, GgufMetadata> METADATA = new ConcurrentHashMap<>();
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private Vocabs() {
    }

    /** The metadata of a shared vocabulary file (skips the test if absent). */
    static GgufMetadata metadata(String relative) {
        Path path = TestFiles.shared(relative);
        return METADATA.computeIfAbsent(relative, r -> {
            try (GgufFile f = GgufFile.open(path)) {
                return f.metadata();
            }
        });
    }

    static Tokenizer tokenizer(String relative) {
        GgufMetadata md = metadata(relative);
        return TOKENIZERS.computeIfAbsent(relative, r -> Tokenizer.fromGguf(md));
    }

    static Tokenizer llama3() {
        return tokenizer(LLAMA3);
    }

    /** One line of a {@code tok-<vocab>-dev.jsonl} file. */
    record Case(int line, String text, int[] ids, int[] idsNoBos, String detok, boolean roundtripPieces,
                boolean roundtripDetok) {
        @Override
        public String toString() {
            String t = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            return line + ": " + t.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
        }
    }

    static List<Case> cases(String vocabName) {
        Path path = TestFiles.shared("refdata/tokenizer/tok-" + vocabName + "-dev.jsonl");
        ObjectMapper mapper = new ObjectMapper();
        List<Case> cases = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(path);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                JsonNode n = mapper.readTree(lines.get(i));
                cases.add(new Case(i + 1, n.get("text").asText(), ints(n.get("ids")), ints(n.get("ids_no_bos")),
                        n.get("detok").asText(), n.get("roundtrip_pieces").asBoolean(),
                        n.get("roundtrip_detok").asBoolean()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
