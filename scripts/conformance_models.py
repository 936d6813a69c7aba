#!/usr/bin/env python3
"""Model-level conformance of Kiln against MXNet 1.9.1 (run through
scripts/conformance-models.sh, which provides a venv with MXNet and GluonCV).

For every network of mxnet.gluon.model_zoo.vision, GluonCV's ImageNet and
CIFAR classifiers, and a few GluonCV YOLOv3 / SSD detectors (inference only):

1. MXNet side (one subprocess per model, `--mxnet-worker`): build the net with
   seeded random weights (pretrained=False, Xavier; BatchNorm gamma/beta and
   running statistics and every bias randomized so that none is trivial),
   hybridize, export() -> model-symbol.json + model-0000.params, then load the
   exported files back (gluon.SymbolBlock) and compute references:
     infer64/  infer32/  infer32n/   inference-mode outputs
     train64/  train32/  train32n/   training mode, head gradients of ones:
                                     outputs, grad_<param>, aux_<state> (the
                                     updated BatchNorm running statistics)
   *64 in float64 (the net cast to float64), *32 in float32, *32n in float32
   with the input nudged by one ulp: the two float32 runs sample MXNet's own
   float32 error per array. Dropout is set to p=0 in the training symbol
   (train-symbol.json): masks drawn by two libraries cannot agree.
2. Kiln side: build/bin/kiln-run on the same files (kiln/infer: inference;
   kiln/train: --backward).
3. Per array: err = max|kiln - mx64|, noise = max over the float32 samples of
   max|mx32 - mx64|, ratio = err / max(noise, floor) with floor =
   REL_FLOOR * max|mx64| + REL_FLOOR * (median of max|mx64| over the arrays of
   the same kind in this model). The array passes when ratio <= FACTOR.
   docs/compatibility.md explains the choice.

Everything generated lives under the cache directory (default
~/.cache/kiln/conformance-models), never in the repository; references are
reused when the settings that made them are unchanged.
"""
import argparse
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Bump when the way references are made changes: cached ones are then redone.
REFERENCE_VERSION = 3
FACTOR = 10.0
REL_FLOOR = 1e-6
BATCH = 2
DETECTORS = {
    # name: input size (YOLOv3 wants a multiple of 32; SSD its own size)
    "yolo3_darknet53_coco": 320,
    "yolo3_mobilenet1.0_coco": 320,
    "ssd_300_vgg16_atrous_voc": 300,
    "ssd_512_mobilenet1.0_voc": 512,
    "ssd_512_resnet50_v1_voc": 512,
}
# GluonCV modules whose models are ImageNet or CIFAR classifiers.
GLUONCV_CLASSIFIER_MODULES = {
    "alexnet", "cifarresnet", "cifarresnext", "cifarwideresnet", "densenet", "dla",
    "googlenet", "hrnet", "inception", "mobilenet", "mobilenetv3", "nasnet",
    "pruned_resnet.resnetv1b_pruned", "residual_attentionnet", "resnest", "resnet",
    "resnetv1b", "resnext", "senet", "shufflenet", "squeezenet", "vgg", "xception",
    "yolo.darknet",
}
KILN_COMPILE_RE = re.compile(r"compiled (\d+) kernels in ([0-9.]+) s")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The model list (MXNet side)

def vision_names():
    from mxnet.gluon.model_zoo import vision
    try:
        vision.get_model("")
    except ValueError as e:
        # "Model  is not supported. Available options are\n\tname\n\t..."
        return [n.strip() for n in str(e).split("\n")[1:] if n.strip()]
    raise RuntimeError("mxnet.gluon.model_zoo.vision.get_model('') did not list its models")


def gluoncv_classifier_names():
    import gluoncv
    from gluoncv.model_zoo import model_zoo as mz
    names = []
    for name in gluoncv.model_zoo.get_model_list():
        module = getattr(mz._models.get(name), "__module__", "")
        if module.replace("gluoncv.model_zoo.", "", 1) in GLUONCV_CLASSIFIER_MODULES:
            names.append(name)
    return names


def model_list():
    """[(name, source)] in table order: MXNet's vision zoo, then GluonCV's
    classifiers that the vision zoo does not already have under the same
    name (GluonCV re-exports those definitions), then the detectors."""
    models = [(n, "vision") for n in vision_names()]
    seen = {n for n, _ in models}
    models += [(n, "gluoncv") for n in gluoncv_classifier_names() if n not in seen]
    models += [(n, "gluoncv-det") for n in DETECTORS]
    return models


def default_size(name, source):
    if source == "gluoncv-det":
        return DETECTORS[name]
    if name.startswith("cifar_"):
        return 32
    if name in ("inceptionv3", "xception", "xception71"):
        return 299
    if name == "nasnet_6_4032":
        return 331
    return 224


# ---------------------------------------------------------------------------
# MXNet worker: export and references for one model

