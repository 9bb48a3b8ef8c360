package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.MUL;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * I2_S (I2S-128 layout, as in the file) times per-token int8 activations. In a 128-column block, byte g of a row holds
 * the codes of columns g, g+32, g+64, g+96 in bits 7-6, 5-4, 3-2, 1-0; so the 32 columns {@code 32j .. 32j+31} take
 * their codes from bits {@code 7-2j .. 6-2j} of the block's 32 bytes. The result is the integer {@code Σ c·q} of the
 * scalar reference, converted exactly as {@link I2SFormat#dot} does.
 *
 * <p>Each token computes {@link #ROWS} rows at a time, one part of the thread's rows apart ({@link #ROW_STREAMS}
 * parts, so as many straight streams, which the hardware prefetcher follows), sharing each activation load. Prompts
 * of a few tokens go the same way, token after token: since the codes went unmasked this ran faster than two tokens
 * at a time through one row, each code multiplied with both tokens' activations (JMH, 6912×2560 from L3, four
 * tokens, four rows a step: 842 µs that way, 656 this way). From {@value TernaryLookupKernel#MIN_TOKENS_FROM_FILE_LAYOUT} tokens on, where 512-bit vectors allow,
 * they go to {@link TernaryLookupKernel} instead.
 */
final class I2SKernel implements FileLayoutTernaryKernel {
    static final I2SKernel INSTANCE = new I2SKernel();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Rows a generation step computes at once, one part of the thread's rows apart: more rows keep more cache-line
     * misses in flight and share each activation load. Eight against four, alternating rounds of {@code bench -p 0
     * -n 64 -t 1,2 -r 3} on the 2B I2_S file (Intel Xeon, 2026-11-27): 9.65-9.72 / 18.21-18.38 against 9.20-9.58 /
     * 17.39-17.77 tok/s on 1 / 2 threads.
     */
    private static final int ROWS = 8;

    private I2SKernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        long rowBytes = k / 4;
        float weightScale = I2SFormat.scale(w.tensor());
        int tokens = x.tokens();
        if (tokens >= TernaryLookupKernel.MIN_TOKENS_FROM_FILE_LAYOUT && TernaryLookupKernel.SUPPORTED) {
            TernaryLookupKernel.multiplyI2SFileLayout(w, x, out, rowStart, rowEnd);
            return;
        }
        MemorySegment differences = TernaryLanes.differences(x, true);
        for (int t = 0; t < tokens; t++) {
            int xOff = t * k;
            float actScale = x.scales()[t];
            float actSum = x.sums()[t];
            int part = (rowEnd - rowStart) / ROW_STREAMS;
            for (int i = 0; i < part; i++) {
                for (int first = rowStart + i; first < rowStart + ROW_STREAMS * part; first += ROWS * part) {
                    dotEightRows(data, first * rowBytes, part * rowBytes, differences, xOff, k, out, t * rows + first,
                            part, actSum, actScale, weightScale);
                }
            }
            int rest = rowStart + ROW_STREAMS * part;
            int eighth = (rowEnd - rest) / ROWS;
            for (int i = 0; i < eighth; i++) {
                int r = rest + i;
                dotEightRows(data, r * rowBytes, eighth * rowBytes, differences, xOff, k, out, t * rows + r,
                        eighth, actSum, actScale, weightScale);
            }
            for (int r = rest + ROWS * eighth; r < rowEnd; r++) {
                int dot = dotOneRow(data, r * rowBytes, differences, xOff, k);
                out[t * rows + r] = ((float) dot - actSum) / actScale * weightScale;
            }
        }
    }

    /**
     * Eight rows whose bytes start at {@code base}, {@code stride} bytes apart (one part of the rows a thread computes
     * apart, see {@link #ROW_STREAMS}):
     * {@code out[outOff + i·outStride] = ((float) Σc·q − actSum) / actScale · weightScale}. The codes are shifted out
     * of their bytes but not masked ({@link TernaryLanes#differences}): the same result with four masks fewer per row
     * and 128 columns. The loads, shifts and lane sums of {@link TernaryLanes} are written out here: with eight rows
     * this method is past the size up to which C2 inlines calls, and a vector passed to or returned from a call it
     * does not inline is allocated on the heap (generation ran at a tenth of its speed). Additions and products are
     * {@code lanewise(ADD|MUL, v)}, the call {@code add} and {@code mul} make: C2 inlines such a call only through
     * the receiver type its call site has seen, and the sites inside {@code add} and {@code mul} are shared with every
     * kernel. After a prompt, a trap another kernel had taken there made C2 compile this one with them as calls,
     * which boxed every vector: 1.4 GB allocated per token, tg32 at 5.5 instead of 18 tok/s (2 threads, pp128 then
     * tg32 in one process, about one process in five). A site here has this method's profile alone.
     */
    private static void dotEightRows(MemorySegment data, long base, long stride, MemorySegment differences, int xOff,
                                     int k, float[] out, int outOff, int outStride, float actSum, float actScale,
                                     float weightScale) {
        int d0 = 0;
        int d1 = 0;
        int d2 = 0;
        int d3 = 0;
        int d4 = 0;
        int d5 = 0;
        int d6 = 0;
        int d7 = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector a0 = ShortVector.zero(SHORTS);
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            ShortVector a4 = a0;
            ShortVector a5 = a0;
            ShortVector a6 = a0;
            ShortVector a7 = a0;
            for (int col = chunk; col < end; col += 128) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    long off = base + col / 4 + p;
                    ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + 2 * stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + 3 * stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w4 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + 4 * stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w5 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + 5 * stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w6 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + 6 * stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    ShortVector w7 = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, off + 7 * stride, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                    for (int j = 0; j < 4; j++) {
                        ShortVector xv = ShortVector.fromMemorySegment(SHORTS, differences,
                                2L * (xOff + col + 32 * j + p), LE);
                        ShortVector shift = ShortVector.broadcast(SHORTS, (short) (6 - 2 * j));
                        a0 = a0.lanewise(ADD, w0.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a1 = a1.lanewise(ADD, w1.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a2 = a2.lanewise(ADD, w2.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a3 = a3.lanewise(ADD, w3.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a4 = a4.lanewise(ADD, w4.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a5 = a5.lanewise(ADD, w5.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a6 = a6.lanewise(ADD, w6.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                        a7 = a7.lanewise(ADD, w7.lanewise(VectorOperators.LSHR, shift).lanewise(MUL, xv));
                    }
                }
            }
            IntVector p0 = (IntVector) a0.reinterpretShape(INTS, 0);
            d0 += p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p0.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p1 = (IntVector) a1.reinterpretShape(INTS, 0);
            d1 += p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p1.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p2 = (IntVector) a2.reinterpretShape(INTS, 0);
            d2 += p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p2.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p3 = (IntVector) a3.reinterpretShape(INTS, 0);
            d3 += p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p3.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p4 = (IntVector) a4.reinterpretShape(INTS, 0);
            d4 += p4.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p4.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p5 = (IntVector) a5.reinterpretShape(INTS, 0);
            d5 += p5.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p5.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p6 = (IntVector) a6.reinterpretShape(INTS, 0);
            d6 += p6.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p6.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            IntVector p7 = (IntVector) a7.reinterpretShape(INTS, 0);
            d7 += p7.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .lanewise(ADD, p7.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
        }
        out[outOff] = ((float) d0 - actSum) / actScale * weightScale;
        out[outOff + outStride] = ((float) d1 - actSum) / actScale * weightScale;
        out[outOff + 2 * outStride] = ((float) d2 - actSum) / actScale * weightScale;
        out[outOff + 3 * outStride] = ((float) d3 - actSum) / actScale * weightScale;
        out[outOff + 4 * outStride] = ((float) d4 - actSum) / actScale * weightScale;
        out[outOff + 5 * outStride] = ((float) d5 - actSum) / actScale * weightScale;
        out[outOff + 6 * outStride] = ((float) d6 - actSum) / actScale * weightScale;
        out[outOff + 7 * outStride] = ((float) d7 - actSum) / actScale * weightScale;
    }

    /** Σ c·q of one row whose bytes start at {@code base}, its codes unmasked against the activations' differences. */
    private static int dotOneRow(MemorySegment data, long base, MemorySegment differences, int xOff, int k) {
        int dot = 0;
        for (int chunk = 0; chunk < k; chunk += TernaryLanes.CHUNK_COLUMNS) {
            int end = Math.min(k, chunk + TernaryLanes.CHUNK_COLUMNS);
            ShortVector acc0 = ShortVector.zero(SHORTS);
            ShortVector acc1 = acc0;
            ShortVector acc2 = acc0;
            ShortVector acc3 = acc0;
            for (int col = chunk; col < end; col += 128) {
                for (int p = 0; p < 32; p += SHORT_LANES) {
                    ShortVector w = TernaryLanes.widen(data, base + col / 4 + p);
                    int xi = xOff + col + p;
                    acc0 = acc0.lanewise(ADD, w.lanewise(VectorOperators.LSHR, 6)
                            .lanewise(MUL, ShortVector.fromMemorySegment(SHORTS, differences, 2L * xi, LE)));
                    acc1 = acc1.lanewise(ADD, w.lanewise(VectorOperators.LSHR, 4)
                            .lanewise(MUL, ShortVector.fromMemorySegment(SHORTS, differences, 2L * (xi + 32), LE)));
                    acc2 = acc2.lanewise(ADD, w.lanewise(VectorOperators.LSHR, 2)
                            .lanewise(MUL, ShortVector.fromMemorySegment(SHORTS, differences, 2L * (xi + 64), LE)));
                    acc3 = acc3.lanewise(ADD,
                            w.lanewise(MUL, ShortVector.fromMemorySegment(SHORTS, differences, 2L * (xi + 96), LE)));
                }
            }
            dot += TernaryLanes.sum(acc0.lanewise(ADD, acc1).lanewise(ADD, acc2.lanewise(ADD, acc3)));
        }
        return dot;
    }

    @Override
    public int rowGrain() {
        return TernaryLookupKernel.SUPPORTED ? TernaryLookupKernel.ROW_GRAIN : 4;
    }

    @Override
    public String describe() {
        return "I2_S " + Simd.BITS + "-bit, " + ROWS + " rows";
    }
}
