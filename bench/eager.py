#!/usr/bin/env python3
"""Kiln eager NDArray vs PyTorch eager (issue 5 item 6).

Entry point: bench/run.sh --suite eager [--quick] [--threads 1,2] [--only overhead,mlp]
(run.py hands --suite eager to this file; it reuses run.py's process runner,
pairing, medians and machine description).

Cases:
  overhead add / add_inplace / mul_scalar (16 floats)
      per-op cost at a kernel-cache hit: back-to-back small elementwise ops.
      Kiln: kiln-eager-bench overhead (C++ API). PyTorch: bench/torch_eager.py
      (Python, PyTorch's usual front door; its C++ API would be cheaper).
      Target (issue 5): Kiln <= 3 us per op.
  cold compile (Kiln only: eager PyTorch compiles nothing)
      the first call of an op on an unseen shape: one-op function built,
      shape-inferred, lowered, JIT-compiled and run; small shapes take the
      quick tier (plain loops), convolution_large (1x16x~40x40, 32 3x3
      filters) the full pipeline. Target <= 30 ms.
  mlp step b64
      one imperative MLP (784-128-64-10) training step on a fixed batch:
      recorded forward, backward, SGD, loss read back; Kiln's kernel-cache hit
      rate over the timed loop.

Each round runs one process per side, the order alternating; a cell is the
median over rounds of each process's median, Kiln/ref the median of per-round
ratios.
"""
import argparse
import os
import re
import sys

import run as h

OVERHEAD_TARGET_US, COLD_TARGET_MS = 3.0, 30.0
OVERHEAD_RE = re.compile(r"overhead: op=(\w+) size=\d+ median_us=([0-9.]+)")
COLD_RE = re.compile(r"cold: op=(\w+) median_ms=([0-9.]+) min_ms=([0-9.]+)")


def run_checked(cmd, threads, what):
    rc, out, _ = h.run(cmd, h.thread_env(threads), timeout=1800)
    if rc != 0:
        raise RuntimeError("%s failed (rc=%d): %s" % (what, rc, out.strip()[-400:]))
    return out


