package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's help renders cleanly: picocli formats option descriptions, and a stray '%' breaks them. */
class CliHelpTest {
    @Test
    void everyCommandsHelpRendersWithoutWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Map<String, CommandLine> commands = new CommandLine(new Main()).getSubcommands();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            for (CommandLine command : commands.values()) {
                String help = command.getUsageMessage(CommandLine.Help.Ansi.OFF);
                assertThat(help).as(command.getCommandName()).contains("Usage: bitnet " + command.getCommandName());
                for (CommandLine sub : command.getSubcommands().values()) {
                    sub.getUsageMessage(CommandLine.Help.Ansi.OFF);
                }
            }
        } finally {
            System.setErr(saved);
        }
        assertThat(commands).containsKeys("run", "chat", "bench", "convert", "quantize");
        assertThat(captured.toString(StandardCharsets.UTF_8)).as("picocli warnings").isEmpty();
    }
}
