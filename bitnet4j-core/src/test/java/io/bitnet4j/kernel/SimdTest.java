package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kernel switches read from system properties: a value that is neither true nor false keeps the default. */
class SimdTest {
    private static final String NAME = "bitnet.test.switch";

    @AfterEach
    void clear() {
        System.clearProperty(NAME);
    }

    @Test
    void unsetOrUnreadableSwitchKeepsItsDefault() {
        assertThat(Simd.booleanProperty(NAME, true)).isTrue();
        assertThat(Simd.booleanProperty(NAME, false)).isFalse();
        System.setProperty(NAME, "maybe");
        assertThat(Simd.booleanProperty(NAME, true)).isTrue();
        assertThat(Simd.booleanProperty(NAME, false)).isFalse();
    }

    @Test
    void trueAndFalseAreReadWhateverTheirCase() {
        System.setProperty(NAME, " FALSE ");
        assertThat(Simd.booleanProperty(NAME, true)).isFalse();
        System.setProperty(NAME, "True");
        assertThat(Simd.booleanProperty(NAME, false)).isTrue();
    }
}
