#!/usr/bin/env python3
"""values_npy.py OUT.npy V0 V1 ...: a 1-D <f4 .npy holding the given values."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import write_npy  # noqa: E402

values = [float(v) for v in sys.argv[2:]]
write_npy(sys.argv[1], [len(values)], values)
