#!/usr/bin/env python3
"""check_npy.py FILE.npy D0 D1 ... [--rows-sum-to-one AXIS]: checks a <f4 .npy's
shape, that every value is finite, and optionally that it is a probability
distribution along AXIS (a property of softmax outputs)."""
import ast
import math
import struct
import sys

args = sys.argv[1:]
axis = None
if "--rows-sum-to-one" in args:
    i = args.index("--rows-sum-to-one")
    axis = int(args[i + 1])
    args = args[:i] + args[i + 2:]
path, want = args[0], tuple(int(d) for d in args[1:])
raw = open(path, "rb").read()
hlen = int.from_bytes(raw[8:10], "little")
header = ast.literal_eval(raw[10:10 + hlen].decode())
shape = tuple(header["shape"])
if header["descr"] != "<f4" or shape != want:
    sys.exit(f"{path}: got {header['descr']} {shape}, want <f4 {want}")
count = 1
for d in shape:
    count *= d
values = struct.unpack("<%df" % count, raw[10 + hlen:10 + hlen + 4 * count])
if not all(math.isfinite(v) for v in values):
    sys.exit(f"{path}: non-finite values")
if axis is not None:
    outer = 1
    for d in shape[:axis]:
        outer *= d
    n = shape[axis]
    inner = count // (outer * n)
    for o in range(outer):
        for i in range(inner):
            s = sum(values[(o * n + k) * inner + i] for k in range(n))
            if abs(s - 1.0) > 1e-5:
                sys.exit(f"{path}: sum along axis {axis} is {s}, not 1")
print(f"{path}: ok {shape}")
