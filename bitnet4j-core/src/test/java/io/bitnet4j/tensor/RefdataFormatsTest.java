package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.testing.TestFiles;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The quantized reference files hold exactly the weights of the F32 file beside them (their READMEs: ternary
 * values times a scale exact in F16), so every tensor must decode to exactly those values, and our encoders must
 * reproduce the reference quantizers' bytes.
 */
class RefdataFormatsTest {

    static Stream<Arguments> files() {
        return Stream.of(
                Arguments.of("refdata/bitnet-b1.58/tiny-b158-I2_S.gguf", "refdata/bitnet-b1.58/tiny-b158-f32.gguf", GgmlType.I2_S),
                Arguments.of("refdata/bitnet-b1.58/tiny-b158-I2_S-embf16.gguf", "refdata/bitnet-b1.58/tiny-b158-f32.gguf", GgmlType.I2_S),
                Arguments.of("refdata/bitnet-b1.58/tiny-b158-TQ2_0.gguf", "refdata/bitnet-b1.58/tiny-b158-f32.gguf", GgmlType.TQ2_0),
                Arguments.of("refdata/bitnet-b1.58/tiny-b158-TQ1_0.gguf", "refdata/bitnet-b1.58/tiny-b158-f32.gguf", GgmlType.TQ1_0),
                Arguments.of("refdata/bitnet-silu/tiny-I2_S.gguf", "refdata/bitnet-silu/tiny-f32.gguf", GgmlType.I2_S),
                Arguments.of("refdata/bitnet-silu/tiny-TQ2_0.gguf", "refdata/bitnet-silu/tiny-f32.gguf", GgmlType.TQ2_0),
                Arguments.of("refdata/bitnet-silu/tiny-TQ1_0.gguf", "refdata/bitnet-silu/tiny-f32.gguf", GgmlType.TQ1_0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void everyTensorDecodesToTheF32SourceValues(String quantizedPath, String f32Path, GgmlType ternaryType) {
        try (GgufFile quantized = GgufFile.open(TestFiles.shared(quantizedPath));
             GgufFile source = GgufFile.open(TestFiles.shared(f32Path))) {
            assertThat(quantized.tensors()).hasSameSizeAs(source.tensors());
            Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
            for (GgufTensorInfo info : quantized.tensors()) {
                Tensor tensor = Tensor.of(quantized, info);
                Tensor original = Tensor.of(source, info.name());
                assertThat(original.type()).isEqualTo(GgmlType.F32);
                assertThat(tensor.shape()).as(info.name()).containsExactly(original.shape());
                float[] expected = F32Format.INSTANCE.decodeAll(original);
                if (info.type() == GgmlType.F16) {
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] = Float.float16ToFloat(Float.floatToFloat16(expected[i]));
                    }
                }
                float[] decoded = WeightFormats.of(info.type()).decodeAll(tensor);
                TestTensors.assertSameValues(decoded, expected, info.name() + " (" + info.type() + ")");
                seen.add(info.type());
            }
            assertThat(seen).contains(ternaryType, GgmlType.F32);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void ourEncodersReproduceTheReferenceQuantizersBytes(String quantizedPath, String f32Path, GgmlType ternaryType) {
        try (GgufFile quantized = GgufFile.open(TestFiles.shared(quantizedPath));
             GgufFile source = GgufFile.open(TestFiles.shared(f32Path))) {
            int ternaryTensors = 0;
            for (GgufTensorInfo info : quantized.tensors()) {
                Tensor tensor = Tensor.of(quantized, info);
                float[] values = F32Format.INSTANCE.decodeAll(Tensor.of(source, info.name()));
                byte[] actual = tensor.data().toArray(ValueLayout.JAVA_BYTE);
                byte[] encoded = WeightFormats.of(info.type()).encode(values, info.shape());
                if (info.type() == GgmlType.I2_S) {
                    // codes and the f32 scale; the 28 bytes after the scale are left unwritten by quantize_i2_s
                    int meaningful = (int) (info.elementCount() / 4 + 4);
                    assertThat(encoded).hasSize(actual.length);
                    assertThat(Arrays.mismatch(encoded, 0, meaningful, actual, 0, meaningful)).as(info.name()).isEqualTo(-1);
                } else {
                    assertThat(encoded).as("%s (%s)", info.name(), info.type()).hasSameSizeAs(actual);
                    assertThat(Arrays.mismatch(encoded, actual)).as("%s (%s): first differing byte", info.name(),
                            info.type()).isEqualTo(-1);
                }
                if (info.type() == ternaryType) {
                    ternaryTensors++;
                }
            }
            assertThat(ternaryTensors).isEqualTo(14);
        }
    }
}
