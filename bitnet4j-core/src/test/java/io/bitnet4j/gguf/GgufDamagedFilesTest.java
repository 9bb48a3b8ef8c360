package io.bitnet4j.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bitnet4j.BitnetException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Valid files written by {@link GgufWriter}, then damaged copies of them: each must be refused with one
 * {@link BitnetException} of kind INVALID_FILE whose one-line message names the file and the problem, and never
 * with another exception, an OutOfMemoryError or a hang.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GgufDamagedFilesTest {
    private static final long HUGE = 1L << 62;

    @TempDir
    Path dir;

    private byte[] valid;
    private GgufLayout layout;
    private int copies;

    /** A small file with every kind of section: scalars, strings, arrays, a nested array, three tensors. */
    private static GgufWriter validWriter(String architecture) {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", architecture)
                .putU32("test.u32", 7)
                .putBool("test.bool", true)
                .put("test.u8s", new GgufValue.IntArray(GgufValueType.UINT8, new long[] {1, 2, 3}))
                .putStrings("test.strings", List.of("a", "bc"))
                .put("test.nested", new GgufValue.NestedArray(List.of(
                        new GgufValue.IntArray(GgufValueType.INT32, new long[] {1, 2}),
                        new GgufValue.IntArray(GgufValueType.INT32, new long[] {3}))))
                .putString("test.key_a", "x")
                .putString("test.key_b", "y");
        w.addTensor("a.weight", GgmlType.F32, new long[] {8, 2}, new byte[64]);
        w.addTensor("b.weight", GgmlType.F32, new long[] {16}, new byte[64]);
        w.addTensor("c.weight", GgmlType.Q8_0, new long[] {32}, new byte[34]);
        return w;
    }

    @BeforeEach
    void writeValidFile() throws IOException {
        valid = write(validWriter("llama"));
        layout = GgufLayout.of(valid);
        try (GgufFile f = GgufFile.open(save(valid))) {
            assertThat(f.tensors()).hasSize(3);
            assertThat(f.dataStart()).isEqualTo(layout.dataStart());
        }
    }

    private byte[] write(GgufWriter writer) throws IOException {
        Path p = dir.resolve("written-" + (copies++) + ".gguf");
        writer.write(p);
        return Files.readAllBytes(p);
    }

    private Path save(byte[] bytes) throws IOException {
        Path p = dir.resolve("damaged-" + (copies++) + ".gguf");
        Files.write(p, bytes);
        return p;
    }

    /** A copy of the valid file with {@code edit} applied to a little-endian view of its bytes. */
    private Path damaged(Consumer<ByteBuffer> edit) throws IOException {
        byte[] copy = valid.clone();
        edit.accept(ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
        return save(copy);
    }

    /** Bytes with {@code remove} bytes at {@code at} replaced by {@code insert}. */
    private static byte[] splice(byte[] bytes, long at, int remove, byte[] insert) {
        byte[] out = new byte[bytes.length - remove + insert.length];
        System.arraycopy(bytes, 0, out, 0, (int) at);
        System.arraycopy(insert, 0, out, (int) at, insert.length);
        System.arraycopy(bytes, (int) at + remove, out, (int) at + insert.length, bytes.length - (int) at - remove);
        return out;
    }

    private static BitnetException assertInvalid(Path file, String... fragments) {
        BitnetException[] thrown = new BitnetException[1];
        assertThatThrownBy(() -> {
            try (GgufFile ignored = GgufFile.open(file)) {
                // opening is the whole test
            }
        }).isInstanceOfSatisfying(BitnetException.class, e -> {
            thrown[0] = e;
            assertThat(e.kind()).isEqualTo(BitnetException.Kind.INVALID_FILE);
            assertThat(e.getMessage()).startsWith(file + ": ").doesNotContain("\n")
                    .contains(fragments);
        });
        return thrown[0];
    }

    // ---- truncation -------------------------------------------------------------------------------------------

    @Test
    void truncatedAtEveryByteIsRefusedNamingTheSection() throws IOException {
        long dataEnd = dataEnd(layout.infos().getLast());
        long tensorCount = layout.infos().size();
        long kvCount = layout.entries().size();
        for (int length = 0; length < valid.length; length++) {
            Path p = save(Arrays.copyOf(valid, length));
            if (length >= dataEnd) {
                // only the padding after the last tensor is missing: llama.cpp reads such files too
                try (GgufFile f = GgufFile.open(p)) {
                    assertThat(f.tensors()).hasSize(3);
                }
                continue;
            }
            String message = assertInvalid(p, "truncated").getMessage();
            long remaining = length - 24;
            String expected;
            if (length < 24) {
                expected = "shorter than a GGUF header";
            } else if (remaining < tensorCount * 24 || remaining < kvCount * 13) {
                expected = "header counts";
            } else if (length < layout.infosEnd()) {
                expected = sectionAt(length);
            } else if (length < layout.dataStart()) {
                expected = "data section would start at byte " + layout.dataStart();
            } else {
                long cutAt = length;
                GgufLayout.Info cut = layout.infos().stream().filter(t -> dataEnd(t) > cutAt).findFirst().orElseThrow();
                expected = "tensor '" + cut.name() + "': data [";
            }
            assertThat(message).as("truncated to %d bytes", length).contains(expected);
        }
    }

    /** Where the data of tensor {@code t} of the valid file ends (a and b: 64 bytes of F32, c: one Q8_0 block). */
    private long dataEnd(GgufLayout.Info t) {
        return layout.dataStart() + t.dataOffset() + (t.name().equals("c.weight") ? 34 : 64);
    }

    /** The context a reader cut off inside the header's entries or tensor infos names, as a message fragment. */
    private String sectionAt(long length) {
        for (int i = 0; i < layout.entries().size(); i++) {
            GgufLayout.Entry e = layout.entries().get(i);
            if (length < e.end()) {
                return length < e.type() ? "metadata entry " + i + ":" : "metadata key '" + e.key() + "'";
            }
        }
        for (int i = 0; i < layout.infos().size(); i++) {
            GgufLayout.Info t = layout.infos().get(i);
            if (length < t.end()) {
                return length < t.nDims() ? "tensor info " + i + ":" : "tensor '" + t.name() + "'";
            }
        }
        throw new AssertionError("not inside the header: " + length);
    }

    // ---- header -----------------------------------------------------------------------------------------------

    @Test
    void wrongMagic() throws IOException {
        assertInvalid(damaged(b -> b.put(0, "GGML".getBytes(StandardCharsets.US_ASCII))), "not a GGUF file",
                "\"GGML\"");
        assertInvalid(save(Arrays.copyOf("PK\u0003\u0004 not a model".getBytes(StandardCharsets.ISO_8859_1), 12)),
                "not a GGUF file");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 4, 5, -1})
    void unsupportedVersions(int version) throws IOException {
        assertInvalid(damaged(b -> b.putInt(4, version)), "unsupported GGUF version " + Integer.toUnsignedString(version));
    }

    @Test
    void versionOneAndBigEndian() throws IOException {
        assertInvalid(damaged(b -> b.putInt(4, 1)), "version 1 is not supported");
        assertInvalid(damaged(b -> b.putInt(4, 0x03000000)), "big-endian", "0x3000000");
        assertInvalid(damaged(b -> b.putInt(4, 0x02000000)), "big-endian");
    }

    @Test
    void countsThatCannotFit() throws IOException {
        assertInvalid(damaged(b -> b.putLong(8, HUGE)), "header counts", "tensor count 4611686018427387904 cannot fit");
        assertInvalid(damaged(b -> b.putLong(16, HUGE)), "metadata count 4611686018427387904 cannot fit");
        assertInvalid(damaged(b -> b.putLong(16, -1)), "metadata count 18446744073709551615 cannot fit");
        assertInvalid(damaged(b -> b.putLong(8, Long.MIN_VALUE)), "tensor count 9223372036854775808 cannot fit");
    }

    // ---- metadata ---------------------------------------------------------------------------------------------

    @Test
    void stringLengthsPastTheEnd() throws IOException {
        GgufLayout.Entry first = layout.entries().getFirst();
        long pastEnd = valid.length - first.keyBytes() + 1;
        assertInvalid(damaged(b -> b.putLong((int) first.start(), pastEnd)), "metadata entry 0",
                "string length " + pastEnd, "runs past the end of the file");
        assertInvalid(damaged(b -> b.putLong((int) first.start(), HUGE)), "string length 4611686018427387904");
        assertInvalid(damaged(b -> b.putLong((int) first.start(), -2)), "string length 18446744073709551614");
        GgufLayout.Entry architecture = layout.entry("general.architecture");
        assertInvalid(damaged(b -> b.putLong((int) architecture.value(), HUGE)), "metadata key 'general.architecture'",
                "runs past the end of the file");
        GgufLayout.Entry strings = layout.entry("test.strings");
        assertInvalid(damaged(b -> b.putLong((int) strings.value() + 12, 1L << 40)), "metadata key 'test.strings'",
                "string length 1099511627776");
        GgufLayout.Info tensor = layout.info("b.weight");
        assertInvalid(damaged(b -> b.putLong((int) tensor.start(), HUGE)), "tensor info 1", "runs past the end");
    }

    @Test
    void arrayCountsThatCannotFit() throws IOException {
        GgufLayout.Entry u8s = layout.entry("test.u8s");
        long pastEnd = valid.length - (u8s.value() + 12) + 1;
        assertInvalid(damaged(b -> b.putLong((int) u8s.value() + 4, pastEnd)), "metadata key 'test.u8s'",
                "array of " + pastEnd + " u8 elements cannot fit");
        assertInvalid(damaged(b -> b.putLong((int) u8s.value() + 4, HUGE)), "array of 4611686018427387904 u8");
        assertInvalid(damaged(b -> b.putLong((int) u8s.value() + 4, -1)), "array of 18446744073709551615 u8");
        GgufLayout.Entry strings = layout.entry("test.strings");
        assertInvalid(damaged(b -> b.putLong((int) strings.value() + 4, HUGE)), "array of 4611686018427387904 str");
        GgufLayout.Entry nested = layout.entry("test.nested");
        assertInvalid(damaged(b -> b.putLong((int) nested.value() + 4, HUGE)), "array of 4611686018427387904 arr");
    }

    @Test
    void unknownValueTypes() throws IOException {
        GgufLayout.Entry u32 = layout.entry("test.u32");
        assertInvalid(damaged(b -> b.putInt((int) u32.type(), 13)), "metadata key 'test.u32'", "unknown value type 13");
        assertInvalid(damaged(b -> b.putInt((int) u32.type(), -1)), "unknown value type 4294967295");
        GgufLayout.Entry u8s = layout.entry("test.u8s");
        assertInvalid(damaged(b -> b.putInt((int) u8s.value(), 13)), "unknown array element type 13");
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 255})
    void boolValuesOtherThanZeroOrOne(int value) throws IOException {
        GgufLayout.Entry bool = layout.entry("test.bool");
        assertInvalid(damaged(b -> b.put((int) bool.value(), (byte) value)), "metadata key 'test.bool'",
                "bool value " + value, "neither 0 nor 1");
    }

    @Test
    void boolArrayValueTwo() throws IOException {
        valid = write(validWriter("llama").put("test.bools", new GgufValue.BoolArray(new boolean[] {true, false})));
        GgufLayout.Entry bools = GgufLayout.of(valid).entry("test.bools");
        assertInvalid(damaged(b -> b.put((int) bools.value() + 13, (byte) 2)), "metadata key 'test.bools'", "bool value 2");
    }

    @Test
    void arraysNestedDeeperThanAllowed() throws IOException {
        GgufValue.ArrayValue nested = new GgufValue.IntArray(GgufValueType.INT8, new long[] {1});
        for (int depth = 1; depth < 9; depth++) {
            nested = new GgufValue.NestedArray(List.of(nested));
        }
        valid = write(validWriter("llama").put("test.deep", nested));
        assertInvalid(save(valid), "metadata key 'test.deep'", "arrays nested more than 8 deep");
    }

    @Test
    void duplicateAndEmptyKeys() throws IOException {
        GgufLayout.Entry b = layout.entry("test.key_b");
        assertInvalid(damaged(buf -> buf.put((int) b.keyBytes() + "test.key_".length(), (byte) 'a')),
                "metadata key 'test.key_a'", "duplicate metadata key");
        // an empty key: its 10 bytes become part of the next field, but the reader stops at the empty key first
        assertInvalid(damaged(buf -> buf.putLong((int) b.start(), 0)), "metadata entry 7", "empty metadata key");
    }

    @Test
    void alignmentNotAPowerOfTwoOrNotU32() throws IOException {
        valid = write(validWriter("llama").putU32("general.alignment", 32));
        GgufLayout.Entry alignment = GgufLayout.of(valid).entry("general.alignment");
        for (int bad : new int[] {0, 48, 3, 1 << 31}) {
            assertInvalid(damaged(b -> b.putInt((int) alignment.value(), bad)), "metadata key 'general.alignment'",
                    "alignment " + Integer.toUnsignedString(bad) + " is not a power of two");
        }
        for (GgufValue notU32 : List.of(new GgufValue.IntValue(GgufValueType.INT32, 32),
                new GgufValue.IntValue(GgufValueType.UINT64, 32), new GgufValue.IntValue(GgufValueType.UINT16, 32),
                new GgufValue.StringValue("32"))) {
            valid = write(validWriter("llama").put("general.alignment", notU32));
            assertInvalid(save(valid), "metadata key 'general.alignment'", "must be a u32",
                    "of type " + notU32.type().displayName());
        }
    }

    // ---- tensor infos -----------------------------------------------------------------------------------------

    @Test
    void badDimensions() throws IOException {
        GgufLayout.Info a = layout.info("a.weight");
        assertInvalid(damaged(b -> b.putInt((int) a.nDims(), 5)), "tensor 'a.weight'", "5 dimensions (at most 4)");
        assertInvalid(damaged(b -> b.putInt((int) a.nDims(), -1)), "4294967295 dimensions");
        assertInvalid(damaged(b -> b.putLong((int) a.dims(), Long.MIN_VALUE)),
                "dimension 0 = 9223372036854775808 is negative or too large");
        assertInvalid(damaged(b -> b.putLong((int) a.dims(), 1L << 32).putLong((int) a.dims() + 8, 1L << 32)),
                "tensor 'a.weight'", "has more elements than fit in 64 bits");
        // 2^62 elements fit, but their 4-byte F32 size does not
        assertInvalid(damaged(b -> b.putLong((int) a.dims(), 1L << 31).putLong((int) a.dims() + 8, 1L << 31)),
                "size of a F32 tensor of shape [2147483648, 2147483648] does not fit in 64 bits");
    }

    @ParameterizedTest
    @ValueSource(ints = {31, 32, 33})
    void typeIdsRemovedFromGguf(int id) throws IOException {
        GgufLayout.Info c = layout.info("c.weight");
        assertInvalid(damaged(b -> b.putInt((int) c.type(), id)), "tensor 'c.weight'", "type id " + id,
                "removed from GGUF");
    }

    @Test
    void unknownTypeIds() throws IOException {
        GgufLayout.Info c = layout.info("c.weight");
        assertInvalid(damaged(b -> b.putInt((int) c.type(), 99)), "tensor 'c.weight'", "unknown type id 99");
        assertInvalid(damaged(b -> b.putInt((int) c.type(), -1)), "unknown type id 4294967295");
        // 36 is I2_S only in bitnet.cpp files; this one is a mainline ("llama") file
        assertInvalid(damaged(b -> b.putInt((int) c.type(), 36)), "type id 36", "removed mainline type",
                "bitnet.cpp");
    }

    @Test
    void bitnetCppActivationTypeInAFile() throws IOException {
        valid = write(validWriter("bitnet-b1.58"));
        GgufLayout.Info b16 = GgufLayout.of(valid).info("b.weight");
        assertInvalid(damaged(b -> b.putInt((int) b16.type(), 37)), "tensor 'b.weight'", "I8_S");
    }

    @Test
    void rowLengthNotAMultipleOfTheBlock() throws IOException {
        GgufLayout.Info c = layout.info("c.weight");
        assertInvalid(damaged(b -> b.putLong((int) c.dims(), 16)), "tensor 'c.weight'",
                "row length 16 is not a multiple of the Q8_0 block size 32");
    }

    @Test
    void duplicateEmptyAndOverlongTensorNames() throws IOException {
        GgufLayout.Info b = layout.info("b.weight");
        assertInvalid(damaged(buf -> buf.put((int) b.nameBytes(), (byte) 'a')), "tensor 'a.weight'",
                "duplicate tensor name");
        assertInvalid(damaged(buf -> buf.putLong((int) b.start(), 0)), "tensor info 1", "empty tensor name");
        byte[] longName = new byte[8 + 64];
        ByteBuffer.wrap(longName).order(ByteOrder.LITTLE_ENDIAN).putLong(64);
        Arrays.fill(longName, 8, longName.length, (byte) 'n');
        assertInvalid(save(splice(valid, b.start(), 8 + "b.weight".length(), longName)), "tensor info 1",
                "name is longer than 63 bytes");
    }

    @Test
    void offsetsOutOfBoundsMisalignedOrOverlapping() throws IOException {
        GgufLayout.Info a = layout.info("a.weight");
        GgufLayout.Info b = layout.info("b.weight");
        assertInvalid(damaged(buf -> buf.putLong((int) a.offset(), HUGE)), "tensor 'a.weight'",
                "data [4611686018427387904, +64) lies outside the file's data section");
        assertInvalid(damaged(buf -> buf.putLong((int) a.offset(), -32)), "data [18446744073709551584, +64) lies outside");
        long justPast = valid.length - layout.dataStart() - 32;
        assertInvalid(damaged(buf -> buf.putLong((int) b.offset(), justPast)), "tensor 'b.weight'", "lies outside");
        assertInvalid(damaged(buf -> buf.putLong((int) a.offset(), 1)), "tensor 'a.weight'",
                "offset 1 is not a multiple of the alignment 32");
        assertInvalid(damaged(buf -> buf.putLong((int) b.offset(), 32)), "tensor 'b.weight'",
                "data overlaps tensor 'a.weight'");
        assertInvalid(damaged(buf -> buf.putLong((int) b.offset(), 0)), "overlaps tensor 'a.weight'");
    }

    @Test
    void strictPackingRefusesTensorsOutOfHeaderOrder() throws IOException {
        GgufLayout.Info a = layout.info("a.weight");
        GgufLayout.Info b = layout.info("b.weight");
        Path swapped = damaged(buf -> buf.putLong((int) a.offset(), 64).putLong((int) b.offset(), 0));
        try (GgufFile f = GgufFile.open(swapped)) {
            assertThat(f.tensorInfo("a.weight").orElseThrow().offset()).isEqualTo(64);
        }
        assertThatThrownBy(() -> GgufFile.open(swapped, new GgufReadOptions(true, null)).close())
                .isInstanceOfSatisfying(BitnetException.class,
                        e -> assertThat(e.kind()).isEqualTo(BitnetException.Kind.INVALID_FILE))
                .hasMessageContaining("tensor 'a.weight'")
                .hasMessageContaining("offset 64 breaks contiguous packing (expected 0)");
    }

    /**
     * A header whose one array's count is true to the file's size, in a sparse file: 2^30 u8 values (8 GiB as the
     * reader's longs) or 2^27 empty strings (6 GiB of String objects) must be refused before anything is allocated.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 8})
    void hugeArraysThatFitInASparseFileAreRefusedBeforeAllocating(int elementType) throws IOException {
        long count = elementType == 0 ? 1L << 30 : 1L << 27;
        ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0x46554747).putInt(3).putLong(0).putLong(1);
        header.putLong(8).put("test.big".getBytes(StandardCharsets.US_ASCII)).putInt(9).putInt(elementType).putLong(count);
        Path p = dir.resolve("sparse-array.gguf");
        try (RandomAccessFile file = new RandomAccessFile(p.toFile(), "rw")) {
            file.write(header.array(), 0, header.position());
            file.setLength(header.position() + count * (elementType == 0 ? 1 : 8));
        }
        try {
            assertInvalid(p, "metadata key 'test.big'", "the header would need more than 512 MiB of memory");
        } finally {
            Files.delete(p);
        }
    }

    // ---- not files --------------------------------------------------------------------------------------------

    @Test
    void missingFileAndDirectory() {
        assertInvalid(dir.resolve("absent.gguf"), "file not found");
        assertInvalid(dir, "is a directory");
    }
}
