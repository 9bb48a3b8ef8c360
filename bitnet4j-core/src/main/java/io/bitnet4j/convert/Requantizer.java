package io.bitnet4j.convert;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgmlType;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufTensorInfo;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.Tensor;
import io.bitnet4j.tensor.WeightFormat;
import io.bitnet4j.tensor.WeightFormats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Re-quantizes a GGUF file, as {@code llama-quantize} does: metadata copied with {@code general.file_type} and
 * {@code general.quantization_version} set, tensors in the same order; every weight matrix is decoded with its
 * format and encoded with the target's (one thread's worth of work per tensor, so I2_S gets one scale per tensor
 * as bitnet.cpp's {@code llama-quantize ... I2_S 1} writes it). 1-D tensors, norms and anything not named
 * {@code *weight} are copied unchanged; {@code token_embd.weight} and {@code output.weight} keep their type unless
 * an embedding or output type is given. Tensors already of their target type are copied byte for byte.
 */
public final class Requantizer {
    private static final System.Logger LOG = System.getLogger(Requantizer.class.getName());
    private static final List<GgmlType> TERNARY_TYPES = List.of(GgmlType.I2_S, GgmlType.TQ1_0, GgmlType.TQ2_0);

    private Requantizer() {
    }

    /**
     * @param embeddingType type for {@code token_embd.weight}, or null to keep it
     * @param outputType    type for {@code output.weight}, or null to keep it
     */
    public record Options(Path input, Path output, GgmlType type, GgmlType embeddingType, GgmlType outputType) {
    }

    /**
     * @param converted  tensors re-encoded
     * @param copied     tensors copied unchanged
     * @param notTernary tensors stored in a ternary type although their values were not ternary (information lost)
     */
    public record Result(int converted, int copied, List<String> notTernary) {
    }

    public static Result quantize(Options o) {
        checkType(o.type(), OutputTypes.MODEL_TYPES, "TYPE");
        checkType(o.embeddingType(), OutputTypes.EMBEDDING_TYPES, "--embedding-type");
        checkType(o.outputType(), OutputTypes.EMBEDDING_TYPES, "--output-type");
        if (Files.exists(o.output()) && o.input().toAbsolutePath().normalize()
                .equals(o.output().toAbsolutePath().normalize())) {
            throw BitnetException.usage("the output file must differ from the input file " + o.input());
        }
        try (GgufFile in = GgufFile.open(o.input())) {
            GgufWriter out = new GgufWriter();
            out.putAll(in.metadata());
            out.putU32("general.file_type", OutputTypes.fileType(o.type()));
            out.putU32("general.quantization_version", 2);
            List<String> notTernary = new ArrayList<>();
            int converted = 0;
            for (GgufTensorInfo info : in.tensors()) {
                GgmlType target = targetType(info, o);
                Tensor tensor = Tensor.of(in, info);
                if (target == info.type()) {
                    out.addTensor(info.name(), info.type(), info.shape(), tensor.data());
                    continue;
                }
                OutputTypes.checkRowLength(info.name(), info.shape(), target);
                WeightFormat source = WeightFormats.of(info.type());
                TensorEncoder.FloatSource values = (first, dst, offset, count) -> {
                    source.decode(tensor, first, dst, offset, count);
                    if (TERNARY_TYPES.contains(target) && !notTernary.contains(info.name())
                            && !isTernary(dst, offset, count, target)) {
                        notTernary.add(info.name());
                        LOG.log(System.Logger.Level.WARNING, "{0}: the values are not ternary, {1} keeps only a "
                                + "ternary approximation", info.name(), target);
                    }
                };
                out.addTensor(info.name(), target, info.shape(), TensorEncoder.of(info.name(), values, target,
                        info.shape()));
                converted++;
            }
            out.write(o.output());
            return new Result(converted, in.tensors().size() - converted, List.copyOf(notTernary));
        }
    }

    private static void checkType(GgmlType type, List<GgmlType> allowed, String what) {
        if (type != null && !allowed.contains(type)) {
            throw BitnetException.usage(what + " must be one of " + OutputTypes.names(allowed) + ", got " + type);
        }
    }

    /** llama-quantize's choice: only matrices named {@code *weight} that are not norms follow TYPE. */
    private static GgmlType targetType(GgufTensorInfo t, Options o) {
        String name = t.name();
        if (name.equals("token_embd.weight")) {
            return o.embeddingType() != null ? o.embeddingType() : t.type();
        }
        if (name.equals("output.weight")) {
            return o.outputType() != null ? o.outputType() : t.type();
        }
        int dims = 1; // ggml_n_dims: trailing dimensions of 1 do not count
        for (int i = 0; i < t.dimensions(); i++) {
            if (t.dim(i) > 1) {
                dims = i + 1;
            }
        }
        boolean matrix = dims >= 2;
        boolean quantizable = name.endsWith("weight") && !name.endsWith("_norm.weight") && matrix;
        return quantizable ? o.type() : t.type();
    }

    /**
     * Whether {@code target} stores these values without loss of ternarity: one magnitude for the whole tensor for
     * I2_S (this is called with the whole tensor), one per 256-block for TQ1_0/TQ2_0; all-zero blocks are fine.
     */
    private static boolean isTernary(float[] values, int offset, int count, GgmlType target) {
        int unit = target == GgmlType.I2_S ? count : 256;
        for (int start = offset; start < offset + count; start += unit) {
            float[] block = Arrays.copyOfRange(values, start, start + unit);
            boolean allZero = true;
            for (float v : block) {
                allZero &= v == 0;
            }
            if (!allZero && Float.isNaN(Ternary.magnitude(block))) {
                return false;
            }
        }
        return true;
    }
}
