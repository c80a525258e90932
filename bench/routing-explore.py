#!/usr/bin/env python3
"""Offline routing experiments on the dump of tools/eval/dump-routing-data.ts.

SELECTION ONLY ON TRAINING QUERIES. Two protocols, both on each domain's pilot (training) queries:
  cv5: 5-fold cross-validation (seeded permutation per domain); pilots (and DatasetRouter's 100
       instances) are built from 4 folds, the 5th fold is routed; every training query is routed once.
  val: pilots from the training queries the experts trained on; routed = the 10 % validation
       queries the trainer held out (sha1("val:" + id)[0] % 10 == 0), which no expert has seen.
Score = mean over the 5 domains of the mean nDCG@10 of the chosen expert on the routed queries.
`--test` prints the test-set numbers of the named variants (pilots from all training queries):
run it once, for the final choice only.

  python3 bench/routing-explore.py [--dump .cache/routing-dump] [--test VARIANT ...]
"""
import argparse
import hashlib
import itertools
import json
import os
import sys

import numpy as np

DOMAINS = ["scifact", "nfcorpus", "wikiqa", "arguana", "cranfield"]
EXPERTS = ["scifact", "nfcorpus", "wikiqa", "arguana", "cranfield"]


def load(dump):
    data = {}
    for d in DOMAINS:
        j = json.load(open(os.path.join(dump, d + ".json")))
        dim = j["dim"]
        P = np.fromfile(os.path.join(dump, d + ".pilot.f32"), dtype=np.float32).reshape(-1, dim)
        T = np.fromfile(os.path.join(dump, d + ".test.f32"), dtype=np.float32).reshape(-1, dim)
        m = j["metrics"]

        def arr(split, key, names):
            return np.array([m[e][split][key] for e in names], dtype=np.float64).T  # [n, E]

        names = EXPERTS + ["base", "multitask"]
        data[d] = dict(
            P=P.astype(np.float64), T=T.astype(np.float64), pilotIds=j["pilotIds"], testIds=j["testIds"],
            p10=arr("pilot", "ndcg10", names), p100=arr("pilot", "ndcg100", names), pfr=arr("pilot", "firstRel", names),
            t10=arr("test", "ndcg10", names), names=names,
            val=np.array([hashlib.sha1(("val:" + q).encode()).digest()[0] % 10 == 0 for q in j["pilotIds"]]),
        )
    return data


E = len(EXPERTS)


def best_expert(d, idx, tie):
    """Best expert per query of idx (index into EXPERTS) or -1 (skipped)."""
    s10 = d["p10"][idx, :E]
    if tie in ("first", "skip"):
        b = np.argmax(s10, axis=1)  # first max
        if tie == "skip":
            b[s10.max(1) == s10.min(1)] = -1
        return b
    # deeper tie-break: nDCG@10, then nDCG@100, then the earlier first relevant document
    s100 = d["p100"][idx, :E]
    fr = d["pfr"][idx, :E].copy()
    fr[fr == 0] = 1e9
    out = np.empty(len(idx), dtype=int)
    for i in range(len(idx)):
        keys = [(s10[i, e], s100[i, e], -fr[i, e], -e) for e in range(E)]
        out[i] = max(range(E), key=lambda e: keys[e])
        if tie == "deep-skip" and s100[i].max() == s100[i].min() and s10[i].max() == s10[i].min():
            out[i] = -1
    return out


def kmeans(X, k, seed=0, iters=50):
    if k <= 1 or len(X) <= k:
        return [X.mean(0)] if k <= 1 or len(X) == 0 else [x for x in X]
    rng = np.random.default_rng(seed)
    C = [X[rng.integers(len(X))]]
    for _ in range(1, k):
        d2 = np.min(((X[:, None, :] - np.array(C)[None]) ** 2).sum(-1), axis=1)
        C.append(X[rng.choice(len(X), p=d2 / d2.sum())] if d2.sum() > 0 else X[rng.integers(len(X))])
    C = np.array(C)
    a = None
    for _ in range(iters):
        na = np.argmin(((X[:, None, :] - C[None]) ** 2).sum(-1), axis=1)
        if a is not None and (na == a).all():
            break
        a = na
        for c in range(k):
            if (a == c).any():
                C[c] = X[a == c].mean(0)
    return [C[c] for c in range(k) if (a == c).any()]


