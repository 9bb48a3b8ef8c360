package io.bitnet4j.gguf;

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
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open GGUF file: header, metadata and tensor infos, validated against the file size, and the whole file mapped
 * once, read-only, into an {@link Arena}. Tensor data are zero-copy slices of that mapping. Closing the file unmaps
 * it; slices must not be used afterwards.
 */
public final class GgufFile implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GgufFile.class.getName());

    private final Path path;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final long dataStart;
    private final TypeDialect dialect;
    private final Arena arena;
    private final MemorySegment mapping;

    private GgufFile(Path path, GgufReader.Header header, Arena arena, MemorySegment mapping) {
        this.path = path;
        this.version = header.version();
        this.metadata = header.metadata();
        this.tensors = List.copyOf(header.tensors());
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensorsByName = Collections.unmodifiableMap(byName);
        this.alignment = header.alignment();
        this.dataStart = header.dataStart();
        this.dialect = header.dialect();
        this.arena = arena;
        this.mapping = mapping;
    }

    /** Opens and validates a GGUF file with the default options. */
    public static GgufFile open(Path path) {
        return open(path, GgufReadOptions.DEFAULT);
    }

    public static GgufFile open(Path path, GgufReadOptions options) {
        String name = path.toString();
        if (Files.isDirectory(path)) {
            throw BitnetException.invalidFile(name + ": is a directory, not a GGUF file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            GgufReader.Header header = new GgufReader(name, mapping, options).read();
            dropHeaderPages(mapping, header.dataStart());
            GgufFile file = new GgufFile(path, header, arena, mapping);
            file.logDialectIfRelevant();
            return file;
        } catch (NoSuchFileException e) {
            arena.close();
            throw BitnetException.invalidFile(name + ": file not found");
        } catch (AccessDeniedException e) {
            arena.close();
            throw BitnetException.invalidFile(name + ": permission denied");
        } catch (IOException e) {
            arena.close();
            throw BitnetException.io(name + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Gives back the pages that held the header: it has been copied to the heap and is not read again, and a Llama-3
     * vocabulary makes it 7.5 MB that would otherwise stay resident for as long as the file is open (llama.cpp reads
     * the header with plain reads, so the reference's peak RSS holds no such pages either). The page that the tensor
     * data shares with the header's end comes back on its first read.
     */
    private static void dropHeaderPages(MemorySegment mapping, long dataStart) {
        if (dataStart > 0 && mapping.isMapped()) {
            mapping.asSlice(0, dataStart).unload();
        }
    }

    private void logDialectIfRelevant() {
        boolean usesAmbiguousIds = tensors.stream().anyMatch(t -> t.type().id() >= 36 && t.type().id() <= 39);
        if (usesAmbiguousIds) {
            LOG.log(System.Logger.Level.INFO, "{0}: type ids 36-39 read as {1}", path.getFileName(),
                    dialect == TypeDialect.BITNET_CPP ? "bitnet.cpp's I2_S/I8_S/TL1/TL2" : "mainline llama.cpp's types");
        }
    }

    public Path path() {
        return path;
    }

    /** The file name, for messages. */
    public String name() {
        return path.toString();
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensor infos in header order. */
    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public Optional<GgufTensorInfo> tensorInfo(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset where the data section starts. */
    public long dataStart() {
        return dataStart;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    public TypeDialect dialect() {
        return dialect;
    }

    /** The architecture string, if the file has one. */
    public Optional<String> architecture() {
        return metadata.optionalString("general.architecture");
    }

    /** The bytes of one tensor, a read-only slice of the mapping (no copy). */
    public MemorySegment tensorData(GgufTensorInfo info) {
        if (tensorsByName.get(info.name()) != info) {
            throw new IllegalArgumentException("tensor " + info.name() + " does not belong to " + path);
        }
        return mapping.asSlice(dataStart + info.offset(), info.byteSize());
    }

    /** Tensor infos ordered by offset, for layout checks and tools. */
    public List<GgufTensorInfo> tensorsByOffset() {
        List<GgufTensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        return sorted;
    }

    @Override
    public void close() {
        arena.close();
    }
}
