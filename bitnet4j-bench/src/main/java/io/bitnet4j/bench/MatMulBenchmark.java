package io.bitnet4j.bench;

import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.kernel.ActivationPreparer;
import io.bitnet4j.kernel.KernelSelector;
import io.bitnet4j.kernel.MatMul;
import io.bitnet4j.kernel.WorkerPool;
import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.TQ2_0Format;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormat;
import io.bitnet4j.tensor.WeightFormats;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * One matrix product with the engine's kernels on one thread: weights of a BitNet 2B-4T shape (random ternary
 * values, or random F16 for the head) times {@code tokens} prepared activation rows. Weights per second =
 * rows × cols × tokens / time per operation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitSettings.TRAPS_PER_BYTECODE, JitSettings.TRAPS_PER_METHOD, JitSettings.QUIET, JitSettings.INLINE_BASE,
        JitSettings.INLINE_OFFSET, JitSettings.QUANTIZER_MAX, JitSettings.QUANTIZER_RUN})
public class MatMulBenchmark {
    @Param({"I2_S", "TQ2_0", "TQ1_0", "F16"})
    public String type;

    /** Output rows: 6912 is ffn_up/gate of 2B-4T (a 4.4 MB I2_S matrix, beyond L2). */
    @Param({"6912"})
    public int rows;

    @Param({"2560"})
    public int cols;

    @Param({"1"})
    public int tokens;

    /** Threads of the worker pool the product is split over, as {@code -t} splits it in the engine. */
    @Param({"1"})
    public int threads;

    @Param({"reference"})
    public String activations;

    /**
     * For I2_S and TQ2_0: also run on the rows interleaved at load by {@code --repack} (the lookup kernel's layout);
     * other types ignore it.
     */
    @Param({"false", "true"})
    public boolean repack;

    private Arena arena;
    private WorkerPool pool;
    private MatMul matmul;
    private WeightMatrix matrix;
    private Activations prepared;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        WeightFormat format = WeightFormats.of(t);
        SplittableRandom rng = new SplittableRandom(42);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = t == GgmlType.F16 ? (float) (rng.nextGaussian() * 0.05) : (rng.nextInt(3) - 1) * 0.03125f;
        }
        byte[] bytes = format.encode(values, new long[] {cols, rows});
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
        matrix = WeightMatrix.of(new Tensor("bench", t, new long[] {cols, rows}, data), I2SFormat.I2S_128);
        if (repack && t == GgmlType.I2_S) {
            matrix = new WeightMatrix(I2SFormat.interleave(matrix.tensor(), arena.allocate(bytes.length, 64)),
                    I2SFormat.I2S_128_ROWS_32);
        } else if (repack && t == GgmlType.TQ2_0) {
            matrix = new WeightMatrix(TQ2_0Format.interleave(matrix.tensor(), arena.allocate(bytes.length, 64)),
                    TQ2_0Format.ROWS_32);
        }
        ActivationType at = activations.equals("token-int8") && format.accepts(ActivationType.I8_TOKEN)
                ? ActivationType.I8_TOKEN : format.activationType();
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        prepared = new ActivationPreparer(tokens).prepare(x, cols, tokens, at);
        out = new float[tokens * rows];
        pool = new WorkerPool(threads);
        matmul = new MatMul(pool, KernelSelector.fastest());
    }

    @Benchmark
    public float multiply() {
        matmul.multiply(matrix, prepared, out);
        return out[0];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
