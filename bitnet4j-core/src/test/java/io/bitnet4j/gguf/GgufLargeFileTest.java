package io.bitnet4j.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.tensor.ActivationQuantizer;
import io.bitnet4j.tensor.ActivationType;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.F32Format;
import io.bitnet4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file larger than 4 GiB, written sparse (the big tensor is a hole except for its first and last rows): it maps,
 * its header is read, and tensor bytes past the 4 GiB mark are addressable through their slices.
 */
class GgufLargeFileTest {
    private static final int ROW = 1024;
    /** Rows of the big F32 tensor: 4 GiB of data plus 16 rows. */
    private static final long BIG_ROWS = (1L << 32) / (4L * ROW) + 16;

    @TempDir
    Path dir;

    private static float[] ramp(int n, float start) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = start + i;
        }
        return v;
    }

    @Test
    void sparseFileLargerThan4GibMapsAndItsTensorsAreAddressablePast4Gib() throws IOException {
        float[] head = ramp(32, 1f);
        float[] firstRow = ramp(ROW, 100f);
        float[] lastRow = ramp(ROW, -5000f);
        float[] tail = ramp(32, 7000f);
        long bigBytes = BIG_ROWS * ROW * 4;
        GgufWriter writer = new GgufWriter()
                .putString("general.architecture", "llama")
                .addTensor("head", GgmlType.F32, new long[] {32}, F32Format.INSTANCE.encode(head, new long[] {32}))
                .addTensor("big", GgmlType.F32, new long[] {ROW, BIG_ROWS}, sink -> {
                    sink.write(ByteBuffer.wrap(F32Format.INSTANCE.encode(firstRow, new long[] {ROW})));
                    sink.skip(bigBytes - 2L * ROW * 4);
                    sink.write(ByteBuffer.wrap(F32Format.INSTANCE.encode(lastRow, new long[] {ROW})));
                })
                .addTensor("tail", GgmlType.F32, new long[] {32}, F32Format.INSTANCE.encode(tail, new long[] {32}));
        Path p = dir.resolve("sparse-4gib.gguf");
        try {
            writer.write(p);
            assertThat(Files.size(p)).isGreaterThan(1L << 32);

            long start = System.nanoTime();
            GgufFile file = GgufFile.open(p);
            long firstOpenNanos = System.nanoTime() - start;
            try (file) {
                GgufTensorInfo tailInfo = file.tensorInfo("tail").orElseThrow();
                assertThat(file.dataStart() + tailInfo.offset()).isGreaterThan(1L << 32);
                assertThat(F32Format.INSTANCE.decodeAll(Tensor.of(file, "tail"))).containsExactly(tail);
                assertThat(F32Format.INSTANCE.decodeAll(Tensor.of(file, "head"))).containsExactly(head);

                Tensor big = Tensor.of(file, "big");
                assertThat(big.data().byteSize()).isEqualTo(bigBytes).isGreaterThan(1L << 32);
                float[] row = new float[ROW];
                F32Format.INSTANCE.decodeRow(big, BIG_ROWS - 1, row, 0);
                assertThat(row).containsExactly(lastRow);
                F32Format.INSTANCE.decodeRow(big, BIG_ROWS - 20, row, 0);       // in the hole, past 4 GiB
                assertThat(row).containsOnly(0f);
                F32Format.INSTANCE.decodeRow(big, 0, row, 0);
                assertThat(row).containsExactly(firstRow);

                Activations ones = new Activations(ActivationType.F32, ROW, 1);
                float[] x = new float[ROW];
                Arrays.fill(x, 1f);
                ActivationQuantizer.quantize(x, 0, ones, 0);
                double expected = 0;
                for (float v : lastRow) {
                    expected += v;
                }
                assertThat(F32Format.INSTANCE.dot(big, BIG_ROWS - 1, ones, 0)).isEqualTo((float) expected);
            }

            long[] again = new long[5];
            for (int i = 0; i < again.length; i++) {
                long t0 = System.nanoTime();
                GgufFile.open(p).close();
                again[i] = System.nanoTime() - t0;
            }
            Arrays.sort(again);
            System.out.printf("GgufFile.open of a %.2f GiB sparse GGUF (%d tensors): first open %.2f ms, "
                            + "median of %d more opens %.3f ms%n", Files.size(p) / (double) (1L << 30), 3,
                    firstOpenNanos / 1e6, again.length, again[again.length / 2] / 1e6);
        } finally {
            Files.deleteIfExists(p);
        }
    }
}
