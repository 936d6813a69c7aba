#!/usr/bin/env python3
"""random_npy.py OUT.npy SEED D0 D1 ...: a <f4 .npy of uniform [-1, 1) values."""
import random
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy, write_npy  # noqa: E402

path, seed, shape = sys.argv[1], int(sys.argv[2]), [int(d) for d in sys.argv[3:]]
rng = random.Random(seed)
count = 1
for d in shape:
    count *= d
write_npy(path, shape, [rng.uniform(-1, 1) for _ in range(count)])
