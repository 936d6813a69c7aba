#!/usr/bin/env python3
"""random_npy.py OUT.npy SEED D0 D1 ...: a <f4 .npy of uniform [-1, 1) values."""
import random
import struct
import sys

path, seed, shape = sys.argv[1], int(sys.argv[2]), [int(d) for d in sys.argv[3:]]
rng = random.Random(seed)
count = 1
for d in shape:
    count *= d
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
    ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%df" % count, *[rng.uniform(-1, 1) for _ in range(count)]))
