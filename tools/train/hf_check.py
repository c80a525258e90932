#!/usr/bin/env python3
"""Cross-check our from-scratch Python reference against Hugging Face transformers + peft
(run on a machine that has them, e.g. the GPU box; CPU, fp32, eager attention).

Checks (each in its own try/except; a failure is reported, never raised):
  1. tokenizer: transformers' BertTokenizer(Fast) from the produced model folder vs
     tools/reference BertTokenizer on test/fixtures/tokenizer-golden.json, golden.json texts and
     a sample of real BEIR documents/queries (mismatches printed; HF ids saved to --out-json)
  2. base model: BertModel.from_pretrained(<model>) vs bert_ref.BertEncoder, max |diff|
  3. experts: PeftModel.from_pretrained(BertModel, <expert>) vs our merged LoRA, max |diff|
  4. the test fixtures: tiny-bert (model.safetensors and pytorch_model.bin) and the PEFT
     adapters expert-a (safetensors) / expert-b (.bin) vs test/fixtures/golden.json

    python3 tools/train/hf_check.py --model-root OUTPUT_DIR [--data DATA_DIR] --out-json FILE
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import bert_ref as br  # noqa: E402

REPORT = {}


def section(name):
    def deco(fn):
        def run(*a, **kw):
            t = time.time()
            try:
                REPORT[name] = fn(*a, **kw)
                print("[hf-check] %s: %s (%.1fs)" % (name, json.dumps(_short(REPORT[name])), time.time() - t), flush=True)
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                REPORT[name] = {"error": repr(e)}
                print("[hf-check] %s FAILED: %r" % (name, e), flush=True)
        return run
    return deco


def _short(r):
    if isinstance(r, dict):
        return {k: v for k, v in r.items() if k not in ("hf_ids",)}
    return r


def mean_pool(h, mask):
    m = mask[:, :, None].to(h.dtype)
    return (h * m).sum(1) / m.sum(1)


def batch(ids_list, pad=0):
    T = max(len(x) for x in ids_list)
    ids = torch.full((len(ids_list), T), pad, dtype=torch.long)
    mask = torch.zeros((len(ids_list), T), dtype=torch.long)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
    return ids, mask


def hf_model(path):
    from transformers import BertModel
    try:
        m = BertModel.from_pretrained(path, add_pooling_layer=False, attn_implementation="eager")
    except TypeError:
        m = BertModel.from_pretrained(path, add_pooling_layer=False)
    return m.float().eval()


def ours(path_cfg, sd):
    with open(path_cfg) as f:
        cfg = br.default_config(**json.load(f))
    m = br.BertEncoder(cfg).eval()
    m.load_state_dict({k: v.float() for k, v in sd.items() if k in dict(m.named_parameters())}, strict=True)
    return m


@section("tokenizer")
def check_tokenizer(model_dir, texts):
    import transformers
    ref = br.BertTokenizer(os.path.join(model_dir, "vocab.txt"))
    out = {"transformers": transformers.__version__}
    classes = []
    for cname in ("BertTokenizer", "BertTokenizerFast"):
        c = getattr(transformers, cname, None)
        if c is not None and c not in [x[1] for x in classes]:
            classes.append((cname, c))
    for cname, c in classes:
        tok = c.from_pretrained(model_dir)
        mism, hf_ids = [], []
        for t in texts:
            a = tok(t, truncation=True, max_length=512)["input_ids"]
            b = ref.encode(t, 512)
            hf_ids.append(a)
            if a != b:
                mism.append({"text": t[:200], "hf": tok.convert_ids_to_tokens(a)[:60],
                             "ours": [ref.inv_vocab[i] for i in b][:60]})
        out[cname] = {"class": type(tok).__name__, "n": len(texts), "mismatches": len(mism),
                      "examples": mism[:15]}
        for m in mism[:15]:
            print("[hf-check] tokenizer %s MISMATCH %r\n   hf:   %s\n   ours: %s" % (cname, m["text"][:100], m["hf"][:30], m["ours"][:30]))
        out.setdefault("hf_ids", {})[cname] = hf_ids
    return out


@section("base-model")
def check_base(model_dir, texts):
    ref = br.BertTokenizer(os.path.join(model_dir, "vocab.txt"))
    ids, mask = batch([ref.encode(t, 512) for t in texts])
    m_ours = ours(os.path.join(model_dir, "config.json"), br.load_safetensors(os.path.join(model_dir, "model.safetensors")))
    m_hf = hf_model(model_dir)
    with torch.no_grad():
        a = m_ours(ids, mask)
        b = mean_pool(m_hf(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
    return {"max_abs_diff": float((a - b).abs().max()), "max_abs_value": float(a.abs().max()), "n": len(texts)}


def peft_embed(model_dir, adapter_dir, ids, mask):
    from peft import PeftModel
    base = hf_model(model_dir)
    pm = PeftModel.from_pretrained(base, adapter_dir).eval()
    with torch.no_grad():
        out = pm(input_ids=ids, attention_mask=mask)
    h = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
    return mean_pool(h, mask)


def adapter_weights(adapter_dir):
    p = os.path.join(adapter_dir, "adapter_model.safetensors")
    if os.path.exists(p):
        return br.load_safetensors(p)
    return torch.load(os.path.join(adapter_dir, "adapter_model.bin"), map_location="cpu")


@section("experts")
def check_experts(model_dir, experts_dir, texts):
    ref = br.BertTokenizer(os.path.join(model_dir, "vocab.txt"))
    ids, mask = batch([ref.encode(t, 512) for t in texts])
    base_sd = br.load_safetensors(os.path.join(model_dir, "model.safetensors"))
    res = {}
    for name in sorted(os.listdir(experts_dir)):
        d = os.path.join(experts_dir, name)
        with open(os.path.join(d, "adapter_config.json")) as f:
            c = json.load(f)
        lora = br.peft_to_lora(adapter_weights(d))
        sd = br.merge_lora({k: v.float() for k, v in base_sd.items()}, lora, c["r"], c["lora_alpha"])
        with torch.no_grad():
            a = ours(os.path.join(model_dir, "config.json"), sd)(ids, mask)
            base = ours(os.path.join(model_dir, "config.json"), base_sd)(ids, mask)
        b = peft_embed(model_dir, d, ids, mask)
        res[name] = {"max_abs_diff": float((a - b).abs().max()),
                     "expert_vs_base": float((a - base).abs().max())}
    return res


@section("fixtures")
def check_fixtures(fix_dir):
    g = json.load(open(os.path.join(fix_dir, "golden.json")))
    ids, mask = batch(g["input_ids"])
    tb = os.path.join(fix_dir, "tiny-bert")
    res = {}
    exp = {k: torch.tensor(v) for k, v in g["embeddings"].items()}
    m = hf_model(tb)   # model.safetensors
    with torch.no_grad():
        h = m(input_ids=ids, attention_mask=mask).last_hidden_state
    res["tiny-bert safetensors mean"] = float((mean_pool(h, mask) - exp["base"]).abs().max())
    cls = torch.nn.functional.normalize(h[:, 0], dim=-1)
    res["tiny-bert safetensors cls-normalized"] = float((cls - exp["base-cls-normalized"]).abs().max())
    with tempfile.TemporaryDirectory() as tmp:   # the .bin alone
        for f in ("config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"):
            shutil.copy(os.path.join(tb, f), tmp)
        m2 = hf_model(tmp)
        with torch.no_grad():
            h2 = m2(input_ids=ids, attention_mask=mask).last_hidden_state
        res["tiny-bert pytorch_model.bin mean"] = float((mean_pool(h2, mask) - exp["base"]).abs().max())
    for name in ("expert-a", "expert-b"):
        e = peft_embed(tb, os.path.join(fix_dir, "adapters", name), ids, mask)
        res["peft " + name] = float((e - exp[name]).abs().max())
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-root", required=True, help="dir with contriever-mini/ and experts/")
    ap.add_argument("--data", default="", help="data dir with beir/ (real texts for the tokenizer check)")
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "test", "fixtures"))
    ap.add_argument("--out-json", required=True)
    ap.add_argument("--n-real", type=int, default=3000)
    args = ap.parse_args()
    torch.manual_seed(0)
    model_dir = os.path.join(args.model_root, "contriever-mini")
    tg = json.load(open(os.path.join(args.fixtures, "tokenizer-golden.json")))
    golden = json.load(open(os.path.join(args.fixtures, "golden.json")))
    texts = [c["text"] for c in tg["cases"]] + golden["texts"]
    real = []
    if args.data and os.path.isdir(os.path.join(args.data, "beir")):
        rng = random.Random(0)
        for dom in sorted(os.listdir(os.path.join(args.data, "beir"))):
            d = os.path.join(args.data, "beir", dom)
            for fn, key in (("corpus.jsonl", "text"), ("queries.jsonl", "text")):
                lines = open(os.path.join(d, fn), encoding="utf-8").read().splitlines()
                for line in rng.sample(lines, min(len(lines), args.n_real // 20)):
                    o = json.loads(line)
                    real.append(((o.get("title") or "") + " " + o[key]) if fn == "corpus.jsonl" else o[key])
    check_tokenizer(model_dir, texts + real)
    emb_texts = golden["texts"] + real[:48]
    check_base(model_dir, emb_texts)
    check_experts(model_dir, os.path.join(args.model_root, "experts"), emb_texts[:24])
    check_fixtures(args.fixtures)
    hf = REPORT.get("tokenizer", {}).pop("hf_ids", None) if isinstance(REPORT.get("tokenizer"), dict) else None
    out = {"report": REPORT}
    if hf:
        n = len(tg["cases"])
        out["tokenizer_golden_hf_ids"] = {k: [{"text": t, "input_ids": ids} for t, ids in zip(texts[:n], v[:n])]
                                          for k, v in hf.items()}
    with open(args.out_json, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print("[hf-check] wrote", args.out_json)


if __name__ == "__main__":
    main()
