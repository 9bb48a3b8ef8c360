package io.bitnet4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bitnet convert SOURCE ...}: turn another project's model files into GGUF. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a model from another format to GGUF.",
        subcommands = {ConvertLlama2cCommand.class, ConvertHfCommand.class})
final class ConvertCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "say what to convert from: llama2c or hf (try: bitnet convert --help)");
    }
}
