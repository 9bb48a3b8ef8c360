package io.bitnet4j.kernel;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.TQ2_0Format;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the matrix-product kernel for a weight type and activation type: a Vector API kernel where one exists and
 * the Vector API is usable, else the scalar reference. Which path is in use is logged once; a fallback to scalar
 * code warns, because it is an order of magnitude slower.
 */
public final class KernelSelector {
    private static final System.Logger LOG = System.getLogger(KernelSelector.class.getName());
    private static final boolean VECTOR_API = vectorApiUsable();
    private static volatile boolean logged;
    /** Weight and activation type pairs already warned about, so that a model warns once per pair, not per layer. */
    private static final java.util.Set<String> WARNED_SCALAR = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final boolean scalarOnly;
    private final java.util.Map<WeightMatrix, MatMulKernel[]> chosen = new java.util.IdentityHashMap<>();

    private KernelSelector(boolean scalarOnly) {
        this.scalarOnly = scalarOnly;
    }

    /** The reference kernels only (tests, and {@code --scalar-kernels}). */
    public static KernelSelector scalar() {
        return new KernelSelector(true);
    }

    /** The fastest kernels available on this machine. */
    public static KernelSelector fastest() {
        logOnce();
        return new KernelSelector(!VECTOR_API);
    }

    /** A description of the vector path in use, for logs and benchmarks. */
    public static String describeVectorPath() {
        if (!VECTOR_API) {
            return "scalar";
        }
        return "Vector API " + Simd.BITS + "-bit (" + Simd.SHORT_LANES + " x 16-bit lanes)"
                + (TernaryLookupKernel.SUPPORTED ? ", ternary lookup tables for prompts" : "")
                + (Base3LookupKernel.SUPPORTED ? " (base-3 byte permutes)" : "");
    }

    /**
     * Whether ternary weights repacked into rows interleaved by 32 ({@link I2SFormat#I2S_128_ROWS_32},
     * {@link TQ2_0Format#ROWS_32}) get a fast kernel here (it needs 512-bit vectors); without one they would run on
     * the scalar reference.
     */
    public static boolean interleavedTernarySupported() {
        return VECTOR_API && TernaryLookupKernel.SUPPORTED;
    }

    /** The kernel for {@code w} with {@code activations}, chosen once per matrix and remembered. */
    public synchronized MatMulKernel forMatrix(WeightMatrix w, ActivationType activations) {
        if (scalarOnly) {
            return ScalarMatMul.INSTANCE;
        }
        MatMulKernel[] byType = chosen.computeIfAbsent(w, m -> new MatMulKernel[ActivationType.values().length]);
        MatMulKernel k = byType[activations.ordinal()];
        if (k == null) {
            k = choose(w, activations);
            byType[activations.ordinal()] = k;
            if (k == ScalarMatMul.INSTANCE) {
                warnScalarOnce(w, activations);
            }
        }
        return k;
    }

    private static void warnScalarOnce(WeightMatrix w, ActivationType activations) {
        boolean interleaved = w.format() instanceof I2SFormat i2s && i2s.interleaved()
                || w.format() == TQ2_0Format.ROWS_32;
        String pair = w.tensor().type() + (interleaved ? " weights interleaved by --repack (the lookup kernel needs "
                + "512-bit vectors)" : " weights") + " with " + activations + " activations";
        if (WARNED_SCALAR.add(pair)) {
            LOG.log(System.Logger.Level.WARNING, "kernels: no vector kernel for " + pair + " (first: " + w.name()
                    + "); using the SCALAR reference for them, about 10x slower");
        }
    }

