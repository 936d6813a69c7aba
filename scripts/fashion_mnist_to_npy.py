#!/usr/bin/env python3
"""Writes N Fashion-MNIST test images (from index START, default 0) as a
float32 .npy of shape (N, 1, 28, 28) scaled to [0, 1] (MXNet's MNISTIter
convention, SPEC §3), and their labels as (N,). Standard library only, so the
main job needs no NumPy.

usage: fashion_mnist_to_npy.py N IMAGES.npy LABELS.npy [START]"""
import gzip
import struct
import sys

from npyio import write_npy

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim:]


def find(name):
    import os
    for candidate in (name + ".gz", name):
        p = os.path.join(DATA, candidate)
        if os.path.exists(p):
            return p
    sys.exit(f"Fashion-MNIST file {name} not found under {DATA} "
             "(install Debian's dataset-fashion-mnist)")


def main():
    n, images_out, labels_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    start = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    (count, rows, cols), pixels = read_idx(find("t10k-images-idx3-ubyte"))
    (_,), labels = read_idx(find("t10k-labels-idx1-ubyte"))
    n = max(0, min(n, count - start))
    size = rows * cols
    write_npy(images_out, (n, 1, rows, cols),
              [p / 255.0 for p in pixels[start * size:(start + n) * size]])
    write_npy(labels_out, (n,), [float(x) for x in labels[start:start + n]])


if __name__ == "__main__":
    main()
