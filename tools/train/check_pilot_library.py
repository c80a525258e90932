#!/usr/bin/env python3
"""Checks the training code's pilot-library builder (train.build_pilot_library) against the SDK's
(src/router/pilots.ts, as run by tools/eval/cli.ts) on the SAME inputs: the per-query nDCG@10 and
base query embeddings that tools/eval/dump-routing-data.ts wrote (the SDK's numbers), for
weighting 'gain' (-> bench/results/quality.pilots.json) and 'none' (the paper ->
bench/results/quality-paper-pilots.pilots.json). Then routes the test queries with the training
code's rule (mean dot product over an expert's pilots, first expert on ties) and compares the
router rows with the SDK's quality JSON.

  python3 tools/train/check_pilot_library.py [--dump .cache/routing-dump]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import build_pilot_library  # noqa: E402

EXPERTS = ["scifact", "nfcorpus", "wikiqa", "arguana", "cranfield"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", default=".cache/routing-dump")
    a = ap.parse_args()
    dom = {}
    for d in EXPERTS:
        j = json.load(open(os.path.join(a.dump, d + ".json")))
        dim = j["dim"]
        dom[d] = dict(
            P=np.fromfile(os.path.join(a.dump, d + ".pilot.f32"), dtype=np.float32).reshape(-1, dim),
            T=np.fromfile(os.path.join(a.dump, d + ".test.f32"), dtype=np.float32).reshape(-1, dim),
            ps=np.array([j["metrics"][e]["pilot"]["ndcg10"] for e in EXPERTS]),
            ts=np.array([j["metrics"][e]["test"]["ndcg10"] for e in EXPERTS]),
        )
    worst = 0.0
    for weighting, lib_file, quality_file in (("gain", "quality.pilots.json", "quality.json"),
                                              ("none", "quality-paper-pilots.pilots.json", "quality-paper-pilots.json")):
        lib, meta = build_pilot_library(EXPERTS, [(d, dom[d]["P"], dom[d]["ps"]) for d in EXPERTS], weighting)
        sdk = json.load(open(os.path.join("bench/results", lib_file)))
        diff = max(float(np.abs(np.array(lib[e], dtype=np.float64) - np.array(sdk[e], dtype=np.float64)).max())
                   for e in EXPERTS if lib[e])
        assert all(len(lib[e]) == len(sdk[e]) for e in EXPERTS), "pilot counts differ"
        rows = {r["method"]: r["ndcg_at_10"] for r in json.load(open(os.path.join("bench/results", quality_file)))["rows"]}
        print("weighting %s: pilots per expert %s; max |train.py - SDK| pilot value %.1e" % (
            weighting, {e: len(lib[e]) for e in EXPERTS}, diff))
        if weighting != "none":
            print("  weights:", {e: [(m["domain"], m["n_queries"], m["weight"]) for m in meta[e]] for e in EXPERTS})
        for mode in ("router-mean", "router-max"):
            out = []
            for d in EXPERTS:
                sims = [dom[d]["T"].astype(np.float64) @ np.array(lib[e], dtype=np.float64).T for e in EXPERTS]
                agg = np.stack([s.mean(1) if mode == "router-mean" else s.max(1) for s in sims], 1)
                choice = agg.argmax(1)
                v = float(dom[d]["ts"][choice, np.arange(len(choice))].mean())
                worst = max(worst, abs(v - rows[mode][d]))
                out.append("%s %.4f (SDK %.4f)" % (d, v, rows[mode][d]))
            print("  %s: %s" % (mode, ", ".join(out)))
        worst = max(worst, diff)
    print("max abs diff: %.2e" % worst)


if __name__ == "__main__":
    main()
