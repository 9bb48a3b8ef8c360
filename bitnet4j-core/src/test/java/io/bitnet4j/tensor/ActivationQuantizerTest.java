package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reference activation quantizers on cases computed by hand (spec §3.4, §6.5). */
class ActivationQuantizerTest {

    private static byte[] codes(Activations act, int from, int to) {
        return Arrays.copyOfRange(act.quants(), from, to);
    }

    @Test
    void i8TokenRoundsHalfToEven() {
        // absmax 127: scale = (float)(127.0/127) = 1, so each code is rint(x)
        float[] x = {127f, 2.5f, -2.5f, 3.5f, -3.5f, 0.5f, -127f, 1.4999999f};
        Activations act = new Activations(ActivationType.I8_TOKEN, x.length, 1);
        ActivationQuantizer.quantize(x, 0, act, 0);
        assertThat(codes(act, 0, 8)).containsExactly(TestTensors.bytes(127, 2, -2, 4, -4, 0, -127, 1));
        assertThat(act.scales()[0]).isEqualTo(1f);
        assertThat(act.sums()[0]).isEqualTo(127 + 2 - 2 + 4 - 4 + 0 - 127 + 1);
    }

    @Test
    void i8TokenAllZeroRowUsesTheAbsmaxFloor() {
        Activations act = new Activations(ActivationType.I8_TOKEN, 16, 2);
        float[] x = new float[32];
        x[16] = 1f;
        ActivationQuantizer.quantize(x, 0, act, 0);
        ActivationQuantizer.quantize(x, 16, act, 1);
        assertThat(codes(act, 0, 16)).containsOnly((byte) 0);
        assertThat(act.scales()[0]).isEqualTo((float) (127.0 / 1e-5));
        assertThat(act.sums()[0]).isZero();
        assertThat(act.quants()[16]).isEqualTo((byte) 127);
        assertThat(act.scales()[1]).isEqualTo(127f);
    }

    @Test
    void i8TokenMultipliesInFloatBeforeRounding() {
        // absmax 3: scale = (float)(127.0/3) = 42.333332f. For x = 0.05905512f the float product is exactly 2.5
        // (rint: 2), while the exact product 2.50000007 would round to 3
        float x = 0.05905512f;
        Activations act = new Activations(ActivationType.I8_TOKEN, 3, 1);
        ActivationQuantizer.quantize(new float[] {3f, x, -x}, 0, act, 0);
        assertThat(act.scales()[0]).isEqualTo(42.333332f);
        assertThat(x * 42.333332f).isEqualTo(2.5f);
        assertThat((double) x * 127.0 / 3.0).isGreaterThan(2.5);
        assertThat(codes(act, 0, 3)).containsExactly(TestTensors.bytes(127, 2, -2));
    }

    @Test
    void i8TokenCodesNeverReachTheMinus128Clamp() {
        // bitnet.cpp clamps to [-128, 127], but x·(127/absmax) never goes below -127.00002 for finite x, so the
        // clamp cannot trigger: the most negative code is -127, and the row's extreme always maps to ±127
        Random random = new Random(1);
        for (int trial = 0; trial < 2000; trial++) {
            float[] x = TestTensors.activations(random, 64);
            int extreme = random.nextInt(64);
            x[extreme] = -(float) Math.abs(random.nextGaussian()) * 1e3f - 1e-3f;
            for (int i = 0; i < 64; i++) {
                x[i] = Math.max(x[i], x[extreme]);
                x[i] = Math.min(x[i], -x[extreme]);
            }
            Activations act = new Activations(ActivationType.I8_TOKEN, 64, 1);
            ActivationQuantizer.quantize(x, 0, act, 0);
            int min = 0;
            for (byte q : act.quants()) {
                min = Math.min(min, q);
            }
            assertThat(min).isEqualTo(-127);
            assertThat(act.quants()[extreme]).isEqualTo((byte) -127);
        }
    }

