#!/usr/bin/env python3
"""Train the default RouterRetriever model: contriever-mini (a BERT trained from scratch,
Contriever-style, self-supervised only) + LoRA query-side domain experts + pilot library.

Plain PyTorch (works on Debian torch 1.13 CPU and torch 2.x CUDA). See tools/train/README.md.

Phases (each time-budgeted):
  1. tokenise everything once (multiprocess, cached): pretrain text + BEIR documents + queries
  2. pretrain: two random independent crops of a segment = positive pair, in-batch negatives,
     symmetric InfoNCE, temperature 0.05, masked mean pooling, dot product
  3. round the base to fp16 (what is shipped), encode every domain's documents with it
  4. one LoRA expert per domain + `multitask`: query side only, documents precomputed by the
     frozen base, the whole domain corpus as negatives, InfoNCE temperature 0.05
  5. pilot library from training queries, evaluation on test queries, export (HF + PEFT layout)
"""
import argparse
import gzip
import hashlib
import json
import lzma
import math
import multiprocessing as mp
import os
import platform
import random
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import bert_ref as br  # noqa: E402

T0 = time.time()
MAIN_DOMAINS = ["scifact", "nfcorpus", "wikiqa", "arguana", "cranfield"]
EXTRA_DOMAINS = ["msmarco-dl19-subset", "cisi", "cacm", "med", "adi"]
HALF_SPLIT_DOMAINS = ["arguana", "cranfield"]      # no training queries: split test by hash
IGNORE_IDENTICAL = {"arguana"}                     # BEIR: a query's own id is not retrievable


def log(*a):
    print("[%7.1fs]" % (time.time() - T0), *a, flush=True)


def elapsed():
    return time.time() - T0


# ----------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------

