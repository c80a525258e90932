#!/usr/bin/env python3
"""Compares the training code's own evaluation (bench/results/train/metrics.json) with the SDK's
(bench/results/quality.json from `npm run eval`): nDCG@10 per domain and method, max abs diff.

  python3 tools/compare-train-eval.py [metrics.json] [quality.json]
"""
import json
import sys

metrics = json.load(open(sys.argv[1] if len(sys.argv) > 1 else 'bench/results/train/metrics.json'))
quality = json.load(open(sys.argv[2] if len(sys.argv) > 2 else 'bench/results/quality.json'))
name = {'base': 'base', 'router-mean': 'router-mean', 'router-max': 'router-max',
        'dataset-oracle': 'dataset-oracle', 'instance-oracle': 'instance-oracle'}
rows = {r['method']: r['ndcg_at_10'] for r in quality['rows']}
worst = 0.0
print('| method | dataset | training code | SDK | abs diff |')
print('|---|---|---:|---:|---:|')
for ds in quality['datasets']:
    train = metrics['ndcg@10'][ds]
    for method, vals in rows.items():
        key = method[len('expert:'):] if method.startswith('expert:') else name.get(method)
        if key is None or key not in train or not isinstance(train[key], (int, float)):
            continue
        d = abs(train[key] - vals[ds])
        worst = max(worst, d)
        print(f'| {method} | {ds} | {train[key]:.4f} | {vals[ds]:.4f} | {d:.1e} |')
print(f'\nmax abs diff: {worst:.2e}')