    @Test
    void q8KLargestMagnitudeNegativeGivesPositiveScale() {
        float[] x = new float[256];
        x[3] = -127f;                                               // iscale = -127/-127 = 1, d = 1
        x[4] = 2.5f;                                                // rint: 2
        x[5] = -3.5f;                                               // -4
        x[6] = 126.5f;                                              // 126
        x[20] = 1f;                                                 // second group of 16
        Activations act = new Activations(ActivationType.Q8_K, 256, 1);
        ActivationQuantizer.quantize(x, 0, act, 0);
        assertThat(act.scales()[0]).isEqualTo(1f);
        assertThat(codes(act, 3, 7)).containsExactly(TestTensors.bytes(-127, 2, -4, 126));
        assertThat(act.sums()[0]).isEqualTo(-127 + 2 - 4 + 126);
        assertThat(act.sums()[1]).isEqualTo(1);
    }

    @Test
    void q8KLargestMagnitudePositiveFlipsTheCodesAndGivesNegativeScale() {
        float[] x = new float[256];
        x[0] = 127f;                                                // iscale = -1: codes are -rint(x), d = -1
        x[1] = 2.5f;
        x[2] = -126.5f;
        Activations act = new Activations(ActivationType.Q8_K, 256, 1);
        ActivationQuantizer.quantize(x, 0, act, 0);
        assertThat(act.scales()[0]).isEqualTo(-1f);
        assertThat(codes(act, 0, 3)).containsExactly(TestTensors.bytes(-127, -2, 126));
    }

    @Test
    void q8KFirstOfEqualMagnitudesWinsAndTheOtherSignClampsAt127() {
        float[] x = new float[256];
        x[10] = -4f;                                                // first with |x| = 4: max = -4, iscale = 31.75
        x[11] = 4f;                                                 // 31.75 * 4 = 127
        x[12] = 0.0629921f;                                         // 31.75 * x = 1.99999918 -> 2
        Activations act = new Activations(ActivationType.Q8_K, 256, 1);
        ActivationQuantizer.quantize(x, 0, act, 0);
        assertThat(act.scales()[0]).isEqualTo(1f / 31.75f);
        assertThat(codes(act, 10, 13)).containsExactly(TestTensors.bytes(-127, 127, 2));
    }

    @Test
    void q8KAllZeroBlock() {
        float[] x = new float[512];
        Arrays.fill(x, 256, 512, 1f);
        Activations act = new Activations(ActivationType.Q8_K, 512, 1);
        ActivationQuantizer.quantize(x, 0, act, 0);
        assertThat(act.scales()[0]).isZero();
        assertThat(codes(act, 0, 256)).containsOnly((byte) 0);
        assertThat(Arrays.copyOfRange(act.sums(), 0, 16)).containsOnly(0);
        assertThat(act.scales()[1]).isEqualTo(1f / -127f);          // block 1: max = +1, iscale = -127
        assertThat(codes(act, 256, 512)).containsOnly((byte) -127);
    }

    @Test
    void q8_0RoundsHalfToEvenAndKeepsTheF16Scale() {
        // the x86 path the refdata came from: d = absmax/127 stored as F16, codes rint(x · 127/absmax)
        float[] x = new float[64];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 3.5f;
        x[32] = 1f;                                                 // second block: d = 1/127 rounded to F16
        Activations act = new Activations(ActivationType.Q8_0, 64, 1);
        ActivationQuantizer.quantize(x, 0, act, 0);
        assertThat(act.scales()[0]).isEqualTo(1f);
        assertThat(codes(act, 0, 4)).containsExactly(TestTensors.bytes(127, 2, -2, 4));
        assertThat(act.scales()[1]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(1f / 127f)));
        assertThat(act.scales()[1]).isNotEqualTo(1f / 127f);
        assertThat(act.quants()[32]).isEqualTo((byte) 127);
    }

    @Test
    void q8_0AllZeroBlock() {
        Activations act = new Activations(ActivationType.Q8_0, 32, 1);
        ActivationQuantizer.quantize(new float[32], 0, act, 0);
        assertThat(act.scales()[0]).isZero();
        assertThat(act.quants()).containsOnly((byte) 0);
    }
}
