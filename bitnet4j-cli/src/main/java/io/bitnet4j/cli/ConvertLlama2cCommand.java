package io.bitnet4j.cli;

import io.bitnet4j.convert.Llama2cImporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet convert llama2c}: a llama2.c checkpoint and tokenizer to an F32 llama GGUF, as llama.cpp does. */
@Command(name = "llama2c", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Convert a llama2.c checkpoint (legacy format) and its tokenizer.bin to an F32 GGUF of "
                + "architecture llama, as llama.cpp's llama-convert-llama2c-to-ggml does.")
final class ConvertLlama2cCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "llama2.c checkpoint (.bin)")
    Path checkpoint;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "llama2.c tokenizer (tokenizer.bin, tok512.bin)")
    Path tokenizer;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "GGUF file to write")
    Path output;

    @Option(names = "--context", paramLabel = "N", description = "context length to record (default: the "
            + "checkpoint's seq_len)")
    int context;

    @Override
    public Integer call() {
        Llama2cImporter.Result r = Llama2cImporter.convert(
                new Llama2cImporter.Options(checkpoint, tokenizer, output, context));
        spec.commandLine().getOut().printf("wrote %s: llama, F32, %d tensors, %s, context %d%n", output,
                r.tensors(), r.header(), r.contextLength());
        return 0;
    }
}
