package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** I2_S (spec §2.8) against blocks written by hand, for both known packings. */
class I2SFormatTest {

    @Test
    void i2s128HandBuiltBlock() {
        // byte p%32 of a 128-element block holds element p in bits 6-2*(p/32): elements 0..31 in the top pair
        byte[] expected = new byte[128 / 4 + 32];
        Arrays.fill(expected, 0, 32, (byte) 0x55);                 // code 1 (zero) everywhere
        expected[0] = (byte) 0xA5;                                  // e0 = 2, e32 = 2, e64 = 1, e96 = 1
        expected[31] = (byte) 0x14;                                 // e31 = 0, e63 = 1, e95 = 1, e127 = 0
        expected[32] = 0x00;                                        // scale 0.75f = 0x3F400000, little-endian
        expected[33] = 0x00;
        expected[34] = 0x40;
        expected[35] = 0x3F;
        float[] values = new float[128];
        values[0] = 0.75f;
        values[32] = 0.75f;
        values[31] = -0.75f;
        values[127] = -0.75f;

        assertThat(I2SFormat.I2S_128.encode(values, new long[] {128})).containsExactly(expected);
        assertThat(TestTensors.decodeAll(I2SFormat.I2S_128, GgmlType.I2_S, new long[] {128}, expected))
                .containsExactly(values);
    }

