package io.bitnet4j.cli;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.ActivationMode;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.engine.KvType;
import io.bitnet4j.gguf.GgufReadOptions;
import io.bitnet4j.kernel.KernelSelector;
import io.bitnet4j.model.Model;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options shared by every command that runs a model: which file, and how to run it. */
final class ModelOptions {
    /** The model the repository ships, used when neither -m nor BITNET_GGUF names one. */
    static final String SHIPPED_MODEL = "models/bitnet-stories-student-I2_S.gguf";

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model (default: $BITNET_GGUF, "
            + "else the model shipped in models/)")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", split = ",", description = "worker threads (default: one "
            + "per core); bench takes a list, e.g. -t 1,2")
    List<Integer> threads;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "context size in tokens (default: the "
            + "model's, at most 4096)")
    int contextSize;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "32",
            description = "tokens processed together in one pass over the weights (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--kv-type", paramLabel = "TYPE", defaultValue = "f16",
            description = "KV cache type: f16 or f32 (default: ${DEFAULT-VALUE})")
    String kvType;

    @Option(names = "--activations", paramLabel = "MODE", defaultValue = "reference",
            description = "ternary matmul inputs: reference (per token for I2_S, per 256-block Q8_K for TQ1_0/TQ2_0, "
                    + "as bitnet.cpp/llama.cpp) or token-int8 (per token for every format) (default: ${DEFAULT-VALUE})")
    String activations;

    @Option(names = "--i2s-layout", paramLabel = "N", defaultValue = "128",
            description = "I2_S packing: 128 (x86 and the released files) or 64 (ARM builds since Nov 2025) "
                    + "(default: ${DEFAULT-VALUE})")
    int i2sLayout;

    @Option(names = "--pre-tokenizer", paramLabel = "NAME", defaultValue = "llama3",
            description = "pre-tokenizer for BPE vocabularies without tokenizer.ggml.pre: llama3 (as the model was "
                    + "trained) or default (as bitnet.cpp) (default: ${DEFAULT-VALUE})")
    String preTokenizer;

    @Option(names = "--scalar-kernels", description = "use the slow reference kernels (for checking)")
    boolean scalarKernels;

    @Option(names = "--head-type", paramLabel = "TYPE", description = "re-quantize the output head at load: q8_0 "
            + "(about twice as fast to read as the F16 head of BitNet b1.58 2B-4T; logits change slightly), q6_k "
            + "(as llama-quantize --token-embedding-type q6_k, byte for byte; smaller still, a few seconds to "
            + "quantize), f16, f32 (default: as stored)")
    String headType;

    @Option(names = "--repack", description = "repack weights at load into the layout the kernels like best, exact "
            + "either way: TQ1_0 becomes TQ2_0 in memory (22%% more memory, faster); on CPUs with 512-bit vectors "
            + "I2_S and TQ2_0 rows are interleaved in blocks of 32 for the lookup kernel (same size, faster "
            + "generation); off by default")
    boolean repack;

    /** The model path: -m, else BITNET_GGUF, else the shipped model; a clear error if none exists. */
    Path resolveModel(Map<String, String> env) {
        Path chosen = model;
        String origin = "-m";
        if (chosen == null && env.get("BITNET_GGUF") != null && !env.get("BITNET_GGUF").isBlank()) {
            chosen = Path.of(env.get("BITNET_GGUF"));
            origin = "BITNET_GGUF";
        }
        if (chosen == null) {
            Path shipped = repositoryRoot().resolve(SHIPPED_MODEL);
            if (Files.isRegularFile(shipped)) {
                return shipped;
            }
            throw BitnetException.usage("no model given: pass -m FILE.gguf or set BITNET_GGUF=FILE.gguf (the shipped "
                    + SHIPPED_MODEL + " is not in " + shipped.toAbsolutePath().getParent().getParent() + ")");
        }
        if (!Files.exists(chosen)) {
            throw BitnetException.usage("model file not found: " + chosen + " (from " + origin + ")");
        }
        return chosen;
    }

    /** The repository the CLI runs from (the launcher sets bitnet.home), else the working directory. */
    static Path repositoryRoot() {
        String home = System.getProperty("bitnet.home");
        return home != null ? Path.of(home) : Path.of("");
    }

    Model.LoadOptions loadOptions() {
        I2SFormat layout = switch (i2sLayout) {
            case 128 -> I2SFormat.I2S_128;
            case 64 -> I2SFormat.I2S_64;
            default -> throw BitnetException.usage("--i2s-layout must be 128 or 64, got " + i2sLayout);
        };
        io.bitnet4j.gguf.GgmlType head = null;
        if (headType != null) {
            head = switch (headType.toLowerCase(Locale.ROOT)) {
                case "q8_0" -> io.bitnet4j.gguf.GgmlType.Q8_0;
                case "f16" -> io.bitnet4j.gguf.GgmlType.F16;
                case "f32" -> io.bitnet4j.gguf.GgmlType.F32;
                case "q6_k" -> io.bitnet4j.gguf.GgmlType.Q6_K;
                default -> throw BitnetException.usage("--head-type must be q8_0, q6_k, f16 or f32, got '" + headType
                        + "'");
            };
        }
        boolean interleave = repack && !scalarKernels && KernelSelector.interleavedTernarySupported();
        return new Model.LoadOptions(GgufReadOptions.DEFAULT, layout, head, repack, interleave);
    }

    TokenizerOptions tokenizerOptions() {
        return new TokenizerOptions(preTokenizer);
    }

    /** The thread counts -t names (empty: one per core), each checked. */
    List<Integer> threadCounts() {
        if (threads == null) {
            return List.of();
        }
        for (int n : threads) {
            if (n < 1) {
                throw BitnetException.usage("-t must be positive, got " + n);
            }
        }
        return threads;
    }

    InferenceOptions inferenceOptions() {
        List<Integer> counts = threadCounts();
        if (counts.size() > 1) {
            throw BitnetException.usage("-t takes one thread count here (a list such as 1,2 is for bench), got "
                    + counts.size());
        }
        return inferenceOptions(counts.isEmpty() ? 0 : counts.getFirst());
    }

    /** The inference options with {@code threads} worker threads (0: one per core) instead of -t's. */
    InferenceOptions inferenceOptions(int threads) {
        if (contextSize < 0) {
            throw BitnetException.usage("-c must be positive, got " + contextSize);
        }
        if (batchSize < 1) {
            throw BitnetException.usage("-b must be at least 1, got " + batchSize);
        }
        KvType kv = switch (kvType.toLowerCase(Locale.ROOT)) {
            case "f16" -> KvType.F16;
            case "f32" -> KvType.F32;
            default -> throw BitnetException.usage("--kv-type must be f16 or f32, got '" + kvType + "'");
        };
        ActivationMode mode = switch (activations.toLowerCase(Locale.ROOT)) {
            case "reference" -> ActivationMode.REFERENCE;
            case "token-int8" -> ActivationMode.TOKEN_INT8;
            default -> throw BitnetException.usage("--activations must be reference or token-int8, got '"
                    + activations + "'");
        };
        return new InferenceOptions(contextSize, threads, batchSize, kv, mode, scalarKernels);
    }
}
