package io.bitnet4j.kernel;

/**
 * Floating-point building blocks in the exact order ggml's x86-64 AVX-512 code evaluates them, so that our sums
 * round the same way as the reference's. ggml works on 16 float lanes: lane {@code l} accumulates elements
 * {@code l, l+16, l+32, ...} with fused multiply-adds, and the 16 lanes are then summed by a fixed halving tree
 * ({@code _mm512_reduce_add_ps}).
 */
public final class GgmlMath {
    /** Lanes of a 512-bit float vector, the width ggml's reference build sums with. */
    public static final int LANES = 16;

    private GgmlMath() {
    }

    /**
     * The sum of 16 lanes as {@code _mm512_reduce_add_ps} computes it: lanes i and i+8 first, then i and i+4,
     * then i and i+2, then the last two.
     */
    public static float reduceLanes(float[] lanes) {
        float a0 = lanes[0] + lanes[8];
        float a1 = lanes[1] + lanes[9];
        float a2 = lanes[2] + lanes[10];
        float a3 = lanes[3] + lanes[11];
        float a4 = lanes[4] + lanes[12];
        float a5 = lanes[5] + lanes[13];
        float a6 = lanes[6] + lanes[14];
        float a7 = lanes[7] + lanes[15];
        float b0 = a0 + a4;
        float b1 = a1 + a5;
        float b2 = a2 + a6;
        float b3 = a3 + a7;
        float c0 = b0 + b2;
        float c1 = b1 + b3;
        return c0 + c1;
    }

    /**
     * ggml's vectorized {@code expf} ({@code ggml_v_expf}, after ARM's optimized routine; at most 1.5 ulp from
     * the true value): range reduction by {@code n = round(x/ln2)}, a degree-5 polynomial, then scaling by 2^n.
     * Inputs above 88.38 give infinity, below -103.97 zero.
     */
    public static float expf(float x) {
        final float shifter = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, shifter);
        float n = z - shifter;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        if (Math.abs(n) > 192) {
            return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
        }
        float u = b * b;
        float j = Math.fma(
                Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                u,
                Math.fma(0x1.ffffecp-1f, b, 1.0f));
        return Math.scalb(j, (int) n);
    }

    /** ggml's vectorized SiLU: {@code x / (1 + expf(-x))} with {@link #expf}. */
    public static float silu(float x) {
        return x / (1.0f + expf(0f - x));
    }

    /** ggml's scalar SiLU for the elements after the last full group of 16: libm's expf. */
    public static float siluTail(float x) {
        return x / (1.0f + (float) Math.exp(-x));
    }
}
