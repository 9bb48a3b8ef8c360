package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** F16 and BF16 encode/decode. */
class FloatFormatsTest {

    @Test
    void f16RoundTripIsExactForF16Values() {
        Random random = new Random(9);
        float[] values = new float[300];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.float16ToFloat((short) random.nextInt(0x7C00));   // finite, positive half of the codes
            values[i] = random.nextBoolean() ? values[i] : -values[i];
        }
        long[] shape = {100, 3};
        assertThat(TestTensors.decodeAll(F16Format.INSTANCE, GgmlType.F16, shape, F16Format.INSTANCE.encode(values, shape)))
                .containsExactly(values);
    }

    @Test
    void bf16RoundTripIsExactForBf16Values() {
        Random random = new Random(10);
        float[] values = new float[300];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(random.nextInt() & 0xFFFF0000);
            if (Float.isNaN(values[i])) {
                values[i] = 1f;
            }
        }
        long[] shape = {300};
        assertThat(TestTensors.decodeAll(BF16Format.INSTANCE, GgmlType.BF16, shape, BF16Format.INSTANCE.encode(values, shape)))
                .containsExactly(values);
    }

    @Test
    void bf16EncoderRoundsToNearestEven() {
        float tieDown = 1f + 0x1p-8f;                // halfway between 1 and 1 + 2^-7: the even one is 1
        float tieUp = 1f + 3 * 0x1p-8f;              // halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6
        float above = 1f + 0x1p-8f + 0x1p-20f;       // just above the tie: up
        byte[] bytes = BF16Format.INSTANCE.encode(new float[] {tieDown, tieUp, above, Float.NaN}, new long[] {4});
        float[] decoded = TestTensors.decodeAll(BF16Format.INSTANCE, GgmlType.BF16, new long[] {4}, bytes);
        assertThat(decoded[0]).isEqualTo(1f);
        assertThat(decoded[1]).isEqualTo(1f + 0x1p-6f);
        assertThat(decoded[2]).isEqualTo(1f + 0x1p-7f);
        assertThat(decoded[3]).isNaN();
        assertThat(bytes).containsExactly(TestTensors.bytes(0x80, 0x3F, 0x82, 0x3F, 0x81, 0x3F, 0xC0, 0x7F));
    }
}
