package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * llama.cpp's own tokenizer test vectors ({@code models/ggml-vocab-llama-{bpe,spm}.gguf.inp/.out}), run as its
 * {@code test-tokenizer-0} runs them: inputs separated by {@code "\n__ggml_vocab_test__\n"}, tokenized with
 * {@code add_special = false, parse_special = false}. The bpe vectors are Llama 3 ids and use the Llama 3 vocab
 * rebuilt in {@code refdata/tokenizer/}.
 */
class LlamaCppVectorsTest {

    record Vector(int index, String text, int[] ids) {
        @Override
        public String toString() {
            String t = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            return index + ": " + t.replace("\n", "\\n").replace("\t", "\\t");
        }
    }

    static List<Vector> read(String name) throws IOException {
        Path inp = TestFiles.shared("data/llamacpp/" + name + ".inp");
        Path out = TestFiles.shared("data/llamacpp/" + name + ".out");
        String raw = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        String sep = "\n__ggml_vocab_test__\n";
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(sep, pos);
            if (next < 0) {
                inputs.add(raw.substring(pos));
                break;
            }
            inputs.add(raw.substring(pos, next));
            pos = next + sep.length();
        }
        List<String> outputs = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(inputs).hasSameSizeAs(outputs);
        List<Vector> vectors = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String o = outputs.get(i).strip();
            int[] ids = o.isEmpty() ? new int[0] : Stream.of(o.split(" ")).mapToInt(Integer::parseInt).toArray();
            vectors.add(new Vector(i, inputs.get(i), ids));
        }
        return vectors;
    }

    static Stream<Arguments> vectors() throws IOException {
        List<Arguments> all = new ArrayList<>();
        for (Vector v : read("ggml-vocab-llama-bpe.gguf")) {
            all.add(Arguments.of("llama-bpe", v));
        }
        for (Vector v : read("ggml-vocab-llama-spm.gguf")) {
            all.add(Arguments.of("llama-spm", v));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("vectors")
    void sameIdsAsLlamaCpp(String vocab, Vector v) {
        Tokenizer t = Vocabs.tokenizer(vocab.equals("llama-bpe") ? Vocabs.LLAMA3 : Vocabs.LLAMA_SPM);
        assertThat(t.encode(v.text(), false, false)).containsExactly(v.ids());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("vectors")
    void decodeGivesTheTextBack(String vocab, Vector v) {
        Tokenizer t = Vocabs.tokenizer(vocab.equals("llama-bpe") ? Vocabs.LLAMA3 : Vocabs.LLAMA_SPM);
        assertThat(t.decode(v.ids())).isEqualTo(v.text());
    }
}
