package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bitnet4j.engine.KvCache;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The vector attention against the scalar reference: the same bits for random heads, lengths and cache slices. */
class AttentionDifferentialTest {

    @ParameterizedTest(name = "head dim {0}")
    @ValueSource(ints = {64, 80, 128, 8})
    void vectorAttentionEqualsTheReferenceBitForBit(int headDim) {
        assumeVectorAttention();
        SplittableRandom rng = new SplittableRandom(headDim);
        int kvHeads = 2;
        int kvDim = kvHeads * headDim;
        for (int trial = 0; trial < 10; trial++) {
            int length = 1 + rng.nextInt(200);
            int capacity = length + rng.nextInt(40);
            KvCache f16 = new KvCache(io.bitnet4j.engine.KvType.F16, 1, capacity, kvDim);
            KvCache f32 = new KvCache(io.bitnet4j.engine.KvType.F32, 1, capacity, kvDim);
            for (int pos = 0; pos < length; pos++) {
                float[] k = gaussian(rng, kvDim, 2);
                float[] v = gaussian(rng, kvDim, 1);
                f16.store(0, pos, k, 0, v, 0);
                f32.store(0, pos, k, 0, v, 0);
            }
            float[] q = gaussian(rng, headDim + 7, 3);
            int kvOff = headDim * rng.nextInt(kvHeads);
            float scale = 1f / (float) Math.sqrt(headDim);
            float[] expected = new float[headDim + 5];
            float[] actual = new float[headDim + 5];
            Attention.Scratch s = new Attention.Scratch(capacity, headDim);
            Attention.headF16(q, 7, f16.keysF16(0), f16.valuesF16(0), kvOff, kvDim, f16.paddedCapacity(), length,
                    headDim, scale, s, expected, 5);
            VectorAttention.headF16(q, 7, f16.keysF16(0), f16.valuesF16(0), kvOff, kvDim, f16.paddedCapacity(),
                    length, headDim, scale, s, actual, 5);
            assertThat(actual).as("F16 cache, length %d", length).containsExactly(expected);
            Attention.headF32(q, 7, f32.keysF32(0), f32.valuesF32(0), kvOff, kvDim, f32.paddedCapacity(), length,
                    headDim, scale, s, expected, 5);
            VectorAttention.headF32(q, 7, f32.keysF32(0), f32.valuesF32(0), kvOff, kvDim, f32.paddedCapacity(),
                    length, headDim, scale, s, actual, 5);
            assertThat(actual).as("F32 cache, length %d", length).containsExactly(expected);
        }
    }

    /**
     * Groups of four query heads (one to three groups at once, four or eight heads per cache head, from any group on)
     * against single heads of the reference: the same bits, although the scores go position by position across the
     * groups.
     */
    @ParameterizedTest(name = "head dim {0}")
    @ValueSource(ints = {64, 80, 128, 8})
    void groupsOfFourHeadsEqualSingleHeadsOfTheReference(int headDim) {
        assumeVectorAttention();
        SplittableRandom rng = new SplittableRandom(31L * headDim);
        int kvHeads = 3;
        int kvDim = kvHeads * headDim;
        for (int trial = 0; trial < 10; trial++) {
            int length = 1 + rng.nextInt(200);
            int capacity = length + rng.nextInt(40);
            KvCache cache = filledCache(rng, capacity, kvDim);
            int groupSize = 4 * (1 + rng.nextInt(2));
            int groupsInAll = kvHeads * groupSize / 4;
            int firstGroup = rng.nextInt(groupsInAll);
            int groups = 1 + rng.nextInt(Math.min(3, groupsInAll - firstGroup));
            int heads = 4 * groups;
            float[] q = gaussian(rng, heads * headDim + 3, 3);
            float scale = 1f / (float) Math.sqrt(headDim);
            float[] expected = new float[heads * headDim + 2];
            float[] actual = new float[heads * headDim + 2];
            Attention.Scratch s = new Attention.Scratch(capacity, headDim);
            for (int h = 0; h < heads; h++) {
                int kvOff = (4 * firstGroup + h) / groupSize * headDim;
                Attention.headF16(q, 3 + h * headDim, cache.keysF16(0), cache.valuesF16(0), kvOff, kvDim,
                        cache.paddedCapacity(), length, headDim, scale, s, expected, 2 + h * headDim);
            }
            VectorAttention.groupsF16(q, 3, cache.keysF16(0), cache.valuesF16(0), 4 * firstGroup, groupSize, kvDim,
                    cache.paddedCapacity(), length, headDim, groups, scale, s, actual, 2);
            assertThat(actual).as("length %d, %d groups from group %d, %d heads per cache head", length, groups,
                    firstGroup, groupSize).containsExactly(expected);
        }
    }

