#!/usr/bin/env python3
"""compare_refs.py OUT REF [--rtol R] [--atol A] [--outputs-only]: every
REF/ref_out<i>.npy against OUT/out<i>.npy and every REF/ref_grad_<name>.npy
against OUT/grad_<name>.npy (same shape, |a - b| <= atol + rtol·|b|); prints
how many arrays agree, or fails naming the first that does not."""
import argparse
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("ref")
parser.add_argument("--rtol", type=float, default=1e-4)
parser.add_argument("--atol", type=float, default=1e-5)
parser.add_argument("--outputs-only", action="store_true")
args = parser.parse_args()
refs = sorted(glob.glob(os.path.join(args.ref, "ref_out*.npy")))
if not args.outputs_only:
    refs += sorted(glob.glob(os.path.join(args.ref, "ref_grad_*.npy")))
if not refs:
    sys.exit(f"no reference arrays in {args.ref}")
for ref in refs:
    got = os.path.join(args.out, os.path.basename(ref)[len("ref_"):])
    if not os.path.exists(got):
        sys.exit(f"{got}: missing")
    (sa, a, _), (sb, b, _) = read_npy(got), read_npy(ref)
    if sa != sb:
        sys.exit(f"{got}: shape {sa} != {sb}")
    for i, (x, y) in enumerate(zip(a, b)):
        if abs(x - y) > args.atol + args.rtol * abs(y):
            sys.exit(f"{got}: element {i}: {x} vs {y}")
outs = sum(1 for r in refs if "ref_out" in r)
print(f"{outs} outputs and {len(refs) - outs} gradients equal within tolerance")
