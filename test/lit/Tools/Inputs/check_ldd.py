#!/usr/bin/env python3
"""check_ldd.py FILE: the shared libraries FILE needs at run time (ldd) are
only the C/C++ system runtime: libc, libstdc++, libm, libgcc_s, the dynamic
loader, the vDSO (and libpthread/libdl where glibc still splits them). No
LLVM, MLIR or Kiln library may appear."""
import re
import subprocess
import sys

ALLOWED = ("libc.so", "libstdc++.so", "libm.so", "libgcc_s.so", "ld-linux", "linux-vdso",
           "libpthread.so", "libdl.so")
out = subprocess.run(["ldd", sys.argv[1]], check=True, capture_output=True, text=True).stdout
names = [line.split()[0] for line in out.splitlines() if line.strip()]
if not names:
    sys.exit(f"ldd printed nothing for {sys.argv[1]}")
bad = [n for n in names if re.search(r"llvm|mlir|kiln", n, re.I)]
bad += [n for n in names if not any(n.split("/")[-1].startswith(a) for a in ALLOWED)]
if bad:
    sys.exit(f"{sys.argv[1]}: unexpected run-time dependencies: {sorted(set(bad))}\n{out}")
print("run-time dependencies ok: " + ", ".join(n.split("/")[-1] for n in names))