    private static MatMulKernel choose(WeightMatrix w, ActivationType activations) {
        GgmlType type = w.tensor().type();
        if (type == GgmlType.I2_S && activations == ActivationType.I8_TOKEN) {
            if (w.format() == I2SFormat.I2S_128) {
                return I2SKernel.INSTANCE;
            }
            if (w.format() == I2SFormat.I2S_128_ROWS_32 && TernaryLookupKernel.SUPPORTED) {
                return TernaryLookupKernel.forRepacked(w);
            }
        }
        boolean integerActivations = activations == ActivationType.Q8_K || activations == ActivationType.I8_TOKEN;
        if (type == GgmlType.TQ2_0 && integerActivations) {
            if (w.format() == TQ2_0Format.ROWS_32) {
                return TernaryLookupKernel.SUPPORTED ? TernaryLookupKernel.forRepacked(w) : ScalarMatMul.INSTANCE;
            }
            return TQ2Kernel.INSTANCE;
        }
        if (type == GgmlType.TQ1_0 && integerActivations) {
            return TQ1Kernel.INSTANCE;
        }
        if (type == GgmlType.Q6_K && activations == ActivationType.Q8_K && Q6KKernel.SUPPORTED) {
            return Q6KKernel.INSTANCE;
        }
        if (type == GgmlType.Q8_0 && activations == ActivationType.Q8_0) {
            return Q8Kernel.INSTANCE;
        }
        if (type == GgmlType.F16 && activations == ActivationType.F16) {
            return F16Kernel.forTensor(w);
        }
        if (type == GgmlType.F32 && activations == ActivationType.F32) {
            return F32Kernel.INSTANCE;
        }
        return ScalarMatMul.INSTANCE;
    }

    /** The attention kernel: the vector twin where float vectors have ggml's 16 lanes, else the reference. */
    public AttentionKernel attention() {
        return !scalarOnly && VectorAttention.SUPPORTED ? AttentionKernel.VECTOR : AttentionKernel.SCALAR;
    }

    public boolean scalarOnly() {
        return scalarOnly;
    }

    private static void logOnce() {
        if (logged) {
            return;
        }
        logged = true;
        if (VECTOR_API) {
            LOG.log(System.Logger.Level.INFO, "kernels: " + describeVectorPath());
            List<String> missing = missingJitSettings();
            if (!missing.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "kernels: the JVM runs without " + String.join(" ", missing)
                        + "; without them about one process in ten runs its kernels at a quarter to half of their "
                        + "speed for good (README, Memory and start-up). The ./bitnet launcher passes them.");
            }
        } else {
            LOG.log(System.Logger.Level.WARNING, "kernels: the Vector API (jdk.incubator.vector) is not available or "
                    + "the CPU has no 128-bit vectors; falling back to SCALAR kernels, about 10x slower. Run with "
                    + "--add-modules jdk.incubator.vector (the ./bitnet launcher does).");
        }
    }

    /**
     * The launcher's JIT settings that this JVM lacks. They keep C2 from compiling the vector kernels without their
     * intrinsics (vectors boxed) or with calls for each weight load, which depended on warm-up order. Empty when the
     * JVM cannot tell (not HotSpot).
     */
    static List<String> missingJitSettings() {
        List<String> missing = new ArrayList<>();
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (Long.parseLong(vm.getVMOption("PerBytecodeTrapLimit").getValue()) < 1000) {
                missing.add("-XX:PerBytecodeTrapLimit=1000");
            }
            if (Long.parseLong(vm.getVMOption("PerMethodTrapLimit").getValue()) < 100_000) {
                missing.add("-XX:PerMethodTrapLimit=100000");
            }
            String commands = vm.getVMOption("CompileCommand").getValue();
            for (String accessor : new String[] {"unsafeGetBase", "unsafeGetOffset"}) {
                if (!commands.contains("inline,jdk.internal.foreign.*::" + accessor)) {
                    missing.add("-XX:CompileCommand=inline,jdk.internal.foreign.*::" + accessor);
                }
            }
            for (String loop : new String[] {"absMax", "quantizeRun"}) {
                String command = "dontinline," + VectorQuantizer.class.getName() + "::" + loop;
                if (!commands.contains(command)) {
                    missing.add("-XX:CompileCommand=" + command);
                }
            }
        } catch (RuntimeException | LinkageError e) {
            return List.of();
        }
        return missing;
    }

    private static boolean vectorApiUsable() {
        if (Boolean.getBoolean("bitnet.scalar")) {
            return false;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return false;
        }
        try {
            return Simd.usable();
        } catch (LinkageError e) {
            return false;
        }
    }
}
