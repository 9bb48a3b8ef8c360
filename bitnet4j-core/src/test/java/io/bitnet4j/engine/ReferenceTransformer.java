package io.bitnet4j.engine;

import io.bitnet4j.testing.SyntheticModel;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain double-precision forward pass over a {@link SyntheticModel}'s F32 weights, written from the graph in spec
 * §3.3 and §3.5 and nothing else: no ggml evaluation order, no F16 cache, angles from {@code pow} per index. Each
 * choice the engine makes per architecture is a switch here, so a test can show that the engine matches the right
 * choice and not the wrong one.
 */
final class ReferenceTransformer {

    enum Gate { SILU, RELU_SQUARED }

    enum Rope { NEOX, NORM }

    enum KvMap {
        /** Query head h reads kv head h / (heads / kv_heads): contiguous groups, as llama.cpp. */
        CONTIGUOUS,
        /** Query head h reads kv head h % kv_heads (interleaved): wrong, to show the test can tell. */
        INTERLEAVED
    }

    /**
     * @param ownHead use output.weight when the file has it (arch llama); otherwise the token embedding
     */
    record Variant(Gate gate, Rope rope, boolean subNorms, boolean ownHead, KvMap kvMap, int ropeDims) {
        static final Variant BITNET_B158 = new Variant(Gate.RELU_SQUARED, Rope.NEOX, true, false, KvMap.CONTIGUOUS, 0);
        static final Variant BITNET = new Variant(Gate.SILU, Rope.NEOX, true, false, KvMap.CONTIGUOUS, 0);
        static final Variant LLAMA = new Variant(Gate.SILU, Rope.NORM, false, true, KvMap.CONTIGUOUS, 0);

        Variant withGate(Gate g) {
            return new Variant(g, rope, subNorms, ownHead, kvMap, ropeDims);
        }

        Variant withRope(Rope r) {
            return new Variant(gate, r, subNorms, ownHead, kvMap, ropeDims);
        }

        Variant withSubNorms(boolean s) {
            return new Variant(gate, rope, s, ownHead, kvMap, ropeDims);
        }

        Variant withOwnHead(boolean o) {
            return new Variant(gate, rope, subNorms, o, kvMap, ropeDims);
        }

        Variant withKvMap(KvMap m) {
            return new Variant(gate, rope, subNorms, ownHead, m, ropeDims);
        }

        /** Rotate this many dimensions per head instead of the file's rope.dimension_count. */
        Variant withRopeDims(int n) {
            return new Variant(gate, rope, subNorms, ownHead, kvMap, n);
        }
    }

    private ReferenceTransformer() {
    }

    /** Logits after each token of {@code tokens}, [position][vocab]. */
    static double[][] logits(SyntheticModel m, int[] tokens, Variant v) {
        SyntheticModel.Config c = m.config();
        int d = c.embd();
        int hd = c.headDim();
        int heads = c.heads();
        int kvHeads = c.kvHeads();
        List<List<double[]>> keys = new ArrayList<>();
        List<List<double[]>> values = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
        double[][] out = new double[tokens.length][];
        float[] embedding = m.get("token_embd.weight");
        for (int pos = 0; pos < tokens.length; pos++) {
            double[] h = new double[d];
            for (int i = 0; i < d; i++) {
                h[i] = embedding[tokens[pos] * d + i];
            }
            for (int l = 0; l < c.layers(); l++) {
                String p = "blk." + l + ".";
                double[] a = rmsNorm(h, m.get(p + "attn_norm.weight"));
                double[] q = project(m, p + "attn_q", a);
                double[] k = project(m, p + "attn_k", a);
                double[] val = project(m, p + "attn_v", a);
                for (int head = 0; head < heads; head++) {
                    rope(q, head * hd, pos, c, v);
                }
                for (int head = 0; head < kvHeads; head++) {
                    rope(k, head * hd, pos, c, v);
                }
                keys.get(l).add(k);
                values.get(l).add(val);
                double[] o = new double[heads * hd];
                for (int head = 0; head < heads; head++) {
                    int kvHead = v.kvMap() == KvMap.CONTIGUOUS ? head / (heads / kvHeads) : head % kvHeads;
                    double[] scores = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= pos; j++) {
                        double s = 0;
                        for (int i = 0; i < hd; i++) {
                            s += q[head * hd + i] * keys.get(l).get(j)[kvHead * hd + i];
                        }
                        scores[j] = s / Math.sqrt(hd);
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= pos; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j <= pos; j++) {
                        double pj = scores[j] / sum;
                        for (int i = 0; i < hd; i++) {
                            o[head * hd + i] += pj * values.get(l).get(j)[kvHead * hd + i];
                        }
                    }
                }
                if (v.subNorms()) {
                    o = rmsNorm(o, m.get(p + "attn_sub_norm.weight"));
                }
                add(h, project(m, p + "attn_output", o));
                double[] f = rmsNorm(h, m.get(p + "ffn_norm.weight"));
                double[] up = project(m, p + "ffn_up", f);
                double[] gate = project(m, p + "ffn_gate", f);
                double[] t = new double[up.length];
                for (int i = 0; i < t.length; i++) {
                    double g = gate[i];
                    double act = v.gate() == Gate.SILU ? g / (1 + Math.exp(-g)) : Math.max(g, 0) * Math.max(g, 0);
                    t[i] = act * up[i];
                }
                if (v.subNorms()) {
                    t = rmsNorm(t, m.get(p + "ffn_sub_norm.weight"));
                }
                add(h, project(m, p + "ffn_down", t));
            }
            double[] x = rmsNorm(h, m.get("output_norm.weight"));
            String head = v.ownHead() && m.has("output.weight") ? "output.weight" : "token_embd.weight";
            out[pos] = matvec(m.get(head), m.shape(head), x);
        }
        return out;
    }

    static double[] rmsNorm(double[] x, float[] g) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        double scale = 1 / Math.sqrt(sum / x.length + SyntheticModel.EPS);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * scale * g[i];
        }
        return y;
    }

    /** W·x for {@code <name>.weight}, times {@code <name>.scale} if the file has one. */
    private static double[] project(SyntheticModel m, String name, double[] x) {
        double[] y = matvec(m.get(name + ".weight"), m.shape(name + ".weight"), x);
        if (m.has(name + ".scale")) {
            double s = m.get(name + ".scale")[0];
            for (int i = 0; i < y.length; i++) {
                y[i] *= s;
            }
        }
        return y;
    }

    private static double[] matvec(float[] w, long[] shape, double[] x) {
        int in = (int) shape[0];
        int out = (int) shape[1];
        double[] y = new double[out];
        for (int r = 0; r < out; r++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += w[r * in + i] * x[i];
            }
            y[r] = s;
        }
        return y;
    }

    /** Rotates the first ropeDims dimensions of one head by pos·base^(-2i/ropeDims). */
    private static void rope(double[] x, int off, int pos, SyntheticModel.Config c, Variant v) {
        int n = v.ropeDims() > 0 ? v.ropeDims() : c.ropeDims();
        Rope style = v.rope();
        for (int i = 0; i < n / 2; i++) {
            double theta = pos * Math.pow(c.freqBase(), -2.0 * i / n);
            int a = style == Rope.NEOX ? off + i : off + 2 * i;
            int b = style == Rope.NEOX ? off + i + n / 2 : off + 2 * i + 1;
            double x0 = x[a];
            double x1 = x[b];
            x[a] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
            x[b] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
        }
    }

    private static void add(double[] h, double[] x) {
        for (int i = 0; i < h.length; i++) {
            h[i] += x[i];
        }
    }
}
