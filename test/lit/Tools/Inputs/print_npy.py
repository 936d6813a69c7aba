#!/usr/bin/env python3
"""print_npy.py FILE.npy: prints a .npy's shape and values ("shape (2, 3): 1 2.5 ..."),
for FileCheck."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy  # noqa: E402

shape, values, descr = read_npy(sys.argv[1])
print("shape (%s): %s" % (", ".join(str(d) for d in shape), " ".join("%g" % v for v in values)))
