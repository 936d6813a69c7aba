#!/usr/bin/env python3
"""Kiln performance harness (issue 3 item 7). Entry point: bench/run.sh.

Runs Kiln and its reference side by side in the same run, at 1 and 2 threads,
in paired, interleaved rounds (K R R K K R ...: the order alternates each
round), and prints one table row per case:

  case | threads | engine | Kiln ms | ref ms | Kiln/ref | rate | target | met?

Every time is the median of per-iteration times measured inside the process
(kiln-run --bench, the C references, the PyTorch script), then the median over
rounds; "Kiln/ref" is the median of the per-round ratios (pairing keeps it
meaningful while the machine's speed drifts). Raw results go to
bench/results/<UTC timestamp>.json.

Standard library only; PyTorch runs in bench/.venv (bench/setup.sh) through
bench/torch_ref.py. No thresholds are enforced: "met?" only reports.
`--suite train` runs bench/train.py instead (training steps, peak RSS and a
Fashion-MNIST epoch against bench/torch_train.py), on this file's helpers.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from array import array

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "build")
BENCH_RE = re.compile(r"bench: iters=(\d+) min_ms=([0-9.eE+-]+) median_ms=([0-9.eE+-]+)")
KV_RE = re.compile(r"(\w+)=(\S+)")
FUSED_N = 16 * 1024 * 1024
NOT_BUILT = "n/a (compiled engine not built)"


# ----------------------------------------------------------------------------
# helpers

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def thread_env(threads):
    """Environment for every benchmark command: OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE unset (OpenBLAS then detects the CPU and picks its best
    kernels), and every thread knob set to the same count."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    for k in ("KILN_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "MKL_NUM_THREADS"):
        env[k] = str(threads)
    return env


