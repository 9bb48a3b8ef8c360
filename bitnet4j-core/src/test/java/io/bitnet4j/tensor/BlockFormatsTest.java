package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** Q8_0, Q4_0, Q6_K and IQ2_S against blocks written by hand from spec §2.2–§2.4 and §2.7. */
class BlockFormatsTest {

    @Test
    void q8_0HandBuiltBlock() {
        byte[] block = new byte[34];
        block[1] = 0x38;                                            // d = 0.5
        block[2] = (byte) -128;
        block[3] = 3;
        block[33] = 127;
        float[] decoded = TestTensors.decodeAll(Q8_0Format.INSTANCE, GgmlType.Q8_0, new long[] {32}, block);
        float[] expected = new float[32];
        expected[0] = -64f;
        expected[1] = 1.5f;
        expected[31] = 63.5f;
        assertThat(decoded).containsExactly(expected);
    }

    @Test
    void q8_0EncoderRoundsTiesAwayFromZeroLikeRoundf() {
        // absmax 127: d = 1 (F16 0x3C00), 1/d = 1, so codes are roundf(x)
        float[] values = new float[32];
        values[0] = 127f;
        values[1] = 2.5f;
        values[2] = -2.5f;
        values[3] = 0.5f;
        values[4] = -0.5f;
        values[5] = 126.5f;
        values[6] = 0.49999997f;
        byte[] expected = new byte[34];
        expected[1] = 0x3C;
        byte[] codes = TestTensors.bytes(127, 3, -3, 1, -1, 127, 0);
        System.arraycopy(codes, 0, expected, 2, codes.length);
        assertThat(Q8_0Format.INSTANCE.encode(values, new long[] {32})).containsExactly(expected);
    }

    @Test
    void q8_0EncoderAllZeroBlock() {
        assertThat(Q8_0Format.INSTANCE.encode(new float[64], new long[] {64})).containsOnly((byte) 0);
    }

    @Test
    void q8_0RoundTripIsExactForCodesTimesF16Scale() {
        Random random = new Random(5);
        float[] values = new float[32 * 12];
        for (int b = 0; b < 12; b++) {
            float d = TestTensors.f16Scale(random);
            for (int j = 0; j < 32; j++) {
                values[32 * b + j] = (random.nextInt(255) - 127) * d;
            }
            values[32 * b + random.nextInt(32)] = (random.nextBoolean() ? 127 : -127) * d;
        }
        long[] shape = {96, 4};
        byte[] bytes = Q8_0Format.INSTANCE.encode(values, shape);
        assertThat(TestTensors.decodeAll(Q8_0Format.INSTANCE, GgmlType.Q8_0, shape, bytes)).containsExactly(values);
    }

    @Test
    void q4_0HandBuiltBlock() {
        byte[] block = new byte[18];
        block[1] = 0x34;                                            // d = 0.25
        Arrays.fill(block, 2, 18, (byte) 0x88);                    // nibbles 8: zero
        block[2] = (byte) 0xF0;                                     // e0 = (0-8)d, e16 = (15-8)d
        block[17] = (byte) 0x9A;                                    // e15 = (10-8)d, e31 = (9-8)d
        float[] expected = new float[32];
        expected[0] = -2f;
        expected[16] = 1.75f;
        expected[15] = 0.5f;
        expected[31] = 0.25f;
        assertThat(TestTensors.decodeAll(Q4_0Format.INSTANCE, GgmlType.Q4_0, new long[] {32}, block))
                .containsExactly(expected);
    }

    @Test
    void q6_KHandBuiltBlock() {
        byte[] block = new byte[210];
        block[0] = 0x21;                                            // ql[0]: e0 low nibble 1, e64 low nibble 2
        block[32] = 0x43;                                           // ql[32]: e32 low 3, e96 low 4
        block[128] = (byte) 0xE4;                                   // qh[0]: high bits e0 0, e32 1, e64 2, e96 3
        block[64 + 5] = 0x0F;                                       // half 1, ql[5]: e133 low 15, e197 low 0
        for (int i = 0; i < 16; i++) {
            block[192 + i] = (byte) (i - 7);                        // scales[i] = i - 7
        }
        block[209] = 0x38;                                          // d = 0.5, stored last
        float[] decoded = TestTensors.decodeAll(Q6_KFormat.INSTANCE, GgmlType.Q6_K, new long[] {256}, block);
        assertThat(decoded[0]).isEqualTo(0.5f * -7 * (1 - 32));     // 108.5
        assertThat(decoded[32]).isEqualTo(0.5f * -5 * (3 + 16 - 32));
        assertThat(decoded[64]).isEqualTo(0.5f * -3 * (2 + 32 - 32));
        assertThat(decoded[96]).isEqualTo(0.5f * -1 * (4 + 48 - 32));
        assertThat(decoded[133]).isEqualTo(0.5f * 1 * (15 - 32));
        assertThat(decoded[197]).isEqualTo(0.5f * 5 * (0 - 32));
        assertThat(decoded[1]).isEqualTo(0.5f * -7 * -32);          // untouched bytes: code 0 - 32
        assertThat(decoded[255]).isEqualTo(0.5f * 8 * -32);
    }

