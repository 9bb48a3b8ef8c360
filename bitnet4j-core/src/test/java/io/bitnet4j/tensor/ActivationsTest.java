package io.bitnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ActivationsTest {
    /** Kernels reuse tables derived from the rows while the generation stays the same, so it must move on every set. */
    @Test
    void generationChangesWheneverRowsAreSetAndDiffersBetweenInstances() {
        Activations a = new Activations(ActivationType.I8_TOKEN, 256, 2);
        Activations b = new Activations(ActivationType.I8_TOKEN, 256, 2);
        a.setTokens(1);
        long first = a.generation();
        a.setTokens(1);
        assertThat(a.generation()).isNotEqualTo(first);
        b.setTokens(1);
        assertThat(b.generation()).isNotEqualTo(a.generation());
    }
}
