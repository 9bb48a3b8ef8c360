package io.bitnet4j.cli;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufReadOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bitnet verify FILE}: is this file structurally sound and loadable as a model? */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check a GGUF file's structure; exit 0 if sound, else print one line per problem.")
final class VerifyCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF file")
    Path file;

    @Option(names = "--strict", description = "also require contiguous tensor packing, as mainline llama.cpp does")
    boolean strict;

    @Override
    public Integer call() {
        try (GgufFile gguf = GgufFile.open(file, new GgufReadOptions(strict, null))) {
            spec.commandLine().getOut().printf("%s: OK (GGUF v%d, %d tensors)%n", file, gguf.version(),
                    gguf.tensors().size());
        }
        return 0;
    }
}
