#!/usr/bin/env python3
"""Writes the binary inputs of the tool tests into the directory argv[1]:
good and broken .npy and .params files, encoded here by hand (stdlib only)
so the tests do not depend on the code under test to make them."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "scripts"))
from npyio import npy_encode as npy  # noqa: E402

out = sys.argv[1]


def params(named_arrays):
    """An MXNet V2 NDArray list (SPEC §2.2)."""
    body = struct.pack("<QQQ", 0x112, 0, len(named_arrays))
    for _, shape, values in named_arrays:
        body += struct.pack("<Ii", 0xF993FAC9, 0)
        body += struct.pack("<i", len(shape)) + struct.pack("<%dq" % len(shape), *shape)
        body += struct.pack("<iii", 1, 0, 0)
        body += struct.pack("<%df" % len(values), *values)
    body += struct.pack("<Q", len(named_arrays))
    for name, _, _ in named_arrays:
        body += struct.pack("<Q", len(name)) + name.encode()
    return body


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


x = [0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 0.0, 3.0]
write("x.npy", npy((2, 4), x))
write("x-f8.npy", npy((2, 4), x, "<f8"))
write("bad-magic.npy", npy((2, 4), x, magic=b"\x93NUMPX"))
write("big-endian.npy", npy((2, 4), x, ">f4"))
write("truncated.npy", npy((2, 4), x)[:-5])

# fc: FullyConnected(num_hidden=3) on (2, 4): weight (3, 4), bias (3).
w = [0.1 * i for i in range(12)]
b = [1.0, 2.0, 3.0]
good = params([("arg:fc_weight", (3, 4), w), ("arg:fc_bias", (3,), b)])
write("fc.params", good)
write("fc-truncated.params", good[:-40])
write("fc-bad-magic.params", struct.pack("<Q", 0x113) + good[8:])
write("fc-wrong-shape.params", params([("arg:fc_weight", (3, 5), w + [0.0, 0.0, 0.0]),
                                       ("arg:fc_bias", (3,), b)]))
write("fc-missing-bias.params", params([("arg:fc_weight", (3, 4), w)]))
