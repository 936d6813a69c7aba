#!/usr/bin/env python3
"""compare_npy.py A.npy B.npy [--rtol R] [--atol A]: same shape, and
|a - b| <= atol + rtol·|b| everywhere (default atol 1e-5, rtol 1e-4)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy, write_npy  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("a")
parser.add_argument("b")
parser.add_argument("--rtol", type=float, default=1e-4)
parser.add_argument("--atol", type=float, default=1e-5)
args = parser.parse_args()
(sa, a, _), (sb, b, _) = read_npy(args.a), read_npy(args.b)
if sa != sb:
    sys.exit(f"shape {sa} != {sb}")
for i, (x, y) in enumerate(zip(a, b)):
    if abs(x - y) > args.atol + args.rtol * abs(y):
        sys.exit(f"element {i}: {x} vs {y}")
print(f"equal within tolerance: {sa}")
