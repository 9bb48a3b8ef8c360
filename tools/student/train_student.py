#!/usr/bin/env python3
"""Distil a tiny ternary BitNet b1.58 student from Karpathy's stories260K teacher.

Run once, offline (never by the build or the tests).  See README.md next to this file.

Sub-commands
  verify-teacher   port check: greedy 200 tokens from BOS must equal expected_greedy_200.txt
  train            quantization-aware distillation run (teacher samples -> CE + KL), CSV log,
                   checkpoints, final dev perplexity
  sweep            several short `train` runs with different shapes, one after the other
  export           ternarize a checkpoint (per-tensor scale rounded to F16), write
                   model.safetensors + config.json, re-evaluate, write samples.txt
  eval             dev perplexity (llama.cpp `perplexity` protocol) of the teacher and/or a
                   checkpoint / exported safetensors

Student graph = BitNet b1.58 2B-4T (`bitnet-b1.58`, build_bitnet_158): RMSNorm -> BitLinear q/k/v ->
NEOX RoPE -> causal GQA attention -> attn_sub_norm -> BitLinear o; RMSNorm -> BitLinear up/gate ->
relu(gate)^2 * up -> ffn_sub_norm -> BitLinear down; final RMSNorm; tied lm_head (token embedding).
"""
import argparse
import csv
import heapq
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)  # shared machine: one core only

DATA = "/work/shared/data"
TEACHER_BIN = f"{DATA}/llama2c/stories260K.bin"
TOK_BIN = f"{DATA}/llama2c/tok512.bin"
TOK_MODEL = f"{DATA}/llama2c/tok512.model"
EXPECTED_GREEDY = f"{DATA}/llama2c/expected_greedy_200.txt"
DEV_TXT = f"{DATA}/corpora/tinystories-dev.txt"  # HELD OUT: evaluation only, never trained on
BOS, EOS = 1, 2
EPS = 1e-5


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------------------------
# Tokenizers
# ----------------------------------------------------------------------------------------------
class Llama2cDecoder:
    """Decoder for llama2.c's tok512.bin (same rules as run.c decode + safe_printf)."""

    def __init__(self, path=TOK_BIN):
        with open(path, "rb") as f:
            buf = f.read()
        (self.max_len,) = struct.unpack_from("<i", buf, 0)
        off, self.pieces = 4, []
        while off < len(buf):
            _score, n = struct.unpack_from("<fi", buf, off)
            off += 8
            self.pieces.append(buf[off:off + n])
            off += n

    def piece(self, prev, tok):
        p = self.pieces[tok]
        if prev == BOS and p[:1] == b" ":
            p = p[1:]
        if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
            b = int(p[3:5], 16)
            # safe_printf: skip unprintable single bytes, keep whitespace
            p = bytes([b]) if (32 <= b < 127 or chr(b).isspace() or b >= 128) else b""
        return p

    def decode(self, toks, prev=BOS):
        out = b""
        for t in toks:
            out += self.piece(prev, t)
            prev = t
        return out.decode("utf-8", errors="replace")


class LlamaCppSpmTokenizer:
    """llama.cpp's SentencePiece (SPM) tokenizer: add BOS, prepend ' ', ' ' -> U+2581, then merge
    the adjacent pair whose concatenation is a vocab piece with the highest score (ties: leftmost),
    unknown characters -> <0xNN> byte tokens.  Unlike sentencepiece's own encoder it does NOT
    collapse repeated spaces or strip leading/trailing whitespace.  Pieces/scores are read from
    tok512.model through python3-sentencepiece."""

    def __init__(self, path=TOK_MODEL):
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=path)
        n = sp.get_piece_size()
        self.score = [sp.get_score(i) for i in range(n)]
        self.id = {}
        for i in range(n):
            if sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i):
                continue
            self.id[sp.id_to_piece(i)] = i
        self.byte_id = {}
        for i in range(n):
            if sp.is_byte(i):
                self.byte_id[int(sp.id_to_piece(i)[3:5], 16)] = i

    def encode(self, text, add_bos=True):
        text = (" " + text).replace(" ", "\u2581")
        sym = list(text)  # one symbol per code point (= per UTF-8 character)
        prev = list(range(-1, len(sym) - 1))
        nxt = list(range(1, len(sym) + 1))
        nxt[-1] = -1
        alive = [True] * len(sym)
        heap = []

        def add(l, r):
            if l < 0 or r < 0:
                return
            t = self.id.get(sym[l] + sym[r])
            if t is not None:
                heapq.heappush(heap, (-self.score[t], l, r, len(sym[l]) + len(sym[r])))

        for i in range(len(sym) - 1):
            add(i, i + 1)
        while heap:
            _, l, r, size = heapq.heappop(heap)
            if not alive[l] or not alive[r] or nxt[l] != r or len(sym[l]) + len(sym[r]) != size:
                continue
            sym[l] += sym[r]
            alive[r] = False
            nxt[l] = nxt[r]
            if nxt[r] >= 0:
                prev[nxt[r]] = l
            add(prev[l], l)
            add(l, nxt[l])
        out = [BOS] if add_bos else []
        i = 0
        while i >= 0:
            t = self.id.get(sym[i])
            if t is not None:
                out.append(t)
            else:  # only unmerged single characters can be missing from the vocab
                out.extend(self.byte_id[b] for b in sym[i].encode("utf-8"))
            i = nxt[i]
        return out


