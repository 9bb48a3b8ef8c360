package io.bitnet4j.tensor;

/**
 * A batch of activation rows prepared for one weight type: {@code tokens} rows of {@code length} elements, in the
 * representation the reference multiplies with that weight type ({@link ActivationType}). Buffers are allocated
 * once for a capacity and reused for every token, so the hot path allocates nothing.
 *
 * <p>Layout per type (t = token, row-major):
 * <ul>
 *   <li>F32 / F16 / BF16: {@code values[t*length + i]}, already rounded to the type.</li>
 *   <li>Q8_0: {@code quants[t*length + i]}, {@code scales[t*(length/32) + b]} (the F16-rounded block scale).</li>
 *   <li>Q8_K: {@code quants}, {@code scales[t*(length/256) + b]}, {@code sums[t*(length/16) + g]} (16-element sums).</li>
 *   <li>I8_TOKEN: {@code quants}, {@code scales[t]} = 127/absmax, {@code sums[t]} = sum of the codes.</li>
 * </ul>
 */
public final class Activations {
    private static final java.util.concurrent.atomic.AtomicLong GENERATIONS =
            new java.util.concurrent.atomic.AtomicLong();
    /** Elements after the widened codes, at least one vector of 16-bit lanes at the widest shape. */
    public static final int WIDE_PADDING = 64;

    private final ActivationType type;
    private final int length;
    private final int capacity;
    private final float[] values;
    private final byte[] quants;
    private final float[] scales;
    private final int[] sums;
    private final short[] wide;
    private final int[] blockSums;
    private int tokens;
    private long generation;

    public Activations(ActivationType type, int length, int capacity) {
        if (length <= 0 || length % type.blockSize() != 0) {
            throw new IllegalArgumentException("row length " + length + " is not a positive multiple of the "
                    + type + " block size " + type.blockSize());
        }
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.type = type;
        this.length = length;
        this.capacity = capacity;
        long elements = (long) length * capacity;
        if (elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("activation batch too large: " + elements);
        }
        switch (type) {
            case F32, F16, BF16 -> {
                values = new float[(int) elements];
                quants = null;
                scales = null;
                sums = null;
            }
            case Q8_0 -> {
                values = null;
                quants = new byte[(int) elements];
                scales = new float[(int) (elements / 32)];
                sums = null;
            }
            case Q8_K -> {
                values = null;
                quants = new byte[(int) elements];
                scales = new float[(int) (elements / 256)];
                sums = new int[(int) (elements / 16)];
            }
            case I8_TOKEN -> {
                values = null;
                quants = new byte[(int) elements];
                scales = new float[capacity];
                sums = new int[capacity];
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
        boolean integer = type == ActivationType.I8_TOKEN || type == ActivationType.Q8_K || type == ActivationType.Q8_0;
        wide = integer ? new short[(int) elements + WIDE_PADDING] : null;
        blockSums = integer && length % 256 == 0 ? new int[(int) (elements / 256)] : null;
    }

    public ActivationType type() {
        return type;
    }

    /** Elements per row (K). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Rows currently held. */
    public int tokens() {
        return tokens;
    }

    public void setTokens(int tokens) {
        if (tokens < 0 || tokens > capacity) {
            throw new IllegalArgumentException("tokens " + tokens + " outside [0, " + capacity + "]");
        }
        this.tokens = tokens;
        this.generation = GENERATIONS.incrementAndGet();
    }

    /**
     * A number that changes whenever the rows are set ({@link #setTokens}, which whoever writes the rows calls
     * after writing them), unique across all instances: kernels that derive data from the rows (lookup tables)
     * reuse that data while it stays the same.
     */
    public long generation() {
        return generation;
    }

    public float[] values() {
        return values;
    }

    public byte[] quants() {
        return quants;
    }

    public float[] scales() {
        return scales;
    }

    public int[] sums() {
        return sums;
    }

    /**
     * For the fast integer kernels ({@code I8_TOKEN}, {@code Q8_K}, {@code Q8_0}): the codes widened to 16 bits (followed by
     * {@link #WIDE_PADDING} zeros, so a vector load that starts inside the last row stays in bounds), and the sum of
     * the codes of each 256-element block. Filled by the kernels' activation preparer, not by the reference
     * quantizer; null for float types.
     */
    public short[] wide() {
        return wide;
    }

    public int[] blockSums() {
        return blockSums;
    }
}
