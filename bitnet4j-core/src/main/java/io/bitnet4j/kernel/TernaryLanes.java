package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The arithmetic shared by the ternary kernels. Packed weight bytes are zero-extended to 16-bit lanes, the 2-bit
 * code of a group is shifted out and masked ({@code c ∈ {0, 1, 2}}), multiplied with the 16-bit activations and
 * added: {@code Σ c·q} in 16-bit lanes, exact as long as a lane gains at most 254 per 32 columns for
 * {@value #CHUNK_COLUMNS} columns, after which the lanes are summed into an int. Vector ALU work only: an earlier
 * version that made masks from the code bits and did masked adds ran at about two thirds of this speed, limited by
 * how fast the CPU writes mask registers.
 */
final class TernaryLanes {
    /** Columns a 16-bit accumulator takes without overflow: 128 groups of 32 × 2·127. */
    static final int CHUNK_COLUMNS = 4096;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private TernaryLanes() {
    }

    /** {@link Simd#SHORT_LANES} weight bytes at {@code offset}, zero-extended to 16-bit lanes. */
    static ShortVector widen(MemorySegment data, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, offset, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    /** The 2-bit codes at bits {@code shift+1 .. shift} of each lane. */
    static ShortVector code(ShortVector bytes, int shift) {
        return bytes.lanewise(VectorOperators.LSHR, shift).and((short) 3);
    }

    /** The exact sum of all 16-bit lanes, as an int: the lanes are paired into ints first. */
    static int sum(ShortVector acc) {
        IntVector pairs = (IntVector) acc.reinterpretShape(INTS, 0);
        return pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
    }
}
