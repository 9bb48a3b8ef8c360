package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * ggml's IQ2_S (spec §2.7): 256 elements in 82 bytes, {@code [f16 d][u8 qs[64]][u8 qh[8]][u8 scales[8]]}. Each
 * 32-element sub-block ib has two 4-bit scales ({@code scales[ib]}, low nibble for its first 16 elements); each
 * 8-element group l of it takes 8 magnitudes from a 1024-entry codebook ({@code iq2s_grid}, index = {@code
 * qs[4ib+l]} plus 2 high bits from {@code qh[ib]}) and 8 sign bits from {@code qs[32+4ib+l]}. Element value:
 * {@code d·(0.5 + scale)·0.25 · magnitude · sign}. Products take Q8_K activations.
 */
public final class IQ2_SFormat extends BlockFormat {
    public static final IQ2_SFormat INSTANCE = new IQ2_SFormat();

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 82;
    private static final int QS = 2;
    private static final int SIGNS = QS + 32;
    private static final int QH = QS + 64;
    private static final int SCALES = QH + 8;
    private static final int GRID_ENTRIES = 1024;
    private static final String GRID_RESOURCE = "iq2s_grid.txt";
    private static final long[] GRID = loadGrid();

    private IQ2_SFormat() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.IQ2_S;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.Q8_K;
    }

    /** A copy of the codebook: entry i's byte j (little-endian) is the magnitude of element j of a group. */
    static long[] grid() {
        return GRID.clone();
    }

    /** Codebook index of group {@code l} (0..3) of sub-block {@code ib}: 8 bits from qs, 2 from qh. */
    private static int gridIndex(MemorySegment data, long offset, int ib, int l) {
        return u8(data, offset + QS + 4 * ib + l) | ((u8(data, offset + QH + ib) << (8 - 2 * l)) & 0x300);
    }

    /** Magnitude (8, 25 or 43) of element j of group l of sub-block ib, with its sign applied. */
    private static int signedMagnitude(MemorySegment data, long offset, int ib, int l, int j) {
        int magnitude = (int) (GRID[gridIndex(data, offset, ib, l)] >>> (8 * j)) & 0xFF;
        boolean negative = ((u8(data, offset + SIGNS + 4 * ib + l) >> j) & 1) != 0;
        return negative ? -magnitude : magnitude;
    }

    @Override
    void decodeBlock(MemorySegment data, long offset, float[] out, int outOffset) {
        float d = f16(data, offset);
        for (int ib = 0; ib < 8; ib++) {
            int scales = u8(data, offset + SCALES + ib);
            float db0 = d * (0.5f + (scales & 0xF)) * 0.25f;
            float db1 = d * (0.5f + (scales >> 4)) * 0.25f;
            for (int l = 0; l < 4; l++) {
                float dl = l < 2 ? db0 : db1;
                long grid = GRID[gridIndex(data, offset, ib, l)];
                int signs = u8(data, offset + SIGNS + 4 * ib + l);
                for (int j = 0; j < 8; j++) {
                    float magnitude = (float) ((grid >>> (8 * j)) & 0xFF);
                    out[outOffset + 32 * ib + 8 * l + j] = dl * magnitude * (((signs >> j) & 1) != 0 ? -1f : 1f);
                }
            }
        }
    }

    /**
     * As {@code ggml_vec_dot_iq2_s_q8_K_generic}: per block the integer {@code Σ_ib (2·s_lo+1)·Σ_lo + (2·s_hi+1)·Σ_hi}
     * over the sub-blocks' two halves, {@code sumf += (d_w·d_a)·sum} in block order, and the result is
     * {@code 0.125f·sumf} (the 0.5 + s and the 0.25 of the decoder folded into integers).
     */
    @Override
    public float dot(Tensor tensor, long row, Activations act, int token) {
        checkActivations(tensor, act);
        MemorySegment data = tensor.data();
        long offset = rowOffset(tensor, row);
        int blocks = tensor.rowLength() / BLOCK;
        byte[] q8 = act.quants();
        int qBase = token * act.length();
        float sumf = 0;
        for (int b = 0; b < blocks; b++, offset += BLOCK_BYTES) {
            int qb = qBase + b * BLOCK;
            int bsum = 0;
            for (int ib = 0; ib < 8; ib++) {
                int scales = u8(data, offset + SCALES + ib);
                int first16 = 0;
                int last16 = 0;
                for (int l = 0; l < 4; l++) {
                    int group = 0;
                    for (int j = 0; j < 8; j++) {
                        group += q8[qb + 32 * ib + 8 * l + j] * signedMagnitude(data, offset, ib, l, j);
                    }
                    if (l < 2) {
                        first16 += group;
                    } else {
                        last16 += group;
                    }
                }
                bsum += (1 + 2 * (scales & 0xF)) * first16 + (1 + 2 * (scales >> 4)) * last16;
            }
            float d = f16(data, offset) * act.scales()[token * blocks + b];
            sumf += d * bsum;
        }
        return 0.125f * sumf;
    }

    private static long[] loadGrid() {
        long[] grid = new long[GRID_ENTRIES];
        int n = 0;
        try (InputStream in = IQ2_SFormat.class.getResourceAsStream(GRID_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + GRID_RESOURCE + " is missing from the bitnet4j-core jar");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (n == GRID_ENTRIES || !line.startsWith("0x")) {
                    throw new IllegalStateException("resource " + GRID_RESOURCE + " is damaged near '" + line + "'");
                }
                grid[n++] = Long.parseUnsignedLong(line.substring(2), 16);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + GRID_RESOURCE, e);
        }
        if (n != GRID_ENTRIES) {
            throw new IllegalStateException("resource " + GRID_RESOURCE + " has " + n + " entries, expected " + GRID_ENTRIES);
        }
        return grid;
    }
}
