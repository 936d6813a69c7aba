#!/usr/bin/env python3
"""Writes test/lit/Tools/rnn-dropout.test's data: an RNN with dropout between
layers in training mode, and a reference built from MXNet 1.9.1 (offline: run
with the MXNet venv, e.g. /opt/mxvenv/bin/python make.py).

MXNet draws RNN's dropout masks from its own std::mt19937 stream, which Kiln
does not reproduce: in training Kiln multiplies layer l's output by
graph.dropout_mask[l] (kiln-graph-training-mode), a documented pure function
of (seed, counter, index). With kiln-run --train the first random op has
seed 0 and the counter is 0, so the masks are known. The reference runs the
same network layer by layer with MXNet's own RNN operator (one layer each,
no dropout), multiplying each layer's output but the last by that mask,
computed here from the formula in graph.dropout_mask's description (an
implementation independent of Kiln's), and differentiates the whole with
MXNet's autograd in float64. Files: model-symbol.json (one RNN node, lstm,
2 layers, both directions, p = 0.5, state_outputs), model-0000.params
(arg:rnn_parameters, arg:rnn_state, arg:rnn_state_cell), data.npy,
head<i>.npy, ref_out<i>.npy, ref_grad_<name>.npy.
"""
import os

os.environ.setdefault("MXNET_SUBGRAPH_BACKEND", "NONE")

import numpy as np  # noqa: E402
import mxnet as mx  # noqa: E402
from mxnet import autograd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MASK64 = (1 << 64) - 1
T, N, I, H, L, D, P = 4, 3, 3, 3, 2, 2, 0.5


def splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def dropout_mask(shape, p, seed=0, counter=0):
    base = splitmix64(splitmix64(seed & MASK64) ^ counter)
    n = int(np.prod(shape))
    u = np.array([(splitmix64(base ^ i) >> 40) * 2.0 ** -24 for i in range(n)])
    keep = u >= np.float32(p)
    return np.where(keep, 1.0 / (1.0 - np.float32(p)), 0.0).reshape(shape)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def main():
    rng = np.random.RandomState(21)
    rnn = mx.sym.RNN(data=mx.sym.Variable("data"), state_size=H, num_layers=L,
                     bidirectional=True, mode="lstm", p=P, state_outputs=True, name="rnn")
    with open(os.path.join(HERE, "model-symbol.json"), "w") as f:
        f.write(rnn.tojson())
    arg_shapes, out_shapes, _ = rnn.infer_shape(data=(T, N, I))
    shapes = dict(zip(rnn.list_arguments(), arg_shapes))
    x = f32(rng.uniform(-1, 1, (T, N, I)))
    w = f32(rng.uniform(-0.5, 0.5, shapes["rnn_parameters"]))
    h0 = f32(rng.uniform(-0.5, 0.5, shapes["rnn_state"]))
    c0 = f32(rng.uniform(-0.5, 0.5, shapes["rnn_state_cell"]))
    heads = [f32(rng.uniform(-1, 1, s)) for s in out_shapes]
    np.save(os.path.join(HERE, "data.npy"), x)
    mx.nd.save(os.path.join(HERE, "model-0000.params"),
               {"arg:rnn_parameters": mx.nd.array(w), "arg:rnn_state": mx.nd.array(h0),
                "arg:rnn_state_cell": mx.nd.array(c0)})
    for i, h in enumerate(heads):
        np.save(os.path.join(HERE, "head%d.npy" % i), h)

    # Layer l's weights (both directions) and biases, as a one-layer RNN packs
    # them: MXNet's full vector is every weight, then every bias.
    G = 4
    wsize = [D * G * H * ((I if l == 0 else D * H) + H) for l in range(L)]
    bsize = D * 2 * G * H
    btotal = sum(wsize)
    mask = dropout_mask((L - 1, T, N, D * H), P)

    nd = lambda a: mx.nd.array(a, dtype="float64")  # noqa: E731
    xd, wd, hd, cd = nd(x), nd(w), nd(h0), nd(c0)
    for a in (xd, wd, hd, cd):
        a.attach_grad()
    with autograd.record():
        inp = xd
        hys, cys = [], []
        for l in range(L):
            woff = sum(wsize[:l])
            boff = btotal + l * bsize
            wl = mx.nd.concat(wd[woff:woff + wsize[l]], wd[boff:boff + bsize], dim=0)
            y, hy, cy = mx.nd.RNN(inp, wl, hd[l * D:(l + 1) * D], cd[l * D:(l + 1) * D],
                                  state_size=H, num_layers=1, bidirectional=True, mode="lstm",
                                  state_outputs=True)
            hys.append(hy)
            cys.append(cy)
            inp = y * nd(mask[l]) if l + 1 < L else y
        outs = [inp, mx.nd.concat(*hys, dim=0), mx.nd.concat(*cys, dim=0)]
    autograd.backward(outs, [nd(h) for h in heads])
    for i, o in enumerate(outs):
        np.save(os.path.join(HERE, "ref_out%d.npy" % i), o.asnumpy())
    for name, a in (("rnn_parameters", wd), ("rnn_state", hd), ("rnn_state_cell", cd)):
        np.save(os.path.join(HERE, "ref_grad_%s.npy" % name), a.grad.asnumpy())
    kept = (mask != 0).mean()
    print("mask keeps %.3f of %d elements" % (kept, mask.size))


if __name__ == "__main__":
    main()
