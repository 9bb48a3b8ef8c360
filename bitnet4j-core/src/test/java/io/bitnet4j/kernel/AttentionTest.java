package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Softmax and one attention head on cases worked out by hand (spec §6.6). */
class AttentionTest {
    private final float[] lanes = new float[GgmlMath.LANES];

    @Test
    void softmaxOfHandComputedScores() {
        // scores (ln 4, ln 2, 0, 0) scaled by 1: probabilities 4/8, 2/8, 1/8, 1/8
        float[] s = {(float) Math.log(4), (float) Math.log(2), 0f, 0f};
        Attention.softmax(s, 4, 1f, lanes);
        assertThat(s).usingComparatorWithPrecision(1e-6f).containsExactly(0.5f, 0.25f, 0.125f, 0.125f);
    }

    @Test
    void scaleIsAppliedBeforeTheMaximum() {
        // scores (100, 200) with scale -1 are (-100, -200): p = (1, e^-100). Taking the max of the unscaled scores
        // (200) would give exp(-100-200) = 0 for both: 0/0
        float[] s = {100f, 200f};
        Attention.softmax(s, 2, -1f, lanes);
        assertThat(s[0]).isEqualTo(1f);
        assertThat(s[1]).isBetween(0f, 1e-40f); // e^-100 = 3.7e-44, a subnormal float
        float[] t = {2f, 4f};
        Attention.softmax(t, 2, 0.5f, lanes); // (1, 2): 1/(1+e), e/(1+e)
        assertThat(t[0]).isCloseTo(0.26894142f, within(1e-7f));
        assertThat(t[1]).isCloseTo(0.7310586f, within(1e-7f));
    }

    @Test
    void softmaxTouchesOnlyTheFirstNScores() {
        // the causal mask: positions after the current one are not part of the softmax
        float[] s = {0f, 0f, 1000f, Float.NaN};
        Attention.softmax(s, 2, 1f, lanes);
        assertThat(s[0]).isEqualTo(0.5f);
        assertThat(s[1]).isEqualTo(0.5f);
        assertThat(s[2]).isEqualTo(1000f);
        assertThat(s[3]).isNaN();
    }

    @Test
    void softmaxOverMoreThanOneGroupOfLanesSumsToOne() {
        float[] s = new float[37];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.sin(i) * 3;
        }
        float[] expected = new float[s.length];
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            sum += Math.exp(s[i] * 0.25);
        }
        for (int i = 0; i < s.length; i++) {
            expected[i] = (float) (Math.exp(s[i] * 0.25) / sum);
        }
        Attention.softmax(s, s.length, 0.25f, lanes);
        assertThat(s).usingComparatorWithPrecision(1e-6f).containsExactly(expected);
    }

    /** Values transposed as the cache keeps them: rows[i][p] at i*stride + p, stride a multiple of 32. */
    private static float[] transposed(int stride, float[][] rows) {
        float[] t = new float[rows.length * stride];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, t, i * stride, rows[i].length);
        }
        return t;
    }

    @Test
    void oneHeadOverAnF32CacheWithTheCausalLength() {
        // head dim 2, q = (1, 0), keys (1, 0) and (0, 1): scores (1, 0), p = (e, 1)/(e + 1) = (0.7310586, 0.2689414);
        // values (1, 2) and (3, 4): out = p0·(1, 2) + p1·(3, 4). A third cached key lies beyond the length and
        // holds NaN: it must not be read; the padding cells of the values carry probability 0.
        float[] q = {1f, 0f};
        float[] k = {1f, 0f, 0f, 1f, Float.NaN, Float.NaN};
        float[] v = transposed(32, new float[][] {{1f, 3f}, {2f, 4f}});
        float[] out = new float[2];
        Attention.headF32(q, 0, k, v, 0, 2, 32, 2, 2, 1f, new Attention.Scratch(32, 2), out, 0);
        assertThat(out[0]).isCloseTo(1.5378828f, within(1e-6f));
        assertThat(out[1]).isCloseTo(2.5378828f, within(1e-6f));
    }

    @Test
    void oneHeadOverAnF16CacheRoundsTheProbabilitiesToF16() {
        // as above with F16 keys and values (exact for these numbers); the probabilities are rounded to F16 before
        // the PV product: 0.7310586 -> 0.73095703, 0.2689414 -> 0.26904297 (F16 spacing 2^-11 and 2^-12 there)
        short[] k = f16(1f, 0f, 0f, 1f);
        short[] v = f16(transposed(32, new float[][] {{1f, 3f}, {2f, 4f}}));
        float[] out = new float[2];
        Attention.headF16(new float[] {1f, 0f}, 0, k, v, 0, 2, 32, 2, 2, 1f, new Attention.Scratch(32, 2), out, 0);
        assertThat(out[0]).isEqualTo(0.73095703f + 3 * 0.26904297f);
        assertThat(out[1]).isEqualTo(2 * 0.73095703f + 4 * 0.26904297f);
    }

    @Test
    void headsReadTheirOwnSliceOfEachCacheRow() {
        // rows of 4 = two kv heads of dim 2; the second head's slice starts at 2. q = (1, 1): scores (0, 2) on the
        // second head's keys (0, 0), (1, 1), so p = (1, e²)/(1 + e²) = (0.1192029, 0.8807971) over its values
        // (1, 2), (3, 4). The first head's slice (keys ±5, values 9) would give something else entirely.
        float[] k = {5f, 5f, 0f, 0f, -5f, -5f, 1f, 1f};
        float[] v = transposed(32, new float[][] {{9f, 9f}, {9f, 9f}, {1f, 3f}, {2f, 4f}});
        float[] out = new float[2];
        Attention.headF32(new float[] {1f, 1f}, 0, k, v, 2, 4, 32, 2, 2, 1f, new Attention.Scratch(32, 2), out, 0);
        assertThat(out[0]).isCloseTo(2.7615941f, within(1e-6f));
        assertThat(out[1]).isCloseTo(3.7615941f, within(1e-6f));
    }

    private static short[] f16(float... values) {
        short[] s = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            s[i] = Float.floatToFloat16(values[i]);
        }
        return s;
    }

    @Test
    void scratchSizedToTheContextHoldsTheLongestHead() {
        int n = 40;
        int stride = 64;
        float[] k = new float[n * 16];
        float[] v = new float[16 * stride];
        for (int i = 0; i < 16; i++) {
            Arrays.fill(v, i * stride, i * stride + n, 1f);
        }
        float[] out = new float[16];
        Attention.headF32(new float[16], 0, k, v, 0, 16, stride, n, 16, 0.25f, new Attention.Scratch(n, 16), out, 0);
        assertThat(out).usingComparatorWithPrecision(1e-6f).containsOnly(1f);
    }
}
