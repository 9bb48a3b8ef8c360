package io.bitnet4j.model;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.tensor.I2SFormat;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormats;
import io.bitnet4j.tensor.WeightMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All weights of a model, bound by tensor name and checked against the config: a missing tensor or a wrong shape
 * is one error naming the tensor and the shape expected. Matrices stay zero-copy views of the mapped file; norm
 * vectors (small) are decoded to float once.
 *
 * @param tokenEmbedding {D, V}: one row per token, also the output head when the head is tied
 * @param outputNorm     [D]
 * @param output         {D, V}: the output head (the token embedding itself when tied)
 */
public record Weights(WeightMatrix tokenEmbedding, float[] outputNorm, WeightMatrix output, List<LayerWeights> layers) {

    /** Binds every tensor the config needs, validating names, shapes and types; the first problem is thrown. */
    public static Weights bind(GgufFile file, ModelConfig c, I2SFormat i2sLayout) {
        return bind(new Binder(file, i2sLayout, null), file, c);
    }

    /**
     * Every problem that would stop {@link #bind} (missing tensors, wrong shapes, unsupported types), one message
     * each, for {@code verify}; empty if the weights bind.
     */
    public static List<String> problems(GgufFile file, ModelConfig c, I2SFormat i2sLayout) {
        List<String> problems = new ArrayList<>();
        bind(new Binder(file, i2sLayout, problems), file, c);
        return problems;
    }

    private static Weights bind(Binder b, GgufFile file, ModelConfig c) {
        int d = c.embeddingLength();
        WeightMatrix embedding = b.matrix("token_embd.weight", d, c.vocabSize());
        float[] outputNorm = b.vector("output_norm.weight", d);
        WeightMatrix output = embedding;
        if (c.architecture().headSource() == Architecture.HeadSource.OUTPUT_IF_PRESENT
                && file.tensorInfo("output.weight").isPresent()) {
            output = b.matrix("output.weight", d, c.vocabSize());
        }
        boolean sub = c.architecture().hasSubNorms();
        List<LayerWeights> layers = new ArrayList<>(c.blockCount());
        for (int i = 0; i < c.blockCount(); i++) {
            String p = "blk." + i + ".";
            layers.add(new LayerWeights(
                    b.vector(p + "attn_norm.weight", d),
                    b.matrix(p + "attn_q.weight", d, c.queryDim()),
                    b.matrix(p + "attn_k.weight", d, c.kvDim()),
                    b.matrix(p + "attn_v.weight", d, c.kvDim()),
                    b.matrix(p + "attn_output.weight", c.queryDim(), d),
                    sub ? b.vector(p + "attn_sub_norm.weight", c.queryDim()) : null,
                    b.vector(p + "ffn_norm.weight", d),
                    b.matrix(p + "ffn_gate.weight", d, c.feedForwardLength()),
                    b.matrix(p + "ffn_up.weight", d, c.feedForwardLength()),
                    b.matrix(p + "ffn_down.weight", c.feedForwardLength(), d),
                    sub ? b.vector(p + "ffn_sub_norm.weight", c.feedForwardLength()) : null,
                    c.architecture().hasProjectionScales() ? b.scales(p) : null,
                    b.biases(p, c)));
        }
        return new Weights(embedding, outputNorm, output, List.copyOf(layers));
    }

    /** The same weights with another output head (the token embedding stays). */
    public Weights withOutput(WeightMatrix head) {
        return new Weights(tokenEmbedding, outputNorm, head, layers);
    }

    /** The same weights with every projection matrix of every layer passed through {@code map}. */
    public Weights withLayerMatrices(java.util.function.UnaryOperator<WeightMatrix> map) {
        List<LayerWeights> mapped = new ArrayList<>(layers.size());
        for (LayerWeights l : layers) {
            mapped.add(new LayerWeights(l.attnNorm(), map.apply(l.wq()), map.apply(l.wk()), map.apply(l.wv()),
                    map.apply(l.wo()), l.attnSubNorm(), l.ffnNorm(), map.apply(l.wGate()), map.apply(l.wUp()),
                    map.apply(l.wDown()), l.ffnSubNorm(), l.scales(), l.biases()));
        }
        return new Weights(tokenEmbedding, outputNorm, output, List.copyOf(mapped));
    }

