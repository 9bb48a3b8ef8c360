package io.bitnet4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.testing.TestFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The pre-tokenizers against the regexes they implement. On ASCII text java.util.regex's classes agree with
 * llama.cpp's ({@code \s} is the ASCII White_Space set), so each scanner and each regex sequence must split
 * random ASCII text exactly as the regexes do, in llama.cpp's way (matches and the text between them are pieces).
 */
class PreTokenizerTest {
    private static final Pattern LLAMA3 = Pattern.compile("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    private static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    private static final Pattern PUNCT = Pattern.compile("[\\p{P}\\$\\+<=>\\^~\\|]+");
    private static final Pattern PUNCT_BACKTICK = Pattern.compile("[\\p{P}\\$\\+<=>\\^~\\|`]+");
    private static final Pattern NUMBERS = Pattern.compile("\\p{N}+");
    private static final Pattern NUMBER = Pattern.compile("\\p{N}");
    private static final Pattern TRIPLES = Pattern.compile("[0-9][0-9][0-9]");

    /** llama.cpp's unicode_regex_split_stl: each match and each gap between matches becomes a piece. */
    private static List<String> regexSplit(List<String> pieces, Pattern p) {
        List<String> out = new ArrayList<>();
        for (String piece : pieces) {
            Matcher m = p.matcher(piece);
            int last = 0;
            while (m.find()) {
                if (m.start() > last) {
                    out.add(piece.substring(last, m.start()));
                }
                out.add(m.group());
                last = m.end();
            }
            if (last < piece.length()) {
                out.add(piece.substring(last));
            }
        }
        return out;
    }

    private static List<String> split(PreTokenizerType type, String text) {
        int[] cps = text.codePoints().toArray();
        IntList ends = new IntList();
        type.split(cps, cps.length, ends);
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < ends.size(); i++) {
            words.add(new String(cps, start, ends.get(i) - start));
            start = ends.get(i);
        }
        assertThat(start).isEqualTo(cps.length);
        return words;
    }

    private static String randomAscii(Random r) {
        String alphabet = "aAbZ sSt'eErRvVlLmMdD0123456789  \n\r\t!?.,$+<=>^~|`_-()\"#@&*/\\";
        StringBuilder s = new StringBuilder();
        int n = r.nextInt(30);
        for (int i = 0; i < n; i++) {
            s.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    @Test
    void scannersAndSequencesMatchTheirRegexesOnRandomAscii() {
        Random r = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            String text = randomAscii(r);
            List<String> whole = List.of(text);
            assertThat(split(PreTokenizerType.LLAMA3, text)).as("llama3 %s", text.replace("\n", "\\n"))
                    .isEqualTo(regexSplit(whole, LLAMA3));
            assertThat(split(PreTokenizerType.GPT2, text)).as("gpt2 %s", text).isEqualTo(regexSplit(whole, GPT2));
            assertThat(split(PreTokenizerType.DEFAULT, text)).as("default %s", text).isEqualTo(
                    regexSplit(regexSplit(regexSplit(regexSplit(whole, PUNCT), GPT2), NUMBERS), TRIPLES));
            assertThat(split(PreTokenizerType.FALCON, text)).as("falcon %s", text).isEqualTo(
                    regexSplit(regexSplit(regexSplit(whole, PUNCT_BACKTICK), GPT2), TRIPLES));
            assertThat(split(PreTokenizerType.STARCODER, text)).as("starcoder %s", text).isEqualTo(
                    regexSplit(regexSplit(whole, NUMBER), GPT2));
        }
    }

    @Test
    void defaultSplitsApostrophesAndDigitsLikeLlamaCpp() {
        assertThat(split(PreTokenizerType.DEFAULT, "Hello, world! 12345 it's"))
                .containsExactly("Hello", ",", " world", "!", " ", "123", "45", " it", "'", "s");
        assertThat(split(PreTokenizerType.LLAMA3, "Hello, world! 12345 it's"))
                .containsExactly("Hello", ",", " world", "!", " ", "123", "45", " it", "'s");
        // non-ASCII: punctuation yes, symbols (€) no; NBSP is whitespace but not the optional ' ' prefix
        assertThat(split(PreTokenizerType.DEFAULT, "a«b»€5\u00A0x"))
                .containsExactly("a", "«", "b", "»", "€", "5", "\u00A0", "x");
    }

    @Test
    void absentPreTokenizerIsASetting() {
        SyntheticVocab v = new SyntheticVocab(Vocabs.metadata(Vocabs.LLAMA3)).remove("tokenizer.ggml.pre");
        Tokenizer llama3 = v.build();
        Tokenizer bitnetCpp = v.build(new TokenizerOptions("default"));
        assertThat(llama3.preTokenizer().orElseThrow().type()).isEqualTo(PreTokenizerType.LLAMA3);
        assertThat(llama3.preTokenizer().orElseThrow().ignoreMerges()).isTrue();
        assertThat(bitnetCpp.preTokenizer().orElseThrow().type()).isEqualTo(PreTokenizerType.DEFAULT);
        String text = "It's 2025: I'm   testing\n\nthe 12345 tokenizer!";
        assertThat(llama3.encode(text, true, false)).containsExactly(Vocabs.llama3().encode(text, true, false));
        assertThat(bitnetCpp.encode(text, true, false)).isNotEqualTo(llama3.encode(text, true, false));
        assertThat(bitnetCpp.decode(bitnetCpp.encode(text, true, false))).isEqualTo(text);
        // a file that names its pre-tokenizer keeps it whatever the setting
        Tokenizer named = Tokenizer.fromGguf(Vocabs.metadata(Vocabs.LLAMA3), new TokenizerOptions("default"));
        assertThat(named.preTokenizer().orElseThrow().type()).isEqualTo(PreTokenizerType.LLAMA3);
    }

    @Test
    void loadsTheTokenizerOfAFullModelFileWithoutPreTokenizer() {
        Tokenizer t = Tokenizer.load(TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf"),
                TokenizerOptions.DEFAULT);
        assertThat(t.vocabSize()).isEqualTo(320);
        assertThat(t.kind()).isEqualTo(Tokenizer.Kind.BPE);
        assertThat(t.preTokenizer().orElseThrow().name()).isEqualTo("llama3");
        assertThat(t.bos()).isEqualTo(316);
        assertThat(t.eos()).isEqualTo(317);
        assertThat(t.addBos()).isTrue();
        String text = "hello world";
        assertThat(t.decode(t.encode(text, true, false))).isEqualTo(text);
    }
}
