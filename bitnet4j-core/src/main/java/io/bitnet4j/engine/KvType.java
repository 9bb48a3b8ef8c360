package io.bitnet4j.engine;

/** Element type of the key/value cache: F16 as llama.cpp's default, or F32. */
public enum KvType {
    F16, F32
}
