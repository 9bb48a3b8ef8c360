package io.bitnet4j.model;

import io.bitnet4j.BitnetException;
import java.util.Arrays;
import java.util.List;

/**
 * The model graphs bitnet4j runs (spec §3). They share one forward pass; these are its switches.
 */
public enum Architecture {
    /** BitNet b1.58 2B-4T: sub-norms, squared-ReLU gated FFN, NEOX RoPE, head tied to the token embedding. */
    BITNET_B158(List.of("bitnet-b1.58", "bitnet-25"), true, Activation.RELU_SQUARED, RopeStyle.NEOX, HeadSource.EMBEDDING_ALWAYS),
    /** 1bitLLM bitnet_b1_58 models: sub-norms, SiLU gated FFN, NEOX RoPE, optional per-projection scales. */
    BITNET(List.of("bitnet"), true, Activation.SILU, RopeStyle.NEOX, HeadSource.EMBEDDING_ALWAYS),
    /** Plain llama graph with any weight type (Llama3-8B-1.58, Falcon3 1.58-bit, float llama models). */
    LLAMA(List.of("llama"), false, Activation.SILU, RopeStyle.NORM, HeadSource.OUTPUT_IF_PRESENT);

    /** The gate nonlinearity of the FFN: {@code act(gate) * up}. */
    public enum Activation {
        SILU, RELU_SQUARED
    }

    /** Which dimensions RoPE rotates together: NEOX pairs i and i+n/2, NORM pairs 2i and 2i+1. */
    public enum RopeStyle {
        NEOX, NORM
    }

    /** Where the output head comes from. */
    public enum HeadSource {
        /** The token embedding, even if an {@code output.weight} exists (bitnet.cpp's graphs never read it). */
        EMBEDDING_ALWAYS,
        /** {@code output.weight} if present, else the token embedding. */
        OUTPUT_IF_PRESENT
    }

    private final List<String> names;
    private final boolean subNorms;
    private final Activation defaultActivation;
    private final RopeStyle ropeStyle;
    private final HeadSource headSource;

    Architecture(List<String> names, boolean subNorms, Activation defaultActivation, RopeStyle ropeStyle,
                 HeadSource headSource) {
        this.names = names;
        this.subNorms = subNorms;
        this.defaultActivation = defaultActivation;
        this.ropeStyle = ropeStyle;
        this.headSource = headSource;
    }

    /** The architecture for a {@code general.architecture} string, or an error listing the supported ones. */
    public static Architecture fromName(String name, String source) {
        for (Architecture a : values()) {
            if (a.names.contains(name)) {
                return a;
            }
        }
        throw BitnetException.invalidModel(source + ": unknown model architecture '" + name + "' (supported: "
                + String.join(", ", Arrays.stream(values()).flatMap(a -> a.names.stream()).toList()) + ")");
    }

    public List<String> names() {
        return names;
    }

    /** Whether attention output and FFN hidden state get their own RMSNorm before the projection. */
    public boolean hasSubNorms() {
        return subNorms;
    }

    public Activation defaultActivation() {
        return defaultActivation;
    }

    public RopeStyle ropeStyle() {
        return ropeStyle;
    }

    public HeadSource headSource() {
        return headSource;
    }

    /** Whether {@code blk.N.*.scale} scalars may follow each projection (mainline's {@code bitnet} graph). */
    public boolean hasProjectionScales() {
        return this == BITNET;
    }
}
