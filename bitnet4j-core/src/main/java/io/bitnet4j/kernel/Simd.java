package io.bitnet4j.kernel;

import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes the fast kernels use, fixed at start-up: the widest the CPU supports (512, 256 or 128 bits),
 * or narrower with {@code -Dbitnet.vector.bits=256|128}. Only loaded when {@link KernelSelector} has checked that
 * the Vector API is present.
 */
final class Simd {
    static final int BITS = chooseBits();
    /** 16-bit lanes: activations widened for the integer kernels. */
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS));
    /** Bytes with as many lanes as {@link #SHORTS}: the packed weight bytes a mask is tested from. */
    static final VectorSpecies<Byte> MASK_BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(BITS / 2));
    /** 32-bit integer lanes, for reducing 16-bit accumulators exactly. */
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    /** Lanes of {@link #SHORTS}: 32, 16 or 8. */
    static final int SHORT_LANES = SHORTS.length();
    /**
     * Whether a 64-byte permute of bytes is one instruction (AVX-512 VBMI, {@code vpermb}): from the CPU flags of
     * /proc/cpuinfo; false where they cannot be read.
     */
    static final boolean BYTE_PERMUTES = cpuFlag("avx512vbmi");

    private Simd() {
    }

    /**
     * The preferred width, or the narrower one {@code bitnet.vector.bits} asks for. A value other than 128, 256 or
     * 512 is ignored with a warning that names it: thrown from here it had surfaced as "Vector API not available"
     * and scalar kernels.
     */
    private static int chooseBits() {
        int preferred = ShortVector.SPECIES_PREFERRED.vectorBitSize();
        String forced = System.getProperty("bitnet.vector.bits");
        if (forced == null) {
            return preferred;
        }
        return switch (forced.trim()) {
            case "128", "256", "512" -> Math.min(Integer.parseInt(forced.trim()), preferred);
            default -> {
                warnIgnored("bitnet.vector.bits", forced, "128, 256 or 512", preferred + "-bit vectors");
                yield preferred;
            }
        };
    }

    /**
     * The boolean system property {@code name}: {@code defaultValue} when unset, or (with a warning) when it is
     * neither true nor false.
     */
    static boolean booleanProperty(String name, boolean defaultValue) {
        String value = System.getProperty(name);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                warnIgnored(name, value, "true or false", String.valueOf(defaultValue));
                yield defaultValue;
            }
        };
    }

    private static void warnIgnored(String name, String value, String allowed, String used) {
        System.getLogger(Simd.class.getName()).log(System.Logger.Level.WARNING,
                "-D" + name + "=" + value + " ignored: it takes " + allowed + "; using " + used);
    }

    private static boolean cpuFlag(String flag) {
        java.nio.file.Path cpuinfo = java.nio.file.Path.of("/proc/cpuinfo");
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(cpuinfo)) {
            return lines.filter(line -> line.startsWith("flags"))
                    .anyMatch(line -> java.util.Arrays.asList(line.split("\\s+")).contains(flag));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** Whether the CPU gives at least 128-bit vectors (else the kernels would be slower than scalar code). */
    static boolean usable() {
        return ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 128;
    }
}
