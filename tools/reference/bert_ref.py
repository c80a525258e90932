"""Independent reference implementation of the pieces RouterRetriever Web must match.

Written from scratch (no transformers / tokenizers / peft / safetensors dependency):
  * BertTokenizer   - bert-base-uncased BasicTokenizer + WordPiece (HF semantics)
  * BertEncoder     - BERT body with Hugging Face BertModel parameter names, exact erf GELU,
                      masked mean or CLS pooling, optional L2 normalisation
  * merge_lora      - W + (alpha / r) * B @ A on chosen target modules
  * save_safetensors / load_safetensors - tiny safetensors writer / reader

Works with torch 1.13 (CPU) and torch 2.x (CUDA).
"""
import json
import math
import re
import struct
import sys
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (
        (0x4E00 <= cp <= 0x9FFF)
        or (0x3400 <= cp <= 0x4DBF)
        or (0x20000 <= cp <= 0x2A6DF)
        or (0x2A700 <= cp <= 0x2B73F)
        or (0x2B740 <= cp <= 0x2B81F)
        or (0x2B820 <= cp <= 0x2CEAF)
        or (0xF900 <= cp <= 0xFAFF)
        or (0x2F800 <= cp <= 0x2FA1F)
    )


def _build_classes():
    """Regex character classes equivalent to the predicates above (built once)."""
    punct, control, ws, cjk = [], [], [], []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            control.append(cp)  # surrogates: category Cs
            continue
        ch = chr(cp)
        if _is_punctuation(ch):
            punct.append(cp)
        if _is_control(ch):
            control.append(cp)
        elif _is_whitespace(ch):
            ws.append(cp)
        if _is_chinese_char(cp):
            cjk.append(cp)

    def to_class(cps):
        out, i = [], 0
        while i < len(cps):
            j = i
            while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
                j += 1
            a, b = cps[i], cps[j]
            out.append("\\U%08x" % a if a == b else "\\U%08x-\\U%08x" % (a, b))
            i = j + 1
        return "[" + "".join(out) + "]"

    return to_class(punct), to_class(control), to_class(ws), to_class(cjk)


class BertTokenizer:
    """bert-base-uncased tokenizer (do_lower_case=True, strip accents, CJK splitting).

    Semantics of Hugging Face's BertTokenizer (slow and fast agree on everything tested
    in tokenizer-golden.json). Special-token strings ([CLS], [SEP], [PAD], [MASK], [UNK])
    written literally in the input text are kept as those tokens, as HF does.
    """

    def __init__(self, vocab_path, max_input_chars_per_word=100):
        self.vocab = {}
        with open(vocab_path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                tok = line.rstrip("\n")
                if tok not in self.vocab:
                    self.vocab[tok] = i
        self.inv_vocab = {v: k for k, v in self.vocab.items()}
        self.max_input_chars_per_word = max_input_chars_per_word
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        p, c, w, k = _build_classes()
        self._re_control = re.compile(c + "|\x00|\ufffd")
        self._re_ws = re.compile(w)
        self._re_cjk = re.compile("(" + k + ")")
        # a token is one punctuation char or a maximal run of non-space non-punctuation chars
        self._re_split = re.compile(p + "|[^\\s" + p[1:-1] + "]+")
        self._re_special = re.compile("(" + "|".join(re.escape(s) for s in SPECIAL_TOKENS) + ")")
        self._cache = {}

    # --- BasicTokenizer -----------------------------------------------------------------
    def _basic(self, text):
        text = self._re_control.sub("", text)          # drop \0, \ufffd, control chars
        text = self._re_ws.sub(" ", text)              # whitespace -> " "
        text = self._re_cjk.sub(r" \1 ", text)         # CJK chars become words
        text = unicodedata.normalize("NFC", text)
        out = []
        for word in text.split():
            word = word.lower()
            if not word.isascii():
                word = "".join(ch for ch in unicodedata.normalize("NFD", word)
                               if unicodedata.category(ch) != "Mn")
            out.extend(self._re_split.findall(word))
        return out

    # --- WordPiece ----------------------------------------------------------------------
    def _wordpiece(self, word):
        ids = self._cache.get(word)
        if ids is not None:
            return ids
        if len(word) > self.max_input_chars_per_word:
            ids = [self.unk_id]
        else:
            ids, start, n = [], 0, len(word)
            while start < n:
                end, cur = n, None
                while start < end:
                    sub = word[start:end]
                    if start > 0:
                        sub = "##" + sub
                    if sub in self.vocab:
                        cur = self.vocab[sub]
                        break
                    end -= 1
                if cur is None:
                    ids = [self.unk_id]
                    break
                ids.append(cur)
                start = end
        if len(self._cache) < 2_000_000:
            self._cache[word] = ids
        return ids

    def tokenize_ids(self, text):
        """Word-piece ids of `text` without [CLS]/[SEP], no truncation."""
        ids = []
        for i, part in enumerate(self._re_special.split(text)):
            if i % 2 == 1:
                ids.append(self.vocab[part])
            elif part:
                for w in self._basic(part):
                    ids.extend(self._wordpiece(w))
        return ids

    def tokenize(self, text):
        return [self.inv_vocab[i] for i in self.tokenize_ids(text)]

    def encode(self, text, max_length=512):
        ids = self.tokenize_ids(text)[: max_length - 2]
        return [self.cls_id] + ids + [self.sep_id]


# ----------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------

def default_config(**kw):
    cfg = dict(
        architectures=["BertModel"], model_type="bert", vocab_size=30522, hidden_size=768,
        num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
        layer_norm_eps=1e-12, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        pad_token_id=0, initializer_range=0.02, position_embedding_type="absolute",
    )
    cfg.update(kw)
    return cfg


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, device=input_ids.device)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(pos)[None]
             + self.token_type_embeddings.weight[0][None, None])   # token_type_ids all zero
        return self.dropout(self.LayerNorm(x))


