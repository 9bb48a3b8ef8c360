package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.CpuForwardPass;
import io.bitnet4j.engine.InferenceOptions;
import io.bitnet4j.engine.KvCache;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.kernel.KernelSelector;
import io.bitnet4j.model.LayerWeights;
import io.bitnet4j.model.Model;
import io.bitnet4j.tensor.WeightMatrix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bitnet bench}: llama-bench's measurements of the forward pass alone. {@code pp N} processes N random tokens
 * as one prompt into an empty cache; {@code tg N} generates N tokens one at a time from an empty cache. Each test
 * runs once to warm up, then {@code -r} times; the table gives tokens per second, mean ± standard deviation.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark prompt processing (pp) and token generation (tg) speed, as llama-bench does.")
final class BenchCommand implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger("io.bitnet4j.cli");
    /**
     * Generation allocates nothing once the kernels are compiled and prompts a few hundred bytes per token; a kernel
     * that C2 compiled without inlining its vector operations allocates each vector, megabytes per token.
     */
    private static final long BOXING_BYTES_PER_TOKEN = 64 * 1024;
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N,..", split = ",", defaultValue = "128",
            description = "prompt lengths to test (default: ${DEFAULT-VALUE}; 0 = none)")
    List<Integer> prompts;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N,..", split = ",", defaultValue = "64",
            description = "generation lengths to test (default: ${DEFAULT-VALUE}; 0 = none)")
    List<Integer> generations;

    @Option(names = {"-d", "--n-depth"}, paramLabel = "N,..", split = ",", defaultValue = "0",
            description = "tokens already in the KV cache when a test starts (default: ${DEFAULT-VALUE}); filled once "
                    + "per depth and thread count, untimed")
    List<Integer> depths;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "5", description = "default: ${DEFAULT-VALUE}")
    int repetitions;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "md", description = "md or json")
    String format;

    @Option(names = "--all-logits", description = "compute logits for every prompt position (perplexity-style), not "
            + "only the last")
    boolean allLogits;

    /** Heap allocation of all threads, to show that the timed forward passes allocate (next to) nothing. */
    private static final com.sun.management.ThreadMXBean ALLOCATION =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes allocated inside the timed sections of the current test. */
    private long timedAllocation;

    private record Row(String test, int depth, int threads, double mean, double sd, double[] samples,
                       long bytesPerToken) {
    }

    @Override
    public Integer call() throws IOException {
        if (repetitions < 1) {
            throw BitnetException.usage("-r must be at least 1");
        }
        if (depths.stream().anyMatch(d -> d < 0)) {
            throw BitnetException.usage("-d must not be negative, got " + depths);
        }
        if (!format.equals("md") && !format.equals("json")) {
            throw BitnetException.usage("-o must be md or json, got '" + format + "'");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path path = modelOptions.resolveModel(System.getenv());
        List<Integer> threads = modelOptions.threadCounts().isEmpty()
                ? List.of(Runtime.getRuntime().availableProcessors()) : modelOptions.threadCounts();
        int maxPrompt = prompts.stream().mapToInt(Integer::intValue).max().orElse(0);
        int maxGen = generations.stream().mapToInt(Integer::intValue).max().orElse(0);
        int maxDepth = depths.stream().mapToInt(Integer::intValue).max().orElse(0);
        List<Row> rows = new ArrayList<>();
        try (Model model = Model.load(path, modelOptions.loadOptions())) {
            int context = Math.addExact(Math.max(maxPrompt, maxGen), maxDepth) + 1;
            for (int n : threads) {
                InferenceOptions options = modelOptions.inferenceOptions(n).withContextLength(context)
                        .withBatchSize(Math.max(1, Math.min(modelOptions.batchSize == 32 ? 512 : modelOptions.batchSize,
                                Math.max(1, Math.max(maxPrompt, maxDepth)))));
                try (CpuForwardPass pass = new CpuForwardPass(model, options)) {
                    for (int d : depths) {
                        KvCache cache = filledCache(pass, model, d, context);
                        String at = d == 0 ? "" : " @ d" + d;
                        for (int p : prompts) {
                            if (p > 0) {
                                rows.add(measure("pp" + p + at, d, n, p, () -> prompt(pass, model, cache, d, p)));
                            }
                        }
                        for (int g : generations) {
                            if (g > 0) {
                                rows.add(measure("tg" + g + at, d, n, g, () -> generate(pass, model, cache, d, g)));
                            }
                        }
                    }
                }
            }
            if (format.equals("json")) {
                out.println(json(path, model, rows));
            } else {
                table(out, path, model, rows);
            }
        }
        out.flush();
        return 0;
    }

    private interface Run {
        double tokensPerSecond();
    }

    private Row measure(String test, int depth, int threads, int tokens, Run run) {
        run.tokensPerSecond();
        double[] samples = new double[repetitions];
        timedAllocation = 0;
        for (int i = 0; i < repetitions; i++) {
            samples[i] = run.tokensPerSecond();
        }
        long bytesPerToken = timedAllocation / ((long) repetitions * tokens);
        double mean = 0;
        for (double s : samples) {
            mean += s;
        }
        mean /= samples.length;
        double var = 0;
        for (double s : samples) {
            var += (s - mean) * (s - mean);
        }
        double sd = samples.length > 1 ? Math.sqrt(var / (samples.length - 1)) : 0;
        return new Row(test, depth, threads, mean, sd, samples, bytesPerToken);
    }

    /**
     * A cache holding {@code depth} random tokens' keys and values, as llama-bench's {@code -d} leaves before each
     * test. Every test writes only positions from {@code depth} on, so one filling serves all of them.
     */
    private static KvCache filledCache(CpuForwardPass pass, Model model, int depth, int context) {
        KvCache cache = pass.newCache(context);
        if (depth > 0) {
            pass.forward(cache, randomTokens(depth, model.config().vocabSize(), 31L * depth + 3), 0, depth, 0,
                    new float[model.config().vocabSize()], false);
        }
        return cache;
    }

    private double prompt(CpuForwardPass pass, Model model, KvCache cache, int depth, int n) {
        int vocab = model.config().vocabSize();
        int[] tokens = randomTokens(n, vocab, n);
        float[] logits = new float[allLogits ? n * vocab : vocab];
        long allocated = ALLOCATION.getTotalThreadAllocatedBytes();
        long start = System.nanoTime();
        pass.forward(cache, tokens, 0, n, depth, logits, allLogits);
        long elapsed = System.nanoTime() - start;
        timedAllocation += ALLOCATION.getTotalThreadAllocatedBytes() - allocated;
        return n * 1e9 / elapsed;
    }

    private double generate(CpuForwardPass pass, Model model, KvCache cache, int depth, int n) {
        int vocab = model.config().vocabSize();
        int[] tokens = randomTokens(n, vocab, 7 * n + 1);
        float[] logits = new float[vocab];
        long allocated = ALLOCATION.getTotalThreadAllocatedBytes();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            pass.forward(cache, tokens, i, 1, depth + i, logits, false);
        }
        long elapsed = System.nanoTime() - start;
        timedAllocation += ALLOCATION.getTotalThreadAllocatedBytes() - allocated;
        return n * 1e9 / elapsed;
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextInt(vocab);
        }
        return t;
    }

    private void table(PrintWriter out, Path path, Model model, List<Row> rows) {
        String name = path.getFileName().toString();
        long bytes = tensorBytes(model);
        String size = bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.2f MiB", bytes / (double) (1L << 20));
        long count = parameters(model);
        String params = count >= 1_000_000_000L ? String.format(Locale.ROOT, "%.2f B", count / 1e9)
                : count >= 1_000_000L ? String.format(Locale.ROOT, "%.2f M", count / 1e6)
                : String.format(Locale.ROOT, "%.2f K", count / 1e3);
        int testWidth = Math.max(6, rows.stream().mapToInt(r -> r.test().length()).max().orElse(0));
        String line = "| %-32s | %10s | %8s | %-22s | %7s | %" + testWidth + "s | %16s |%n";
        out.printf(line, "model", "size", "params", "format", "threads", "test", "t/s");
        out.printf(line, "-".repeat(32), "-".repeat(10), "-".repeat(8), "-".repeat(22), "-".repeat(7),
                "-".repeat(testWidth), "-".repeat(16));
        for (Row r : rows) {
            out.printf(Locale.ROOT, line, name, size, params, formatName(model), r.threads(), r.test(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", r.mean(), r.sd()));
        }
        out.println();
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%s, %d thread(s): %,d bytes of Java heap allocated per token after warm-up "
                    + "inside the timed forward passes%n", r.test(), r.threads(), r.bytesPerToken());
            if (r.bytesPerToken() > BOXING_BYTES_PER_TOKEN) {
                LOG.log(System.Logger.Level.WARNING, String.format(Locale.ROOT,
                        "%s, %d thread(s) allocated %,d bytes per token: the JIT has not (yet) compiled a kernel "
                                + "whole and boxes its vectors, so this figure is slower than the engine; run again, "
                                + "or with more repetitions (-r)",
                        r.test(), r.threads(), r.bytesPerToken()));
            }
        }
        long weightBytes = weightBytesPerToken(model);
        for (Row r : rows) {
            if (r.test().startsWith("tg")) {
                out.printf(Locale.ROOT, "%s, %d thread(s): %.2f GB of weights read per generated token, %.1f GB/s "
                        + "(compare: bitnet4j-bench's MemoryRead)%n", r.test(), r.threads(), weightBytes / 1e9,
                        weightBytes * r.mean() / 1e9);
            }
        }
        out.printf("bitnet4j bench: %s; kernels: %s; pp computes logits for %s; batch %s; KV %s; %d repetitions "
                        + "after one warm-up%n", modelOptions.inferenceOptions(0).activationMode().name().toLowerCase(Locale.ROOT),
                KernelSelector.describeVectorPath(), allLogits ? "every position" : "the last position only",
                modelOptions.batchSize == 32 ? "512" : String.valueOf(modelOptions.batchSize),
                modelOptions.kvType, repetitions);
    }

    private String json(Path path, Model model, List<Row> rows) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode array = mapper.createArrayNode();
        for (Row r : rows) {
            ObjectNode n = array.addObject();
            n.put("model", path.getFileName().toString());
            n.put("model_size", tensorBytes(model));
            n.put("model_n_params", parameters(model));
            n.put("format", formatName(model));
            n.put("threads", r.threads());
            n.put("test", r.test());
            n.put("n_depth", r.depth());
            n.put("avg_ts", r.mean());
            n.put("stddev_ts", r.sd());
            n.putPOJO("samples_ts", r.samples());
            n.put("all_logits", allLogits);
            n.put("heap_bytes_allocated_per_token", r.bytesPerToken());
            n.put("weight_bytes_per_token", weightBytesPerToken(model));
            n.put("kernels", KernelSelector.describeVectorPath());
        }
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(array);
    }

    /**
     * Bytes of weights one generated token reads: every layer's matrices and the output head, as loaded (after
     * {@code --repack} or {@code --head-type}); the embedding row and the norms are left out.
     */
    private static long weightBytesPerToken(Model model) {
        long bytes = model.weights().output().tensor().data().byteSize();
        for (LayerWeights l : model.weights().layers()) {
            for (WeightMatrix m : List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wUp(), l.wDown())) {
                bytes += m.tensor().data().byteSize();
            }
        }
        return bytes;
    }

    private static long tensorBytes(Model model) {
        return model.file().tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum();
    }

    private static long parameters(Model model) {
        return model.file().tensors().stream().mapToLong(GgufTensorInfo::elementCount).sum();
    }

    /**
     * The weight type of the projections, then the embedding's when it differs ("I2_S + F16"), then the output
     * head's as it runs when that differs from the embedding's ("I2_S + F16, head Q8_0" with --head-type q8_0).
     */
    private static String formatName(Model model) {
        Map<GgmlType, Long> bytes = new TreeMap<>();
        for (GgufTensorInfo t : model.file().tensors()) {
            if (!t.name().equals("token_embd.weight") && !t.name().equals("output.weight") && t.dimensions() > 1) {
                bytes.merge(t.type(), t.byteSize(), Long::sum);
            }
        }
        GgmlType main = bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse(GgmlType.F32);
        GgmlType embedding = model.weights().tokenEmbedding().tensor().type();
        GgmlType head = model.weights().output().tensor().type();
        String name = embedding == main ? main.name() : main.name() + " + " + embedding.name();
        return head == embedding ? name : name + ", head " + head.name();
    }
}
