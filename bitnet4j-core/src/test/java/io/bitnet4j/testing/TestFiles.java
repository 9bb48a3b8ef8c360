package io.bitnet4j.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the reference data in {@code ../shared} and the repository's own models for tests. */
public final class TestFiles {
    private TestFiles() {
    }

    /** The shared folder beside the checkout (CI has it there), or the one named by -Dbitnet.shared.dir. */
    public static Path sharedDir() {
        String configured = System.getProperty("bitnet.shared.dir");
        if (configured != null && Files.isDirectory(Path.of(configured))) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        return repoDir().resolve("../shared").toAbsolutePath().normalize();
    }

    /** The repository root. */
    public static Path repoDir() {
        String configured = System.getProperty("bitnet.repo.dir");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve(".ci"))) {
            dir = dir.getParent();
        }
        return dir == null ? Path.of("").toAbsolutePath() : dir;
    }

    /** A file under shared/, skipping the calling test (with the path in the message) if it is absent. */
    public static Path shared(String relative) {
        Path p = sharedDir().resolve(relative);
        assumeTrue(Files.isRegularFile(p), "reference file absent, test skipped: " + p);
        return p;
    }

    /** A file in the repository (e.g. models/...), skipping the test if it is absent. */
    public static Path repo(String relative) {
        Path p = repoDir().resolve(relative);
        assumeTrue(Files.isRegularFile(p), "file absent, test skipped: " + p);
        return p;
    }
}
