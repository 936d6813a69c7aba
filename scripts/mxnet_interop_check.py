#!/usr/bin/env python3
"""Runs inside a venv with MXNet 1.9.1 (see scripts/check-mxnet-interop.sh).
mxnet_interop_check.py PREFIX DATA.npy KILN_OUT.npy: loads the Kiln-written
checkpoint PREFIX-symbol.json + PREFIX-0000.params with MXNet itself, runs
it forward on DATA and compares with Kiln's output (rtol 1e-4, atol 1e-5)."""
import sys

import mxnet as mx
import numpy as np

prefix, data_npy, kiln_out = sys.argv[1:4]
sym, args, auxs = mx.model.load_checkpoint(prefix, 0)
x = np.load(data_npy)
exe = sym.simple_bind(mx.cpu(), grad_req="null", data=x.shape)
missing = set(sym.list_arguments()) - set(args) - {"data", "softmax_label"}
if missing:
    sys.exit(f"{prefix}: MXNet found no value for {sorted(missing)}")
for name, value in args.items():
    exe.arg_dict[name][:] = value
for name, value in auxs.items():
    exe.aux_dict[name][:] = value
exe.arg_dict["data"][:] = x
out = exe.forward(is_train=False)[0].asnumpy()
kiln = np.load(kiln_out)
diff = float(np.abs(out - kiln).max())
print(f"{prefix}: MXNet {mx.__version__} output {out.shape}, max |MXNet - Kiln| = {diff:.3g}")
if not np.allclose(out, kiln, rtol=1e-4, atol=1e-5):
    sys.exit(f"{prefix}: MXNet and Kiln disagree")
