package io.bitnet4j.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The Mersenne Twister against std::mt19937's published outputs, and libstdc++'s generate_canonical on top. */
class Mt19937Test {

    @Test
    void firstOutputsForTheDefaultSeed() {
        Mt19937 mt = new Mt19937(5489);
        assertThat(new long[] {mt.nextUnsigned(), mt.nextUnsigned(), mt.nextUnsigned(), mt.nextUnsigned(),
                mt.nextUnsigned()}).containsExactly(3499211612L, 581869302L, 3890346734L, 3586334585L, 545404204L);
    }

    @Test
    void tenThousandthOutputForTheDefaultSeed() {
        // the C++ standard's own check ([rand.predef]): the 10000th invocation of a default-constructed mt19937
        Mt19937 mt = new Mt19937(5489);
        long last = 0;
        for (int i = 0; i < 10000; i++) {
            last = mt.nextUnsigned();
        }
        assertThat(last).isEqualTo(4123659995L);
    }

    @Test
    void seedIsTakenAsAnUnsigned32BitValue() {
        Mt19937 a = new Mt19937(0xFFFFFFFFL);
        Mt19937 b = new Mt19937(-1L);
        for (int i = 0; i < 1000; i++) {
            long x = a.nextUnsigned();
            assertThat(b.nextUnsigned()).isEqualTo(x);
            assertThat(x).isBetween(0L, 0xFFFFFFFFL);
        }
    }

    @Test
    void canonicalDoubleIsTwoDrawsLowWordFirst() {
        // generate_canonical<double, 53> with a 32-bit engine: (g1 + g2·2^32) / 2^64
        Mt19937 mt = new Mt19937(5489);
        double expected = (3499211612.0 + 581869302.0 * 4294967296.0) / 18446744073709551616.0;
        assertThat(mt.nextCanonical()).isEqualTo(expected);
        assertThat(expected).isBetween(0.1354770, 0.1354771);
    }

    @Test
    void canonicalDoublesLieInTheHalfOpenUnitInterval() {
        Mt19937 mt = new Mt19937(42);
        double min = 1;
        double max = 0;
        for (int i = 0; i < 100_000; i++) {
            double u = mt.nextCanonical();
            assertThat(u).isGreaterThanOrEqualTo(0.0).isLessThan(1.0);
            min = Math.min(min, u);
            max = Math.max(max, u);
        }
        assertThat(min).isLessThan(1e-4);
        assertThat(max).isGreaterThan(1 - 1e-4);
    }
}