def overhead_result(out):
    return {m.group(1): float(m.group(2)) for m in OVERHEAD_RE.finditer(out)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 rounds, fewer iterations")
    ap.add_argument("--rounds", type=int, help="paired rounds (default 5; --quick 3)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--bindir", default=os.environ.get("KILN_BIN", os.path.join(h.ROOT, "build", "bin")))
    ap.add_argument("--python", default=None, help="python with torch (default bench/.venv)")
    ap.add_argument("--only", default="", help="comma list of: overhead, cold, mlp")
    opts = ap.parse_args()
    opts.rounds = opts.rounds or (3 if opts.quick else 5)
    iters = 5000 if opts.quick else 20000
    steps = 100 if opts.quick else 300
    kiln = os.path.join(opts.bindir, "kiln-eager-bench")
    if not os.path.exists(kiln):
        sys.exit("eager.py: no kiln-eager-bench in %s (build it, or --bindir / $KILN_BIN)" % opts.bindir)
    torch_py = h.find_torch(opts.python)
    torch_script = os.path.join(h.HERE, "torch_eager.py")
    only = [s for s in opts.only.split(",") if s]
    want = lambda case: not only or case in only
    threads = [int(t) for t in opts.threads.split(",")]
    m = h.machine()
    h.log("machine: %s, %s CPUs (%s), %s; load: %s" % (m["cpu"], m["cpus"], m["simd"], m["mem"],
                                                        m["load_before"]))
    lines, raw = [], {"overhead": [], "cold": [], "mlp": []}

    if want("overhead"):
        for t in threads:
            h.log("== overhead, %d thread(s)" % t)
            rounds = h.paired_rounds(
                opts.rounds,
                lambda: overhead_result(run_checked(
                    [kiln, "overhead", "--size", "16", "--iters", str(iters), "--reps", "5"], t,
                    "kiln-eager-bench")),
                (lambda: overhead_result(run_checked(
                    [torch_py, torch_script, "overhead", "--size", "16", "--iters", str(iters),
                     "--reps", "5", "--threads", str(t)], t, "torch_eager.py"))) if torch_py else None)
            raw["overhead"].append({"threads": t, "rounds": rounds})
            for op in ("add", "add_inplace", "mul_scalar"):
                k = h.med([rd["kiln"][op] for rd in rounds if "kiln" in rd])
                r = h.med([rd["ref"][op] for rd in rounds if "ref" in rd])
                ratio = h.med([rd["kiln"][op] / rd["ref"][op] for rd in rounds
                               if "kiln" in rd and "ref" in rd])
                lines.append(["overhead %s (16 floats)" % op, str(t), "%.2f us" % k if k else "-",
                              "%.2f us" % r if r else "n/a", h.fmt(ratio), "<= %.0f us" % OVERHEAD_TARGET_US,
                              "-" if k is None else ("yes" if k <= OVERHEAD_TARGET_US else "no")])

    if want("cold"):
        h.log("== cold compile")
        results = [run_checked([kiln, "cold", "--reps", "5"], 1, "kiln-eager-bench")
                   for _ in range(opts.rounds)]
        raw["cold"] = results
        for op in ("add", "fully_connected", "convolution", "softmax", "convolution_large"):
            meds = [float(mm.group(2)) for out in results for mm in COLD_RE.finditer(out)
                    if mm.group(1) == op]
            k = h.med(meds)
            lines.append(["cold compile: %s" % op, "1", "%.1f ms" % k, "n/a (no compiler)", "-",
                          "<= %.0f ms" % COLD_TARGET_MS, "yes" if k <= COLD_TARGET_MS else "no"])

    if want("mlp"):
        for t in threads:
            h.log("== mlp step b64, %d thread(s)" % t)
            def kiln_once():
                out = run_checked([kiln, "mlp", "--batch", "64", "--iters", str(steps)], t,
                                  "kiln-eager-bench")
                bl = h.bench_line(out)
                kv = h.kv_line(out, "mlp:")
                return {"median_ms": float(bl.group(3)), "min_ms": float(bl.group(2)),
                        "hit_rate": float(kv["hit_rate"]), "first_step_ms": float(kv["first_step_ms"])}
            def ref_once():
                out = run_checked([torch_py, torch_script, "mlp", "--batch", "64", "--iters",
                                   str(steps), "--threads", str(t)], t, "torch_eager.py")
                bl = h.bench_line(out)
                return {"median_ms": float(bl.group(3)), "min_ms": float(bl.group(2))}
            row = {"rounds": h.paired_rounds(opts.rounds, kiln_once, ref_once if torch_py else None)}
            h.summarize(row)
            raw["mlp"].append(dict(row, threads=t))
            hit = h.med([rd["kiln"]["hit_rate"] for rd in row["rounds"] if "kiln" in rd])
            first = h.med([rd["kiln"]["first_step_ms"] for rd in row["rounds"] if "kiln" in rd])
            lines.append(["mlp step b64 (cache hit rate %.2f%%, first step %.0f ms)" % (100 * hit, first),
                          str(t), h.fmt(row.get("kiln_median_ms")) + " ms",
                          (h.fmt(row.get("ref_median_ms")) + " ms") if torch_py else "n/a",
                          h.fmt(row.get("ratio")), "-", "-"])

    h.finish_machine(m, torch_py)
    hdr = ["case", "thr", "Kiln", "PyTorch eager", "Kiln/ref", "target", "met?"]
    tbl = h.markdown_table(hdr, lines)
    print()
    h.print_machine(m, "eager (kiln-eager-bench)")
    print("Rounds: %d paired (order alternating); cells are medians over rounds of each "
          "process's median; ratios are medians of per-round ratios." % opts.rounds)
    print()
    print(tbl)
    h.save_results({"suite": "eager", "machine": m, "options": vars(opts), "raw": raw,
                    "table_md": tbl})
    return 0


if __name__ == "__main__":
    sys.exit(main())
