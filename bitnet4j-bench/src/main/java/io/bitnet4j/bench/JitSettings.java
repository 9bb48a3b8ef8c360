package io.bitnet4j.bench;

/**
 * The launcher's JIT settings (see {@code ./bitnet}), for the forks of the benchmarks: without them about one JVM in
 * ten compiles the vector kernels with boxed vectors or with a call per weight load, for the whole fork.
 */
final class JitSettings {
    static final String TRAPS_PER_BYTECODE = "-XX:PerBytecodeTrapLimit=1000";
    static final String TRAPS_PER_METHOD = "-XX:PerMethodTrapLimit=100000";
    static final String QUIET = "-XX:CompileCommand=quiet";
    static final String INLINE_BASE = "-XX:CompileCommand=inline,jdk.internal.foreign.*::unsafeGetBase";
    static final String INLINE_OFFSET = "-XX:CompileCommand=inline,jdk.internal.foreign.*::unsafeGetOffset";
    static final String QUANTIZER_MAX = "-XX:CompileCommand=dontinline,io.bitnet4j.kernel.VectorQuantizer::absMax";
    static final String QUANTIZER_RUN = "-XX:CompileCommand=dontinline,io.bitnet4j.kernel.VectorQuantizer::quantizeRun";

    private JitSettings() {
    }
}