def worker(args):
    os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
    import mxnet as mx
    import numpy as np

    out = args.workdir
    name, source = args.mxnet_worker, args.source
    meta = {"model": name, "source": source, "reference_version": REFERENCE_VERSION,
            "seed": args.seed, "smooth": args.smooth, "mxnet": mx.__version__}
    size = args.size or default_size(name, source)

    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    t0 = time.time()
    if source == "vision":
        from mxnet.gluon.model_zoo import vision
        net = vision.get_model(name, pretrained=False)
    else:
        from gluoncv import model_zoo
        kwargs = {"pretrained": False}
        if source == "gluoncv-det":
            kwargs["pretrained_base"] = False
        net = model_zoo.get_model(name, **kwargs)
    class XavierOrUniform(mx.init.Xavier):
        """Xavier, and uniform for a 1-D parameter that has no initializer of
        its own (GluonCV's SSD feature expander: mx.sym.BatchNorm in a
        SymbolBlock, whose gamma Xavier refuses); those are all gammas,
        betas or running statistics, which are drawn again below."""
        def _init_weight(self, desc, arr):
            if len(arr.shape) < 2:
                mx.init.Uniform(0.1)._init_weight(desc, arr)
            else:
                super()._init_weight(desc, arr)

    net.initialize(XavierOrUniform(), force_reinit=True)
    net.hybridize()
    rng = np.random.RandomState(args.seed)
    x = rng.standard_normal((BATCH, 3, size, size)).astype(np.float32)
    net(mx.nd.array(x))  # finishes deferred initialization
    for pname, p in sorted(net.collect_params().items()):
        shape = p.shape
        if pname.endswith("running_mean") or pname.endswith("moving_mean"):
            p.set_data(mx.nd.array(rng.uniform(-0.2, 0.2, shape)))
        elif pname.endswith("running_var") or pname.endswith("moving_var"):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, shape)))
        elif pname.endswith("gamma"):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, shape)))
        elif pname.endswith("beta") or pname.endswith("bias"):
            p.set_data(mx.nd.array(rng.uniform(-0.2, 0.2, shape)))
    if source == "gluoncv-det":
        net.set_nms(nms_thresh=0.45, nms_topk=100, post_nms=20)
    net(mx.nd.array(x))
    prefix = os.path.join(out, "model")
    net.export(prefix)
    np.save(os.path.join(out, "input.npy"), x)
    meta["size"] = size
    meta["input_shape"] = list(x.shape)
    meta["export_seconds"] = round(time.time() - t0, 2)

    symbol_file = prefix + "-symbol.json"
    graph = json.load(open(symbol_file))
    if args.smooth:
        graph = smooth_graph(graph)
        json.dump(graph, open(symbol_file, "w"))
    ops = sorted({n["op"] for n in graph["nodes"] if n["op"] != "null"})
    meta["ops"] = ops
    train_graph, dropouts = without_dropout(graph)
    meta["dropout_zeroed"] = dropouts
    json.dump(train_graph, open(os.path.join(out, "train-symbol.json"), "w"))
    nudged = np.nextafter(x, np.float32(np.inf))

    def load(symbol, dtype):
        block = mx.gluon.SymbolBlock.imports(symbol, ["data"], prefix + "-0000.params")
        if dtype != "float32":
            block.cast(dtype)
        return block

    def save_all(d, arrays):
        os.makedirs(d, exist_ok=True)
        for k, v in arrays.items():
            np.save(os.path.join(d, k + ".npy"), v)

    def heads(y):
        return list(y) if isinstance(y, (list, tuple)) else [y]

    def inference(dtype, data):
        net = load(symbol_file, dtype)
        ys = heads(net(mx.nd.array(data, dtype=dtype)))
        return {"out%d" % i: y.asnumpy() for i, y in enumerate(ys)}

    def training(dtype, data):
        net = load(os.path.join(out, "train-symbol.json"), dtype)
        xd = mx.nd.array(data, dtype=dtype)
        with mx.autograd.record(train_mode=True):
            ys = heads(net(xd))
        mx.autograd.backward(ys, [mx.nd.ones_like(y) for y in ys])
        arrays = {"out%d" % i: y.asnumpy() for i, y in enumerate(ys)}
        for pname, p in net.collect_params().items():
            if p.grad_req != "null":
                arrays["grad_" + pname] = p.grad().asnumpy()
            else:
                arrays["aux_" + pname] = p.data().asnumpy()
        return arrays

    runs = [("infer", inference)] + ([] if args.forward_only else [("train", training)])
    for mode, fn in runs:
        for tag, dtype, data in (("64", "float64", x), ("32", "float32", x),
                                 ("32n", "float32", nudged)):
            t0 = time.time()
            try:
                arrays = fn(dtype, data)
            except Exception as e:  # an op without a float64 kernel, ...
                meta["%s%s_error" % (mode, tag)] = first_line(str(e))
                continue
            save_all(os.path.join(out, "mx", mode + tag), arrays)
            meta["%s%s_seconds" % (mode, tag)] = round(time.time() - t0, 2)
    json.dump(meta, open(os.path.join(out, "meta.json"), "w"), indent=1)


def without_dropout(graph):
    """A copy of the symbol JSON with every Dropout's p set to 0, and how
    many there were."""
    graph = json.loads(json.dumps(graph))
    count = 0
    for node in graph["nodes"]:
        if node["op"] == "Dropout":
            for key in ("attrs", "attr", "param"):
                if key in node:
                    node[key]["p"] = "0"
            count += 1
    return graph, count


