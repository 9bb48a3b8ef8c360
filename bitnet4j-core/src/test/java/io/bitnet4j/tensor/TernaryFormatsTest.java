package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** TQ1_0 and TQ2_0 against blocks written by hand from spec §2.5/§2.6, and their round trips and dots. */
class TernaryFormatsTest {
    private static final long[] ONE_BLOCK = {256};

    /** Block values: +d at e0, −d at e32, the rest 0, plus one more non-zero given by the caller. */
    private static float[] block(float d, int extraElement, int extraSign) {
        float[] w = new float[256];
        w[0] = d;
        w[32] = -d;
        w[extraElement] = extraSign * d;
        return w;
    }

    @Test
    void tq2_0HandBuiltBlock() {
        // codes 0/1/2 = −1/0/+1; qs[32c+m] bit pair l holds element 128c+32l+m, lowest pair first
        byte[] expected = new byte[66];
        Arrays.fill(expected, 0, 64, (byte) 0x55);         // every code 1 (zero)
        expected[0] = (byte) 0x52;                           // e0 = 2 (bits 0-1), e32 = 0 (bits 2-3), e64, e96 = 1
        expected[63] = (byte) 0x95;                          // e255 = half 1, l 3, m 31: 2 in bits 6-7
        expected[64] = 0x00;                                 // d = 0.5 = F16 0x3800, little-endian
        expected[65] = 0x38;
        float[] values = block(0.5f, 255, +1);

        assertThat(TQ2_0Format.INSTANCE.encode(values, ONE_BLOCK)).containsExactly(expected);
        assertThat(TestTensors.decodeAll(TQ2_0Format.INSTANCE, GgmlType.TQ2_0, ONE_BLOCK, expected))
                .containsExactly(values);
    }

    @Test
    void tq1_0HandBuiltBlock() {
        // each byte is ceil(v*256/243) of its base-3 digits v = t0 t1 t2 t3 t4 (t0 most significant)
        byte[] expected = new byte[54];
        Arrays.fill(expected, 0, 48, (byte) 0x80);          // digits 11111 = 121 -> ceil(121*256/243) = 128
        Arrays.fill(expected, 48, 52, (byte) 0x7F);         // qh: 1111 = 40, times 3 = 120 -> 127
        expected[0] = (byte) 185;                            // e0 = 2, e32 = 0, e64, e96, e128 = 1: 20111 = 175 -> 185
        expected[32] = (byte) 213;                           // e160 = qs[32] digit 0 = 2: 21111 = 202 -> 213
        expected[51] = (byte) 0x7C;                          // e255 = qh[3] digit 3 = 0: 1110 = 39, x3 = 117 -> 124
        expected[52] = 0x00;                                 // d = 0.25 = F16 0x3400
        expected[53] = 0x34;
        float[] values = block(0.25f, 160, +1);
        values[255] = -0.25f;

        assertThat(TQ1_0Format.INSTANCE.encode(values, ONE_BLOCK)).containsExactly(expected);
        assertThat(TestTensors.decodeAll(TQ1_0Format.INSTANCE, GgmlType.TQ1_0, ONE_BLOCK, expected))
                .containsExactly(values);
    }

    @Test
    void tq1_0ExtremeBytes() {
        byte[] allPlus = new byte[54];
        Arrays.fill(allPlus, 0, 48, (byte) 255);            // 22222 = 242 -> ceil(242*256/243) = 255
        Arrays.fill(allPlus, 48, 52, (byte) 253);           // 2222 = 80, x3 = 240 -> 253
        allPlus[53] = 0x3C;                                  // d = 1.0
        float[] ones = new float[256];
        Arrays.fill(ones, 1f);
        assertThat(TQ1_0Format.INSTANCE.encode(ones, ONE_BLOCK)).containsExactly(allPlus);
        assertThat(TestTensors.decodeAll(TQ1_0Format.INSTANCE, GgmlType.TQ1_0, ONE_BLOCK, allPlus)).containsExactly(ones);
    }

    @Test
    void allZeroBlockEncodesScaleZeroAndCodeOne() {
        float[] zeros = new float[512];
        byte[] tq2 = TQ2_0Format.INSTANCE.encode(zeros, new long[] {512});
        byte[] tq1 = TQ1_0Format.INSTANCE.encode(zeros, new long[] {512});
        for (int b = 0; b < 2; b++) {
            assertThat(Arrays.copyOfRange(tq2, 66 * b, 66 * b + 64)).containsOnly((byte) 0x55);
            assertThat(tq2[66 * b + 64]).isZero();
            assertThat(tq2[66 * b + 65]).isZero();
            assertThat(Arrays.copyOfRange(tq1, 54 * b, 54 * b + 48)).containsOnly((byte) 0x80);
            assertThat(tq1[54 * b + 52]).isZero();
            assertThat(tq1[54 * b + 53]).isZero();
        }
    }

    @Test
    void encoderRoundsTiesAwayFromZeroLikeLroundf() {
        // absmax 1: x = ±0.5 rounds to ±1 (lroundf), not to 0 (rint); 0.49 rounds to 0
        float[] w = new float[256];
        w[0] = 1f;
        w[1] = 0.5f;
        w[2] = -0.5f;
        w[3] = 0.49f;
        float[] decoded = TestTensors.decodeAll(TQ2_0Format.INSTANCE, GgmlType.TQ2_0, ONE_BLOCK,
                TQ2_0Format.INSTANCE.encode(w, ONE_BLOCK));
        assertThat(Arrays.copyOf(decoded, 4)).containsExactly(1f, 1f, -1f, 0f);
    }

    @Test
    void roundTripIsExactForTernaryTimesF16Scale() {
        Random random = new Random(3);
        long[] shape = {768, 6};
        float[] w = TestTensors.ternary(random, 768 * 6, true);
        for (TernaryBlockFormat format : new TernaryBlockFormat[] {TQ1_0Format.INSTANCE, TQ2_0Format.INSTANCE}) {
            byte[] bytes = format.encode(w, shape);
            assertThat(bytes).hasSize((int) format.type().byteSize(shape));
            assertThat(TestTensors.decodeAll(format, format.type(), shape, bytes)).as("%s", format.type()).containsExactly(w);
        }
    }

    @Test
    void perTokenInt8DotScalesBlockSumsByTheirScaleThenDividesByTheActivationScale() {
        // two blocks: block 0 all +1 with d = 0.5, block 1 all -1 with d = 0.25
        float[] w = new float[512];
        Arrays.fill(w, 0, 256, 0.5f);
        Arrays.fill(w, 256, 512, -0.25f);
        long[] shape = {512};
        Activations act = new Activations(ActivationType.I8_TOKEN, 512, 1);
        float[] x = new float[512];
        Arrays.fill(x, 1f);
        x[0] = 127f;                                          // amax 127: scale 1.0, codes = x
        ActivationQuantizer.quantize(x, 0, act, 0);
        for (TernaryBlockFormat format : new TernaryBlockFormat[] {TQ1_0Format.INSTANCE, TQ2_0Format.INSTANCE}) {
            Tensor t = TestTensors.tensor(format.type(), shape, format.encode(w, shape));
            // block 0: Σ(c−1)q = 127 + 255 = 382, × 0.5 = 191; block 1: −256 × 0.25 = −64; / 1.0
            assertThat(format.dot(t, 0, act, 0)).as("%s", format.type()).isEqualTo(127f);
        }
    }
}