def run_rss(cmd, env=None, timeout=900):
    """(exit code, stdout+stderr, wall s, peak RSS in KiB): the peak RSS is the
    child's own ru_maxrss, from wait4 (RUSAGE_CHILDREN would be the maximum
    over every child so far)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        killed = []
        timer = threading.Timer(timeout, lambda: (killed.append(1), p.kill()))
        timer.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if killed:
        raise subprocess.TimeoutExpired(cmd, timeout, output=text)
    return p.returncode, text, time.monotonic() - t0, usage.ru_maxrss


def run(cmd, env=None, timeout=900):
    return run_rss(cmd, env, timeout)[:3]


def bench_line(out):
    """The last `bench: iters=N min_ms=X median_ms=Y` line of `out`, or None."""
    m = None
    for line in out.splitlines():
        m = BENCH_RE.search(line) or m
    return m


def write_npy(path, shape, seed=0):
    """float32 C-order .npy; values in [-1, 1) from a small seeded block repeated
    (timing does not depend on the values; no numpy needed)."""
    if os.path.exists(path):
        return path
    n = 1
    for d in shape:
        n *= d
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % dims
    hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
    s = (seed * 2654435761 + 12345) & 0xFFFFFFFF
    block = array("f")
    for _ in range(min(n, 4099)):  # prime length: no alignment with shapes
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        block.append((s >> 8) / 8388608.0 - 1.0)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode())
        full, rest = divmod(n, len(block))
        chunk = block * max(1, min(full, (1 << 22) // len(block)))
        written = 0
        while written + len(chunk) <= full * len(block):
            chunk.tofile(f)
            written += len(chunk)
        while written < full * len(block):
            block.tofile(f)
            written += len(block)
        block[:rest].tofile(f)
    os.replace(tmp, path)
    return path


def symbol_json(path, nodes, heads):
    args = [i for i, nd in enumerate(nodes) if nd["op"] == "null"]
    with open(path, "w") as f:
        json.dump({"nodes": nodes, "arg_nodes": args, "heads": heads,
                   "attrs": {"mxnet_version": ["int", 10901]}}, f)
    return path


def var(name):
    return {"op": "null", "name": name, "inputs": []}


def fc_symbol(n):
    return symbol_json(os.path.join(WORK, "fc%d-symbol.json" % n), [
        var("data"), var("fc_weight"),
        {"op": "FullyConnected", "name": "fc",
         "attrs": {"num_hidden": str(n), "no_bias": "True"},
         "inputs": [[0, 0, 0], [1, 0, 0]]}], [[2, 0, 0]])


def fused_symbol():
    return symbol_json(os.path.join(WORK, "fused-symbol.json"), [
        var("a"), var("b"), var("c"),
        {"op": "elemwise_mul", "name": "mul", "inputs": [[0, 0, 0], [1, 0, 0]]},
        {"op": "elemwise_add", "name": "add", "inputs": [[3, 0, 0], [2, 0, 0]]},
        {"op": "Activation", "name": "relu", "attrs": {"act_type": "relu"},
         "inputs": [[4, 0, 0]]},
        {"op": "_mul_scalar", "name": "half", "attrs": {"scalar": "0.5"},
         "inputs": [[5, 0, 0]]}], [[6, 0, 0]])


def med(xs):
    return statistics.median(xs) if xs else None


# ----------------------------------------------------------------------------
# the two sides

class Kiln:
    def __init__(self, bindir, engine):
        self.run_bin = os.path.join(bindir, "kiln-run")
        self.compile_bin = os.path.join(bindir, "kiln-compile")
        self.engine = engine  # "compiled" or "reference"

    def bench(self, model, inputs, iters, threads):
        cmd = [self.run_bin, model, "--engine=" + self.engine, "--bench", str(iters),
               "--output-dir", os.path.join(WORK, "out")]
        if not model.endswith("fused-symbol.json"):
            cmd += ["--random-params", "7"]
        for k, v in inputs.items():
            cmd += ["--input", "%s=%s" % (k, v)]
        rc, out, wall = run(cmd, thread_env(threads))
        m = bench_line(out)
        if rc != 0 or not m:
            raise RuntimeError("kiln-run failed (rc=%d): %s" % (rc, out.strip()[-400:]))
        return {"min_ms": float(m.group(2)), "median_ms": float(m.group(3)),
                "iters": int(m.group(1)), "process_s": wall}


def detect_engine(bindir, want):
    """'compiled' if kiln-run --engine=compiled runs a tiny model, else 'reference'."""
    if want != "auto":
        return want, ""
    x = write_npy(os.path.join(WORK, "tiny.npy"), (4, 8))
    cmd = [os.path.join(bindir, "kiln-run"), fc_symbol(4), "--engine=compiled",
           "--random-params", "1", "--input", "data=" + x, "--bench", "1",
           "--output-dir", os.path.join(WORK, "out")]
    rc, out, _ = run(cmd, thread_env(1), timeout=120)
    if rc == 0 and BENCH_RE.search(out):
        return "compiled", ""
    return "reference", out.strip().splitlines()[-1] if out.strip() else "rc=%d" % rc


def kv_line(out, prefix):
    for line in out.splitlines():
        if line.startswith(prefix):
            return {k: v for k, v in KV_RE.findall(line)}
    raise RuntimeError("no '%s' line in: %s" % (prefix, out.strip()[-400:]))


def openblas_sgemm(n, iters, threads):
    rc, out, wall = run([os.path.join(WORK, "sgemm_openblas"), str(n), str(n), str(n),
                         str(iters)], thread_env(threads))
    if rc:
        raise RuntimeError(out)
    d = kv_line(out, "sgemm:")
    return {"min_ms": float(d["min_ms"]), "median_ms": float(d["median_ms"]),
            "iters": iters, "core": d["core"], "threads_used": int(d["threads"]),
            "process_s": wall}


def stream_triad(iters, threads):
    rc, out, wall = run([os.path.join(WORK, "stream_triad"), str(FUSED_N), str(iters)],
                        thread_env(threads))
    if rc:
        raise RuntimeError(out)
    d = kv_line(out, "triad:")
    # The fused op moves 4 arrays, the triad 3: scale the triad's time to the
    # time the fused op would take at the triad's bandwidth.
    return {"min_ms": float(d["min_ms"]) * 4 / 3, "median_ms": float(d["median_ms"]) * 4 / 3,
            "triad_median_ms": float(d["median_ms"]), "iters": iters,
            "gbps_median": float(d["gbps_median"]), "process_s": wall}


def torch_ref(py, args, iters, threads):
    rc, out, wall = run([py, os.path.join(HERE, "torch_ref.py")] + args +
                        ["--threads", str(threads), "--iters", str(iters)], thread_env(threads))
    if rc:
        raise RuntimeError("torch_ref failed: " + out.strip()[-400:])
    d = json.loads(out.strip().splitlines()[-1])
    d["process_s"] = wall
    return d


# ----------------------------------------------------------------------------
# cases

def cases(quick):
    sizes = [256, 512, 1024, 2048]
    out = []
    for s in sizes:
        out.append({"name": "sgemm %d" % s, "family": "sgemm", "size": s, "ref": "openblas",
                    "work": 2.0 * s ** 3, "unit": "GFLOP/s", "target": 1.0})
    out.append({"name": "fused relu(a*b+c)*0.5 16M", "family": "fused", "ref": "triad",
                "work": 4.0 * 4 * FUSED_N, "unit": "GB/s", "target": 1 / 0.9})
    for model, batch in (("lenet", 1), ("lenet", 64), ("resnet18", 1), ("resnet18", 8)):
        out.append({"name": "%s b%d" % (model, batch), "family": model, "batch": batch,
                    "ref": "pytorch", "work": None, "unit": None, "target": 0.8})
    return out


def prepare(case):
    """(kiln model, {input: npy}, torch args)"""
    if case["family"] == "sgemm":
        n = case["size"]
        x = write_npy(os.path.join(WORK, "x%d.npy" % n), (n, n), 1)
        return fc_symbol(n), {"data": x}, ["--case", "sgemm", "--size", str(n)]
    if case["family"] == "fused":
        ins = {k: write_npy(os.path.join(WORK, "fused_%s.npy" % k), (FUSED_N,), i + 1)
               for i, k in enumerate("abc")}
        return fused_symbol(), ins, ["--case", "fused", "--n", str(FUSED_N)]
    b = case["batch"]
    shape = (b, 1, 28, 28) if case["family"] == "lenet" else (b, 3, 224, 224)
    x = write_npy(os.path.join(WORK, "%s_b%d.npy" % (case["family"], b)), shape, 3)
    return "zoo:" + case["family"], {"data": x}, ["--case", case["family"], "--batch", str(b)]


def iters_for(ms, budget_s):
    if ms is None or ms <= 0:
        return 5
    return int(max(1, min(50, budget_s * 1e3 / ms)))


def bench_case(case, threads, kiln, torch_py, opts, est):
    """Paired, interleaved rounds of Kiln and the reference for one case."""
    model, ins, targs = prepare(case)
    row = {"case": case["name"], "threads": threads, "ref_kind": case["ref"],
           "engine": kiln.engine if kiln else None, "rounds": []}

    def ref_once(iters):
        if case["ref"] == "openblas":
            return openblas_sgemm(case["size"], iters, threads)
        if case["ref"] == "triad":
            return stream_triad(iters, threads)
        return torch_ref(torch_py, targs, iters, threads)

    # Kiln probe (one timed iteration), unless an estimate says it is too slow.
    k_iters = None
    if kiln:
        guess = est.get(case["name"])
        if guess and guess > opts.max_iter_s * 1e3:
            row["kiln_skip"] = "n/a (est. %.0f s/iter > --max-iter-s %g)" % (guess / 1e3, opts.max_iter_s)
        else:
            try:
                probe = kiln.bench(model, ins, 1, threads)
                if probe["median_ms"] > opts.max_iter_s * 1e3:
                    row["kiln_skip"] = "n/a (%.0f s/iter > --max-iter-s %g)" % (
                        probe["median_ms"] / 1e3, opts.max_iter_s)
                k_iters = iters_for(probe["median_ms"], opts.budget_s)
                row["kiln_probe_ms"] = probe["median_ms"]
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                row["kiln_skip"] = "failed: %s" % str(e)[-200:]
    ref_ok = case["ref"] != "pytorch" or torch_py
    r_iters = None
    if ref_ok:
        try:
            r_iters = iters_for(ref_once(2)["median_ms"], opts.budget_s)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            row["ref_skip"] = "failed: %s" % str(e)[-200:]
    else:
        row["ref_skip"] = "n/a (PyTorch not installed: bench/setup.sh)"
    do_k = kiln and "kiln_skip" not in row
    do_r = "ref_skip" not in row and r_iters
    row["rounds"] = paired_rounds(
        opts.rounds,
        (lambda: kiln.bench(model, ins, k_iters, threads)) if do_k else None,
        (lambda: ref_once(r_iters)) if do_r else None)
    summarize(row)
    row["target_ratio_max"] = case["target"]
    if case["work"]:
        # GFLOP/s (2MNK) or GB/s (4 arrays x 64 MB), from median times.
        if row["kiln_median_ms"]:
            row["kiln_rate"] = case["work"] / (row["kiln_median_ms"] * 1e-3) / 1e9
        if row["ref_median_ms"]:
            row["ref_rate"] = case["work"] / (row["ref_median_ms"] * 1e-3) / 1e9
    if case["ref"] == "openblas":
        row["openblas_core"] = next((rd["ref"]["core"] for rd in row["rounds"] if "ref" in rd), None)
    if case["ref"] == "triad":
        row["triad_gbps_median"] = med([rd["ref"]["gbps_median"] for rd in row["rounds"] if "ref" in rd])
    return row


def paired_rounds(rounds, kiln_once, ref_once):
    """`rounds` rounds of one Kiln and one reference process (either may be
    None: not run), the order alternating K R, R K, ...; each round is
    {"kiln": result, "ref": result} or "<side>_error" for a failed side."""
    out = []
    for r in range(rounds):
        rd = {}
        for side in (("k", "r") if r % 2 == 0 else ("r", "k")):
            fn, key = (kiln_once, "kiln") if side == "k" else (ref_once, "ref")
            if fn is None:
                continue
            try:
                rd[key] = fn()
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                rd[side + "_error"] = str(e)[-300:]
        out.append(rd)
    return out


def summarize(row, field="median_ms", prefix=""):
    """Medians over row["rounds"] of each side's `field` (and the smallest
    min_ms), and the median of the per-round Kiln/ref ratios, stored as
    PREFIXkiln_median_ms, PREFIXref_median_ms, PREFIXratio (and the mins)."""
    rounds = row["rounds"]
    for side in ("kiln", "ref"):
        row[prefix + side + "_median_ms"] = med([rd[side][field] for rd in rounds
                                                 if side in rd and rd[side].get(field)])
        if field == "median_ms":
            row[side + "_min_ms"] = min((rd[side]["min_ms"] for rd in rounds if side in rd),
                                        default=None)
    row[prefix + "ratio"] = med([rd["kiln"][field] / rd["ref"][field] for rd in rounds
                                 if "kiln" in rd and "ref" in rd and rd["kiln"].get(field)
                                 and rd["ref"].get(field)])
    return row


def compile_case(kiln_compile, model, shape, rounds):
    out = os.path.join(WORK, "compile-out")
    kinds = []
    for kind in ("obj", "graph"):
        rc, text, _ = run([kiln_compile, model, "--input-shape", "data=" + shape,
                           "--emit", kind, "-o", out + "." + kind], timeout=900)
        if rc == 0:
            kinds.append(kind)
        if kind == "obj" and rc == 0:
            break
    row = {"case": "compile %s" % model[4:], "kinds": kinds}
    for kind in kinds:
        walls = []
        for _ in range(rounds):
            rc, text, wall = run([kiln_compile, model, "--input-shape", "data=" + shape,
                                  "--emit", kind, "-o", out + "." + kind], timeout=900)
            if rc == 0:
                walls.append(wall * 1e3)
        row[kind] = {"median_ms": med(walls), "min_ms": min(walls, default=None)}
    return row


# ----------------------------------------------------------------------------
# machine and table

def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True).stdout.strip()
        except OSError:
            return ""
    lscpu = sh("lscpu")
    get = lambda key: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                            if l.startswith(key + ":")), "?")
    flags = get("Flags").split()
    return {
        "cpu": get("Model name"), "cpus": get("CPU(s)"), "threads_per_core": get("Thread(s) per core"),
        "family_model": "%s/%s" % (get("CPU family"), get("Model")),
        "hypervisor": get("Hypervisor vendor"), "l2": get("L2 cache"), "l3": get("L3 cache"),
        "simd": " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                         if f in flags),
        "mem": sh("free -g | awk '/^Mem:/{print $2\" GiB\"}'"),
        "kernel": platform.release(),
        "cc": sh("cc --version | head -1"),
        "openblas": sh("dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null "
                       "|| dpkg-query -W -f='${Version}' libopenblas0"),
        "kiln_git": sh("git -C %s rev-parse --short HEAD" % ROOT) +
        (" (+uncommitted changes)" if sh("git -C %s status --porcelain" % ROOT) else ""),
        "load_before": sh("uptime"),
        "top_before": sh("ps -eo pcpu,comm --sort=-pcpu | head -6"),
    }


def markdown_table(header, rows):
    """A Markdown table: the header row, the rule, one row per list of cells."""
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(md)


def fmt(x, p=2):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.*f" % (p, x)


def table(rows, comp_rows, compiled):
    hdr = ["case", "thr", "Kiln engine", "Kiln ms (med)", "ref", "ref ms (med)",
           "Kiln/ref", "Kiln rate", "ref rate", "target", "met?"]
    lines = []
    for r in rows:
        ratio = r.get("ratio")
        kms = r.get("kiln_median_ms")
        if r.get("kiln_skip"):
            kcell = r["kiln_skip"]
        else:
            kcell = fmt(kms)
        tgt = r["target_ratio_max"]
        target = {"openblas": "Kiln/ref <= 1.00", "triad": ">= 90% triad BW (ratio <= 1.11)",
                  "pytorch": "Kiln/ref <= 0.80"}[r["ref_kind"]]
        if not compiled:
            met = NOT_BUILT
        elif ratio is None:
            met = "n/a"
        else:
            met = "yes" if ratio <= tgt + 1e-9 else "no"
        unit = {"openblas": " GFLOP/s", "triad": " GB/s", "pytorch": ""}[r["ref_kind"]]
        ref_name = {"openblas": "OpenBLAS " + (r.get("openblas_core") or ""),
                    "triad": "STREAM triad", "pytorch": "PyTorch"}[r["ref_kind"]]
        lines.append([r["case"], str(r["threads"]),
                      r["engine"] + ("" if compiled else " (interp., stand-in)"),
                      kcell, ref_name.strip(),
                      r.get("ref_skip") or fmt(r.get("ref_median_ms")),
                      fmt(ratio, 3) if ratio is not None else "-",
                      (fmt(r["kiln_rate"]) + unit) if r.get("kiln_rate") else "-",
                      (fmt(r["ref_rate"]) + unit) if r.get("ref_rate") else "-",
                      target, met])
    for c in comp_rows:
        for kind in c["kinds"]:
            note = "" if kind == "obj" else " (--emit obj not built: import+shape inference only)"
            lines.append([c["case"] + " --emit " + kind + note, "-", "-", fmt(c[kind]["median_ms"]),
                          "-", "-", "-", "-", "-", "report only", "-"])
        if not c["kinds"]:
            lines.append([c["case"], "-", "-", "failed", "-", "-", "-", "-", "-", "report only", "-"])
    return markdown_table(hdr, lines)


def main():
    if "--suite" in sys.argv[1:]:
        # --suite infer (this file's cases, the default), --suite train
        # (bench/train.py: training steps, memory and an epoch vs PyTorch) or
        # --suite eager (bench/eager.py: NDArray calls and an eager MLP step).
        i = sys.argv.index("--suite")
        suite = sys.argv[i + 1] if i + 1 < len(sys.argv) else ""
        del sys.argv[i:i + 2]
        if suite == "train":
            sys.path.insert(0, HERE)
            import train
            return train.main()
        if suite == "eager":
            sys.path.insert(0, HERE)
            import eager
            return eager.main()
        if suite != "infer":
            sys.exit("run.py: --suite infer|train|eager, got '%s'" % suite)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer rounds, smaller budgets")
    ap.add_argument("--rounds", type=int, help="paired rounds per case (default 5; --quick 3)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--engine", default="auto", choices=["auto", "compiled", "reference"])
    ap.add_argument("--bindir", default=os.environ.get("KILN_BIN", os.path.join(ROOT, "build", "bin")))
    ap.add_argument("--python", default=None, help="python with torch (default bench/.venv)")
    ap.add_argument("--only", default="", help="comma list of substrings of case names")
    ap.add_argument("--max-iter-s", type=float, help="skip a Kiln case slower than this per iteration")
    ap.add_argument("--budget-s", type=float, help="timed seconds per process (sets iterations)")
    ap.add_argument("--no-compile-time", action="store_true")
    opts = ap.parse_args()
    opts.rounds = opts.rounds or (3 if opts.quick else 5)
    opts.max_iter_s = opts.max_iter_s or (3.0 if opts.quick else 15.0)
    opts.budget_s = opts.budget_s or (0.3 if opts.quick else 1.0)
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(os.path.join(WORK, "out"), exist_ok=True)

    torch_py = find_torch(opts.python)

    have_kiln = os.path.exists(os.path.join(opts.bindir, "kiln-run"))
    engine, why = detect_engine(opts.bindir, opts.engine) if have_kiln else (None, "")
    compiled = engine == "compiled"
    kiln = Kiln(opts.bindir, engine) if have_kiln else None
    m = machine()
    log("machine: %s, %s CPUs (%s), %s; load: %s" % (m["cpu"], m["cpus"], m["simd"], m["mem"],
                                                      m["load_before"]))
    log("kiln engine: %s%s" % (engine, "" if compiled else
                               " -- compiled engine not built (%s); the reference interpreter stands in" % why))

    threads = [int(t) for t in opts.threads.split(",")]
    only = [s for s in opts.only.split(",") if s]
    rows, est = [], {}
    all_cases = [c for c in cases(opts.quick) if not only or any(s in c["name"] for s in only)]
    for case in all_cases:
        for t in threads:
            log("== %s, %d thread(s)" % (case["name"], t))
            row = bench_case(case, t, kiln, torch_py, opts, est)
            rows.append(row)
            log("   kiln %s ms, ref %s ms, ratio %s%s" % (
                fmt(row.get("kiln_median_ms")), fmt(row.get("ref_median_ms")),
                fmt(row.get("ratio"), 3), (" [" + row["kiln_skip"] + "]") if row.get("kiln_skip") else ""))
            # Estimate the next size of the same family from this one (work ratio).
            k = row.get("kiln_median_ms") or row.get("kiln_probe_ms")
            if case["family"] == "sgemm":
                slow = row.get("kiln_skip", "").startswith("n/a")
                for nxt in (s for s in (512, 1024, 2048) if s > case["size"]):
                    guess = float("inf") if slow else (k or 0) * (nxt / case["size"]) ** 3
                    name = "sgemm %d" % nxt
                    est[name] = max(est.get(name, 0), guess)
            if case["family"] == "resnet18" and case["batch"] == 1 and k:
                est["resnet18 b8"] = max(est.get("resnet18 b8", 0), k * 8)
    comp_rows = []
    if kiln and not opts.no_compile_time and (not only or any("compile" in s for s in only)):
        for model in ("zoo:resnet18", "zoo:resnet50"):
            log("== compile time %s" % model)
            comp_rows.append(compile_case(kiln.compile_bin, model, "1,3,224,224",
                                          3 if opts.quick else 5))
    finish_machine(m, torch_py)
    tbl = table(rows, comp_rows, compiled)

    print()
    print_machine(m, engine)
    if not compiled:
        print("NOTE: %s -- Kiln column is the reference interpreter, standing in; not a Kiln result." % NOT_BUILT)
    print("Rounds: %d paired (interleaved, order alternating); times are medians of in-process "
          "per-iteration times, then the median over rounds; Kiln/ref is the median of per-round ratios."
          % opts.rounds)
    print()
    print(tbl)

    save_results({"machine": m, "engine": engine, "compiled": compiled, "options": vars(opts),
                  "rows": rows, "compile": comp_rows, "table_md": tbl})
    return 0


def finish_machine(m, torch_py):
    """Adds the load at the end and PyTorch's version to machine() `m`."""
    m["load_after"] = subprocess.run("uptime", shell=True, stdout=subprocess.PIPE,
                                     text=True).stdout.strip()
    if torch_py:
        m["torch"] = run([torch_py, "-c", "import torch;print(torch.__version__)"])[1].strip()