def smooth_graph(graph):
    """The smooth twin of a network (--smooth): relu -> softrelu, leaky relu
    -> elu with slope 1 (continuous derivative) and max pooling -> average
    pooling, so that no output or gradient has a kink where float32 rounding
    can flip a branch (docs/compatibility.md)."""
    graph = json.loads(json.dumps(graph))
    for node in graph["nodes"]:
        attrs = node.get("attrs", node.get("attr", node.get("param", {})))
        if node["op"] == "Activation" and attrs.get("act_type") == "relu":
            attrs["act_type"] = "softrelu"
        if node["op"] == "LeakyReLU" and attrs.get("act_type", "leaky") == "leaky":
            attrs["act_type"], attrs["slope"] = "elu", "1"
        if node["op"] == "Pooling" and attrs.get("pool_type", "max") == "max":
            attrs["pool_type"] = "avg"
    return graph


def first_line(text):
    text = text.strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("Stack trace"):
            return line[:300]
    return text[:300]


# ---------------------------------------------------------------------------
# Kiln side

KILN_VARIANTS = {
    # variant: (extra kiln-run flags, extra environment)
    "compiled": ([], {}),
    "threads1": ([], {"KILN_NUM_THREADS": "1"}),
    "recompute": (["--recompute"], {}),
    "reference": (["--engine=reference"], {}),
}


def run_kiln(kiln_bin, workdir, mode, variant, timeout):
    """Runs kiln-run for `mode` (infer | train) and returns a dict with
    status, compile seconds and the error line if any."""
    variant_flags, env_extra = KILN_VARIANTS[variant]
    outdir = os.path.join(workdir, "kiln", variant, mode)
    shutil.rmtree(outdir, ignore_errors=True)
    symbol = "model-symbol.json" if mode == "infer" else "train-symbol.json"
    flags = ["--backward"] if mode == "train" else []
    flags += [f for f in variant_flags if mode == "train" or f != "--recompute"]
    cmd = [os.path.join(kiln_bin, "kiln-run"), os.path.join(workdir, symbol),
           "--params", os.path.join(workdir, "model-0000.params"),
           "--input", "data=" + os.path.join(workdir, "input.npy"),
           "--output-dir", outdir] + flags
    env = dict(os.environ, **env_extra)
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env)
        text, code = p.stdout, p.returncode
    except subprocess.TimeoutExpired:
        text, code = "kiln-run: error: timed out after %d s" % timeout, -1
    result = {"seconds": round(time.time() - t0, 2), "command": " ".join(cmd)}
    with open(os.path.join(workdir, "kiln-%s-%s.log" % (variant, mode)), "w") as f:
        f.write(" ".join(cmd) + "\n" + text)
    m = KILN_COMPILE_RE.search(text)
    if m:
        result["kernels"] = int(m.group(1))
        result["compile_seconds"] = float(m.group(2))
    if code != 0:
        errors = [l for l in text.splitlines() if "error:" in l]
        line = errors[-1] if errors else (text.strip().splitlines() or ["exit %d" % code])[-1]
        if code < 0 and not errors:
            line = "crashed (signal %d)" % -code
        result["error"] = line.split("error:", 1)[-1].strip()
    return result


# ---------------------------------------------------------------------------
# Comparison

def array_kind(name):
    return "grad" if name.startswith("grad_") else "aux" if name.startswith("aux_") else "out"


def detections_in_canonical_order(directory):
    """A detector's outputs (class ids, scores, boxes: [batch, n, 1], [batch,
    n, 1], [batch, n, 4]) with each image's detections sorted by class id and
    box instead of by score. With random weights many scores saturate at 1.0,
    and the order of equal scores after NMS is arbitrary (MXNet float32 and
    float64 already differ in it); the set of detections is what must match."""
    import numpy as np
    try:
        arrays = [np.load(os.path.join(directory, "out%d.npy" % i)).astype(np.float64)
                  for i in range(3)]
    except OSError:
        return None
    ids, scores, boxes = arrays
    if not (ids.ndim == scores.ndim == boxes.ndim == 3 and ids.shape == scores.shape and
            ids.shape[-1] == 1 and boxes.shape[:2] == ids.shape[:2] and boxes.shape[-1] == 4):
        return None
    for b in range(ids.shape[0]):
        keys = [boxes[b, :, j] for j in (3, 2, 1, 0)] + [ids[b, :, 0]]
        order = np.lexsort(keys)
        ids[b], scores[b], boxes[b] = ids[b, order], scores[b, order], boxes[b, order]
    return {"out0": ids, "out1": scores, "out2": boxes}


