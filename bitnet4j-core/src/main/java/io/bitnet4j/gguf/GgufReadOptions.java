package io.bitnet4j.gguf;

/**
 * How strictly to read a GGUF file.
 *
 * @param strictPacking also require mainline llama.cpp's rule that tensors are packed contiguously in header
 *                      order (spec §1.2 item 11); bitnet.cpp's TL1/TL2 files break it on purpose
 * @param dialect       how to read type ids 36–39, or null to decide from the metadata (spec §2.1)
 */
public record GgufReadOptions(boolean strictPacking, TypeDialect dialect) {
    public static final GgufReadOptions DEFAULT = new GgufReadOptions(false, null);
}
