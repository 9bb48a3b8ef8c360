package io.bitnet4j.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** GgufWriter → GgufFile keeps every value; rewriting a reference file reproduces it byte for byte. */
class GgufRoundTripTest {

    @TempDir
    Path dir;

    @Test
    void everyMetadataValueTypeSurvivesWriteAndRead() throws IOException {
        Map<String, GgufValue> values = new LinkedHashMap<>();
        values.put("u8", new GgufValue.IntValue(GgufValueType.UINT8, 255));
        values.put("i8", new GgufValue.IntValue(GgufValueType.INT8, -128));
        values.put("u16", new GgufValue.IntValue(GgufValueType.UINT16, 65535));
        values.put("i16", new GgufValue.IntValue(GgufValueType.INT16, -32768));
        values.put("u32", new GgufValue.IntValue(GgufValueType.UINT32, 0xFFFFFFFFL));
        values.put("i32", new GgufValue.IntValue(GgufValueType.INT32, Integer.MIN_VALUE));
        values.put("u64", new GgufValue.IntValue(GgufValueType.UINT64, Long.parseUnsignedLong("18446744073709551615")));
        values.put("u64.above_long_max", new GgufValue.IntValue(GgufValueType.UINT64, Long.MIN_VALUE + 5));
        values.put("i64", new GgufValue.IntValue(GgufValueType.INT64, Long.MIN_VALUE));
        values.put("f32", new GgufValue.FloatValue(GgufValueType.FLOAT32, 1e-5f));
        values.put("f32.nan", new GgufValue.FloatValue(GgufValueType.FLOAT32, Float.NaN));
        values.put("f64", new GgufValue.FloatValue(GgufValueType.FLOAT64, Math.PI));
        values.put("bool", new GgufValue.BoolValue(true));
        values.put("string", new GgufValue.StringValue("ünïcode\n\"quotes\"\t✓"));
        values.put("string.empty", new GgufValue.StringValue(""));
        values.put("arr.u8", new GgufValue.IntArray(GgufValueType.UINT8, new long[] {0, 1, 255}));
        values.put("arr.i8", new GgufValue.IntArray(GgufValueType.INT8, new long[] {-128, 127}));
        values.put("arr.u16", new GgufValue.IntArray(GgufValueType.UINT16, new long[] {65535}));
        values.put("arr.i16", new GgufValue.IntArray(GgufValueType.INT16, new long[] {-32768, 1}));
        values.put("arr.u32", new GgufValue.IntArray(GgufValueType.UINT32, new long[] {0xFFFFFFFFL}));
        values.put("arr.i32", new GgufValue.IntArray(GgufValueType.INT32, new long[] {-1, 2}));
        values.put("arr.u64", new GgufValue.IntArray(GgufValueType.UINT64, new long[] {-1L, Long.MIN_VALUE}));
        values.put("arr.i64", new GgufValue.IntArray(GgufValueType.INT64, new long[] {Long.MAX_VALUE}));
        values.put("arr.f32", new GgufValue.FloatArray(GgufValueType.FLOAT32, new double[] {0.5, -0f}));
        values.put("arr.f64", new GgufValue.FloatArray(GgufValueType.FLOAT64, new double[] {1e300}));
        values.put("arr.bool", new GgufValue.BoolArray(new boolean[] {true, false, true}));
        values.put("arr.string", new GgufValue.StringArray(List.of("a", "", "Ġ Ġ", "😀✓", "")));
        values.put("arr.empty", new GgufValue.IntArray(GgufValueType.INT32, new long[0]));
        values.put("arr.nested", new GgufValue.NestedArray(List.of(
                        new GgufValue.NestedArray(List.of(new GgufValue.StringArray(List.of("deep")))),
                        new GgufValue.IntArray(GgufValueType.UINT64, new long[] {-2L}),
                        new GgufValue.BoolArray(new boolean[] {false}))));
        GgufValue.ArrayValue eightDeep = new GgufValue.IntArray(GgufValueType.INT8, new long[] {7});
        for (int depth = 1; depth < 8; depth++) {
            eightDeep = new GgufValue.NestedArray(List.of(eightDeep));
        }
        values.put("arr.eight_deep", eightDeep);
        GgufWriter writer = new GgufWriter();
        values.forEach(writer::put);
        Path p = dir.resolve("all-types.gguf");
        writer.write(p);

        try (GgufFile f = GgufFile.open(p)) {
            Map<String, GgufValue> read = f.metadata().asMap();
            assertThat(read.keySet()).containsExactlyElementsOf(values.keySet());
            for (Map.Entry<String, GgufValue> e : values.entrySet()) {
                assertThat(read.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(read.get("u64.above_long_max").describe()).isEqualTo("9223372036854775813");
            assertThat(read.get("u64").describe()).isEqualTo("18446744073709551615");
            assertThat(f.tensors()).isEmpty();
        }
        Path again = dir.resolve("all-types-again.gguf");
        try (GgufFile f = GgufFile.open(p)) {
            new GgufWriter().putAll(f.metadata()).write(again);
        }
        assertThat(Files.mismatch(p, again)).isEqualTo(-1);
    }

    static Stream<String> referenceFiles() throws IOException {
        Path refdata = TestFiles.sharedDir().resolve("refdata");
        if (!Files.isDirectory(refdata)) {
            return Stream.of("refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf");
        }
        try (Stream<Path> files = Files.walk(refdata)) {
            return files.filter(f -> f.toString().endsWith(".gguf"))
                    .map(f -> TestFiles.sharedDir().relativize(f).toString()).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("referenceFiles")
    void rewritingAReferenceFileReproducesItByteForByte(String relative) throws IOException {
        Path original = TestFiles.shared(relative);
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(original)) {
            GgufWriter writer = new GgufWriter().putAll(f.metadata());
            for (GgufTensorInfo t : f.tensors()) {
                writer.addTensor(t.name(), t.type(), t.shape(), f.tensorData(t));
            }
            writer.write(copy);
        }
        assertThat(Files.size(copy)).isEqualTo(Files.size(original));
        assertThat(Files.mismatch(original, copy)).as("first differing byte").isEqualTo(-1);
    }
}
