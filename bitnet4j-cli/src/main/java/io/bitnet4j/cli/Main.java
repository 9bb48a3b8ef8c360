package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bitnet} command: one subcommand per task, flags in llama.cpp's conventions. */
@Command(name = "bitnet",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Run BitNet b1.58 (ternary) language models on the CPU.",
        subcommands = {
                RunCommand.class,
                ChatCommand.class,
                PerplexityCommand.class,
                CrossvalCommand.class,
                SynthCommand.class,
                BenchCommand.class,
                InspectCommand.class,
                VerifyCommand.class,
                TokenizeCommand.class,
                DetokenizeCommand.class,
                ConvertCommand.class,
                QuantizeCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (try: bitnet help)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (used in-process by tests). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Logging.configure();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("bitnet: error: " + describe(ex));
            commandLine.getErr().flush();
            return ex instanceof BitnetException be ? be.exitCode() : 1;
        });
        cli.setParameterExceptionHandler((ex, args2) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("bitnet: error: " + ex.getMessage());
            c.getErr().println("Try 'bitnet " + (c == cli ? "" : c.getCommandName() + " ") + "--help' for usage.");
            c.getErr().flush();
            return BitnetException.Kind.USAGE.exitCode();
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("bitnet: error: out of memory (" + e.getMessage() + "); raise the heap with BITNET_JAVA_OPTS=-Xmx...");
            err.flush();
            return 1;
        }
    }

    private static String describe(Exception ex) {
        if (ex instanceof BitnetException) {
            return ex.getMessage();
        }
        return "internal error: " + ex + " (please report this)";
    }

    /** Prints the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"bitnet4j " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
