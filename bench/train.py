#!/usr/bin/env python3
"""Kiln vs PyTorch training benchmark (issue 4 item 7).

Entry point: bench/run.sh --suite train [--quick] [--only lenet,mlp] [--threads 1,2]
(run.py hands --suite train to this file; it reuses run.py's process runner,
pairing, medians and machine description).

Cases (all Adam, lr 0.001, unless --optimizer sgd: momentum 0.9, lr 0.1):
  mlp b64, mlp b256, lenet b64     one training step on Fashion-MNIST's first batch
  resnet18 3x32x32 b32             one step on random 3x32x32 images (Kiln's zoo
                                   picks resnet.py's small-image stem for height <= 32)
  lenet epoch (Fashion-MNIST)      seconds of one training epoch at batch 64, and
                                   validation accuracy after it

Kiln: `kiln-train --bench-steps N` (3 warm-up steps, then N timed steps of
copy-in + forward(true) + backward() + optimizer update) and, for the epoch,
`kiln-train --epochs E --log-json` (its "seconds"). PyTorch:
bench/torch_train.py (zero_grad, forward, cross_entropy, backward, step).
Each round runs one process per side, the order alternating; a cell is the
median over rounds of each process's median step time, Kiln/ref the median of
the per-round ratios. Peak RSS is each process's own ru_maxrss (wait4), so it
includes Kiln's compiler and PyTorch's interpreter and libraries; the ref
column also gives PyTorch's RSS right after `import torch`. Targets (issue 4):
step time <= 0.8x PyTorch's, peak RSS <= 0.5x. "met?" only reports.
"""
import argparse
import json
import os
import sys

import run as h

WORK = os.path.join(h.WORK, "train")
STEP_TARGET, RSS_TARGET = 0.8, 0.5


def cases():
    out = [{"name": "mlp b64", "model": "mlp", "batch": 64},
           {"name": "mlp b256", "model": "mlp", "batch": 256},
           {"name": "lenet b64", "model": "lenet", "batch": 64},
           {"name": "resnet18 3x32x32 b32", "model": "resnet18", "batch": 32, "shape": "3,32,32"},
           {"name": "lenet epoch b64", "model": "lenet", "batch": 64, "epoch": True}]
    return out


def parse_step(out, rss_kb, wall):
    m = h.bench_line(out)
    if not m:
        raise RuntimeError("no bench line: " + out.strip()[-400:])
    kv = h.kv_line(out, "bench-train:")
    d = {"iters": int(m.group(1)), "min_ms": float(m.group(2)), "median_ms": float(m.group(3)),
         "peak_rss_kb": rss_kb, "process_s": wall}
    d.update({k: kv[k] for k in ("rss_kb", "import_rss_kb", "compile_s", "arena_bytes")
              if k in kv})
    return d


