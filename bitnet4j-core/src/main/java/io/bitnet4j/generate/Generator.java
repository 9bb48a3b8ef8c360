package io.bitnet4j.generate;

import io.bitnet4j.BitnetException;
import io.bitnet4j.engine.Session;
import io.bitnet4j.sampling.Sampler;
import io.bitnet4j.tokenizer.StreamingDecoder;
import io.bitnet4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The generation loop: the prompt is processed as a batch, then one token at a time is sampled, streamed as text
 * (whole UTF-8 characters only, held back while it could be the start of a stop string) and appended to the
 * session, until an end-of-generation token, the token limit, a stop string or a full context.
 *
 * <p>The last token of a generation that stops at the token limit, a stop string or a full context is not evaluated
 * (nothing would read its logits), as in llama.cpp: it stays pending and the next request evaluates it before its
 * prompt, so a conversation's context stays whole.
 */
public final class Generator {
    private final Session session;
    private final Tokenizer tokenizer;
    private final int newlineToken;
    /** The generated token that the session has not evaluated yet, or -1. */
    private int pending = -1;

    public Generator(Session session, Tokenizer tokenizer) {
        this.session = session;
        this.tokenizer = tokenizer;
        this.newlineToken = newlineToken(tokenizer);
    }

    /** The token of a lone newline, which repetition penalties leave alone (llama.cpp's penalize_nl = false). */
    static int newlineToken(Tokenizer tokenizer) {
        int[] ids = tokenizer.encode("\n", false, false);
        return ids.length == 1 ? ids[0] : -1;
    }

    /**
     * Whether the session holds no text yet, only control tokens such as BOS. SentencePiece puts a space before the
     * first word of a text; llama_detokenize (and llama2.c, sentencepiece's decoder) drop it from the first piece,
     * so the text generated after a bare BOS starts without it.
     */
    private boolean noTextSoFar() {
        int[] tokens = session.tokens();
        for (int i = 0; i < session.position(); i++) {
            if (tokenizer.tokenToPiece(tokens[i], false).length > 0) {
                return false;
            }
        }
        return true;
    }

    public Session session() {
        return session;
    }

    /** Empties the session and forgets a pending token: the next request starts a new conversation. */
    public void reset() {
        session.truncate(0);
        pending = -1;
    }

    /** Generates for {@code request}, passing each piece of text to {@code onText} as soon as it is final. */
    public GenerationResult generate(GenerationRequest request, Consumer<String> onText) {
        int[] prompt = withPending(request.prompt());
        if (prompt.length == 0 && session.position() == 0) {
            throw BitnetException.usage("the prompt is empty and the vocabulary adds no BOS token; give a prompt");
        }
        if (prompt.length >= session.remaining()) {
            throw BitnetException.limit("the prompt (" + prompt.length + " tokens) does not fit in the context of "
                    + session.capacity() + " tokens" + (session.position() > 0 ? " (" + session.position()
                    + " already used)" : "") + "; raise -c");
        }
        pending = -1;
        long start = System.nanoTime();
        float[] logits = prompt.length > 0 ? session.evaluate(prompt, 0, prompt.length) : session.logits();
        long promptDone = System.nanoTime();

        Sampler sampler = new Sampler(request.sampler(), session.forwardPass().config().vocabSize(), newlineToken);
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        StopStringFilter filter = new StopStringFilter(request.stopStrings(), onText);
        boolean dropLeadingSpace = tokenizer.addSpacePrefix() && noTextSoFar();
        int[] generated = new int[16];
        int count = 0;
        long firstToken = 0;
        StopReason reason = request.maxTokens() == 0 ? StopReason.MAX_TOKENS : null;
        while (reason == null) {
            int token = sampler.sample(logits, session.tokens(), session.position());
            if (count == 0) {
                firstToken = System.nanoTime() - start;
            }
            if (tokenizer.isEndOfGeneration(token) && !request.ignoreEndOfGeneration()) {
                reason = StopReason.END_OF_GENERATION;
                break;
            }
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, count * 2);
            }
            generated[count++] = token;
            String piece = decoder.feed(token);
            if (dropLeadingSpace && !piece.isEmpty()) {
                piece = piece.charAt(0) == ' ' ? piece.substring(1) : piece;
                dropLeadingSpace = false;
            }
            if (filter.accept(piece)) {
                reason = StopReason.STOP_STRING;
            } else if (request.maxTokens() >= 0 && count >= request.maxTokens()) {
                reason = StopReason.MAX_TOKENS;
            } else if (session.remaining() == 0) {
                reason = StopReason.CONTEXT_FULL;
            } else {
                logits = session.evaluate(token);
                continue;
            }
            pending = token;
        }
        if (reason != StopReason.STOP_STRING) {
            filter.accept(decoder.flush());
            filter.finish();
        }
        long end = System.nanoTime();
        Timings timings = new Timings(prompt.length, promptDone - start, count, end - promptDone,
                count > 0 ? firstToken : 0);
        return new GenerationResult(Arrays.copyOf(generated, count), filter.text(), reason, timings);
    }

    /** The prompt, after the pending token if there is one. */
    private int[] withPending(int[] prompt) {
        if (pending < 0) {
            return prompt;
        }
        int[] tokens = new int[prompt.length + 1];
        tokens[0] = pending;
        System.arraycopy(prompt, 0, tokens, 1, prompt.length);
        return tokens;
    }
}
