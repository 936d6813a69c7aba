#!/usr/bin/env python3
"""Prints the paper-style memory table (docs/memory.md): intermediate storage
of every zoo network at batch 64 under the four planning strategies, for
inference and for training (forward + backward), from
`kiln-compile --memory-report=json` — the plans the runtime really allocates.
With --recompute it also plans every training function with
`kiln-compile --memory-report=json --recompute` (kiln-recompute, MXNet's
mirror) and prints a second table: training `both` without and with it, and
what the recomputation costs (estimated FLOPs, share of the training step).

The `unfused naive` column is the paper's baseline: the same function with
one kernel per op (`--fuse=false`), every op's output its own block.

usage: bench/memory_table.py [--batch 64] [--bin build/bin] [--recompute]"""
import argparse
import json
import os
import subprocess
import sys

NETS = [("mlp", "1,28,28"), ("lenet", "1,28,28"), ("alexnet", "3,224,224"),
        ("vgg16", "3,224,224"), ("googlenet", "3,253,253"),
        ("inception-bn", "3,224,224"), ("resnet18", "3,224,224"),
        ("resnet50", "3,224,224")]


def ratio(unfused_naive, plan):
    return f"{unfused_naive / plan['both']:.2f}×" if unfused_naive else ""


def mib(b):
    return f"{b / 2**20:,.1f}"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--bin", default=os.path.join(root, "build", "bin"))
    ap.add_argument("--recompute", action="store_true",
                    help="also plan training with --recompute (a second table)")
    args = ap.parse_args()
    recompute_rows = []
    print(f"| network (batch {args.batch}) | mode | naive MiB | inplace | coshare | both | "
          "naive / both | unfused naive | unfused naive / both |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, shape in NETS:
        cmd = [os.path.join(args.bin, "kiln-compile"), f"zoo:{name}", "--input-shape",
               f"data={args.batch},{shape}", "--memory-report=json"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"| {name} | — | failed: {r.stderr.strip().splitlines()[-1]} | | | | |")
            continue
        report = json.loads(r.stdout)
        # The paper's baseline: one kernel per op, every op's output its own
        # block (no fusion, no reuse).
        ru = subprocess.run(cmd + ["--fuse=false"], capture_output=True, text=True)
        unfused = json.loads(ru.stdout) if ru.returncode == 0 else None
        if args.recompute:
            rr = subprocess.run(cmd + ["--recompute"], capture_output=True, text=True)
            if rr.returncode != 0:
                recompute_rows.append(f"| {name} | failed: "
                                      f"{rr.stderr.strip().splitlines()[-1]} | | | | | |")
            else:
                rec = json.loads(rr.stdout)
                before, after = report["training"]["both"], rec["training"]["both"]
                cost = rec["training_recompute"]
                total = cost["training_flops"]
                recompute_rows.append(
                    f"| {name} | {mib(before)} | {mib(after)} | {before / after:.2f}× | "
                    f"{cost['values']} | {cost['flops'] / 1e9:,.2f} | "
                    f"{100 * cost['flops'] / total if total else 0:.1f}% |")
        for mode in ("inference", "training"):
            m = report[mode]
            u = unfused[mode]["naive"] if unfused else None
            print(f"| {name} | {mode} | {mib(m['naive'])} | {mib(m['inplace'])} | "
                  f"{mib(m['coshare'])} | {mib(m['both'])} | {m['naive'] / m['both']:.2f}× | "
                  f"{mib(u) if u else 'failed'} | {ratio(u, m)} |")
        sys.stdout.flush()
    if args.recompute:
        print()
        print(f"| network (batch {args.batch}) | training both MiB | with --recompute | "
              "smaller by | values recomputed | extra GFLOP | of the step |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in recompute_rows:
            print(row)


if __name__ == "__main__":
    main()
