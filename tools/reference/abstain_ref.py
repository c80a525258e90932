"""
Independent reference for src/router/abstain.ts (the kNN abstaining router), in numpy:
writes test/fixtures/abstain-golden.json deterministically (fixed seed).

  python3 tools/reference/abstain_ref.py

Instances: rows normalised to unit length, int8 codes round(u / s) with s = max|u| / 127 per row.
A query's neighbours: the k largest cosines (code . q * s / |q|); each expert's gain is the mean
of its gain column over them; the best expert is chosen when its gain > min_gain, else the base.
"""

import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def quantize(x):
    x = x.astype(np.float64)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = np.abs(u).max(1) / 127
    return np.round(u / s[:, None]).astype(np.int8), s.astype(np.float32)


def decide(q, codes, scales, gains, experts, k, min_gain, allowed):
    sims = (codes.astype(np.float64) @ q.astype(np.float64)) * scales.astype(np.float64) / np.linalg.norm(q.astype(np.float64))
    near = np.argsort(-sims, kind="stable")[:k]
    g = {e: float(gains[near, j].astype(np.float64).mean()) for j, e in enumerate(experts) if e in allowed}
    best = max(g, key=lambda e: (g[e], -experts.index(e)))
    return {
        "expert": best if g[best] > min_gain else None,
        "gains": g,
        "similarity": float(sims[near].mean()),
    }


def main():
    rng = np.random.default_rng(7)
    n, dim, experts = 60, 12, ["alpha", "beta", "gamma"]
    x = rng.normal(size=(n, dim)).astype(np.float32)
    # Three loose clusters, each where one expert gains.
    centers = rng.normal(size=(3, dim)).astype(np.float32) * 2
    x[:20] += centers[0]
    x[20:40] += centers[1]
    x[40:] += centers[2]
    gains = rng.normal(scale=0.03, size=(n, 3)).astype(np.float32)
    gains[:20, 0] += 0.10
    gains[20:40, 1] += 0.05
    codes, scales = quantize(x)
    queries = np.concatenate([centers + rng.normal(scale=0.3, size=(3, dim)), rng.normal(size=(3, dim))]).astype(np.float32)
    cases = []
    for k, min_gain, allowed in ((7, 0.02, experts), (60, 0.0, experts), (5, 0.02, ["beta", "gamma"])):
        for q in queries:
            d = decide(q, codes, scales, gains, experts, k, min_gain, allowed)
            cases.append({"k": k, "minGain": min_gain, "allowed": allowed, "query": q.tolist(), **d})
    out = {
        "experts": experts,
        "dim": dim,
        "embeddings": x.tolist(),
        "codes": codes.astype(int).tolist(),
        "scales": scales.tolist(),
        "gains": gains.tolist(),
        "cases": cases,
    }
    path = os.path.join(ROOT, "test", "fixtures", "abstain-golden.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path}: {len(cases)} cases, chosen: {[c['expert'] for c in cases]}")


if __name__ == "__main__":
    main()
