#!/usr/bin/env python3
"""Prints top-1 accuracy of class probabilities (<f4 .npy files of shape
(N, C)) against labels (<f4 .npy of shape (N,)), over one or more
PROBS LABELS pairs. Standard library only.

usage: top1.py PROBS.npy LABELS.npy [PROBS.npy LABELS.npy ...]"""
import sys

from npyio import read_npy


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit("usage: top1.py PROBS.npy LABELS.npy [PROBS.npy LABELS.npy ...]")
    correct = total = 0
    for probs_path, labels_path in zip(args[::2], args[1::2]):
        (n, c), probs, _ = read_npy(probs_path)
        _, labels, _ = read_npy(labels_path)
        for i in range(n):
            row = probs[i * c:(i + 1) * c]
            correct += int(max(range(c), key=row.__getitem__) == int(labels[i]))
        total += n
    print(f"top-1 accuracy: {correct}/{total} = {100.0 * correct / total:.2f}%")


if __name__ == "__main__":
    main()
