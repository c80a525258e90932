"""Independent numpy reference of the q8 encoder's quantization rules, for
test/fixtures/q8-golden.json (deterministic: fixed seed).

- weights: symmetric int8, levels -127..127, scale = max|w| / 127 per output column ([in, out]
  layout, so per column) or per tensor; all-zero columns get scale 1; q = rint(w / scale).
- activations: ONNX DynamicQuantizeLinear (uint8): scale = (max(0, max x) - min(0, min x)) / 255,
  zero point = rint(clip(-min / scale, 0, 255)), q = clip(rint(x / scale) + zp, 0, 255).
- q8 matmul: (xq - zp) @ wq in int32, times float32(x_scale * w_scale).
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


def dynamic_quantize_linear(x):
    lo = min(f32(0), x.min())
    hi = max(f32(0), x.max())
    scale = f32(f32(hi - lo) / f32(255))
    if scale == 0:
        return np.zeros(x.shape, np.uint8), scale, 0
    zp = int(np.rint(np.clip(f32(-lo / scale), 0, 255)))
    q = np.clip(np.rint(x / scale) + zp, 0, 255).astype(np.uint8)
    return q, scale, zp


def q8_matmul(x, wq, wscale):
    xq, xs, zp = dynamic_quantize_linear(x)
    acc = (xq.astype(np.int64) - zp) @ wq.astype(np.int64)
    return (acc.astype(np.float64) * (xs * wscale).astype(f32).astype(np.float64)), xq, xs, zp


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=f32).ravel()]


def main():
    rng = np.random.default_rng(13)
    k, n, m = 12, 5, 3
    w = (rng.standard_normal((k, n)) * 0.3).astype(f32)
    w[:, 3] = 0  # an all-zero output column
    w[0, 1] = f32(-1.0)  # the column's max |w| is negative: its level must be -127
    x = (rng.standard_normal((m, k)) * 2 + 0.5).astype(f32)
    x_pos = (rng.random(7) + 0.25).astype(f32)  # all positive: min is clipped to 0, zero point 0
    # Range [0, 255]: scale exactly 1, zero point 0, so the halves are exact ties.
    ties = np.array([0.0, 255.0, 0.5, 1.5, 2.5, 3.5, 254.5, 100.5], dtype=f32)
    # Column scales exactly 1 and 2: halves of a level are exact ties.
    w_ties = np.array([[127, 254], [0.5, 1], [1.5, 3], [2.5, 5], [-0.5, -1], [-2.5, -7]], dtype=f32)

    out = {"k": k, "n": n, "m": m, "w": floats(w), "x": floats(x)}
    for name, per_column in (("per_column", True), ("per_tensor", False)):
        wq, ws = quantize_weights(w, per_column)
        y, xq, xs, zp = q8_matmul(x, wq, ws)
        out[name] = {"q": [int(v) for v in wq.ravel()], "scale": floats(ws), "y": [float(v) for v in y.ravel()]}
    tq, ts = quantize_weights(w_ties, True)
    out["w_ties"] = {"input": floats(w_ties), "rows": 6, "cols": 2, "q": [int(v) for v in tq.ravel()], "scale": floats(ts)}
    out["y_fp32"] = [float(v) for v in (x.astype(np.float64) @ w.astype(np.float64)).ravel()]
    for name, arr in (("x", x.ravel()), ("x_pos", x_pos), ("ties", ties)):
        q, s, zp = dynamic_quantize_linear(arr)
        out[f"dql_{name}"] = {"input": floats(arr), "q": [int(v) for v in q], "scale": float(s), "zero_point": zp}
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