# ----------------------------------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------------------------------
def rmsnorm(x, g):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g


def causal_attention(q, k, v):
    """q [B,H,T,hd], k/v [B,KV,S,hd] -> [B,T,H*hd]; head h uses kv head h // (H/KV)."""
    B, H, T, hd = q.shape
    KV, S = k.shape[1], k.shape[2]
    g = H // KV
    q = q.reshape(B, KV, g * T, hd)  # group the g query heads of each kv head
    att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))  # [B,KV,g*T,S]
    att = att.view(B, KV, g, T, S)
    qpos = torch.arange(S - T, S).view(T, 1)
    mask = torch.arange(S).view(1, S) > qpos  # causal
    att = att.masked_fill(mask, float("-inf")).softmax(-1).view(B, KV, g * T, S)
    o = (att @ v).view(B, H, T, hd)
    return o.transpose(1, 2).reshape(B, T, H * hd)


# ----------------------------------------------------------------------------------------------
# Teacher: stories260K in llama2.c's legacy format
# ----------------------------------------------------------------------------------------------
class Teacher(nn.Module):
    def __init__(self, path=TEACHER_BIN):
        super().__init__()
        with open(path, "rb") as f:
            buf = f.read()
        dim, hidden, L, nh, nkv, vocab, seq = struct.unpack_from("<7i", buf, 0)
        self.shared = vocab > 0
        vocab = abs(vocab)
        self.cfg = dict(dim=dim, hidden=hidden, n_layers=L, n_heads=nh, n_kv_heads=nkv, vocab=vocab, seq_len=seq)
        hs = dim // nh
        kvd = nkv * hs
        arr = np.frombuffer(buf, dtype="<f4", offset=28)
        off = 0

        def take(*shape):
            nonlocal off
            n = int(np.prod(shape))
            t = torch.from_numpy(arr[off:off + n].copy()).view(*shape)
            off += n
            return t

        self.emb = take(vocab, dim)
        self.rms_att = take(L, dim)
        self.wq, self.wk, self.wv = take(L, dim, dim), take(L, kvd, dim), take(L, kvd, dim)
        self.wo = take(L, dim, dim)
        self.rms_ffn = take(L, dim)
        self.w1, self.w2, self.w3 = take(L, hidden, dim), take(L, dim, hidden), take(L, hidden, dim)
        self.rms_final = take(dim)
        off += seq * hs  # freq_cis_real + freq_cis_imag (seq * hs/2 each); recomputed below
        self.wcls = self.emb if self.shared else take(vocab, dim)
        assert off == arr.size, (off, arr.size)
        self.L, self.nh, self.nkv, self.hs = L, nh, nkv, hs
        # llama2.c: freq = 1/10000^(2i/hs) for the pair (2i, 2i+1) inside each head
        i = torch.arange(0, hs, 2, dtype=torch.float32)
        self.freq = 1.0 / torch.pow(torch.tensor(10000.0), i / hs)

    def rope(self, x, pos):  # x [B,T,nh,hs]; interleaved ("NORM") pairs
        ang = pos.float().view(-1, 1) * self.freq.view(1, -1)  # [T, hs/2]
        c, s = ang.cos().view(1, -1, 1, self.hs // 2), ang.sin().view(1, -1, 1, self.hs // 2)
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2)

    @torch.no_grad()
    def forward(self, tokens, cache=None, start=0):
        """tokens [B,T] -> logits [B,T,V]; cache: list of (k,v) per layer, extended in place."""
        B, T = tokens.shape
        pos = torch.arange(start, start + T)
        x = self.emb[tokens]
        for l in range(self.L):
            a = rmsnorm(x, self.rms_att[l])
            q = self.rope((a @ self.wq[l].t()).view(B, T, self.nh, self.hs), pos)
            k = self.rope((a @ self.wk[l].t()).view(B, T, self.nkv, self.hs), pos)
            v = (a @ self.wv[l].t()).view(B, T, self.nkv, self.hs)
            k, v = k.transpose(1, 2), v.transpose(1, 2)
            if cache is not None:  # preallocated KV cache, grown by doubling
                if len(cache) <= l:
                    cache.append((k.new_empty(B, self.nkv, 1024, self.hs), k.new_empty(B, self.nkv, 1024, self.hs)))
                if cache[l][0].shape[2] < start + T:
                    n = 2 * (start + T)
                    cache[l] = tuple(torch.cat((c, c.new_empty(B, self.nkv, n - c.shape[2], self.hs)), 2)
                                     for c in cache[l])
                cache[l][0][:, :, start:start + T] = k
                cache[l][1][:, :, start:start + T] = v
                k, v = cache[l][0][:, :, :start + T], cache[l][1][:, :, :start + T]
            x = x + causal_attention(q.transpose(1, 2), k, v) @ self.wo[l].t()
            f = rmsnorm(x, self.rms_ffn[l])
            x = x + (F.silu(f @ self.w1[l].t()) * (f @ self.w3[l].t())) @ self.w2[l].t()
        return rmsnorm(x, self.rms_final) @ self.wcls.t()

    @torch.no_grad()
    def sample(self, batch, length, gen, temperature=1.0):
        """Sample `batch` sequences of `length` tokens starting with BOS (temperature 1, runs across
        story boundaries). Returns tokens [B,length] and the teacher's log-probs [B,length-1,V] at
        each input position (the distributions the next tokens were sampled from)."""
        toks = torch.full((batch, length), BOS, dtype=torch.long)
        logp = torch.empty(batch, length - 1, self.cfg["vocab"])
        cache = []
        for t in range(length - 1):
            lg = self.forward(toks[:, t:t + 1], cache, start=t)[:, 0]
            lp = torch.log_softmax(lg, -1)
            logp[:, t] = lp
            probs = torch.softmax(lg / temperature, -1)
            toks[:, t + 1] = torch.multinomial(probs, 1, generator=gen)[:, 0]
        return toks, logp


