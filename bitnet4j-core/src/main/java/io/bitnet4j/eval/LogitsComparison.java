package io.bitnet4j.eval;

/**
 * How far our logits are from reference logits, per position and overall: max |Δ|, rms of Δ, and whether the
 * argmax agrees (first index on ties, as llama.cpp's greedy sampler).
 */
public record LogitsComparison(double[] maxAbsPerPosition, double[] rmsPerPosition, boolean[] argmaxAgrees,
                               int[] ourArgmax, int[] referenceArgmax) {

    public static LogitsComparison compare(float[][] ours, float[][] reference) {
        if (ours.length != reference.length) {
            throw new IllegalArgumentException(ours.length + " positions vs " + reference.length);
        }
        int n = ours.length;
        double[] max = new double[n];
        double[] rms = new double[n];
        boolean[] agree = new boolean[n];
        int[] oursArg = new int[n];
        int[] refArg = new int[n];
        for (int p = 0; p < n; p++) {
            if (ours[p].length != reference[p].length) {
                throw new IllegalArgumentException("position " + p + ": " + ours[p].length + " logits vs "
                        + reference[p].length);
            }
            double sumSq = 0;
            for (int i = 0; i < ours[p].length; i++) {
                double d = Math.abs((double) ours[p][i] - reference[p][i]);
                max[p] = Math.max(max[p], d);
                sumSq += d * d;
            }
            rms[p] = Math.sqrt(sumSq / ours[p].length);
            oursArg[p] = argmax(ours[p]);
            refArg[p] = argmax(reference[p]);
            agree[p] = oursArg[p] == refArg[p];
        }
        return new LogitsComparison(max, rms, agree, oursArg, refArg);
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    public int positions() {
        return maxAbsPerPosition.length;
    }

    public double maxAbs() {
        double m = 0;
        for (double d : maxAbsPerPosition) {
            m = Math.max(m, d);
        }
        return m;
    }

    /** rms over all positions and logits. */
    public double rms() {
        double s = 0;
        for (double r : rmsPerPosition) {
            s += r * r;
        }
        return Math.sqrt(s / Math.max(1, rmsPerPosition.length));
    }

    public int argmaxAgreements() {
        int n = 0;
        for (boolean b : argmaxAgrees) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
