"""
Routing that can abstain: which rule keeps a query on the base encoder when no expert fits?
Offline, on what tools/eval/dump-routing-data.ts dumps (base query embeddings and every
encoder's per-query nDCG@10, computed by the SDK's own eval code):

  npx tsx tools/eval/dump-routing-data.ts --model public/models/contriever-mini \
    --experts-dir public/models/contriever-mini/experts --route-experts scifact,nfcorpus,wikiqa,arguana,cranfield \
    --doc-max-length 256 --runtime node --data ../shared/data/beir/<each of the ten> --dump-dir .cache/routing-dump
  python3 bench/abstain-study.py [--dump .cache/routing-dump] [--json bench/results/abstain-study.json]

Rules (x = a query's base embedding, p_e = expert e's pilot in the shipped library):
  mean        the shipped router: argmax_e x.p_e, never abstains
  threshold   base when max_e x.p_e < t
  knn         the k nearest pilot queries (cosine of base embeddings) vote: each expert's mean
              nDCG@10 gain over the base on them; the best expert if its gain > g, else base
  knn+dist    knn, and base when the mean similarity to the k neighbours is below s
  knn-gate    knn decides only whether to leave the base; the shipped router picks the expert
Selection uses pilot (training) queries of the five expert domains only, leave-one-domain-out:
holding out domain D removes expert D and D's pilot queries, and D's pilot queries are scored
with what is left (they should stay on the base unless another expert really helps); the other
domains' pilot queries are scored by 5-fold cross-validation over the pilot instances (a query is
never its own neighbour). The objective is the mean of the unseen and the seen scores. The test
queries are scored once, with the chosen parameters.
"""

import argparse
import json
import os

import numpy as np