def build(data, train_idx, opt):
    """Pilots: list of (expert index, vector, group size, domain)."""
    pilots = []
    for d in DOMAINS:
        idx = train_idx[d]
        b = best_expert(data[d], idx, opt.get("tie", "first"))
        informative = int((b >= 0).sum())
        for e in range(E):
            m = idx[b == e]
            if len(m) == 0 or len(m) < opt.get("min_frac", 0.0) * informative:
                continue
            if opt.get("weight") == "gain":  # nDCG@10 the group gains over the experts' mean
                s10 = data[d]["p10"][m, :E]
                g = s10.max(1) - (np.sort(s10, 1)[:, -2] if opt.get("margin") else s10.mean(1))
                w = float(g.sum())
                if w <= 0:
                    continue
                c = (data[d]["P"][m] * g[:, None]).sum(0) / w if opt.get("gain_centroid") else data[d]["P"][m].mean(0)
                pilots.append((e, c, w, d))
                continue
            for c in kmeans(data[d]["P"][m], opt.get("k", 1)):
                pilots.append((e, c, len(m), d))
    return pilots


def route(Q, pilots, opt):
    V = np.array([p[1] for p in pilots])
    ex = np.array([p[0] for p in pilots])
    if opt.get("sim", "dot") == "cos":
        V = V / np.linalg.norm(V, axis=1, keepdims=True)
        Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    S = Q @ V.T  # [n, pilots]
    agg = np.full((len(Q), E), -np.inf)
    mode = opt.get("mode", "mean")
    for e in range(E):
        cols = ex == e
        if not cols.any():
            continue
        if mode == "max":
            agg[:, e] = S[:, cols].max(1)
        elif mode == "mean":
            agg[:, e] = S[:, cols].mean(1)
        elif mode == "wmean":  # mean weighted by group size
            w = np.array([p[2] for p in pilots])[cols].astype(float)
            agg[:, e] = S[:, cols] @ (w / w.sum())
    return np.argmax(agg, axis=1)


def dataset_router(data, train_idx, Qs, n=100, seed=0):
    rng = np.random.default_rng(seed)
    inst, lab = [], []
    for di, d in enumerate(DOMAINS):
        idx = train_idx[d]
        pick = idx if len(idx) <= n else rng.choice(idx, n, replace=False)
        inst.append(data[d]["P"][pick])
        lab += [di] * len(pick)
    inst = np.concatenate(inst)
    lab = np.array(lab)
    return lab[np.argmax(Qs @ inst.T, axis=1)]


def folds(data, nf=5, seed=0):
    out = []
    rng = np.random.default_rng(seed)
    perms = {d: rng.permutation(len(data[d]["pilotIds"])) for d in DOMAINS}
    for f in range(nf):
        tr, te = {}, {}
        for d in DOMAINS:
            p = perms[d]
            te[d] = np.sort(p[f::nf])
            tr[d] = np.sort(np.setdiff1d(p, te[d]))
        out.append((tr, te))
    return out


def protocols(data):
    val = ({d: np.where(~data[d]["val"])[0] for d in DOMAINS}, {d: np.where(data[d]["val"])[0] for d in DOMAINS})
    return {"cv5": folds(data), "val": [val]}


def evaluate(data, splits, opt):
    """Mean nDCG@10 per domain over the routed held-out training queries."""
    per = {d: [] for d in DOMAINS}
    acc = {d: [] for d in DOMAINS}
    for tr, te in splits:
        if opt.get("router") == "dataset":
            for di, d in enumerate(DOMAINS):
                ch = dataset_router(data, tr, data[d]["P"][te[d]])
                per[d] += list(data[d]["p10"][te[d], ch])
                acc[d] += list(ch == di)
            continue
        pilots = build(data, tr, opt)
        for di, d in enumerate(DOMAINS):
            ch = route(data[d]["P"][te[d]], pilots, opt)
            per[d] += list(data[d]["p10"][te[d], ch])
            acc[d] += list(ch == di)
    r = {d: float(np.mean(per[d])) for d in DOMAINS}
    r["avg"] = float(np.mean([r[d] for d in DOMAINS]))
    r["acc"] = float(np.mean([np.mean(acc[d]) for d in DOMAINS]))
    return r


