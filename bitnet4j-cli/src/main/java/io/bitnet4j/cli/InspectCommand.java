package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufReadOptions;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.TypeDialect;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bitnet inspect FILE}: what a GGUF file holds, from its header alone. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's architecture, hyperparameters, tokenizer and tensor table.")
final class InspectCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF file")
    Path file;

    @Option(names = "--json", description = "print JSON instead of text")
    boolean json;

    @Option(names = "--strict", description = "also require contiguous tensor packing, as mainline llama.cpp does")
    boolean strict;

    @Option(names = "--dialect", description = "how to read type ids 36-39: ${COMPLETION-CANDIDATES} (default: from the metadata)")
    TypeDialect dialect;

    @Option(names = "--all-metadata", description = "print every metadata value in full (arrays abbreviated otherwise)")
    boolean allMetadata;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile gguf = GgufFile.open(file, new GgufReadOptions(strict, dialect))) {
            if (json) {
                ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                out.println(mapper.writeValueAsString(toJson(mapper, gguf)));
            } else {
                printText(out, gguf);
            }
        }
        out.flush();
        return 0;
    }

    private void printText(PrintWriter out, GgufFile gguf) {
        GgufMetadata md = gguf.metadata();
        String arch = gguf.architecture().orElse("(none)");
        out.printf("file:          %s%n", gguf.path());
        out.printf("format:        GGUF v%d, %s bytes, alignment %d, data at %d, type ids 36-39: %s%n",
                gguf.version(), group(gguf.fileSize()), gguf.alignment(), gguf.dataStart(),
                gguf.dialect() == TypeDialect.BITNET_CPP ? "bitnet.cpp" : "mainline");
        out.printf("architecture:  %s%n", arch);
        md.optionalString("general.name").ifPresent(n -> out.printf("name:          %s%n", n));
        long params = 0;
        for (GgufTensorInfo t : gguf.tensors()) {
            params += t.elementCount();
        }
        out.printf("tensors:       %d, %s parameters, %s bytes of data%n", gguf.tensors().size(), group(params),
                group(gguf.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum()));

        out.println();
        out.println("hyperparameters:");
        String prefix = arch + ".";
        for (Map.Entry<String, GgufValue> e : md.asMap().entrySet()) {
            if (e.getKey().startsWith(prefix) || (e.getKey().startsWith("general.") && !e.getKey().equals("general.name")
                    && !e.getKey().equals("general.architecture"))) {
                out.printf("  %-44s %s%n", e.getKey(), e.getValue().describe());
            }
        }

        out.println();
        out.println("tokenizer:");
        printTokenizerSummary(out, md);

        if (allMetadata) {
            out.println();
            out.println("metadata:");
            for (Map.Entry<String, GgufValue> e : md.asMap().entrySet()) {
                out.printf("  %-44s %s%n", e.getKey(), e.getValue().describe());
            }
        }

        out.println();
        out.printf("%-5s %-40s %-6s %-22s %14s %14s%n", "#", "tensor", "type", "shape", "bytes", "offset");
        for (GgufTensorInfo t : gguf.tensors()) {
            out.printf("%-5d %-40s %-6s %-22s %14d %14d%n", t.index(), t.name(), t.type(), t.shapeString(),
                    t.byteSize(), t.offset());
        }
    }

    private static void printTokenizerSummary(PrintWriter out, GgufMetadata md) {
        if (!md.contains("tokenizer.ggml.model")) {
            out.println("  (none)");
            return;
        }
        out.printf("  %-44s %s%n", "model", md.optionalString("tokenizer.ggml.model").orElse("?"));
        md.optionalString("tokenizer.ggml.pre").ifPresentOrElse(
                p -> out.printf("  %-44s %s%n", "pre-tokenizer", p),
                () -> out.printf("  %-44s %s%n", "pre-tokenizer", "(absent)"));
        List<String> tokens = md.optionalStringArray("tokenizer.ggml.tokens").orElse(List.of());
        out.printf("  %-44s %d%n", "tokens", tokens.size());
        md.get("tokenizer.ggml.merges").ifPresent(m -> out.printf("  %-44s %s%n", "merges", m.describe()));
        for (String key : List.of("bos_token_id", "eos_token_id", "eot_token_id", "unknown_token_id",
                "padding_token_id")) {
            md.get("tokenizer.ggml." + key).ifPresent(v -> {
                String text = "";
                if (v instanceof GgufValue.IntValue i && i.value() >= 0 && i.value() < tokens.size()) {
                    text = " " + tokens.get((int) i.value());
                }
                out.printf("  %-44s %s%s%n", key, v.describe(), text);
            });
        }
        for (String key : List.of("add_bos_token", "add_eos_token", "add_space_prefix")) {
            md.get("tokenizer.ggml." + key).ifPresent(v -> out.printf("  %-44s %s%n", key, v.describe()));
        }
        md.optionalString("tokenizer.chat_template").ifPresent(t ->
                out.printf("  %-44s %d characters%n", "chat_template", t.length()));
    }

    private static ObjectNode toJson(ObjectMapper mapper, GgufFile gguf) {
        ObjectNode root = mapper.createObjectNode();
        root.put("file", gguf.path().toString());
        root.put("version", gguf.version());
        root.put("file_size", gguf.fileSize());
        root.put("alignment", gguf.alignment());
        root.put("data_offset", gguf.dataStart());
        root.put("type_dialect", gguf.dialect().name().toLowerCase(Locale.ROOT));
        root.put("architecture", gguf.architecture().orElse(null));
        ObjectNode metadata = root.putObject("metadata");
        for (Map.Entry<String, GgufValue> e : gguf.metadata().asMap().entrySet()) {
            GgufValue v = e.getValue();
            switch (v) {
                case GgufValue.IntValue i -> {
                    if (i.type() == io.bitnet4j.gguf.GgufValueType.UINT64 && i.value() < 0) {
                        metadata.put(e.getKey(), new java.math.BigInteger(Long.toUnsignedString(i.value())));
                    } else {
                        metadata.put(e.getKey(), i.value());
                    }
                }
                case GgufValue.FloatValue f -> metadata.put(e.getKey(), f.value());
                case GgufValue.BoolValue b -> metadata.put(e.getKey(), b.value());
                case GgufValue.StringValue s -> metadata.put(e.getKey(), s.value());
                case GgufValue.ArrayValue a -> {
                    ObjectNode arr = metadata.putObject(e.getKey());
                    arr.put("type", "array");
                    arr.put("element_type", a.elementType().displayName());
                    arr.put("length", a.size());
                }
            }
        }
        ArrayNode tensors = root.putArray("tensors");
        for (GgufTensorInfo t : gguf.tensors()) {
            ObjectNode n = tensors.addObject();
            n.put("name", t.name());
            n.put("type", t.type().name());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            n.put("bytes", t.byteSize());
            n.put("offset", t.offset());
        }
        return root;
    }

    private static String group(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