EXPERTS = ["scifact", "nfcorpus", "wikiqa", "arguana", "cranfield"]
NO_EXPERT = ["cisi", "cacm", "med", "adi", "msmarco-dl19-subset"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(dump, name):
    meta = json.load(open(os.path.join(dump, f"{name}.json")))
    dim = meta["dim"]
    out = {}
    for part, ids in (("pilot", meta["pilotIds"]), ("test", meta["testIds"])):
        x = np.fromfile(os.path.join(dump, f"{name}.{part}.f32"), dtype=np.float32).reshape(len(ids), dim)
        nd = {enc: np.array(meta["metrics"][enc][part]["ndcg10"], dtype=np.float64) for enc in ["base"] + EXPERTS}
        out[part] = {"x": x, "ndcg": nd, "domain": np.array([name] * len(ids))}
    return out


def concat(parts):
    return {
        "x": np.concatenate([p["x"] for p in parts]),
        "ndcg": {e: np.concatenate([p["ndcg"][e] for p in parts]) for e in parts[0]["ndcg"]},
        "domain": np.concatenate([p["domain"] for p in parts]),
    }


def unit(x):
    return x / np.maximum(1e-12, np.linalg.norm(x, axis=1, keepdims=True))


def choose(rule, q, experts, pilots, inst):
    """The encoder (an expert name or 'base') for each row of q under `rule`."""
    kind = rule["kind"]
    if kind in ("mean", "threshold"):
        s = q @ np.stack([pilots[e] for e in experts]).T
        pick = np.array(experts)[s.argmax(1)]
        if kind == "threshold":
            pick = np.where(s.max(1) < rule["t"], "base", pick)
        return pick
    k = rule["k"]
    sims = unit(q) @ unit(inst["x"]).T
    idx = np.argpartition(-sims, kth=min(k, sims.shape[1] - 1), axis=1)[:, :k]
    gains = np.stack([inst["ndcg"][e][idx].mean(1) - inst["ndcg"]["base"][idx].mean(1) for e in experts], 1)
    best = gains.argmax(1)
    pick = np.where(gains.max(1) > rule["g"], np.array(experts)[best], "base")
    if kind == "knn+dist":
        near = np.take_along_axis(sims, idx, 1).mean(1)
        pick = np.where(near < rule["s"], "base", pick)
    if kind == "knn-gate":
        # kNN only decides whether to leave the base; the shipped router picks the expert.
        s = q @ np.stack([pilots[e] for e in experts]).T
        pick = np.where(gains.max(1) > rule["g"], np.array(experts)[s.argmax(1)], "base")
    return pick


def score(pick, nd):
    return float(np.mean([nd[p][i] for i, p in enumerate(pick)]))


def selection_score(rule, data, pilots, folds=5):
    """Leave-one-domain-out on pilot queries: mean of the unseen score and the seen (cross-validated) score."""
    unseen, seen = [], []
    for held in EXPERTS:
        others = [d for d in EXPERTS if d != held]
        inst = concat([data[d]["pilot"] for d in others])
        q = data[held]["pilot"]
        unseen.append(score(choose(rule, q["x"], others, pilots, inst), q["ndcg"]))
    allp = concat([data[d]["pilot"] for d in EXPERTS])
    n = len(allp["domain"])
    fold = np.arange(n) % folds
    per_domain = {d: [] for d in EXPERTS}
    for f in range(folds):
        tr, te = fold != f, fold == f
        inst = {"x": allp["x"][tr], "ndcg": {e: v[tr] for e, v in allp["ndcg"].items()}}
        pick = choose(rule, allp["x"][te], EXPERTS, pilots, inst)
        for i, p in zip(np.where(te)[0], pick):
            per_domain[allp["domain"][i]].append(allp["ndcg"][p][i])
    seen = [float(np.mean(v)) for v in per_domain.values()]
    return (float(np.mean(unseen)) + float(np.mean(seen))) / 2, float(np.mean(unseen)), float(np.mean(seen))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", default=os.path.join(ROOT, ".cache", "routing-dump"))
    ap.add_argument("--json")
    a = ap.parse_args()
    data = {d: load(a.dump, d) for d in EXPERTS + NO_EXPERT}
    lib = json.load(open(os.path.join(ROOT, "public", "models", "contriever-mini", "pilot-library.json")))
    pilots = {e: np.array(lib[e][0], dtype=np.float32) for e in EXPERTS}

    allp = concat([data[d]["pilot"] for d in EXPERTS])
    top = allp["x"] @ np.stack([pilots[e] for e in EXPERTS]).T
    ts = [float(np.quantile(top.max(1), q)) for q in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)]
    rules = [{"kind": "mean"}] + [{"kind": "threshold", "t": t} for t in ts]
    for k in (5, 10, 20, 50):
        for g in (0.0, 0.02, 0.05, 0.1):
            rules.append({"kind": "knn", "k": k, "g": g})
            rules.append({"kind": "knn-gate", "k": k, "g": g})
            for s in (0.5, 0.6, 0.7):
                rules.append({"kind": "knn+dist", "k": k, "g": g, "s": s})
    results = []
    for r in rules:
        obj, unseen, seen = selection_score(r, data, pilots)
        results.append({"rule": r, "objective": obj, "lodo_unseen": unseen, "cv_seen": seen})
    results.sort(key=lambda x: -x["objective"])
    print("selection on pilot queries (leave-one-domain-out unseen, 5-fold seen), nDCG@10 x100, best 8:")
    for x in results[:8]:
        print(f"  {x['objective'] * 100:5.1f}  unseen {x['lodo_unseen'] * 100:5.1f}  seen {x['cv_seen'] * 100:5.1f}  {x['rule']}")
    best = results[0]["rule"]
    mean_rule = next(x for x in results if x["rule"]["kind"] == "mean")
    print(f"  the shipped router (mean): {mean_rule['objective'] * 100:.1f} (unseen {mean_rule['lodo_unseen'] * 100:.1f}, seen {mean_rule['cv_seen'] * 100:.1f})")

    # Test queries, once: expert domains' test halves; the collections without experts, every judged query.
    inst = concat([data[d]["pilot"] for d in EXPERTS])
    table = {}
    for label, r in (("base", None), ("router-mean", {"kind": "mean"}), ("chosen", best)):
        row = {}
        for d in EXPERTS + NO_EXPERT:
            q = data[d]["test"] if d in EXPERTS else concat([data[d]["pilot"], data[d]["test"]])
            pick = np.array(["base"] * len(q["x"])) if r is None else choose(r, q["x"], EXPERTS, pilots, inst)
            row[d] = {"ndcg": score(pick, q["ndcg"]), "abstained": float(np.mean(pick == "base"))}
        table[label] = row
    print("test queries, nDCG@10 x100 (share kept on the base):")
    for label, row in table.items():
        e = np.mean([row[d]["ndcg"] for d in EXPERTS]) * 100
        n = np.mean([row[d]["ndcg"] for d in NO_EXPERT]) * 100
        ae = np.mean([row[d]["abstained"] for d in EXPERTS]) * 100
        an = np.mean([row[d]["abstained"] for d in NO_EXPERT]) * 100
        print(f"  {label:12s} expert domains {e:5.1f} ({ae:4.0f} % base)   no expert {n:5.1f} ({an:4.0f} % base)")
    if a.json:
        json.dump({"selection": results, "chosen": best, "test": table}, open(a.json, "w"), indent=1)
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
