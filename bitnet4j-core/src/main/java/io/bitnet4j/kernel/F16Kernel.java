package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.FLOATS;
import static io.bitnet4j.kernel.Simd.INTS;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 weights (the tied output head of BitNet b1.58 2B-4T) times F16-rounded activations, summed in float lanes,
 * eight rows at a time taken from the eight eighths of a thread's rows (eight long streams for the prefetcher, one
 * activation load for all).
 * The Vector API has no half-precision conversion, so weights are widened with integer operations: the
 * sign-extended half shifted left by 13 and masked puts the sign, exponent and mantissa bits where a float's go, and a
 * multiplication by 2^112 rebiases the exponent (exact for normal and subnormal halves alike); the eight-row path
 * multiplies the activations by 2^112 once instead. That misreads infinities and NaNs, so a tensor is scanned once
 * for them and, if it has any, multiplied by the {@link #PATCHED} kernel that fixes them up lane by lane. Several
 * chains of fused multiply-adds (eight rows, or two accumulators in each of the one-row paths) keep them from
 * waiting on each other; accumulators and lanes are summed in a fixed order ({@link FloatLanes}), so results differ
 * from the scalar reference (a double sum) by float rounding only.
 */
final class F16Kernel implements MatMulKernel {
    /** For tensors without infinities or NaNs (every real model). */
    static final F16Kernel FINITE = new F16Kernel(false);
    /** For tensors that hold infinities or NaNs. */
    static final F16Kernel PATCHED = new F16Kernel(true);
    /**
     * Halves with as many lanes as {@link Simd#FLOATS}, loaded as ints: the lookup kernel loads shorts from heap
     * scratch, and a short load that has seen both heap and mapped segments is compiled less well (decoding after a
     * prompt ran 18 % slower).
     */
    private static final VectorSpecies<Integer> HALVES_AS_INTS =
            VectorSpecies.of(int.class, VectorShape.forBitSize(Simd.BITS / 2));
    /** The exponent fields of four halves in a long; a half is infinite or NaN where its field is all ones. */
    private static final long EXPONENTS = 0x7C00_7C00_7C00_7C00L;
    /**
     * Bit 0 and bit 15 of each 16-bit field: {@code (v − LOW_BITS) & ~v & HIGH_BITS} is non-zero exactly when a
     * field of v is zero (fields below 0x8000).
     */
    private static final long LOW_BITS = 0x0001_0001_0001_0001L;
    private static final long HIGH_BITS = 0x8000_8000_8000_8000L;
    private static final int LANES = FLOATS.length();
    private static final float TWO_POW_112 = 0x1p112f;
    /**
     * A sign-extended half shifted left by 13 has its sign in bit 31, copies of it in bits 28..30 (cleared by this
     * mask) and its exponent and mantissa in bits 13..27, where a float's low exponent bits and mantissa sit.
     */
    private static final int SIGN_AND_MAGNITUDE = 0x8FFFE000;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final boolean patched;

    private F16Kernel(boolean patched) {
        this.patched = patched;
    }

    /**
     * The kernel for {@code w}: {@link #FINITE} unless its halves include an infinity or a NaN. The halves are read
     * four to a long: the scan runs once, while the process is cold, and a scalar loop is compiled in a fraction of
     * the time a vector loop runs boxed first (the 2B head's 657 MB took 330-500 ms as vectors, inside the time to
     * the first token).
     */
    static F16Kernel forTensor(WeightMatrix w) {
        MemorySegment data = w.tensor().data();
        long bytes = data.byteSize();
        long i = 0;
        for (; i + 8 <= bytes; i += 8) {
            long notAllOnes = (data.get(io.bitnet4j.tensor.Layouts.LONG, i) & EXPONENTS) ^ EXPONENTS;
            if (((notAllOnes - LOW_BITS) & ~notAllOnes & HIGH_BITS) != 0) {
                return PATCHED;
            }
        }
        for (; i < bytes; i += 2) {
            if ((data.get(io.bitnet4j.tensor.Layouts.SHORT, i) & 0x7c00) == 0x7c00) {
                return PATCHED;
            }
        }
        return FINITE;
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        long rowBytes = 2L * k;
        float[] xs = x.values();
        Scratch scratch = SCRATCH.get();
        MemorySegment rebiased = patched ? null : scratch.rebiased(xs, x.tokens() * k);
        for (int t = 0; t < x.tokens(); t++) {
            int xOff = t * k;
            int eighth = patched ? 0 : (rowEnd - rowStart) / 8;
            for (int i = 0; i < eighth; i++) {
                int r = rowStart + i;
                dotEightRows(data, r * rowBytes, eighth * rowBytes, rebiased, xs, xOff, k, out, t * rows + r,
                        eighth);
            }
            for (int r = rowStart + 8 * eighth; r < rowEnd; r++) {
                out[t * rows + r] = patched ? dotPatched(data, r * rowBytes, xs, xOff, k)
                        : dotFinite(data, r * rowBytes, xs, xOff, k);
            }
        }
    }

    /** Per-thread buffers, so that a product allocates nothing. */
    private static final class Scratch {
        private MemorySegment rebiased = MemorySegment.NULL;

        /**
         * The activations times 2^112: a weight widened without its rebiasing multiplication times them gives the
         * same real product, so each fused multiply-add rounds exactly as with the multiplication. Exact and finite,
         * since F16-rounded activations are below 2^16 in magnitude. Kept in native memory on a cache-line boundary
         * ({@link AlignedShorts} says why), and filled by a plain loop: a vector loop that runs once per token was
         * sometimes left uncompiled with its vectors boxed (12 KB per token).
         */
        MemorySegment rebiased(float[] x, int n) {
            if (rebiased.byteSize() < 4L * n) {
                rebiased = Arena.ofAuto().allocate(4L * n, 64);
            }
            for (int i = 0; i < n; i++) {
                rebiased.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[i] * TWO_POW_112);
            }
            return rebiased;
        }
    }

    private static float dotFinite(MemorySegment data, long base, float[] x, int xOff, int k) {
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        int i = 0;
        for (; i + 2 * LANES <= k; i += 2 * LANES) {
            long off = base + 2L * i;
            a0 = widen(data, off).fma(FloatVector.fromArray(FLOATS, x, xOff + i), a0);
            a1 = widen(data, off + 2L * LANES).fma(FloatVector.fromArray(FLOATS, x, xOff + i + LANES), a1);
        }
        float s = FloatLanes.sum(a0.add(a1));
        for (; i < k; i++) {
            s += half(data, base + 2L * i) * x[xOff + i];
        }
        return s;
    }

    /**
     * Eight finite rows {@code stride} bytes apart (one from each eighth of a thread's rows), into
     * {@code out[o + i·step]}. Weights are widened without the rebiasing multiplication, which {@code rebiased} (the
     * activations times 2^112) carries instead. Several rows rather than one: one fused multiply-add chain per row
     * waits on its latency, and with two chains the kernel ran at 34 GB/s from cache; eight rather than four share
     * each activation load and keep more cache-line misses in flight (JMH, the 128256-row head from memory: 53.2 /
     * 26.2 against 56.0 / 28.2 ms on 1 / 2 threads; generation on the 2B I2_S file, alternating processes: 9.83-9.93 /
     * 18.27-19.07 against 9.48-9.76 / 18.31-18.73 tok/s). Each half's lane sums run as four trees at once in vector
     * registers ({@link FloatLanes#UPPER_HALF}; the same bits as one sum at a time): stored and summed lane by lane
     * they had taken 81 against 74 µs for 256 rows from L2 (four rows). The widening is written out here: with
     * eight rows C2 stops inlining calls in this method, and a vector returned from a call it does not inline is
     * allocated on the heap (the head took 99 instead of 53 ms). Arithmetic on the accumulators is
     * {@code lanewise(op, ..)}, for the reason {@code I2SKernel.dotEightRows} gives.
     */
    private static void dotEightRows(MemorySegment data, long base, long stride, MemorySegment rebiased, float[] x,
                                     int xOff, int k, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        int i = 0;
        for (; i + LANES <= k; i += LANES) {
            FloatVector xv = FloatVector.fromMemorySegment(FLOATS, rebiased, 4L * (xOff + i), LE);
            long off = base + 2L * i;
            IntVector h0 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a0 = ((FloatVector) h0.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a0);
            IntVector h1 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a1 = ((FloatVector) h1.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a1);
            IntVector h2 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + 2 * stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a2 = ((FloatVector) h2.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a2);
            IntVector h3 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + 3 * stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a3 = ((FloatVector) h3.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a3);
            IntVector h4 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + 4 * stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a4 = ((FloatVector) h4.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a4);
            IntVector h5 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + 5 * stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a5 = ((FloatVector) h5.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a5);
            IntVector h6 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + 6 * stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a6 = ((FloatVector) h6.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a6);
            IntVector h7 = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, off + 7 * stride, LE)
                    .reinterpretAsShorts().convertShape(VectorOperators.S2I, INTS, 0);
            a7 = ((FloatVector) h7.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, SIGN_AND_MAGNITUDE)
                    .reinterpretShape(FLOATS, 0)).lanewise(VectorOperators.FMA, xv, a7);
        }
        FloatVector a01 = a0.lanewise(VectorOperators.ADD, a0.rearrange(FloatLanes.SWAP_HALF))
                .blend(a1.lanewise(VectorOperators.ADD, a1.rearrange(FloatLanes.SWAP_HALF)), FloatLanes.UPPER_HALF);
        FloatVector a23 = a2.lanewise(VectorOperators.ADD, a2.rearrange(FloatLanes.SWAP_HALF))
                .blend(a3.lanewise(VectorOperators.ADD, a3.rearrange(FloatLanes.SWAP_HALF)), FloatLanes.UPPER_HALF);
        a01 = a01.lanewise(VectorOperators.ADD, a01.rearrange(FloatLanes.SWAP_QUARTER));
        a23 = a23.lanewise(VectorOperators.ADD, a23.rearrange(FloatLanes.SWAP_QUARTER));
        FloatVector all = a01.blend(a23, FloatLanes.UPPER_QUARTERS);
        if (LANES > 8) {
            all = all.lanewise(VectorOperators.ADD, all.rearrange(FloatLanes.SWAP_2));
        }
        if (LANES > 4) {
            all = all.lanewise(VectorOperators.ADD, all.rearrange(FloatLanes.SWAP_1));
        }
        float s0 = all.lane(0);
        float s1 = all.lane(FloatLanes.SECOND_SUM);
        float s2 = all.lane(FloatLanes.THIRD_SUM);
        float s3 = all.lane(FloatLanes.FOURTH_SUM);
        FloatVector b01 = a4.add(a4.rearrange(FloatLanes.SWAP_HALF))
                .blend(a5.add(a5.rearrange(FloatLanes.SWAP_HALF)), FloatLanes.UPPER_HALF);
        FloatVector b23 = a6.add(a6.rearrange(FloatLanes.SWAP_HALF))
                .blend(a7.add(a7.rearrange(FloatLanes.SWAP_HALF)), FloatLanes.UPPER_HALF);
        b01 = b01.add(b01.rearrange(FloatLanes.SWAP_QUARTER));
        b23 = b23.add(b23.rearrange(FloatLanes.SWAP_QUARTER));
        FloatVector bll = b01.blend(b23, FloatLanes.UPPER_QUARTERS);
        if (LANES > 8) {
            bll = bll.add(bll.rearrange(FloatLanes.SWAP_2));
        }
        if (LANES > 4) {
            bll = bll.add(bll.rearrange(FloatLanes.SWAP_1));
        }
        float s4 = bll.lane(0);
        float s5 = bll.lane(FloatLanes.SECOND_SUM);
        float s6 = bll.lane(FloatLanes.THIRD_SUM);
        float s7 = bll.lane(FloatLanes.FOURTH_SUM);
        for (; i < k; i++) {
            float xi = x[xOff + i];
            s0 += half(data, base + 2L * i) * xi;
            s1 += half(data, base + stride + 2L * i) * xi;
            s2 += half(data, base + 2 * stride + 2L * i) * xi;
            s3 += half(data, base + 3 * stride + 2L * i) * xi;
            s4 += half(data, base + 4 * stride + 2L * i) * xi;
            s5 += half(data, base + 5 * stride + 2L * i) * xi;
            s6 += half(data, base + 6 * stride + 2L * i) * xi;
            s7 += half(data, base + 7 * stride + 2L * i) * xi;
        }
        out[outOff] = s0;
        out[outOff + outStride] = s1;
        out[outOff + 2 * outStride] = s2;
        out[outOff + 3 * outStride] = s3;
        out[outOff + 4 * outStride] = s4;
        out[outOff + 5 * outStride] = s5;
        out[outOff + 6 * outStride] = s6;
        out[outOff + 7 * outStride] = s7;
    }

    private static float dotPatched(MemorySegment data, long base, float[] x, int xOff, int k) {
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        int i = 0;
        for (; i + 2 * LANES <= k; i += 2 * LANES) {
            long off = base + 2L * i;
            a0 = widenPatched(data, off).fma(FloatVector.fromArray(FLOATS, x, xOff + i), a0);
            a1 = widenPatched(data, off + 2L * LANES).fma(FloatVector.fromArray(FLOATS, x, xOff + i + LANES), a1);
        }
        float s = FloatLanes.sum(a0.add(a1));
        for (; i < k; i++) {
            s += half(data, base + 2L * i) * x[xOff + i];
        }
        return s;
    }

    /** {@link #LANES} finite halves at byte {@code offset} as floats, exactly. */
    static FloatVector widen(MemorySegment data, long offset) {
        return widenUnscaled(data, offset).mul(TWO_POW_112);
    }

    /** {@link #LANES} finite halves at byte {@code offset} as floats 2^112 times too small (exactly). */
    private static FloatVector widenUnscaled(MemorySegment data, long offset) {
        IntVector h = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, offset, LE).reinterpretAsShorts()
                .convertShape(VectorOperators.S2I, INTS, 0);
        return (FloatVector) h.lanewise(VectorOperators.LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretShape(FLOATS, 0);
    }

    /** Any {@link #LANES} halves as floats, exactly: exponent-31 halves land on [2^16, 2^17) and get exponent 255. */
    static FloatVector widenPatched(MemorySegment data, long offset) {
        IntVector h = (IntVector) IntVector.fromMemorySegment(HALVES_AS_INTS, data, offset, LE).reinterpretAsShorts()
                .convertShape(VectorOperators.S2I, INTS, 0);
        IntVector bits = h.and(0x80000000).or(h.and(0x7fff).lanewise(VectorOperators.LSHL, 13));
        FloatVector value = ((FloatVector) bits.reinterpretShape(FLOATS, 0)).mul(TWO_POW_112);
        VectorMask<Float> special = value.abs().compare(VectorOperators.GE, 65536f);
        return value.blend((FloatVector) bits.or(0x7f800000).reinterpretShape(FLOATS, 0), special);
    }

    private static float half(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(io.bitnet4j.tensor.Layouts.SHORT, offset));
    }

    @Override
    public String describe() {
        return "F16 " + Simd.BITS + "-bit" + (patched ? " (non-finite values)" : "");
    }
}