    /**
     * The Q6_K quantizer writes llama-quantize's bytes: {@code llama-quantize --token-embedding-type q6_k
     * tiny-b158-f32.gguf out.gguf F16} (bitnet.cpp ygqdan/BitNet-linux@6d113cd, clang 14, x86 with FMA) turned the
     * refdata token embedding into a Q6_K tensor whose 67,200 bytes have the SHA-256 below. (Checked also on all
     * 128,256 rows of a 2B-4T-shaped embedding: identical.)
     */
    @Test
    void q6_KEncoderWritesLlamaQuantizesBytes() throws Exception {
        java.nio.file.Path file = io.bitnet4j.testing.TestFiles.shared("refdata/bitnet-b1.58/tiny-b158-f32.gguf");
        try (io.bitnet4j.gguf.GgufFile gguf = io.bitnet4j.gguf.GgufFile.open(file)) {
            Tensor embedding = Tensor.of(gguf, "token_embd.weight");
            float[] values = F32Format.INSTANCE.decodeAll(embedding);
            byte[] bytes = Q6_KFormat.INSTANCE.encode(values, embedding.shape());
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
            assertThat(java.util.HexFormat.of().formatHex(digest))
                    .isEqualTo("d31ed3c3701e1d813cf715aed9b197ae6d9a4c1d5e3d76ba643bc8c64ad6638a");
        }
    }

    /** Q6_K round trip on random data: within 2 % RMS of the values; an all-zero block is all zero bytes. */
    @Test
    void q6_KEncoderRoundTripsWithinItsPrecision() {
        Random random = new Random(6);
        float[] values = new float[4 * 256];
        for (int i = 0; i < 3 * 256; i++) {
            values[i] = (float) random.nextGaussian() * (i < 256 ? 0.01f : 3f);
        }
        long[] shape = {256, 4};
        byte[] bytes = Q6_KFormat.INSTANCE.encode(values, shape);
        float[] decoded = TestTensors.decodeAll(Q6_KFormat.INSTANCE, GgmlType.Q6_K, shape, bytes);
        for (int block = 0; block < 3; block++) {
            double error = 0;
            double energy = 0;
            for (int i = block * 256; i < block * 256 + 256; i++) {
                error += (decoded[i] - values[i]) * (double) (decoded[i] - values[i]);
                energy += values[i] * (double) values[i];
            }
            assertThat(Math.sqrt(error / energy)).as("block %d", block).isLessThan(0.02);
        }
        assertThat(Arrays.copyOfRange(bytes, 3 * 210, 4 * 210)).containsOnly((byte) 0);
    }

    @Test
    void iq2_sHandBuiltBlock() {
        byte[] block = new byte[82];
        block[1] = 0x3C;                                            // d = 1
        block[2] = 1;                                               // qs[0]: group 0 uses grid[1] = 0x080808080808082b
        block[34] = 0x03;                                           // signs of group 0: elements 0 and 1 negative
        block[4] = 2;                                               // qs[2]: group 2, low 8 bits of the index
        block[66] = 0x10;                                           // qh[0] bits 4-5 = 1: group 2 index 256 + 2
        block[36] = (byte) 0x80;                                    // signs of group 2: element 7 negative
        block[74] = 0x21;                                           // scales[0]: first 16 (0.5+1)/4, last 16 (0.5+2)/4
        float[] y = TestTensors.decodeAll(IQ2_SFormat.INSTANCE, GgmlType.IQ2_S, new long[] {256}, block);
        float db0 = 0.375f;
        float db1 = 0.625f;
        assertThat(Arrays.copyOfRange(y, 0, 8)).containsExactly(-db0 * 43, -db0 * 8, db0 * 8, db0 * 8, db0 * 8,
                db0 * 8, db0 * 8, db0 * 8);
        assertThat(Arrays.copyOfRange(y, 8, 16)).containsOnly(db0 * 8);         // grid[0]: all 8
        // grid[258] = 0x08190819192b0819: bytes 0x19 0x08 0x2b 0x19 0x19 0x08 0x19 0x08
        assertThat(Arrays.copyOfRange(y, 16, 24)).containsExactly(db1 * 25, db1 * 8, db1 * 43, db1 * 25, db1 * 25,
                db1 * 8, db1 * 25, -db1 * 8);
        assertThat(Arrays.copyOfRange(y, 24, 32)).containsOnly(db1 * 8);
        assertThat(Arrays.copyOfRange(y, 32, 256)).containsOnly(0.125f * 8);    // scales 0: (0.5+0)/4
    }

    @Test
    void iq2sGridIsGgmlsTable() {
        long[] grid = IQ2_SFormat.grid();
        assertThat(grid).hasSize(1024);
        ByteBuffer bytes = ByteBuffer.allocate(8 * 1024).order(ByteOrder.LITTLE_ENDIAN);
        for (long entry : grid) {
            bytes.putLong(entry);
        }
        for (byte b : bytes.array()) {
            assertThat((int) b).isIn(8, 25, 43);
        }
        CRC32 crc = new CRC32();
        crc.update(bytes.array());
        // CRC-32 of the 8192 little-endian bytes of iq2s_grid in ggml-org/ggml@d99724f src/ggml-common.h
        assertThat(crc.getValue()).isEqualTo(0x25ae5bf1L);
        assertThat(grid[0]).isEqualTo(0x0808080808080808L);
        assertThat(grid[1023]).isEqualTo(0x2b2b2b2b2b2b2b2bL);
    }
}