    /**
     * A group of four heads over the cache widened to floats (as prompts attend it) against single heads of the
     * reference on the F16 cache: the same bits, for lengths inside and across 64-position blocks, any group, and a
     * widened copy whose value rows are as long as the padded length (not the cache's capacity).
     */
    @ParameterizedTest(name = "head dim {0}")
    @ValueSource(ints = {64, 80, 128, 8})
    void aGroupOverTheWidenedCacheEqualsSingleHeadsOfTheReference(int headDim) {
        assumeVectorAttention();
        SplittableRandom rng = new SplittableRandom(57L * headDim);
        int kvHeads = 3;
        int kvDim = kvHeads * headDim;
        for (int trial = 0; trial < 12; trial++) {
            int length = 1 + rng.nextInt(trial < 4 ? 64 : 300);
            int capacity = length + rng.nextInt(40);
            KvCache cache = filledCache(rng, capacity, kvDim);
            int positions = length + rng.nextInt(capacity - length + 1);
            int padded = Attention.paddedLength(positions);
            int valueBlocks = kvHeads * ((headDim + GgmlMath.LANES - 1) / GgmlMath.LANES);
            float[] keys = new float[padded * kvDim];
            for (int block = 0; block < padded / GgmlMath.LANES; block++) {
                AttentionKernel.VECTOR.widenKeys(cache.keysF16(0), kvDim, positions, block, keys);
            }
            float[] values = new float[valueBlocks * padded * GgmlMath.LANES];
            for (int block = 0; block < valueBlocks; block++) {
                AttentionKernel.VECTOR.widenValues(cache.valuesF16(0), cache.paddedCapacity(), headDim, positions,
                        padded, block, values);
            }
            int kvOff = headDim * rng.nextInt(kvHeads);
            float[] q = gaussian(rng, 4 * headDim + 3, 3);
            float scale = 1f / (float) Math.sqrt(headDim);
            float[] expected = new float[4 * headDim + 2];
            float[] actual = new float[4 * headDim + 2];
            Attention.Scratch s = new Attention.Scratch(capacity, headDim);
            for (int h = 0; h < 4; h++) {
                Attention.headF16(q, 3 + h * headDim, cache.keysF16(0), cache.valuesF16(0), kvOff, kvDim,
                        cache.paddedCapacity(), length, headDim, scale, s, expected, 2 + h * headDim);
            }
            AttentionKernel.VECTOR.groupWidened(q, 3, keys, values, padded, kvOff, kvDim, length, headDim, scale, s,
                    actual, 2);
            assertThat(actual).as("length %d, cache head %d", length, kvOff / headDim).containsExactly(expected);
        }
    }

    /** The vector widening of F16 values against the scalar one: every half but infinities and NaNs, odd runs. */
    @org.junit.jupiter.api.Test
    void vectorWideningEqualsTheScalarOne() {
        assumeVectorAttention();
        short[] halves = new short[65536];
        int count = 0;
        for (int bits = 0; bits < 65536; bits++) {
            if ((bits & 0x7c00) != 0x7c00) {
                halves[count++] = (short) bits;
            }
        }
        SplittableRandom rng = new SplittableRandom(5);
        float[] expected = new float[count + 40];
        float[] actual = new float[count + 40];
        for (int trial = 0; trial < 20; trial++) {
            int offset = rng.nextInt(17);
            int toOffset = rng.nextInt(23);
            int run = trial == 0 ? count - offset : rng.nextInt(200);
            for (int i = 0; i < run; i++) {
                expected[toOffset + i] = Float.float16ToFloat(halves[offset + i]);
            }
            VectorAttention.widen(halves, offset, actual, toOffset, run);
            assertThat(actual).as("%d halves from %d to %d", run, offset, toOffset).containsExactly(expected);
        }
    }

    @ParameterizedTest(name = "spread {0}")
    @ValueSource(doubles = {1, 30, 300})
    void vectorSoftmaxEqualsTheReferenceBitForBit(double spread) {
        assumeVectorAttention();
        SplittableRandom rng = new SplittableRandom((long) spread);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + rng.nextInt(300);
            float[] scores = new float[n + 16];
            for (int j = 0; j < n; j++) {
                scores[j] = (float) (rng.nextGaussian() * spread);
            }
            float[] expected = scores.clone();
            float[] actual = scores.clone();
            float scale = (float) (0.05 + rng.nextDouble());
            Attention.softmax(expected, n, scale, new float[16]);
            VectorAttention.softmax(actual, n, scale, new float[16]);
            assertThat(actual).as("n %d", n).containsExactly(expected);
        }
    }

    /** Scores whose maximum is zero of either sign, or that hold NaNs: the vector softmax gives the same bits. */
    @org.junit.jupiter.api.Test
    void vectorSoftmaxKeepsTheReferencesMaximumForZerosAndNaNs() {
        assumeVectorAttention();
        SplittableRandom rng = new SplittableRandom(11);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + rng.nextInt(70);
            float[] scores = new float[n + 16];
            for (int j = 0; j < n; j++) {
                int kind = rng.nextInt(8);
                scores[j] = kind == 0 ? -0f : kind == 1 ? 0f : kind == 2 && trial % 4 == 0 ? Float.NaN
                        : (float) -Math.abs(rng.nextGaussian() * 3);
            }
            float[] expected = scores.clone();
            float[] actual = scores.clone();
            Attention.softmax(expected, n, 0.5f, new float[16]);
            VectorAttention.softmax(actual, n, 0.5f, new float[16]);
            for (int j = 0; j < n; j++) {
                assertThat(Float.floatToRawIntBits(actual[j])).as("n %d, score %d", n, j)
                        .isEqualTo(Float.floatToRawIntBits(expected[j]));
            }
        }
    }

    private static float[] gaussian(SplittableRandom rng, int n, double sd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextGaussian() * sd);
        }
        return x;
    }

    private static void assumeVectorAttention() {
        assumeTrue(VectorAttention.SUPPORTED, "vector attention needs 16 float lanes (AVX-512); this machine has "
                + Simd.FLOATS.length());
    }

    /**
     * An F16 cache of one layer with random keys and values at every position up to its capacity: positions past an
     * attended length hold values too (as a cache does after a longer sequence), the padding cells the reference
     * multiplies by a probability of 0.
     */
    private static KvCache filledCache(SplittableRandom rng, int capacity, int kvDim) {
        KvCache cache = new KvCache(io.bitnet4j.engine.KvType.F16, 1, capacity, kvDim);
        for (int pos = 0; pos < capacity; pos++) {
            cache.store(0, pos, gaussian(rng, kvDim, 2), 0, gaussian(rng, kvDim, 1), 0);
        }
        return cache;
    }
}
