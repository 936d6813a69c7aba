#!/usr/bin/env python3
"""Writes Gluon recurrent models exported by MXNet 1.9.1, with MXNet's float64
outputs and gradients, for test/lit/Tools/gluon-rnn.test (offline: run with
the MXNet venv, e.g. /opt/mxvenv/bin/python make.py; ctest never runs it).

Each model is a hybridized HybridBlock around a gluon.rnn layer (which
exports as Reshape + _rnn_param_concat + RNN with state_outputs), called with
explicit begin states so that they are inputs of the exported symbol (data0
is the sequence, data1.. the states). Its weights are seeded uniform draws;
HybridBlock.export writes MODEL-symbol.json and MODEL-0000.params (float32).
The reference is the same network cast to float64, run on the same
(float32-representable) inputs under autograd.record (training mode: MXNet's
CPU RNN then takes its training kernels, dropout being 0): the outputs
(ref_out<i>.npy) and, for a head gradient per output (head<i>.npy), the
gradient of every parameter (ref_grad_<param>.npy, named as in the symbol).
Each model has its own directory: model-symbol.json, model-0000.params,
data<i>.npy (the inputs), head<i>.npy, ref_*.npy.
Inference-only models (projection: MXNet has no CPU gradient) have outputs
only.
"""
import os

os.environ.setdefault("MXNET_SUBGRAPH_BACKEND", "NONE")

import numpy as np  # noqa: E402
import mxnet as mx  # noqa: E402
from mxnet import autograd, gluon  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Tagged(gluon.HybridBlock):
    """rnn(x, states) -> (head(output) or output, *final states)."""

    def __init__(self, rnn, head=None, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.rnn = rnn
            self.head = head

    def hybrid_forward(self, F, x, *states):
        y, final = self.rnn(x, list(states))
        if self.head is not None:
            y = self.head(y)
        return (y, *final)


class DefaultState(gluon.HybridBlock):
    """rnn(x) with the layer's own begin states: Gluon exports them as
    `_zeros` of shape (layers*directions, 0, hidden), MXNet's unknown
    batch dimension that shape inference takes from the RNN op."""

    def __init__(self, rnn, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.rnn = rnn

    def hybrid_forward(self, F, x):
        return self.rnn(x)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def save(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def make(name, net, T, N, I, state_shapes, seed, backward=True):
    os.makedirs(os.path.join(HERE, name), exist_ok=True)
    out = os.path.join(HERE, name, "")
    rng = np.random.RandomState(seed)
    net.initialize(mx.init.Uniform(0.5))
    x = f32(rng.uniform(-1, 1, (T, N, I)))
    states = [f32(rng.uniform(-0.5, 0.5, s)) for s in state_shapes]
    net.hybridize()
    net(mx.nd.array(x), *[mx.nd.array(s) for s in states])
    # The weights, drawn as float32 values by the initializer above.
    params = net.collect_params()
    for p in params.values():
        p.set_data(mx.nd.array(f32(rng.uniform(-0.5, 0.5, p.shape))))
    net(mx.nd.array(x), *[mx.nd.array(s) for s in states])
    net.export(out + "model", epoch=0)
    save(out + "data0.npy", x)
    for i, s in enumerate(states):
        save(out + "data%d.npy" % (i + 1), s)

    # Inference references without autograd: MXNet's CPU RNN then runs its
    # inference kernels (the only ones with a projection).
    net.cast("float64")
    xd = mx.nd.array(x, dtype="float64")
    sd = [mx.nd.array(s, dtype="float64") for s in states]
    # MXNet 1.9.1's float64 (non-MKLDNN) CPU RNN backward computes the
    # gradient flowing into a layer from the one above only when the data's
    # gradient is requested (rnn_impl.h: `if (req_data != kNullOp) dx = ...`
    # also guards the inner layers' dx): without it, every layer but the
    # last gets wrong weight gradients. Requesting it gives the true ones
    # (float32, through MKLDNN, agrees either way).
    xd.attach_grad()
    if backward:
        with autograd.record():
            outs = net(xd, *sd)
    else:
        outs = net(xd, *sd)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    heads = [f32(rng.uniform(-1, 1, o.shape)) for o in outs]
    if backward:
        autograd.backward(list(outs), [mx.nd.array(h, dtype="float64") for h in heads])
    for i, o in enumerate(outs):
        np.save(out + "ref_out%d.npy" % i, o.asnumpy().astype(np.float64))
        if backward:
            save(out + "head%d.npy" % i, heads[i])
    if backward:
        for p in params.values():
            np.save(out + "ref_grad_%s.npy" % p.name, p.grad().asnumpy().astype(np.float64))
    print(name, [o.shape for o in outs], sorted(params.keys()))


def main():
    import sys
    only = sys.argv[1:]
    if only:  # regenerate some models only
        global make
        every = make
        make = lambda name, *a, **kw: every(name, *a, **kw) if name in only else None
    mx.random.seed(1)
    # LSTM, 2 layers, both directions, with a Dense(flatten=False) head.
    make("lstm", Tagged(gluon.rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3),
                        gluon.nn.Dense(2, flatten=False, in_units=8), prefix="lstmnet_"),
         T=5, N=2, I=3, state_shapes=[(4, 2, 4), (4, 2, 4)], seed=11)
    make("gru", Tagged(gluon.rnn.GRU(3, num_layers=1, input_size=3), prefix="grunet_"),
         T=4, N=3, I=3, state_shapes=[(1, 3, 3)], seed=12)
    make("rnn-tanh", Tagged(gluon.rnn.RNN(3, num_layers=2, activation="tanh",
                                          bidirectional=True, input_size=2),
                            prefix="tanhnet_"),
         T=3, N=2, I=2, state_shapes=[(4, 2, 3)], seed=13)
    # LSTM with a projection: inference only (MXNet's CPU operator has no
    # gradient for it).
    make("lstm-proj", Tagged(gluon.rnn.LSTM(4, num_layers=2, projection_size=2, input_size=3),
                             prefix="projnet_"),
         T=3, N=2, I=3, state_shapes=[(2, 2, 2), (2, 2, 4)], seed=14, backward=False)
    # An LSTM called without begin states: its export has _zeros of shape
    # (4, 0, 3) for them (0: the unknown batch).
    make("lstm-default-state", DefaultState(gluon.rnn.LSTM(3, num_layers=2, bidirectional=True,
                                                           input_size=2), prefix="defnet_"),
         T=4, N=3, I=2, state_shapes=[], seed=15)


if __name__ == "__main__":
    main()
