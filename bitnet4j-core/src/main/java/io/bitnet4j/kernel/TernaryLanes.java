package io.bitnet4j.kernel;

import static io.bitnet4j.kernel.Simd.INTS;
import static io.bitnet4j.kernel.Simd.MASK_BYTES;
import static io.bitnet4j.kernel.Simd.SHORTS;
import static io.bitnet4j.kernel.Simd.SHORT_LANES;

import io.bitnet4j.tensor.Activations;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The arithmetic shared by the ternary kernels. Packed weight bytes are zero-extended to 16-bit lanes, the 2-bit
 * code of a group is shifted out ({@code c ∈ {0, 1, 2}}), multiplied with the 16-bit activations and added:
 * {@code Σ c·q} in 16-bit lanes, exact as long as a lane gains at most 254 per 32 columns for
 * {@value #CHUNK_COLUMNS} columns, after which the lanes are summed into an int. The four-row decode kernels do not
 * mask the code out after the shift: they multiply with {@link #differences} of the activations instead, which gives
 * the same sums with one operation fewer per code (four-row I2_S kernel, JMH, 6912 rows from L3: 192 -> 161 µs).
 * Vector ALU work only: an earlier version that made masks from the code bits and did masked adds ran at about two
 * thirds of the speed of shifting and masking, limited by how fast the CPU writes mask registers.
 */
final class TernaryLanes {
    /** Columns a 16-bit accumulator takes without overflow: 128 groups of 32 × 2·127. */
    static final int CHUNK_COLUMNS = 4096;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Per thread, the last {@link #differences}, grown to the longest batch of rows seen. */
    private static final ThreadLocal<Differences> DIFFERENCES = ThreadLocal.withInitial(Differences::new);

    private TernaryLanes() {
    }

    /** {@link Simd#SHORT_LANES} weight bytes at {@code offset}, zero-extended to 16-bit lanes. */
    static ShortVector widen(MemorySegment data, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(MASK_BYTES, data, offset, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    /**
     * Each lane shifted right by {@code shift}, so that the code at bits {@code shift+1 .. shift} is its lowest, the
     * codes above it kept (see {@link #differences}). The count is a vector: with a scalar count C2 moves it into a
     * vector register before every shift (the four-row I2_S kernel ran 7 % faster, TQ2_0's 12 %, from L3).
     */
    static ShortVector shifted(ShortVector bytes, ShortVector shift) {
        return bytes.lanewise(VectorOperators.LSHR, shift);
    }

    /**
     * The factors that let a kernel skip masking the codes. A byte holds the codes of four column groups j (columns
     * {@code 32j + p} of a 128-column block); shifted right so that code j is its lowest, it reads
     * {@code s_j = c_j + 4·s'}, where {@code s'} is the byte shifted one code further (0 past the top). Hence
     * {@code Σ c_j·q_j = Σ s_j·d_j} with {@code d_j = q_j − 4·q_i}, i the group whose code sits one bit pair below
     * j's. The identity holds modulo 2^16, where the 16-bit products and sums wrap, so a lane ends exactly where the
     * masked codes' sum would. With {@code highFirst} (I2_S: code j in bits 7−2j) {@code d_j = q_j − 4·q_(j+1)} and
     * {@code d_3 = q_3}; otherwise (TQ2_0: code j in bits 2j) {@code d_0 = q_0} and {@code d_j = q_j − 4·q_(j−1)}.
     * Returns this thread's copy for every token of {@code x} (rows of whole 128-column blocks), made again only when
     * the rows change, as 16-bit lanes in native memory on a cache-line boundary ({@link AlignedShorts} says why).
     * A plain loop, which C2 vectorizes itself: Vector API code that C2 compiles badly in a process runs boxed there.
     */
    static MemorySegment differences(Activations x, boolean highFirst) {
        Differences d = DIFFERENCES.get();
        long key = 2 * x.generation() + (highFirst ? 1 : 0);
        int n = x.tokens() * x.length();
        if (d.key != key) {
            if (d.values.length < n) {
                d.values = new short[n];
            }
            fill(x.wide(), n, highFirst, d.values);
            d.key = key;
        }
        return d.aligned.copy(d.values, n, key);
    }

    private static void fill(short[] q, int n, boolean highFirst, short[] d) {
        for (int block = 0; block + 128 <= n; block += 128) {
            if (highFirst) {
                for (int i = block; i < block + 96; i++) {
                    d[i] = (short) (q[i] - 4 * q[i + 32]);
                }
                System.arraycopy(q, block + 96, d, block + 96, 32);
            } else {
                System.arraycopy(q, block, d, block, 32);
                for (int i = block + 32; i < block + 128; i++) {
                    d[i] = (short) (q[i] - 4 * q[i - 32]);
                }
            }
        }
    }

    /**
     * One thread's differences and the rows they were made from: the matrices that read the same activations (q, k
     * and v; gate and up) make them once.
     */
    private static final class Differences {
        private short[] values = new short[0];
        /** Twice the generation of the activations, plus one for {@code highFirst}. */
        private long key = -1;
        private final AlignedShorts aligned = new AlignedShorts();
    }

    /**
     * Per halving step (0 and 1), the two-vector permutes ({@code selectFrom(a, b)}) of the lower then of the upper
     * halves: a step takes two vectors of {@code 2^step} segments each to one of twice as many half as wide, each
     * segment the sum of its source segment's lower and upper halves. Two steps take four rows' accumulators to one
     * vector, a quarter of the lanes per row. See {@link #halvingIndexes}.
     */
    static final short[] HALVING_INDEXES = halvingIndexes();

    /**
     * Where in {@link #HALVING_INDEXES} the permute of halving step {@code step} that picks the lower halves of the
     * segments starts. Kernels load the permutes themselves ({@code ShortVector.fromArray}) rather than through a
     * helper returning a vector: a vector returned from a call that C2 does not inline is allocated.
     */
    static int lower(int step) {
        return 2 * step * SHORT_LANES;
    }

    /** Where the permute of halving step {@code step} that picks the upper halves starts: see {@link #lower}. */
    static int upper(int step) {
        return (2 * step + 1) * SHORT_LANES;
    }

    /**
     * Step s takes two vectors of {@code m = 2^s} segments of {@code w = SHORT_LANES / m} lanes each to one of
     * {@code 2m} segments of {@code w / 2}: segment g of the result comes from segment {@code g mod m} of the first
     * vector (g < m) or of the second, lane i of it from lane i (lower) or {@code i + w/2} (upper) of that segment.
     * Indexes from {@code SHORT_LANES} on select from the second vector.
     */
    private static short[] halvingIndexes() {
        int lanes = SHORT_LANES;
        int steps = 2;
        short[] indexes = new short[2 * steps * lanes];
        for (int step = 0; step < steps; step++) {
            int segments = 1 << step;
            int width = lanes / segments;
            for (int i = 0; i < lanes; i++) {
                int g = i / (width / 2);
                int source = g < segments ? 0 : lanes;
                int lower = source + (g % segments) * width + i % (width / 2);
                indexes[2 * step * lanes + i] = (short) lower;
                indexes[(2 * step + 1) * lanes + i] = (short) (lower + width / 2);
            }
        }
        return indexes;
    }

    /** The exact sum of all 16-bit lanes, as an int: the lanes are paired into ints first. */
    static int sum(ShortVector acc) {
        IntVector pairs = (IntVector) acc.reinterpretShape(INTS, 0);
        return pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
    }
}