# ----------------------------------------------------------------------------------------------
# Student: BitNet b1.58 (2B-4T graph) with quantization-aware training
# ----------------------------------------------------------------------------------------------
def weight_quant(w):
    """absmean ternary, per tensor: returns (codes in {-1,0,1}, scale=1/s)."""
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    return (w * s).round().clamp(-1, 1), 1.0 / s


def act_quant(x):
    """per-token absmax int8 (round half to even, like the engine)."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127) / s


class BitLinear(nn.Module):
    def __init__(self, fin, fout, std=0.02):
        super().__init__()
        assert fin % 256 == 0, "BitLinear input rows must be a multiple of 256"
        self.weight = nn.Parameter(torch.randn(fout, fin) * std)
        self.prequantized = False  # True after loading exported (already ternary) weights

    def forward(self, x):
        w = self.weight
        if not self.prequantized:
            codes, scale = weight_quant(w)
            w = w + (codes * scale - w).detach()  # STE
        x = x + (act_quant(x) - x).detach()  # STE
        return F.linear(x, w)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c["dim"], c["dim"] // c["n_heads"]
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.q = BitLinear(d, c["n_heads"] * hd)
        self.k = BitLinear(d, c["n_kv_heads"] * hd)
        self.v = BitLinear(d, c["n_kv_heads"] * hd)
        self.attn_sub_norm = nn.Parameter(torch.ones(c["n_heads"] * hd))
        self.o = BitLinear(c["n_heads"] * hd, d)
        self.ffn_norm = nn.Parameter(torch.ones(d))
        self.up = BitLinear(d, c["ffn"])
        self.gate = BitLinear(d, c["ffn"])
        self.ffn_sub_norm = nn.Parameter(torch.ones(c["ffn"]))
        self.down = BitLinear(c["ffn"], d)


class Student(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = dict(c)
        self.nh, self.nkv = c["n_heads"], c["n_kv_heads"]
        self.hd = c["dim"] // c["n_heads"]
        self.embed = nn.Parameter(torch.randn(c["vocab"], c["dim"]) * 0.02)
        self.layers = nn.ModuleList(Block(c) for _ in range(c["n_layers"]))
        self.norm = nn.Parameter(torch.ones(c["dim"]))
        i = torch.arange(0, self.hd, 2, dtype=torch.float64)
        self.register_buffer("inv_freq", (1.0 / c.get("rope_theta", 10000.0) ** (i / self.hd)).float(), persistent=False)

    def rope(self, x, cos, sin):  # x [B,H,T,hd]; NEOX: dim i paired with i + hd/2
        h = self.hd // 2
        x1, x2 = x[..., :h], x[..., h:]
        return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), -1)

    def forward(self, tokens):
        B, T = tokens.shape
        ang = torch.arange(T, dtype=torch.float32).view(-1, 1) * self.inv_freq.view(1, -1)
        cos, sin = ang.cos(), ang.sin()
        x = self.embed[tokens]
        for b in self.layers:
            a = rmsnorm(x, b.attn_norm)
            q = self.rope(b.q(a).view(B, T, self.nh, self.hd).transpose(1, 2), cos, sin)
            k = self.rope(b.k(a).view(B, T, self.nkv, self.hd).transpose(1, 2), cos, sin)
            v = b.v(a).view(B, T, self.nkv, self.hd).transpose(1, 2)
            o = rmsnorm(causal_attention(q, k, v), b.attn_sub_norm)
            x = x + b.o(o)
            f = rmsnorm(x, b.ffn_norm)
            t = F.relu(b.gate(f)).square() * b.up(f)
            x = x + b.down(rmsnorm(t, b.ffn_sub_norm))
        return rmsnorm(x, self.norm) @ self.embed.t()

    def init_from_teacher(self, teacher):
        """Copy what fits: embedding columns [0, 64) and the teacher's norm gains (first 64 entries)."""
        td = teacher.cfg["dim"]
        with torch.no_grad():
            self.embed[:, :td] = teacher.emb
            self.embed[:, td:].normal_(0.0, float(teacher.emb.std()) * 0.1)
            self.norm[:td] = teacher.rms_final
            for l, b in enumerate(self.layers):
                if l < teacher.L:
                    b.attn_norm[:td] = teacher.rms_att[l]
                    b.ffn_norm[:td] = teacher.rms_ffn[l]

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