    /**
     * The 32-row interleaved layout, in passes of 32 word positions: with 144 words per row (four whole passes and a
     * last one of 16), word m of row r lands at word 32·rows·(m/32) + (r/32)·w·32 + (m%32)·32 + r%32, w being the
     * width of m's pass; the scale tail stays; every element decodes as before, and row counts that are no
     * multiple of 32 are refused.
     */
    @Test
    void interleavedLayoutMovesWordsAndKeepsValues() {
        int k = 1152;
        int rows = 64;
        Random rnd = new Random(5);
        float[] values = new float[k * rows];
        for (int i = 0; i < values.length; i++) {
            values[i] = (rnd.nextInt(3) - 1) * 0.5f;
        }
        long[] shape = {k, rows};
        byte[] bytes = I2SFormat.I2S_128.encode(values, shape);
        Tensor file = new Tensor("w", GgmlType.I2_S, shape, java.lang.foreign.MemorySegment.ofArray(bytes));
        java.lang.foreign.MemorySegment target = java.lang.foreign.MemorySegment.ofArray(new byte[bytes.length]);
        Tensor interleaved = I2SFormat.interleave(file, target);

        int words = k / 8;
        assertThat(I2SFormat.PASS_WORDS).isEqualTo(32);
        for (int r : new int[] {0, 1, 31, 32, 63}) {
            for (int m : new int[] {0, 5, 31, 32, 100, 127, 128, 131, words - 1}) {
                int width = m < 128 ? 32 : 16;
                int from = (r * words + m) * 2;
                int to = (32 * rows * (m / 32) + (r / 32) * width * 32 + (m % 32) * 32 + r % 32) * 2;
                assertThat(new byte[] {target.get(Layouts.BYTE, to), target.get(Layouts.BYTE, to + 1)})
                        .as("row %d word %d", r, m).containsExactly(bytes[from], bytes[from + 1]);
            }
        }
        assertThat(I2SFormat.scale(interleaved)).isEqualTo(0.5f);
        assertThat(I2SFormat.I2S_128_ROWS_32.decodeAll(interleaved)).containsExactly(values);
        assertThat(I2SFormat.I2S_128_ROWS_32.canEncode()).isFalse();

        long[] oddShape = {k, 33};
        byte[] odd = I2SFormat.I2S_128.encode(new float[k * 33], oddShape);
        Tensor oddTensor = new Tensor("odd", GgmlType.I2_S, oddShape, java.lang.foreign.MemorySegment.ofArray(odd));
        assertThatThrownBy(() -> I2SFormat.interleave(oddTensor,
                java.lang.foreign.MemorySegment.ofArray(new byte[odd.length])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot interleave odd");
    }

    @Test
    void i2s64HandBuiltBlocks() {
        // byte p%16 of a 64-element block holds element p in bits 6-2*(p/16); two blocks, scale at byte 32
        byte[] bytes = new byte[128 / 4 + 32];
        Arrays.fill(bytes, 0, 16, (byte) 0x55);
        bytes[0] = (byte) 0x86;                                     // e0 = 2, e16 = 0, e32 = 1, e48 = 2
        bytes[15] = (byte) 0x1B;                                    // e15 = 0, e31 = 1, e47 = 2, e63 = 3 (never written; reads as 0)
        Arrays.fill(bytes, 16, 32, (byte) 0x00);                   // block 1: every code 0 (−1)
        ByteBuffer.wrap(bytes, 32, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2f);
        float[] expected = new float[128];
        expected[0] = 2f;
        expected[16] = -2f;
        expected[48] = 2f;
        expected[15] = -2f;
        expected[47] = 2f;
        Arrays.fill(expected, 64, 128, -2f);

        float[] decoded = TestTensors.decodeAll(I2SFormat.I2S_64, GgmlType.I2_S, new long[] {64, 2}, bytes);
        assertThat(decoded).containsExactly(expected);
        assertThat(I2SFormat.I2S_64.blockElements()).isEqualTo(64);
    }

    @Test
    void sameBytesReadDifferentlyUnderTheTwoLayouts() {
        byte[] bytes = new byte[128 / 4 + 32];
        bytes[16] = (byte) 0x80;                                    // top pair of byte 16: code 2 for one element
        ByteBuffer.wrap(bytes, 32, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f);
        float[] as128 = TestTensors.decodeAll(I2SFormat.I2S_128, GgmlType.I2_S, new long[] {128}, bytes);
        float[] as64 = TestTensors.decodeAll(I2SFormat.I2S_64, GgmlType.I2_S, new long[] {128}, bytes);
        assertThat(as128[16]).isEqualTo(1f);                        // I2S-128: byte 16 top pair = element 16
        assertThat(as64[64]).isEqualTo(1f);                         // I2S-64: byte 16 = block 1, element 0
    }

    @Test
    void checkRowsAlignedRejectsRowsThatStraddleBlocks() {
        Tensor straddling = TestTensors.tensor(GgmlType.I2_S, new long[] {192, 2}, new byte[192 * 2 / 4 + 32]);
        assertThatThrownBy(() -> I2SFormat.I2S_128.checkRowsAligned(straddling))
                .isInstanceOfSatisfying(BitnetException.class,
                        e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.UNSUPPORTED))
                .hasMessageContaining("'test.I2_S'")
                .hasMessageContaining("row length 192 is not a multiple of 128");
        Tensor aligned = TestTensors.tensor(GgmlType.I2_S, new long[] {256, 2}, new byte[256 * 2 / 4 + 32]);
        I2SFormat.I2S_128.checkRowsAligned(aligned);
        Tensor row64 = TestTensors.tensor(GgmlType.I2_S, new long[] {64, 2}, new byte[64 * 2 / 4 + 32]);
        I2SFormat.I2S_64.checkRowsAligned(row64);
        assertThatThrownBy(() -> I2SFormat.I2S_128.checkRowsAligned(row64)).isInstanceOf(BitnetException.class);
    }

    @Test
    void encoderTestsForZeroInDoubleLikeQuantizeI2S() {
        // 1e-6f is 9.99999997e-7 < 1e-6 as a double, so the C quantizer writes code 1 (zero) for it
        float[] values = new float[128];
        values[0] = 1f;
        values[1] = 1e-6f;
        values[2] = -1e-6f;
        values[3] = Math.nextUp(1e-6f);
        float[] decoded = TestTensors.decodeAll(I2SFormat.I2S_128, GgmlType.I2_S, new long[] {128},
                I2SFormat.I2S_128.encode(values, new long[] {128}));
        assertThat(Arrays.copyOf(decoded, 4)).containsExactly(1f, 0f, 0f, 1f);
    }

    @Test
    void roundTripIsExactForTernaryTimesAnyScale() {
        Random random = new Random(11);
        long[] shape = {256, 8};
        float[] w = new float[256 * 8];
        float scale = 0.0123456789f;
        for (int i = 0; i < w.length; i++) {
            w[i] = (random.nextInt(3) - 1) * scale;
        }
        w[5] = scale;
        for (I2SFormat layout : new I2SFormat[] {I2SFormat.I2S_128, I2SFormat.I2S_64}) {
            byte[] bytes = layout.encode(w, shape);
            assertThat(bytes).hasSize((int) GgmlType.I2_S.byteSize(shape));
            Tensor t = TestTensors.tensor(GgmlType.I2_S, shape, bytes);
            assertThat(I2SFormat.scale(t)).isEqualTo(scale);
            assertThat(layout.decodeAll(t)).containsExactly(w);
        }
    }
}
