#!/usr/bin/env python3
"""Checks kiln-run's out0.npy for fc-symbol.json on x.npy against y = x·Wᵀ + b
computed here in plain Python from the same values make_inputs.py wrote."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy, write_npy  # noqa: E402

shape, got, descr = read_npy(sys.argv[1])
assert descr == "<f4" and shape == (2, 3), (descr, shape)

x = [[0.5, -1.0, 2.0, 0.25], [1.5, -0.5, 0.0, 3.0]]
w = [[0.1 * (4 * r + c) for c in range(4)] for r in range(3)]
b = [1.0, 2.0, 3.0]
want = [sum(x[n][k] * w[j][k] for k in range(4)) + b[j] for n in range(2) for j in range(3)]
for g, e in zip(got, want):
    if abs(g - e) > 1e-5 * max(1.0, abs(e)):
        sys.exit(f"mismatch: got {got}, want {want}")
print("fc output ok")
