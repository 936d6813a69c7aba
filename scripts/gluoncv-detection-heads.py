#!/usr/bin/env python3
"""Checks Kiln's detection heads on GluonCV detectors at full size, offline.

Exports a GluonCV model (random weights, batch 1, hybridized) with MXNet 1.9.1,
cuts out every box_nms / box_decode node as a one-node symbol whose inputs are
MXNet's internal values for a fixed random image, runs each through kiln-run
(compiled and reference engines) and compares with MXNet's output of that
node. The whole model runs in Kiln only once every operator it uses is
implemented; kiln-run names the first one missing.

Usage (the MXNet venv needs gluoncv):
  /opt/mxvenv/bin/python scripts/gluoncv-detection-heads.py \\
      --kiln-run build/bin/kiln-run --model ssd_300_vgg16_atrous_voc --size 300
"""
import argparse
import json
import os
import subprocess

import mxnet as mx
import numpy as np
import gluoncv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kiln-run", required=True)
    ap.add_argument("--model", default="ssd_300_vgg16_atrous_voc")
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--work", default="/tmp/kiln-gluoncv-heads")
    opts = ap.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    prefix = os.path.join(opts.work, opts.model)

    net = gluoncv.model_zoo.get_model(opts.model, pretrained=False, pretrained_base=False)
    net.initialize(mx.init.Xavier(magnitude=2), force_reinit=True)
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, (1, 3, opts.size, opts.size)))
    net(x)
    net.export(prefix)
    np.save(prefix + "-input.npy", x.asnumpy())
    whole = subprocess.run([opts.kiln_run, prefix + "-symbol.json", "--params",
                            prefix + "-0000.params", "--input=data=%s-input.npy" % prefix,
                            "--output-dir", prefix + "-out"], capture_output=True, text=True)
    print("whole model:", "runs" if whole.returncode == 0 else whole.stderr.strip())

    sym, args, aux = mx.model.load_checkpoint(prefix, 0)
    nodes = json.loads(sym.tojson())["nodes"]
    internals = sym.get_internals()
    outs = internals.list_outputs()
    entry = lambda n, i=0: [o for o in outs if o.startswith(n["name"] + "_")][i]
    failed = 0
    for n in nodes:
        if n["op"] not in ("_contrib_box_nms", "_contrib_box_decode"):
            continue
        srcs = [nodes[s] for s, _, _ in n["inputs"]]
        ins = [s["name"] if s["op"] == "null" else entry(s, i)
               for s, (_, i, _) in zip(srcs, n["inputs"])]
        group = mx.sym.Group([internals[o] for o in ins] + [internals[entry(n)]])
        vals = group.bind(mx.cpu(), dict({"data": x}, **args), aux_states=aux,
                          grad_req="null").forward(is_train=False)
        names = ["in%d" % k for k in range(len(ins))]
        op = getattr(mx.sym.contrib, n["op"].replace("_contrib_", ""))
        tag = "%s-%s" % (prefix, n["name"])
        op(*[mx.sym.var(v) for v in names], name="head", **n.get("attrs", {})).save(
            tag + "-symbol.json")
        flags = []
        for v, a in zip(names, vals[:-1]):
            np.save("%s-%s.npy" % (tag, v), a.asnumpy())
            flags.append("--input=%s=%s-%s.npy" % (v, tag, v))
        ref = vals[-1].asnumpy()
        for engine in ("compiled", "reference"):
            out = "%s-%s" % (tag, engine)
            subprocess.run([opts.kiln_run, tag + "-symbol.json", "--engine=" + engine,
                            "--output-dir", out] + flags, check=True, capture_output=True)
            got = np.load(os.path.join(out, "out0.npy"))
            ok = np.allclose(got, ref, rtol=1e-4, atol=1e-4)
            failed += not ok
            print("%s %s %s %s: %s (max |diff| %.3g)" % (
                n["name"], n["op"], tuple(vals[0].shape), engine, "matches MXNet" if ok else
                "DIFFERS", np.abs(got - ref).max()))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
