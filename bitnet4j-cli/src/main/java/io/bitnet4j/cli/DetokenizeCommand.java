package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.BitnetException;
import io.bitnet4j.tokenizer.Tokenizer;
import io.bitnet4j.tokenizer.TokenizerOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bitnet detokenize -m FILE 9906 1917}: the text of token ids, as llama.cpp's llama_detokenize gives it. */
@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = {"Print the text of token ids (llama.cpp's llama_detokenize).",
                "Ids come as arguments (\"9906 1917\" or \"[9906, 1917]\"), from --jsonl, or from standard input."})
final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model or vocabulary")
    Path model;

    @Parameters(paramLabel = "IDS", arity = "0..*", description = "token ids")
    List<String> idArgs;

    @Option(names = "--jsonl", paramLabel = "IN",
            description = "read JSON lines with an \"ids\" array ('-' = standard input); write {\"text\": ...} per line")
    String jsonl;

    @Option(names = "--special", description = "print control tokens (e.g. <|eot_id|>) as their text")
    boolean special;

    @Option(names = "--remove-special", description = "drop a leading BOS and a trailing EOS")
    boolean removeSpecial;

    @Option(names = "--no-clean-spaces",
            description = "keep the text exactly as the tokens spell it (byte-level BPE vocabularies otherwise drop "
                    + "the space in \" ?\", \" 's\" and the like, as llama.cpp and Hugging Face do)")
    boolean noCleanSpaces;

    @Override
    public Integer call() throws IOException {
        boolean haveArgs = idArgs != null && !idArgs.isEmpty();
        if (haveArgs && jsonl != null) {
            throw BitnetException.usage("give the ids as arguments or with --jsonl, not both");
        }
        Tokenizer tokenizer = Tokenizer.load(model, TokenizerOptions.DEFAULT);
        PrintWriter out = spec.commandLine().getOut();
        if (jsonl != null) {
            ObjectMapper mapper = new ObjectMapper();
            try (BufferedReader in = CliText.reader(jsonl)) {
                int lineNo = 0;
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode ids;
                    try {
                        JsonNode node = mapper.readTree(line);
                        ids = node == null ? null : node.get("ids");
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw BitnetException.invalidFile(jsonl + ":" + lineNo + ": not valid JSON: "
                                + e.getOriginalMessage());
                    }
                    if (ids == null || !ids.isArray()) {
                        throw BitnetException.invalidFile(jsonl + ":" + lineNo + ": expected a JSON object with an "
                                + "array field \"ids\"");
                    }
                    int[] tokens = new int[ids.size()];
                    for (int i = 0; i < tokens.length; i++) {
                        if (!ids.get(i).canConvertToInt()) {
                            throw BitnetException.invalidFile(jsonl + ":" + lineNo + ": ids[" + i + "] is not an int");
                        }
                        tokens[i] = checked(tokenizer, ids.get(i).asInt());
                    }
                    out.println(mapper.writeValueAsString(mapper.createObjectNode().put("text", text(tokenizer, tokens))));
                }
            }
        } else {
            String source = haveArgs ? String.join(" ", idArgs) : CliText.readUtf8("-");
            int[] tokens = CliText.parseIds(source);
            for (int id : tokens) {
                checked(tokenizer, id);
            }
            out.println(text(tokenizer, tokens));
        }
        out.flush();
        return 0;
    }

    private String text(Tokenizer tokenizer, int[] tokens) {
        return tokenizer.detokenize(tokens, removeSpecial, special, !noCleanSpaces);
    }

    private static int checked(Tokenizer t, int id) {
        if (id < 0 || id >= t.vocabSize()) {
            throw BitnetException.usage("token id " + id + " is out of range: " + t.source() + " has "
                    + t.vocabSize() + " tokens");
        }
        return id;
    }
}
