package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;

/**
 * bfloat16: the top half of an IEEE binary32. The activations are rounded to BF16 ({@code vec_dot_type} of BF16)
 * and the products summed in double ({@code ggml_vec_dot_bf16}).
 */
public final class BF16Format extends SixteenBitFloatFormat {
    public static final BF16Format INSTANCE = new BF16Format();

    private BF16Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.BF16;
    }

    @Override
    float toFloat(short bits) {
        return Bf16.toFloat(bits);
    }

    /** Nearest BF16, ties to even, NaN kept quiet (ggml's {@code GGML_FP32_TO_BF16}). */
    @Override
    short fromFloat(float value) {
        return Bf16.fromFloat(value);
    }
}
