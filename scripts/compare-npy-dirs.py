#!/usr/bin/env python3
"""compare-npy-dirs.py A B [--rtol R] [--atol T]: every .npy file of directory
A has a twin in B (and the other way round) with the same shape, and each
element is within T·max(1, max|b|) + R·|b| of B's (NaN equals NaN): the
tolerance of kiln-fuzz-graphs (docs/testing.md). Prints one line per file;
exits 1 when any file differs."""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npyio import read_npy  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("a")
parser.add_argument("b")
parser.add_argument("--rtol", type=float, default=1e-4)
parser.add_argument("--atol", type=float, default=1e-5)
args = parser.parse_args()

names_a = sorted(f for f in os.listdir(args.a) if f.endswith(".npy"))
names_b = sorted(f for f in os.listdir(args.b) if f.endswith(".npy"))
if names_a != names_b:
    sys.exit(f"different files: {names_a} vs {names_b}")
if not names_a:
    sys.exit(f"no .npy files in {args.a}")
failed = False
for name in names_a:
    (sa, a, _), (sb, b, _) = read_npy(os.path.join(args.a, name)), read_npy(os.path.join(args.b, name))
    if sa != sb:
        print(f"{name}: shape {sa} vs {sb}")
        failed = True
        continue
    scale = max([abs(y) for y in b if math.isfinite(y)], default=0.0)
    atol = args.atol * max(1.0, scale)
    bad = [i for i, (x, y) in enumerate(zip(a, b))
           if not (math.isnan(x) and math.isnan(y)) and not abs(x - y) <= atol + args.rtol * abs(y)]
    if bad:
        i = bad[0]
        print(f"{name}: {len(bad)} of {len(a)} elements differ; first [{i}]: {a[i]!r} vs {b[i]!r}")
        failed = True
    else:
        print(f"{name}: equal within tolerance {tuple(sa)}")
sys.exit(1 if failed else 0)
