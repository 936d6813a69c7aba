#!/usr/bin/env python3
"""backward_fd.py KILN_RUN MODEL PARAMS GRADDIR LABELS.npy [--input N=F ...] NAME:INDEX ...

Checks gradients written by `kiln-run --backward` against central finite
differences of the cross-entropy loss −Σ log p[label] of a network whose
only head is a SoftmaxOutput (normalization null, grad_scale 1): for each
NAME:INDEX the parameter element is moved by ±h in a copy of PARAMS (an
MXNet V2 .params, e.g. from --save-checkpoint) and the network is run
forward in training mode by KILN_RUN on the reference engine. Parameters and
outputs are float32, so the tolerance is loose; GradientTest checks the same
rules in float64 to 1e-5."""
import math
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import read_npy  # noqa: E402


def read_params(path):
    """name → (shape, values) of a V2 .params file as Kiln writes it."""
    raw = open(path, "rb").read()
    _, _, count = struct.unpack_from("<QQQ", raw, 0)
    pos, arrays = 24, []
    for _ in range(count):
        magic, _stype, ndim = struct.unpack_from("<Iii", raw, pos)
        assert magic == 0xF993FAC9, "not a V2 array"
        pos += 12
        shape = struct.unpack_from("<%dq" % ndim, raw, pos)
        pos += 8 * ndim
        _dev, _id, dtype = struct.unpack_from("<iii", raw, pos)
        assert dtype == 0, "float32 only"
        pos += 12
        size = 1
        for d in shape:
            size *= d
        arrays.append((shape, list(struct.unpack_from("<%df" % size, raw, pos))))
        pos += 4 * size
    (nnames,) = struct.unpack_from("<Q", raw, pos)
    pos += 8
    names = []
    for _ in range(nnames):
        (n,) = struct.unpack_from("<Q", raw, pos)
        names.append(raw[pos + 8:pos + 8 + n].decode())
        pos += 8 + n
    return dict(zip(names, arrays))


def write_params(path, params):
    body = struct.pack("<QQQ", 0x112, 0, len(params))
    for shape, values in params.values():
        body += struct.pack("<Iii", 0xF993FAC9, 0, len(shape))
        body += struct.pack("<%dq" % len(shape), *shape) + struct.pack("<iii", 1, 0, 0)
        body += struct.pack("<%df" % len(values), *values)
    body += struct.pack("<Q", len(params))
    for name in params:
        body += struct.pack("<Q", len(name)) + name.encode()
    open(path, "wb").write(body)


kiln_run, model, params_path, grad_dir, labels_path = sys.argv[1:6]
rest = sys.argv[6:]
inputs, checks = [], []
while rest:
    if rest[0] == "--input":
        inputs += rest[:2]
        rest = rest[2:]
    else:
        checks.append(rest.pop(0))
labels = read_npy(labels_path)[1]
params = read_params(params_path)
tmp = tempfile.mkdtemp()


def loss(p):
    write_params(os.path.join(tmp, "p.params"), p)
    subprocess.run([kiln_run, model, "--params", os.path.join(tmp, "p.params"), *inputs,
                    "--input", "softmax_label=" + labels_path, "--train", "--engine", "reference",
                    "--output-dir", tmp], check=True, stderr=subprocess.DEVNULL)
    shape, probs, _ = read_npy(os.path.join(tmp, "out0.npy"))
    k = len(probs) // shape[0]
    return -sum(math.log(probs[r * k + int(labels[r])]) for r in range(shape[0]))


# Outputs are float32: the loss carries ~1e-7 of rounding, so a smaller step
# drowns in it, while a larger one lets max pooling switch windows' maxima.
h = 1e-3
for check in checks:
    name, index = check.rsplit(":", 1)
    index = int(index)
    key = "arg:" + name
    grad = read_npy(os.path.join(grad_dir, "grad_" + name + ".npy"))[1][index]
    saved = params[key][1][index]
    params[key][1][index] = saved + h
    plus = loss(params)
    params[key][1][index] = saved - h
    minus = loss(params)
    params[key][1][index] = saved
    fd = (plus - minus) / (2 * h)
    if abs(fd - grad) > 2e-3 + 2e-2 * abs(fd):
        sys.exit(f"{name}[{index}]: kiln-run {grad}, finite difference {fd}")
    print(f"ok {name}[{index}]: kiln-run {grad:.6g}, finite difference {fd:.6g}")
