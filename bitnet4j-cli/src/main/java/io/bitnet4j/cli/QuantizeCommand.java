package io.bitnet4j.cli;

import io.bitnet4j.convert.OutputTypes;
import io.bitnet4j.convert.Requantizer;
import io.bitnet4j.gguf.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bitnet quantize IN OUT TYPE}: re-encode a GGUF's weight matrices, as llama-quantize does. */
@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Re-quantize a GGUF file's weight matrices to another type, as llama-quantize does.",
                "Norms and 1-D tensors are copied; token_embd and output keep their type unless told otherwise."})
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "GGUF file to read")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT", description = "GGUF file to write")
    Path output;

    @Parameters(index = "2", paramLabel = "TYPE", description = "i2_s, tq1_0, tq2_0, q8_0, f16 or f32")
    String type;

    @Option(names = "--embedding-type", paramLabel = "TYPE",
            description = "type of token_embd.weight: f32, f16 or q8_0 (default: keep)")
    String embeddingType;

    @Option(names = "--output-type", paramLabel = "TYPE",
            description = "type of output.weight: f32, f16 or q8_0 (default: keep)")
    String outputType;

    @Override
    public Integer call() {
        GgmlType target = OutputTypes.parse(type, "TYPE", OutputTypes.MODEL_TYPES);
        GgmlType embedding = embeddingType == null ? null
                : OutputTypes.parse(embeddingType, "--embedding-type", OutputTypes.EMBEDDING_TYPES);
        GgmlType head = outputType == null ? null
                : OutputTypes.parse(outputType, "--output-type", OutputTypes.EMBEDDING_TYPES);
        Requantizer.Result r = Requantizer.quantize(new Requantizer.Options(input, output, target, embedding, head));
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: %d tensors re-encoded, %d copied unchanged%n", output, r.converted(), r.copied());
        if (!r.notTernary().isEmpty()) {
            out.printf("warning: not ternary, so %s lost precision: %s%n", target, String.join(", ", r.notTernary()));
        }
        return 0;
    }
}
