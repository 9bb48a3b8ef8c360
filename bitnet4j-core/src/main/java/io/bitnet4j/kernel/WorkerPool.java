package io.bitnet4j.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One persistent pool of worker threads that splits a range of work items (output rows, heads) into contiguous
 * blocks, one per thread, the calling thread taking the first. Dispatch allocates nothing; workers spin briefly
 * between dispatches (a forward pass dispatches hundreds of times per token) and then park.
 *
 * <p>Every item is computed by exactly one thread with the same code whatever the thread count, so results do not
 * depend on the number of threads.
 */
public final class WorkerPool implements AutoCloseable {
    /**
     * A block of work items {@code [start, end)}, run by worker {@code worker} (0 = the calling thread, up to
     * threads-1), so a task can keep per-worker scratch space.
     */
    @FunctionalInterface
    public interface RangeTask {
        void run(int worker, int start, int end);
    }

    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile RangeTask task;
    private volatile int items;
    private volatile int granularity;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile Thread caller;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            Thread t = new Thread(() -> workerLoop(index), "bitnet-worker-" + index);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task} over {@code [0, n)} split into contiguous blocks, one per thread. */
    public void parallelFor(int n, RangeTask task) {
        parallelFor(n, 1, task);
    }

    /**
     * Like {@link #parallelFor(int, RangeTask)}, with block boundaries on multiples of {@code grain} (so a kernel
     * that handles several rows at a time gets whole groups, except the last block).
     */
    public synchronized void parallelFor(int n, int grain, RangeTask task) {
        if (n <= 0) {
            return;
        }
        if (threads == 1 || n <= grain) {
            task.run(0, 0, n);
            return;
        }
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        this.task = task;
        this.items = n;
        this.granularity = grain;
        this.failure = null;
        this.caller = Thread.currentThread();
        pending.set(workers.length);
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        runBlock(0, task, n, grain);
        awaitWorkers();
        this.task = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(f);
        }
    }

    private void runBlock(int index, RangeTask t, int n, int grain) {
        int groups = (n + grain - 1) / grain;
        int startGroup = (int) ((long) groups * index / threads);
        int endGroup = (int) ((long) groups * (index + 1) / threads);
        int start = Math.min(n, startGroup * grain);
        int end = Math.min(n, endGroup * grain);
        if (start < end) {
            t.run(index, start, end);
        }
    }

    private void awaitWorkers() {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (pending.get() != 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 50_000);
            }
        }
    }

    private void workerLoop(int index) {
        long seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            try {
                runBlock(index, task, items, granularity);
            } catch (Throwable t) {
                failure = t;
            } finally {
                if (pending.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