def compare_dirs(ref_dir, noise_dirs, kiln_dir, factor=FACTOR, detections=False):
    """Per-array comparison (see the module docstring). Returns a list of
    dicts: name, kind, err, noise, scale, ratio, ok, problem. With
    detections, a detector's outputs are compared in canonical order."""
    import numpy as np
    canonical = {}
    if detections:
        for d in [ref_dir, kiln_dir] + list(noise_dirs):
            canonical[d] = detections_in_canonical_order(d) or {}

    def load(directory, name):
        if name in canonical.get(directory, {}):
            return canonical[directory][name]
        return np.load(os.path.join(directory, name + ".npy")).astype(np.float64)

    refs = {os.path.basename(f)[:-4]: f for f in glob.glob(os.path.join(ref_dir, "*.npy"))}
    loaded = {k: load(ref_dir, k) for k in refs}
    scales = {k: float(np.abs(v).max()) if v.size else 0.0 for k, v in loaded.items()}
    medians = {}
    for kind in ("out", "grad", "aux"):
        s = sorted(v for k, v in scales.items() if array_kind(k) == kind)
        medians[kind] = s[len(s) // 2] if s else 0.0
    rows = []
    for name in sorted(refs):
        r = loaded[name]
        row = {"name": name, "kind": array_kind(name), "scale": scales[name]}
        kfile = os.path.join(kiln_dir, name + ".npy")
        if not os.path.exists(kfile):
            row.update(ok=False, problem="missing", ratio=float("inf"))
            rows.append(row)
            continue
        k = load(kiln_dir, name)
        if k.shape != r.shape:
            row.update(ok=False, problem="shape %s, MXNet %s" % (list(k.shape), list(r.shape)),
                       ratio=float("inf"))
            rows.append(row)
            continue
        noise = 0.0
        for d in noise_dirs:
            f = os.path.join(d, name + ".npy")
            if os.path.exists(f):
                m = load(d, name)
                if m.shape == r.shape and m.size:
                    noise = max(noise, float(np.nan_to_num(np.abs(m - r), nan=np.inf).max()))
        err = float(np.nan_to_num(np.abs(k - r), nan=np.inf).max()) if r.size else 0.0
        floor = REL_FLOOR * scales[name] + REL_FLOOR * medians[row["kind"]]
        denom = max(noise, floor)
        ratio = err / denom if denom > 0 else (0.0 if err == 0 else float("inf"))
        row.update(err=err, noise=noise, ratio=ratio, ok=ratio <= factor)
        if not np.isfinite(k).all() and np.isfinite(r).all():
            row.update(ok=False, problem="non-finite values", ratio=float("inf"))
        rows.append(row)
    extra = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(kiln_dir, "*.npy"))
                   if os.path.basename(f)[:-4] not in refs)
    for name in extra:
        rows.append({"name": name, "kind": array_kind(name), "ok": False,
                     "problem": "not in MXNet's results", "ratio": float("inf")})
    return rows


def summarize(rows, kinds):
    sel = [r for r in rows if r["kind"] in kinds]
    if not sel:
        return None
    worst = max(sel, key=lambda r: r["ratio"])
    return {"n": len(sel), "ok": sum(r["ok"] for r in sel), "worst_ratio": worst["ratio"],
            "worst": worst["name"], "worst_problem": worst.get("problem")}


# ---------------------------------------------------------------------------
# Driver

def model_dir(cache, name, args):
    tag = name
    if args.smooth:
        tag += "@smooth"
    if args.size:
        tag += "@%d" % args.size
    if args.seed:
        tag += "@seed%d" % args.seed
    return os.path.join(cache, tag)


def references_ready(workdir, args):
    try:
        meta = json.load(open(os.path.join(workdir, "meta.json")))
    except (OSError, ValueError):
        return False
    if meta.get("reference_version") != REFERENCE_VERSION:
        return False
    mx = os.path.join(workdir, "mx")
    if not (os.path.isdir(os.path.join(mx, "infer64")) or
            os.path.isdir(os.path.join(mx, "infer32"))):
        return False  # removed after an earlier run (no --keep)
    return args.forward_only or any(k.startswith("train64") for k in meta)


def make_references(name, source, workdir, args):
    if os.path.isdir(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    cmd = [sys.executable, os.path.abspath(__file__), "--mxnet-worker", name,
           "--source", source, "--workdir", workdir, "--seed", str(args.seed)]
    if args.size:
        cmd += ["--size", str(args.size)]
    if args.smooth:
        cmd.append("--smooth")
    if args.forward_only or source == "gluoncv-det":
        cmd.append("--forward-only")
    env = dict(os.environ, MXNET_SUBGRAPH_VERBOSE="0", MXNET_STORAGE_FALLBACK_LOG_VERBOSE="0")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=args.timeout)
    with open(os.path.join(workdir, "mxnet.log"), "w") as f:
        f.write(p.stdout)
    if p.returncode != 0:
        lines = [l for l in p.stdout.strip().splitlines() if l.strip()]
        raise RuntimeError("MXNet: " + first_line(lines[-1] if lines else "exit %d" % p.returncode))


def previous_result(workdir, stamp, forward_only, train_only):
    """The result.json of an earlier run by the same kiln-run binary with
    the same settings, or {}."""
    try:
        previous = json.load(open(os.path.join(workdir, "result.json")))
    except (OSError, ValueError):
        return {}
    if previous.get("kiln_stamp") != stamp or previous.get("forward_only") != forward_only:
        return {}
    # A full run (inference and backward) also answers a backward-only one.
    if previous.get("train_only", False) and not train_only:
        return {}
    return previous


def backward_failed(result):
    train = result.get("compiled", {}).get("train") or {}
    return "summary" in train and any(
        s is not None and s["ok"] < s["n"] for s in train["summary"].values())


def has_kinks(workdir):
    """Whether the exported model has relu or max pooling (what --smooth
    replaces)."""
    try:
        graph = json.load(open(os.path.join(workdir, "model-symbol.json")))
    except (OSError, ValueError):
        return False
    twin = smooth_graph(graph)
    return twin != graph


