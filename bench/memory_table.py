#!/usr/bin/env python3
"""Prints the paper-style memory table (docs/memory.md): intermediate storage
of every zoo network at batch 64 under the four planning strategies, for
inference and for training (forward + backward), from
`kiln-compile --memory-report=json` — the plans the runtime really allocates.

usage: bench/memory_table.py [--batch 64] [--bin build/bin]"""
import argparse
import json
import os
import subprocess
import sys

NETS = [("mlp", "1,28,28"), ("lenet", "1,28,28"), ("alexnet", "3,224,224"),
        ("vgg16", "3,224,224"), ("googlenet", "3,253,253"),
        ("inception-bn", "3,224,224"), ("resnet18", "3,224,224"),
        ("resnet50", "3,224,224")]


def mib(b):
    return f"{b / 2**20:,.1f}"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--bin", default=os.path.join(root, "build", "bin"))
    args = ap.parse_args()
    print(f"| network (batch {args.batch}) | mode | naive MiB | inplace | coshare | both | "
          "naive / both |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, shape in NETS:
        cmd = [os.path.join(args.bin, "kiln-compile"), f"zoo:{name}", "--input-shape",
               f"data={args.batch},{shape}", "--memory-report=json"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"| {name} | — | failed: {r.stderr.strip().splitlines()[-1]} | | | | |")
            continue
        report = json.loads(r.stdout)
        for mode in ("inference", "training"):
            m = report[mode]
            print(f"| {name} | {mode} | {mib(m['naive'])} | {mib(m['inplace'])} | "
                  f"{mib(m['coshare'])} | {mib(m['both'])} | {m['naive'] / m['both']:.2f}× |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