def fixed(data, splits, col):
    per = {d: [] for d in DOMAINS}
    for _, te in splits:
        for d in DOMAINS:
            c = col(d)
            per[d] += list(data[d]["p10"][te[d], c] if c >= 0 else data[d]["p10"][te[d], :E].max(1))
    r = {d: float(np.mean(per[d])) for d in DOMAINS}
    r["avg"] = float(np.mean([r[d] for d in DOMAINS]))
    return r


def fmt(r):
    return " ".join("%5.1f" % (100 * r[d]) for d in DOMAINS + ["avg"]) + ("  acc %4.1f" % (100 * r["acc"]) if "acc" in r else "")


VARIANTS = {}
for mode, tie, k, sim in itertools.product(["mean", "max", "wmean"], ["first", "skip", "deep", "deep-skip"], [1, 2, 3, 4, 8], ["dot", "cos"]):
    VARIANTS["%s/%s/k%d/%s" % (mode, tie, k, sim)] = dict(mode=mode, tie=tie, k=k, sim=sim)
for mode, tie, f, sim in itertools.product(["max", "wmean", "mean"], ["skip", "deep-skip"], [0.05, 0.1, 0.2, 0.3], ["dot", "cos"]):
    VARIANTS["%s/%s/k1/%s/min%g" % (mode, tie, sim, f)] = dict(mode=mode, tie=tie, k=1, sim=sim, min_frac=f)
for tie, sim, gc in itertools.product(["first", "skip", "deep", "deep-skip"], ["dot", "cos"], [0, 1]):
    VARIANTS["wmean/%s/k1/%s/gain%s" % (tie, sim, "c" if gc else "")] = dict(mode="wmean", tie=tie, k=1, sim=sim, weight="gain", gain_centroid=gc)
for tie in ["first", "skip"]:
    VARIANTS["wmean/%s/k1/dot/margin" % tie] = dict(mode="wmean", tie=tie, k=1, sim="dot", weight="gain", margin=1)
    VARIANTS["max/%s/k1/dot/gain" % tie] = dict(mode="max", tie=tie, k=1, sim="dot", weight="gain")
    for k in [2, 4]:
        VARIANTS["wmean/%s/k%d/dot/gain" % (tie, k)] = dict(mode="wmean", tie=tie, k=k, sim="dot", weight="gain")
VARIANTS["dataset-router"] = dict(router="dataset")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", default=".cache/routing-dump")
    ap.add_argument("--filter", default="", help="only variants whose name contains this")
    ap.add_argument("--test", nargs="*", default=None, help="test-set numbers of these variants (final choice only)")
    a = ap.parse_args()
    data = load(a.dump)
    names = EXPERTS + ["base", "multitask"]
    if a.test is not None:
        all_train = {d: np.arange(len(data[d]["pilotIds"])) for d in DOMAINS}
        for v in a.test:
            opt = VARIANTS[v]
            per = {}
            acc, hits, n = [], 0, 0
            for di, d in enumerate(DOMAINS):
                Q = data[d]["T"]
                ch = dataset_router(data, all_train, Q) if opt.get("router") == "dataset" else route(Q, build(data, all_train, opt), opt)
                per[d] = float(np.mean(data[d]["t10"][np.arange(len(Q)), ch]))
                acc.append(np.mean(ch == di))  # routed to the query's own domain expert
                hits, n = hits + int(np.sum(ch == di)), n + len(ch)
            per["avg"] = float(np.mean([per[d] for d in DOMAINS]))
            per["acc"] = float(np.mean(acc))
            print("TEST %-28s %s  (over all test queries: %4.1f)" % (v, fmt(per), 100 * hits / n))
        return
    print("%-28s %s" % ("", " ".join("%5s" % d[:5] for d in DOMAINS + ["avg"])))
    for pname, splits in protocols(data).items():
        print("== protocol %s ==" % pname)
        for ci, n in enumerate(names):
            print("%-28s %s" % ("single:" + n, fmt(fixed(data, splits, lambda d, ci=ci: ci))))
        print("%-28s %s" % ("dataset-oracle", fmt(fixed(data, splits, lambda d: EXPERTS.index(d)))))
        print("%-28s %s" % ("instance-oracle", fmt(fixed(data, splits, lambda d: -1))))
        for v, opt in VARIANTS.items():
            if a.filter and a.filter not in v:
                continue
            print("%-28s %s" % (v, fmt(evaluate(data, splits, opt))))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
