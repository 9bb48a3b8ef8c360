package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** One in-process run of the CLI: its exit code and what it printed; and where the test data lives. */
record CliRun(int exitCode, String out, String err) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }

    /** The error lines the CLI printed (its own, not the log lines). */
    String errorLines() {
        return err.lines().filter(l -> l.startsWith("bitnet: error:")).reduce("", (a, b) -> a + b + "\n");
    }

    /** A file under ../shared (as the build passes it in), skipping the test if it is absent. */
    static Path shared(String relative) {
        Path p = Path.of(System.getProperty("bitnet.shared.dir", "../shared")).resolve(relative);
        assumeTrue(Files.isRegularFile(p), "reference file absent, test skipped: " + p);
        return p;
    }

    /** A file in the repository (e.g. models/...), skipping the test if it is absent. */
    static Path repo(String relative) {
        Path p = Path.of(System.getProperty("bitnet.repo.dir", "..")).resolve(relative);
        assumeTrue(Files.isRegularFile(p), "file absent, test skipped: " + p);
        return p;
    }
}
