#!/usr/bin/env python3
"""Prints top-1 accuracy of class probabilities (a <f4 .npy of shape (N, C))
against labels (a <f4 .npy of shape (N,)). Standard library only."""
import sys

from npyio import read_npy


def main():
    (n, c), probs, _ = read_npy(sys.argv[1])
    _, labels, _ = read_npy(sys.argv[2])
    correct = 0
    for i in range(n):
        row = probs[i * c:(i + 1) * c]
        correct += int(max(range(c), key=row.__getitem__) == int(labels[i]))
    print(f"top-1 accuracy: {correct}/{n} = {100.0 * correct / n:.1f}%")


if __name__ == "__main__":
    main()
