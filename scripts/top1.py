#!/usr/bin/env python3
"""Prints top-1 accuracy of class probabilities (a <f4 .npy of shape (N, C))
against labels (a <f4 .npy of shape (N,)). Standard library only."""
import ast
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    major = raw[6]
    hlen_size = 2 if major == 1 else 4
    hlen = int.from_bytes(raw[8:8 + hlen_size], "little")
    start = 8 + hlen_size + hlen
    header = ast.literal_eval(raw[8 + hlen_size:start].decode())
    if header["descr"] != "<f4":
        sys.exit(f"{path}: expected <f4, got {header['descr']}")
    shape = header["shape"]
    count = 1
    for d in shape:
        count *= d
    return shape, struct.unpack("<%df" % count, raw[start:start + 4 * count])


def main():
    (n, c), probs = read_npy(sys.argv[1])
    _, labels = read_npy(sys.argv[2])
    correct = 0
    for i in range(n):
        row = probs[i * c:(i + 1) * c]
        correct += int(max(range(c), key=row.__getitem__) == int(labels[i]))
    print(f"top-1 accuracy: {correct}/{n} = {100.0 * correct / n:.1f}%")


if __name__ == "__main__":
    main()
