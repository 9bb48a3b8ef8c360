package io.bitnet4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How fast one thread streams a large memory-mapped file (in the page cache) through vector loads: the bound on
 * decoding, which reads every weight once per token. Each JMH thread ({@code -t}) reads its own contiguous share of
 * the file in {@code streams} interleaved streams, as the kernels do; {@code bytes} per second is the figure.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -jar bitnet4j-bench/target/benchmarks.jar MemoryRead -p file=b2-i2s.gguf -t 1
 * </pre>
 * Use a file larger than the last-level cache (the 2B-4T-shaped files of {@code ./bitnet synth} are 1.1 GiB), read
 * once beforehand so that it is in the page cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitSettings.TRAPS_PER_BYTECODE, JitSettings.TRAPS_PER_METHOD, JitSettings.QUIET, JitSettings.INLINE_BASE,
        JitSettings.INLINE_OFFSET, JitSettings.QUANTIZER_MAX, JitSettings.QUANTIZER_RUN})
public class MemoryReadBenchmark {
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    /** The file to read; required. */
    @Param({""})
    public String file;

    /** Interleaved streams per thread (the ternary and F16 kernels use four). */
    @Param({"1", "4"})
    public int streams;

    private Arena arena;
    private MemorySegment data;

    /** Bytes read, per second of the measurement. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long bytes;
    }

    /** Which share of the file this JMH thread reads. */
    @State(Scope.Thread)
    public static class Share {
        private static final java.util.concurrent.atomic.AtomicInteger NEXT =
                new java.util.concurrent.atomic.AtomicInteger();
        int index = NEXT.getAndIncrement();
    }

    @Setup(Level.Trial)
    public void setUp(org.openjdk.jmh.infra.BenchmarkParams params) throws IOException {
        if (file.isEmpty()) {
            throw new IllegalArgumentException("set the file to read with -p file=PATH");
        }
        arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(Path.of(file), StandardOpenOption.READ)) {
            data = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
        data.load();
    }

    @Benchmark
    public long read(Share share, Counters counters, org.openjdk.jmh.infra.BenchmarkParams params) {
        int threads = params.getThreads();
        long step = (long) LONGS.vectorByteSize() * streams;
        long perThread = data.byteSize() / threads / step * step;
        long start = (share.index % threads) * perThread;
        long perStream = perThread / streams;
        perStream -= perStream % LONGS.vectorByteSize();
        LongVector sum = LongVector.zero(LONGS);
        for (long at = 0; at < perStream; at += LONGS.vectorByteSize()) {
            for (int s = 0; s < streams; s++) {
                sum = sum.add(LongVector.fromMemorySegment(LONGS, data, start + s * perStream + at,
                        ByteOrder.LITTLE_ENDIAN));
            }
        }
        counters.bytes += perStream * streams;
        return sum.reduceLanes(VectorOperators.ADD);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
