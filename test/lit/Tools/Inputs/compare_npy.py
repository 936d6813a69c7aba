#!/usr/bin/env python3
"""compare_npy.py A.npy B.npy: same shape, and |a - b| <= 1e-5 + 1e-4·|b| everywhere."""
import ast
import struct
import sys


def read(path):
    raw = open(path, "rb").read()
    hlen = int.from_bytes(raw[8:10], "little")
    header = ast.literal_eval(raw[10:10 + hlen].decode())
    count = 1
    for d in header["shape"]:
        count *= d
    return tuple(header["shape"]), struct.unpack("<%df" % count, raw[10 + hlen:10 + hlen + 4 * count])


(sa, a), (sb, b) = read(sys.argv[1]), read(sys.argv[2])
if sa != sb:
    sys.exit(f"shape {sa} != {sb}")
for i, (x, y) in enumerate(zip(a, b)):
    if abs(x - y) > 1e-5 + 1e-4 * abs(y):
        sys.exit(f"element {i}: {x} vs {y}")
print(f"equal within tolerance: {sa}")
