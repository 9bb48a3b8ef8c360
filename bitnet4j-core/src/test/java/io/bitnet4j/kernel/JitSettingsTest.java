package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The build runs the tests with the launcher's JIT settings, so the check that warns about them finds none missing. */
class JitSettingsTest {

    @Test
    void theBuildPassesEveryJitSettingTheKernelsAskFor() {
        assertThat(KernelSelector.missingJitSettings()).isEmpty();
    }
}
