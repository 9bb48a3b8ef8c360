package io.bitnet4j.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bitnet4j.BitnetException;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The sampler chain of llama.cpp (spec §5.2) on fixed logits, one step at a time, checking the candidates and their
 * probabilities after each step.
 */
class SamplerTest {

    /** Settings with every truncation off unless a test turns it on. */
    private static SamplerSettings settings(float temp, int topK, float topP, float minP) {
        return new SamplerSettings(temp, topK, topP, minP, 1f, 64, 0f, 0f, 5489);
    }

    private static SamplerSettings penalties(float repeat, int lastN, float frequency, float presence) {
        return new SamplerSettings(1f, 0, 1f, 0f, repeat, lastN, frequency, presence, 5489);
    }

    private static int[] candidates(Sampler s) {
        int[] ids = new int[s.candidateCount()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = s.candidateId(i);
        }
        return ids;
    }

    private static float[] probabilities(Sampler s) {
        float[] p = new float[s.candidateCount()];
        for (int i = 0; i < p.length; i++) {
            p[i] = s.candidateProbability(i);
        }
        return p;
    }

    /** Copies logits into the sampler's working buffer through an empty penalty pass. */
    private static Sampler loaded(SamplerSettings settings, float[] logits) {
        Sampler s = new Sampler(settings, logits.length, -1);
        s.sample(logits, new int[0], 0); // fills the working copy; the draw itself does not matter here
        return s;
    }

