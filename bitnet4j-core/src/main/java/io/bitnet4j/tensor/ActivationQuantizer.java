package io.bitnet4j.tensor;

/**
 * The reference (scalar) preparation of one float activation row for a weight type, exactly as llama.cpp and
 * bitnet.cpp compute it (spec §3.4 and §6.5). Fast paths in {@code kernel} must produce identical bytes.
 */
public final class ActivationQuantizer {
    private ActivationQuantizer() {
    }

    /** Prepares row {@code x[offset .. offset+out.length())} as token {@code token} of {@code out}. */
    public static void quantize(float[] x, int offset, Activations out, int token) {
        int n = out.length();
        switch (out.type()) {
            case F32 -> System.arraycopy(x, offset, out.values(), token * n, n);
            case F16 -> {
                float[] v = out.values();
                int base = token * n;
                for (int i = 0; i < n; i++) {
                    v[base + i] = Float.float16ToFloat(Float.floatToFloat16(x[offset + i]));
                }
            }
            case BF16 -> {
                float[] v = out.values();
                int base = token * n;
                for (int i = 0; i < n; i++) {
                    v[base + i] = Bf16.toFloat(Bf16.fromFloat(x[offset + i]));
                }
            }
            case Q8_0 -> quantizeQ8_0(x, offset, n, out.quants(), token * n, out.scales(), token * (n / 32));
            case Q8_K -> quantizeQ8_K(x, offset, n, out.quants(), token * n, out.scales(), token * (n / 256),
                    out.sums(), token * (n / 16));
            case I8_TOKEN -> {
                long packed = quantizeI8Token(x, offset, n, out.quants(), token * n);
                out.scales()[token] = Float.intBitsToFloat((int) (packed >>> 32));
                out.sums()[token] = (int) packed;
            }
        }
    }

    /**
     * bitnet.cpp's per-token int8 quantization (spec §3.4): absmax in double, at least 1e-5; scale =
     * (float)(127/absmax); q = rint(x*scale) with the product in float, rounded half to even, clamped to
     * [-128, 127]. Returns the scale's float bits in the high word and the sum of the codes in the low word.
     */
    public static long quantizeI8Token(float[] x, int offset, int n, byte[] q, int qOffset) {
        double amax = 0;
        for (int i = 0; i < n; i++) {
            amax = Math.max(amax, Math.abs((double) x[offset + i]));
        }
        amax = Math.max(amax, 1e-5);
        float scale = (float) (127.0 / amax);
        int sum = 0;
        for (int i = 0; i < n; i++) {
            int v = (int) Math.rint(x[offset + i] * scale);
            v = Math.max(-128, Math.min(127, v));
            q[qOffset + i] = (byte) v;
            sum += v;
        }
        return ((long) Float.floatToRawIntBits(scale) << 32) | (sum & 0xFFFFFFFFL);
    }

    /**
     * ggml's Q8_K (quantize_row_q8_K_ref): per 256-element block, the element of largest magnitude (first one on
     * ties) gives iscale = -127/max; q = min(127, nearest(iscale*x)) rounded half to even; d = 1/iscale; plus the
     * sum of each 16 codes. An all-zero block gets d = 0 and zero codes.
     */
    public static void quantizeQ8_K(float[] x, int offset, int n, byte[] q, int qOffset, float[] d, int dOffset,
                                    int[] bsums, int bsumOffset) {
        for (int b = 0; b < n / 256; b++) {
            int base = offset + b * 256;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[base + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[base + j];
                }
            }
            int qBase = qOffset + b * 256;
            if (amax == 0) {
                d[dOffset + b] = 0;
                for (int j = 0; j < 256; j++) {
                    q[qBase + j] = 0;
                }
                for (int g = 0; g < 16; g++) {
                    bsums[bsumOffset + b * 16 + g] = 0;
                }
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) {
                int v = (int) Math.rint(iscale * x[base + j]);
                q[qBase + j] = (byte) Math.min(127, v);
            }
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int j = 0; j < 16; j++) {
                    s += q[qBase + g * 16 + j];
                }
                bsums[bsumOffset + b * 16 + g] = s;
            }
            d[dOffset + b] = 1 / iscale;
        }
    }

    /**
     * ggml's Q8_0 activation quantization as its x86 SIMD path computes it: per 32-element block d = absmax/127
     * stored as F16, q = round(x * 127/absmax) half to even. The scale kept is the F16-rounded d.
     */
    public static void quantizeQ8_0(float[] x, int offset, int n, byte[] q, int qOffset, float[] d, int dOffset) {
        for (int b = 0; b < n / 32; b++) {
            int base = offset + b * 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[base + j]));
            }
            float scale = amax / 127f;
            d[dOffset + b] = Float.float16ToFloat(Float.floatToFloat16(scale));
            float inverse = amax != 0 ? 127f / amax : 0f;
            for (int j = 0; j < 32; j++) {
                q[qOffset + b * 32 + j] = (byte) (int) Math.rint(x[base + j] * inverse);
            }
        }
    }
}
