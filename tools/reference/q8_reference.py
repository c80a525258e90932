"""Independent numpy reference of the q8 encoder's quantization rules, for
test/fixtures/q8-golden.json (deterministic: fixed seed).

- weights: symmetric int8, levels -127..127, scale = max|w| / 127 per output column ([in, out]
  layout, so per column) or per tensor; all-zero columns get scale 1; q = rint(w / scale).
- activations: each row on its own, symmetric in uint8 around 128: scale = max(max |x|, 1e-30) / 127,
  q = clip(rint((x + 128 * scale) / scale), 0, 255).
- q8 matmul: (xq - 128) @ wq in integers, times w_scale[col] * x_scale[row].
All arithmetic in float32, rounding half to even (numpy.rint), as ONNX specifies.

Run: python3 tools/reference/q8_reference.py > test/fixtures/q8-golden.json
"""
import json
import sys

import numpy as np

f32 = np.float32


def quantize_weights(w, per_column):
    a = np.abs(w)
    m = a.max(axis=0) if per_column else np.array([a.max()], dtype=f32)
    scale = np.where(m > 0, m / f32(127), f32(1)).astype(f32)
    q = np.rint(w / (scale[None, :] if per_column else scale[0])).astype(f32)
    return np.clip(q, -127, 127).astype(np.int8), scale


def row_quantize(x):
    amax = np.abs(x).max(axis=1)
    scale = (np.maximum(amax, f32(1e-30)) / f32(127)).astype(f32)
    shifted = (x + (scale * f32(128))[:, None]).astype(f32)
    q = np.clip(np.rint(shifted / scale[:, None]), 0, 255).astype(np.uint8)
    return q, scale


def q8_matmul(x, wq, wscale):
    xq, xs = row_quantize(x)
    acc = (xq.astype(np.int64) - 128) @ wq.astype(np.int64)
    return acc.astype(np.float64) * wscale.astype(np.float64)[None, :] * xs.astype(np.float64)[:, None]


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=f32).ravel()]


def main():
    rng = np.random.default_rng(13)
    k, n, m = 12, 5, 5
    w = (rng.standard_normal((k, n)) * 0.3).astype(f32)
    w[:, 3] = 0  # an all-zero output column
    w[0, 1] = f32(-1.0)  # the column's max |w| is negative: its level must be -127
    x = (rng.standard_normal((m, k)) * 2 + 0.5).astype(f32)
    x[3] = np.abs(x[3]) + 0.1  # an all-positive row
    x[4] = 0  # an all-zero row: every level is the zero point, the output 0
    # max |x| 127: scale exactly 1, so x + 128 lands on exact halves: ties.
    ties = np.array([[127.0, -127.0, 0.5, 1.5, -2.5, 3.5, -0.5, 100.5]], dtype=f32)
    # Column scales exactly 1 and 2: halves of a level are exact ties.
    w_ties = np.array([[127, 254], [0.5, 1], [1.5, 3], [2.5, 5], [-0.5, -1], [-2.5, -7]], dtype=f32)

    out = {"k": k, "n": n, "m": m, "w": floats(w), "x": floats(x)}
    for name, per_column in (("per_column", True), ("per_tensor", False)):
        wq, ws = quantize_weights(w, per_column)
        y = q8_matmul(x, wq, ws)
        out[name] = {"q": [int(v) for v in wq.ravel()], "scale": floats(ws), "y": [float(v) for v in y.ravel()]}
    tq, ts = quantize_weights(w_ties, True)
    out["w_ties"] = {"input": floats(w_ties), "rows": 6, "cols": 2, "q": [int(v) for v in tq.ravel()], "scale": floats(ts)}
    out["y_fp32"] = [float(v) for v in (x.astype(np.float64) @ w.astype(np.float64)).ravel()]
    for name, arr in (("x", x), ("ties", ties)):
        q, s = row_quantize(arr)
        out[f"rows_{name}"] = {"input": floats(arr), "m": arr.shape[0], "q": [int(v) for v in q.ravel()], "scale": floats(s)}
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
