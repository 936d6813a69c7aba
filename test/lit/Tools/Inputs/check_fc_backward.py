#!/usr/bin/env python3
"""check_fc_backward.py OUTDIR X.npy [HEADGRAD.npy]: checks kiln-run --backward
on fc-symbol.json (FullyConnected(num_hidden=3), the weights make_inputs.py
wrote: W[i] = 0.1·i, b = (1, 2, 3)) against y = x·Wᵀ + b, dW = dYᵀ·x and
db = Σ_rows dY computed here, dY being the head gradient (ones by default)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy  # noqa: E402

out, xpath = sys.argv[1], sys.argv[2]
(n, k), x, _ = read_npy(xpath)
w = [0.1 * i for i in range(12)]
b = [1.0, 2.0, 3.0]
dy = read_npy(sys.argv[3])[1] if len(sys.argv) > 3 else [1.0] * (n * 3)
want = {
    "out0": ((n, 3), [sum(x[r * k + i] * w[j * k + i] for i in range(k)) + b[j]
                      for r in range(n) for j in range(3)]),
    "grad_fc_weight": ((3, k), [sum(dy[r * 3 + j] * x[r * k + i] for r in range(n))
                                for j in range(3) for i in range(k)]),
    "grad_fc_bias": ((3,), [sum(dy[r * 3 + j] for r in range(n)) for j in range(3)]),
}
for name, (shape, values) in want.items():
    got_shape, got, _ = read_npy(os.path.join(out, name + ".npy"))
    if got_shape != shape:
        sys.exit(f"{name}: shape {got_shape}, want {shape}")
    for i, (g, v) in enumerate(zip(got, values)):
        if abs(g - v) > 1e-5 + 1e-5 * abs(v):
            sys.exit(f"{name}[{i}]: {g}, want {v}")
print("fc backward ok")