def smooth_twin(name, source, args):
    """The backward of the model's smooth twin (compiled engine): run when
    the model's own backward fails, to tell a relu / max-pool kink crossing
    (the twin passes) from a real discrepancy (it fails too)."""
    ns = argparse.Namespace(**vars(args))
    ns.smooth, ns.train_only, ns.variants, ns.smooth_check = True, True, ["compiled"], False
    log("  %s: the backward failed; checking its smooth twin" % name)
    twin = run_model(name, source, ns)
    if "mxnet_error" in twin:
        return {"error": "MXNet: " + twin["mxnet_error"]}
    train = twin.get("compiled", {}).get("train", {})
    if "error" in train:
        return {"error": train["error"]}
    return train.get("summary", {})


def run_model(name, source, args):
    result = run_model_once(name, source, args)
    workdir = model_dir(args.cache, name, args)
    if (getattr(args, "smooth_check", False) and not args.smooth and "smooth_twin" not in result
            and backward_failed(result) and has_kinks(workdir)):
        result["smooth_twin"] = smooth_twin(name, source, args)
        json.dump(result, open(os.path.join(workdir, "result.json"), "w"), indent=1,
                  default=float)
    return result


def run_model_once(name, source, args):
    workdir = model_dir(args.cache, name, args)
    forward_only = args.forward_only or source == "gluoncv-det"
    train_only = getattr(args, "train_only", False)  # the noise study's runs
    stamp = kiln_stamp(args.kiln_bin)
    previous = {}
    if getattr(args, "resume", False) and not args.refresh:
        previous = previous_result(workdir, stamp, forward_only, train_only)
        if "mxnet_error" in previous or all(v in previous for v in args.variants):
            log("  %s: the results of the same kiln-run, from the cache" % name)
            return previous
    result = {"model": name, "source": source, "kiln_stamp": stamp,
              "forward_only": forward_only, "train_only": train_only}
    t0 = time.time()
    try:
        if args.refresh or not references_ready(workdir, args):
            log("  %s: MXNet export and references" % name)
            make_references(name, source, workdir, args)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        result["mxnet_error"] = first_line(str(e))
        os.makedirs(workdir, exist_ok=True)
        json.dump(result, open(os.path.join(workdir, "result.json"), "w"), indent=1)
        return result
    meta = json.load(open(os.path.join(workdir, "meta.json")))
    result.update(size=meta["size"], dropout_zeroed=meta.get("dropout_zeroed", 0),
                  mxnet_errors={k: v for k, v in meta.items() if k.endswith("_error")})
    mx = os.path.join(workdir, "mx")
    for variant in args.variants:
        if variant in previous:
            result[variant] = previous[variant]
            continue
        vres = {}
        modes = ("train",) if train_only else \
            ("infer",) + (() if forward_only else ("train",))
        for mode in modes:
            # The recompute rewrite changes only the backward; the reference
            # interpreter is slow, and its inference adds little.
            if mode == "infer" and (variant == "recompute" or
                                    (variant == "reference" and not args.reference_infer)):
                continue
            log("  %s: kiln-run %s (%s)" % (name, mode, variant))
            run = run_kiln(args.kiln_bin, workdir, mode, variant, args.timeout)
            vres[mode] = run
            ref = os.path.join(mx, mode + "64")
            if not os.path.isdir(ref):
                ref = os.path.join(mx, mode + "32")  # no float64 kernel somewhere
                run["reference"] = "float32"
            if "error" in run or not os.path.isdir(ref):
                continue
            noise = [os.path.join(mx, mode + t) for t in ("32", "32n")
                     if os.path.join(mx, mode + t) != ref]
            rows = compare_dirs(ref, noise, os.path.join(workdir, "kiln", variant, mode),
                                args.factor, detections=source == "gluoncv-det")
            run["arrays"] = rows
            if mode == "infer":
                run["summary"] = {"out": summarize(rows, {"out"})}
            else:
                run["summary"] = {"out": summarize(rows, {"out"}),
                                  "grad": summarize(rows, {"grad"}),
                                  "aux": summarize(rows, {"aux"})}
        result[variant] = vres
    result["seconds"] = round(time.time() - t0, 1)
    json.dump(result, open(os.path.join(workdir, "result.json"), "w"), indent=1,
              default=float)
    return result


def kiln_stamp(kiln_bin):
    """Identifies the kiln-run build (--resume reuses results of the same)."""
    st = os.stat(os.path.join(kiln_bin, "kiln-run"))
    return "%d-%d" % (st.st_size, int(st.st_mtime))


def fmt_ratio(x):
    if x is None:
        return "-"
    if x == float("inf"):
        return "inf"
    if x >= 100:
        return "%.3g" % x
    return "%.2g" % x if x < 10 else "%.0f" % x


def cell(summary, with_name=True):
    if summary is None:
        return "-"
    mark = "ok" if summary["ok"] == summary["n"] else "**FAIL**"
    text = "%s %d/%d" % (mark, summary["ok"], summary["n"]) if summary["n"] > 1 else mark
    text += " (%s" % fmt_ratio(summary["worst_ratio"])
    if with_name and summary["n"] > 1:
        text += " `%s`" % summary["worst"]
    if summary.get("worst_problem"):
        text += ": " + summary["worst_problem"]
    return text + ")"


def escape(text):
    """A table cell: no pipes or newlines, and the cache's paths cut to the
    file name (every file named is the row's model's)."""
    text = re.sub(r"(?:/[^\s/()'\"]+)+/([^\s/()'\"]+)", r"\1", text)
    return text.replace("|", "\\|").replace("\n", " ")


