package io.bitnet4j.bench;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.tokenizer.Tokenizer;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokenizer load time and encoding speed.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -jar bitnet4j-bench/target/benchmarks.jar Tokenizer -t 1
 * </pre>
 * Paths are relative to the shared reference folder ({@code -Dbitnet.shared.dir}, default {@code ../shared}) unless
 * absolute; change them with {@code -p vocab=... -p corpus=...}. {@code encode} reports {@code bytes} per second
 * (UTF-8 bytes of the corpus encoded; divide by 10^6 for MB/s) and {@code tokens} per second.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitSettings.TRAPS_PER_BYTECODE, JitSettings.TRAPS_PER_METHOD, JitSettings.QUIET, JitSettings.INLINE_BASE,
        JitSettings.INLINE_OFFSET, JitSettings.QUANTIZER_MAX, JitSettings.QUANTIZER_RUN})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBenchmark {
    @Param("refdata/tokenizer/ggml-vocab-llama3-bpe.gguf")
    public String vocab;

    @Param("data/corpora/tinyshakespeare.txt")
    public String corpus;

    /** Pre-tokenizer for vocabularies without tokenizer.ggml.pre. */
    @Param("llama3")
    public String preTokenizer;

    private Path vocabPath;
    private String text;
    private int textBytes;
    private Tokenizer tokenizer;
    private TokenizerOptions options;

    static Path resolve(String path) {
        Path p = Path.of(path);
        if (p.isAbsolute()) {
            return p;
        }
        return Path.of(System.getProperty("bitnet.shared.dir", "../shared")).resolve(p);
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        vocabPath = resolve(vocab);
        options = new TokenizerOptions(preTokenizer);
        text = Files.readString(resolve(corpus), StandardCharsets.UTF_8);
        textBytes = text.getBytes(StandardCharsets.UTF_8).length;
        tokenizer = Tokenizer.load(vocabPath, options);
    }

    /** Counters reported per second next to the encode score. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Throughput {
        public long bytes;
        public long tokens;

        @Setup(Level.Iteration)
        public void clear() {
            bytes = 0;
            tokens = 0;
        }
    }

    /** Open the GGUF file and build the tokenizer: the time until the first encode can run. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Tokenizer load() {
        return Tokenizer.load(vocabPath, options);
    }

    /** Build the tokenizer from metadata already read (the tokenizer's own share of {@link #load}). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Tokenizer buildFromMetadata(MetadataState md) {
        return Tokenizer.fromGguf(md.metadata, options);
    }

    /** Encode the whole corpus (no BOS, no special parsing). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int[] encode(Throughput counters) {
        int[] ids = tokenizer.encode(text, false, false);
        counters.bytes += textBytes;
        counters.tokens += ids.length;
        return ids;
    }

    /** The metadata of the vocabulary, read once. */
    @State(Scope.Benchmark)
    public static class MetadataState {
        GgufMetadata metadata;

        @Setup(Level.Trial)
        public void read(TokenizerBenchmark b) {
            try (GgufFile f = GgufFile.open(resolve(b.vocab))) {
                metadata = f.metadata();
            }
        }
    }
}
