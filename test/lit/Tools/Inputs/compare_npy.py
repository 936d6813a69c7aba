#!/usr/bin/env python3
"""compare_npy.py A.npy B.npy: same shape, and |a - b| <= 1e-5 + 1e-4·|b| everywhere."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy, write_npy  # noqa: E402

(sa, a, _), (sb, b, _) = read_npy(sys.argv[1]), read_npy(sys.argv[2])
if sa != sb:
    sys.exit(f"shape {sa} != {sb}")
for i, (x, y) in enumerate(zip(a, b)):
    if abs(x - y) > 1e-5 + 1e-4 * abs(y):
        sys.exit(f"element {i}: {x} vs {y}")
print(f"equal within tolerance: {sa}")
