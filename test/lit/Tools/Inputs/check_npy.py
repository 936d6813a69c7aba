#!/usr/bin/env python3
"""check_npy.py FILE.npy D0 D1 ... [--rows-sum-to-one AXIS]: checks a <f4 .npy's
shape, that every value is finite, and optionally that it is a probability
distribution along AXIS (a property of softmax outputs)."""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy  # noqa: E402

args = sys.argv[1:]
axis = None
if "--rows-sum-to-one" in args:
    i = args.index("--rows-sum-to-one")
    axis = int(args[i + 1])
    args = args[:i] + args[i + 2:]
path, want = args[0], tuple(int(d) for d in args[1:])
shape, values, descr = read_npy(path)
if descr != "<f4" or shape != want:
    sys.exit(f"{path}: got {descr} {shape}, want <f4 {want}")
if not all(math.isfinite(v) for v in values):
    sys.exit(f"{path}: non-finite values")
if axis is not None:
    outer = 1
    for d in shape[:axis]:
        outer *= d
    n = shape[axis]
    inner = len(values) // (outer * n)
    for o in range(outer):
        for i in range(inner):
            s = sum(values[(o * n + k) * inner + i] for k in range(n))
            if abs(s - 1.0) > 1e-5:
                sys.exit(f"{path}: sum along axis {axis} is {s}, not 1")
print(f"{path}: ok {shape}")
