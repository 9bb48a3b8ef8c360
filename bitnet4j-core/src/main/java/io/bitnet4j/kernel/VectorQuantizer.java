package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;

import io.bitnet4j.tensor.Activations;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The integer activation quantizers of {@link io.bitnet4j.tensor.ActivationQuantizer} on the Vector API, producing
 * the same bytes: maxima are exact in float; {@code x·s} is the same float product; rounding half to even is
 * {@code (v + 1.5·2^23) − 1.5·2^23}, exact for |v| < 2^22, which the scaled activations (|v| ≤ 127) are; sums are
 * integer. It also fills the 16-bit copies and 256-block sums the integer kernels read.
 */
final class VectorQuantizer {
    /**
     * Whether the float vectors are wide enough: a quarter of them holds the bytes, and the narrowest byte vector is
     * 64 bits. With 128-bit vectors the scalar quantizer is used.
     */
    static final boolean SUPPORTED = FLOATS.vectorBitSize() >= 256;
    private static final int LANES = FLOATS.length();
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class,
            VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, FLOATS.vectorBitSize() / 4)));
    private static final float ROUNDER = 12582912f;

    private VectorQuantizer() {
    }

    /** bitnet.cpp's per-token int8 quantization of row {@code x[offset ..]} into token {@code token} of {@code out}. */
    static void quantizeI8Token(float[] x, int offset, Activations out, int token) {
        int n = out.length();
        double amax = Math.max((double) absMax(x, offset, n), 1e-5);
        float scale = (float) (127.0 / amax);
        int sum = quantizeRun(x, offset, n, scale, -128, out.quants(), out.wide(), token * n);
        out.scales()[token] = scale;
        out.sums()[token] = sum;
        blockSums(out, token);
    }

    /** ggml's Q8_K quantization of row {@code x[offset ..]} into token {@code token} of {@code out}. */
    static void quantizeQ8K(float[] x, int offset, Activations out, int token) {
        int n = out.length();
        int blocks = n / 256;
        for (int b = 0; b < blocks; b++) {
            int base = offset + b * 256;
            float amax = absMax(x, base, 256);
            int q = token * n + b * 256;
            if (amax == 0) {
                out.scales()[token * blocks + b] = 0;
                java.util.Arrays.fill(out.quants(), q, q + 256, (byte) 0);
                java.util.Arrays.fill(out.wide(), q, q + 256, (short) 0);
                java.util.Arrays.fill(out.sums(), (token * blocks + b) * 16, (token * blocks + b) * 16 + 16, 0);
                if (out.blockSums() != null) {
                    out.blockSums()[token * blocks + b] = 0;
                }
                continue;
            }
            float signedMax = 0;
            for (int i = 0; i < 256; i++) {
                if (Math.abs(x[base + i]) == amax) {
                    signedMax = x[base + i];
                    break;
                }
            }
            float iscale = -127f / signedMax;
            quantizeRun(x, base, 256, iscale, Integer.MIN_VALUE, out.quants(), out.wide(), q);
            int blockSum = 0;
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int e = q + 16 * g; e < q + 16 * g + 16; e++) {
                    s += out.wide()[e];
                }
                out.sums()[(token * blocks + b) * 16 + g] = s;
                blockSum += s;
            }
            out.scales()[token * blocks + b] = 1 / iscale;
            if (out.blockSums() != null) {
                out.blockSums()[token * blocks + b] = blockSum;
            }
        }
    }

    /**
     * The largest |x| of {@code x[offset .. offset+n)}, exact. The quantizers keep their vector code in this method
     * and {@link #quantizeRun}, which take and return scalars only: when C2 compiled a quantizer with that code
     * inline it ran out of inlining budget in the Vector API's internals and allocated every vector. Inlined into the
     * Q8_K quantizer, the two still did in some processes, so the launcher keeps C2 from inlining them
     * ({@code -XX:CompileCommand=dontinline}; {@link KernelSelector} warns when it is missing).
     */
    private static float absMax(float[] x, int offset, int n) {
        FloatVector max = FloatVector.zero(FLOATS);
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            max = max.lanewise(VectorOperators.MAX,
                    FloatVector.fromArray(FLOATS, x, offset + i).lanewise(VectorOperators.ABS));
        }
        float amax = max.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            amax = Math.max(amax, Math.abs(x[offset + i]));
        }
        return amax;
    }

    /**
     * {@code q = clamp(rint(x·scale), low, 127)} for {@code n} elements into bytes and 16-bit copies; returns Σq.
     * {@code low} is −128 for per-token int8 and unbounded for Q8_K (whose codes only get the upper clamp). The
     * arithmetic is {@code lanewise(op, vector)}, not {@code mul}, {@code add} and the like nor {@code lanewise(op,
     * scalar)}, whose inner call sites every kernel shares (see {@code I2SKernel.dotEightRows}: here 4.4 MB, then
     * with scalar operands still 6.6 MB, boxed per token in some processes).
     */
    private static int quantizeRun(float[] x, int offset, int n, float scale, int low, byte[] quants, short[] wide,
                                   int at) {
        IntVector sums = IntVector.zero(INTS);
        FloatVector scales = FloatVector.broadcast(FLOATS, scale);
        FloatVector rounder = FloatVector.broadcast(FLOATS, ROUNDER);
        IntVector highest = IntVector.broadcast(INTS, 127);
        IntVector lowest = IntVector.broadcast(INTS, low);
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            FloatVector v = FloatVector.fromArray(FLOATS, x, offset + i).lanewise(VectorOperators.MUL, scales);
            IntVector r = (IntVector) v.lanewise(VectorOperators.ADD, rounder).lanewise(VectorOperators.SUB, rounder)
                    .convertShape(VectorOperators.F2I, INTS, 0);
            r = r.lanewise(VectorOperators.MIN, highest).lanewise(VectorOperators.MAX, lowest);
            sums = sums.lanewise(VectorOperators.ADD, r);
            ((ByteVector) r.convertShape(VectorOperators.I2B, BYTES, 0)).intoArray(quants, at + i);
            ((ShortVector) r.convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(wide, at + i);
        }
        int sum = sums.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            int r = Math.max(low, Math.min(127, (int) Math.rint(x[offset + i] * scale)));
            quants[at + i] = (byte) r;
            wide[at + i] = (short) r;
            sum += r;
        }
        return sum;
    }

    private static void blockSums(Activations out, int token) {
        int[] blockSums = out.blockSums();
        if (blockSums == null) {
            return;
        }
        int n = out.length();
        short[] wide = out.wide();
        for (int b = 0; b < n / 256; b++) {
            int base = token * n + b * 256;
            ShortVector acc = ShortVector.zero(SHORTS);
            for (int i = 0; i < 256; i += SHORTS.length()) {
                acc = acc.add(ShortVector.fromArray(SHORTS, wide, base + i));
            }
            blockSums[token * (n / 256) + b] = acc.reduceLanes(VectorOperators.ADD);
        }
    }
}
