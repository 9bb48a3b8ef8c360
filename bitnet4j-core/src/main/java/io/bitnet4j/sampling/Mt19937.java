package io.bitnet4j.sampling;

/**
 * The 32-bit Mersenne Twister as C++'s {@code std::mt19937} defines it, and libstdc++'s
 * {@code generate_canonical<double, 53>} on top of it, so that a seed means the same stream of draws as in
 * llama.cpp.
 */
public final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] state = new int[N];
    private int index;

    public Mt19937(long seed) {
        state[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            state[i] = 1812433253 * (state[i - 1] ^ (state[i - 1] >>> 30)) + i;
        }
        index = N;
    }

    /** The next 32-bit output as an unsigned value in a long. */
    public long nextUnsigned() {
        if (index >= N) {
            twist();
        }
        int y = state[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return Integer.toUnsignedLong(y);
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & 0x80000000) | (state[(i + 1) % N] & 0x7fffffff);
            int next = state[(i + M) % N] ^ (y >>> 1);
            if ((y & 1) != 0) {
                next ^= 0x9908b0df;
            }
            state[i] = next;
        }
        index = 0;
    }

    /** A double in [0, 1) from two draws, as libstdc++'s {@code generate_canonical<double, 53>} makes it. */
    public double nextCanonical() {
        double low = nextUnsigned();
        double high = nextUnsigned();
        double r = (low + high * 4294967296.0) / 18446744073709551616.0;
        return r >= 1.0 ? Math.nextDown(1.0) : r;
    }
}
