#!/usr/bin/env python3
"""Checks kiln-run's out0.npy for fc-symbol.json on x.npy against y = x·Wᵀ + b
computed here in plain Python from the same values make_inputs.py wrote."""
import ast
import struct
import sys

raw = open(sys.argv[1], "rb").read()
hlen = int.from_bytes(raw[8:10], "little")
header = ast.literal_eval(raw[10:10 + hlen].decode())
assert header["descr"] == "<f4", header
assert tuple(header["shape"]) == (2, 3), header
got = struct.unpack("<6f", raw[10 + hlen:10 + hlen + 24])

x = [[0.5, -1.0, 2.0, 0.25], [1.5, -0.5, 0.0, 3.0]]
w = [[0.1 * (4 * r + c) for c in range(4)] for r in range(3)]
b = [1.0, 2.0, 3.0]
want = [sum(x[n][k] * w[j][k] for k in range(4)) + b[j] for n in range(2) for j in range(3)]
for g, e in zip(got, want):
    if abs(g - e) > 1e-5 * max(1.0, abs(e)):
        sys.exit(f"mismatch: got {got}, want {want}")
print("fc output ok")
