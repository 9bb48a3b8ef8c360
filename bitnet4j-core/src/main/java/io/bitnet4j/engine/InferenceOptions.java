package io.bitnet4j.engine;

import io.bitnet4j.BitnetException;

/**
 * Settings of a forward pass.
 *
 * @param contextLength  KV cache size in tokens (0 = the model's training context, at most 4096)
 * @param threads        worker threads (0 = one per available core)
 * @param batchSize      most tokens processed together in one pass over the weights
 * @param kvType         KV cache element type
 * @param activationMode how ternary matmul inputs are quantized
 * @param scalarKernels  use the reference kernels only (slow; for checking)
 */
public record InferenceOptions(int contextLength, int threads, int batchSize, KvType kvType,
                               ActivationMode activationMode, boolean scalarKernels) {

    public static final int DEFAULT_CONTEXT_CAP = 4096;

    public InferenceOptions {
        if (contextLength < 0) {
            throw BitnetException.usage("context length must not be negative: " + contextLength);
        }
        if (threads < 0) {
            throw BitnetException.usage("thread count must not be negative: " + threads);
        }
        if (batchSize < 1) {
            throw BitnetException.usage("batch size must be at least 1: " + batchSize);
        }
    }

    public static InferenceOptions defaults() {
        return new InferenceOptions(0, 0, 32, KvType.F16, ActivationMode.REFERENCE, false);
    }

    public InferenceOptions withContextLength(int n) {
        return new InferenceOptions(n, threads, batchSize, kvType, activationMode, scalarKernels);
    }

    public InferenceOptions withThreads(int n) {
        return new InferenceOptions(contextLength, n, batchSize, kvType, activationMode, scalarKernels);
    }

    public InferenceOptions withBatchSize(int n) {
        return new InferenceOptions(contextLength, threads, n, kvType, activationMode, scalarKernels);
    }

    public InferenceOptions withKvType(KvType t) {
        return new InferenceOptions(contextLength, threads, batchSize, t, activationMode, scalarKernels);
    }

    public InferenceOptions withActivationMode(ActivationMode m) {
        return new InferenceOptions(contextLength, threads, batchSize, kvType, m, scalarKernels);
    }

    public InferenceOptions withScalarKernels(boolean s) {
        return new InferenceOptions(contextLength, threads, batchSize, kvType, activationMode, s);
    }

    /** The thread count to use: the option, or one per available processor. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** The context length to use for a model trained with {@code trainContext}. */
    public int effectiveContext(int trainContext) {
        return contextLength > 0 ? contextLength : Math.min(trainContext, DEFAULT_CONTEXT_CAP);
    }
}
