#!/usr/bin/env python3
"""labels_npy.py OUT.npy SEED N CLASSES: a <f4 .npy of N class ids in [0, CLASSES)."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import write_npy  # noqa: E402

path, seed, n, classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
write_npy(path, [n], [float(rng.randrange(classes)) for _ in range(n)])
