#!/usr/bin/env python3
"""Is Kiln's float32 gradient error larger than MXNet's own? (docs/numerics.md)

Runs inside the conformance venv (scripts/conformance-models.sh --study ...
forwards here) on the cache of scripts/conformance_models.py:

  for every model x seed (x smooth twin with --smooth-too):
    the references of conformance_models.py (MXNet float64, float32, float32
    on the input nudged by one ulp) and the Kiln variants asked for
    (compiled, threads1, recompute, reference);
    per gradient array: e_kiln = max|kiln - mx64| / max|mx64| and
    e_mx = the same for MXNet float32 (the plain run) and e_mxn (the nudged
    one);
  and prints, per model and variant, the median and the worst of
  log10(e_kiln / e_mx) over all arrays of all seeds, next to the same for
  MXNet against itself (e_mxn / e_mx): if Kiln's error is no larger than
  MXNet's, the two distributions match.

With --kinks it also counts, in the training-mode forward, the relu inputs
whose sign differs from float64 (a "kink crossing": the backward then takes
the other branch there) for MXNet float32 and for Kiln, and the RMS error of
those inputs relative to their RMS, layer by layer.
"""
import argparse
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import conformance_models as cm  # noqa: E402


def rel_errors(ref_dir, other_dir, names):
    import numpy as np
    out = {}
    for name in names:
        r = np.load(os.path.join(ref_dir, name + ".npy")).astype(np.float64)
        f = os.path.join(other_dir, name + ".npy")
        if not os.path.exists(f):
            continue
        scale = np.abs(r).max()
        if scale == 0:
            continue
        out[name] = float(np.abs(np.load(f).astype(np.float64) - r).max() / scale)
    return out


def quantiles(values):
    values = sorted(values)
    if not values:
        return None
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return {"n": len(values), "median": pick(0.5), "p90": pick(0.9), "max": values[-1]}


def log_ratios(a, b):
    """log10(a/b) per common array, skipping arrays where MXNet float32 is
    exact (its error 0) or whose true value is ~0 (under 1e-3 of the model's
    largest gradient scale: float32 noise there is not relative)."""
    return [math.log10(a[k] / b[k]) for k in a if k in b and b[k] > 0 and a[k] > 0]


def study(args):
    models = dict(cm.model_list())
    rows = []
    for name in args.models.split(","):
        for smooth in ([False, True] if args.smooth_too else [args.smooth]):
            per_variant = {}
            mx_self = []
            for i, seed in enumerate(int(s) for s in args.seeds.split(",")):
                variants = args.variants.split(",") if i == 0 else ["compiled"]
                ns = argparse.Namespace(
                    cache=args.cache, kiln_bin=args.kiln_bin, forward_only=False,
                    refresh=False, size=args.size, seed=seed, smooth=smooth, factor=cm.FACTOR,
                    timeout=args.timeout, variants=variants, reference_infer=False,
                    resume=args.resume, train_only=True)
                workdir = cm.model_dir(args.cache, name, ns)
                cm.run_model(name, models[name], ns)
                mx = os.path.join(workdir, "mx")
                names = [f[:-4] for f in os.listdir(os.path.join(mx, "train64"))
                         if f.startswith("grad_")]
                e_mx = rel_errors(os.path.join(mx, "train64"), os.path.join(mx, "train32"), names)
                e_mxn = rel_errors(os.path.join(mx, "train64"), os.path.join(mx, "train32n"),
                                   names)
                mx_self += log_ratios(e_mxn, e_mx)
                for v in ns.variants:
                    kdir = os.path.join(workdir, "kiln", v, "train")
                    if not os.path.isdir(kdir):
                        continue
                    e_k = rel_errors(os.path.join(mx, "train64"), kdir, names)
                    d = per_variant.setdefault(v, {"lr": [], "ek": [], "emx": []})
                    d["lr"] += log_ratios(e_k, e_mx)
                    d["ek"] += list(e_k.values())
                    d["emx"] += list(e_mx.values())
                if args.kinks and not smooth:
                    rows.append(("kinks", name, smooth, seed, count_kinks(workdir, args)))
            rows.append(("grad", name, smooth, "mxnet-nudged", quantiles(mx_self), None))
            for v, d in per_variant.items():
                rows.append(("grad", name, smooth, v, quantiles(d["lr"]),
                             (quantiles(d["ek"]), quantiles(d["emx"]))))
    print_report(rows)
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