def print_machine(m, engine):
    print("Machine: %s (family/model %s), %s CPUs, %s thread(s)/core, SIMD: %s, L2 %s, L3 %s, %s, "
          "hypervisor %s, kernel %s" % (m["cpu"], m["family_model"], m["cpus"], m["threads_per_core"],
                                        m["simd"], m["l2"], m["l3"], m["mem"], m["hypervisor"], m["kernel"]))
    print("Software: Kiln %s (engine: %s); OpenBLAS %s; PyTorch %s; %s" % (
        m["kiln_git"], engine, m["openblas"], m.get("torch", "n/a"), m["cc"]))
    print("Load before: %s" % m["load_before"])
    print("Load after:  %s" % m["load_after"])
    print("Busiest processes at start:\n  " + m["top_before"].replace("\n", "\n  "))


def save_results(payload):
    """Writes bench/results/<UTC timestamp>.json and says where."""
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(HERE, "results", stamp + ".json")
    with open(path, "w") as f:
        json.dump(dict(payload, timestamp=stamp), f, indent=1)
    print("\nraw results: %s" % os.path.relpath(path, ROOT))


def find_torch(python):
    """The python that imports torch (default bench/.venv's), or None."""
    torch_py = python or os.path.join(HERE, ".venv", "bin", "python")
    if not (os.path.exists(torch_py) and run([torch_py, "-c", "import torch"], timeout=300)[0] == 0):
        log("note: no PyTorch (run bench/setup.sh); PyTorch columns will be n/a")
        return None
    return torch_py


if __name__ == "__main__":
    sys.exit(main())
