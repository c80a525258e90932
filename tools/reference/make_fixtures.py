"""Writes the deterministic test fixtures under test/fixtures/ (see tools/reference/README.md).

    /usr/bin/python3 tools/reference/make_fixtures.py [--vocab PATH] [--out test/fixtures]
"""
import argparse
import json
import os
import random
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_ref as br  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)

SCI = [
    "Mitochondrial dysfunction contributes to the pathogenesis of Parkinson's disease.",
    "Vitamin D supplementation reduces the risk of respiratory infections in children.",
    "The boundary layer separates from the wing surface at high angles of attack.",
    "CRISPR-Cas9 enables targeted genome editing in human embryonic stem cells.",
    "Statins lower LDL cholesterol by inhibiting HMG-CoA reductase.",
    "Graphene exhibits exceptionally high electron mobility at room temperature.",
    "Gut microbiota composition is associated with obesity and insulin resistance.",
    "Supersonic flow over a flat plate produces an oblique shock wave.",
]


def long_text(n_words=700, seed=7):
    rng = random.Random(seed)
    words = []
    while len(words) < n_words:
        words.extend(rng.choice(SCI).split())
    return " ".join(words[:n_words])


def golden_texts():
    return [
        "Hello, World!",
        "Café naïve résumé Ångström",
        "東京は日本の首都です",
        "I ❤️ NLP 🤖",
        "See https://example.com/search?q=router+retriever&lang=en#results for details.",
        "3.14159 and 1,000,000 and 2026-11-25",
        "x" * 20 + "supercalifragilistic" * 6 + "y" * 10,   # one 150-character word
        "Zero\u200bwidth\u200c and\u200d\ttabs\tand\nnewlines\r\nand \x07bell \x00nul \ufffd and\u00a0nbsp",
        "",
        "NASA, DNA, mRNA and the WHO met the CEO of IBM in the USA.",
        long_text(),
        "Wait...!!!??? What?!?! (really) [yes] {no} <maybe> --- ***",
    ] + SCI[:6]


def tokenizer_strings():
    return [
        "Hello, World!", "hello world", "HELLO WORLD", "", " ", "\t\n\r",
        "Café naïve résumé Ångström", "Ærøskøbing façade coöperate", "Straße München Zürich",
        "東京は日本の首都です", "中文分词测试", "한국어 텍스트", "日本語とEnglishの混在",
        "I ❤️ NLP 🤖", "emoji 😀😃😄 in a row", "❤",
        "https://example.com/search?q=router+retriever&lang=en#results",
        "user.name+tag@example.co.uk", "C:\\Program Files\\app.exe",
        "3.14159 and 1,000,000 and 2026-11-25", "$100.00 (USD) 50% off €20 £5 ¥300",
        "x" * 150, "a" * 100, "a" * 101, "antidisestablishmentarianism", "unaffable",
        "Zero\u200bwidth\u200c and\u200d\ttabs\tand\nnewlines\r\nand \x07bell \x00nul \ufffd end",
        "non\u00a0breaking\u2003em\u3000ideographic spaces",
        "NASA DNA mRNA WHO CEO IBM USA iPhone eBay McDonald's",
        "Wait...!!!??? What?!?! (really) [yes] {no} <maybe> --- ***",
        "«quotes» „German“ “curly” ‘single’ — em-dash – en-dash … ellipsis",
        "don't can't won't it's O'Neil",
        "H2O CO2 E=mc^2 α-helix β-sheet γ-ray Δx μm",
        "the [MASK] token and [CLS] [SEP] [PAD] [UNK] literal, but not [mask]",
        "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
        "ﬁ ligature ﬀ ﬃ and ™ ® ©",
        "Привет мир, Ελληνικά κείμενα, עברית, العربية",
        "tab\tseparated\tvalues\nline two",
        "The quick brown fox jumps over the lazy dog. " * 3,
        long_text(700, seed=11),
    ]


def rand_like(shape, g, std):
    return std * torch.randn(shape, generator=g)


def fp16_round(sd):
    return {k: (v.half().float() if v.is_floating_point() else v) for k, v in sd.items()}