def epoch_result(lines, rss_kb, wall):
    """From kiln-train --log-json / torch_train.py epoch lines: the median
    seconds per epoch (as "median_ms", for the pairing code) and the last
    validation accuracy."""
    eps = [json.loads(l) for l in lines if l.startswith('{"epoch"')]
    if not eps:
        raise RuntimeError("no epoch lines")
    secs = sorted(e["seconds"] for e in eps)
    return {"median_ms": secs[len(secs) // 2] * 1e3, "min_ms": secs[0] * 1e3,
            "val_acc": eps[-1]["val_acc"], "train_acc": eps[-1]["train_acc"],
            "epochs": len(eps), "peak_rss_kb": rss_kb, "process_s": wall}


class Sides:
    def __init__(self, opts, torch_py):
        self.kiln = os.path.join(opts.bindir, "kiln-train")
        self.torch_py = torch_py
        self.opts = opts

    def opt_args(self):
        o = self.opts
        return ["--optimizer", o.optimizer] + (["--lr", str(o.lr)] if o.lr else [])

    def kiln_once(self, case, iters, threads):
        prefix = os.path.join(WORK, "kiln-" + case["model"])
        cmd = [self.kiln, "--model", "zoo:" + case["model"], "--dataset", "fashion-mnist",
               "--batch-size", str(case["batch"]), "--save", prefix, "--seed", "0"]
        cmd += self.opt_args()
        if case.get("epoch"):
            log = prefix + "-log.json"
            if os.path.exists(log):
                os.remove(log)
            cmd += ["--epochs", str(self.opts.epochs), "--log-json", log]
        else:
            cmd += ["--bench-steps", str(iters)]
            if case.get("shape"):
                cmd += ["--bench-shape", case["shape"]]
        rc, out, wall, rss = h.run_rss(cmd, h.thread_env(threads), timeout=3600)
        if rc != 0:
            raise RuntimeError("kiln-train failed (rc=%d): %s" % (rc, out.strip()[-400:]))
        if case.get("epoch"):
            with open(log) as f:
                return epoch_result(f.read().splitlines(), rss, wall)
        return parse_step(out, rss, wall)

    def ref_once(self, case, iters, threads):
        cmd = [self.torch_py, os.path.join(h.HERE, "torch_train.py"), "--threads", str(threads),
               "--batch", str(case["batch"]), "--seed", "0"] + self.opt_args()
        if case.get("epoch"):
            cmd += ["--case", "lenet-epoch", "--epochs", str(self.opts.epochs)]
        else:
            cmd += ["--case", case["model"], "--iters", str(iters)]
            if case.get("shape"):
                cmd += ["--shape", case["shape"]]
        rc, out, wall, rss = h.run_rss(cmd, h.thread_env(threads), timeout=3600)
        if rc != 0:
            raise RuntimeError("torch_train failed (rc=%d): %s" % (rc, out.strip()[-400:]))
        if case.get("epoch"):
            d = epoch_result(out.splitlines(), rss, wall)
            d["import_rss_kb"] = h.kv_line(out, "bench-train:").get("import_rss_kb")
            return d
        return parse_step(out, rss, wall)


def bench_case(case, threads, sides, opts):
    row = {"case": case["name"], "threads": threads, "epoch": bool(case.get("epoch"))}
    k_iters = r_iters = None
    if not case.get("epoch"):
        # One-step probes choose the iteration counts (about --budget-s of steps).
        try:
            probe = sides.kiln_once(case, 1, threads)
            row["kiln_probe_ms"] = probe["median_ms"]
            if probe["median_ms"] > opts.max_step_s * 1e3:
                row["kiln_skip"] = "n/a (%.0f s/step > --max-step-s %g)" % (
                    probe["median_ms"] / 1e3, opts.max_step_s)
            k_iters = max(3, h.iters_for(probe["median_ms"], opts.budget_s))
        except (RuntimeError, h.subprocess.TimeoutExpired) as e:
            row["kiln_skip"] = "failed: %s" % str(e)[-200:]
        if sides.torch_py:
            try:
                r_iters = max(3, h.iters_for(sides.ref_once(case, 2, threads)["median_ms"],
                                             opts.budget_s))
            except (RuntimeError, h.subprocess.TimeoutExpired) as e:
                row["ref_skip"] = "failed: %s" % str(e)[-200:]
    if not sides.torch_py:
        row["ref_skip"] = "n/a (PyTorch not installed: bench/setup.sh)"
    do_k = "kiln_skip" not in row
    do_r = "ref_skip" not in row
    row["rounds"] = h.paired_rounds(
        opts.epoch_rounds if case.get("epoch") else opts.rounds,
        (lambda: sides.kiln_once(case, k_iters, threads)) if do_k else None,
        (lambda: sides.ref_once(case, r_iters, threads)) if do_r else None)
    h.summarize(row)
    h.summarize(row, "peak_rss_kb", "rss_")
    row["ref_import_rss_kb"] = h.med([rd["ref"]["import_rss_kb"] for rd in row["rounds"]
                                      if "ref" in rd and rd["ref"].get("import_rss_kb")])
    for side in ("kiln", "ref"):
        accs = [rd[side]["val_acc"] for rd in row["rounds"] if side in rd and "val_acc" in rd[side]]
        if accs:
            row[side + "_val_acc"] = h.med(accs)
    return row


def mib(kb):
    return "-" if kb is None else "%.0f MiB" % (float(kb) / 1024)


def table(rows):
    hdr = ["case", "thr", "Kiln", "PyTorch", "Kiln/ref", "Kiln peak RSS",
           "ref peak RSS (RSS after import torch)", "RSS ratio", "target", "met?"]
    lines = []
    for r in rows:
        ep = r["epoch"]
        unit = (lambda ms: "-" if ms is None else "%.1f s" % (ms / 1e3)) if ep else \
            (lambda ms: "-" if ms is None else h.fmt(ms) + " ms")
        kcell = r.get("kiln_skip") or unit(r.get("kiln_median_ms"))
        rcell = r.get("ref_skip") or unit(r.get("ref_median_ms"))
        if ep:
            kcell += " (val %.1f%%)" % (100 * r["kiln_val_acc"]) if r.get("kiln_val_acc") else ""
            rcell += " (val %.1f%%)" % (100 * r["ref_val_acc"]) if r.get("ref_val_acc") else ""
        ratio, rss_ratio = r.get("ratio"), r.get("rss_ratio")
        met = "step %s, RSS %s" % (
            "-" if ratio is None else ("yes" if ratio <= STEP_TARGET else "no"),
            "-" if rss_ratio is None else ("yes" if rss_ratio <= RSS_TARGET else "no"))
        ref_rss = r.get("rss_ref_median_ms")
        lines.append([r["case"], str(r["threads"]), kcell, rcell,
                      "-" if ratio is None else h.fmt(ratio, 2),
                      mib(r.get("rss_kiln_median_ms")),
                      "-" if ref_rss is None else "%s (%s)" % (mib(ref_rss),
                                                               mib(r.get("ref_import_rss_kb"))),
                      "-" if rss_ratio is None else h.fmt(rss_ratio, 2),
                      "<= %.1f time, <= %.1f RSS" % (STEP_TARGET, RSS_TARGET), met])
    return h.markdown_table(hdr, lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 rounds, ~0.3 s of steps per process")
    ap.add_argument("--rounds", type=int, help="paired rounds per step case (default 5; --quick 3)")
    ap.add_argument("--epoch-rounds", type=int, help="paired rounds of the epoch case (default 3; --quick 1)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per epoch-case process")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--bindir", default=os.environ.get("KILN_BIN", os.path.join(h.ROOT, "build", "bin")))
    ap.add_argument("--python", default=None, help="python with torch (default bench/.venv)")
    ap.add_argument("--only", default="", help="comma list of substrings of case names")
    ap.add_argument("--budget-s", type=float, help="timed seconds per process (sets the step count)")
    ap.add_argument("--max-step-s", type=float, default=60.0, help="skip a Kiln case slower than this per step")
    opts = ap.parse_args()
    opts.rounds = opts.rounds or (3 if opts.quick else 5)
    opts.epoch_rounds = opts.epoch_rounds or (1 if opts.quick else 3)
    opts.budget_s = opts.budget_s or (0.3 if opts.quick else 1.0)
    os.makedirs(WORK, exist_ok=True)
    if not os.path.exists(os.path.join(opts.bindir, "kiln-train")):
        sys.exit("train.py: no kiln-train in %s (build it, or --bindir / $KILN_BIN)" % opts.bindir)
    torch_py = h.find_torch(opts.python)
    sides = Sides(opts, torch_py)
    m = h.machine()
    h.log("machine: %s, %s CPUs (%s), %s; load: %s" % (m["cpu"], m["cpus"], m["simd"], m["mem"],
                                                        m["load_before"]))
    threads = [int(t) for t in opts.threads.split(",")]
    only = [s for s in opts.only.split(",") if s]
    rows = []
    for case in cases():
        if only and not any(s in case["name"] for s in only):
            continue
        for t in threads:
            h.log("== %s, %d thread(s)" % (case["name"], t))
            row = bench_case(case, t, sides, opts)
            rows.append(row)
            h.log("   kiln %s ms, ref %s ms, ratio %s; peak RSS %s vs %s%s" % (
                h.fmt(row.get("kiln_median_ms")), h.fmt(row.get("ref_median_ms")),
                h.fmt(row.get("ratio"), 3), mib(row.get("rss_kiln_median_ms")),
                mib(row.get("rss_ref_median_ms")),
                (" [" + row["kiln_skip"] + "]") if row.get("kiln_skip") else ""))
    h.finish_machine(m, torch_py)
    tbl = table(rows)
    print()
    h.print_machine(m, "compiled (kiln-train)")
    print("Optimizer: %s%s. Rounds: %d paired per step case, %d per epoch case (interleaved, "
          "order alternating); times are medians of in-process step times, then the median over "
          "rounds; ratios are medians of per-round ratios. Peak RSS: each process's ru_maxrss."
          % (opts.optimizer, " lr %g" % opts.lr if opts.lr else "", opts.rounds, opts.epoch_rounds))
    print()
    print(tbl)
    h.save_results({"suite": "train", "machine": m, "options": vars(opts), "rows": rows,
                    "table_md": tbl})
    return 0


if __name__ == "__main__":
    sys.exit(main())
