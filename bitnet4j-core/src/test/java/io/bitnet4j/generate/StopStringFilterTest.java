package io.bitnet4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Holding back text that may still become a stop string, and cutting at the first one that appears. */
class StopStringFilterTest {
    private final List<String> out = new ArrayList<>();

    private StopStringFilter filter(String... stops) {
        return new StopStringFilter(List.of(stops), out::add);
    }

    @Test
    void withoutStopStringsEverythingPassesAtOnce() {
        StopStringFilter f = filter();
        assertThat(f.accept("a")).isFalse();
        assertThat(f.accept("bc")).isFalse();
        assertThat(out).containsExactly("a", "bc");
    }

    @Test
    void aStopStringInsideOnePieceCutsIt() {
        StopStringFilter f = filter("STOP");
        assertThat(f.accept("hello STOP world")).isTrue();
        assertThat(out).containsExactly("hello ");
        assertThat(f.text()).isEqualTo("hello ");
    }

    @Test
    void aPrefixIsHeldUntilItCompletesOrFails() {
        StopStringFilter f = filter("STOP");
        assertThat(f.accept("xS")).isFalse();
        assertThat(f.accept("T")).isFalse();
        assertThat(f.accept("O")).isFalse();
        assertThat(out).containsExactly("x");
        assertThat(f.accept("x")).isFalse();
        assertThat(out).containsExactly("x", "STOx");
    }

    @Test
    void theLongestPossiblePrefixIsHeld() {
        // "aab": after "aaa" only the tail "aa" can still start it
        StopStringFilter f = filter("aab");
        f.accept("a");
        f.accept("a");
        f.accept("a");
        assertThat(out).containsExactly("a");
        assertThat(f.accept("b")).isTrue();
        assertThat(f.text()).isEqualTo("a");
    }

    @Test
    void theEarliestStopStringWins() {
        StopStringFilter f = filter("bc", "abcd");
        assertThat(f.accept("xabcd")).isTrue();
        assertThat(f.text()).isEqualTo("x");
    }

    @Test
    void finishPassesOnWhatIsHeld() {
        StopStringFilter f = filter("world!");
        f.accept("hello wor");
        assertThat(out).containsExactly("hello ");
        f.finish();
        assertThat(out).containsExactly("hello ", "wor");
        assertThat(f.text()).isEqualTo("hello wor");
    }

    @Test
    void emptyPiecesChangeNothing() {
        StopStringFilter f = filter("ab");
        assertThat(f.accept("")).isFalse();
        assertThat(out).isEmpty();
    }
}
