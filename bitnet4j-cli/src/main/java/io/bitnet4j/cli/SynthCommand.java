package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import io.bitnet4j.convert.SyntheticModel;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet synth}: write a synthetic model of a named shape, for tests and benchmarks. */
@Command(name = "synth", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a synthetic BitNet b1.58 model (random ternary weights) of a named shape.")
final class SynthCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", paramLabel = "NAME", defaultValue = "2b-4t",
            description = "2b-4t (BitNet b1.58 2B-4T exactly) or tiny (default: ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--tiny", description = "same as --shape tiny")
    boolean tiny;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "i2_s",
            description = "projection weights: i2_s, tq2_0, tq1_0, f16, f32 (default: ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--embedding-type", paramLabel = "TYPE", defaultValue = "f16",
            description = "tied token embedding: f16 or f32 (default: ${DEFAULT-VALUE})")
    String embeddingType;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", defaultValue = "1234", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--vocab-from", paramLabel = "FILE", description = "copy the tokenizer from this GGUF "
            + "(its vocabulary size must match the shape) instead of generating one")
    Path vocabFrom;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "output GGUF")
    Path output;

    @Override
    public Integer call() {
        SyntheticModel.Shape s = SyntheticModel.Shape.forName(tiny ? "tiny" : shape);
        GgufMetadata vocab = null;
        if (vocabFrom != null) {
            try (GgufFile f = GgufFile.open(vocabFrom)) {
                vocab = f.metadata();
            }
        }
        SyntheticModel model = new SyntheticModel(s, parseType(type, "--type"), parseType(embeddingType,
                "--embedding-type"), seed, vocab);
        PrintWriter err = spec.commandLine().getErr();
        long total = model.tensorBytes();
        long start = System.nanoTime();
        int[] lastPercent = {-1};
        boolean console = System.console() != null;
        model.write(output, bytes -> {
            int percent = (int) (bytes * 100 / total);
            if (percent != lastPercent[0] && (console || percent % 10 == 0)) {
                lastPercent[0] = percent;
                int bars = percent / 4;
                err.printf(Locale.ROOT, "%ssynth: [%s%s] %3d%% %,d / %,d MB", console ? "\r" : "",
                        "#".repeat(bars), ".".repeat(25 - bars), percent, bytes >> 20, total >> 20);
                if (!console) {
                    err.println();
                }
                err.flush();
            }
        });
        if (console) {
            err.println();
        }
        err.printf(Locale.ROOT, "synth: wrote %s (%s, %s, %,d bytes of tensors) in %.1f s%n", output, s.name(),
                type.toLowerCase(Locale.ROOT), total, (System.nanoTime() - start) / 1e9);
        err.flush();
        return 0;
    }

    static GgmlType parseType(String name, String flag) {
        try {
            return GgmlType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw BitnetException.usage(flag + ": unknown type '" + name + "'");
        }
    }
}
