package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An input file mapped read-only as a whole; closing it unmaps it, so slices must not outlive it. */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment bytes;

    private MappedFile(Path path, Arena arena, MemorySegment bytes) {
        this.path = path;
        this.arena = arena;
        this.bytes = bytes;
    }

    /** Maps {@code path}; a missing, unreadable or non-regular file is one error naming it. */
    static MappedFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw BitnetException.invalidFile(path + ": is a directory, expected a file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return new MappedFile(path, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena));
        } catch (NoSuchFileException e) {
            arena.close();
            throw BitnetException.invalidFile(path + ": file not found");
        } catch (AccessDeniedException e) {
            arena.close();
            throw BitnetException.invalidFile(path + ": permission denied");
        } catch (IOException e) {
            arena.close();
            throw BitnetException.io(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    MemorySegment bytes() {
        return bytes;
    }

    long size() {
        return bytes.byteSize();
    }

    @Override
    public void close() {
        arena.close();
    }
}
