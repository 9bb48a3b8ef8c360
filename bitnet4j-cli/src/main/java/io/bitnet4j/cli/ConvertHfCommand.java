package io.bitnet4j.cli;

import io.bitnet4j.convert.HfImporter;
import io.bitnet4j.convert.OutputTypes;
import io.bitnet4j.gguf.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet convert hf}: a Hugging Face BitNet (or Llama) directory to GGUF, ternarized and quantized. */
@Command(name = "hf", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert a Hugging Face model directory (config.json + model.safetensors or its shards) of a "
                + "BitNetForCausalLM or LlamaForCausalLM to GGUF.",
                "Projections that are not ternary already are ternarized with BitNet's absmean rule; norms stay F32."})
final class ConvertHfCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "GGUF file to write")
    Path output;

    @Option(names = "--vocab-from", paramLabel = "FILE",
            description = "GGUF whose tokenizer.* metadata to copy (its vocabulary size must be the model's); "
                    + "without it the file has no tokenizer")
    Path vocabFrom;

    @Option(names = "--outtype", paramLabel = "TYPE", defaultValue = "i2_s",
            description = "type of the projection weights: f32, f16, i2_s, tq2_0 or tq1_0 (default: ${DEFAULT-VALUE})")
    String outType;

    @Option(names = "--embedding-type", paramLabel = "TYPE",
            description = "type of the token embedding (and an untied output head): f32, f16 or q8_0 (default: f32 "
                    + "with --outtype f32, else f16 as in the released 2B-4T file)")
    String embeddingType;

    @Option(names = "--name", paramLabel = "NAME", description = "general.name (default: the directory's name)")
    String name;

    @Override
    public Integer call() {
        GgmlType type = OutputTypes.parse(outType, "--outtype", HfImporter.OUT_TYPES);
        GgmlType embedding = embeddingType == null ? null
                : OutputTypes.parse(embeddingType, "--embedding-type", OutputTypes.EMBEDDING_TYPES);
        HfImporter.Result r = HfImporter.convert(new HfImporter.Options(model, output, vocabFrom, type, embedding,
                name));
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "wrote %s: %s (%s), %d tensors, projections %s, embedding %s, %s%n", output,
                r.config().ggufArchitecture(), r.config().architectureClass(), r.tensors(), type, r.embeddingType(),
                r.hasTokenizer() ? "tokenizer from " + vocabFrom : "no tokenizer");
        out.printf(Locale.ROOT, "ternarized (absmean): %d of %d projections%s%n", r.ternarized().size(),
                r.projections(), r.ternarized().isEmpty() ? " (all were ternary already)" : "");
        return 0;
    }
}
