package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.Layouts;
import io.bitnet4j.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * TQ1_0 (54-byte blocks of 256: 48 bytes of five base-3 digits each, 4 bytes of four digits, then the F16 scale d)
 * times Q8_K or per-token int8 activations, one row at a time. Digit n of byte v is {@code ((v·3^n mod 256)·3) >> 8};
 * bytes 0..31 give columns {@code 32n + m}, bytes 32..47 columns {@code 160 + 16n + m} (both vectorized), bytes
 * 48..51 columns {@code 240 + 4n + m} (scalar). Each block's integer {@code Σ(c−1)·q} is exact and combined as the
 * scalar reference does.
 */
final class TQ1Kernel implements MatMulKernel {
    static final TQ1Kernel INSTANCE = new TQ1Kernel();
    private static final int BLOCK_BYTES = 54;
    private static final short[] POW3 = {1, 3, 9, 27, 81};
    /**
     * The lanes of a load that belong to the 16-byte run (all of them on machines with 16 lanes or fewer): the
     * others would read the next block, so they load zeros, which contribute nothing whatever activations they
     * meet (the wide activations are padded so those reads stay in bounds).
     */
    private static final VectorMask<Byte> FIRST_SIXTEEN = MASK_BYTES.indexInRange(0, 16);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private TQ1Kernel() {
    }

    @Override
    public void multiply(WeightMatrix w, Activations x, float[] out, int rowStart, int rowEnd) {
        MemorySegment data = w.tensor().data();
        int k = w.cols();
        int rows = w.rows();
        int blocks = k / 256;
        long rowBytes = (long) blocks * BLOCK_BYTES;
        boolean perBlock = x.type() == ActivationType.Q8_K;
        for (int t = 0; t < x.tokens(); t++) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[t * rows + r] = dotRow(data, r * rowBytes, x, t, blocks, perBlock);
            }
        }
    }

    private static float dotRow(MemorySegment data, long base, Activations x, int t, int blocks, boolean perBlock) {
        short[] q = x.wide();
        float sum = 0;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xBlock = (t * blocks + b) * 256;
            ShortVector acc = ShortVector.zero(SHORTS);
            for (int p = 0; p < 32; p += SHORT_LANES) {
                ShortVector v = TernaryLanes.widen(data, block + p);
                for (int n = 0; n < 5; n++) {
                    ShortVector xv = ShortVector.fromArray(SHORTS, q, xBlock + 32 * n + p);
                    acc = acc.add(trit(v, POW3[n]).mul(xv));
                }
            }
            for (int p = 0; p < 16; p += SHORT_LANES) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, block + 32 + p, LE,
                        FIRST_SIXTEEN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                for (int n = 0; n < 5; n++) {
                    ShortVector xv = ShortVector.fromArray(SHORTS, q, xBlock + 160 + 16 * n + p);
                    acc = acc.add(trit(v, POW3[n]).mul(xv));
                }
            }
            int isum = TernaryLanes.sum(acc) + tail(data, block, q, xBlock)
                    - x.blockSums()[t * blocks + b];
            float d = Float.float16ToFloat(data.get(Layouts.SHORT, block + 52));
            sum += perBlock ? (float) isum * (d * x.scales()[t * blocks + b]) : (float) isum * d;
        }
        return perBlock ? sum : sum / x.scales()[t];
    }

    /** Digit n (pow3 = 3^n) of each byte lane: ((v·3^n mod 256)·3) >> 8. */
    private static ShortVector trit(ShortVector bytes, short pow3) {
        ShortVector shifted = bytes.mul(pow3).and((short) 0xFF);
        return shifted.add(shifted).add(shifted).lanewise(VectorOperators.LSHR, 8);
    }

    /** Σ c·q over the block's last 16 columns, from its four 4-digit bytes. */
    private static int tail(MemorySegment data, long block, short[] q, int xBlock) {
        int s = 0;
        for (int m = 0; m < 4; m++) {
            int v = Byte.toUnsignedInt(data.get(Layouts.BYTE, block + 48 + m));
            int pow = 1;
            for (int n = 0; n < 4; n++) {
                int digit = (((v * pow) & 0xFF) * 3) >> 8;
                s += digit * q[xBlock + 240 + 4 * n + m];
                pow *= 3;
            }
        }
        return s;
    }

    @Override
    public String describe() {
        return "TQ1_0 " + Simd.BITS + "-bit";
    }
}
