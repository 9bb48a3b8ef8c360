package io.bitnet4j.bench;

import io.bitnet4j.engine.KvCache;
import io.bitnet4j.engine.KvType;
import io.bitnet4j.kernel.Attention;
import io.bitnet4j.kernel.AttentionKernel;
import io.bitnet4j.kernel.KernelSelector;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Attention of the four query heads of one group (2B-4T: head dimension 128, 5 cache heads) over an F16 cache of
 * {@code length} positions on one thread, with the engine's kernel: one head at a time ({@code single}), as for
 * generation on more threads than groups, or the four together ({@code four}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitSettings.TRAPS_PER_BYTECODE, JitSettings.TRAPS_PER_METHOD, JitSettings.QUIET, JitSettings.INLINE_BASE,
        JitSettings.INLINE_OFFSET, JitSettings.QUANTIZER_MAX, JitSettings.QUANTIZER_RUN})
public class AttentionBenchmark {
    private static final int HEAD_DIM = 128;
    private static final int KV_HEADS = 5;

    @Param({"64", "512"})
    public int length;

    @Param({"single", "four"})
    public String heads;

    private KvCache cache;
    private float[] q;
    private float[] out;
    private Attention.Scratch scratch;
    private AttentionKernel kernel;

    @Setup(Level.Trial)
    public void setUp() {
        int kvDim = KV_HEADS * HEAD_DIM;
        cache = new KvCache(KvType.F16, 1, length, kvDim);
        SplittableRandom rng = new SplittableRandom(7);
        float[] k = new float[kvDim];
        float[] v = new float[kvDim];
        for (int pos = 0; pos < length; pos++) {
            for (int i = 0; i < kvDim; i++) {
                k[i] = (float) rng.nextGaussian();
                v[i] = (float) rng.nextGaussian();
            }
            cache.store(0, pos, k, 0, v, 0);
        }
        q = new float[4 * HEAD_DIM];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) rng.nextGaussian();
        }
        out = new float[4 * HEAD_DIM];
        scratch = new Attention.Scratch(length, HEAD_DIM);
        kernel = KernelSelector.fastest().attention();
    }

    @Benchmark
    public float attend() {
        float scale = 1f / (float) Math.sqrt(HEAD_DIM);
        int kvOff = 2 * HEAD_DIM;
        if (heads.equals("four")) {
            kernel.groupsF16(q, 0, cache.keysF16(0), cache.valuesF16(0), 4 * kvOff / HEAD_DIM, 4, KV_HEADS * HEAD_DIM,
                    cache.paddedCapacity(), length, HEAD_DIM, 1, scale, scratch, out, 0);
        } else {
            for (int h = 0; h < 4; h++) {
                kernel.headF16(q, h * HEAD_DIM, cache.keysF16(0), cache.valuesF16(0), kvOff, KV_HEADS * HEAD_DIM,
                        cache.paddedCapacity(), length, HEAD_DIM, scale, scratch, out, h * HEAD_DIM);
            }
        }
        return out[0];
    }
}