def table_rows(results, variant="compiled"):
    rows = []
    for r in results:
        name = r["model"]
        size = str(r.get("size", "-"))
        if r.get("not_run"):
            note = r["not_run"] if isinstance(r["not_run"], str) else ""
            rows.append([name, r["source"], "-", "not run", "not run", "-", "-", note])
            continue
        if "mxnet_error" in r:
            rows.append([name, r["source"], size, "-", "-", "-", "-",
                         "MXNet: " + escape(r["mxnet_error"])])
            continue
        v = r.get(variant, {})
        infer, train = v.get("infer", {}), v.get("train")
        notes = []
        if "error" in infer:
            notes.append(escape(infer["error"]))
        if train and "error" in train and train.get("error") != infer.get("error"):
            notes.append("backward: " + escape(train["error"]))
        if r.get("dropout_zeroed"):
            notes.append("Dropout p=0 in training")
        for k, e in sorted(r.get("mxnet_errors", {}).items()):
            # MXNet's check failures: the message without time stamp, file and condition
            e = re.sub(r"^MXNetError: |\[\d\d:\d\d:\d\d\] \S+: |Check failed: .*?\): ", "", e)
            notes.append("MXNet %s: %s" % (k.replace("_error", ""), escape(e)))
        if any(run.get("reference") == "float32" for run in v.values() if run):
            notes.append("compared with MXNet float32 (no float64 run)")
        fwd = cell(infer.get("summary", {}).get("out"), with_name=False) \
            if "summary" in infer else ("refused" if "error" in infer else "-")
        if train is None and r["source"] == "gluoncv-det":
            bwd = aux = "n/a"  # detectors: inference only
        elif train is None:
            bwd = aux = "not run"  # a --forward-only run
        elif "summary" in train:
            s = train["summary"]
            bwd = cell(s["grad"])
            if s["out"] and s["out"]["ok"] < s["out"]["n"]:
                bwd += "; train output " + cell(s["out"], with_name=False)
            aux = cell(s["aux"], with_name=False) if s["aux"] else "none"
            twin = r.get("smooth_twin")
            if twin and "error" in twin:
                bwd += "; smooth twin: " + escape(twin["error"])
            elif twin:
                sums = [x for x in twin.values() if x]
                ok = all(x["ok"] == x["n"] for x in sums)
                worst = max(x["worst_ratio"] for x in sums)
                bwd += "; smooth twin %s (%s)" % ("ok" if ok else "**FAIL**", fmt_ratio(worst))
        else:
            bwd, aux = ("refused" if "error" in train else "-"), "-"
        ct = "/".join("%.1f" % x["compile_seconds"] if "compile_seconds" in x else "-"
                      for x in ([infer] + ([train] if train else [])))
        rows.append([name, r["source"], size, fwd, bwd, aux, ct, "; ".join(notes)])
    return rows


def error_summary(results, variant="compiled"):
    """How often each Kiln error message stops a model."""
    counts = {}
    for r in results:
        run = r.get(variant, {}).get("infer", {})
        if "error" in run:
            msg = re.sub(r"\S*\.(json|params): ", "", run["error"])
            msg = re.sub(r" \(\S*\.json\)$", "", msg)
            msg = re.sub(r" in node '[^']*'", "", msg)
            msg = re.sub(r"node '[^']*'", "node '…'", msg)
            counts.setdefault(msg, []).append(r["model"])
    return sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def machine_info():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import run as bench  # noqa: E402  (bench/run.py: machine(), markdown_table())
    return bench


def kiln_version():
    return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def write_doc(path, results, args, kiln_git=None, commands=None):
    bench = machine_info()
    m = bench.machine()
    kiln_git = kiln_git or kiln_version()
    try:
        import mxnet
        import gluoncv
        versions = "MXNet %s, GluonCV %s" % (mxnet.__version__, gluoncv.__version__)
    except ImportError:
        versions = "MXNet 1.9.1"
    header = ["model", "zoo", "input", "forward (inference)", "backward: gradients",
              "aux", "compile s", "Kiln error / notes"]
    rows = table_rows(results)
    n = len(results)
    fwd_ok = sum(1 for r in results if r.get("compiled", {}).get("infer", {}).get("summary", {})
                 .get("out", {}) and r["compiled"]["infer"]["summary"]["out"]["ok"] ==
                 r["compiled"]["infer"]["summary"]["out"]["n"])
    ran = sum(1 for r in results if "summary" in r.get("compiled", {}).get("infer", {}))
    bwd_all = sum(1 for r in results if "summary" in (r.get("compiled", {}).get("train") or {}))
    bwd_ok = sum(1 for r in results
                 if "summary" in (r.get("compiled", {}).get("train") or {})
                 and all(s is None or s["ok"] == s["n"]
                         for s in r["compiled"]["train"]["summary"].values()))
    def short(command):  # a long --models list is in the table anyway
        return re.sub(r"--models (\S+)", lambda m: "--models %s" % m.group(1)
                      if m.group(1).count(",") < 4 else
                      "--models <%d models>" % (m.group(1).count(",") + 1), command)
    text = TEMPLATE.format(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        cpu="%s (%s CPUs; %s; %s)" % (m["cpu"], m["cpus"], m["simd"],
                                      m["load_before"].split("load", 1)[-1].strip()),
        versions=versions, kiln=kiln_git, factor=fmt_ratio(args.factor), rel_floor=REL_FLOOR,
        n=n, ran=ran, fwd_ok=fwd_ok, bwd_all=bwd_all, bwd_ok=bwd_ok,
        not_run=sum(1 for r in results if r.get("not_run")),
        command="`, `".join(short(c) for c in commands or [" ".join(["scripts/conformance-models.sh"] +
                                                   args.argv)]))
    text += bench.markdown_table(header, rows) + "\n"
    errors = error_summary(results)
    if errors:
        text += "\n## Why models are refused\n\n"
        text += bench.markdown_table(
            ["Kiln error (inference)", "models"],
            [[escape(msg), "%d: %s" % (len(models), ", ".join(models))]
             for msg, models in errors]) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


