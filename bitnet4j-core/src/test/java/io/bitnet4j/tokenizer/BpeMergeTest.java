package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The priority-queue merge loop against the plain definition of BPE: repeatedly merge the adjacent pair with the
 * lowest rank, the leftmost one on ties. Run with the Llama 3 vocabulary and merges but without
 * {@code ignore_merges} (pre-tokenizer {@code dbrx}), so that every word goes through the merges.
 */
class BpeMergeTest {

    /** Naive BPE over strings, as the definition says. */
    static List<String> naiveBpe(String word, Map<String, Integer> ranks) {
        List<String> symbols = new ArrayList<>();
        for (int i = 0; i < word.length(); i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                return symbols;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
    }

    @Test
    void mergeLoopEqualsTheDefinitionOnACorpus() throws IOException {
        SyntheticVocab v = new SyntheticVocab(Vocabs.metadata(Vocabs.LLAMA3)).string("tokenizer.ggml.pre", "dbrx");
        Tokenizer t = v.build();
        assertThat(t.preTokenizer().orElseThrow().ignoreMerges()).isFalse();
        List<String> merges = v.stringsOf("tokenizer.ggml.merges");
        Map<String, Integer> ranks = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) {
            ranks.putIfAbsent(merges.get(i), i);
        }
        String text = Files.readString(TestFiles.shared("data/corpora/tinystories-dev.txt"), StandardCharsets.UTF_8)
                .substring(0, 60_000)
                + " 12345678 😀😃 日本語のテキスト Ünïcödé supercalifragilisticexpialidocious aaaaaaaaaaaaaaaaaaa";
        int[] cps = text.codePoints().toArray();
        IntList ends = new IntList();
        PreTokenizerType.LLAMA3.split(cps, cps.length, ends);
        List<Integer> expected = new ArrayList<>();
        int start = 0;
        int multiSymbolWords = 0;
        for (int k = 0; k < ends.size(); k++) {
            String word = ByteLevel.encode(new String(cps, start, ends.get(k) - start).getBytes(StandardCharsets.UTF_8));
            start = ends.get(k);
            List<String> symbols = naiveBpe(word, ranks);
            if (word.length() > 1) {
                multiSymbolWords++;
            }
            for (String s : symbols) {
                expected.add(t.tokenId(s));
            }
        }
        assertThat(multiSymbolWords).isGreaterThan(5_000);
        assertThat(t.encode(text, false, false)).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
    }
}