# ----------------------------------------------------------------------------------------------
# Evaluation: llama.cpp `perplexity` protocol
# ----------------------------------------------------------------------------------------------
_DEV_TOKENS = None


def dev_tokens():
    global _DEV_TOKENS
    if _DEV_TOKENS is None:
        with open(DEV_TXT, encoding="utf-8") as f:
            _DEV_TOKENS = LlamaCppSpmTokenizer().encode(f.read(), add_bos=True)
    return _DEV_TOKENS


@torch.no_grad()
def perplexity(model, n_ctx=512, batch=8):
    """Tokenize the whole file (BOS + ' ' prefix), cut into n_ctx chunks, first token of each chunk
    := BOS, score logits at positions n_ctx/2 .. n_ctx-2 against tokens n_ctx/2+1 .. n_ctx-1
    (exactly examples/perplexity/perplexity.cpp: n_ctx - 1 - n_ctx/2 tokens per chunk)."""
    toks = torch.tensor(dev_tokens(), dtype=torch.long)
    n_chunk = len(toks) // n_ctx
    chunks = toks[: n_chunk * n_ctx].view(n_chunk, n_ctx).clone()
    chunks[:, 0] = BOS
    first = n_ctx // 2
    nll, count = 0.0, 0
    for i in range(0, n_chunk, batch):
        c = chunks[i:i + batch]
        lp = torch.log_softmax(model(c).double(), -1)
        tgt = c[:, first + 1:]
        nll -= lp[:, first:n_ctx - 1].gather(-1, tgt.unsqueeze(-1)).sum().item()
        count += tgt.numel()
    m = nll / count
    return dict(mean_nll=m, ppl=math.exp(m), n_chunk=n_chunk, n_scored=count, n_tokens=len(toks))


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------
class TeacherStream:
    """Teacher-generated training batches, sampled on the fly from a seeded generator (the same
    seed gives the same data for every run).  Each row: BOS + 512 sampled tokens (513), so all 512
    input positions of a 512-token context get a target and a teacher distribution."""

    def __init__(self, teacher, seed, gen_batch=128, length=513):
        self.t, self.gen_batch, self.length = teacher, gen_batch, length
        self.gen = torch.Generator().manual_seed(seed)
        self.toks = self.logp = None
        self.pos = 0
        self.gen_time = 0.0

    def next(self, bs):
        if self.toks is None or self.pos + bs > self.toks.shape[0]:
            t0 = time.time()
            self.toks, self.logp = self.t.sample(self.gen_batch, self.length, self.gen)
            self.gen_time += time.time() - t0
            self.pos = 0
        s = slice(self.pos, self.pos + bs)
        self.pos += bs
        return self.toks[s], self.logp[s]

    def state(self):
        return dict(gen=self.gen.get_state(), toks=self.toks, logp=self.logp, pos=self.pos)

    def load(self, st):
        self.gen.set_state(st["gen"])
        self.toks, self.logp, self.pos = st["toks"], st["logp"], st["pos"]


