package io.bitnet4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The pool runs every item exactly once, in contiguous blocks on grain boundaries, one block per thread. */
class WorkerPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void everyItemRunsExactlyOnceInContiguousBlocks(int threads) {
        try (WorkerPool pool = new WorkerPool(threads)) {
            for (int n : new int[] {1, 3, 4, 5, 17, 320, 1001}) {
                for (int grain : new int[] {1, 4}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(n);
                    AtomicIntegerArray worker = new AtomicIntegerArray(n);
                    pool.parallelFor(n, grain, (w, start, end) -> {
                        assertThat(start).isLessThan(end);
                        for (int i = start; i < end; i++) {
                            runs.incrementAndGet(i);
                            worker.set(i, w);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertThat(runs.get(i)).as("runs of item %d of %d (grain %d)", i, n, grain).isEqualTo(1);
                        if (i > 0 && worker.get(i) != worker.get(i - 1)) {
                            assertThat(worker.get(i)).as("blocks go to workers in order").isGreaterThan(worker.get(i - 1));
                            assertThat(i % grain).as("a block boundary on a grain multiple").isZero();
                        }
                        assertThat(worker.get(i)).isBetween(0, threads - 1);
                    }
                }
            }
        }
    }

    @Test
    void aFailureInAWorkerReachesTheCaller() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThatThrownBy(() -> pool.parallelFor(100, (w, start, end) -> {
                if (start > 0) {
                    throw new IllegalStateException("boom in block " + start);
                }
            })).isInstanceOf(IllegalStateException.class).hasMessage("boom in block 50");
            // and the pool still works afterwards
            AtomicIntegerArray runs = new AtomicIntegerArray(10);
            pool.parallelFor(10, (w, start, end) -> {
                for (int i = start; i < end; i++) {
                    runs.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 10; i++) {
                assertThat(runs.get(i)).isEqualTo(1);
            }
        }
    }

    @Test
    void rejectsZeroThreads() {
        assertThatThrownBy(() -> new WorkerPool(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
