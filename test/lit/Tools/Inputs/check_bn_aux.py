#!/usr/bin/env python3
"""check_bn_aux.py OUTDIR X.npy: the aux states kiln-run --train writes for
bn-dropout-symbol.json, whose BatchNorm (momentum 0.9) reads the (N, C) data
directly and starts from --random-params' moving_mean 0 and moving_var 1:
moving_mean = 0.1·mean(x), moving_var = 0.9 + 0.1·var(x) (biased), per column."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy  # noqa: E402

out, xpath = sys.argv[1], sys.argv[2]
(n, c), x, _ = read_npy(xpath)
mean = [sum(x[r * c + j] for r in range(n)) / n for j in range(c)]
var = [sum((x[r * c + j] - mean[j]) ** 2 for r in range(n)) / n for j in range(c)]
want = {"aux_bn_moving_mean": [0.1 * m for m in mean],
        "aux_bn_moving_var": [0.9 + 0.1 * v for v in var]}
for name, values in want.items():
    shape, got, _ = read_npy(os.path.join(out, name + ".npy"))
    if shape != (c,):
        sys.exit(f"{name}: shape {shape}, want ({c},)")
    for j, (g, v) in enumerate(zip(got, values)):
        if abs(g - v) > 1e-5 + 1e-5 * abs(v):
            sys.exit(f"{name}[{j}]: {g}, want {v}")
print("bn aux ok")