TEMPLATE = """# Model conformance against MXNet 1.9.1

Generated by `scripts/conformance-models.sh` (not part of ctest: it needs MXNet and GluonCV and
writes several GB under `~/.cache/kiln/conformance-models`). Last run: {date}, `{command}`.

- Host: {cpu} when the table was written. {versions}. Kiln `{kiln}`, compiled engine
  (`kiln-run`, default threads). Compile times are wall-clock on that machine: on a shared
  2-core VM under load they are several times those of an idle one.
- {n} models, {not_run} of them not run in this table (marked "not run"); {ran} compiled and
  ran forward, {fwd_ok} of them within tolerance; {bwd_all}
  ran the backward, {bwd_ok} of them with every gradient, training output and aux state within
  tolerance.

## What is compared

Every network of `mxnet.gluon.model_zoo.vision`, GluonCV's ImageNet and CIFAR classifiers (those
the vision zoo does not already have under the same name) and five GluonCV detectors (YOLOv3,
SSD; inference only) are built with `pretrained=False` and seeded random weights: Xavier, and
BatchNorm gamma, beta, running mean/variance and every bias drawn uniformly so that none is
trivial. They are hybridized and `export()`ed, and both MXNet (`gluon.SymbolBlock` on the exported
files) and Kiln (`kiln-run`) run the exported files on the same batch of 2 standard-normal
images, at 224×224 (299 for Inception v3 and Xception, 331 for NASNet-A large, 32 for the CIFAR
nets, the detectors at their own sizes).

- **forward (inference)**: the outputs in inference mode. A detector's outputs (class ids,
  scores, boxes after NMS) are compared with each image's detections sorted by class and box:
  with random weights many scores saturate at 1.0, and NMS orders equal scores arbitrarily.
  MXNet 1.9.1 cannot run GluonCV's YOLOv3 and SSD in float64 (a float32 constant meets a
  float64 input in a `broadcast_add`), so they are compared with MXNet float32 (noted in the
  row).
- **backward: gradients**: training mode (batch statistics) with a head gradient of ones on every
  output; every parameter gradient (`grad_<name>`). Dropout is given p=0 in the training graph
  (two libraries cannot draw the same masks). The training-mode outputs are checked too and
  reported here only when they fail.
- **aux**: the BatchNorm running statistics after the training step.
- **compile s**: Kiln's JIT compile time, inference / training graph (`kiln-run`'s own report).
- A refused model shows Kiln's error message (the first one; MXNet's own failures are marked).

## Tolerance policy

The reference is MXNet in **float64** (the net cast to float64). MXNet's own **float32** error is
measured per array by two float32 runs, one on the input and one on the input nudged by one ulp
(`nextafter`): noise = the larger of max|mx32 − mx64| over the two. For each array

    ratio = max|kiln − mx64| / max(noise, floor),  floor = {rel_floor} · (max|mx64| of the array
            + the median of max|mx64| over the model's arrays of the same kind)

and the array passes when ratio ≤ {factor}. The cells show how many arrays pass, the worst ratio
and its array. Why these numbers:

- A multiple of MXNet's own float32 error, because that error varies by orders of magnitude
  between arrays: training-mode gradients at batch 2 with a head gradient of ones are badly
  conditioned (BatchNorm's backward subtracts nearly equal terms), so MXNet float32 itself is
  percent-level off on some ResNet-50 gradients and 1e-7 off on others.
- **{factor}×**, not 2×: two float32 implementations that sum in different orders differ by a
  random factor, and the worst of a hundred ratios of two noisy numbers is routinely 3–8 (the
  measurements in `docs/numerics.md`). 10× still catches every real bug we have seen: a wrong
  operand or an aliasing error moves arrays by 10²–10⁶ times the noise.
- The floor matters only where MXNet float32 happens to be exact or the array is ~0 (the bias
  gradient of a convolution followed by BatchNorm is 0 in exact arithmetic and ~1e-16 in
  float64).
- **Kinks.** relu and max pooling make gradients discontinuous in the forward values: when a
  pre-activation lies within float32 rounding of 0, float32 and float64 may take different
  branches, and every gradient upstream moves by up to a few percent. Both MXNet float32 and Kiln
  cross such kinks at random (resnet50_v1 at 224×224: ~70 of its 18 million relu inputs change
  sign in MXNet float32, ~56 in Kiln; `docs/numerics.md`), so a backward failure alone does not
  prove a bug. When a model's backward fails, the script therefore runs the backward of its
  **smooth twin** — the same graph, weights and input with relu → softrelu, leaky relu → elu of
  slope 1 and max → average pooling, which has no kinks — and appends the verdict: "smooth twin ok" means the failure was
  a kink crossing, "smooth twin **FAIL**" is a real discrepancy. (`--smooth` runs any model
  that way.)

## Results

"""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", help="comma-separated model names (default: all)")
    p.add_argument("--forward-only", action="store_true", help="inference outputs only")
    p.add_argument("--list", action="store_true", help="print the model list and exit")
    p.add_argument("--cache", default=os.environ.get(
        "KILN_CONFORMANCE_CACHE", os.path.expanduser("~/.cache/kiln/conformance-models")))
    p.add_argument("--kiln-bin", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--doc", default=None,
                   help="where the table goes (default: docs/compatibility.md when every "
                        "model runs; with --models, nowhere unless given)")
    p.add_argument("--refresh", action="store_true", help="redo the MXNet references")
    p.add_argument("--keep", action="store_true",
                   help="keep the MXNet and Kiln arrays (GBs) after comparing")
    p.add_argument("--resume", action="store_true",
                   help="reuse Kiln results in the cache made by the same kiln-run binary")
    p.add_argument("--size", type=int, default=0, help="input size for every model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smooth", action="store_true",
                   help="relu -> softrelu, max -> avg pooling (no kinks; see the doc)")
    p.add_argument("--factor", type=float, default=FACTOR)
    p.add_argument("--no-smooth-check", dest="smooth_check", action="store_false",
                   help="do not rerun a model whose backward fails as its smooth twin")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per step")
    p.add_argument("--variants", default="compiled",
                   help="Kiln runs: " + ",".join(KILN_VARIANTS) + " (the table shows compiled)")
    p.add_argument("--reference-infer", action="store_true",
                   help="with the reference variant, also run inference on it")
    p.add_argument("--json", help="also write all results to this file")
    p.add_argument("--from-json", help="only rewrite the doc from the results that --json "
                                       "runs wrote: comma-separated files, a later file's "
                                       "result of a model replacing an earlier one's (their "
                                       "command lines are kept); every model of the list "
                                       "without a result is listed as not run")
    p.add_argument("--not-run-reason", help="with --from-json: the note of the rows of "
                                            "models without a result")
    # Internal: the MXNet worker for one model.
    p.add_argument("--mxnet-worker", help=argparse.SUPPRESS)
    p.add_argument("--source", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.argv = sys.argv[1:]
    if args.mxnet_worker:
        return worker(args)
    if args.from_json:
        by_model, commands, kiln = {}, [], None
        for path in args.from_json.split(","):
            saved = json.load(open(path))
            commands.append(" ".join(["scripts/conformance-models.sh"] + saved["argv"]))
            kiln = kiln or saved.get("kiln")
            for r in saved["results"]:
                by_model[r["model"]] = r
        results = [by_model.get(name, {"model": name, "source": source,
                                       "not_run": args.not_run_reason or True})
                   for name, source in model_list()]
        write_doc(args.doc or os.path.join(ROOT, "docs", "compatibility.md"), results, args,
                  kiln, commands)
        return 0
    args.variants = [v for v in args.variants.split(",") if v]
    for v in args.variants:
        if v not in KILN_VARIANTS:
            p.error("unknown variant '%s' (known: %s)" % (v, ", ".join(KILN_VARIANTS)))
    models = model_list()
    if args.list:
        for name, source in models:
            print("%-36s %s" % (name, source))
        return 0
    if args.models:
        wanted = [m.strip() for m in args.models.split(",") if m.strip()]
        known = dict(models)
        unknown = [m for m in wanted if m not in known]
        if unknown:
            p.error("unknown model(s): %s (see --list)" % ", ".join(unknown))
        models = [(m, known[m]) for m in wanted]
    elif args.doc is None:
        args.doc = os.path.join(ROOT, "docs", "compatibility.md")
    if not os.access(os.path.join(args.kiln_bin, "kiln-run"), os.X_OK):
        p.error("%s/kiln-run not found: build Kiln first (scripts/build.sh)" % args.kiln_bin)
    os.makedirs(args.cache, exist_ok=True)
    results = []
    for i, (name, source) in enumerate(models):
        log("[%d/%d] %s" % (i + 1, len(models), name))
        r = run_model(name, source, args)
        results.append(r)
        if not args.keep:  # the arrays take GBs; result.json has what the table needs
            workdir = model_dir(args.cache, name, args)
            for sub in ("mx", "kiln"):
                shutil.rmtree(os.path.join(workdir, sub), ignore_errors=True)
                twin = model_dir(args.cache, name, argparse.Namespace(**dict(vars(args),
                                                                             smooth=True)))
                shutil.rmtree(os.path.join(twin, sub), ignore_errors=True)
        row = table_rows([r], args.variants[0])[0]
        print(" | ".join(row), flush=True)
        if args.doc:  # rewritten after every model: a long run shows progress
            write_doc(args.doc, results, args)
        if args.json:  # also after every model, for --from-json
            with open(args.json, "w") as f:
                json.dump({"argv": args.argv, "kiln": kiln_version(), "results": results}, f,
                          indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