def lr_at(step, total, peak, warmup, final_frac):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def student_config(a):
    assert a.dim % 256 == 0 and a.ffn % 256 == 0 and a.dim % a.heads == 0 and a.heads % a.kv_heads == 0
    return dict(dim=a.dim, n_layers=a.layers, n_heads=a.heads, n_kv_heads=a.kv_heads, ffn=a.ffn,
                vocab=512, ctx=512, rope_theta=10000.0)


def make_optimizer(model, lr, wd):
    decay = [p for n, p in model.named_parameters() if n.endswith(".weight")]  # BitLinear weights
    rest = [p for n, p in model.named_parameters() if not n.endswith(".weight")]  # embed, norms
    return torch.optim.AdamW([dict(params=decay, weight_decay=wd), dict(params=rest, weight_decay=0.0)],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def train(a):
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    teacher = Teacher()
    cfg = student_config(a)
    model = Student(cfg)
    model.init_from_teacher(teacher)
    opt = make_optimizer(model, a.lr, a.wd)
    stream = TeacherStream(teacher, a.seed)
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    step, elapsed0 = 0, 0.0
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        stream.load(ck["stream"])
        step, elapsed0 = ck["step"], ck["elapsed"]
        torch.set_rng_state(ck["rng"])
        log(f"resumed at step {step}")
    with open(os.path.join(a.out, "args.json"), "w") as f:
        json.dump(dict(vars(a), student=cfg, n_params=model.n_params()), f, indent=1)
    log(f"student {cfg} params={model.n_params()}")
    csv_path = os.path.join(a.out, "train_log.csv")
    new_csv = not (a.resume and os.path.exists(csv_path))
    fcsv = open(csv_path, "w" if new_csv else "a", newline="")
    w = csv.writer(fcsv)
    if new_csv:
        w.writerow(["step", "lr", "loss", "ce", "kl", "tokens_seen", "tok_per_s", "elapsed_s", "dev_ppl"])

    def save(tag="ckpt.pt"):
        tmp = os.path.join(a.out, tag + ".tmp")
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), stream=stream.state(), step=step,
                        elapsed=elapsed0 + time.time() - t_start, rng=torch.get_rng_state(), cfg=cfg,
                        args=vars(a)), tmp)
        os.replace(tmp, os.path.join(a.out, tag))

    t_start = time.time()
    tokens_per_step = a.batch * 512
    acc = dict(loss=0.0, ce=0.0, kl=0.0, n=0)
    t_win, last_ckpt = time.time(), time.time()
    while step < a.steps:
        if a.max_minutes and elapsed0 + time.time() - t_start > a.max_minutes * 60:
            log("time budget reached")
            break
        lr = lr_at(step, a.steps, a.lr, a.warmup, a.final_lr_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        toks, tlogp = stream.next(a.batch)
        inp, tgt = toks[:, :-1], toks[:, 1:]
        logits = model(inp)
        slogp = torch.log_softmax(logits, -1)
        ce = F.nll_loss(slogp.reshape(-1, slogp.shape[-1]), tgt.reshape(-1))
        kl = (tlogp.exp() * (tlogp - slogp)).sum(-1).mean()  # KL(teacher || student), nats/token
        loss = a.ce_weight * ce + a.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        step += 1
        acc["loss"] += loss.item(); acc["ce"] += ce.item(); acc["kl"] += kl.item(); acc["n"] += 1
        last = step == a.steps
        if step % a.log_every == 0 or last:
            now = time.time()
            n = acc["n"]
            dev = ""
            if a.eval_every and (step % a.eval_every == 0 or last):
                model.eval()
                dev = f"{perplexity(model)['ppl']:.4f}"
                model.train()
            el = elapsed0 + time.time() - t_start
            w.writerow([step, f"{lr:.6g}", f"{acc['loss']/n:.5f}", f"{acc['ce']/n:.5f}", f"{acc['kl']/n:.5f}",
                        step * tokens_per_step, f"{n*tokens_per_step/(now-t_win):.1f}", f"{el:.1f}", dev])
            fcsv.flush()
            log(f"step {step} lr {lr:.2e} loss {acc['loss']/n:.4f} ce {acc['ce']/n:.4f} kl {acc['kl']/n:.4f} "
                f"{n*tokens_per_step/(now-t_win):.0f} tok/s el {el:.0f}s {('dev_ppl ' + dev) if dev else ''}")
            acc = dict(loss=0.0, ce=0.0, kl=0.0, n=0)
            t_win = time.time()
        if time.time() - last_ckpt > a.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    save()
    model.eval()
    res = perplexity(model)
    res.update(step=step, steps_planned=a.steps, wall_s=elapsed0 + time.time() - t_start,
               tokens_seen=step * tokens_per_step, params=model.n_params(), cfg=cfg,
               teacher_gen_s=stream.gen_time)
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    log(f"final dev ppl {res['ppl']:.4f} (mean nll {res['mean_nll']:.5f})")
    return res


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------
def hf_tensors(model):
    """name -> float32 tensor in HF BitNet names, projection weights ternarized with an F16 scale."""
    out, scales = {}, {}

    def tern(name, w):
        codes, scale = weight_quant(w.detach())
        scale16 = float(torch.tensor(float(scale)).half())  # per-tensor scale, F16-representable
        out[name] = (codes * scale16).float().contiguous()
        scales[name] = scale16

    out["model.embed_tokens.weight"] = model.embed.detach().float().contiguous()
    for i, b in enumerate(model.layers):
        p = f"model.layers.{i}."
        out[p + "input_layernorm.weight"] = b.attn_norm.detach().float()
        for n in "qkvo":
            tern(p + f"self_attn.{n}_proj.weight", getattr(b, n).weight)
        out[p + "self_attn.attn_sub_norm.weight"] = b.attn_sub_norm.detach().float()
        out[p + "post_attention_layernorm.weight"] = b.ffn_norm.detach().float()
        for n in ("gate", "up", "down"):
            tern(p + f"mlp.{n}_proj.weight", getattr(b, n).weight)
        out[p + "mlp.ffn_sub_norm.weight"] = b.ffn_sub_norm.detach().float()
    out["model.norm.weight"] = model.norm.detach().float()
    return out, scales


def write_safetensors(path, tensors, metadata=None):
    header, off, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        b = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = dict(dtype="F32", shape=list(t.shape), data_offsets=[off, off + len(b)])
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # align the data section to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        assert info["dtype"] == "F32"
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").copy()).view(info["shape"])
    return out


def student_from_hf(tensors, cfg):
    m = Student(cfg)
    with torch.no_grad():
        m.embed.copy_(tensors["model.embed_tokens.weight"])
        m.norm.copy_(tensors["model.norm.weight"])
        for i, b in enumerate(m.layers):
            p = f"model.layers.{i}."
            b.attn_norm.copy_(tensors[p + "input_layernorm.weight"])
            b.attn_sub_norm.copy_(tensors[p + "self_attn.attn_sub_norm.weight"])
            b.ffn_norm.copy_(tensors[p + "post_attention_layernorm.weight"])
            b.ffn_sub_norm.copy_(tensors[p + "mlp.ffn_sub_norm.weight"])
            for n in "qkvo":
                getattr(b, n).weight.copy_(tensors[p + f"self_attn.{n}_proj.weight"])
                getattr(b, n).prequantized = True
            for n in ("gate", "up", "down"):
                getattr(b, n).weight.copy_(tensors[p + f"mlp.{n}_proj.weight"])
                getattr(b, n).prequantized = True
    return m.eval()


def load_checkpoint(path):
    ck = torch.load(path)
    m = Student(ck["cfg"])
    m.load_state_dict(ck["model"])
    return m.eval(), ck


@torch.no_grad()
def generate(model, prompt, n, temperature, gen):
    toks = list(prompt)
    for _ in range(n):
        lg = model(torch.tensor([toks[-512:]]))[0, -1]
        if temperature == 0:
            nxt = int(lg.argmax())
        else:
            nxt = int(torch.multinomial(torch.softmax(lg / temperature, -1), 1, generator=gen))
        toks.append(nxt)
    return toks


def export(a):
    os.makedirs(a.final, exist_ok=True)
    model, ck = load_checkpoint(a.ckpt)
    cfg = ck["cfg"]
    q_res = perplexity(model)  # QAT forward (ternary weights with exact scale, int8 activations)
    tensors, scales = hf_tensors(model)
    # sanity: every projection is exactly code * scale16
    for name, s in scales.items():
        t = tensors[name]
        u = torch.unique(t.abs())
        assert all(float(x) in (0.0, s) for x in u), name
    st_path = os.path.join(a.final, "model.safetensors")
    write_safetensors(st_path, tensors, metadata=dict(format="pt", source="tools/student/train_student.py"))
    hf_cfg = {
        "architectures": ["BitNetForCausalLM"], "model_type": "bitnet",
        "hidden_size": cfg["dim"], "intermediate_size": cfg["ffn"], "num_hidden_layers": cfg["n_layers"],
        "num_attention_heads": cfg["n_heads"], "num_key_value_heads": cfg["n_kv_heads"],
        "vocab_size": 512, "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "hidden_act": "relu2", "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    }
    with open(os.path.join(a.final, "config.json"), "w") as f:
        json.dump(hf_cfg, f, indent=2)
    # re-load what was written and evaluate it (weights used as stored, no re-quantization)
    exported = student_from_hf(read_safetensors(st_path), cfg)
    e_res = perplexity(exported)
    teacher = Teacher()
    t_res = perplexity(teacher)
    res = dict(teacher=t_res, student_qat=q_res, student_exported=e_res, scales=scales, cfg=cfg,
               ckpt_step=ck["step"])
    with open(os.path.join(a.final, "eval.json"), "w") as f:
        json.dump(res, f, indent=1)
    log(f"teacher ppl {t_res['ppl']:.4f} | student (QAT fwd) {q_res['ppl']:.4f} | exported {e_res['ppl']:.4f}")
    # samples
    dec, tok = Llama2cDecoder(), LlamaCppSpmTokenizer()
    once = tok.encode("Once upon a time", add_bos=True)
    lines = []
    for label, m in (("student (exported model.safetensors)", exported), ("teacher (stories260K)", teacher)):
        gen = torch.Generator().manual_seed(a.seed)
        for pname, prompt in (("BOS", [BOS]), ('"Once upon a time"', once)):
            for temp, reps in ((0.0, 1), (0.8, 2)):
                for r in range(reps):
                    out = generate(m, prompt, 200, temp, gen)
                    kind = "greedy" if temp == 0 else f"temperature 0.8, sample {r + 1} (seed {a.seed})"
                    lines.append(f"=== {label} | prompt {pname} | {kind} ===\n{dec.decode(out[1:])}\n")
    with open(os.path.join(a.final, "samples.txt"), "w") as f:
        f.write("\n".join(lines))
    return res


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------
def verify_teacher(a):
    t = Teacher()
    toks, cache = [BOS], []
    lg = t(torch.tensor([[BOS]]), cache, 0)
    for pos in range(1, 201):  # llama2.c `-n 200`: forwards at positions 0..199 -> 200 tokens
        nxt = int(lg[0, -1].argmax())
        if nxt == BOS:  # llama2.c stops on BOS
            break
        toks.append(nxt)
        lg = t(torch.tensor([[nxt]]), cache, pos)
    text = Llama2cDecoder().decode(toks[1:])
    with open(EXPECTED_GREEDY, encoding="utf-8") as f:
        expected = f.read()
    ok = text == expected.rstrip("\n")
    print(text)
    print("MATCH" if ok else "MISMATCH")
    # full-sequence forward must agree with the KV-cache path
    full = t(torch.tensor([toks]))
    print("full-forward greedy agrees:", bool((full[0, :-1].argmax(-1) == torch.tensor(toks[1:])).all()))
    return ok


def report_tables(a):
    """Markdown tables for REPORT.md from the run folders (sweep result.json files, main CSV)."""
    print("| run | config (layers x ffn x heads x kv) | params | steps | tokens | wall (s) | final loss | final KL | dev ppl |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in a.runs:
        r = json.load(open(os.path.join(d, "result.json")))
        args = json.load(open(os.path.join(d, "args.json")))
        rows = list(csv.DictReader(open(os.path.join(d, "train_log.csv"))))
        c = r["cfg"]
        print(f"| {os.path.basename(d.rstrip('/'))} (lr {args['lr']:g}) | {c['n_layers']}x{c['ffn']}x{c['n_heads']}x{c['n_kv_heads']}"
              f" | {r['params']} | {r['step']} | {r['tokens_seen']} | {r['wall_s']:.0f} | {float(rows[-1]['loss']):.4f}"
              f" | {float(rows[-1]['kl']):.4f} | {r['ppl']:.4f} |")
    if a.curve:
        rows = list(csv.DictReader(open(a.curve)))
        print()
        print("| step | lr | loss | CE | KL | tokens seen | tok/s | elapsed (s) | dev ppl |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            s = int(r["step"])
            if s % a.every == 0 or r is rows[-1] or r["dev_ppl"]:
                print(f"| {s} | {float(r['lr']):.2e} | {r['loss']} | {r['ce']} | {r['kl']} | {r['tokens_seen']} | "
                      f"{r['tok_per_s']} | {r['elapsed_s']} | {r['dev_ppl']} |")


def add_model_args(p):
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=512)


def add_train_args(p):
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--max-minutes", type=float, default=0, help="stop early after this wall time (0 = off)")
    p.add_argument("--batch", type=int, default=8, help="sequences of 512 tokens per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--final-lr-frac", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=0.05)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--ce-weight", type=float, default=0.2)
    p.add_argument("--kl-weight", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--eval-every", type=int, default=0, help="dev ppl every N steps (0 = only at the end)")
    p.add_argument("--ckpt-minutes", type=float, default=10)
    p.add_argument("--resume", action="store_true")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("verify-teacher")
    p = sub.add_parser("train")
    add_model_args(p)
    add_train_args(p)
    p.add_argument("--out", default="/work/student-out/main")
    p = sub.add_parser("sweep", help="configs as LAYERSxFFNxHEADSxKV, e.g. 2x512x8x4 4x512x8x4")
    p.add_argument("configs", nargs="+")
    add_model_args(p)
    add_train_args(p)
    p.add_argument("--out", default="/work/student-out/sweep")
    p = sub.add_parser("export")
    p.add_argument("--ckpt", default="/work/student-out/main/ckpt.pt")
    p.add_argument("--final", default="/work/student-out/final")
    p.add_argument("--seed", type=int, default=1234, help="sampling seed for samples.txt")
    p = sub.add_parser("eval")
    p.add_argument("--teacher", action="store_true")
    p.add_argument("--ckpt")
    p.add_argument("--safetensors")
    p.add_argument("--config", help="config.json next to --safetensors")
    p = sub.add_parser("report", help="print markdown tables for REPORT.md")
    p.add_argument("runs", nargs="*", help="run folders with result.json")
    p.add_argument("--curve", help="train_log.csv of the main run")
    p.add_argument("--every", type=int, default=100)
    a = ap.parse_args()

    if a.cmd == "verify-teacher":
        sys.exit(0 if verify_teacher(a) else 1)
    elif a.cmd == "train":
        train(a)
    elif a.cmd == "sweep":
        base = a.out
        rows = []
        for c in a.configs:
            a.layers, a.ffn, a.heads, a.kv_heads = map(int, c.split("x"))
            a.out = os.path.join(base, f"L{a.layers}_ffn{a.ffn}_h{a.heads}_kv{a.kv_heads}")
            r = train(a)
            rows.append((c, r))
            log(f"sweep {c}: params {r['params']} steps {r['step']} wall {r['wall_s']:.0f}s ppl {r['ppl']:.4f}")
        for c, r in rows:
            print(c, r["params"], r["step"], f"{r['wall_s']:.0f}", f"{r['ppl']:.4f}")
    elif a.cmd == "export":
        export(a)
    elif a.cmd == "report":
        report_tables(a)
    elif a.cmd == "eval":
        if a.teacher:
            print("teacher", json.dumps(perplexity(Teacher())))
        if a.ckpt:
            print("student ckpt", json.dumps(perplexity(load_checkpoint(a.ckpt)[0])))
        if a.safetensors:
            with open(a.config) as f:
                hc = json.load(f)
            cfg = dict(dim=hc["hidden_size"], n_layers=hc["num_hidden_layers"], n_heads=hc["num_attention_heads"],
                       n_kv_heads=hc["num_key_value_heads"], ffn=hc["intermediate_size"], vocab=hc["vocab_size"],
                       ctx=hc["max_position_embeddings"], rope_theta=hc["rope_theta"])
            print("student safetensors", json.dumps(perplexity(student_from_hf(read_safetensors(a.safetensors), cfg))))


if __name__ == "__main__":
    main()
