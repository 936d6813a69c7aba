#!/usr/bin/env python3
"""fuzz-graphs-mxnet.py DIR... [--kiln-run PATH]: checks kiln-fuzz-graphs
reproductions against MXNet 1.9.1, the reference Kiln's interpreter follows.

kiln-fuzz-graphs compares the compiled engine with Kiln's own reference
interpreter; this script checks that interpreter against MXNet on the same
random graphs. Each DIR (or each subdirectory of it) is a reproduction written
by `kiln-fuzz-graphs --dump-into` or `--minimize-into` (model-symbol.json,
model-0000.params, inputs, head gradients, run.json). For each one it runs
`kiln-run --engine=reference` in the recorded mode (inference, training or
backward) and MXNet's executor with the same arrays (forward with is_train,
backward with the same head gradients, gradients of every parameter, updated
aux states), and compares every file kiln-run writes (out<i>, grad_<name>,
aux_<name>) with |kiln - mxnet| <= atol * max(1, max|kiln|) + rtol * |kiln|.
Aux states are compared after a backward only: MXNet's executor updates
BatchNorm's moving statistics in its backward, and a forward with
is_train=True leaves them unchanged (Kiln's training forward updates them).

Graphs whose training run draws random numbers (Dropout with p > 0 in mode
training or always, rrelu) are skipped in the training modes: the two
systems draw different masks. So are backward runs of graphs with a repeated
output (one entry listed twice among the heads): MXNet uses the head
gradient of one of them, Kiln sums both. MXNet runs with its MKLDNN
subgraph backend off (see below); its MKLDNN operators stay on, as in the
pip build (MXNet's plain CPU Deconvolution with dilation is wrong: it
disagrees with NumPy and with MKLDNN), and graphs they refuse ("Check failed:
!is_view" on reshaped views) are counted, not compared. MXNet computes in float32 and Kiln's reference
in float64, so the default tolerance (rtol 1e-3, atol 1e-4) is looser than
kiln-fuzz-graphs'; a near miss on a result that cancels to ~0 is rounding.

Needs MXNet: run it with /opt/mxvenv/bin/python. Not part of ctest
(docs/testing.md).
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

# MXNet's MKLDNN subgraph backend folds BatchNorm into a preceding
# convolution whenever an executor is bound without gradients, in training
# mode too (moving statistics instead of batch statistics): the operators'
# own semantics need it off.
os.environ.setdefault("MXNET_SUBGRAPH_BACKEND", "NONE")
os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
import mxnet as mx  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reproductions(paths):
    for path in paths:
        if os.path.exists(os.path.join(path, "run.json")):
            yield path
            continue
        for name in sorted(os.listdir(path)):
            sub = os.path.join(path, name)
            if os.path.exists(os.path.join(sub, "run.json")):
                yield sub


def has_repeated_output(symbol_json):
    heads = [tuple(h[:2]) for h in json.loads(symbol_json)["heads"]]
    return len(set(heads)) != len(heads)


def draws_random_numbers(symbol_json):
    for node in json.loads(symbol_json)["nodes"]:
        attrs = node.get("attrs", {})
        if node["op"] == "Dropout" and float(attrs.get("p", "0.5")) > 0:
            return True
        if node["op"] == "LeakyReLU" and attrs.get("act_type") == "rrelu":
            return True
    return False


def kiln_reference(d, run, kiln_run):
    out = os.path.join(d, "kiln-reference")
    args = [kiln_run, "model-symbol.json", "--params", "model-0000.params"]
    for name, f in run["inputs"].items():
        args += ["--input", f"{name}={f}"]
    if run["mode"] == "training":
        args.append("--train")
    if run["mode"] == "backward":
        args.append("--backward")
        for head, f in run["head_grads"].items():
            args += ["--head-grad", f"{head}={f}"]
    args += ["--engine=reference", "--output-dir", "kiln-reference"]
    subprocess.run(args, cwd=d, check=True, capture_output=True)
    return {f[:-4]: np.load(os.path.join(out, f)) for f in os.listdir(out) if f.endswith(".npy")}


def mxnet_run(d, run):
    sym = mx.sym.load(os.path.join(d, "model-symbol.json"))
    saved = mx.nd.load(os.path.join(d, "model-0000.params"))
    if not isinstance(saved, dict):  # no parameters: an empty, unnamed list
        saved = {}
    args = {k[4:]: v for k, v in saved.items() if k.startswith("arg:")}
    aux = {k[4:]: v for k, v in saved.items() if k.startswith("aux:")}
    for name, f in run["inputs"].items():
        args[name] = mx.nd.array(np.load(os.path.join(d, f)))
    backward = run["mode"] == "backward"
    grad_req, grads = {}, {}
    for name in sym.list_arguments():
        learnable = backward and name not in run["inputs"]
        grad_req[name] = "write" if learnable else "null"
        if learnable:
            grads[name] = mx.nd.zeros(args[name].shape)
    exe = sym.bind(mx.cpu(), args={n: args[n] for n in sym.list_arguments()}, args_grad=grads,
                   grad_req=grad_req,
                   aux_states={n: aux[n] for n in sym.list_auxiliary_states()})
    outputs = exe.forward(is_train=run["mode"] != "inference")
    result = {f"out{i}": o.asnumpy() for i, o in enumerate(outputs)}
    if backward:
        head_grads = []
        for name, o in zip(sym.list_outputs(), outputs):
            f = run["head_grads"].get(name)
            head_grads.append(mx.nd.array(np.load(os.path.join(d, f))) if f
                              else mx.nd.zeros(o.shape))
        exe.backward(head_grads)
        for name in grads:
            result["grad_" + name] = exe.grad_dict[name].asnumpy()
        # MXNet's executor updates BatchNorm's moving statistics in the
        # backward (a forward with is_train=True leaves them alone), so they
        # are compared after a backward only.
        for name in sym.list_auxiliary_states():
            result["aux_" + name] = exe.aux_dict[name].asnumpy()
    return result


def compare(kiln, mxnet, rtol, atol, mode):
    problems = []
    for name in sorted(kiln):
        if name.startswith("aux_") and mode == "training":
            continue  # MXNet updates them in the backward (see mxnet_run)
        if name not in mxnet:
            problems.append(f"{name}: MXNet has no such result")
            continue
        a, b = kiln[name].astype(np.float64), mxnet[name].astype(np.float64)
        if a.shape != b.shape:
            problems.append(f"{name}: shape {a.shape} (Kiln) vs {b.shape} (MXNet)")
            continue
        finite = a[np.isfinite(a)]
        scale = float(np.abs(finite).max()) if finite.size else 0.0
        err = np.abs(a - b)
        bad = ~((err <= atol * max(1.0, scale) + rtol * np.abs(a)) | (np.isnan(a) & np.isnan(b)))
        if bad.any():
            i = int(np.argmax(np.where(bad, err, -1).ravel()))
            problems.append(f"{name}: {int(bad.sum())} of {a.size} differ; worst [{i}]: Kiln "
                            f"{a.ravel()[i]:.7g}, MXNet {b.ravel()[i]:.7g} (max |Kiln| {scale:.3g})")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--kiln-run", default=os.path.join(ROOT, "build", "bin", "kiln-run"))
    parser.add_argument("--rtol", type=float, default=1e-3)
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args()
    checked = skipped = repeated = unrunnable = failed = 0
    for d in reproductions(args.dirs):
        run = json.load(open(os.path.join(d, "run.json")))
        with open(os.path.join(d, "model-symbol.json")) as f:
            symbol = f.read()
        if run["mode"] != "inference" and draws_random_numbers(symbol):
            skipped += 1
            continue
        if run["mode"] == "backward" and has_repeated_output(symbol):
            repeated += 1
            continue
        try:
            kiln = kiln_reference(d, run, args.kiln_run)
            problems = compare(kiln, mxnet_run(d, run), args.rtol, args.atol, run["mode"])
        except mx.base.MXNetError as e:
            if "!is_view" in str(e):
                # An MKLDNN operator of MXNet refusing a reshaped view of its
                # input: MXNet cannot run the graph, nothing to compare.
                unrunnable += 1
                continue
            problems = ["error: " + str(e).strip().splitlines()[-1]]
        except subprocess.CalledProcessError as e:
            detail = e.stderr.decode() if isinstance(e, subprocess.CalledProcessError) else str(e)
            problems = ["error: " + detail.strip().splitlines()[-1] if detail.strip() else str(e)]
        checked += 1
        if problems:
            failed += 1
            print(f"DIFF {d} ({run['mode']})")
            for p in problems:
                print("  " + p)
    print(f"fuzz-graphs-mxnet: {checked} reproductions checked against MXNet, {failed} differ; "
          f"skipped: {skipped} random in training, {repeated} backward with a repeated output, "
          f"{unrunnable} that MXNet's MKLDNN operators refuse")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
