package io.bitnet4j.tensor;

import io.bitnet4j.gguf.GgmlType;

/** IEEE binary16. The activations are rounded to F16 before the product (spec §6.4), the products summed in double. */
public final class F16Format extends SixteenBitFloatFormat {
    public static final F16Format INSTANCE = new F16Format();

    private F16Format() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public ActivationType activationType() {
        return ActivationType.F16;
    }

    @Override
    float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    @Override
    short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }
}