class LoRALinear(nn.Linear):
    """nn.Linear with an optional LoRA branch (used by the trainer; the reference path
    merges LoRA into the weight instead)."""

    def __init__(self, i, o):
        super().__init__(i, o)
        self.lora_A = None
        self.lora_B = None
        self.lora_scaling = 0.0
        self.lora_dropout = nn.Identity()

    def add_lora(self, r, alpha, dropout=0.0):
        self.lora_A = nn.Parameter(torch.empty(r, self.in_features, device=self.weight.device))
        self.lora_B = nn.Parameter(torch.zeros(self.out_features, r, device=self.weight.device))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))   # PEFT's default init
        self.lora_scaling = alpha / r
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def remove_lora(self):
        self.lora_A = None
        self.lora_B = None

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        if self.lora_A is not None:
            y = y + F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B) * self.lora_scaling
        return y


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.n_heads = c["num_attention_heads"]
        self.head_dim = h // self.n_heads
        self.query = LoRALinear(h, h)
        self.key = LoRALinear(h, h)
        self.value = LoRALinear(h, h)
        self.dropout_p = c["attention_probs_dropout_prob"]


class AttentionOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = AttentionOutput(c)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])


class Output(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])


_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = Output(c)

    def forward(self, x, mask, use_sdpa=False):
        """mask: [batch, 1, 1, seq] bool (True = attend)."""
        a = self.attention.self
        b, s, h = x.shape

        def heads(t):
            return t.view(b, s, a.n_heads, a.head_dim).transpose(1, 2)

        q, k, v = heads(a.query(x)), heads(a.key(x)), heads(a.value(x))
        p = a.dropout_p if self.training else 0.0
        if use_sdpa and _HAS_SDPA:
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        else:
            # additive mask with the dtype's most negative value, as Hugging Face does
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(a.head_dim)
            scores = scores + (~mask).to(scores.dtype) * torch.finfo(scores.dtype).min
            probs = F.dropout(torch.softmax(scores, dim=-1), p, self.training)
            ctx = torch.matmul(probs, v)
        ctx = ctx.transpose(1, 2).reshape(b, s, h)
        o = self.attention.output
        x = o.LayerNorm(o.dropout(o.dense(ctx)) + x)
        inter = F.gelu(self.intermediate.dense(x))          # exact erf GELU
        o2 = self.output
        return o2.LayerNorm(o2.dropout(o2.dense(inter)) + x)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class BertEncoder(nn.Module):
    """BERT body with HF BertModel parameter names (no pooler)."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        self.embeddings = Embeddings(self.config)
        self.encoder = Encoder(self.config)
        self.use_sdpa = False

    def hidden_states(self, input_ids, attention_mask):
        x = self.embeddings(input_ids)
        mask = attention_mask[:, None, None, :].bool()
        for layer in self.encoder.layer:
            x = layer(x, mask, self.use_sdpa)
        return x

    def forward(self, input_ids, attention_mask, pooling="mean", normalize=False):
        h = self.hidden_states(input_ids, attention_mask)
        if pooling == "cls":
            e = h[:, 0]
        else:
            m = attention_mask.to(h.dtype)[:, :, None]
            e = (h * m).sum(1) / m.sum(1)
        if normalize:
            e = F.normalize(e, dim=-1)
        return e

    # --- LoRA helpers -------------------------------------------------------------------
    def lora_modules(self, targets):
        out = {}
        for i, layer in enumerate(self.encoder.layer):
            for t in targets:
                out["encoder.layer.%d.attention.self.%s" % (i, t)] = getattr(layer.attention.self, t)
        return out


def init_weights(model, std=0.02, seed=0, ln_noise=0.0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                continue
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + ln_noise * torch.randn(p.shape, generator=g))
            elif "LayerNorm.bias" in name:
                p.copy_(ln_noise * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(ln_noise * torch.randn(p.shape, generator=g) if ln_noise else torch.zeros(p.shape))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


def base_state_dict(model):
    """State dict with HF key names, without any LoRA tensors."""
    return {k: v for k, v in model.state_dict().items() if "lora_" not in k}


def merge_lora(state_dict, lora, r, alpha, fan_in_fan_out=False):
    """Return a copy of `state_dict` with W + (alpha/r) * B @ A merged.

    `lora` maps a module name (e.g. "encoder.layer.0.attention.self.query") to (A, B) with
    A: [r, in], B: [out, r]."""
    sd = {k: v.clone() for k, v in state_dict.items()}
    scale = alpha / r
    for mod, (A, B) in lora.items():
        key = mod + ".weight"
        delta = (B.double() @ A.double()).to(sd[key].device) * scale
        if fan_in_fan_out:
            delta = delta.T
        sd[key] = (sd[key].double() + delta).to(sd[key].dtype)
    return sd


def peft_to_lora(peft_sd):
    """PEFT keys base_model.model.<mod>.lora_A.weight -> {mod: (A, B)}."""
    out = {}
    for k, v in peft_sd.items():
        m = re.match(r"^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$", k)
        if not m:
            continue
        mod, which = m.group(1), m.group(2)
        a, b = out.get(mod, (None, None))
        out[mod] = (v, b) if which == "A" else (a, v)
    return out


def lora_to_peft(lora):
    out = {}
    for mod, (A, B) in lora.items():
        out["base_model.model.%s.lora_A.weight" % mod] = A
        out["base_model.model.%s.lora_B.weight" % mod] = B
    return out


def peft_adapter_config(r, alpha, targets, base="contriever-mini", dropout=0.1):
    return {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base,
        "bias": "none", "fan_in_fan_out": False, "inference_mode": True,
        "init_lora_weights": True, "layers_pattern": None, "layers_to_transform": None,
        "lora_alpha": alpha, "lora_dropout": dropout, "modules_to_save": None,
        "peft_type": "LORA", "r": r, "rank_pattern": {}, "revision": None,
        "target_modules": list(targets), "task_type": "FEATURE_EXTRACTION",
        "use_dora": False, "use_rslora": False,
    }


# ----------------------------------------------------------------------------------------
# safetensors
# ----------------------------------------------------------------------------------------

_ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
              torch.int64: "I64", torch.int32: "I32", torch.float64: "F64"}
_ST_NP = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "F64": np.float64}


def save_safetensors(tensors, path, metadata=None):
    """tensors: {name: torch.Tensor}. Writes keys sorted by name (like the reference lib)."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[base + a: base + b], dtype=_ST_NP[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out
