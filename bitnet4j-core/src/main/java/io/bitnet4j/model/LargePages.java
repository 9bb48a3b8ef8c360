package io.bitnet4j.model;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Native memory for a large copy made at load (the re-quantized output head), asked for in 2 MiB pages where Linux
 * allows (transparent huge pages in "madvise" mode, the common default): {@code madvise(MADV_HUGEPAGE)} through the
 * FFM linker. A 128256-row Q6_K head in 4 KiB pages generated 12.66 / 23.88 tok/s on 1 / 2 threads, in 2 MiB pages
 * 13.41-13.92 / 24.96-25.25 ({@code bench -m b2-i2s.gguf -p 0 -n 64 -t 1,2 -r 3 --head-type q6_k}, Intel Xeon,
 * 2026-11-27): fewer TLB misses while the head streams from memory. Only copies of at least {@link #MIN_BYTES} go
 * this way, since a copy's last huge page is filled whole (at most 2 MiB more resident memory per copy). Where
 * {@code madvise} is missing or refuses, the copy gets ordinary pages and one line in the log says so.
 */
final class LargePages {
    private static final System.Logger LOG = System.getLogger(LargePages.class.getName());
    private static final long HUGE_PAGE = 2L << 20;
    /** Copies below this size keep ordinary pages. */
    static final long MIN_BYTES = 64L << 20;
    private static final int MADV_HUGEPAGE = 14;
    private static final MethodHandle MADVISE = madvise();
    private static volatile boolean warned;

    private LargePages() {
    }

    private static MethodHandle madvise() {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return null;
        }
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("madvise").map(symbol -> linker.downcallHandle(symbol,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT))).orElse(null);
    }

    /** {@code bytes} of native memory from {@code arena}, 64-byte aligned, in huge pages where possible. */
    static MemorySegment allocate(Arena arena, long bytes) {
        if (bytes < MIN_BYTES || MADVISE == null) {
            return arena.allocate(bytes, 64);
        }
        long rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        MemorySegment segment = arena.allocate(rounded, HUGE_PAGE);
        int result;
        try {
            result = (int) MADVISE.invokeExact(segment, rounded, MADV_HUGEPAGE);
        } catch (Throwable e) {
            result = -1;
        }
        if (result != 0 && !warned) {
            warned = true;
            LOG.log(System.Logger.Level.INFO, "madvise(MADV_HUGEPAGE) refused; load-time copies use 4 KiB pages");
        }
        return segment.asSlice(0, bytes);
    }
}
