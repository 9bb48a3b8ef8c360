package io.bitnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.gguf.GgufWriter;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/** Runs the CLI in-process through {@link Main#execute} and captures its exit code, stdout and stderr. */
final class Cli {
    private Cli() {
    }

    record Result(int exitCode, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        /**
         * A failure as the CLI promises it: the exit code of the error's kind, stderr one {@code bitnet: error:}
         * line (and picocli's usage hint for a flag it could not parse), no stack trace.
         */
        Result failsWith(int code, String... messageParts) {
            assertThat(exitCode).as("exit code; stderr: %s", err).isEqualTo(code);
            List<String> lines = errLines();
            assertThat(lines).as("stderr").isNotEmpty();
            assertThat(lines.getFirst()).startsWith("bitnet: error: ");
            if (messageParts.length > 0) {
                assertThat(lines.getFirst()).contains(messageParts);
            }
            if (lines.size() > 1) {
                assertThat(lines).as("stderr: the error and the usage hint, nothing else").hasSize(2);
                assertThat(lines.get(1)).matches("Try 'bitnet (\\w+ )?--help' for usage\\.");
            }
            assertThat(err).doesNotContain("\tat ").doesNotContain("Exception").doesNotContain("internal error");
            return this;
        }

        /** A flag error: the error line and picocli's usage hint. */
        Result failsAsUsage(String... messageParts) {
            failsWith(2, messageParts);
            assertThat(errLines()).hasSize(2);
            return this;
        }

        /** A failure after parsing: exactly one line. */
        Result failsWithOneLine(int code, String... messageParts) {
            failsWith(code, messageParts);
            assertThat(errLines()).hasSize(1);
            return this;
        }

        Result succeeds() {
            assertThat(exitCode).as("exit code; stderr: %s", err).isZero();
            assertThat(err).doesNotContain("bitnet: error");
            return this;
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs with {@code input} as standard input, then puts the real one back. */
    static Result runWithInput(String input, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        try {
            return run(args);
        } finally {
            System.setIn(saved);
        }
    }

    /**
     * Copies a GGUF file into a new one with one thing changed: {@code edit} may change the metadata, the tensor
     * named {@code skip} is left out, and each tensor is written with the shape {@code shape} gives it.
     */
    static Path copyGguf(Path source, Path target, Consumer<GgufWriter> edit, String skip,
                         Function<GgufTensorInfo, long[]> shape) {
        try (GgufFile file = GgufFile.open(source)) {
            GgufWriter w = new GgufWriter().putAll(file.metadata());
            edit.accept(w);
            for (GgufTensorInfo t : file.tensors()) {
                if (!t.name().equals(skip)) {
                    w.addTensor(t.name(), t.type(), shape.apply(t), file.tensorData(t));
                }
            }
            w.write(target);
        }
        return target;
    }
}
