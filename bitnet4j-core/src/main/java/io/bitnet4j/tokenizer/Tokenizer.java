package io.bitnet4j.tokenizer;

import io.bitnet4j.BitnetException;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;

/**
 * Text to token ids and back, built from a GGUF file's {@code tokenizer.ggml.*} metadata, giving the ids
 * llama.cpp gives: byte-level BPE ({@code gpt2}, Llama 3 and the BitNet b1.58 2B-4T vocabulary) or SentencePiece
 * BPE ({@code llama}). Immutable and safe to share between threads.
 *
 * <p>Loading checks the metadata and reports a damaged vocabulary (missing or inconsistent arrays, merges naming
 * unknown tokens, special ids out of range) as one {@link BitnetException}.
 */
public final class Tokenizer {
    private static final System.Logger LOG = System.getLogger(Tokenizer.class.getName());
    private static final byte[] EMPTY = new byte[0];

    static final String KEY_MODEL = "tokenizer.ggml.model";
    static final String KEY_PRE = "tokenizer.ggml.pre";
    static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    static final String KEY_SCORES = "tokenizer.ggml.scores";
    static final String KEY_TYPES = "tokenizer.ggml.token_type";
    static final String KEY_MERGES = "tokenizer.ggml.merges";

    /** Texts that make a token end generation (llama.cpp's EOG detection). */
    private static final List<String> EOG_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>");
    /** Texts llama.cpp takes for the end-of-turn token when the metadata names none. */
    private static final List<String> EOT_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
            "<\uFF5Cend\u2581of\u2581sentence\uFF5C>");
    /** Fill-in-the-middle tokens llama.cpp detects by text (pre, suf, mid, pad, rep, sep), with their keys. */
    private static final List<List<String>> FIM_TEXTS = List.of(
            List.of("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id",
                    "<|fim_prefix|>", "<fim-prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>"),
            List.of("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id",
                    "<|fim_suffix|>", "<fim-suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>"),
            List.of("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id",
                    "<|fim_middle|>", "<fim-middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>"),
            List.of("tokenizer.ggml.fim_pad_token_id", "", "<|fim_pad|>", "<fim-pad>", "<PAD>"),
            List.of("tokenizer.ggml.fim_rep_token_id", "", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"),
            List.of("tokenizer.ggml.fim_sep_token_id", "", "<|file_sep|>"));

    /** The two algorithms. */
    public enum Kind {
        /** Byte-level BPE with merges ({@code tokenizer.ggml.model = gpt2}). */
        BPE,
        /** SentencePiece BPE with scores and byte fallback ({@code tokenizer.ggml.model = llama}). */
        SPM
    }

    private final String source;
    private final Kind kind;
    private final int vocabSize;
    private final TokenType[] types;
    private final float[] scores;
    private final TokenMap tokenMap;
    private final int bos;
    private final int eos;
    private final int eot;
    private final int unk;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;
    private final int[] eogIds;
    private final boolean[] eog;
    private final PreTokenizerChoice preTokenizer;
    private final BpeTokenizer bpe;
    private final SpmTokenizer spm;
    private final SpecialTokenSplitter specials;
    /** Pieces with special = true, built on first use. */
    private final AtomicReferenceArray<byte[]> pieces;

    private Tokenizer(Builder b) {
        this.source = b.source;
        this.kind = b.kind;
        this.vocabSize = b.vocabSize;
        this.types = b.types;
        this.scores = b.scores;
        this.tokenMap = b.tokenMap;
        this.bos = b.bos;
        this.eos = b.eos;
        this.eot = b.eot;
        this.unk = b.unk;
        this.addBos = b.addBos;
        this.addEos = b.addEos;
        this.addSpacePrefix = b.addSpacePrefix;
        this.cleanSpaces = b.cleanSpaces;
        this.eogIds = b.eogIds;
        this.eog = new boolean[vocabSize];
        for (int id : eogIds) {
            eog[id] = true;
        }
        this.preTokenizer = b.preTokenizer;
        this.bpe = kind == Kind.BPE ? new BpeTokenizer(tokenMap, b.merges, preTokenizer.type(), preTokenizer.ignoreMerges()) : null;
        this.spm = kind == Kind.SPM ? new SpmTokenizer(source, tokenMap, scores, unk) : null;
        this.specials = new SpecialTokenSplitter(tokenMap::text, types);
        this.pieces = new AtomicReferenceArray<>(vocabSize);
        if (bpe != null && bpe.missingByteTokens() > 0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} of the 256 bytes have no token; text containing them "
                    + "loses them, as in llama.cpp", source, bpe.missingByteTokens());
        }
    }

    // ------------------------------------------------------------------------------------------------ loading

    /** Opens a GGUF file (a full model or a vocabulary-only file) and builds its tokenizer. */
    public static Tokenizer load(Path gguf, TokenizerOptions options) {
        try (GgufFile file = GgufFile.open(gguf)) {
            return fromGguf(file.metadata(), options);
        }
    }

    /** Builds the tokenizer of a GGUF file's metadata with {@link TokenizerOptions#DEFAULT}. */
    public static Tokenizer fromGguf(GgufMetadata md) {
        return fromGguf(md, TokenizerOptions.DEFAULT);
    }

    /** Builds the tokenizer of a GGUF file's metadata. */
    public static Tokenizer fromGguf(GgufMetadata md, TokenizerOptions options) {
        return new Tokenizer(new Builder(md, options));
    }

    /** Reads and checks the metadata. */
    private static final class Builder {
        final String source;
        Kind kind;
        int vocabSize;
        TokenType[] types;
        float[] scores;
        TokenMap tokenMap;
        MergeTable merges;
        PreTokenizerChoice preTokenizer;
        int bos;
        int eos;
        int eot;
        int unk;
        boolean addBos;
        boolean addEos;
        boolean addSpacePrefix;
        boolean cleanSpaces;
        int[] eogIds;

        Builder(GgufMetadata md, TokenizerOptions options) {
            source = md.source();
            String model = md.optionalString(KEY_MODEL).orElseThrow(() -> BitnetException.invalidModel(
                    source + ": no tokenizer: metadata key '" + KEY_MODEL + "' is missing"));
            switch (model) {
                case "gpt2" -> kind = Kind.BPE;
                case "llama" -> kind = Kind.SPM;
                case "bert", "t5", "rwkv", "no_vocab", "none" -> throw BitnetException.unsupported(source + ": "
                        + KEY_MODEL + " = '" + model + "' is not supported (supported: gpt2, llama)");
                default -> throw BitnetException.invalidModel(source + ": unknown tokenizer " + KEY_MODEL + " = '"
                        + model + "' (expected gpt2 or llama)");
            }
            readTokens(md);
            if (kind == Kind.BPE) {
                Optional<String> pre = md.optionalString(KEY_PRE);
                if (pre.isPresent()) {
                    preTokenizer = PreTokenizerChoice.forName(pre.get(), source + ": " + KEY_PRE,
                            BitnetException.Kind.INVALID_MODEL);
                } else {
                    preTokenizer = PreTokenizerChoice.forName(options.preTokenizerIfAbsent(), "pre-tokenizer setting",
                            BitnetException.Kind.USAGE);
                    LOG.log(System.Logger.Level.INFO, "{0}: {1} is absent; using pre-tokenizer ''{2}'' ({3})",
                            source, KEY_PRE, preTokenizer.name(), preTokenizer.type() == PreTokenizerType.LLAMA3
                                    ? "the Llama 3 split the model was trained with; bitnet.cpp uses 'default'"
                                    : "as set; the Llama 3 models were trained with 'llama3'");
                }
                readMerges(md);
                bos = specialId(md, "tokenizer.ggml.bos_token_id", 11);
                eos = specialId(md, "tokenizer.ggml.eos_token_id", 11);
                unk = specialId(md, "tokenizer.ggml.unknown_token_id", -1);
                addBos = preTokenizer.addBos();
                addSpacePrefix = false;
                cleanSpaces = preTokenizer.cleanSpaces();
            } else {
                bos = specialId(md, "tokenizer.ggml.bos_token_id", 1);
                eos = specialId(md, "tokenizer.ggml.eos_token_id", 2);
                unk = specialId(md, "tokenizer.ggml.unknown_token_id", 0);
                addBos = true;
                addSpacePrefix = true;
                cleanSpaces = false;
                for (int id = 0; id < vocabSize; id++) {
                    if (types[id] == TokenType.BYTE && !tokenMap.text(id).matches("<0x[0-9A-Fa-f]{2}>")) {
                        throw BitnetException.invalidModel(source + ": token " + id + " '" + tokenMap.text(id)
                                + "' has type BYTE but is not of the form <0xNN>");
                    }
                }
            }
            specialId(md, "tokenizer.ggml.seperator_token_id", -1);
            specialId(md, "tokenizer.ggml.padding_token_id", -1);
            addBos = md.optionalBool("tokenizer.ggml.add_bos_token").orElse(addBos);
            addEos = md.optionalBool("tokenizer.ggml.add_eos_token").orElse(false);
            addSpacePrefix = md.optionalBool("tokenizer.ggml.add_space_prefix").orElse(addSpacePrefix);
            if (addBos && bos < 0) {
                throw BitnetException.invalidModel(source + ": tokenizer.ggml.add_bos_token is true but the file "
                        + "names no BOS token");
            }
            if (addEos && eos < 0) {
                throw BitnetException.invalidModel(source + ": tokenizer.ggml.add_eos_token is true but the file "
                        + "names no EOS token");
            }
            findEndOfGeneration(md);
        }

        private void readTokens(GgufMetadata md) {
            List<String> list = md.optionalStringArray(KEY_TOKENS).orElseThrow(() -> BitnetException.invalidModel(
                    source + ": metadata key '" + KEY_TOKENS + "' is missing (expected an array of strings)"));
            int n = list.size();
            if (n == 0) {
                throw BitnetException.invalidModel(source + ": " + KEY_TOKENS + " is empty");
            }
            vocabSize = n;
            for (int id = 0; id < n; id++) {
                if (list.get(id).isEmpty()) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: empty token at index {1}", source, id);
                }
            }
            int[] dup = new int[2];
            tokenMap = new TokenMap(n, id -> storedText(list, id), dup);
            if (dup[0] >= 0) {
                throw BitnetException.invalidModel(source + ": " + KEY_TOKENS + " has the same token '"
                        + tokenMap.text(dup[0]) + "' at ids " + dup[0] + " and " + dup[1]);
            }
            scores = new float[n];
            Optional<double[]> s = md.optionalFloatArray(KEY_SCORES);
            if (s.isPresent()) {
                double[] values = s.get();
                checkLength(KEY_SCORES, values.length, n);
                for (int id = 0; id < n; id++) {
                    if (Double.isNaN(values[id])) {
                        throw BitnetException.invalidModel(source + ": " + KEY_SCORES + "[" + id + "] is NaN");
                    }
                    scores[id] = (float) values[id];
                }
            }
            types = new TokenType[n];
            Arrays.fill(types, TokenType.NORMAL);
            Optional<long[]> t = md.optionalIntArray(KEY_TYPES);
            if (t.isPresent()) {
                long[] values = t.get();
                checkLength(KEY_TYPES, values.length, n);
                for (int id = 0; id < n; id++) {
                    TokenType type = TokenType.fromCode(values[id]);
                    if (type == null) {
                        throw BitnetException.invalidModel(source + ": " + KEY_TYPES + "[" + id + "] = " + values[id]
                                + " is not a token type (0..6)");
                    }
                    types[id] = type;
                }
            }
        }

        /** A token's text as the file stores it, except that an empty one is renamed, as llama.cpp does. */
        private static String storedText(List<String> tokens, int id) {
            String text = tokens.get(id);
            return text.isEmpty() ? "[EMPTY_" + id + "]" : text;
        }

        private void checkLength(String key, int length, int n) {
            if (length != n) {
                throw BitnetException.invalidModel(source + ": " + key + " has " + length + " entries but "
                        + KEY_TOKENS + " has " + n);
            }
        }

        private void readMerges(GgufMetadata md) {
            List<String> list = md.optionalStringArray(KEY_MERGES).orElseThrow(() -> BitnetException.invalidModel(
                    source + ": metadata key '" + KEY_MERGES + "' is missing: a gpt2 (byte-level BPE) tokenizer "
                            + "needs its merges"));
            int n = list.size();
            int[] resolved = new int[3 * n];
            // resolving 280k merges is most of the load time: do it in parallel chunks (the map is read-only)
            int chunk = 16_384;
            int chunks = (n + chunk - 1) / chunk;
            String[] errors = new String[chunks];
            IntStream.range(0, chunks).parallel().forEach(c -> errors[c] =
                    resolveMerges(list, c * chunk, Math.min(n, (c + 1) * chunk), resolved));
            for (String error : errors) {
                if (error != null) {
                    throw BitnetException.invalidModel(error);
                }
            }
            int[] results = new int[n];
            for (int rank = 0; rank < n; rank++) {
                results[rank] = resolved[3 * rank + 2];
            }
            merges = new MergeTable(results);
            for (int rank = 0; rank < n; rank++) {
                merges.put(resolved[3 * rank], resolved[3 * rank + 1], rank);
            }
        }

        /** Writes (left, right, result) ids of merges [from, to); returns the first problem, or null. */
        private String resolveMerges(List<String> list, int from, int to, int[] resolved) {
            char[] buf = new char[64];
            char[] joined = new char[64];
            for (int rank = from; rank < to; rank++) {
                String merge = list.get(rank);
                int space = merge.indexOf(' ', 1);
                if (space < 0) {
                    return source + ": " + KEY_MERGES + "[" + rank + "] = '" + merge
                            + "' is not two tokens separated by a space";
                }
                int len = merge.length();
                if (buf.length < len) {
                    buf = new char[len * 2];
                    joined = new char[len * 2];
                }
                merge.getChars(0, len, buf, 0);
                int left = tokenMap.get(buf, 0, space);
                int right = tokenMap.get(buf, space + 1, len - space - 1);
                System.arraycopy(buf, 0, joined, 0, space);
                System.arraycopy(buf, space + 1, joined, space, len - space - 1);
                int result = tokenMap.get(joined, 0, len - 1);
                if (left < 0 || right < 0 || result < 0) {
                    String missing = left < 0 ? merge.substring(0, space)
                            : right < 0 ? merge.substring(space + 1) : new String(joined, 0, len - 1);
                    return source + ": " + KEY_MERGES + "[" + rank + "] = '" + merge + "' names '" + missing
                            + "', which is not in " + KEY_TOKENS;
                }
                resolved[3 * rank] = left;
                resolved[3 * rank + 1] = right;
                resolved[3 * rank + 2] = result;
            }
            return null;
        }

        /** A special-token id: absent -> the default; -1 (or u32 0xFFFFFFFF) -> none; otherwise it must be a token. */
        private int specialId(GgufMetadata md, String key, int defaultId) {
            OptionalLong v = md.optionalLong(key);
            if (v.isEmpty()) {
                return defaultId < vocabSize ? defaultId : -1;
            }
            long id = v.getAsLong();
            if (id == -1 || id == 0xFFFFFFFFL) {
                return -1;
            }
            if (id < 0 || id >= vocabSize) {
                throw BitnetException.invalidModel(source + ": metadata key '" + key + "' = " + id
                        + " is out of range: the vocabulary has " + vocabSize + " tokens");
            }
            return (int) id;
        }

        private void findEndOfGeneration(GgufMetadata md) {
            eot = specialId(md, "tokenizer.ggml.eot_token_id", -1);
            int eom = specialId(md, "tokenizer.ggml.eom_token_id", -1);
            if (eot < 0) {
                eot = firstWithText(EOT_TEXTS);
                makeControl(eot);
            }
            if (eom < 0) {
                eom = firstWithText(List.of("<|eom_id|>"));
                makeControl(eom);
            }
            TreeSet<Integer> set = new TreeSet<>();
            for (int f = 0; f < FIM_TEXTS.size(); f++) {
                List<String> spec = FIM_TEXTS.get(f);
                int id = specialId(md, spec.get(0), -1);
                if (id < 0 && !spec.get(1).isEmpty()) {
                    id = specialId(md, spec.get(1), -1);
                }
                if (id < 0) {
                    id = firstWithText(spec.subList(2, spec.size()));
                    makeControl(id);
                }
                if (id >= 0 && f >= 3) {
                    set.add(id); // FIM pad, repo and file-separator tokens end generation
                }
            }
            for (String text : EOG_TEXTS) {
                int id = tokenMap.get(text);
                if (id >= 0) {
                    set.add(id);
                    makeControl(id);
                }
            }
            for (int id : new int[] {eos, eot, eom}) {
                if (id >= 0) {
                    set.add(id);
                }
            }
            eogIds = set.stream().mapToInt(Integer::intValue).toArray();
        }

        /** The lowest id among the tokens with one of these texts, or -1. */
        private int firstWithText(List<String> candidates) {
            int first = -1;
            for (String text : candidates) {
                int id = tokenMap.get(text);
                if (id >= 0 && (first < 0 || id < first)) {
                    first = id;
                }
            }
            return first;
        }

        /** llama.cpp makes a control-looking token CONTROL when the file has it otherwise. */
        private void makeControl(int id) {
            if (id >= 0 && types[id] != TokenType.CONTROL) {
                LOG.log(System.Logger.Level.WARNING, "{0}: token {1} ''{2}'' looks like a control token but has "
                        + "type {3}; treating it as CONTROL, as llama.cpp does", source, id, tokenMap.text(id), types[id]);
                types[id] = TokenType.CONTROL;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /**
     * Text to token ids.
     *
     * @param addSpecial   add BOS (and EOS) as the vocabulary asks ({@link #addBos()}, {@link #addEos()})
     * @param parseSpecial turn the text of control tokens (e.g. {@code <|eot_id|>}) into their ids; without it
     *                     such text is tokenized as ordinary text (user-defined tokens are always matched)
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        if (addSpecial && addBos) {
            out.add(bos);
        }
        IntList fragments = new IntList(8);
        specials.split(text, parseSpecial, fragments);
        if (kind == Kind.BPE) {
            BpeTokenizer.Work work = new BpeTokenizer.Work();
            for (int f = 0; f < fragments.size(); f += 2) {
                int a = fragments.get(f);
                int b = fragments.get(f + 1);
                if (a == SpecialTokenSplitter.TOKEN) {
                    out.add(b);
                } else {
                    bpe.encode(text, a, b, work, out);
                }
            }
        } else {
            SpmTokenizer.Work work = new SpmTokenizer.Work();
            boolean afterSpecial = true; // the first fragment counts as following a special token
            for (int f = 0; f < fragments.size(); f += 2) {
                int a = fragments.get(f);
                int b = fragments.get(f + 1);
                if (a == SpecialTokenSplitter.TOKEN) {
                    out.add(b);
                    afterSpecial = true;
                } else {
                    spm.encode(text, a, b, addSpacePrefix && afterSpecial, work, out);
                    afterSpecial = false;
                }
            }
        }
        if (addSpecial && addEos) {
            out.add(eos);
        }
        return out.toArray();
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /**
     * The bytes of one token (llama.cpp's {@code llama_token_to_piece} without lstrip). Control and unknown
     * tokens give their text only when {@code special} is true and nothing otherwise. A piece may be part of a
     * UTF-8 character; use a {@link StreamingDecoder} to print pieces as they come.
     */
    public byte[] tokenToPiece(int id, boolean special) {
        return piece(id, special).clone();
    }

    /** The piece without a defensive copy: callers must not change it. */
    byte[] piece(int id, boolean special) {
        checkId(id);
        if (!special && types[id].isSpecial()) {
            return EMPTY;
        }
        byte[] piece = pieces.get(id);
        if (piece == null) {
            piece = computePiece(id);
            pieces.set(id, piece); // racing threads compute equal pieces
        }
        return piece;
    }

    private byte[] computePiece(int id) {
        String text = tokenMap.text(id);
        TokenType type = types[id];
        if (type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.USER_DEFINED) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (kind == Kind.SPM) {
            return switch (type) {
                case NORMAL -> text.replace(SpmTokenizer.SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
                case BYTE -> new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
                default -> new byte[0];
            };
        }
        if (type != TokenType.NORMAL) {
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                // llama.cpp's marker for a character outside the byte alphabet
                StringBuilder unk = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    unk.append(String.format("%02x", x & 0xFF));
                }
                unk.append(text).append(']');
                out.writeBytes(unk.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    /**
     * Token ids to text: the pieces joined, control tokens rendered only if {@code special}, the leading space
     * that SentencePiece adds removed from the first piece that has any text; no other clean-up, so that
     * {@code decode(encode(text, addSpecial, false))} gives back the text. (llama.cpp's {@code llama_detokenize}
     * strips the space only from the very first token, even a hidden BOS: see {@link #detokenize}.)
     */
    public String decode(int[] ids, boolean special) {
        return new String(join(ids, addSpacePrefix, special, true), StandardCharsets.UTF_8);
    }

    /** {@link #decode(int[], boolean)} without control-token text. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * llama.cpp's {@code llama_detokenize}: like {@link #decode(int[], boolean)}, and for byte-level BPE
     * vocabularies also its clean-up of spaces ({@code " ?"} to {@code "?"}, {@code " 's"} to {@code "'s"}, ...),
     * which Hugging Face calls {@code clean_up_tokenization_spaces}. That clean-up is why this does not always
     * give back the text that was encoded.
     *
     * @param removeSpecial  drop a leading BOS and a trailing EOS when the vocabulary adds them
     * @param unparseSpecial render control tokens as their text
     */
    public String detokenize(int[] ids, boolean removeSpecial, boolean unparseSpecial) {
        return detokenize(ids, removeSpecial, unparseSpecial, true);
    }

    /**
     * {@link #detokenize(int[], boolean, boolean)}, with the space clean-up only if {@code cleanSpaces} (and the
     * vocabulary asks for it).
     */
    public String detokenize(int[] ids, boolean removeSpecial, boolean unparseSpecial, boolean cleanSpaces) {
        int from = 0;
        int to = ids.length;
        if (removeSpecial && addBos && to > from && ids[from] == bos) {
            from++;
        }
        if (removeSpecial && addEos && to > from && ids[to - 1] == eos) {
            to--;
        }
        boolean stripSpace = addSpacePrefix && from == 0;
        byte[] bytes = join(Arrays.copyOfRange(ids, from, to), stripSpace, unparseSpecial, false);
        if (cleanSpaces && this.cleanSpaces) {
            bytes = cleanUpSpaces(bytes);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * The pieces joined; if {@code stripFirstSpace}, a leading space of the first piece is dropped (of the first
     * non-empty piece if {@code skipEmpty}).
     */
    private byte[] join(int[] ids, boolean stripFirstSpace, boolean special, boolean skipEmpty) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        boolean strip = stripFirstSpace;
        for (int id : ids) {
            byte[] piece = piece(id, special);
            int skip = strip && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            if (piece.length > 0 || !skipEmpty) {
                strip = false;
            }
            out.write(piece, skip, piece.length - skip);
        }
        return out.toByteArray();
    }

    /** llama.cpp's three clean-up passes over the detokenized bytes. */
    static byte[] cleanUpSpaces(byte[] text) {
        // 1: drop a space before ? ! . ,
        byte[] a = new byte[text.length];
        int n = 0;
        for (int i = 0; i < text.length; i++) {
            byte x = text[i];
            if (i > 0 && text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                n--;
            }
            a[n++] = x;
        }
        // 2: " ' " -> "'"
        byte[] b = new byte[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            byte x = a[i];
            if (i > 0 && x == '\'' && i + 1 < n && a[i - 1] == ' ' && a[i + 1] == ' ') {
                m--;
                b[m++] = x;
                i++; // the space after the apostrophe goes too
                continue;
            }
            b[m++] = x;
        }
        // 3: drop the space before 's 'm 're 've
        byte[] c = new byte[m];
        int k = 0;
        for (int i = 0; i < m; i++) {
            byte x = b[i];
            if (i > 0 && b[i - 1] == ' ' && x == '\'' && i + 1 < m) {
                byte x1 = b[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    k--;
                } else if (i + 2 < m) {
                    byte x2 = b[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        k--;
                    }
                }
            }
            c[k++] = x;
        }
        return Arrays.copyOf(c, k);
    }

    /** An incremental decoder that returns only whole UTF-8 characters (see {@link StreamingDecoder}). */
    public StreamingDecoder streamingDecoder(boolean special) {
        return new StreamingDecoder(this, special);
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocabSize) {
            throw BitnetException.usage("token id " + id + " is out of range: the vocabulary has " + vocabSize
                    + " tokens");
        }
    }

    // ------------------------------------------------------------------------------------------------ facts

    /** Where the vocabulary came from (a file name), for messages. */
    public String source() {
        return source;
    }

    public Kind kind() {
        return kind;
    }

    /** The byte-level BPE pre-tokenizer in use; empty for SentencePiece. */
    public Optional<PreTokenizerChoice> preTokenizer() {
        return Optional.ofNullable(preTokenizer);
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** The token's text as stored in the vocabulary (byte-level BPE text is in the GPT-2 alphabet). */
    public String tokenText(int id) {
        checkId(id);
        return tokenMap.text(id);
    }

    public TokenType tokenType(int id) {
        checkId(id);
        return types[id];
    }

    /** The SentencePiece score (0 when the file has none). */
    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** The id of the token with exactly this text, or -1. */
    public int tokenId(String text) {
        return tokenMap.get(text);
    }

    /** Beginning-of-sequence token, or -1. */
    public int bos() {
        return bos;
    }

    /** End-of-sequence token, or -1. */
    public int eos() {
        return eos;
    }

    /** End-of-turn token (metadata {@code eot_token_id} or the token {@code <|eot_id|>} and the like), or -1. */
    public int eot() {
        return eot;
    }

    /** Unknown token, or -1. */
    public int unk() {
        return unk;
    }

    public boolean addBos() {
        return addBos;
    }

    public boolean addEos() {
        return addEos;
    }

    /** Whether SentencePiece text gets a leading space (and loses it again when detokenized). */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** Whether a token ends generation: EOS, end-of-turn and the like (llama.cpp's EOG set). */
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && id < eog.length && eog[id];
    }

    /** The end-of-generation tokens, ascending. */
    public int[] endOfGenerationIds() {
        return eogIds.clone();
    }
}