    // ------------------------------------------------------------------------------------------------ penalties

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = {2f, -2f, 1f, 0.5f, 0f};
        Sampler s = new Sampler(penalties(2f, 64, 0f, 0f), logits.length, -1);
        s.sample(logits, new int[] {0, 1, 4, 0}, 4);
        assertThat(s.penalisedLogit(0)).isEqualTo(1f);     // 2 / 2, once however often it occurs
        assertThat(s.penalisedLogit(1)).isEqualTo(-4f);    // -2 * 2
        assertThat(s.penalisedLogit(4)).isEqualTo(0f);     // 0 <= 0: 0 * 2
        assertThat(s.penalisedLogit(2)).isEqualTo(1f);     // not in the history
        assertThat(s.penalisedLogit(3)).isEqualTo(0.5f);
    }

    @Test
    void frequencyAndPresencePenaltiesCountOccurrences() {
        float[] logits = {1f, 1f, 1f};
        Sampler s = new Sampler(penalties(1f, 64, 0.5f, 0.25f), logits.length, -1);
        s.sample(logits, new int[] {2, 1, 2, 2}, 4);
        assertThat(s.penalisedLogit(2)).isEqualTo(1f - (3 * 0.5f + 0.25f));
        assertThat(s.penalisedLogit(1)).isEqualTo(1f - (0.5f + 0.25f));
        assertThat(s.penalisedLogit(0)).isEqualTo(1f);
    }

    @Test
    void penaltiesLookOnlyAtTheLastNTokens() {
        float[] logits = {4f, 4f, 4f, 4f};
        Sampler s = new Sampler(penalties(2f, 2, 0f, 0f), logits.length, -1);
        s.sample(logits, new int[] {0, 1, 2, 3, 99}, 4); // length 4: the window is tokens 2 and 3
        assertThat(new float[] {s.penalisedLogit(0), s.penalisedLogit(1), s.penalisedLogit(2), s.penalisedLogit(3)})
                .containsExactly(4f, 4f, 2f, 2f);

        Sampler whole = new Sampler(penalties(2f, -1, 0f, 0f), logits.length, -1);
        whole.sample(logits, new int[] {0, 1, 2}, 3); // -1: the whole history
        assertThat(whole.penalisedLogit(0)).isEqualTo(2f);
        assertThat(whole.penalisedLogit(3)).isEqualTo(4f);

        Sampler off = new Sampler(penalties(2f, 0, 0f, 0f), logits.length, -1);
        off.sample(logits, new int[] {0, 1, 2}, 3);
        assertThat(off.penalisedLogit(0)).isEqualTo(4f);
    }

    @Test
    void theNewlineTokenIsNotPenalised() {
        float[] logits = {3f, 3f, 3f};
        Sampler s = new Sampler(penalties(3f, 64, 1f, 1f), logits.length, 1);
        s.sample(logits, new int[] {1, 1, 0}, 3);
        assertThat(s.penalisedLogit(1)).isEqualTo(3f);
        assertThat(s.penalisedLogit(0)).isEqualTo(3f / 3f - 2f);
    }

    @Test
    void penaltiesStartAfreshOnEveryCall() {
        float[] logits = {1f, 1f};
        Sampler s = new Sampler(penalties(1f, 64, 1f, 0f), logits.length, -1);
        s.sample(logits, new int[] {0, 0}, 2);
        assertThat(s.penalisedLogit(0)).isEqualTo(-1f);
        s.sample(logits, new int[] {0, 0}, 2);
        assertThat(s.penalisedLogit(0)).as("counts were reset, not accumulated").isEqualTo(-1f);
        s.sample(logits, new int[] {1}, 1);
        assertThat(s.penalisedLogit(0)).isEqualTo(1f);
    }

    // ------------------------------------------------------------------------------------------------ top-k

    @Test
    void topKKeepsTheKLargestBestFirstTiesToTheLowestId() {
        Sampler s = loaded(settings(1f, 0, 1f, 0f), new float[] {1f, 3f, 3f, 2f, 0f, 3f});
        s.topK(2);
        assertThat(candidates(s)).containsExactly(1, 2);
        s.topK(4);
        assertThat(candidates(s)).containsExactly(1, 2, 5, 3);
        s.topK(0);
        assertThat(candidates(s)).as("0 keeps all, sorted").containsExactly(1, 2, 5, 3, 0, 4);
        s.topK(100);
        assertThat(candidates(s)).hasSize(6);
    }

    @Test
    void topKAgreesWithAFullSortOnRandomLogits() {
        Random random = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(300);
            float[] logits = new float[n];
            for (int i = 0; i < n; i++) {
                logits[i] = random.nextInt(4) == 0 ? random.nextInt(5) : (float) random.nextGaussian(); // many ties
            }
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : a - b);
            int k = 1 + random.nextInt(n);
            Sampler s = loaded(settings(1f, 0, 1f, 0f), logits);
            s.topK(k);
            int[] expected = new int[k];
            for (int i = 0; i < k; i++) {
                expected[i] = order[i];
            }
            assertThat(candidates(s)).as("top-%d of %d", k, n).containsExactly(expected);
        }
    }

    // ------------------------------------------------------------------------------------------------ top-p

    @Test
    void topPKeepsTheShortestPrefixReachingPAtTemperatureOne() {
        // probabilities 0.5, 0.3, 0.15, 0.05
        float[] logits = {(float) Math.log(0.15), (float) Math.log(0.5), (float) Math.log(0.05), (float) Math.log(0.3)};
        Sampler s = loaded(settings(1f, 0, 1f, 0f), logits);
        s.topK(0);
        s.topP(0.45f);
        assertThat(candidates(s)).containsExactly(1);
        s.topK(0);
        s.topP(0.75f);
        assertThat(candidates(s)).containsExactly(1, 3);
        assertThat(probabilities(s)).usingComparatorWithPrecision(1e-6f).containsExactly(0.5f, 0.3f);
        s.topK(0);
        s.topP(0.9f);
        assertThat(candidates(s)).containsExactly(1, 3, 0);
        s.topK(0);
        s.topP(1f);
        assertThat(candidates(s)).hasSize(4);
    }

    @Test
    void topPIgnoresTheTemperature() {
        // at temperature 1 the first candidate has 0.5 < 0.6, so two are kept; at 0.5 (applied first) it would have
        // 0.69 >= 0.6 and be kept alone
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        Sampler s = new Sampler(settings(0.5f, 0, 0.6f, 0f), 4, -1);
        s.sample(logits, new int[0], 0);
        assertThat(candidates(s)).containsExactly(0, 1);
        // and the final probabilities are softmax(l / 0.5) over those two: 0.25 : 0.09
        assertThat(probabilities(s)).usingComparatorWithPrecision(1e-6f)
                .containsExactly(0.25f / 0.34f, 0.09f / 0.34f);
    }

    // ------------------------------------------------------------------------------------------------ min-p

    @Test
    void minPKeepsLogitsAtLeastMaxPlusLnP() {
        Sampler s = loaded(settings(1f, 0, 1f, 0f), new float[] {-1f, 0f, -2f, -0.5f});
        s.topK(0);
        s.minP(0.3f); // threshold ln 0.3 = -1.204
        assertThat(candidates(s)).containsExactly(1, 3, 0);
        s.topK(0);
        s.minP(0.7f); // -0.357
        assertThat(candidates(s)).containsExactly(1);
        s.topK(0);
        s.minP(0f);
        assertThat(candidates(s)).hasSize(4);
    }

    @Test
    void minPKeepsALogitExactlyOnTheThreshold() {
        float edge = (float) Math.log(0.5f);
        Sampler s = loaded(settings(1f, 0, 1f, 0f), new float[] {0f, edge, Math.nextDown(edge)});
        s.topK(0);
        s.minP(0.5f);
        assertThat(candidates(s)).containsExactly(0, 1);
    }

    @Test
    void minPIgnoresTheTemperature() {
        // temperature 2 first would halve the logits to (0, -0.25, -0.5, -1), all above ln 0.3
        Sampler s = new Sampler(settings(2f, 0, 1f, 0.3f), 4, -1);
        s.sample(new float[] {0f, -0.5f, -1f, -2f}, new int[0], 0);
        assertThat(candidates(s)).containsExactly(0, 1, 2);
        assertThat(s.candidateLogit(1)).isEqualTo(-0.25f);
    }

    // ------------------------------------------------------------------------------------------------ softmax, greedy

    @Test
    void temperatureDividesTheKeptLogitsAndSoftmaxNormalises() {
        float[] logits = {(float) Math.log(4), (float) Math.log(2), 0f, 0f};
        Sampler s = new Sampler(settings(1f, 0, 1f, 0f), 4, -1);
        s.sample(logits, new int[0], 0);
        assertThat(probabilities(s)).usingComparatorWithPrecision(1e-6f).containsExactly(0.5f, 0.25f, 0.125f, 0.125f);
        Sampler hot = new Sampler(settings(0.5f, 0, 1f, 0f), 4, -1);
        hot.sample(logits, new int[0], 0); // squares the ratios: 16 : 4 : 1 : 1
        assertThat(probabilities(hot)).usingComparatorWithPrecision(1e-6f)
                .containsExactly(16f / 22, 4f / 22, 1f / 22, 1f / 22);
        float sum = 0;
        for (float p : probabilities(hot)) {
            sum += p;
        }
        assertThat(sum).isCloseTo(1f, within(1e-6f));
    }

    @Test
    void greedyTakesTheFirstMaximumAfterPenalties() {
        Sampler greedy = new Sampler(SamplerSettings.greedy(), 4, -1);
        assertThat(greedy.sample(new float[] {1f, 5f, 5f, 2f}, new int[0], 0)).isEqualTo(1);
        assertThat(Sampler.argmax(new float[] {7f, 7f}, 2)).isZero();
        SamplerSettings penalised = new SamplerSettings(0f, 40, 0.95f, 0.05f, 2f, 64, 0f, 0f, 0);
        Sampler s = new Sampler(penalised, 4, -1);
        assertThat(s.sample(new float[] {1f, 5f, 4f, 2f}, new int[] {1}, 1)).as("5/2 < 4").isEqualTo(2);
    }

    // ------------------------------------------------------------------------------------------------ the draw

    @Test
    void drawFollowsDiscreteDistributionWithMt19937() {
        // probabilities 0.5, 0.3, 0.2 (ids 2, 0, 1 after sorting). mt19937(5489)'s first canonical double is 0.1355
        // (<= 0.5: the first candidate); the second is 0.8350 (> 0.8: the third)
        float[] logits = {(float) Math.log(0.3), (float) Math.log(0.2), (float) Math.log(0.5)};
        Sampler s = new Sampler(settings(1f, 0, 1f, 0f), 3, -1);
        assertThat(s.sample(logits, new int[0], 0)).isEqualTo(2);
        assertThat(s.sample(logits, new int[0], 0)).isEqualTo(1);
        Mt19937 mt = new Mt19937(5489);
        assertThat(mt.nextCanonical()).isLessThan(0.5);
        assertThat(mt.nextCanonical()).isGreaterThan(0.8);
    }

    @Test
    void aSeedGivesTheSameDrawsEveryTime() {
        Random random = new Random(7);
        float[] logits = new float[50];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        int[] a = draws(SamplerSettings.defaults(1234), logits, 200);
        int[] b = draws(SamplerSettings.defaults(1234), logits, 200);
        int[] c = draws(SamplerSettings.defaults(1235), logits, 200);
        assertThat(b).containsExactly(a);
        assertThat(c).isNotEqualTo(a);
        assertThat(Arrays.stream(a).distinct().count()).as("the draws vary").isGreaterThan(5);
    }

    private static int[] draws(SamplerSettings settings, float[] logits, int n) {
        Sampler s = new Sampler(settings, logits.length, -1);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits, new int[0], 0);
        }
        return out;
    }

    @Test
    void drawFrequenciesMatchTheDistribution() {
        // N = 30000 draws from (0.5, 0.3, 0.2). Each count is binomial with sd sqrt(N p (1-p)) <= sqrt(N/4) = 86.6;
        // we allow 5 sd (433 draws, 1.4% of N): a correct sampler misses that with probability < 1e-6 per token,
        // and the seed is fixed, so the test is deterministic. A sampler that, say, drew from the unnormalised
        // or the cumulative probabilities off by one candidate is off by thousands.
        int n = 30_000;
        float[] p = {0.5f, 0.3f, 0.2f};
        float[] logits = new float[3];
        for (int i = 0; i < 3; i++) {
            logits[i] = (float) Math.log(p[i]);
        }
        int[] counts = new int[3];
        for (int id : draws(settings(1f, 0, 1f, 0f), logits, n)) {
            counts[id]++;
        }
        for (int i = 0; i < 3; i++) {
            double sd = Math.sqrt(n * p[i] * (1 - p[i]));
            assertThat((double) counts[i]).as("count of token %d", i).isCloseTo(n * p[i], within(5 * sd));
        }
    }

    // ------------------------------------------------------------------------------------------------ settings

    @Test
    void settingsRejectValuesOutOfRange() {
        assertUsage(() -> new SamplerSettings(Float.NaN, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, 1), "--temp");
        assertUsage(() -> new SamplerSettings(0.8f, -1, 0.95f, 0.05f, 1f, 64, 0f, 0f, 1), "--top-k");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 2f, 0.05f, 1f, 64, 0f, 0f, 1), "--top-p");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0f, 0.05f, 1f, 64, 0f, 0f, 1), "--top-p");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0.95f, -0.1f, 1f, 64, 0f, 0f, 1), "--min-p");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 0f, 64, 0f, 0f, 1), "--repeat-penalty");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1f, -2, 0f, 0f, 1), "--repeat-last-n");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1f, 64, Float.NaN, 0f, 1), "penalties");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, -5), "--seed");
        assertUsage(() -> new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, 1L << 32), "--seed");
        assertThat(SamplerSettings.greedy().isGreedy()).isTrue();
        assertThat(SamplerSettings.defaults(1).isGreedy()).isFalse();
    }

    private static void assertUsage(Runnable r, String mentions) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(BitnetException.class,
                e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.USAGE)).hasMessageContaining(mentions);
    }

    @Test
    void seedsComeFromTheFlagThenTheEnvironment() {
        assertThat(Seeds.resolve(7L, Map.of("BITNET_SEED", "9"))).isEqualTo(7);
        assertThat(Seeds.resolve(null, Map.of("BITNET_SEED", "9"))).isEqualTo(9);
        assertThat(Seeds.resolve(-1L, Map.of("BITNET_SEED", "9"))).as("-1 = not given").isEqualTo(9);
        assertThat(Seeds.resolve(null, Map.of("BITNET_DETERMINISTIC", "1"))).isEqualTo(Seeds.DETERMINISTIC_SEED);
        assertThat(Seeds.resolve(null, Map.of())).isBetween(0L, 0xFFFFFFFFL);
        assertUsage(() -> Seeds.resolve(-5L, Map.of()), "--seed");
        assertUsage(() -> Seeds.resolve(null, Map.of("BITNET_SEED", "x")), "BITNET_SEED");
    }
}
