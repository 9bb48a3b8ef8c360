package io.bitnet4j.kernel;

/**
 * Rotary position embedding as ggml computes it (spec §6.3): for each position the angles are built
 * iteratively in float, {@code theta = pos; theta *= powf(base, -2/n_dims)} per pair, and each pair rotated by
 * {@code cosf/sinf(theta * freq_scale)}. NEOX pairs dimension i with i + n_dims/2; NORM pairs 2i with 2i+1.
 * The rotation {@code x0*cos - x1*sin, x0*sin + x1*cos} is evaluated with the first product fused, as the
 * reference's compiler contracts it ({@code -ffp-contract=on} on an FMA machine).
 * Dimensions beyond n_dims are left alone.
 */
public final class RopeTable {
    private final int ropeDims;
    private final int headDim;
    private final boolean neox;
    /** cos/sin per position: [pos][ropeDims/2][2]. */
    private final float[] table;

    public RopeTable(int ropeDims, int headDim, boolean neox, float freqBase, float freqScale, int maxPositions) {
        if (ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new IllegalArgumentException("rope dims " + ropeDims + " for head dim " + headDim);
        }
        this.ropeDims = ropeDims;
        this.headDim = headDim;
        this.neox = neox;
        float thetaScale = (float) Math.pow(freqBase, -2.0f / ropeDims);
        this.table = new float[Math.multiplyExact(maxPositions, ropeDims)];
        for (int pos = 0; pos < maxPositions; pos++) {
            float theta = pos;
            int base = pos * ropeDims;
            for (int i = 0; i < ropeDims / 2; i++) {
                float angle = theta * freqScale;
                table[base + 2 * i] = (float) Math.cos(angle);
                table[base + 2 * i + 1] = (float) Math.sin(angle);
                theta *= thetaScale;
            }
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code x} starting at {@code off}, for position {@code pos}. */
    public void apply(float[] x, int off, int heads, int pos) {
        int base = pos * ropeDims;
        int half = ropeDims / 2;
        for (int h = 0; h < heads; h++) {
            int head = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float cos = table[base + 2 * i];
                float sin = table[base + 2 * i + 1];
                int a = neox ? head + i : head + 2 * i;
                int b = neox ? head + i + half : head + 2 * i + 1;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = Math.fma(x0, cos, -(x1 * sin));
                x[b] = Math.fma(x0, sin, x1 * cos);
            }
        }
    }
}
