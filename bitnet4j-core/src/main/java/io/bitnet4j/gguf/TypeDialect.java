package io.bitnet4j.gguf;

/**
 * How to read the ggml type ids 36–39, which bitnet.cpp and mainline llama.cpp assign differently (spec §2.1).
 */
public enum TypeDialect {
    /** bitnet.cpp's fork: 36 = I2_S, 37 = I8_S, 38 = TL1, 39 = TL2. */
    BITNET_CPP,
    /** mainline llama.cpp / ggml: 36–38 removed, 39 = MXFP4. */
    MAINLINE;

    /**
     * The rule of spec §2.1: bitnet.cpp's meaning when the architecture is one of bitnet.cpp's or the file type is
     * one of its (TL1 = 38, TL2 = 39, I2_S = 40), mainline's otherwise.
     */
    public static TypeDialect detect(String architecture, long fileType) {
        if ("bitnet-b1.58".equals(architecture) || "bitnet-25".equals(architecture) || "bitnet".equals(architecture)) {
            return BITNET_CPP;
        }
        if (fileType == 38 || fileType == 39 || fileType == 40) {
            return BITNET_CPP;
        }
        return MAINLINE;
    }
}
