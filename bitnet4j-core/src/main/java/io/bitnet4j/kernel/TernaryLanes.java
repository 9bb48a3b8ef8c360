package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The arithmetic shared by the ternary kernels. A 2-bit code c ∈ {0, 1, 2} has a high bit (c = 2) and a low bit
 * (c = 1); {@code Σ c·x} is accumulated in 16-bit lanes as {@code 2x} where the high bit is set plus {@code x} where
 * the low bit is, both as masked adds, with masks tested straight from the packed weight bytes. A lane gains at
 * most 254 per 32 columns, so 16-bit lanes are exact for {@value #CHUNK_COLUMNS} columns, after which they are
 * reduced to an int.
 */
final class TernaryLanes {
    /** Columns a 16-bit accumulator can take without overflow: 128 groups of 32 × |2·127|. */
    static final int CHUNK_COLUMNS = 4096;

    private TernaryLanes() {
    }

    /** The exact sum of all lanes, as an int. */
    static int sum(ShortVector acc) {
        IntVector pairs = acc.reinterpretAsInts();
        IntVector even = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
        IntVector odd = pairs.lanewise(VectorOperators.ASHR, 16);
        return even.add(odd).reduceLanes(VectorOperators.ADD);
    }

    static {
        if (INTS.vectorBitSize() != Simd.SHORTS.vectorBitSize()) {
            throw new IllegalStateException("vector shapes disagree");
        }
    }
}
