package io.bitnet4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void readsEveryFloatDtypeExactly() throws IOException {
        float[] values = {1.5f, -2.25f, 0f, 65504f, 1e-3f, -0.0078125f};
        Path file = tmp.resolve("m.safetensors");
        new TestSafetensors()
                .put("a", "F32", values, 2, 3)
                .put("b", "F16", values, 6)
                .put("c", "BF16", values, 3, 2)
                .write(file);

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.tensors().keySet()).containsExactly("a", "b", "c");
            SafetensorsTensor a = st.tensor("a").orElseThrow();
            assertThat(a.shape()).containsExactly(2, 3);
            assertThat(a.ggmlShape()).containsExactly(3, 2);
            assertThat(a.toFloats()).containsExactly(values);
            float[] f16 = new float[values.length];
            float[] bf16 = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                f16[i] = Float.float16ToFloat(Float.floatToFloat16(values[i]));
                bf16[i] = Float.intBitsToFloat(TestSafetensors.bf16(values[i]) << 16);
            }
            assertThat(st.tensor("b").orElseThrow().toFloats()).containsExactly(f16);
            assertThat(st.tensor("c").orElseThrow().toFloats()).containsExactly(bf16);
            float[] part = new float[2];
            st.tensor("c").orElseThrow().read(3, part, 0, 2);
            assertThat(part).containsExactly(bf16[3], bf16[4]);
        }
    }

    /** A file with this header and {@code dataBytes} zero bytes of data. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "[1, 2]                                                                     | the header is not a JSON object",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2]                              | the header is not valid JSON",
            "{\"a\": {\"dtype\": \"F33\", \"shape\": [2], \"data_offsets\": [0, 8]}}  | tensor 'a': unknown dtype \"F33\"",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}} | is not a list of non-negative integers",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}     | is not a pair of integers",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}  | lie outside the 8 bytes of data",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}  | hold 8 bytes, but F32 [3] needs 12",
            "{\"a\": {\"dtype\": \"F16\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 8]}} | overflows",
            "{\"a\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [2, 6]}} | tensors 'a' and 'b' overlap",
            "{\"a\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [4, 8]}} | Duplicate field 'a'",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}} x | the header is not valid JSON",
    })
    void damagedHeadersAreRejectedWithOneLine(String header, String expected) throws IOException {
        Path p = file(header, 8);
        assertThatThrownBy(() -> SafetensorsFile.open(p))
                .isInstanceOf(BitnetException.class)
                .hasMessageStartingWith(p.toString())
                .hasMessageContaining(expected)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void headerLengthBeyondTheFileIsRejected() throws IOException {
        Path p = tmp.resolve("len.safetensors");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        assertThatThrownBy(() -> SafetensorsFile.open(p)).hasMessageContaining("header length 18446744073709551615 "
                + "does not fit the file of 16 bytes");

        Files.write(p, new byte[5]);
        assertThatThrownBy(() -> SafetensorsFile.open(p)).hasMessageContaining("too short");

        assertThatThrownBy(() -> SafetensorsFile.open(tmp.resolve("none.safetensors")))
                .hasMessageContaining("none.safetensors: file not found");
    }

    @Test
    void integerDtypesAreValidatedButNotConverted() throws IOException {
        Path p = file("{\"q\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]}}", 8);
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            SafetensorsTensor q = st.tensor("q").orElseThrow();
            assertThat(q.dtype()).isEqualTo(SafetensorsDtype.U8);
            assertThatThrownBy(q::toFloats).hasMessageContaining("tensor 'q' has dtype U8");
        }
    }

    @Test
    void directoryWithoutWeightsIsNamed() throws IOException {
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(tmp))
                .hasMessageContaining("neither model.safetensors nor model.safetensors.index.json is there");

        Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"../escape.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(tmp)).hasMessageContaining("is not a file in");

        new TestSafetensors().put("b", "F32", new float[2], 2).write(tmp.resolve("s1.safetensors"));
        Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"s1.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(tmp))
                .hasMessageContaining("tensor 'a' is not in s1.safetensors as the index says");
    }
}
