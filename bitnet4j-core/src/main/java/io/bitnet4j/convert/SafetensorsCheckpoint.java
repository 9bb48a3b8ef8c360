package io.bitnet4j.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.bitnet4j.BitnetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The weights of a Hugging Face model directory: {@code model.safetensors}, or the shards that
 * {@code model.safetensors.index.json} lists in its {@code weight_map}. Tensor names are unique across shards and
 * every name the index lists must be in the shard it names.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    static final String SINGLE_FILE = "model.safetensors";
    static final String INDEX_FILE = "model.safetensors.index.json";

    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsCheckpoint(List<SafetensorsFile> files, Map<String, SafetensorsTensor> tensors) {
        this.files = files;
        this.tensors = tensors;
    }

    public static SafetensorsCheckpoint open(Path dir) {
        Path single = dir.resolve(SINGLE_FILE);
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            return new SafetensorsCheckpoint(List.of(file), file.tensors());
        }
        if (Files.isRegularFile(index)) {
            return openSharded(dir, index);
        }
        throw BitnetException.invalidFile(dir + ": neither " + SINGLE_FILE + " nor " + INDEX_FILE + " is there");
    }

    private static SafetensorsCheckpoint openSharded(Path dir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        try {
            for (String shard : new TreeSet<>(weightMap.values())) {
                Path shardPath = dir.resolve(shard).normalize();
                if (!shardPath.startsWith(dir.normalize()) || shardPath.equals(dir.normalize())) {
                    throw BitnetException.invalidFile(index + ": shard '" + shard + "' is not a file in " + dir);
                }
                SafetensorsFile file = SafetensorsFile.open(shardPath);
                files.add(file);
                for (SafetensorsTensor t : file.tensors().values()) {
                    SafetensorsTensor previous = tensors.putIfAbsent(t.name(), t);
                    if (previous != null) {
                        throw BitnetException.invalidFile(dir + ": tensor '" + t.name() + "' is in both "
                                + previous.file().getFileName() + " and " + shard);
                    }
                }
            }
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsTensor t = tensors.get(e.getKey());
                if (t == null || !t.file().equals(dir.resolve(e.getValue()).normalize())) {
                    throw BitnetException.invalidFile(index + ": tensor '" + e.getKey() + "' is not in "
                            + e.getValue() + " as the index says");
                }
            }
            return new SafetensorsCheckpoint(List.copyOf(files), Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(Files.readAllBytes(index));
        } catch (NoSuchFileException e) {
            throw BitnetException.invalidFile(index + ": file not found");
        } catch (IOException e) {
            throw BitnetException.invalidFile(index + ": not valid JSON: " + e.getMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw BitnetException.invalidFile(index + ": no weight_map object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw BitnetException.invalidFile(index + ": weight_map entry '" + e.getKey()
                        + "' is not a file name");
            }
            weightMap.put(e.getKey(), e.getValue().asText());
        }
        return weightMap;
    }

    /** Every tensor, by name (shards in file-name order, each in header order). */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