def print_report(rows):
    print("\n## Gradient error against MXNet float64, training mode, head gradient of ones\n")
    print("log10 ratio per gradient array: Kiln's relative max error over MXNet float32's "
          "(row mxnet-nudged: MXNet float32 on the input nudged by 1 ulp over MXNet float32)\n")
    print("| model | smooth | variant | arrays | median ratio | 90% ratio | worst ratio | "
          "median rel. error Kiln / MXNet f32 |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, name, smooth, variant, q, extra in [r for r in rows if r[0] == "grad"]:
        if q is None:
            continue
        err = "-"
        if extra:
            err = "%.2g / %.2g" % (extra[0]["median"], extra[1]["median"])
        print("| %s | %s | %s | %d | %.2f | %.2f | %.3g | %s |" % (
            name, "yes" if smooth else "no", variant, q["n"], 10 ** q["median"],
            10 ** q["p90"], 10 ** q["max"], err))
    kinks = [r for r in rows if r[0] == "kinks"]
    if kinks:
        print("\n## relu inputs whose sign differs from float64 (training-mode forward)\n")
        print("| model | smooth | seed | relu inputs | elements | crossings MXNet f32 | "
              "crossings Kiln | median layer RMS error MXNet f32 | Kiln | worst layer MXNet f32 "
              "| Kiln |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for _, name, smooth, seed, k in kinks:
            if not k:
                continue
            print("| %s | %s | %d | %d | %d | %d | %d | %.2g | %.2g | %.2g | %.2g |" % (
                name, "yes" if smooth else "no", seed, k["layers"], k["elements"],
                k["flips_mx32"], k["flips_kiln"], k["rms_mx32"]["median"],
                k["rms_kiln"]["median"], k["rms_mx32"]["max"], k["rms_kiln"]["max"]))


KINK_SCRIPT = r"""
import json, sys, numpy as np, mxnet as mx
workdir = sys.argv[1]
graph = json.load(open(workdir + "/train-symbol.json"))
nodes = graph["nodes"]
heads = []
for n in nodes:
    attrs = n.get("attrs", n.get("attr", n.get("param", {})))
    if n["op"] == "Activation" and attrs.get("act_type") in ("relu", "softrelu"):
        e = n["inputs"][0]
        if [e[0], e[1], 0] not in heads:
            heads.append([e[0], e[1], 0])
graph["heads"] = heads
graph.pop("node_row_ptr", None)
json.dump(graph, open(workdir + "/kinks-symbol.json", "w"))
sym = mx.sym.load(workdir + "/kinks-symbol.json")
params = mx.nd.load(workdir + "/model-0000.params")
used = set(sym.list_arguments()) | set(sym.list_auxiliary_states())
mx.nd.save(workdir + "/kinks-0000.params", {k: v for k, v in params.items() if k[4:] in used})
x = np.load(workdir + "/input.npy")
for dtype in ("float64", "float32"):
    net = mx.gluon.SymbolBlock.imports(workdir + "/kinks-symbol.json", ["data"],
                                       workdir + "/kinks-0000.params")
    if dtype != "float32":
        net.cast(dtype)
    with mx.autograd.record(train_mode=True):
        ys = net(mx.nd.array(x, dtype=dtype))
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    np.savez(workdir + "/kinks-%s.npz" % dtype, *[y.asnumpy() for y in ys])
print(len(heads))
"""


def count_kinks(workdir, args):
    import numpy as np
    p = subprocess.run([sys.executable, "-c", KINK_SCRIPT, workdir], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print("kinks: MXNet failed: " + p.stderr[-500:], file=sys.stderr)
        return None
    outdir = os.path.join(workdir, "kiln", "kinks")
    q = subprocess.run([os.path.join(args.kiln_bin, "kiln-run"),
                        os.path.join(workdir, "kinks-symbol.json"),
                        "--params", os.path.join(workdir, "kinks-0000.params"),
                        "--input", "data=" + os.path.join(workdir, "input.npy"),
                        "--train", "--output-dir", outdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if q.returncode != 0:
        print("kinks: kiln-run failed: " + q.stdout[-500:], file=sys.stderr)
        return None
    r64 = np.load(os.path.join(workdir, "kinks-float64.npz"))
    r32 = np.load(os.path.join(workdir, "kinks-float32.npz"))
    flips_mx = flips_k = elements = 0
    rms_mx, rms_k = [], []
    for i in range(len(r64.files)):
        a = r64["arr_%d" % i]
        m = r32["arr_%d" % i].astype(np.float64)
        k = np.load(os.path.join(outdir, "out%d.npy" % i)).astype(np.float64)
        elements += a.size
        flips_mx += int(((a > 0) != (m > 0)).sum())
        flips_k += int(((a > 0) != (k > 0)).sum())
        rms = math.sqrt(float((a * a).mean())) or 1.0
        rms_mx.append(math.sqrt(float(((m - a) ** 2).mean())) / rms)
        rms_k.append(math.sqrt(float(((k - a) ** 2).mean())) / rms)
    return {"layers": len(r64.files), "elements": elements, "flips_mx32": flips_mx,
            "flips_kiln": flips_k, "rms_mx32": quantiles(rms_mx), "rms_kiln": quantiles(rms_k)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="resnet50_v1,mobilenet1.0,densenet121,"
                                       "cifar_wideresnet16_10")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--variants", default="compiled",
                   help="Kiln variants run on the first seed (the others run compiled only): "
                        + ",".join(cm.KILN_VARIANTS))
    p.add_argument("--smooth", action="store_true")
    p.add_argument("--smooth-too", action="store_true")
    p.add_argument("--kinks", action="store_true")
    p.add_argument("--resume", action="store_true",
                   help="reuse Kiln results in the cache made by the same kiln-run binary")
    p.add_argument("--timeout", type=int, default=3600)
    p.add_argument("--cache", default=os.environ.get(
        "KILN_CONFORMANCE_CACHE", os.path.expanduser("~/.cache/kiln/conformance-models")))
    p.add_argument("--kiln-bin", default=os.path.join(cm.ROOT, "build", "bin"))
    p.add_argument("--json")
    args = p.parse_args()
    study(args)


if __name__ == "__main__":
    main()