    /** Whether the output head is the token embedding. */
    public boolean tiedHead() {
        return output == tokenEmbedding;
    }

    /**
     * Looks tensors up and checks them. With a problem list it records each problem and carries on (returning
     * null for that tensor); without one it throws the first.
     */
    private static final class Binder {
        private final GgufFile file;
        private final I2SFormat i2sLayout;
        private final List<String> problems;

        Binder(GgufFile file, I2SFormat i2sLayout, List<String> problems) {
            this.file = file;
            this.i2sLayout = i2sLayout;
            this.problems = problems;
        }

        private <T> T checked(java.util.function.Supplier<T> bind) {
            if (problems == null) {
                return bind.get();
            }
            try {
                return bind.get();
            } catch (BitnetException e) {
                problems.add(e.getMessage());
                return null;
            }
        }

        private GgufTensorInfo info(String name) {
            return file.tensorInfo(name).orElseThrow(() -> BitnetException.invalidModel(
                    file.name() + ": tensor '" + name + "' is missing"));
        }

        private void checkShape(GgufTensorInfo t, long... expected) {
            long[] actual = t.shape();
            long[] trimmed = actual;
            while (trimmed.length > expected.length && trimmed[trimmed.length - 1] == 1) {
                trimmed = Arrays.copyOf(trimmed, trimmed.length - 1);
            }
            if (!Arrays.equals(trimmed, expected)) {
                throw BitnetException.invalidModel(file.name() + ": tensor '" + t.name() + "' has shape "
                        + Arrays.toString(actual) + ", expected " + Arrays.toString(expected));
            }
        }

        WeightMatrix matrix(String name, int in, int out) {
            return checked(() -> bindMatrix(name, in, out));
        }

        private WeightMatrix bindMatrix(String name, int in, int out) {
            GgufTensorInfo t = info(name);
            checkShape(t, in, out);
            return WeightMatrix.of(Tensor.of(file, t), i2sLayout);
        }

        float[] vector(String name, int n) {
            return checked(() -> bindVector(name, n));
        }

        private float[] bindVector(String name, int n) {
            GgufTensorInfo t = info(name);
            checkShape(t, n);
            Tensor tensor = Tensor.of(file, t);
            float[] v = WeightFormats.of(t.type(), i2sLayout).decodeAll(tensor);
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw BitnetException.invalidModel(file.name() + ": tensor '" + name + "' holds " + x);
                }
            }
            return v;
        }

        private float scalar(String name) {
            if (file.tensorInfo(name).isEmpty()) {
                return 1f;
            }
            float[] v = vector(name, 1);
            return v == null ? 1f : v[0];
        }

        LayerWeights.ProjectionScales scales(String p) {
            return new LayerWeights.ProjectionScales(scalar(p + "attn_q.scale"), scalar(p + "attn_k.scale"),
                    scalar(p + "attn_v.scale"), scalar(p + "attn_output.scale"), scalar(p + "ffn_gate.scale"),
                    scalar(p + "ffn_up.scale"), scalar(p + "ffn_down.scale"));
        }

        LayerWeights.AttentionBiases biases(String p, ModelConfig c) {
            float[] q = optionalVector(p + "attn_q.bias", c.queryDim());
            float[] k = optionalVector(p + "attn_k.bias", c.kvDim());
            float[] v = optionalVector(p + "attn_v.bias", c.kvDim());
            float[] o = optionalVector(p + "attn_output.bias", c.embeddingLength());
            return q == null && k == null && v == null && o == null ? null
                    : new LayerWeights.AttentionBiases(q, k, v, o);
        }

        private float[] optionalVector(String name, int n) {
            return file.tensorInfo(name).isPresent() ? vector(name, n) : null;
        }
    }
}
