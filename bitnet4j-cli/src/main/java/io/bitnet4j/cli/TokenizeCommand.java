package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.BitnetException;
import io.bitnet4j.tokenizer.Tokenizer;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet tokenize -m FILE -p TEXT}: the token ids of a text, as llama.cpp's llama-tokenize gives them. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print the token ids of a text (like llama.cpp's llama-tokenize).",
                "FILE may be a full model or a vocabulary-only GGUF. Special-token text such as <|eot_id|> is "
                        + "ordinary text unless --special is given."})
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model or vocabulary")
    Path model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the text to tokenize")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the text from a UTF-8 file ('-' = standard input)")
    String file;

    @Option(names = "--jsonl", paramLabel = "IN",
            description = "read JSON lines with a \"text\" field ('-' = standard input); write {\"ids\": [...]} per line")
    String jsonl;

    @Option(names = "--ids", description = "print the ids as [1, 2, 3] (the default)")
    boolean ids;

    @Option(names = "--pieces", description = "print one line per token: id -> 'piece'")
    boolean pieces;

    @Option(names = "--no-bos", description = "do not add the BOS token even if the model asks for it")
    boolean noBos;

    @Option(names = "--special", description = "turn special-token text (e.g. <|eot_id|>) into its token")
    boolean special;

    @Option(names = "--pre-tokenizer", paramLabel = "NAME",
            description = "pre-tokenizer for byte-level BPE files without tokenizer.ggml.pre: llama3 (default, the "
                    + "Llama 3 split BitNet b1.58 2B-4T was trained with) or default (what bitnet.cpp uses), ...")
    String preTokenizer = TokenizerOptions.DEFAULT.preTokenizerIfAbsent();

    @Option(names = "--show-count", description = "also print the number of tokens")
    boolean showCount;

    @Override
    public Integer call() throws IOException {
        int sources = (prompt != null ? 1 : 0) + (file != null ? 1 : 0) + (jsonl != null ? 1 : 0);
        if (sources != 1) {
            throw BitnetException.usage("give exactly one of -p TEXT, -f FILE or --jsonl IN");
        }
        if (jsonl != null && (pieces || showCount)) {
            throw BitnetException.usage("--pieces and --show-count cannot be used with --jsonl");
        }
        if (ids && pieces) {
            throw BitnetException.usage("--ids and --pieces exclude each other");
        }
        TokenizerOptions options = new TokenizerOptions(preTokenizer);
        Tokenizer tokenizer = Tokenizer.load(model, options);
        PrintWriter out = spec.commandLine().getOut();
        if (jsonl != null) {
            tokenizeJsonLines(tokenizer, out);
        } else {
            String text = prompt != null ? prompt : CliText.readUtf8(file);
            int[] tokens = tokenizer.encode(text, !noBos, special);
            if (pieces) {
                for (int id : tokens) {
                    out.printf("%6d -> '%s'%n", id, CliText.printablePiece(tokenizer.tokenToPiece(id, true)));
                }
            } else {
                out.println(CliText.idList(tokens));
            }
            if (showCount) {
                out.println("Total number of tokens: " + tokens.length);
            }
        }
        out.flush();
        return 0;
    }

    private void tokenizeJsonLines(Tokenizer tokenizer, PrintWriter out) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        try (BufferedReader in = CliText.reader(jsonl)) {
            int lineNo = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = mapper.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw BitnetException.invalidFile(jsonl + ":" + lineNo + ": not valid JSON: "
                            + e.getOriginalMessage());
                }
                JsonNode text = node == null ? null : node.get("text");
                if (text == null || !text.isTextual()) {
                    throw BitnetException.invalidFile(jsonl + ":" + lineNo + ": expected a JSON object with a string "
                            + "field \"text\"");
                }
                ObjectNode result = mapper.createObjectNode();
                ArrayNode array = result.putArray("ids");
                for (int id : tokenizer.encode(text.asText(), !noBos, special)) {
                    array.add(id);
                }
                out.println(mapper.writeValueAsString(result));
            }
        }
    }
}