def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    if path.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_jsonl(path):
    with open_text(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def hash_train_half(qid):
    """Deterministic half split of a domain without training queries:
    first byte of sha1(utf-8 query id) even => training half, odd => evaluation half."""
    return hashlib.sha1(qid.encode("utf-8")).digest()[0] % 2 == 0


def hash_val(qid):
    """10% of an expert's training queries are held out for checkpoint selection."""
    return hashlib.sha1(("val:" + qid).encode("utf-8")).digest()[0] % 10 == 0


def load_qrels(path):
    qrels = {}
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 3:
                continue
            qrels.setdefault(p[0], {})[p[1]] = int(p[2])
    return qrels


def load_domain(root, name, max_docs=0, max_queries=0, seed=0):
    d = os.path.join(root, "beir", name)
    corpus = list(read_jsonl(os.path.join(d, "corpus.jsonl")))
    queries = {q["_id"]: q["text"] for q in read_jsonl(os.path.join(d, "queries.jsonl"))}
    qrels = {}
    for fn in sorted(os.listdir(os.path.join(d, "qrels"))):
        qrels[fn[:-4]] = load_qrels(os.path.join(d, "qrels", fn))
    # splits: train (training queries), test (evaluation queries)
    splits = {}
    if "train" in qrels:
        splits["train"] = {q: r for q, r in qrels["train"].items() if q in queries}
        splits["test"] = {q: r for q, r in qrels["test"].items() if q in queries}
    elif name in HALF_SPLIT_DOMAINS:
        t = {q: r for q, r in qrels["test"].items() if q in queries}
        splits["train"] = {q: r for q, r in t.items() if hash_train_half(q)}
        splits["test"] = {q: r for q, r in t.items() if not hash_train_half(q)}
    else:
        splits["test"] = {q: r for q, r in qrels["test"].items() if q in queries}
    if max_queries:   # smoke tests only
        rng = random.Random(seed)
        for s in splits:
            keys = sorted(splits[s])
            rng.shuffle(keys)
            splits[s] = {k: splits[s][k] for k in sorted(keys[:max_queries])}
    if max_docs and len(corpus) > max_docs:   # smoke tests only: keep judged docs + random
        judged = {did for sp in splits.values() for r in sp.values() for did in r}
        rng = random.Random(seed)
        rest = [c for c in corpus if c["_id"] not in judged]
        rng.shuffle(rest)
        keep = {c["_id"] for c in rest[: max(0, max_docs - len(judged))]} | judged
        corpus = [c for c in corpus if c["_id"] in keep]
    doc_ids = [c["_id"] for c in corpus]
    doc_texts = [(c.get("title") or "") + " " + (c.get("text") or "") for c in corpus]
    used_q = sorted({q for sp in splits.values() for q in sp})
    return dict(name=name, doc_ids=doc_ids, doc_texts=doc_texts,
                query_ids=used_q, query_texts=[queries[q] for q in used_q], splits=splits)


def pretrain_texts(root, max_chars=0, piece_chars=20000):
    """Pretraining documents, long ones cut into ~20k-char pieces at paragraph boundaries
    (so tokenisation parallelises; segments never span two pieces)."""
    out = []
    files = sorted(f for f in os.listdir(os.path.join(root, "pretrain"))
                   if f.endswith((".jsonl", ".jsonl.gz", ".jsonl.xz")))
    for fn in files:
        n = 0
        for d in read_jsonl(os.path.join(root, "pretrain", fn)):
            text = d.get("text") or ""
            if d.get("source") != "gutenberg" and d.get("title"):
                text = d["title"] + "\n" + text
            i = 0
            while i < len(text):
                j = min(len(text), i + piece_chars)
                if j < len(text):
                    k = text.rfind("\n\n", i + piece_chars // 2, j)
                    if k > 0:
                        j = k
                out.append(text[i:j])
                n += j - i
                i = j
            if max_chars and n >= max_chars:
                break
        log("pretrain file %s: %.1f M chars" % (fn, n / 1e6))
    return out


class TokList:
    """A list of int32 token arrays stored flat."""

    def __init__(self, flat, offsets):
        self.flat = flat
        self.offsets = offsets

    @classmethod
    def from_arrays(cls, arrs):
        lens = np.array([len(a) for a in arrs], dtype=np.int64)
        offsets = np.zeros(len(arrs) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        flat = np.concatenate(arrs).astype(np.int32) if arrs else np.zeros(0, np.int32)
        return cls(flat, offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def __getitem__(self, i):
        return self.flat[self.offsets[i]: self.offsets[i + 1]]

    def lengths(self):
        return np.diff(self.offsets)


_TOK = None


def _tok_worker(text):
    return np.asarray(_TOK.tokenize_ids(text), dtype=np.int32)


def tokenize_all(texts, workers):
    if not texts:
        return TokList.from_arrays([])
    if workers <= 1 or len(texts) < 64:
        return TokList.from_arrays([_tok_worker(t) for t in texts])
    # big items first so the pool stays balanced
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with mp.get_context("fork").Pool(workers) as pool:
        res = pool.map(_tok_worker, [texts[i] for i in order], chunksize=16)
    arrs = [None] * len(texts)
    for i, a in zip(order, res):
        arrs[i] = a
    return TokList.from_arrays(arrs)


def cached_tokenize(name, texts, workers, cache_dir):
    key = hashlib.sha1()
    for t in texts:
        key.update(t.encode("utf-8", "surrogatepass"))
        key.update(b"\0")
    key.update(_TOK_VOCAB_SHA.encode())
    path = os.path.join(cache_dir, "%s-%s.npz" % (name, key.hexdigest()[:16])) if cache_dir else None
    if path and os.path.exists(path):
        z = np.load(path)
        return TokList(z["flat"], z["offsets"])
    tl = tokenize_all(texts, workers)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez(path + ".tmp.npz", flat=tl.flat, offsets=tl.offsets)
        os.replace(path + ".tmp.npz", path)
    return tl


_TOK_VOCAB_SHA = ""


# ----------------------------------------------------------------------------------------
# batching helpers
# ----------------------------------------------------------------------------------------

def pad_batch(seqs, max_len, tok, device):
    """seqs: list of int32 arrays of content ids -> [CLS] ids[:max_len-2] [SEP], padded."""
    seqs = [s[: max_len - 2] for s in seqs]
    T = max(len(s) for s in seqs) + 2
    ids = np.full((len(seqs), T), tok.pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), T), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, 0] = tok.cls_id
        ids[i, 1: 1 + len(s)] = s
        ids[i, 1 + len(s)] = tok.sep_id
        mask[i, : len(s) + 2] = 1
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)


def autocast_ctx(device, enabled):
    if device.type == "cuda" and enabled:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return torch.autocast(device_type="cpu", enabled=False)


@torch.no_grad()
def encode(model, seqs, max_len, tok, device, token_budget=65536, amp=False):
    """Embed a list of token arrays (fp32 output [n, h]); batches sorted by length."""
    n = len(seqs)
    out = torch.empty(n, model.config["hidden_size"], device=device)
    if n == 0:
        return out
    lens = np.array([min(len(s), max_len - 2) + 2 for s in seqs])
    order = np.argsort(-lens, kind="stable")
    was_training = model.training
    model.eval()
    i = 0
    while i < n:
        T = lens[order[i]]
        bs = max(1, min(4096, token_budget // T))
        idx = order[i: i + bs]
        ids, mask = pad_batch([seqs[j] for j in idx], max_len, tok, device)
        with autocast_ctx(device, amp):
            e = model(ids, mask)
        out[torch.from_numpy(idx).to(device)] = e.float()
        i += bs
    model.train(was_training)
    return out


# ----------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------

def ndcg10_per_query(q_emb, d_emb, doc_ids, qids, qrels, ignore_identical, k=10, chunk=1024):
    """trec_eval nDCG@10: gain = relevance grade, discount log2(rank + 1); ranking by score
    descending, ties broken by doc id descending (trec_eval's order); queries with no
    relevant doc score 0. Returns np.array per query (order of qids)."""
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    n_docs = d_emb.shape[0]
    kk = min(n_docs, k + 20)
    out = np.zeros(len(qids))
    for c0 in range(0, len(qids), chunk):
        qs = qids[c0: c0 + chunk]
        s = q_emb[c0: c0 + chunk] @ d_emb.T
        if ignore_identical:
            rows, cols = [], []
            for r, q in enumerate(qs):
                if q in doc_index:
                    rows.append(r)
                    cols.append(doc_index[q])
            if rows:
                s[rows, cols] = float("-inf")
        vals, idx = torch.topk(s, kk, dim=1)
        vals, idx = vals.cpu().numpy(), idx.cpu().numpy()
        for r, q in enumerate(qs):
            rel = qrels.get(q, {})
            cands = [(float(v), doc_ids[j]) for v, j in zip(vals[r], idx[r]) if v != float("-inf")]
            cands.sort(key=lambda c: c[1], reverse=True)
            cands.sort(key=lambda c: -c[0])
            dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, (_, d) in enumerate(cands[:k]))
            ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:k]
            idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
            out[c0 + r] = dcg / idcg if idcg > 0 else 0.0
    return out


# ----------------------------------------------------------------------------------------
# pretraining
# ----------------------------------------------------------------------------------------

def build_segments(toklists, seg_len, min_len):
    """Cut every token list into consecutive segments of <= seg_len tokens (>= min_len)."""
    starts, lens = [], []
    base = 0
    flats = []
    for tl in toklists:
        L = tl.lengths()
        offs = tl.offsets[:-1]
        nseg = (L + seg_len - 1) // seg_len
        doc = np.repeat(np.arange(len(L)), nseg)
        first = np.repeat(np.cumsum(nseg) - nseg, nseg)
        k = np.arange(len(doc)) - first
        st = offs[doc] + k * seg_len
        ln = np.minimum(seg_len, L[doc] - k * seg_len)
        keep = ln >= min_len
        starts.append(st[keep] + base)
        lens.append(ln[keep])
        flats.append(tl.flat)
        base += len(tl.flat)
    return np.concatenate(flats), starts, lens


class CropSampler:
    """Samples positive pairs (two independent random crops of one segment) on the device."""

    def __init__(self, flat, groups, group_probs, tok, device, args, seed):
        self.flat = torch.from_numpy(flat.astype(np.int64 if device.type == "cpu" else np.int32)).to(device)
        self.groups = [(torch.from_numpy(s).to(device), torch.from_numpy(l.astype(np.int64)).to(device))
                       for s, l in groups]
        self.probs = group_probs
        self.tok = tok
        self.device = device
        self.a = args
        self.g = torch.Generator(device=device)
        self.g.manual_seed(seed)
        self.rng = np.random.RandomState(seed)

    def _crop(self, st, ln):
        a, dev, g = self.a, self.device, self.g
        B = st.shape[0]
        r = torch.rand(B, device=dev, generator=g) * (a.crop_max - a.crop_min) + a.crop_min
        L = torch.round(r * ln).long().clamp(min=a.min_crop, max=a.max_crop)
        L = torch.minimum(L, ln)
        s0 = (torch.rand(B, device=dev, generator=g) * (ln - L + 1).float()).long()
        s0 = torch.minimum(s0, ln - L)
        Lmax = int(L.max())
        pos = torch.arange(Lmax, device=dev)[None]
        valid = pos < L[:, None]
        gidx = (st + s0)[:, None] + torch.where(valid, pos, torch.zeros_like(pos))
        toks = self.flat[gidx].long()
        keep = valid & (torch.rand(B, Lmax, device=dev, generator=g) >= a.delete_p)
        keep[:, 0] |= valid[:, 0] & (keep.sum(1) == 0)            # never delete everything
        key = (~keep).long() * Lmax + pos
        order = torch.argsort(key, dim=1)
        toks = toks.gather(1, order)
        newL = keep.sum(1)
        return toks, newL

    def sample(self, B):
        counts = self.rng.multinomial(B, self.probs)
        sts, lns = [], []
        for (s, l), c in zip(self.groups, counts):
            if c == 0:
                continue
            i = torch.randint(len(s), (int(c),), device=self.device, generator=self.g)
            sts.append(s[i])
            lns.append(l[i])
        st, ln = torch.cat(sts), torch.cat(lns)
        t1, l1 = self._crop(st, ln)
        t2, l2 = self._crop(st, ln)
        T = int(max(l1.max(), l2.max())) + 2
        ids = torch.full((2 * B, T), self.tok.pad_id, dtype=torch.long, device=self.device)
        ids[:, 0] = self.tok.cls_id
        lens = torch.cat([l1, l2])
        for k, (t, l) in enumerate(((t1, l1), (t2, l2))):
            w = min(t.shape[1], T - 2)
            pos = torch.arange(w, device=self.device)[None]
            ids[k * B:(k + 1) * B, 1:1 + w] = torch.where(pos < l[:, None], t[:, :w], torch.full_like(t[:, :w], self.tok.pad_id))
        ids.scatter_(1, (lens + 1)[:, None], self.tok.sep_id)
        mask = (torch.arange(T, device=self.device)[None] < (lens + 2)[:, None]).long()
        return ids, mask


def make_optimizer(params_named, lr, wd, device):
    decay, no_decay = [], []
    for n, p in params_named:
        if not p.requires_grad:
            continue
        (no_decay if (p.ndim < 2 or "LayerNorm" in n) else decay).append(p)
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    kw = dict(lr=lr, betas=(0.9, 0.98), eps=1e-6)
    if device.type == "cuda":
        try:
            return torch.optim.AdamW(groups, fused=True, **kw)
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(groups, **kw)


def lr_at(step, total, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * 0.5 * (1 + math.cos(math.pi * p))


def forward_bucketed(model, ids, mask, n_buckets, device, amp):
    """Embed a padded batch in n length buckets (less padding); same result as one forward."""
    if n_buckets <= 1:
        with autocast_ctx(device, amp):
            return model(ids, mask).float()
    lens = mask.sum(1)
    order = torch.argsort(lens)
    outs = []
    for chunk in torch.chunk(order, n_buckets):
        T = int(lens[chunk].max())
        with autocast_ctx(device, amp):
            outs.append(model(ids[chunk, :T], mask[chunk, :T]).float())
    inv = torch.empty_like(order)
    inv[order] = torch.arange(len(order), device=order.device)
    return torch.cat(outs)[inv]


def pretrain(model, sampler, args, device, budget_s, quick_eval):
    opt = make_optimizer(model.named_parameters(), args.lr, args.weight_decay, device)
    model.train()
    total = args.pretrain_steps or 10 ** 9
    warmup = args.warmup_steps
    t_start = time.time()
    step, hist, evals = 0, [], []
    t_meas = None
    seen_tokens = 0
    next_eval = budget_s * 0.5
    per = None
    while step < (args.pretrain_steps or 10 ** 9):   # without a step count the clock ends it
        now = time.time() - t_start
        if now > budget_s:
            break
        if step == 10:
            torch.cuda.synchronize() if device.type == "cuda" else None
            t_meas = time.time()
        if step == 40 and not args.pretrain_steps:
            torch.cuda.synchronize() if device.type == "cuda" else None
            per = (time.time() - t_meas) / 30
            total = max(50, int(budget_s / per))
            warmup = min(args.warmup_steps, total // 10)
            log("pretrain: %.3f s/step -> %d steps in %.0f s" % (per, total, budget_s))
        if args.pretrain_steps:
            lr = lr_at(step, total, warmup, args.lr)
        elif step < warmup:
            lr = args.lr * (step + 1) / warmup
        else:   # cosine over the wall-clock budget: robust to a wrong early step-time estimate
            p = min(1.0, now / budget_s)
            lr = args.lr * 0.5 * (1 + math.cos(math.pi * p))
        for gr in opt.param_groups:
            gr["lr"] = lr
        ids, mask = sampler.sample(args.batch)
        seen_tokens += int(mask.sum())
        e = forward_bucketed(model, ids, mask, args.length_buckets, device, args.amp)
        B = args.batch
        q, k = e[:B], e[B:]
        logits = q @ k.T / args.temperature
        labels = torch.arange(B, device=device)
        loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % args.log_every == 0 or step == 1:
            acc = (logits.argmax(1) == labels).float().mean().item()
            lv = loss.item()
            hist.append([step, round(time.time() - t_start, 1), round(lv, 4), round(acc, 4)])
            log("pretrain step %d/%s loss %.4f acc %.3f lr %.2e seq %d tok/s %.0f" % (
                step, total if total < 10 ** 9 else "?", lv, acc, lr, ids.shape[1],
                seen_tokens / max(1e-6, time.time() - t_start)))
        if quick_eval and time.time() - t_start > next_eval:
            next_eval = float("inf")
            r = quick_eval()
            evals.append([step, round(time.time() - t_start, 1), r])
            log("pretrain quick eval at step %d: %s" % (step, r))
            model.train()
            if per and not args.pretrain_steps:   # the schedule follows the clock; only the step count estimate moves
                total = max(step + 1, step + int((budget_s - (time.time() - t_start)) / per))
    return dict(steps=step, seconds=round(time.time() - t_start, 1), batch=args.batch,
                tokens=seen_tokens, loss_curve=hist, eval_curve=evals)


# ----------------------------------------------------------------------------------------
# experts
# ----------------------------------------------------------------------------------------

def lora_targets(model, targets):
    return model.lora_modules(targets)


def add_lora(model, args, seed):
    torch.manual_seed(seed)
    mods = lora_targets(model, args.lora_targets)
    for m in mods.values():
        m.add_lora(args.lora_r, args.lora_alpha, args.lora_dropout)
    return mods


def get_lora(mods):
    return {k: (m.lora_A.detach().float().cpu().clone(), m.lora_B.detach().float().cpu().clone())
            for k, m in mods.items()}


def set_lora(mods, lora):
    with torch.no_grad():
        for k, m in mods.items():
            m.lora_A.copy_(lora[k][0])
            m.lora_B.copy_(lora[k][1])


def remove_lora(mods):
    for m in mods.values():
        m.remove_lora()


def train_expert(name, model, tasks, docs_emb, tok, args, device, budget_s, seed):
    """tasks: list of dicts(domain, train=[(qid, tokens, [pos doc idx])], val=[...], val_qrels)."""
    rng = random.Random(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    mods = add_lora(model, args, seed)
    lora_params = [(n, p) for n, p in model.named_parameters() if "lora_" in n]
    for _, p in lora_params:
        p.requires_grad_(True)
    opt = make_optimizer(lora_params, args.expert_lr, 0.0, device)
    B = args.expert_batch
    n_train = sum(len(t["train"]) for t in tasks)
    steps_per_epoch = sum(max(1, math.ceil(len(t["train"]) / B)) for t in tasks)
    total = max(args.expert_min_steps, args.expert_epochs * steps_per_epoch)
    warmup = max(1, int(0.05 * total))
    eval_every = max(10, steps_per_epoch)

    def val_score():
        scores = []
        for t in tasks:
            if not t["val"]:
                continue
            qe = encode(model, [x[1] for x in t["val"]], args.query_max_len, tok, device, amp=args.amp)
            nd = ndcg10_per_query(qe, docs_emb[t["domain"]], t["doc_ids"], [x[0] for x in t["val"]],
                                  t["qrels"], t["domain"] in IGNORE_IDENTICAL)
            scores.append(float(nd.mean()))
        return float(np.mean(scores)) if scores else 0.0

    # epoch 0 (B = 0: the adapter is the identity)
    best = (val_score(), 0, get_lora(mods))
    curve = [[0, round(best[0], 4)]]
    t_start = time.time()
    step = 0
    batches = []
    model.train()
    while step < total and time.time() - t_start < budget_s:
        if not batches:
            for t in tasks:
                items = list(t["train"])
                rng.shuffle(items)
                for i in range(0, len(items), B):
                    batches.append((t, items[i: i + B]))
            rng.shuffle(batches)
        t, items = batches.pop()
        lr = lr_at(step, total, warmup, args.expert_lr)
        for gr in opt.param_groups:
            gr["lr"] = lr
        ids, mask = pad_batch([x[1] for x in items], args.query_train_max_len, tok, device)
        with autocast_ctx(device, args.amp):
            q = model(ids, mask)
        D = docs_emb[t["domain"]]
        logits = q.float() @ D.T / args.temperature
        pos = [rng.choice(x[2]) for x in items]
        other = torch.zeros_like(logits, dtype=torch.bool)
        for r, x in enumerate(items):                  # other positives are not negatives
            if len(x[2]) > 1:
                other[r, x[2]] = True
                other[r, pos[r]] = False
        logits = logits.masked_fill(other, float("-inf"))
        loss = F.cross_entropy(logits, torch.tensor(pos, device=device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % eval_every == 0 or step == total:
            v = val_score()
            curve.append([step, round(v, 4)])
            if v > best[0]:
                best = (v, step, get_lora(mods))
            model.train()
    if not curve or curve[-1][0] != step:
        v = val_score()
        curve.append([step, round(v, 4)])
        if v > best[0]:
            best = (v, step, get_lora(mods))
    lora = best[2]
    remove_lora(mods)
    model.eval()
    info = dict(train_queries=n_train, val_queries=sum(len(t["val"]) for t in tasks), steps=step,
                planned_steps=total, best_step=best[1], best_val_ndcg10=round(best[0], 4),
                val_curve=curve, seconds=round(time.time() - t_start, 1))
    log("expert %s: %s" % (name, {k: v for k, v in info.items() if k != "val_curve"}))
    return lora, info


def build_pilot_library(expert_names, domains, weighting="gain"):
    """The pilot library, as src/router/pilots.ts builds it (k = 1).

    domains: [(name, base query embeddings [n, dim], scores [len(expert_names), n])]; a query's
    best expert is the first with the highest score. weighting "none" (the paper): every
    (expert, domain) group's centroid is a pilot. "gain" (default; chosen on training queries,
    bench/results/routing-selection.md): queries on which every expert scores the same join no
    group, and each expert gets ONE pilot, the mean of its group centroids weighted by the score
    their queries gain over the mean expert. "size": the same weighted by group size.
    Centroids are float64 means rounded to float32, as the SDK does.
    Returns ({expert: [[floats]]}, {expert: [{domain, n_queries, weight}]}).
    """
    if weighting not in ("none", "gain", "size"):
        raise ValueError("weighting must be none, gain or size")
    groups = {e: [] for e in expert_names}
    for dom, base_q, scores in domains:
        scores = np.asarray(scores, dtype=np.float64)
        base_q = np.asarray(base_q, dtype=np.float32)
        best = np.argmax(scores, axis=0)   # ties: first expert in config order
        keep = np.ones(len(best), dtype=bool)
        if weighting == "gain":
            keep = scores.max(0) > scores.min(0)
        gain = scores.max(0) - scores.mean(0)
        for j, e in enumerate(expert_names):
            sel = np.nonzero((best == j) & keep)[0]
            if len(sel):
                c = base_q[sel].astype(np.float64).mean(0).astype(np.float32)
                w = float(gain[sel].sum()) if weighting == "gain" else float(len(sel))
                groups[e].append((dom, c, w, int(len(sel))))
    pilot, meta = {}, {}
    for e in expert_names:
        meta[e] = [{"domain": g[0], "n_queries": g[3], **({"weight": round(g[2], 6)} if weighting != "none" else {})}
                   for g in groups[e]]
        if weighting == "none":
            pilot[e] = [[float(v) for v in g[1]] for g in groups[e]]
            continue
        total = sum(g[2] for g in groups[e])
        if total <= 0:
            pilot[e] = []
            continue
        acc = np.zeros(len(groups[e][0][1]), dtype=np.float64)
        for g in groups[e]:
            acc += (g[2] / total) * g[1].astype(np.float64)
        pilot[e] = [[float(v) for v in acc.astype(np.float32)]]
    return pilot, meta


def merged_model(model, base_sd, lora, args):
    if lora is None:
        model.load_state_dict(base_sd, strict=False)
    else:
        model.load_state_dict(br.merge_lora(base_sd, lora, args.lora_r, args.lora_alpha), strict=False)
    model.eval()
    return model


# ----------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------

HF_CONFIG_KEYS = ["architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                  "num_attention_heads", "intermediate_size", "max_position_embeddings",
                  "type_vocab_size", "hidden_act", "layer_norm_eps", "hidden_dropout_prob",
                  "attention_probs_dropout_prob", "pad_token_id", "initializer_range",
                  "position_embedding_type"]


def export_base(model, cfg, out_dir, vocab_path):
    d = os.path.join(out_dir, "contriever-mini")
    os.makedirs(d, exist_ok=True)
    c = {k: cfg[k] for k in HF_CONFIG_KEYS}
    c["torch_dtype"] = "float16"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    shutil.copyfile(vocab_path, os.path.join(d, "vocab.txt"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizer"}, f, indent=2)
    sd = {k: v.detach().cpu().half() for k, v in br.base_state_dict(model).items()}
    br.save_safetensors(sd, os.path.join(d, "model.safetensors"))
    return d


def export_expert(name, lora, args, out_dir):
    d = os.path.join(out_dir, "experts", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump(br.peft_adapter_config(args.lora_r, args.lora_alpha, args.lora_targets,
                                         base="contriever-mini", dropout=args.lora_dropout), f, indent=2)
    br.save_safetensors(br.lora_to_peft({k: (a.float(), b.float()) for k, (a, b) in lora.items()}),
                        os.path.join(d, "adapter_model.safetensors"))


def fmt(x):
    return "%.4f" % x if isinstance(x, float) else str(x)


def write_model_card(out_dir, metrics):
    m = metrics
    cfg = m["model_config"]
    experts = m["experts_order"]
    cols = ["base"] + experts + ["router-mean", "router-max", "dataset-oracle", "instance-oracle"]
    lines = ["| domain (queries) | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for dom in MAIN_DOMAINS + ["average"] + EXTRA_DOMAINS:
        r = m["ndcg@10"].get(dom)
        if not r:
            continue
        nq = m["n_queries"].get(dom, "")
        lines.append("| %s (%s) | " % (dom, nq) + " | ".join(fmt(r.get(c, "")) for c in cols) + " |")
    table = "\n".join(lines)
    text = f"""---
license: other
language: en
library_name: transformers
tags: [contriever, retrieval, routerretriever, lora]
---
# contriever-mini

A small BERT encoder trained **from scratch**, Contriever-style and **self-supervised only**, as
the default model of RouterRetriever Web, plus LoRA query-side domain experts (`../experts/`) and
a pilot-embedding library (`../pilot-library.json`). Trained by `tools/train/train.py`.

- Architecture: BERT (HF `BertModel`, no pooler), hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers,
  {cfg['num_attention_heads']} heads, intermediate {cfg['intermediate_size']}, max positions {cfg['max_position_embeddings']};
  the exact bert-base-uncased WordPiece vocabulary (30,522 tokens). Weights stored as fp16.
- Embedding: masked mean pooling of the last hidden states, not normalised; score = dot product.
- Pretraining (contrastive only, never any query): two independent random crops
  ({m['recipe']['crop_min']}-{m['recipe']['crop_max']} of a segment of <= {m['recipe']['seg_len']} tokens, up to
  {m['recipe']['max_crop']} tokens, 10% random token deletion) of the same segment are a positive pair, in-batch negatives
  (batch {m['pretrain']['batch']} pairs), symmetric InfoNCE at temperature 0.05, AdamW lr {m['recipe']['lr']} (cosine),
  {m['pretrain']['steps']} steps in {m['pretrain']['seconds']} s on {m['hardware']}.
  Data: Project Gutenberg (public domain), 20 Newsgroups, Reuters-21578 (research use only) and the
  documents (not the queries) of the BEIR-layout collections listed below.
- Experts: PEFT LoRA r={m['recipe']['lora_r']}, alpha={m['recipe']['lora_alpha']} on attention
  {' and '.join(m['recipe']['lora_targets'])} of every layer, query side only; documents embedded once by the frozen base
  and the whole domain corpus used as negatives; InfoNCE temperature 0.05; 10% of each expert's
  training queries held out to choose the checkpoint. `multitask` = all domains' training
  queries, each domain down-sampled to the smallest.
- Training queries: scifact, nfcorpus, wikiqa: their `train` qrels. arguana, cranfield (no
  training split): the test queries whose sha1(query id) first byte is even (`splits.json`); the
  other half is the evaluation set.
- Pilot library: each training query is scored (nDCG@10) by every domain expert on its domain's
  corpus; queries grouped by best expert (ties: first in {experts[:-1] if experts and experts[-1]=='multitask' else experts});
  centroid of each group's base-encoder query embeddings. Weighting `{m['recipe'].get('pilot_weighting', 'none')}`: none = every
  group centroid is a pilot (the paper); gain = queries on which every expert ties join no group and each
  expert gets one pilot, its group centroids averaged with weights = the nDCG@10 their queries gain
  over the mean expert (chosen on training queries: bench/results/routing-selection.md).

## Results (training code's own evaluation; nDCG@10 on the evaluation queries)

Documents: `title + " " + text`, truncated to {m['eval_protocol']['doc_max_length']} tokens; queries to {m['eval_protocol']['query_max_length']}.
arguana: a query's own id is never retrieved (BEIR convention). Average over the five main domains.

{table}

## Licences of the data
Project Gutenberg texts: public domain. 20 Newsgroups: public research data set. Reuters-21578:
research use only. SciFact CC BY-NC 2.0, NFCorpus research use, WikiQA, ArguAna, Cranfield and
the other collections: their original licences (research use). The weights are offered for
research and demonstration use under the same restrictions.
"""
    with open(os.path.join(out_dir, "contriever-mini", "README.md"), "w") as f:
        f.write(text)


# ----------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------

PRESETS = {
    # the shipped model, on one H200 within ~8 minutes
    "device": dict(hidden=256, layers=6, heads=4, intermediate=1024, batch=1024, lr=5e-4,
                   expert_seconds=12, expert_batch=128, eval_token_budget=131072, eval_reserve=40),
    # CPU smoke test
    "smoke": dict(hidden=64, layers=2, heads=2, intermediate=256, batch=32, lr=1e-3,
                  expert_seconds=10, expert_batch=32, max_docs=200, max_queries=30,
                  pretrain_max_chars=1_500_000, eval_token_budget=16384, log_every=10,
                  eval_reserve=60, expert_min_steps=30, expert_epochs=10, extra_domains="adi",
                  length_buckets=2, doc_max_len=128, query_max_len=128),
}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="dir with pretrain/*.jsonl[.gz|.xz] and beir/<domain>/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None)
    ap.add_argument("--vocab", default=os.path.join(ROOT, "test", "fixtures", "tiny-bert", "vocab.txt"))
    ap.add_argument("--cache", default="", help="token cache dir (default <out>/../token-cache)")
    ap.add_argument("--workers", type=int, default=min(16, len(os.sched_getaffinity(0))))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--deadline-seconds", type=float, default=0,
                    help="wall budget of this process; pretraining gets what the later phases leave")
    # model
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--max-pos", type=int, default=512)
    # pretraining
    ap.add_argument("--pretrain-seconds", type=float, default=0)
    ap.add_argument("--pretrain-steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-steps", type=int, default=300)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--seg-len", type=int, default=256)
    ap.add_argument("--min-seg", type=int, default=8)
    ap.add_argument("--crop-min", type=float, default=0.1)
    ap.add_argument("--crop-max", type=float, default=0.5)
    ap.add_argument("--min-crop", type=int, default=5)
    ap.add_argument("--max-crop", type=int, default=128)
    ap.add_argument("--delete-p", type=float, default=0.1)
    ap.add_argument("--beir-frac", type=float, default=0.5,
                    help="fraction of pretraining pairs drawn from the BEIR documents")
    ap.add_argument("--pretrain-max-chars", type=int, default=0, help="per pretrain file (smoke)")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--length-buckets", type=int, default=4,
                    help="split each pretraining batch into this many length buckets")
    ap.add_argument("--no-amp", action="store_true")
    # experts
    ap.add_argument("--expert-seconds", type=float, default=12)
    ap.add_argument("--expert-epochs", type=int, default=30)
    ap.add_argument("--expert-min-steps", type=int, default=150)
    ap.add_argument("--expert-batch", type=int, default=128)
    ap.add_argument("--expert-lr", type=float, default=5e-4)
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--lora-alpha", type=int, default=32)
    ap.add_argument("--lora-dropout", type=float, default=0.1)
    ap.add_argument("--lora-targets", default="query,value")
    ap.add_argument("--pilot-weighting", choices=["gain", "size", "none"], default="gain",
                    help="pilot library: gain (default) / size weighted one pilot per expert, or none (the paper)")
    ap.add_argument("--query-train-max-len", type=int, default=256)
    # eval
    ap.add_argument("--doc-max-len", type=int, default=256)
    ap.add_argument("--query-max-len", type=int, default=512)
    ap.add_argument("--eval-token-budget", type=int, default=131072)
    ap.add_argument("--eval-reserve", type=float, default=45,
                    help="seconds kept for document encoding, evaluation, pilot library, export")
    ap.add_argument("--extra-domains", default=",".join(EXTRA_DOMAINS))
    ap.add_argument("--max-docs", type=int, default=0, help="per domain (smoke tests only)")
    ap.add_argument("--max-queries", type=int, default=0, help="per split (smoke tests only)")
    a = ap.parse_args(argv)
    if a.preset:   # preset values replace defaults, explicit flags win
        defaults = {k: ap.get_default(k) for k in vars(a)}
        for k, v in PRESETS[a.preset].items():
            if getattr(a, k) == defaults[k]:
                setattr(a, k, v)
    a.lora_targets = [t for t in a.lora_targets.split(",") if t]
    a.extra_domains = [t for t in a.extra_domains.split(",") if t] if isinstance(a.extra_domains, str) else a.extra_domains
    return a


def main(argv=None):
    global _TOK, _TOK_VOCAB_SHA
    args = parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    cache = args.cache or os.path.join(os.path.dirname(os.path.abspath(args.out)), "token-cache")
    with open(args.vocab, "rb") as f:
        _TOK_VOCAB_SHA = hashlib.sha256(f.read()).hexdigest()
    tok = br.BertTokenizer(args.vocab)
    _TOK = tok
    log("args", vars(args))

    # ---- 1. data + tokenisation (before CUDA init: the pool forks) -------------------------
    domains = {}
    for name in MAIN_DOMAINS + args.extra_domains:
        if os.path.isdir(os.path.join(args.data, "beir", name)):
            domains[name] = load_domain(args.data, name, args.max_docs, args.max_queries, args.seed)
    log("domains:", {k: (len(v["doc_ids"]), {s: len(q) for s, q in v["splits"].items()}) for k, v in domains.items()})
    ptexts = pretrain_texts(args.data, args.pretrain_max_chars)
    pre_tl = cached_tokenize("pretrain", ptexts, args.workers, cache)
    del ptexts
    for name, d in domains.items():
        d["doc_tok"] = cached_tokenize("docs-" + name, d["doc_texts"], args.workers, cache)
        d["q_tok"] = cached_tokenize("queries-" + name, d["query_texts"], 1, cache)
        d["q_index"] = {q: i for i, q in enumerate(d["query_ids"])}
        d["doc_index"] = {x: i for i, x in enumerate(d["doc_ids"])}
    log("tokenised: pretrain %d pieces %.1f M tokens; beir docs %.1f M tokens" % (
        len(pre_tl), len(pre_tl.flat) / 1e6, sum(len(d["doc_tok"].flat) for d in domains.values()) / 1e6))
    t_tok = elapsed()

    # ---- device ---------------------------------------------------------------------------
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    args.amp = device.type == "cuda" and not args.no_amp
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        hardware = torch.cuda.get_device_name(0)
    else:
        hardware = "CPU (%s, %d threads)" % (platform.processor() or platform.machine(), torch.get_num_threads())
    torch.set_float32_matmul_precision("high")   # TF32 for training; evaluation switches to "highest"
    log("device", device, hardware, "torch", torch.__version__)

    cfg = br.default_config(hidden_size=args.hidden, num_hidden_layers=args.layers,
                            num_attention_heads=args.heads, intermediate_size=args.intermediate,
                            max_position_embeddings=args.max_pos)
    model = br.BertEncoder(cfg)
    br.init_weights(model, std=cfg["initializer_range"], seed=args.seed)
    model.to(device)
    model.use_sdpa = device.type == "cuda"
    n_params = sum(p.numel() for p in model.parameters())
    log("model params %.2f M (%.1f MB fp16)" % (n_params / 1e6, n_params * 2 / 1e6))

    # ---- 2. pretraining -------------------------------------------------------------------
    beir_pre = [domains[n]["doc_tok"] for n in domains]
    flat, starts, lens = build_segments([pre_tl] + beir_pre, args.seg_len, args.min_seg)
    g_pre = (starts[0], lens[0])
    g_beir = (np.concatenate(starts[1:]), np.concatenate(lens[1:]))
    groups, probs = [], []
    if len(g_pre[0]):
        groups.append(g_pre)
        probs.append(1 - args.beir_frac if len(g_beir[0]) else 1.0)
    if len(g_beir[0]):
        groups.append(g_beir)
        probs.append(args.beir_frac if len(g_pre[0]) else 1.0)
    log("segments: pretrain %d, beir %d" % (len(g_pre[0]), len(g_beir[0])))
    sampler = CropSampler(flat, groups, probs, tok, device, args, args.seed + 1)
    del flat

    def quick_eval():
        d = domains.get("scifact")
        if d is None:
            return None
        test = d["splits"]["test"]
        qids = sorted(test)
        de = encode(model, [d["doc_tok"][i] for i in range(len(d["doc_tok"]))], args.doc_max_len, tok,
                    device, args.eval_token_budget, amp=args.amp)
        qe = encode(model, [d["q_tok"][d["q_index"][q]] for q in qids], args.query_max_len, tok, device,
                    args.eval_token_budget, amp=args.amp)
        return {"scifact": round(float(ndcg10_per_query(qe, de, d["doc_ids"], qids, test, False).mean()), 4)}

    expert_names = [n for n in MAIN_DOMAINS if n in domains and "train" in domains[n]["splits"]]
    expert_names_all = expert_names + ["multitask"]
    reserve = len(expert_names_all) * (args.expert_seconds + 4) + args.eval_reserve
    if args.pretrain_seconds:
        budget = args.pretrain_seconds
        if args.deadline_seconds:
            budget = min(budget, args.deadline_seconds - elapsed() - reserve)
    elif args.deadline_seconds:
        budget = args.deadline_seconds - elapsed() - reserve
    else:
        budget = 60.0
    budget = max(5.0, budget)
    log("pretrain budget %.0f s (reserve %.0f s for experts/eval/export)" % (budget, reserve))
    pre_info = pretrain(model, sampler, args, device, budget, quick_eval)
    del sampler
    if device.type == "cuda":
        torch.cuda.empty_cache()

    # ---- 3. ship fp16 weights; from here on everything uses them ---------------------------
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    model.eval()
    export_base(model, cfg, args.out, args.vocab)
    base_sd = {k: v.detach().clone() for k, v in br.base_state_dict(model).items()}
    log("exported base model")

    torch.set_float32_matmul_precision("highest")
    docs_emb = {}
    for name, d in domains.items():
        docs_emb[name] = encode(model, [d["doc_tok"][i] for i in range(len(d["doc_tok"]))], args.doc_max_len,
                                tok, device, args.eval_token_budget, amp=False)
    log("encoded documents of %d domains (fp32)" % len(docs_emb))
    torch.set_float32_matmul_precision("high")

    # ---- 4. experts -------------------------------------------------------------------------
    def task_for(name, n_max=0, seed=0):
        d = domains[name]
        items = []
        for q, rel in sorted(d["splits"]["train"].items()):
            pos = [d["doc_index"][x] for x, g in sorted(rel.items()) if g > 0 and x in d["doc_index"]]
            if pos:
                items.append((q, d["q_tok"][d["q_index"][q]], pos))
        if n_max and len(items) > n_max:
            rng = random.Random(seed)
            items = sorted(rng.sample(items, n_max), key=lambda x: x[0])
        train = [x for x in items if not hash_val(x[0])]
        val = [x for x in items if hash_val(x[0])]
        return dict(domain=name, train=train, val=val, doc_ids=d["doc_ids"], qrels=d["splits"]["train"])

    experts, expert_info = {}, {}
    for i, name in enumerate(expert_names_all):
        if name == "multitask":
            sizes = [len(task_for(n)["train"]) + len(task_for(n)["val"]) for n in expert_names]
            tasks = [task_for(n, min(sizes), args.seed + 17) for n in expert_names]
        else:
            tasks = [task_for(name)]
        lora, info = train_expert(name, model, tasks, docs_emb, tok, args, device, args.expert_seconds,
                                  args.seed + 100 + i)
        experts[name] = lora
        expert_info[name] = info
        export_expert(name, lora, args, args.out)
        model.load_state_dict(base_sd, strict=False)

    # ---- 5. evaluation + pilot library (fp32, TF32 off) -------------------------------------
    torch.set_float32_matmul_precision("highest")
    model.eval()

    def query_emb(lora, d, qids):
        merged_model(model, base_sd, lora, args)
        return encode(model, [d["q_tok"][d["q_index"][q]] for q in qids], args.query_max_len, tok, device,
                      args.eval_token_budget, amp=False)

    # pilot library (training queries of the domains that have experts; never test queries)
    pilot_inputs = []
    for dom in expert_names:
        d = domains[dom]
        qids = sorted(q for q, r in d["splits"]["train"].items() if any(g > 0 for g in r.values()))
        base_q = query_emb(None, d, qids)
        scores = np.stack([ndcg10_per_query(query_emb(experts[e], d, qids), docs_emb[dom], d["doc_ids"], qids,
                                            d["splits"]["train"], dom in IGNORE_IDENTICAL) for e in expert_names])
        pilot_inputs.append((dom, base_q.float().cpu().numpy(), scores))
    pilot, pilot_meta = build_pilot_library(expert_names, pilot_inputs, args.pilot_weighting)
    with open(os.path.join(args.out, "pilot-library.json"), "w") as f:
        json.dump(pilot, f)
    log("pilot library:", pilot_meta)

    P = [(e, torch.tensor(pilot[e], device=device)) for e in expert_names if pilot[e]]
    results, per_query, nq = {}, {}, {}
    for dom in [x for x in MAIN_DOMAINS + args.extra_domains if x in domains]:
        d = domains[dom]
        test = d["splits"]["test"]
        qids = sorted(test)
        nq[dom] = len(qids)
        ign = dom in IGNORE_IDENTICAL
        base_q = query_emb(None, d, qids)
        r = {"base": ndcg10_per_query(base_q, docs_emb[dom], d["doc_ids"], qids, test, ign)}
        for e in expert_names_all:
            r[e] = ndcg10_per_query(query_emb(experts[e], d, qids), docs_emb[dom], d["doc_ids"], qids, test, ign)
        if P:
            sims = [base_q @ p.T for _, p in P]
            mean_s = torch.stack([s.mean(1) for s in sims], 1)
            max_s = torch.stack([s.max(1).values for s in sims], 1)
            for mode, s in (("router-mean", mean_s), ("router-max", max_s)):
                choice = s.argmax(1).cpu().numpy()
                r[mode] = np.array([r[P[c][0]][i] for i, c in enumerate(choice)])
                r[mode + "-choices"] = {P[j][0]: int((choice == j).sum()) for j in range(len(P))}
        ex = np.stack([r[e] for e in expert_names])
        r["dataset-oracle"] = ex[int(np.argmax(ex.mean(1)))]
        r["dataset-oracle-expert"] = expert_names[int(np.argmax(ex.mean(1)))]
        r["instance-oracle"] = ex.max(0)
        per_query[dom] = {"query_ids": qids, **{k: [round(float(x), 6) for x in v]
                                                for k, v in r.items() if isinstance(v, np.ndarray)}}
        results[dom] = {k: (round(float(v.mean()), 6) if isinstance(v, np.ndarray) else v) for k, v in r.items()}
        log("eval %s (%d q): %s" % (dom, len(qids), {k: v for k, v in results[dom].items() if not k.endswith("choices")}))
    main_doms = [x for x in MAIN_DOMAINS if x in results]
    if main_doms:
        keys = [k for k, v in results[main_doms[0]].items() if isinstance(v, float)]
        results["average"] = {k: round(float(np.mean([results[x][k] for x in main_doms])), 6) for k in keys}
        log("average over %s: %s" % (main_doms, results["average"]))

    splits = {dom: {s: sorted(q) for s, q in domains[dom]["splits"].items()} for dom in domains}
    with open(os.path.join(args.out, "splits.json"), "w") as f:
        json.dump({"rule": "arguana, cranfield: test queries with sha1(utf-8 query id)[0] even are "
                           "the training half, odd the evaluation half; expert validation: "
                           "sha1('val:' + query id)[0] % 10 == 0", "splits": splits}, f)
    metrics = {
        "version": 1,
        "hardware": hardware, "torch": torch.__version__, "python": platform.python_version(),
        "wall_seconds": round(elapsed(), 1), "tokenize_seconds": round(t_tok, 1),
        "model_config": {k: cfg[k] for k in HF_CONFIG_KEYS}, "n_params": n_params,
        "recipe": {k: (v if not isinstance(v, float) else v) for k, v in vars(args).items()
                   if k not in ("data", "out", "cache", "vocab")},
        "eval_protocol": {
            "doc_text": "title + ' ' + text", "doc_max_length": args.doc_max_len,
            "query_max_length": args.query_max_len, "pooling": "mean", "score": "dot",
            "weights": "fp16-rounded, fp32 math (TF32 off), LoRA merged W + (alpha/r) B@A",
            "metric": "nDCG@10 trec_eval: gain = grade, log2(rank+1); ties: score desc, doc id desc; "
                      "all queries of the split's qrels (restricted to the evaluation half for "
                      "arguana/cranfield)",
            "ignore_identical_ids": sorted(IGNORE_IDENTICAL),
            "split": {dom: ("test (sha1 odd half)" if dom in HALF_SPLIT_DOMAINS else "test") for dom in results if dom != "average"},
            "router_experts": expert_names, "main_domains": main_doms,
        },
        "n_queries": nq, "n_docs": {k: len(v["doc_ids"]) for k, v in domains.items()},
        "ndcg@10": results, "experts_order": expert_names_all,
        "pretrain": pre_info, "experts": expert_info, "pilot": pilot_meta,
        "subsampled": bool(args.max_docs or args.max_queries or args.pretrain_max_chars),
    }
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    with open(os.path.join(args.out, "per-query.json"), "w") as f:
        json.dump(per_query, f)
    write_model_card(args.out, metrics)
    log("done; wall %.1f s" % elapsed())


if __name__ == "__main__":
    main()