def embed(model_sd, cfg, ids, pooling="mean", normalize=False):
    m = br.BertEncoder(cfg).double().eval()
    sd = {k: v.double() if v.is_floating_point() else v for k, v in model_sd.items()}
    m.load_state_dict(sd, strict=False)
    outs = []
    with torch.no_grad():
        for seq in ids:
            x = torch.tensor([seq])
            e = m(x, torch.ones_like(x), pooling=pooling, normalize=normalize)
            outs.append([float("%.7g" % v) for v in e[0].float().tolist()])
    return outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", default="/work/shared/data/vocab/bert-base-uncased-vocab.txt")
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures"))
    args = ap.parse_args()
    torch.manual_seed(0)
    out = args.out
    tb = os.path.join(out, "tiny-bert")
    os.makedirs(tb, exist_ok=True)

    # --- tiny-bert ----------------------------------------------------------------------
    cfg = br.default_config(**TINY)
    hf_cfg = {k: cfg[k] for k in [
        "architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers",
        "num_attention_heads", "intermediate_size", "max_position_embeddings", "type_vocab_size",
        "hidden_act", "layer_norm_eps", "hidden_dropout_prob", "attention_probs_dropout_prob",
        "pad_token_id"]}
    with open(os.path.join(tb, "config.json"), "w") as f:
        json.dump(hf_cfg, f, indent=2)
    shutil.copyfile(args.vocab, os.path.join(tb, "vocab.txt"))
    with open(os.path.join(tb, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizer"}, f, indent=2)

    g = torch.Generator().manual_seed(1234)
    model = br.BertEncoder(cfg)
    sd = {}
    for k, v in br.base_state_dict(model).items():
        if "LayerNorm.weight" in k:
            sd[k] = 1.0 + rand_like(v.shape, g, 0.1)
        elif k.endswith(".bias"):
            sd[k] = rand_like(v.shape, g, 0.1)
        elif "embeddings" in k:
            sd[k] = rand_like(v.shape, g, 0.5)
        else:
            sd[k] = rand_like(v.shape, g, 0.15)
    sd = fp16_round(sd)
    br.save_safetensors({k: v.half() for k, v in sd.items()}, os.path.join(tb, "model.safetensors"))
    bin_sd = dict(sd)
    bin_sd["embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"], dtype=torch.int64)[None]
    torch.save(bin_sd, os.path.join(tb, "pytorch_model.bin"))

    # --- adapters -----------------------------------------------------------------------
    def make_lora(r, targets, seed):
        gg = torch.Generator().manual_seed(seed)
        h = cfg["hidden_size"]
        lora = {}
        for i in range(cfg["num_hidden_layers"]):
            for t in targets:
                A = (torch.randn(r, h, generator=gg) * 0.3).float()
                B = (torch.randn(h, r, generator=gg) * 0.3).float()
                lora["encoder.layer.%d.attention.self.%s" % (i, t)] = (A, B)
        return lora

    adapters = {
        "expert-a": dict(r=4, alpha=8, targets=["query", "value"], seed=11, fmt="safetensors"),
        "expert-b": dict(r=2, alpha=16, targets=["query", "key", "value"], seed=22, fmt="bin"),
    }
    loras = {}
    for name, a in adapters.items():
        d = os.path.join(out, "adapters", name)
        os.makedirs(d, exist_ok=True)
        lora = make_lora(a["r"], a["targets"], a["seed"])
        loras[name] = lora
        c = br.peft_adapter_config(a["r"], a["alpha"], a["targets"], base="tiny-bert")
        with open(os.path.join(d, "adapter_config.json"), "w") as f:
            json.dump(c, f, indent=2)
        peft = br.lora_to_peft(lora)
        if a["fmt"] == "safetensors":
            br.save_safetensors(peft, os.path.join(d, "adapter_model.safetensors"))
        else:
            torch.save(peft, os.path.join(d, "adapter_model.bin"))
    # bad-shape: expert-a with one lora_B of the wrong shape
    d = os.path.join(out, "adapters", "bad-shape")
    os.makedirs(d, exist_ok=True)
    c = br.peft_adapter_config(4, 8, ["query", "value"], base="tiny-bert")
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump(c, f, indent=2)
    bad = br.lora_to_peft(loras["expert-a"])
    bad["base_model.model.encoder.layer.1.attention.self.value.lora_B.weight"] = torch.ones(cfg["hidden_size"] + 3, 4) * 0.01
    br.save_safetensors(bad, os.path.join(d, "adapter_model.safetensors"))

    # --- golden -------------------------------------------------------------------------
    tok = br.BertTokenizer(os.path.join(tb, "vocab.txt"))
    texts = golden_texts()
    ids = [tok.encode(t, 512) for t in texts]
    emb = {
        "base": embed(sd, cfg, ids),
        "expert-a": embed(br.merge_lora(sd, loras["expert-a"], 4, 8), cfg, ids),
        "expert-b": embed(br.merge_lora(sd, loras["expert-b"], 2, 16), cfg, ids),
        "base-cls-normalized": embed(sd, cfg, ids, pooling="cls", normalize=True),
    }
    golden = {
        "description": "tiny-bert embeddings from tools/reference/bert_ref.py (float64 math on the "
                       "fp16-rounded weights, rounded to 7 significant digits); each text alone, "
                       "no padding, max_length 512; 'base'/'expert-*': masked mean pooling, not "
                       "normalised; 'base-cls-normalized': [CLS] vector, L2-normalised.",
        "texts": texts, "input_ids": ids, "embeddings": emb,
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False)
    strs = tokenizer_strings()
    tg = {
        "description": "bert-base-uncased token ids (with [CLS]/[SEP], max_length 512) from "
                       "tools/reference/bert_ref.py BertTokenizer",
        "cases": [{"text": s, "input_ids": tok.encode(s, 512), "tokens": [tok.inv_vocab[i] for i in tok.encode(s, 512)]}
                  for s in strs],
    }
    with open(os.path.join(out, "tokenizer-golden.json"), "w") as f:
        json.dump(tg, f, ensure_ascii=False, indent=1)
    print("wrote fixtures to", out)


if __name__ == "__main__":
    main()
