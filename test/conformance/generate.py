#!/usr/bin/env python3
"""Writes Kiln's operator conformance cases (test/conformance/cases/) with MXNet 1.9.1.

Every case is one MXNet Symbol holding one operator node (a variable for each
of its inputs), built with mx.sym.<op> and serialized by MXNet itself, plus
random float32-representable inputs, and MXNet's float64 results: the
outputs, the gradient of every differentiable input for a random head
gradient, and the updated auxiliary states of training mode. The C++ test
(ConformanceTest.cpp) replays each case on Kiln's interpreter, compiled engine
and eager NDArray API without MXNet. docs/conformance.md describes the format.

Run through scripts/conformance-generate.sh (it makes the venv). The output is
deterministic: every case draws from its own generator, seeded by a hash of
the operator and the case name, so re-running rewrites identical files and
adding a case leaves the others alone.

Each case is also run in float32 by MXNet: when float32 and float64 disagree
beyond the case's tolerance the inputs sit too near a discontinuity (or the
tolerance is too tight) and generation fails, so every case is one that a
correct float32 implementation passes.
"""

import argparse
import json
import os
import re
import sys
import zlib

os.environ.setdefault("MXNET_SUBGRAPH_BACKEND", "NONE")  # no graph rewrites
os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")  # errors where they happen

import numpy as np  # noqa: E402
import mxnet as mx  # noqa: E402

MXNET_VERSION = "1.9.1"
DEFAULT_RTOL, DEFAULT_ATOL = 1e-4, 1e-5

# ---------------------------------------------------------------------------
# Value generators. Each returns float64 values that float32 represents
# exactly; `discrete` ones (indices, labels) are never differentiated.


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


class Gen:
    discrete = False

    def __call__(self, rng, shape):
        return f32(self.draw(rng, tuple(shape)))


class U(Gen):
    """Uniform in [lo, hi)."""

    def __init__(self, lo=-1.0, hi=1.0):
        self.lo, self.hi = lo, hi

    def draw(self, rng, shape):
        return rng.uniform(self.lo, self.hi, size=shape)


class Away(Gen):
    """Uniform in [lo, hi), at least `margin` from every point of `points`."""

    def __init__(self, lo, hi, points, margin=0.05):
        self.lo, self.hi, self.points, self.margin = lo, hi, list(points), margin

    def draw(self, rng, shape):
        x = rng.uniform(self.lo, self.hi, size=shape)
        for _ in range(1000):
            bad = np.zeros(shape, dtype=bool)
            for p in self.points:
                bad |= np.abs(x - p) < self.margin
            if not bad.any():
                return x
            x[bad] = rng.uniform(self.lo, self.hi, size=int(bad.sum()))
        raise RuntimeError("Away: no values found")


def nonzero(lo=-1.0, hi=1.0, margin=0.1):
    return Away(lo, hi, [0.0], margin)


class Frac(Gen):
    """Integers in [lo, hi) plus a fraction in [0.1, 0.4] or [0.6, 0.9]: away
    from integers and halves (floor, ceil, round, casts to integers)."""

    def __init__(self, lo=-3, hi=3):
        self.lo, self.hi = lo, hi

    def draw(self, rng, shape):
        k = rng.randint(self.lo, self.hi, size=shape)
        f = rng.uniform(0.1, 0.4, size=shape) + 0.5 * rng.randint(0, 2, size=shape)
        return k + f


class Distinct(Gen):
    """Distinct values in [lo, hi), at least (hi - lo) / (2 n) apart: no ties
    for max, argmax, sort, max pooling."""

    def __init__(self, lo=-1.0, hi=1.0):
        self.lo, self.hi = lo, hi

    def draw(self, rng, shape):
        n = int(np.prod(shape)) if shape else 1
        step = (self.hi - self.lo) / max(n, 1)
        grid = self.lo + step * (np.arange(n) + 0.25 + 0.5 * rng.uniform(size=n))
        return rng.permutation(grid).reshape(shape)


class Choice(Gen):
    """Values drawn from a list (logical inputs with exact zeros, comparisons
    with exact ties: float32 and float64 agree on them)."""

    def __init__(self, values, discrete=False):
        self.values, self.discrete = list(values), discrete

    def draw(self, rng, shape):
        return rng.choice(self.values, size=shape)


class Ints(Gen):
    """Integers in [lo, hi), as float: indices and class labels."""

    discrete = True

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def draw(self, rng, shape):
        return rng.randint(self.lo, self.hi, size=shape).astype(np.float64)


class Fixed(Gen):
    """Given values (detection boxes, lengths)."""

    def __init__(self, values, discrete=False):
        self.values, self.discrete = np.asarray(values, dtype=np.float64), discrete

    def draw(self, rng, shape):
        assert self.values.shape == shape, (self.values.shape, shape)
        return self.values


class Fn(Gen):
    def __init__(self, fn, discrete=False):
        self.fn, self.discrete = fn, discrete

    def draw(self, rng, shape):
        return self.fn(rng, shape)


# ---------------------------------------------------------------------------
# Cases.


class Case:
    """One symbol, one operator node.

    op: mx.sym name (or "contrib.X", "_internal.X"). inputs: (name, shape[,
    gen]) passed as keyword arguments (variables named by their slot); pos:
    the same, passed positionally (variadic ops). Implicit inputs (weights,
    labels, aux states) are made by MXNet; `gens` maps a name or its suffix
    after the node name to a generator, `shapes` gives shapes inference
    cannot find. `ok(values)` rejects a draw (resampled)."""

    def __init__(self, op, inputs=(), attrs=None, pos=None, gens=None, shapes=None,
                 train=None, backward=True, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, note=None,
                 node=None, alias=None, nograd=(), head=None, ok=None, labels=(),
                 interp_rtol=None, interp_atol=None, select=None, dtypes=None, runner=None,
                 json_attrs=None):
        self.op, self.attrs = op, dict(attrs or {})
        self.inputs = [tuple(i) for i in inputs]
        self.pos = None if pos is None else [tuple(i) for i in pos]
        self.gens, self.shapes = dict(gens or {}), dict(shapes or {})
        self.backward = backward
        # MXNet differentiates only after a training forward.
        self.train = backward if train is None else train
        assert self.train or not self.backward
        self.rtol, self.atol, self.note = rtol, atol, note
        self.node, self.alias = node, alias
        self.nograd, self.labels = set(nograd), set(labels)
        self.head, self.ok = head or U(), ok
        self.interp_rtol, self.interp_atol = interp_rtol, interp_atol
        # Heads to keep, when an operator's other visible outputs are
        # unspecified (rrelu's mask at inference).
        self.select = select
        # Inputs MXNet requires in an integer type (softmax's length).
        self.dtypes = dict(dtypes or {})
        # Computes the case with MXNet when MXNet's CPU operator cannot run
        # the symbol itself (run_mxnet's signature and results).
        self.runner = runner or run_mxnet
        # Attributes written into the node's JSON as strings, for values
        # the Python wrapper would convert (_zeros_without_dtype's integer
        # dtype code).
        self.json_attrs = dict(json_attrs or {})


def resolve(op):
    """mx.sym.<op>; "contrib.X" and "_internal.X" name submodules, and
    underscored names not in mx.sym live in mx.sym._internal."""
    obj = mx.sym
    if "." not in op and not hasattr(obj, op):
        obj = mx.sym._internal
    for part in op.split("."):
        obj = getattr(obj, part)
    return obj


def node_name(case):
    if case.node:
        return case.node
    base = case.op.split(".")[-1].lstrip("_").lower()
    return base or "op"


def build(case):
    """The symbol, and the explicit variables' (name -> (shape, gen))."""
    fn = resolve(case.op)
    explicit = {}
    kwargs = {}
    for item in case.inputs:
        name, shape = item[0], item[1]
        explicit[name] = (shape, item[2] if len(item) > 2 else None)
        kwargs[name] = mx.sym.Variable(name)
    args = []
    for item in case.pos or []:
        name, shape = item[0], item[1]
        explicit[name] = (shape, item[2] if len(item) > 2 else None)
        args.append(mx.sym.Variable(name))
    sym = fn(*args, **kwargs, **case.attrs, name=node_name(case))
    if case.select is not None:
        sym = mx.sym.Group([sym[i] for i in case.select]) if len(case.select) > 1 else \
            sym[case.select[0]]
    return sym, explicit


def find_gen(case, name, explicit, node):
    if name in explicit and explicit[name][1] is not None:
        return explicit[name][1]
    if name in case.gens:
        return case.gens[name]
    suffix = name[len(node) + 1:] if name.startswith(node + "_") else None
    if suffix is not None and suffix in case.gens:
        return case.gens[suffix]
    if suffix == "moving_var":
        return U(0.5, 1.5)
    if suffix == "moving_mean":
        return U(-0.5, 0.5)
    if suffix == "label":
        raise ValueError("case needs a generator for %s" % name)
    return U()


def run_mxnet(sym, values, grad_names, train, backward, head_grads, dtype, dtypes):
    """Binds `sym` with every array in `dtype` (or its entry in `dtypes`),
    runs forward (and backward); returns (outputs, grads by name, aux by name)
    as float64 numpy arrays."""
    ctx = mx.cpu()
    args = {n: mx.nd.array(values[n], ctx=ctx, dtype=dtypes.get(n, dtype))
            for n in sym.list_arguments()}
    aux = {n: mx.nd.array(values[n], ctx=ctx, dtype=dtype)
           for n in sym.list_auxiliary_states()}
    grads = {n: mx.nd.zeros(args[n].shape, ctx=ctx, dtype=dtype) for n in grad_names}
    req = {n: ("write" if n in grads else "null") for n in args}
    exe = sym.bind(ctx, args, args_grad=grads, grad_req=req, aux_states=aux)
    outs = exe.forward(is_train=train)
    out_np = [o.asnumpy().astype(np.float64) for o in outs]
    grad_np = {}
    if backward:
        exe.backward([mx.nd.array(h, ctx=ctx, dtype=o.dtype) for h, o in zip(head_grads, outs)])
        grad_np = {n: grads[n].asnumpy().astype(np.float64) for n in grad_names}
    aux_np = {n: a.asnumpy().astype(np.float64) for n, a in exe.aux_dict.items()}
    mx.nd.waitall()
    return out_np, grad_np, aux_np


def run_float32_only(sym, values, grad_names, train, backward, head_grads, dtype, dtypes):
    """run_mxnet for operators that leave float64 data alone (amp_cast): the
    float64 request fails as MXNet's float32-only operators do, so that the
    case is computed, and marked, in float32."""
    if dtype == "float64":
        raise mx.base.MXNetError("amp_cast converts float32 data only: float64 type passes "
                                 "through")
    return run_mxnet(sym, values, grad_names, train, backward, head_grads, dtype, dtypes)


def close(a, b, rtol, atol):
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    with np.errstate(invalid="ignore"):
        ok = both_nan | same_inf | (np.abs(a - b) <= atol + rtol * np.abs(b))
    return bool(ok.all())


class Writer:
    """Collects the cases of one operator file."""

    def __init__(self, operator):
        self.operator = operator
        self.cases = []
        self.arrays = []
        self.offset = 0

    def add_array(self, a):
        a = np.ascontiguousarray(a, dtype="<f8")
        off = self.offset
        self.arrays.append(a.reshape(-1))
        self.offset += a.size
        return off


def make_case(case, label, seed):
    sym, explicit = build(case)
    node = node_name(case)
    if case.alias or case.json_attrs:
        # The same node under another registered spelling of the operator,
        # as other MXNet versions and tools write it; MXNet reads it back.
        j = json.loads(sym.tojson())
        ops = [n for n in j["nodes"] if n["op"] != "null"]
        assert len(ops) == 1
        if case.alias:
            ops[0]["op"] = case.alias
        if case.json_attrs:
            ops[0].setdefault("attrs", {}).update(case.json_attrs)
        sym = mx.sym.load_json(json.dumps(j))
    arg_names = sym.list_arguments()
    aux_names = sym.list_auxiliary_states()
    known = {n: s for n, (s, _) in explicit.items()}
    known.update(case.shapes)
    arg_shapes, out_shapes, aux_shapes = sym.infer_shape(**known)
    if arg_shapes is None:
        raise RuntimeError("%s: shapes not inferred" % label)
    shapes = dict(zip(arg_names, arg_shapes))
    shapes.update(zip(aux_names, aux_shapes))

    rng = np.random.RandomState(seed)
    gens = {n: find_gen(case, n, explicit, node) for n in arg_names + aux_names}
    for attempt in range(10000):
        values = {n: gens[n](rng, shapes[n]) for n in arg_names + aux_names}
        if case.ok is None or case.ok(values):
            break
    else:
        raise RuntimeError("%s: no acceptable inputs" % label)

    def kind(n):
        if n in aux_names:
            return "aux"
        if n in case.labels or n.endswith("_label") or n == "label":
            return "label"
        return "input" if n in explicit else "param"

    grad_names = []
    if case.backward:
        grad_names = [n for n in arg_names
                      if kind(n) in ("input", "param") and not gens[n].discrete
                      and n not in case.nograd]
    head_grads = [case.head(rng, s) for s in out_shapes]

    dtype = "float64"
    run_mxnet = case.runner
    try:
        outs, grads, aux = run_mxnet(sym, values, grad_names, case.train, case.backward,
                                     head_grads, "float64", case.dtypes)
    except mx.base.MXNetError as e:
        if "float64" not in str(e) and "double" not in str(e).lower() and \
                "type" not in str(e).lower():
            raise
        # Some operators (Proposal, ...) exist only for float32 in MXNet.
        dtype = "float32"
        outs, grads, aux = run_mxnet(sym, values, grad_names, case.train, case.backward,
                                     head_grads, "float32", case.dtypes)
    if dtype == "float64":
        o32, g32, a32 = run_mxnet(sym, values, grad_names, case.train, case.backward,
                                  head_grads, "float32", case.dtypes)
        what = [("output %d" % i, a, b) for i, (a, b) in enumerate(zip(o32, outs))]
        what += [("grad " + n, g32[n], grads[n]) for n in grads]
        what += [("aux " + n, a32[n], aux[n]) for n in aux] if case.train else []
        for name, a, b in what:
            if not close(a, b, case.rtol, case.atol):
                d = np.abs(a - b)
                raise RuntimeError(
                    "%s: MXNet float32 and float64 differ on %s beyond rtol %g atol %g "
                    "(max |diff| %g): inputs too near a discontinuity?\nf32 %s\nf64 %s" %
                    (label, name, case.rtol, case.atol, np.nanmax(d), a.ravel()[:8],
                     b.ravel()[:8]))
    for o in outs:
        if not case.note and not np.isfinite(o).all():
            raise RuntimeError("%s: non-finite output without a note" % label)
    return sym, arg_names, aux_names, shapes, values, kind, outs, head_grads, grads, aux, dtype


def emit(writer, case, label, seed):
    (sym, arg_names, aux_names, shapes, values, kind, outs, head_grads, grads, aux,
     dtype) = make_case(case, label, seed)
    w = writer
    entry = {"name": label, "symbol": json.loads(sym.tojson()), "train": bool(case.train),
             "backward": bool(case.backward)}
    entry["inputs"] = [{"name": n, "kind": kind(n), "shape": list(shapes[n]),
                        "offset": w.add_array(values[n])} for n in arg_names + aux_names]
    entry["outputs"] = [{"shape": list(o.shape), "offset": w.add_array(o)} for o in outs]
    if case.backward:
        entry["head_grads"] = [{"shape": list(h.shape), "offset": w.add_array(h)}
                               for h in head_grads]
        entry["grads"] = [{"name": n, "shape": list(grads[n].shape),
                           "offset": w.add_array(grads[n])} for n in grads]
    if case.train and aux_names:
        entry["aux"] = [{"name": n, "shape": list(aux[n].shape), "offset": w.add_array(aux[n])}
                        for n in aux_names]
    entry["rtol"], entry["atol"] = case.rtol, case.atol
    if dtype != "float64":
        entry["mxnet_dtype"] = dtype
    if case.interp_rtol is not None:
        entry["interp_rtol"] = case.interp_rtol
    if case.interp_atol is not None:
        entry["interp_atol"] = case.interp_atol
    if case.note:
        entry["note"] = case.note
    w.cases.append(entry)


def file_name(op):
    return re.sub(r"[^A-Za-z0-9_]", "_", op)


def canonical_op(case):
    sym, _ = build(case)
    ops = [n["op"] for n in json.loads(sym.tojson())["nodes"] if n["op"] != "null"]
    assert len(ops) == 1, ops
    return ops[0]


# ---------------------------------------------------------------------------
# The catalogue. Shapes are small (typically <= 100 elements); ranks 1..5,
# size-1 dimensions, odd sizes, negative axes where the operator allows them.

# Elementwise shapes: rank 1..5 with size-1 dimensions and odd sizes.
ELEMWISE_SHAPES = [(5,), (2, 3), (1, 4, 1), (2, 1, 3, 2), (1, 2, 1, 2, 3)]
# NumPy-broadcasting pairs, including different ranks.
BROADCAST_PAIRS = [((2, 3), (2, 3)), ((2, 3), (1, 3)), ((2, 1), (1, 3)), ((3,), (2, 3)),
                   ((2, 1, 3), (1, 4, 1)), ((1, 2, 1, 3, 1), (2, 1, 2, 1, 2))]
# Exact ties on purpose: comparisons of equal float32 values are exact in
# float64 too.
TIE_GRID = [-1.0, -0.5, 0.0, 0.5, 1.0]
LOGIC_GRID = [0.0, 0.0, 1.0, -2.0, 0.5]


def unary(op, gen=None, shapes=ELEMWISE_SHAPES, backward=True, attrs=None, **kw):
    gen = gen or U()
    return [Case(op, [("data", s, gen)], attrs, backward=backward, **kw) for s in shapes]


def unary_ops():
    c = []
    c += unary("sigmoid", U(-3, 3))
    c += unary("tanh", U(-2, 2))
    c += unary("relu", nonzero())
    c += unary("exp", U(-2, 2))
    c += unary("log", U(0.1, 3))
    c += [Case("log", [("data", (4,), Fixed([0.0, -1.0, 1.0, 2.0]))], backward=False,
               note="log of 0 and of a negative number: -inf and nan")]
    c += unary("log1p", U(-0.5, 3))
    c += unary("expm1", U(-2, 2))
    c += unary("sqrt", U(0.1, 3))
    c += [Case("sqrt", [("data", (3,), Fixed([0.0, -1.0, 4.0]))], backward=False,
               note="sqrt of a negative number is nan")]
    c += unary("rsqrt", U(0.1, 3))
    c += unary("square", U(-2, 2))
    c += unary("abs", nonzero())
    c += unary("sign", nonzero())
    c += [Case("sign", [("data", (3,), Fixed([0.0, -2.0, 3.0]))], backward=False)]
    c += unary("negative")
    c += unary("reciprocal", nonzero(-2, 2, 0.2))
    c += unary("floor", Frac())
    c += unary("ceil", Frac())
    c += unary("round", Frac())
    c += unary("erf", U(-2, 2))
    c += unary("erfinv", U(-0.9, 0.9))
    c += [Case("erfinv", [("data", (2, 4), U(-0.999, -0.95))]),
          Case("erfinv", [("data", (3,), U(0.95, 0.999))]),
          Case("erfinv", [("data", (6,), Fixed([0.0, 5e-8, -1.0, 1.0, 1.5, -2.0]))],
               backward=False, note="erfinv of +-1 is +-inf, outside [-1, 1] nan"),
          Case("erfinv", [("data", (2,), U(-0.9, 0.9))], alias="_npx_erfinv")]
    poles = [-4.0, -3.0, -2.0, -1.0, 0.0]
    # MXNet's double digamma (the gradients) takes logf of its shifted
    # argument: float32 rounding, ~3e-7, in the float64 reference.
    psi = dict(interp_atol=1e-6, interp_rtol=1e-6)
    c += unary("gamma", U(0.2, 4), **psi)
    c += [Case("gamma", [("data", (2, 3), Away(-3.8, -0.1, poles, 0.1))], **psi),
          Case("gamma", [("data", (4,), U(5, 20))], rtol=1e-3, **psi),
          Case("gamma", [("data", (5,), Fixed([0.0, -1.0, -2.5, 30.0, 0.5]))], backward=False,
               note="gamma of 0 is inf, of a negative integer nan"),
          Case("gamma", [("data", (3,), U(0.5, 3))], alias="_npx_gamma", **psi)]
    c += unary("gammaln", U(0.1, 5), **psi)
    c += [Case("gammaln", [("data", (2, 3), Away(-3.8, -0.1, poles, 0.1))], **psi),
          Case("gammaln", [("data", (2, 2), U(5, 100))], **psi),
          Case("gammaln", [("data", (4,), Fixed([0.0, -2.0, 1.0, 2.0]))], backward=False,
               note="gammaln of 0 and of a negative integer is inf"),
          Case("gammaln", [("data", (3,), U(0.5, 3))], alias="_npx_gammaln", **psi)]
    c += unary("contrib.round_ste", Frac(), shapes=ELEMWISE_SHAPES[:4])
    c += [Case("contrib.round_ste", [("data", (4,), Fixed([-1.5, 1.5, 2.5, -0.5]))],
               note="halves round away from zero")]
    c += unary("contrib.sign_ste", nonzero(), shapes=ELEMWISE_SHAPES[:4])
    c += [Case("contrib.sign_ste", [("data", (3,), Fixed([0.0, -2.0, 3.0]))])]
    gm = lambda s, attrs=None: Case("contrib.gradientmultiplier", [("data", s)], attrs)
    c += [gm((2, 3)), gm((5,), {"scalar": -1.0}), gm((1, 4, 1), {"scalar": 2.5}),
          gm((2, 1, 3, 2), {"scalar": 0.1}), gm((3,), {"scalar": -0.7, "is_int": False})]
    qd = lambda s, attrs=None: Case("contrib.quadratic", [("data", s, U(-2, 2))], attrs)
    c += [qd((2, 3)), qd((5,), {"a": 1.5, "b": -2, "c": 0.5}), qd((1, 4, 1), {"a": -0.3}),
          qd((2, 1, 3, 2), {"b": 0.7, "c": -1.1}), qd((1, 2, 1, 2, 3), {"a": 2, "b": 1, "c": 3})]
    c += unary("sin", U(-3, 3))
    c += unary("cos", U(-3, 3))
    c += unary("tan", U(-1.2, 1.2))
    c += unary("arcsin", U(-0.9, 0.9))
    c += unary("arccos", U(-0.9, 0.9))
    c += unary("arctan", U(-3, 3))
    c += unary("sinh", U(-2, 2))
    c += unary("cosh", U(-2, 2))
    c += unary("arcsinh", U(-3, 3))
    c += unary("arccosh", U(1.1, 4))
    c += unary("arctanh", U(-0.9, 0.9))
    c += unary("log2", U(0.1, 3))
    c += unary("log10", U(0.1, 3))
    c += unary("cbrt", nonzero())
    c += unary("rcbrt", nonzero(-2, 2, 0.2))
    c += unary("degrees", U(-3, 3))
    c += unary("radians", U(-200, 200))
    c += unary("rint", Frac())
    c += unary("fix", Frac())
    c += unary("trunc", Frac())
    c += unary("logical_not", Choice(LOGIC_GRID), shapes=ELEMWISE_SHAPES[:3])
    c += unary("softsign", U(-3, 3))
    c += unary("hard_sigmoid", Away(-4, 4, [-2.5, 2.5]))
    c += [Case("hard_sigmoid", [("data", (2, 3), Away(-2, 2, [-4 / 3.0, 2]))],
               {"alpha": 0.3, "beta": 0.4})]
    clip = lambda lo, hi, s: Case("clip", [("data", s, Away(-1.5, 1.5, [lo, hi]))],
                                  {"a_min": lo, "a_max": hi})
    c += [clip(-0.5, 0.5, (2, 3)), clip(0.0, 1.0, (5,)), clip(-1.0, 0.25, (1, 3, 2)),
          clip(-2.0, -1.0, (2, 1, 2, 3)), clip(0.5, 0.7, (1, 2, 1, 2, 3))]
    c += unary("_copy", shapes=ELEMWISE_SHAPES[:3])
    c += [Case("_copy", [("data", (2, 3))], alias="identity")]
    c += unary("BlockGrad", shapes=ELEMWISE_SHAPES[:3])
    c += [Case("BlockGrad", [("data", (2, 3))], alias="stop_gradient")]
    c += unary("zeros_like", shapes=ELEMWISE_SHAPES[:2], backward=False)
    c += unary("zeros_like", shapes=[(1, 3, 1)])
    c += unary("ones_like", shapes=ELEMWISE_SHAPES[:2], backward=False)
    c += unary("ones_like", shapes=[(1, 3, 1)])
    c += [Case("make_loss", [("data", sh)]) for sh in [(2, 3), (5,), (2, 1, 3)]]
    c += [Case("make_loss", [("data", (2, 2))], alias="_sparse_make_loss")]
    c += [Case("MakeLoss", [("data", (2, 3))]),
          Case("MakeLoss", [("data", (3, 2))], {"grad_scale": 0.5}),
          Case("MakeLoss", [("data", (4, 2))], {"normalization": "batch"}),
          Case("MakeLoss", [("data", (2, 5), Away(-1, 1, [0.1]))],
               {"normalization": "valid", "valid_thresh": 0.1})]
    c += [Case("MakeLoss", [("data", (2, 3, 4))], {"normalization": "batch"},
               note="batch divides by the rows of MXNet's 2-D view (6), not by N"),
          Case("MakeLoss", [("data", (5,))], {"normalization": "batch", "grad_scale": 2.0}),
          Case("MakeLoss", [("data", (3, 4), Away(-1, 1, [0.0]))],
               {"normalization": "valid", "grad_scale": 3.0}),
          Case("MakeLoss", [("data", (2, 2), U(-1, -0.5))], {"normalization": "valid"},
               note="no element above valid_thresh: the count is clamped to 1")]
    return c


def activations():
    c = []
    for act in ["relu", "sigmoid", "tanh", "softrelu", "softsign"]:
        gen = nonzero() if act == "relu" else U(-3, 3)
        c += [Case("Activation", [("data", s, gen)], {"act_type": act})
              for s in [(2, 3), (1, 2, 1, 3)]]
    lr = lambda act, s, attrs=None, **kw: Case(
        "LeakyReLU", [("data", s, nonzero(-2, 2))], dict(attrs or {}, act_type=act), node="lr",
        **kw)
    c += [lr("leaky", (2, 3)), lr("leaky", (1, 3, 2, 2), {"slope": 0.1}),
          Case("LeakyReLU", [("data", (2, 3), nonzero(-2, 2))], node="lr"),
          lr("elu", (2, 3)), lr("elu", (1, 2, 3), {"slope": 1.0}),
          lr("selu", (2, 3)), lr("selu", (1, 2, 3, 1)),
          lr("gelu", (2, 3)), lr("gelu", (1, 2, 3, 1)),
          Case("LeakyReLU", [("data", (2, 3, 2), nonzero(-2, 2))], {"act_type": "prelu"},
               node="lr", gens={"gamma": U(0.05, 0.5)}),
          Case("LeakyReLU", [("data", (2, 4), nonzero(-2, 2))], {"act_type": "prelu"},
               node="lr", gens={"gamma": U(0.05, 0.5)}),
          # One slope shared by every channel (Gluon PReLU's default alpha).
          Case("LeakyReLU", [("data", (2, 3, 2, 2), nonzero(-2, 2)), ("gamma", (1,), U(0.05, 0.5))],
               {"act_type": "prelu"}, node="lr"),
          # At inference rrelu's slope is (lower_bound + upper_bound) / 2; its
          # second visible output (the mask) is left unwritten by MXNet.
          lr("rrelu", (2, 3), backward=False, select=[0]),
          lr("rrelu", (2, 3), {"lower_bound": 0.2, "upper_bound": 0.5}, backward=False,
             select=[0])]
    return c


def binary_same(op, gen_l=None, gen_r=None, shapes=ELEMWISE_SHAPES[:4], backward=True,
                ok=None, **kw):
    gen_l, gen_r = gen_l or U(), gen_r or U()
    return [Case(op, [("lhs", s, gen_l), ("rhs", s, gen_r)], backward=backward, ok=ok, **kw)
            for s in shapes]


def frac_ok(a, b, margin=0.05):
    q = np.asarray(a) / np.asarray(b)
    f = q - np.floor(q)
    return bool(((f > margin) & (f < 1 - margin)).all())


def apart_ok(a, b, margin=0.05):
    return bool((np.abs(np.asarray(a) - np.asarray(b)) > margin).all())


def hypot_ok(a, b):
    return bool((np.hypot(a, b) > 0.1).all())


def binary_family(base):
    """(gen_l, gen_r, ok, differentiable) for an arithmetic or logical base."""
    pair = lambda f: (lambda v: f(v["lhs"], v["rhs"]))
    return {
        "add": (U(), U(), None, True),
        "sub": (U(), U(), None, True),
        "mul": (U(), U(), None, True),
        "div": (U(), nonzero(-2, 2, 0.2), None, True),
        "mod": (U(-3, 3), nonzero(-1.5, 1.5, 0.4), pair(frac_ok), True),
        "power": (U(0.2, 2), U(-2, 2), None, True),
        "hypot": (U(-2, 2), U(-2, 2), pair(hypot_ok), True),
        "maximum": (U(), U(), pair(apart_ok), True),
        "minimum": (U(), U(), pair(apart_ok), True),
        "equal": (Choice(TIE_GRID), Choice(TIE_GRID), None, False),
        "not_equal": (Choice(TIE_GRID), Choice(TIE_GRID), None, False),
        "greater": (Choice(TIE_GRID), Choice(TIE_GRID), None, False),
        "greater_equal": (Choice(TIE_GRID), Choice(TIE_GRID), None, False),
        "lesser": (Choice(TIE_GRID), Choice(TIE_GRID), None, False),
        "lesser_equal": (Choice(TIE_GRID), Choice(TIE_GRID), None, False),
        "logical_and": (Choice(LOGIC_GRID), Choice(LOGIC_GRID), None, False),
        "logical_or": (Choice(LOGIC_GRID), Choice(LOGIC_GRID), None, False),
        "logical_xor": (Choice(LOGIC_GRID), Choice(LOGIC_GRID), None, False),
    }[base]


def broadcast_ok(ok):
    if ok is None:
        return None
    return lambda v: ok({"lhs": np.broadcast_arrays(v["lhs"], v["rhs"])[0],
                         "rhs": np.broadcast_arrays(v["lhs"], v["rhs"])[1]})


def binary_ops():
    c = []
    for base in ["add", "sub", "mul", "div"]:
        gl, gr, ok, diff = binary_family(base)
        c += binary_same("elemwise_" + base, gl, gr, ok=ok)
    # The legacy spellings of elemwise_* (MXNet registers them as aliases).
    for alias, op in [("_plus", "elemwise_add"), ("_Plus", "elemwise_add"),
                      ("_add", "elemwise_add"), ("_minus", "elemwise_sub"),
                      ("_sub", "elemwise_sub"), ("_mul", "elemwise_mul"),
                      ("_div", "elemwise_div")]:
        gl, gr, ok, diff = binary_family(op.split("_")[1])
        c += [Case(op, [("lhs", (2, 3), gl), ("rhs", (2, 3), gr)], alias=alias)]
    for base in ["mod", "power", "hypot", "maximum", "minimum", "equal", "not_equal", "greater",
                 "greater_equal", "lesser", "lesser_equal", "logical_and", "logical_or",
                 "logical_xor"]:
        gl, gr, ok, diff = binary_family(base)
        op = "_internal._" + base
        cases = binary_same(op, gl, gr, ok=ok, backward=diff)
        if not diff:  # the zero gradient once
            cases += binary_same(op, gl, gr, shapes=[(1, 3)], backward=True)
        c += cases
    for base in ["add", "sub", "mul", "div", "maximum", "minimum", "power", "mod", "hypot",
                 "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal",
                 "logical_and", "logical_or", "logical_xor"]:
        gl, gr, ok, diff = binary_family(base)
        op = "broadcast_" + base
        for i, (sl, sr) in enumerate(BROADCAST_PAIRS):
            c += [Case(op, [("lhs", sl, gl), ("rhs", sr, gr)], ok=broadcast_ok(ok),
                       backward=diff or i == 1)]
    c += [Case("broadcast_add", [("lhs", (2, 3)), ("rhs", (1, 3))], alias="broadcast_plus"),
          Case("broadcast_sub", [("lhs", (2, 3)), ("rhs", (1, 3))], alias="broadcast_minus")]
    return c


def scalar_ops():
    c = []

    def sc(op, scalars, gen=None, backward=True, ok=None, shapes=((2, 3), (5,), (1, 2, 3))):
        out = []
        for i, s in enumerate(scalars):
            shape = shapes[i % len(shapes)]
            check = None if ok is None else (lambda v, s=s: ok(v["data"], s))
            out.append(Case("_internal." + op, [("data", shape, gen or U(-2, 2))],
                            {"scalar": s}, backward=backward, ok=check))
        return out

    c += sc("_plus_scalar", [2.5, -1.5, 0.3])
    c += sc("_minus_scalar", [2.5, -0.7])
    c += sc("_rminus_scalar", [2.5, -0.7])
    c += sc("_mul_scalar", [2.5, -0.3, 0.0])
    c += sc("_div_scalar", [2.5, -0.3])
    c += sc("_rdiv_scalar", [2.5, -0.3], nonzero(-2, 2, 0.2))
    c += sc("_power_scalar", [2.0, 3.0, 0.5, -1.5], U(0.2, 2))
    c += sc("_power_scalar", [2.0, 3.0], U(-2, 2), shapes=((2, 2),))
    c += sc("_rpower_scalar", [2.0, 0.5, 3.7])
    c += sc("_maximum_scalar", [0.25, -0.5], U(-2, 2), ok=apart_ok)
    c += sc("_minimum_scalar", [0.25, -0.5], U(-2, 2), ok=apart_ok)
    c += sc("_mod_scalar", [0.7, -1.3, 2.0], U(-3, 3), ok=frac_ok)
    c += sc("_rmod_scalar", [2.5, -1.3], nonzero(-2, 2, 0.3),
            ok=lambda x, s: frac_ok(s, x))
    c += sc("_hypot_scalar", [1.5, -0.5])
    # smooth_l1 (sigma = scalar): quadratic inside ±1/sigma², linear beyond.
    c += [Case("smooth_l1", [("data", shape, U(-3, 3))], attrs)
          for shape, attrs in [((2, 3), None), ((5,), {"scalar": 2.0}),
                               ((1, 2, 3), {"scalar": 0.5}), ((3, 4), {"scalar": 1.3})]]
    c += [Case("contrib.div_sqrt_dim", [("data", shape)]) for shape in [(2, 3), (7,), (2, 2, 5)]]
    c += [Case("smooth_l1", [("data", (2, 3), U(-3, 3))], {"scalar": 1.0},
               alias="_npx_smooth_l1")]
    for op in ["_equal_scalar", "_not_equal_scalar", "_greater_scalar", "_greater_equal_scalar",
               "_lesser_scalar", "_lesser_equal_scalar"]:
        c += sc(op, [0.5, -1.0, 0.0], Choice(TIE_GRID), backward=False)
        c += sc(op, [0.5], Choice(TIE_GRID), shapes=((1, 3),))
    for op in ["_logical_and_scalar", "_logical_or_scalar", "_logical_xor_scalar"]:
        c += sc(op, [0.0, 1.0, -2.5], Choice(LOGIC_GRID), backward=False)
        c += sc(op, [1.0], Choice(LOGIC_GRID), shapes=((1, 3),))
    c += [Case("_internal._plus_scalar", [("data", (2, 3))], {"scalar": 1.5},
               alias="_PlusScalar"),
          Case("_internal._minus_scalar", [("data", (2, 3))], {"scalar": 1.5},
               alias="_MinusScalar"),
          Case("_internal._mul_scalar", [("data", (2, 3))], {"scalar": 1.5},
               alias="_MulScalar"),
          Case("_internal._div_scalar", [("data", (2, 3))], {"scalar": 1.5},
               alias="_DivScalar"),
          Case("_internal._rminus_scalar", [("data", (2, 3))], {"scalar": 1.5},
               alias="_RMinusScalar"),
          Case("_internal._rdiv_scalar", [("data", (2, 3), nonzero(-2, 2, 0.2))],
               {"scalar": 1.5}, alias="_RDivScalar")]
    return c


def misc_elemwise():
    c = []
    cond = Choice([0.0, 1.0, -1.0, 0.5])
    c += [Case("where", [("condition", s, cond), ("x", s), ("y", s)], nograd={"condition"})
          for s in [(5,), (2, 3), (1, 2, 3, 2)]]
    c += [Case("where", [("condition", (3,), cond), ("x", (3, 2)), ("y", (3, 2))],
               nograd={"condition"}, note="a 1-D condition selects rows")]
    cast = lambda dtype, gen, s=(2, 3), backward=False, alias=None: Case(
        "Cast", [("data", s, gen)], {"dtype": dtype}, backward=backward, alias=alias)
    c += [cast("float32", U(-3, 3), backward=True),
          cast("float64", U(-3, 3), (5,), backward=True),
          cast("float16", U(-3, 3), (2, 4), backward=True),
          cast("int32", Frac(-5, 5)), cast("int64", Frac(-5, 5), (1, 4)),
          cast("int8", Frac(-100, 100), (2, 2)), cast("uint8", Frac(0, 250), (7,)),
          cast("float32", U(-3, 3), alias="cast")]
    # amp_cast converts only float32/float16/bfloat16 data (float64 passes
    # through unchanged), so MXNet computes these cases in float32, the type
    # Kiln's data has. MXNet 1.9.1's CPU amp_cast fails for float64 and int64
    # results ("unknown type for MKLDNN"); to integers it rounds to nearest
    # and saturates, unlike Cast.
    ac = lambda dtype, gen, s=(2, 3), backward=True: Case(
        "amp_cast", [("data", s, gen)], {"dtype": dtype}, backward=backward,
        runner=run_float32_only)
    c += [ac("float16", U(-3, 3)), ac("float16", U(-100, 100), (5,)),
          ac("float32", U(-3, 3), (1, 4, 1)),
          ac("int32", Frac(-5, 5), (2, 1, 3)), ac("int8", Frac(-100, 100), (2, 2)),
          ac("uint8", Frac(0, 250), (7,))]
    # MKL-DNN's rounding (ties to even) and saturation. Beyond int32's range
    # MXNet's result depends on the array's length (vector lanes saturate to
    # 2147483520, others give -2^31): not a case.
    big = lambda t: 1e10 if t != "int32" else 1e9
    c += [Case("amp_cast", [("data", (8,), Fixed([2.5, 3.5, -2.5, -0.6, 300.2, -300.7, big(t),
                                                 -big(t)]))], {"dtype": t}, backward=False,
               runner=run_float32_only) for t in ["int8", "uint8", "int32"]]
    # amp_multicast: float64 data is left alone, as Kiln's float32 is.
    amc = lambda shapes, attrs=None: Case(
        "amp_multicast", pos=[("data_%d" % i, s) for i, s in enumerate(shapes)],
        attrs=dict({"num_outputs": len(shapes)}, **(attrs or {})), node="amc")
    c += [amc([(2, 3)]), amc([(2, 3), (4,)]), amc([(5,), (1, 2), (2, 1, 3)], {"cast_narrow": True})]
    return c


def shape_ops():
    c = []
    c += [Case("Flatten", [("data", s)]) for s in [(2, 3, 4), (5,), (2, 1, 3, 1, 2), (3, 2)]]
    c += [Case("Flatten", [("data", (2, 3, 2))], alias="flatten")]
    rs = lambda s, shape, reverse=None, alias=None: Case(
        "Reshape", [("data", s)],
        dict({"shape": shape}, **({} if reverse is None else {"reverse": reverse})), alias=alias)
    c += [rs((2, 3, 4), (4, -1)), rs((2, 3, 4), (0, -1)), rs((2, 3, 4), (-2,)),
          rs((2, 3, 4), (-3, -1)), rs((2, 3, 4), (-4, 1, 2, -2)), rs((2, 3, 4), (0, -4, -1, 3, 0)),
          rs((2, 3, 4), (-1, 0), True), rs((6,), (2, 1, 3)), rs((1, 2, 1, 3, 1), (3, 2)),
          rs((2, 3), (3, 2), alias="reshape")]
    tr = lambda s, axes=None: Case("transpose", [("data", s)],
                                  {} if axes is None else {"axes": axes})
    c += [tr((2, 3)), tr((2, 3, 4)), tr((2, 3, 4), (1, 0, 2)), tr((1, 2, 3, 2), (0, 2, 3, 1)),
          tr((2, 1, 3, 2, 2), (4, 2, 0, 3, 1)), tr((5,))]
    c += [Case("expand_dims", [("data", s)], {"axis": a})
          for s, a in [((2, 3), 0), ((2, 3), 2), ((2, 3), -1), ((5,), -2), ((2, 1, 3, 2), 4)]]
    sq = lambda s, axis=None: Case("squeeze", [("data", s)],
                                   {} if axis is None else {"axis": axis})
    c += [sq((1, 3, 1, 2)), sq((1, 3, 1, 2), 0), sq((2, 1, 3, 1), (1, 3)), sq((2, 3, 1), -1),
          sq((1, 1, 5))]
    # Squeezing an all-ones shape leaves (1,), not a scalar.
    c += [sq((1, 1))]
    sw = lambda s, d1, d2, alias=None: Case("SwapAxis", [("data", s)], {"dim1": d1, "dim2": d2},
                                           alias=alias)
    c += [sw((2, 3), 0, 1), sw((2, 3, 4), 0, 2), sw((2, 3, 4), 1, 1), sw((1, 2, 3, 2, 2), 1, 4),
          Case("SwapAxis", [("data", (2, 3, 2))]), sw((2, 3, 4), 2, 1, alias="swapaxes")]
    rv = lambda s, axis, alias=None: Case("reverse", [("data", s)], {"axis": axis}, alias=alias)
    # MXNet 1.9.1's reverse rejects negative axes.
    c += [rv((5,), 0), rv((2, 3), 1), rv((2, 3, 4), (0, 2)), rv((2, 3, 4), 2),
          rv((1, 2, 3, 2), (1, 2, 3)), rv((2, 3), 0, alias="flip")]
    # An axis listed twice is reversed twice: the identity.
    c += [rv((2, 3), (1, 1))]
    c += [Case("tile", [("data", s)], {"reps": r})
          for s, r in [((2, 3), (2, 1)), ((3,), (2,)), ((2, 3), (2, 1, 2)), ((2, 1, 3), (1, 2)),
                       ((1, 2, 1, 2), (2, 1, 3, 1))]]
    rp = lambda s, n, axis=None: Case("repeat", [("data", s)],
                                      dict({"repeats": n}, **({} if axis is None else
                                                              {"axis": axis})))
    c += [rp((2, 3), 2), rp((2, 3), 2, 0), rp((2, 3), 3, -1), rp((5,), 2, 0), rp((1, 2, 2), 2, 1)]
    bt = lambda s, shape: Case("broadcast_to", [("data", s)], {"shape": shape})
    c += [bt((1, 3), (2, 3)), bt((2, 1), (2, 4)), bt((1, 3, 1), (2, 0, 2)), bt((3,), (3,)),
          bt((1, 2, 1, 1), (2, 2, 3, 2)), bt((1, 1, 1, 2, 1), (2, 1, 3, 2, 2))]
    bl = lambda sl, sr, attrs=None: Case("broadcast_like", [("lhs", sl), ("rhs", sr)], attrs,
                                         nograd={"rhs"})
    c += [bl((1, 3), (2, 3)), bl((2, 1, 1), (2, 3, 4)), bl((1, 3), (3, 2, 4),
                                                           {"lhs_axes": (0,), "rhs_axes": (2,)}),
          bl((2, 1, 1), (4, 5, 3), {"lhs_axes": (1, 2), "rhs_axes": (0, 1)})]
    # lhs_axes without rhs_axes: MXNet ignores it and broadcasts to rhs's shape.
    c += [bl((1, 3), (2, 3), {"lhs_axes": (0,)})]
    ba = lambda s, axis, size, op="broadcast_axis": Case(op, [("data", s)],
                                                         {"axis": axis, "size": size})
    c += [ba((1, 3), (0,), (4,)), ba((2, 1, 1), (1, 2), (3, 5)), ba((1, 1, 2, 1), (3, 0), (2, 3)),
          ba((2, 3), (), ()), ba((1,), (0,), (7,)), ba((2, 1, 3), (1,), (4,), "broadcast_axes")]
    rl = lambda sl, sr, attrs=None: Case("reshape_like", [("lhs", sl), ("rhs", sr)], attrs,
                                         nograd={"rhs"})
    c += [rl((6,), (2, 3)), rl((2, 3, 4), (6, 4)), rl((2, 3, 4), (3, 2, 2, 2)),
          rl((2, 6), (5, 3, 2), {"lhs_begin": 1, "rhs_begin": 1}),
          rl((30, 4), (2, 5, 6), {"lhs_begin": 0, "lhs_end": 1, "rhs_begin": 1})]
    c += [rl((2, 3, 4), (6, 4, 3, 5), {"lhs_begin": -2, "rhs_begin": 1, "rhs_end": -1})]
    sl = lambda s, begin, end, step=None: Case(
        "slice", [("data", s)],
        dict({"begin": begin, "end": end}, **({} if step is None else {"step": step})))
    c += [sl((5,), (1,), (4,)), sl((3, 4), (0, 1), (2, 3)), sl((3, 4), (None, 1), (None, None)),
          sl((3, 4, 5), (-2, 0, 1), (None, -1, 5)), sl((4, 5), (0, None), (4, None), (2, 2)),
          sl((4, 5), (3, 4), (None, 0), (-1, -2)), sl((2, 3, 2, 2, 3), (1, 0), (2, 2))]
    # Out-of-range begin/end are clipped (a step given: MXNet's MKLDNN slice
    # fails on these bounds with step 1); begin past the end with a negative
    # step starts at the last element; the legacy spelling "crop".
    c += [sl((3, 4), (-10, 1), (100, None), (1, 2)),
          sl((3, 4), (None, 10), (None, -10), (-2, -1)),
          Case("slice", [("data", (3, 4))], {"begin": (1, 0), "end": (3, 2)}, alias="crop")]
    sk = lambda s, s2, axes=None: Case("slice_like", [("data", s), ("shape_like", s2)],
                                       {} if axes is None else {"axes": axes},
                                       nograd={"shape_like"})
    c += [sk((3, 4), (2, 3)), sk((3, 4, 5), (2, 1, 5)), sk((3, 4), (2, 2), (0,)),
          sk((3, 4, 5), (1, 2, 3), (-1, 1))]
    sa = lambda s, axis, b, e: Case("slice_axis", [("data", s)], {"axis": axis, "begin": b,
                                                                  "end": e})
    c += [sa((4, 3), 0, 1, 3), sa((2, 5), 1, 0, 5), sa((2, 5), -1, -3, -1),
          sa((2, 3, 4), 2, 1, None), sa((3, 4), -2, -2, None), sa((6,), 0, 2, 5),
          sa((1, 2, 3, 2, 2), 3, 0, 1)]
    c += [Case("Concat", pos=[("arg0", (2, 3)), ("arg1", (2, 2))], attrs={"num_args": 2}),
          Case("Concat", pos=[("arg0", (2, 3)), ("arg1", (1, 3)), ("arg2", (3, 3))],
               attrs={"num_args": 3, "dim": 0}),
          Case("Concat", pos=[("arg0", (5,)), ("arg1", (2,))], attrs={"num_args": 2, "dim": 0}),
          Case("Concat", pos=[("arg0", (2, 3, 2)), ("arg1", (2, 3, 1))],
               attrs={"num_args": 2, "dim": -1}),
          Case("Concat", pos=[("arg0", (1, 2, 2, 1, 2)), ("arg1", (1, 2, 2, 2, 2))],
               attrs={"num_args": 2, "dim": 3}),
          Case("Concat", pos=[("arg0", (2, 3))], attrs={"num_args": 1}),
          Case("Concat", pos=[("arg0", (2, 1)), ("arg1", (2, 2))], attrs={"num_args": 2},
               alias="concat")]
    c += [Case("stack", pos=[("arg0", (2, 3)), ("arg1", (2, 3))], attrs={"num_args": 2}),
          Case("stack", pos=[("arg0", (2, 3)), ("arg1", (2, 3)), ("arg2", (2, 3))],
               attrs={"num_args": 3, "axis": 1}),
          Case("stack", pos=[("arg0", (3,)), ("arg1", (3,))], attrs={"num_args": 2, "axis": -1}),
          Case("stack", pos=[("arg0", (2, 1, 2))], attrs={"num_args": 1, "axis": 3})]
    sc = lambda s, n, attrs=None, alias=None: Case(
        "SliceChannel", [("data", s)], dict({"num_outputs": n}, **(attrs or {})),
        node="split", alias=alias)
    c += [sc((2, 4), 2), sc((2, 3, 4), 3), sc((6, 2), 3, {"axis": 0}),
          sc((2, 3, 2), 2, {"axis": -1}), sc((2, 3, 4), 3, {"squeeze_axis": True}),
          sc((3, 1, 2, 2, 1), 3, {"axis": 0, "squeeze_axis": 1}),
          sc((2, 4), 2, alias="split")]
    dg = lambda s, attrs=None: Case("diag", [("data", s)], attrs)
    c += [dg((3, 4)), dg((3, 4), {"k": 1}), dg((3, 4), {"k": -2}), dg((4,)), dg((3,), {"k": 2}),
          dg((2,), {"k": -1}), dg((2, 3, 4), {"axis1": 1, "axis2": 2}),
          dg((2, 3, 4), {"axis1": 2, "axis2": 0, "k": 1}),
          dg((2, 3, 4, 2), {"axis1": -1, "axis2": 1, "k": -1}), dg((1, 5), {"k": 3})]
    # khatri_rao: MXNet defines no gradient.
    kr = lambda *shapes: Case("khatri_rao", pos=[("arg%d" % i, s) for i, s in enumerate(shapes)],
                              backward=False)
    c += [kr((2, 3), (4, 3)), kr((3, 2)), kr((2, 2), (1, 2), (3, 2)), kr((1, 1), (5, 1)),
          kr((3, 4), (2, 4), (2, 4), (1, 4))]
    sv = lambda s, attrs: Case("_split_v2", [("data", s)], attrs, node="split_v2")
    c += [sv((2, 5), {"indices": (0, 2)}),
          sv((4, 3), {"indices": (0, 1, 3), "axis": 0}),
          sv((7,), {"indices": (0, 3, 4), "axis": 0}),
          sv((2, 3, 4), {"indices": (), "sections": 2, "axis": -1}),
          sv((2, 3, 5), {"indices": (), "sections": 3, "axis": 2}),
          sv((3, 2), {"indices": (0, 1, 2), "axis": 0, "squeeze_axis": True}),
          sv((1, 4, 1, 2), {"indices": (), "sections": 4, "squeeze_axis": True}),
          sv((2, 3), {"indices": (0,)}),
          sv((1, 2, 6, 1, 2), {"indices": (0, 1, 5), "axis": -3})]
    return c


def index_ops():
    c = []
    tk = lambda sa, si, gen, attrs=None, note=None: Case("take", [("a", sa), ("indices", si, gen)],
                                                         attrs, note=note)
    c += [tk((5, 3), (4,), Ints(0, 5)), tk((5, 3), (2, 2), Ints(0, 5)),
          tk((4, 3), (2, 3), Ints(0, 3), {"axis": 1}), tk((2, 3, 4), (5,), Ints(0, 4), {"axis": -1}),
          tk((4, 2), (6,), Fixed([-1, 0, 3, 4, 7, 2], True), {"mode": "clip"},
             note="out-of-range indices are clipped"),
          tk((4, 2), (6,), Fixed([-1, 0, 3, 4, 7, -6], True), {"mode": "wrap"},
             note="out-of-range indices wrap around"),
          tk((5,), (3,), Ints(0, 5))]
    # mode raise with indices in range (MXNet raises for the others).
    c += [tk((3, 4), (3,), Fixed([0, 2, 1.7], True), {"mode": "raise"})]
    # index_array, ravel_multi_index, unravel_index: index computations
    # whose MXNet gradient is zero.
    ia = lambda s, attrs=None: Case("contrib.index_array", [("data", s)], attrs, backward=False,
                                    node="index_array")
    c += [ia((2, 3)), ia((4,)), ia((2, 1, 3), {"axes": (2, 0)}), ia((2, 3, 2), {"axes": (-1,)}),
          ia((3, 2), {"axes": (1, 1, 0)}), ia((2, 2), {"axes": (5, -3)})]
    rv = lambda si, gen, shape, note=None: Case("ravel_multi_index", [("data", si, gen)],
                                                {"shape": shape}, backward=False, note=note)
    multi = lambda shape: Fn(lambda rng, s: np.stack(
        [rng.randint(0, d, size=s[1]) for d in shape]).astype(np.float64), discrete=True)
    c += [rv((2, 5), multi((3, 4)), (3, 4)), rv((3, 4), multi((2, 3, 4)), (2, 3, 4)),
          rv((1, 3), multi((7,)), (7,)),
          rv((2, 3), Fixed([[1, 5, -1], [2, 0, 3]], True), (3, 4),
             note="out-of-range indices are not checked")]
    ur = lambda si, gen, shape, note=None: Case("unravel_index", [("data", si, gen)],
                                                {"shape": shape}, backward=False, note=note)
    c += [ur((5,), Ints(0, 12), (3, 4)), ur((6,), Ints(0, 24), (2, 3, 4)), ur((3,), Ints(0, 7), (7,)),
          ur((4,), Fixed([13, 30, -5, 11], True), (3, 4),
             note="out-of-range indices: the first axis takes the quotient")]
    # scatter_nd: distinct index columns (MXNet's order for repeated ones is
    # unspecified); the gradient of data is gather_nd's.
    # MXNet reads a negative index out of bounds (it crashes), so none here.
    def distinct_cols(shape, m, n):
        def draw(rng, s):
            flat = rng.choice(int(np.prod(shape[:m])), size=n, replace=False)
            cols = np.stack(np.unravel_index(flat, shape[:m])).astype(np.float64)
            return cols.reshape(s)
        return Fn(draw, discrete=True)
    sn = lambda sd, si, shape, gen, note=None: Case(
        "scatter_nd", [("data", sd), ("indices", si, gen)], {"shape": shape}, note=note)
    c += [sn((4,), (2, 4), (3, 4), distinct_cols((3, 4), 2, 4)),
          sn((3, 2), (1, 3), (4, 2), distinct_cols((4, 2), 1, 3)),
          sn((2, 2, 3), (2, 2, 2), (3, 3, 3), distinct_cols((3, 3, 3), 2, 4)),
          sn((5,), (1, 5), (6,), distinct_cols((6,), 1, 5)),
          sn((3, 2), (2, 3), (2, 3, 2), distinct_cols((2, 3, 2), 2, 3))]
    # batch_take: MXNet reads int32 indices and defines no gradient.
    bt = lambda sa, si, gen, note=None: Case("batch_take", [("a", sa), ("indices", si, gen)],
                                             backward=False, dtypes={"indices": "int32"},
                                             note=note)
    c += [bt((3, 2), (3,), Ints(0, 2)), bt((4, 5), (4,), Ints(0, 5)),
          bt((6, 3), (2, 3), Ints(0, 3)), bt((3, 4), (3, 1), Ints(0, 4)), bt((1, 1), (1,), Ints(0, 1)),
          bt((4, 3), (4,), Fixed([-2, 3, 7, 1], True), note="out-of-range indices are clamped")]
    pk = lambda sd, si, gen, attrs=None: Case("pick", [("data", sd), ("index", si, gen)], attrs)
    c += [pk((3, 4), (3,), Ints(0, 4)), pk((3, 4), (4,), Ints(0, 3), {"axis": 0}),
          pk((2, 3, 4), (2, 4), Ints(0, 3), {"axis": 1}),
          pk((3, 4), (3, 1), Ints(0, 4), {"axis": -1, "keepdims": True}),
          pk((3, 4), (3,), Fixed([-1, 5, 2], True), {"mode": "clip"}),
          pk((3, 4), (3,), Fixed([-1, 5, 2], True), {"mode": "wrap"})]
    gn = lambda sd, si, vals: Case("gather_nd", [("data", sd), ("indices", si, Fixed(vals, True))])
    c += [gn((3, 4), (2, 3), [[0, 2, 2], [1, 3, 1]]),
          gn((3, 4, 2), (1, 4), [[2, 0, 1, 2]]),
          gn((3, 4, 2), (2, 2, 2), [[[0, 1], [2, 2]], [[3, 0], [1, 1]]]),
          gn((5,), (1, 3), [[4, 0, 4]])]
    # Negative indices count from the back (forward only: MXNet 1.9.1's
    # backward writes a negative index's gradient outside the array).
    c += [Case("gather_nd", [("data", (3, 4)),
                             ("indices", (2, 3), Fixed([[-1, -3, 0], [-4, 3, -0.5]], True))],
               backward=False)]
    oh = lambda si, gen, attrs: Case("one_hot", [("indices", si, gen)], attrs, backward=False)
    c += [oh((4,), Ints(0, 5), {"depth": 5}), oh((2, 3), Ints(0, 4), {"depth": 4}),
          oh((3,), Fixed([1, -1, 7], True), {"depth": 4, "on_value": 2.5, "off_value": -1}),
          oh((2, 2), Ints(0, 3), {"depth": 3, "dtype": "int32"})]
    # Values rounded to float16; -0.5 truncates to index 0.
    c += [oh((5,), Fixed([0, 2, -0.5, 2.9, 3], True),
             {"depth": 3, "dtype": "float16", "on_value": 3.3, "off_value": -0.1})]
    emb = lambda si, gen, n, d, **kw: Case("Embedding", [("data", si, gen)],
                                           {"input_dim": n, "output_dim": d}, node="embed", **kw)
    c += [emb((6,), Fixed([-1, 0, 2, 3, 5, 1.5], True), 3, 2, backward=False,
              note="indices out of range are clipped; 1.5 is row 1"),
          emb((4,), Ints(0, 5), 5, 3), emb((2, 3), Fixed([[0, 2, 2], [4, 0, 2]], True), 5, 2),
          emb((2, 2, 2), Ints(0, 3), 3, 4), emb((1, 5), Ints(0, 10), 10, 1)]
    c += [emb((2, 3), Fixed([[-1, 0, 2], [7, 2, 2.5]], True), 5, 2,
              note="gradient rows follow the forward's clipped, truncated indices"),
          emb((4,), Fixed([3, 3, 3, 3], True), 4, 3)]
    return c


def creation_ops():
    c = []
    c += [Case("arange", attrs=a, backward=False, node="arange")
          for a in [{"start": 0, "stop": 5}, {"start": 1.5, "stop": 4, "step": 0.5},
                    {"start": 5, "stop": -1, "step": -1.5}, {"start": 0, "stop": 3, "repeat": 2},
                    {"start": 2, "stop": None}]]
    # Integer dtypes truncate start and step first; infer_range with a stop.
    c += [Case("arange", attrs=a, backward=False, node="arange")
          for a in [{"start": 0.5, "stop": 3, "step": 0.5, "dtype": "int32"},
                    {"start": -2.7, "stop": 3, "step": 1.6, "dtype": "int32"},
                    {"start": 0, "stop": 5, "step": 1.5, "dtype": "uint8"},
                    {"start": 3, "stop": 1, "step": -0.25, "repeat": 3, "infer_range": True}]]
    c += [Case("zeros", attrs={"shape": s}, backward=False, node="zeros")
          for s in [(2, 3), (4,), (1, 2, 1, 3)]]
    c += [Case("ones", attrs={"shape": s}, backward=False, node="ones")
          for s in [(2, 3), (5,), (2, 1, 2, 1, 2)]]
    c += [Case("full", attrs={"shape": s, "val": v}, backward=False, node="full")
          for s, v in [((2, 3), 2.5), ((4,), -1.25), ((1, 3, 2), 0.0)]]
    # The value as the dtype holds it (uint8 wraps -2 to 254).
    c += [Case("full", attrs={"shape": s, "val": v, "dtype": t}, backward=False, node="full")
          for s, v, t in [((2, 2), 2.7, "int32"), ((2,), -2.7, "uint8")]]
    # MXNet leaves the dtype to the graph (-1); alone, it must be given (0:
    # float32, 1: float64).
    c += [Case("_zeros_without_dtype", attrs={"shape": s}, json_attrs={"dtype": t},
               backward=False, node="zeros")
          for s, t in [((2, 3), "0"), ((4,), "1"), ((1, 2, 1, 3), "0")]]
    c += [Case("eye", attrs=a, backward=False, node="eye")
          for a in [{"N": 3}, {"N": 2, "M": 4}, {"N": 4, "M": 3, "k": 1}, {"N": 3, "k": -1},
                    {"N": 3, "M": 5, "k": 3}, {"N": 2, "k": -4}, {"N": 1},
                    {"N": 3, "dtype": "int32"}, {"N": 2, "M": 3, "dtype": "float16"}]]
    al = lambda s, attrs, **kw: Case("contrib.arange_like", [("data", s)], attrs, **kw)
    c += [al((3, 4), {}), al((3, 4), {"axis": -1}), al((2, 3, 2), {"axis": 1, "start": 1.5}),
          al((5,), {"start": -2, "step": 0.5}), al((2, 3), {"repeat": 2, "step": 3}),
          al((2, 1, 3), {"start": 4, "step": -1.25, "repeat": 3}),
          al((4, 2), {"axis": 0, "repeat": 2, "step": 0.25}), al((1, 5), {"axis": 0}),
          al((2, 3), {"start": 1}, alias="_npx_arange_like")]
    c += [Case("shape_array", [("data", s)], backward=False) for s in [(2, 3), (5,), (1, 2, 3, 4)]]
    c += [Case("size_array", [("data", s)], backward=False) for s in [(2, 3), (5,), (1, 2, 3, 4)]]
    return c


def image_shape_ops():
    c = []
    pad = lambda s, mode, pw, **kw: Case("Pad", [("data", s)],
                                         dict({"mode": mode, "pad_width": pw}, **kw))
    c += [pad((1, 2, 3, 3), "constant", (0, 0, 0, 0, 1, 1, 1, 1)),
          pad((2, 1, 2, 3), "constant", (0, 0, 0, 0, 2, 0, 0, 1), constant_value=1.5),
          pad((1, 2, 3, 3), "edge", (0, 0, 0, 0, 1, 2, 2, 1)),
          pad((1, 2, 3, 4), "reflect", (0, 0, 0, 0, 2, 1, 1, 3)),
          pad((1, 1, 2, 3, 3), "constant", (0, 0, 0, 0, 1, 0, 0, 1, 1, 1)),
          pad((1, 1, 2, 2, 3), "edge", (0, 0, 0, 0, 1, 1, 0, 1, 1, 0)),
          pad((1, 1, 3, 3, 3), "reflect", (0, 0, 0, 0, 1, 1, 2, 0, 1, 2))]
    c += [Case("Crop", pos=[("arg0", (1, 2, 5, 5))], attrs={"num_args": 1, "h_w": (3, 2)}),
          Case("Crop", pos=[("arg0", (1, 2, 5, 6))],
               attrs={"num_args": 1, "h_w": (3, 2), "offset": (1, 2)}),
          Case("Crop", pos=[("arg0", (2, 1, 5, 6))],
               attrs={"num_args": 1, "h_w": (2, 3), "center_crop": True}),
          Case("Crop", pos=[("arg0", (1, 2, 5, 5)), ("arg1", (1, 1, 3, 4))],
               attrs={"num_args": 2, "offset": (1, 1)}, nograd={"arg1"})]
    c += [Case("Crop", pos=[("arg0", (1, 2, 5, 6)), ("arg1", (1, 1, 2, 3))],
               attrs={"num_args": 2, "center_crop": True}, nograd={"arg1"})]
    c += [Case("space_to_depth", [("data", s)], {"block_size": b})
          for s, b in [((1, 2, 4, 4), 2), ((2, 1, 2, 6), 2), ((1, 1, 3, 3), 3)]]
    c += [Case("depth_to_space", [("data", s)], {"block_size": b})
          for s, b in [((1, 8, 2, 2), 2), ((2, 4, 1, 3), 2), ((1, 9, 1, 1), 3)]]
    return c


def reductions():
    c = []

    def red(op, gen=None, backward=True, extra=()):
        gen = gen or U()
        specs = [((2, 3, 4), {}), ((2, 3, 4), {"axis": 1}), ((2, 3, 4), {"axis": -1}),
                 ((2, 3, 4), {"axis": (0, 2)}), ((2, 3, 4), {"axis": 1, "keepdims": True}),
                 ((2, 3, 4), {"axis": 1, "exclude": True}), ((5,), {"axis": 0}),
                 ((1, 2, 1, 3, 2), {"axis": (1, 3)}), ((3, 1), {"keepdims": True}),
                 ((2, 3), {"axis": ()}), ((2, 3), {"axis": (), "exclude": True}),
                 ((2, 3, 2), {"axis": (0, 2), "keepdims": True, "exclude": True})] + list(extra)
        return [Case(op, [("data", s, gen)], a, backward=backward) for s, a in specs]

    c += red("sum")
    c += red("mean")
    c += red("max", Distinct(-2, 2))
    c += red("min", Distinct(-2, 2))
    c += red("prod", Fn(lambda rng, s: rng.choice([-1, 1], size=s) * rng.uniform(0.5, 1.5, s)))
    nan_gen = Fn(lambda rng, s: np.where(rng.uniform(size=s) < 0.3, np.nan,
                                         rng.uniform(-1, 1, s)))
    c += red("nansum", extra=[((2, 3, 4), {"axis": 1})])[:5]
    c += [Case("nansum", [("data", s, nan_gen)], a, note="NaN inputs count as 0")
          for s, a in [((2, 3), {}), ((2, 3, 4), {"axis": 1}), ((3, 4), {"axis": -1,
                                                                         "keepdims": True})]]
    nm = lambda s, attrs, gen=None: Case("norm", [("data", s, gen or U())], attrs)
    c += [nm((2, 3), {}), nm((2, 3, 4), {"axis": 1}), nm((2, 3, 4), {"ord": 1, "axis": -1},
                                                         nonzero()),
          nm((2, 3, 4), {"axis": (0, 2), "keepdims": True}), nm((5,), {"ord": 1}, nonzero()),
          nm((3, 4), {"ord": 2, "axis": 0})]
    mo = lambda s, attrs: Case("moments", [("data", s)], attrs)
    c += [mo((2, 3, 4), {"axes": (1,)}), mo((2, 3, 4), {"axes": (0, 2)}),
          mo((2, 3, 4), {"axes": (-1,), "keepdims": True}), mo((5,), {"axes": (0,)}),
          mo((2, 3), {"axes": (0, 1)}), mo((2, 3), {"axes": (0, 1), "keepdims": True}),
          mo((1, 2, 1, 3, 2), {"axes": (1, 3)}), mo((3, 1, 2), {"axes": (1,)})]
    for op in ["argmax", "argmin"]:
        c += [Case(op, [("data", s, Distinct())], a, backward=False)
              for s, a in [((3, 4), {"axis": 1}), ((3, 4), {"axis": 0}), ((2, 3, 4), {"axis": -1}),
                           ((2, 3, 4), {"axis": 1, "keepdims": True}), ((3, 4), {}),
                           ((6,), {"axis": 0})]]
    tp = lambda s, attrs, backward=False: Case("topk", [("data", s, Distinct())], attrs,
                                               backward=backward)
    c += [tp((3, 5), {"k": 2}, True), tp((3, 5), {"k": 2, "ret_typ": "value", "is_ascend": True},
                                         True),
          tp((4, 3), {"k": 3, "axis": 0, "ret_typ": "value"}, True),
          tp((2, 3, 4), {"k": 2, "axis": 1, "ret_typ": "indices"}),
          tp((2, 5), {"k": 2, "ret_typ": "mask"}), tp((2, 5), {"k": 3, "ret_typ": "both"}),
          tp((6,), {"k": 1, "ret_typ": "value"}, True), tp((3, 4), {"k": 2, "axis": None})]
    st = lambda op, s, attrs, backward: Case(op, [("data", s, Distinct())], attrs,
                                             backward=backward)
    # sort's gradient is broken in MXNet 1.9.1 (its _backward_topk node gets
    # axis=''), so sort is checked forward only.
    c += [st("sort", (3, 5), {}, False), st("sort", (3, 5), {"is_ascend": False}, False),
          st("sort", (4, 3), {"axis": 0}, False), st("sort", (2, 3, 4), {"axis": None}, False),
          st("sort", (7,), {}, False)]
    c += [st("argsort", (3, 5), {}, False), st("argsort", (3, 5), {"is_ascend": False}, False),
          st("argsort", (4, 3), {"axis": 0}, False), st("argsort", (2, 3, 4), {"axis": None},
                                                         False)]
    c += more_reductions()
    return c


def more_reductions():
    """Edge cases of the reductions and sorting ops (appended after the first
    cases of each operator, which keep their names)."""
    c = []
    # Exact ties on purpose (equal in float32 and float64).
    ties = Choice([-1.0, -0.5, 0.5, 1.0])
    nan_at = lambda p: Fn(lambda rng, s: np.where(rng.uniform(size=s) < p, np.nan,
                                                  rng.uniform(-1, 1, s)))
    signed = Fn(lambda rng, s: rng.choice([-1, 1], size=s) * rng.uniform(0.5, 1.5, s))

    def with_zero_row(rng, s):
        x = rng.uniform(-1, 1, s)
        x[0] = 0
        return x

    # max/min: every axis form with exclude, gradient to every tied maximum,
    # NaN propagating (MXNet's reducer keeps a NaN once it has one).
    for op in ["max", "min"]:
        c += [Case(op, [("data", (2, 3, 4), Distinct(-2, 2))], {"axis": (-1, -3), "exclude": True}),
              Case(op, [("data", (2, 3, 4), Distinct(-2, 2))],
                   {"axis": (0, 1), "exclude": True, "keepdims": True}),
              Case(op, [("data", (2, 3, 4), Distinct(-2, 2))], {"axis": (0, 1, 2)}),
              Case(op, [("data", (3, 4), ties)], {"axis": 1},
                   note="ties: every element equal to the extreme gets the gradient"),
              Case(op, [("data", (3, 4), ties)], {}, note="ties over the whole array"),
              Case(op, [("data", (3, 4), Fixed([[1.0, np.nan, 3.0, 0.5],
                                                 [0.25, -0.5, 0.75, 1.0],
                                                 [np.nan, 2.0, -1.0, 0.0]]))],
                   {"axis": 1}, backward=False, note="NaN inputs: a row with a NaN reduces to NaN"),
              Case(op, [("data", (4,), Fixed([0.5, np.nan, 2.0, -1.0]))], {}, backward=False,
                   note="NaN after the first element still wins")]
    c += [Case("max", [("data", (2, 3), Distinct(-2, 2))], {"axis": 1}, alias="max_axis"),
          Case("min", [("data", (2, 3), Distinct(-2, 2))], {"axis": 0}, alias="min_axis")]

    # prod: a zero gives MXNet's y/x gradient (NaN at the zero, 0 elsewhere).
    c += [Case("prod", [("data", (2, 3), Fixed([[0.5, 0.0, 2.0], [1.5, -1.0, 0.75]]))],
               {"axis": 1}, note="a zero factor: gradient y/x is 0/0 = NaN there, as in MXNet"),
          Case("prod", [("data", (2, 3, 2), signed)], {"axis": (0, 2), "exclude": True})]
    # nansum: NaN everywhere in a row, exclude, keepdims.
    c += [Case("nansum", [("data", (2, 3), Fixed([[np.nan, np.nan, np.nan], [1.0, np.nan, 0.5]]))],
               {"axis": 1}, note="an all-NaN row sums to 0"),
          Case("nansum", [("data", (2, 3, 4), nan_at(0.3))], {"axis": 1, "exclude": True},
               note="NaN inputs count as 0"),
          Case("nansum", [("data", (2, 3), nan_at(0.3))], {"axis": (0, 1), "exclude": True},
               note="nothing reduced: NaN still becomes 0")]
    # nanprod: NaN counts as 1.
    c += [Case("nanprod", [("data", s, signed)], a)
          for s, a in [((2, 3, 4), {}), ((2, 3, 4), {"axis": 1}), ((2, 3, 4), {"axis": -1}),
                       ((2, 3, 4), {"axis": (0, 2), "keepdims": True}),
                       ((2, 3, 4), {"axis": 1, "exclude": True}), ((5,), {"axis": 0})]]
    nan_signed = Fn(lambda rng, s: np.where(rng.uniform(size=s) < 0.3, np.nan,
                                            rng.choice([-1, 1], size=s) *
                                            rng.uniform(0.5, 1.5, s)))
    c += [Case("nanprod", [("data", s, nan_signed)], a, note="NaN inputs count as 1")
          for s, a in [((2, 3), {}), ((2, 3, 4), {"axis": 1}), ((3, 4), {"axis": -1,
                                                                         "keepdims": True})]]
    c += [Case("nanprod", [("data", (2, 2), Fixed([[np.nan, np.nan], [2.0, np.nan]]))],
               {"axis": 1}, note="an all-NaN row multiplies to 1")]
    # norm: the gradient of the 2-norm at 0 (NaN, MXNet's x/y), the 1-norm's
    # sign, every axis form, out_dtype, magnitudes whose squares overflow.
    nm = lambda s, attrs, gen=None, **kw: Case("norm", [("data", s, gen or U())], attrs, **kw)
    c += [nm((3, 4), {"axis": 1}, Fn(with_zero_row),
             note="the first row is 0: its 2-norm gradient is 0/0 = NaN, as in MXNet"),
          nm((3, 4), {"ord": 1, "axis": 1}, Fn(with_zero_row),
             note="1-norm gradient sign(x): 0 at 0"),
          nm((2, 3, 4), {"ord": 1, "axis": (0, 1), "keepdims": True}, nonzero()),
          nm((2, 3, 4), {"axis": (-1, 0)}),
          nm((2, 3), {"axis": ()}), nm((2, 3), {"out_dtype": "float32", "axis": 0}),
          nm((4,), {"axis": 0, "keepdims": True}),
          nm((2, 3), {"axis": 1}, Fn(lambda rng, s: rng.uniform(-1, 1, s) * 1e20), backward=False,
             rtol=1e-4, note="squares overflow float32: MXNet scales by the largest |x|"),
          nm((2, 3), {"axis": 1}, Fn(lambda rng, s: rng.uniform(-1, 1, s) * 1e-25),
             backward=False, atol=0, note="squares underflow float32")]
    # argmax_channel: argmax along axis 1 (ties: the first; a NaN wins).
    c += [Case("argmax_channel", [("data", s, g)], backward=False, note=n)
          for s, g, n in [((3, 4), Distinct(), None), ((2, 3, 4), Distinct(), None),
                          ((2, 5, 1, 2), Distinct(), None), ((1, 3), Distinct(), None),
                          ((3, 6), ties, "ties: the first occurrence"),
                          ((2, 4), Fixed([[1.0, np.nan, 3.0, np.nan], [0.5, 2.0, -1.0, 0.0]]),
                           "a NaN wins: the index of the first NaN")]]
    # argmax/argmin: ties give the first occurrence; a NaN is sticky (the first
    # NaN); every axis form.
    for op in ["argmax", "argmin"]:
        c += [Case(op, [("data", s, g)], a, backward=False, note=n)
              for s, a, g, n in [
                  ((3, 6), {"axis": 1}, ties, "ties: the first occurrence"),
                  ((4, 3), {"axis": 0}, ties, "ties: the first occurrence"),
                  ((3, 4), {}, ties, "ties in the flattened array"),
                  ((3, 4), {"axis": 1}, Fixed([[1.0, np.nan, 3.0, np.nan],
                                               [np.nan, 0.5, 2.0, -1.0],
                                               [0.25, -0.5, 0.75, 1.0]]),
                   "a NaN wins: the index of the first NaN"),
                  ((2, 3, 4), {"keepdims": True}, Distinct(), None),
                  ((2, 3, 4), {"axis": -2, "keepdims": True}, Distinct(), None),
                  ((5,), {"axis": 0, "keepdims": True}, Distinct(), None)]]
    # topk: ties in rows MXNet sorts fully (8k > n, n <= 16: its insertion sort,
    # stable like Kiln's); partial sorts (8k <= n) of distinct values; k <= 0;
    # index dtypes (uint8 wraps, float16 rounds); mask and values of the
    # flattened array; gradients of `both` and of all values.
    tp = lambda s, attrs, gen=None, backward=False, **kw: Case(
        "topk", [("data", s, gen or Distinct())], attrs, backward=backward, **kw)
    increasing = Fn(lambda rng, s: np.sort(Distinct().draw(rng, s), axis=None).reshape(s))
    c += [tp((3, 6), {"k": 3, "ret_typ": "both"}, ties, note="ties keep their index order"),
          tp((3, 6), {"k": 2, "ret_typ": "both", "is_ascend": True}, ties,
             note="ties keep their index order"),
          tp((5, 3), {"k": 2, "axis": 0, "ret_typ": "indices"}, ties,
             note="ties keep their index order"),
          tp((2, 20), {"k": 2, "ret_typ": "both"}),
          tp((2, 20), {"k": 2, "ret_typ": "both", "is_ascend": True}),
          tp((3, 4), {"k": 0, "ret_typ": "value"}, backward=True),
          tp((3, 4), {"k": -1, "ret_typ": "indices", "is_ascend": True}),
          tp((4, 3), {"k": 2, "axis": 0, "ret_typ": "both"}, backward=True),
          tp((2, 3, 4), {"k": 3, "axis": None, "ret_typ": "value"}, backward=True),
          tp((2, 3, 4), {"k": 5, "axis": None, "ret_typ": "mask"}),
          tp((2, 3, 4), {"k": 2, "axis": 1, "ret_typ": "mask", "is_ascend": True}),
          tp((2, 3), {"k": 2, "ret_typ": "indices", "dtype": "int32"}),
          tp((1, 300), {"k": 4, "ret_typ": "indices", "dtype": "uint8"}, increasing,
             note="uint8 indices wrap modulo 256"),
          tp((1, 2100), {"k": 6, "ret_typ": "indices", "dtype": "float16"}, increasing,
             note="float16 indices round to even above 2048"),
          Case("topk", [("data", (2, 5), Distinct())], {"k": 2}, backward=False, alias="_npx_topk")]
    # sort/argsort: ties in rows of <= 16 (MXNet's insertion sort, stable).
    st = lambda op, s, attrs, gen=None, **kw: Case(op, [("data", s, gen or Distinct())], attrs,
                                                  backward=False, **kw)
    for op in ["sort", "argsort"]:
        c += [st(op, (3, 6), {}, ties, note="ties keep their index order"),
              st(op, (3, 6), {"is_ascend": False}, ties, note="ties keep their index order"),
              st(op, (4, 3), {"axis": 0, "is_ascend": False}, ties,
                 note="ties keep their index order"),
              st(op, (16,), {}, ties, note="ties keep their index order"),
              st(op, (2, 3, 4), {"axis": 1}),
              Case(op, [("data", (2, 5), Distinct())], {}, backward=False, alias="_npi_" + op)]
    c += [st("argsort", (2, 3), {"dtype": "int64"}),
          st("argsort", (1, 300), {"is_ascend": False}, increasing,
             note="descending: the first indices are large"),
          st("argsort", (1, 300), {"dtype": "uint8"}, note="uint8 indices wrap modulo 256")]
    return c


def nn_layers():
    c = []
    fc = lambda s, n, attrs=None: Case("FullyConnected", [("data", s)],
                                       dict({"num_hidden": n}, **(attrs or {})), node="fc")
    c += [fc((2, 5), 3), fc((3, 4), 2, {"no_bias": True}), fc((2, 3, 2), 4),
          fc((2, 3, 4), 3, {"flatten": False}), fc((1, 2, 2, 3), 2, {"flatten": False,
                                                                    "no_bias": True}),
          fc((1, 7), 1), fc((2, 1, 3, 4), 3, {"flatten": False}), fc((5,), 2, {"flatten": False})]
    conv = lambda s, k, n, attrs=None, **kw: Case(
        "Convolution", [("data", s)], dict({"kernel": k, "num_filter": n}, **(attrs or {})),
        node="conv", **kw)
    c += [conv((2, 3, 7), (3,), 2),
          conv((1, 2, 5, 5), (3, 3), 3, {"pad": (1, 1)}),
          conv((1, 2, 6, 5), (3, 3), 2, {"stride": (2, 2), "pad": (1, 1)}),
          conv((1, 2, 7, 7), (3, 3), 2, {"dilate": (2, 2)}),
          conv((1, 4, 4, 4), (3, 3), 4, {"num_group": 2, "pad": (1, 1)}),
          conv((1, 3, 5, 5), (3, 3), 3, {"num_group": 3, "no_bias": True}),
          conv((2, 3, 4, 5), (1, 1), 2),
          conv((1, 2, 6, 5), (2, 3), 2, {"stride": (2, 1), "pad": (0, 1)}),
          conv((1, 2, 4, 4, 4), (2, 2, 2), 2, {"stride": (2, 1, 1)}),
          conv((2, 2, 9), (3,), 2, {"stride": (2,), "dilate": (2,), "pad": (2,)})]
    dc = lambda s, k, n, attrs=None: Case(
        "Deconvolution", [("data", s)], dict({"kernel": k, "num_filter": n}, **(attrs or {})),
        node="deconv")
    c += [dc((1, 2, 3, 3), (3, 3), 2),
          dc((1, 2, 3, 3), (3, 3), 3, {"stride": (2, 2), "pad": (1, 1), "adj": (1, 1)}),
          dc((1, 2, 3, 4), (3, 3), 2, {"stride": (2, 2), "no_bias": False}),
          dc((1, 4, 3, 3), (2, 2), 4, {"num_group": 2, "stride": (2, 2)}),
          dc((1, 2, 3, 3), (3, 3), 2, {"stride": (2, 2), "pad": (1, 1),
                                       "target_shape": (6, 6)}),
          dc((2, 3, 5), (3,), 2, {"stride": (2,), "pad": (1,)}),
          dc((1, 2, 3, 3), (2, 2), 2, {"dilate": (2, 2), "no_bias": False})]
    c += [dc((1, 2, 3, 3), (3, 3), 2, {"stride": (2, 2), "target_shape": (7, 7)}),
          # MXNet's MKLDNN backward fails on target_shape unless `pad` holds
          # the padding target_shape implies (which the result does not read).
          dc((1, 2, 4, 3), (3, 3), 2, {"stride": (2, 2), "pad": (1, 1), "target_shape": (7, 6)}),
          dc((2, 2, 4), (3,), 3, {"stride": (3,), "pad": (1,), "target_shape": (11,)}),
          dc((1, 2, 3, 3), (3, 3), 2, {"stride": (3, 3), "adj": (2, 1)}),
          dc((1, 4, 2, 3), (3, 2), 6, {"stride": (2, 2), "num_group": 2, "pad": (1, 0),
                                       "adj": (1, 1), "no_bias": False}),
          dc((1, 2, 3, 4), (4, 4), 2, {"stride": (2, 2), "pad": (1, 1), "target_shape": (7, 9)})]
    # MXNet 1.9.1 has no 3-D Deconvolution on the CPU.

    def pool(s, attrs, gen=None, **kw):
        gen = gen or (Distinct(-2, 2) if attrs.get("pool_type", "max") == "max" else U())
        return Case("Pooling", [("data", s, gen)], attrs, node="pool", **kw)

    c += [pool((1, 2, 4, 4), {"kernel": (2, 2), "stride": (2, 2)}),
          pool((1, 2, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1)}),
          pool((1, 1, 5, 6), {"kernel": (2, 2), "stride": (2, 2), "pooling_convention": "full"}),
          pool((1, 2, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pool_type": "avg"}),
          pool((1, 2, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                              "pool_type": "avg"}),
          pool((1, 2, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                              "pool_type": "avg", "count_include_pad": False}),
          pool((1, 1, 5, 6), {"kernel": (2, 2), "stride": (2, 2), "pool_type": "avg",
                              "pooling_convention": "full"}),
          pool((1, 2, 4, 4), {"kernel": (2, 2), "stride": (1, 1), "pool_type": "sum"}),
          # 'full' windows that start inside the input and reach past the padding.
          pool((1, 1, 6, 6), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                              "pooling_convention": "full"}),
          pool((1, 1, 6, 6), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                              "pooling_convention": "full", "pool_type": "avg"}),
          pool((1, 1, 6, 6), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                              "pooling_convention": "full", "pool_type": "avg",
                              "count_include_pad": False}),
          pool((1, 2, 5, 5), {"kernel": (2, 2), "stride": (2, 2), "pad": (1, 1),
                              "pool_type": "sum"}),
          pool((1, 2, 4, 4), {"kernel": (2, 2), "stride": (2, 2), "pool_type": "lp",
                              "p_value": 1}, nonzero()),
          pool((1, 2, 4, 4), {"kernel": (2, 2), "stride": (2, 2), "pool_type": "lp",
                              "p_value": 2}, nonzero()),
          pool((1, 2, 4, 4), {"kernel": (2, 2), "stride": (2, 2), "pool_type": "lp",
                              "p_value": 3}, U(0.1, 1)),
          pool((2, 3, 3, 4), {"kernel": (1, 1), "global_pool": True}),
          pool((2, 3, 3, 4), {"kernel": (1, 1), "global_pool": True, "pool_type": "avg"}),
          pool((2, 2, 7), {"kernel": (3,), "stride": (2,)}),
          pool((1, 1, 4, 4, 4), {"kernel": (2, 2, 2), "stride": (2, 2, 2), "pool_type": "avg"}),
          pool((1, 1, 3, 4, 4), {"kernel": (2, 2, 2), "stride": (1, 2, 2)})]
    c += [pool((1, 2, 4, 5), {"kernel": (2, 2), "stride": (1, 2), "pad": (1, 1), "pool_type": "lp",
                              "p_value": 2}, nonzero()),
          pool((1, 1, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pool_type": "lp", "p_value": 2,
                              "pooling_convention": "full"}, nonzero()),
          pool((1, 2, 5, 4), {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 0), "pool_type": "sum",
                              "pooling_convention": "full"}),
          pool((2, 2, 3, 3), {"kernel": (1, 1), "global_pool": True, "pool_type": "sum"}),
          pool((1, 2, 3, 3), {"kernel": (1, 1), "global_pool": True, "pool_type": "lp",
                              "p_value": 2}, nonzero()),
          pool((1, 2, 7), {"kernel": (3,), "stride": (2,), "pad": (1,), "pool_type": "avg",
                           "count_include_pad": False}),
          pool((1, 1, 3, 3, 4), {"kernel": (2, 2, 2), "stride": (2, 2, 2), "pad": (1, 1, 1)}),
          pool((1, 2, 3, 4), {"kernel": (3, 4), "stride": (1, 1), "pool_type": "avg"}),
          pool((1, 1, 6, 5), {"kernel": (3, 2), "stride": (2, 3), "pad": (1, 1),
                              "pooling_convention": "full", "pool_type": "sum"}),
          pool((1, 1, 2, 2, 3), {"kernel": (1, 1, 1), "global_pool": True, "pool_type": "avg"})]
    c += [Case("LRN", [("data", s)], a, node="lrn")
          for s, a in [((1, 5, 2, 2), {"nsize": 3}), ((2, 4, 2, 1), {"nsize": 5}),
                       ((1, 6, 2, 2), {"nsize": 3, "alpha": 0.01, "beta": 0.5, "knorm": 1})]]
    bn = lambda s, attrs=None, train=True, backward=True, **kw: Case(
        "BatchNorm", [("data", s)], attrs, node="bn", train=train, backward=backward,
        gens={"gamma": U(0.5, 1.5), "beta": U(-0.5, 0.5)}, **kw)
    c += [bn((2, 3, 2, 2)), bn((2, 3, 2, 2), {"fix_gamma": False}),
          bn((4, 3), {"fix_gamma": False, "momentum": 0.8, "eps": 1e-5}),
          bn((2, 3, 2, 2), {"use_global_stats": True, "fix_gamma": False}),
          bn((2, 3, 2, 2), {"fix_gamma": False}, train=False, backward=False),
          bn((2, 3, 4), {"axis": -1, "fix_gamma": False}),
          bn((2, 2, 3, 2), {"axis": 2, "fix_gamma": False}),
          bn((3, 2, 2, 2, 2), {"fix_gamma": False}),
          bn((3, 2, 4), {"fix_gamma": False}, train=True, backward=False)]
    # SyncBatchNorm in one process: BatchNorm over axis 1 of the local batch.
    # MXNet updates its moving statistics in backward, so every training case
    # runs backward (a training forward alone updates Kiln's, not MXNet's).
    # MXNet keeps shared statistics per `key` for the whole process: one key
    # per case.
    keys = iter("sbn%d" % i for i in range(100))
    sbn = lambda s, attrs=None, train=True, backward=True, **kw: Case(
        "contrib.SyncBatchNorm", [("data", s)], dict({"key": next(keys)}, **(attrs or {})),
        node="sbn", train=train, backward=backward,
        gens={"gamma": U(0.5, 1.5), "beta": U(-0.5, 0.5)}, **kw)
    c += [sbn((2, 3, 2, 2)), sbn((2, 3, 2, 2), {"fix_gamma": False}),
          sbn((4, 3), {"fix_gamma": False, "momentum": 0.8, "eps": 1e-5}),
          sbn((2, 3, 2, 2), {"use_global_stats": True, "fix_gamma": False}),
          sbn((2, 3, 2, 2), {"fix_gamma": False}, train=False, backward=False),
          sbn((3, 2, 5), {"fix_gamma": False, "ndev": 1}),
          sbn((3, 2, 2, 2, 2), {"fix_gamma": False})]
    dp = lambda s, attrs, train, backward, **kw: Case("Dropout", [("data", s)], attrs, node="drop",
                                                      train=train, backward=backward, **kw)
    c += [dp((2, 3), {"p": 0.5}, False, False), dp((2, 3), {"p": 0.0}, True, True),
          dp((2, 3, 2), {"p": 0.0, "mode": "always"}, True, True),
          dp((2, 3, 2), {"p": 0.3, "axes": (1,)}, False, False)]
    return c


def softmax_ops():
    c = []
    # SVMOutput: MXNet's backward ignores the head gradient. Values stay
    # away from ±margin, where the gradient jumps.
    svm = lambda s, attrs=None, margin=1.0: Case(
        "SVMOutput", [("data", s, Away(-2, 2, [margin, -margin]))], attrs, node="svm",
        gens={"label": Ints(0, s[-1])}, shapes={"svm_label": s[:-1]})
    c += [svm((3, 4)), svm((3, 4), {"use_linear": True}),
          svm((2, 5), {"margin": 0.5, "regularization_coefficient": 2.0}, margin=0.5),
          svm((2, 5), {"margin": 0.5, "use_linear": True, "regularization_coefficient": 0.3},
              margin=0.5),
          svm((2, 3, 4)), svm((4, 1), {"use_linear": True})]
    # softmax_cross_entropy: the summed loss (1) and MXNet's gradient; the
    # last case's logits push a probability under the 1e-8 floor.
    sce = lambda s, gen=None, note=None: Case(
        "softmax_cross_entropy", [("data", s, gen or U(-2, 2)), ("label", (s[0],), Ints(0, s[1]))],
        note=note)
    c += [sce((3, 4)), sce((1, 5)), sce((5, 2)), sce((4, 1)),
          sce((2, 3), Fixed([[30.0, -1.0, -2.0], [-25.0, 0.5, 1.0]]),
              note="probabilities under 1e-8 are floored")]
    so = lambda s, sl, gen, attrs=None, **kw: Case(
        "SoftmaxOutput", [("data", s)], attrs, node="softmax", gens={"label": gen},
        shapes={"softmax_label": sl}, **kw)
    c += [so((3, 4), (3,), Ints(0, 4)),
          so((3, 4), (3,), Ints(0, 4), {"grad_scale": 2.0, "normalization": "batch"}),
          so((4, 3), (4,), Fixed([0, 2, -1, 1], True),
             {"use_ignore": True, "ignore_label": -1, "normalization": "valid"}),
          so((2, 3, 2, 2), (2, 2, 2), Ints(0, 3), {"multi_output": True}),
          so((2, 3, 2, 2), (2, 2, 2), Ints(0, 3), {"multi_output": True,
                                                   "normalization": "valid"}),
          so((2, 3, 4), (2, 3), Ints(0, 4), {"preserve_shape": True}),
          so((2, 3, 2), (2, 3), Ints(0, 6),
             note="rank-3 data without multi_output: MXNet requires the label shape "
                  "data.shape[:-1] but uses only its first N values, as the classes of the N "
                  "rows of the flattened (N, C*L) softmax"),
          so((3, 4), (3, 4), Fn(lambda rng, s: rng.dirichlet(np.ones(s[1]), size=s[0])),
             note="probability labels"),
          so((3, 4), (3,), Ints(0, 4), {"smooth_alpha": 0.1}),
          so((4, 3), (4,), Fixed([1, 0, 1, 2], True), {"use_ignore": True, "ignore_label": 1}),
          so((2, 3, 2, 2), (2, 2, 2), Fixed([[[0, 2], [1, 2]], [[2, 2], [0, 1]]], True),
             {"multi_output": True, "use_ignore": True, "ignore_label": 2,
              "normalization": "valid"}),
          so((2, 3, 4), (2, 3), Ints(0, 4), {"preserve_shape": True, "normalization": "batch",
                                             "grad_scale": 0.5}),
          so((3, 4), (3,), Ints(0, 4), {"out_grad": True},
             note="out_grad=True: MXNet 1.9.1 multiplies its built-in gradient by the "
                  "softmax output, not by the head gradient"),
          so((3, 4), (3,), Ints(0, 4), alias="Softmax")]
    c += [so((2, 3, 2), (2, 3), Ints(0, 6), {"normalization": "batch"},
             note="rank-3 data without multi_output: batch divides by the 6 labels, not N"),
          so((2, 3, 2), (2, 3), Fixed([[1, 5, 0], [-1, 2, -1]], True),
             {"normalization": "valid", "use_ignore": True, "ignore_label": -1},
             note="valid counts every label, also those beyond the first N that are read"),
          so((2, 3, 2, 2), (2, 2, 2), Ints(0, 3), {"multi_output": True, "out_grad": True}),
          so((3, 4), (3, 4), Fn(lambda rng, s: rng.dirichlet(np.ones(s[1]), size=s[0])),
             {"out_grad": True, "grad_scale": 0.5}),
          so((2, 3, 4), (2, 3), Ints(0, 4), {"preserve_shape": True, "out_grad": True,
                                             "normalization": "valid"})]
    for op in ["LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"]:
        c += [Case(op, [("data", (3, 2), U(-2, 2))], node="reg",
                   gens={"label": U(-1, 1) if op != "LogisticRegressionOutput" else U(0, 1)},
                   ok=(lambda v: apart_ok(v["data"], v["reg_label"]))),
              Case(op, [("data", (4, 1), U(-2, 2))], {"grad_scale": 0.5}, node="reg",
                   gens={"label": U(0, 1)}, shapes={"reg_label": (4,)},
                   ok=(lambda v: apart_ok(v["data"].ravel(), v["reg_label"])))]
    for op in ["softmax", "log_softmax"]:
        sm = lambda s, attrs=None, **kw: Case(op, [("data", s, U(-2, 2))], attrs, **kw)
        c += [sm((2, 5)), sm((3, 4), {"axis": 0}), sm((2, 3, 4), {"axis": 1}),
              sm((2, 3), {"temperature": 2.0}), sm((6,)), sm((1, 2, 1, 3, 2), {"axis": -2}),
              sm((3, 2), {"axis": 0, "temperature": 0.5})]
    sm = lambda s, attrs=None, **kw: Case("softmin", [("data", s, U(-2, 2))], attrs, **kw)
    c += [sm((2, 5)), sm((3, 4), {"axis": 0}), sm((2, 3, 4), {"axis": 1}),
          sm((2, 3), {"temperature": 2.0}), sm((6,)), sm((1, 2, 1, 3, 2), {"axis": -2}),
          sm((3, 2), {"axis": 0, "temperature": 0.5}), sm((2, 3), {"temperature": -1.5}),
          sm((3, 3), {"use_length": False})]
    # Only softmax has MXNet 1.9.1's `length` input.
    c += [Case("softmax", [("data", (3, 4), U(-2, 2)), ("length", (3,), Fixed([1, 4, 2], True))],
               {"axis": -1, "use_length": True}, dtypes={"length": "int32"}),
          Case("softmax", [("data", (2, 3, 2), U(-2, 2)),
                           ("length", (2, 2), Fixed([[1, 3], [2, 2]], True))],
               {"axis": 1, "use_length": True}, dtypes={"length": "int32"})]
    c += [Case("softmax", [("data", (3, 4), U(-2, 2)), ("length", (3,), Fixed([0, 4, 3], True))],
               {"use_length": True, "temperature": 2.0}, dtypes={"length": "int32"},
               note="a length of 0 gives a row of zeros"),
          Case("softmax", [("data", (4, 3), U(-2, 2)), ("length", (3,), Fixed([2, 1, 4], True))],
               {"axis": 0, "use_length": True}, dtypes={"length": "int32"}),
          Case("softmax", [("data", (5,), U(-2, 2)), ("length", (1,), Fixed([3], True))],
               {"use_length": True}, dtypes={"length": "int32"})]
    c += [Case("SoftmaxActivation", [("data", s, U(-2, 2))], a)
          for s, a in [((2, 5), {}), ((3, 4), {"mode": "instance"}),
                       ((2, 3, 2, 2), {"mode": "channel"}), ((2, 3, 4), {"mode": "channel"})]]
    return c


def linalg_ops():
    c = []
    dot = lambda sl, sr, attrs=None: Case("dot", [("lhs", sl), ("rhs", sr)], attrs)
    c += [dot((2, 3), (3, 4)), dot((3, 2), (3, 4), {"transpose_a": True}),
          dot((2, 3), (4, 3), {"transpose_b": True}),
          dot((3, 2), (4, 3), {"transpose_a": True, "transpose_b": True}),
          dot((5,), (5,)), dot((2, 3, 4), (4, 5)), dot((4,), (4, 3)), dot((2, 3), (3,))]
    c += [dot((2, 3, 4), (4,)), dot((4, 2, 3), (4, 5), {"transpose_a": True}),
          dot((3, 4), (2, 5, 4), {"transpose_b": True}), dot((4,), (4, 3), {"transpose_a": True}),
          dot((2, 3), (3, 2, 2)), dot((2, 3), (2, 2, 3), {"transpose_a": True}),
          dot((2, 3, 2), (5, 3, 2), {"transpose_a": True, "transpose_b": True}),
          dot((3, 4), (4,), {"transpose_b": True})]
    bd = lambda sl, sr, attrs=None: Case("batch_dot", [("lhs", sl), ("rhs", sr)], attrs)
    c += [bd((2, 3, 4), (2, 4, 5)), bd((2, 4, 3), (2, 4, 5), {"transpose_a": True}),
          bd((2, 3, 4), (2, 5, 4), {"transpose_b": True}),
          bd((3, 4, 2), (3, 5, 4), {"transpose_a": True, "transpose_b": True}),
          bd((1, 1, 3), (1, 3, 1))]
    c += [bd((2, 3, 2, 4), (2, 3, 4, 3)),
          bd((2, 1, 4, 2), (2, 1, 3, 4), {"transpose_a": True, "transpose_b": True}),
          bd((1, 2, 2, 3, 2), (1, 2, 2, 2, 4))]
    c += [Case("add_n", pos=[("arg0", (2, 3)), ("arg1", (2, 3))]),
          Case("add_n", pos=[("arg0", (5,)), ("arg1", (5,)), ("arg2", (5,))]),
          Case("add_n", pos=[("arg0", (1, 2, 3, 1))]),
          Case("add_n", pos=[("arg0", (2, 2)), ("arg1", (2, 2))], alias="ElementWiseSum")]
    return c


def attention_ops():
    # The interleaved attention products of GluonNLP's BERT and Transformer:
    # several heads, one head, head_dim 1 and odd ones (1/sqrt(3) rounded in
    # float as MXNet's kernel does), batch 1, unequal query and key lengths.
    # MXNet's CPU kernels are float32 only.
    c = []
    sqk = lambda s, b, heads, d: Case("contrib.interleaved_matmul_selfatt_qk",
                                      [("queries_keys_values", (s, b, heads * 3 * d))],
                                      {"heads": heads}, node="qk")
    c += [sqk(3, 2, 2, 4), sqk(1, 1, 1, 1), sqk(5, 3, 1, 3), sqk(2, 1, 3, 2)]
    sva = lambda s, b, heads, d: Case("contrib.interleaved_matmul_selfatt_valatt",
                                      [("queries_keys_values", (s, b, heads * 3 * d)),
                                       ("attention", (b * heads, s, s))],
                                      {"heads": heads}, node="valatt")
    c += [sva(3, 2, 2, 4), sva(1, 1, 1, 1), sva(5, 3, 1, 3), sva(2, 1, 3, 2)]
    eqk = lambda sq, sk, b, heads, d: Case("contrib.interleaved_matmul_encdec_qk",
                                           [("queries", (sq, b, heads * d)),
                                            ("keys_values", (sk, b, heads * 2 * d))],
                                           {"heads": heads}, node="qk")
    c += [eqk(4, 5, 2, 2, 4), eqk(1, 2, 1, 1, 3), eqk(3, 2, 3, 3, 2), eqk(1, 1, 1, 1, 1)]
    eva = lambda sq, sk, b, heads, d: Case("contrib.interleaved_matmul_encdec_valatt",
                                           [("keys_values", (sk, b, heads * 2 * d)),
                                            ("attention", (b * heads, sq, sk))],
                                           {"heads": heads}, node="valatt")
    c += [eva(4, 5, 2, 2, 4), eva(1, 2, 1, 1, 3), eva(3, 2, 3, 3, 2), eva(1, 1, 1, 1, 1)]
    return c


def sample_coords(rng, n, size):
    """Pixel coordinates for a sampler along an axis of `size`: in
    [-1, size] (some outside the image, read as zeros) and 0.1 or more from
    every integer, where the grid gradient is discontinuous (a size of 1
    maps every grid value to coordinate 0)."""
    k = rng.randint(-1, size, size=n)
    f = rng.uniform(0.1, 0.4, size=n) + 0.5 * rng.randint(0, 2, size=n)
    return k + f


def sampler_grid(h, w):
    """A BilinearSampler grid (N, 2, Ho, Wo) for an (h, w) image."""
    def draw(rng, s):
        g = np.empty(s)
        m = int(np.prod(s[2:]))
        for b in range(s[0]):
            for axis, size in ((0, w), (1, h)):
                if size == 1:
                    g[b, axis] = rng.uniform(-1, 1, size=s[2:])
                else:
                    g[b, axis] = (2 * sample_coords(rng, m, size) / (size - 1) - 1).reshape(s[2:])
        return g
    return Fn(draw)


def affine_coords_ok(h, w, th, tw, margin=0.05):
    """SpatialTransformer's sampling coordinates from loc stay `margin` from
    every integer (the grid gradient's discontinuities)."""
    def ok(values):
        loc = [v for k, v in values.items() if k.endswith("loc")][0]
        xs = -1 + np.arange(tw) * (2.0 / (tw - 1))
        ys = -1 + np.arange(th) * (2.0 / (th - 1))
        gx, gy = np.meshgrid(xs, ys)
        for t in loc.reshape(-1, 2, 3):
            for r, size in ((0, w), (1, h)):
                g = t[r, 0] * gx + t[r, 1] * gy + t[r, 2]
                c = (g + 1) * (size - 1) / 2
                if size > 1 and (np.abs(c - np.round(c)) < margin).any():
                    return False
        return True
    return ok


def spatial_ops():
    # GridGenerator: affine (odd target sizes, batch 1) and warp flows;
    # BilinearSampler: grids partly outside the image (zeros), one-pixel
    # axes, a single output pixel; SpatialTransformer: near-identity
    # transforms, shrinking and enlarging targets. Sampling coordinates keep
    # away from integers, where the grid gradient jumps.
    c = []
    gg = lambda s, attrs: Case("GridGenerator", [("data", s)], attrs, node="grid")
    c += [gg((2, 6), {"transform_type": "affine", "target_shape": (3, 4)}),
          gg((1, 6), {"transform_type": "affine", "target_shape": (5, 2)}),
          gg((3, 6), {"transform_type": "affine", "target_shape": (2, 2)}),
          gg((2, 2, 3, 4), {"transform_type": "warp"}),
          gg((1, 2, 5, 2), {"transform_type": "warp", "target_shape": (7, 7)}),
          gg((1, 2, 2, 3), {"transform_type": "warp"})]
    bs = lambda ds, gs, attrs=None: Case("BilinearSampler", [("data", ds),
                                                            ("grid", gs, sampler_grid(ds[2], ds[3]))],
                                         attrs, node="sampler")
    c += [bs((1, 1, 3, 4), (1, 2, 2, 3)), bs((2, 3, 4, 5), (2, 2, 3, 3)),
          bs((1, 2, 1, 4), (1, 2, 2, 2)), bs((2, 2, 3, 3), (2, 2, 1, 1)),
          bs((1, 2, 5, 3), (1, 2, 4, 6), {"cudnn_off": True})]
    loc = Fn(lambda rng, s: np.tile([0.9, 0.1, 0.05, -0.1, 0.8, -0.05], (s[0], 1)) +
             rng.uniform(-0.2, 0.2, size=s))
    st = lambda ds, target, attrs=None: Case(
        "SpatialTransformer", [("data", ds), ("loc", (ds[0], 6), loc)],
        dict({"target_shape": target, "transform_type": "affine", "sampler_type": "bilinear"},
             **(attrs or {})), node="st", ok=affine_coords_ok(ds[2], ds[3], *target))
    c += [st((1, 2, 4, 5), (3, 3)), st((2, 1, 5, 5), (6, 4)), st((2, 3, 3, 3), (2, 2)),
          st((1, 1, 6, 4), (4, 5), {"cudnn_off": True})]
    return c


def correlation_ops():
    # FlowNet's Correlation: defaults, padding, displacement strides (r =
    # max_displacement / stride2), a 3x3 kernel, stride1 > 1 with a ceil'd
    # output size, no displacement, the absolute difference (ties between
    # float32-exact inputs are exact in both precisions).
    c = []
    cor = lambda s, attrs=None: Case("Correlation", [("data1", s), ("data2", s)], attrs,
                                     node="corr")
    c += [cor((1, 2, 4, 4)),
          cor((1, 3, 5, 5), {"pad_size": 2, "max_displacement": 2, "stride2": 2}),
          cor((2, 2, 5, 6), {"kernel_size": 3, "pad_size": 2}),
          cor((1, 2, 6, 7), {"stride1": 2, "pad_size": 1}),
          cor((1, 1, 3, 3), {"max_displacement": 0}),
          cor((1, 2, 6, 6), {"max_displacement": 4, "stride2": 2, "pad_size": 4}),
          cor((1, 2, 4, 5), {"is_multiply": False, "pad_size": 1}),
          cor((1, 2, 7, 6), {"is_multiply": False, "kernel_size": 3, "stride1": 2, "stride2": 2,
                             "max_displacement": 2, "pad_size": 2})]
    return c


def psroi_pooling_ops():
    # Position-sensitive ROI pooling (R-FCN): group_size 0 (= pooled_size)
    # and explicit, spatial scales 1 and 1/2, ROIs partly and wholly outside
    # the map (empty bins give 0), more channels than output_dim * g^2 (the
    # extra ones unread), batch indices 0 and 1. ROI corners are whole
    # numbers: MXNet rounds them, so float32 and float64 agree.
    c = []
    ps = lambda s, rois, attrs: Case("contrib.PSROIPooling",
                                     [("data", s), ("rois", (len(rois), 5), Fixed(rois))],
                                     attrs, node="psroi", nograd=("rois",))
    c += [ps((1, 8, 6, 6), [[0, 0, 0, 3, 3], [0, 1, 2, 5, 5], [0, 2, 1, 2, 4]],
             {"spatial_scale": 1.0, "output_dim": 2, "pooled_size": 2}),
          ps((2, 18, 7, 7), [[1, 0, 0, 11, 11], [0, 2, 4, 9, 13], [1, 4, 4, 6, 6]],
             {"spatial_scale": 0.5, "output_dim": 2, "pooled_size": 3}),
          ps((1, 4, 5, 6), [[0, 0, 0, 5, 4], [0, 3, 1, 4, 3]],
             {"spatial_scale": 1.0, "output_dim": 1, "pooled_size": 4, "group_size": 2}),
          ps((1, 10, 4, 4), [[0, -2, -1, 2, 5], [0, 10, 10, 12, 12]],
             {"spatial_scale": 1.0, "output_dim": 2, "pooled_size": 2, "group_size": 2})]
    return c


def norm_layers():
    c = []
    affine = {"gamma": U(0.5, 1.5), "beta": U(-0.5, 0.5)}
    ln = lambda s, attrs=None: Case("LayerNorm", [("data", s)], attrs, node="ln", gens=affine)
    c += [ln((2, 5)), ln((2, 3, 4)), ln((2, 3, 4), {"axis": 1}), ln((3, 4), {"axis": 0,
                                                                            "eps": 1e-3}),
          ln((1, 2, 1, 3, 2), {"axis": -2})]
    inn = lambda s, attrs=None: Case("InstanceNorm", [("data", s)], attrs, node="inorm",
                                     gens=affine)
    c += [inn((2, 3, 4)), inn((2, 3, 2, 2)), inn((1, 2, 3, 2, 2), {"eps": 1e-2})]
    gn = lambda s, g, attrs=None: Case("GroupNorm", [("data", s)],
                                       dict({"num_groups": g}, **(attrs or {})), node="gn",
                                       gens=affine)
    c += [gn((2, 4, 3), 2), gn((2, 4, 2, 2), 1), gn((1, 6, 2, 2), 3, {"eps": 1e-3}),
          gn((2, 4, 3), 4)]
    l2 = lambda s, attrs=None: Case("L2Normalization", [("data", s)], attrs, node="l2")
    c += [l2((2, 5)), l2((2, 3, 4)), l2((2, 3, 2, 2), {"mode": "channel"}),
          l2((2, 3, 2, 2), {"mode": "spatial"}), l2((2, 3, 4), {"mode": "channel",
                                                                "eps": 1e-4})]
    c += [ln((4,)), ln((2, 1, 3), {"axis": 1}), ln((3, 2, 2), {"axis": -3, "eps": 1e-2})]
    c += [inn((1, 1, 5)), inn((3, 2, 1, 3), {"eps": 1e-4})]
    c += [gn((2, 6, 2), 3, {"eps": 1e-2}), gn((1, 4, 2, 1, 2), 2)]
    c += [l2((3, 2, 2, 3), {"mode": "spatial", "eps": 1e-3}),
          l2((1, 2, 3, 2, 2), {"mode": "channel"}), l2((2, 1, 3), {"mode": "instance"})]
    return c


def resize_ops():
    c = []
    c += [Case("UpSampling", pos=[("arg0", s)], attrs=dict({"sample_type": "nearest",
                                                              "num_args": 1}, **a), node="up")
          for s, a in [((1, 2, 2, 3), {"scale": 2}), ((2, 1, 3, 2), {"scale": 3})]]
    c += [Case("UpSampling", pos=[("arg0", (1, 2, 2, 2)), ("arg1", (1, 1, 4, 4))],
               attrs={"sample_type": "nearest", "num_args": 2, "scale": 2,
                      "multi_input_mode": "concat"}, node="up"),
          Case("UpSampling", pos=[("arg0", (1, 2, 2, 2)), ("arg1", (1, 2, 4, 4))],
               attrs={"sample_type": "nearest", "num_args": 2, "scale": 2,
                      "multi_input_mode": "sum"}, node="up")]
    c += [Case("UpSampling", [("data", s)], {"sample_type": "bilinear", "scale": 2,
                                             "num_filter": s[1], "num_args": 2}, node="up")
          for s in [(1, 2, 3, 3), (2, 1, 2, 3)]]
    br = lambda s, attrs: Case("contrib.BilinearResize2D", [("data", s)], attrs, node="resize")
    c += [br((1, 2, 3, 4), {"height": 5, "width": 7}),
          br((1, 1, 4, 4), {"height": 2, "width": 3}),
          br((2, 1, 3, 3), {"scale_height": 2.0, "scale_width": 1.5}),
          br((1, 2, 3, 4), {"height": 6, "width": 5, "align_corners": False}),
          br((1, 1, 5, 5), {"height": 3, "width": 3, "mode": "odd_scale", "scale_height": 0.5,
                            "scale_width": 0.5})]
    ap = lambda s, out: Case("contrib.AdaptiveAvgPooling2D", [("data", s)],
                             {} if out is None else {"output_size": out}, node="apool")
    c += [ap((1, 2, 4, 4), None), ap((1, 2, 5, 7), (2, 3)), ap((2, 1, 4, 6), 2),
          ap((1, 1, 3, 3), (3, 3)), ap((1, 1, 2, 3), (4, 5))]
    c += [ap((2, 3, 5, 5), 3), ap((1, 1, 7, 3), (2, 2)), ap((1, 2, 3, 8), (3, 3))]
    c += [br((1, 2, 5, 4), {"height": 3, "width": 2, "align_corners": False}),
          br((1, 1, 3, 5), {"mode": "to_even_down"}), br((1, 1, 3, 5), {"mode": "to_even_up"}),
          br((1, 1, 4, 5), {"mode": "to_odd_down"}), br((1, 1, 4, 5), {"mode": "to_odd_up"}),
          br((1, 1, 3, 4), {"mode": "odd_scale", "scale_height": 2.0, "scale_width": 1.5}),
          br((2, 1, 3, 3), {"scale_height": 1.5, "scale_width": 2.5, "align_corners": False}),
          br((1, 2, 3, 4), {"height": 1, "width": 1}),
          br((1, 1, 3, 4), {"height": 3, "width": 4, "align_corners": False})]
    c += [Case("contrib.BilinearResize2D", [("data", (1, 2, 3, 4)), ("like", (2, 3, 5, 2))],
               {"mode": "like"}, node="resize"),
          Case("contrib.BilinearResize2D", [("data", (2, 1, 4, 3)), ("like", (2, 1, 2, 6))],
               {"mode": "like", "align_corners": False}, node="resize")]
    c += [Case("UpSampling", pos=[("arg0", (1, 1, 2, 2)), ("arg1", (1, 2, 3, 3)),
                                  ("arg2", (1, 1, 6, 6))],
               attrs={"sample_type": "nearest", "num_args": 3, "scale": 3}, node="up"),
          Case("UpSampling", pos=[("arg0", (2, 2, 1, 2)), ("arg1", (2, 2, 2, 4)),
                                  ("arg2", (2, 2, 4, 8))],
               attrs={"sample_type": "nearest", "num_args": 3, "scale": 4,
                      "multi_input_mode": "sum"}, node="up"),
          Case("UpSampling", [("data", (1, 2, 2, 3))], {"sample_type": "bilinear", "scale": 3,
                                                        "num_filter": 2, "num_args": 2}, node="up"),
          Case("UpSampling", [("data", (2, 3, 2, 2))], {"sample_type": "bilinear", "scale": 1,
                                                        "num_filter": 3, "num_args": 1}, node="up"),
          Case("UpSampling", [("data", (1, 1, 2, 2))], {"sample_type": "bilinear", "scale": 4,
                                                        "num_filter": 1, "num_args": 2}, node="up")]
    return c


def rnn_by_length(attrs):
    """A runner for RNN with use_sequence_length, which MXNet 1.9.1 computes
    only with cuDNN (its CPU operator refuses it): batch element n is MXNet's
    plain RNN over the first sequence_length[n] steps of that element alone,
    which is cuDNN's semantics (outputs past the length are 0, the final
    states are those of the last valid step, the backward direction starts
    there); gradients are assembled the same way (summed over the elements
    for the parameters)."""
    plain = {k: v for k, v in attrs.items() if k != "use_sequence_length"}

    def run(sym, values, grad_names, train, backward, head_grads, dtype, dtypes):
        names = [n for n in sym.list_arguments() if n != "sequence_length"]
        slots = ["data", "parameters", "state", "state_cell"][:len(names)]
        T, N = values["data"].shape[:2]
        lengths = values["sequence_length"].astype(int)
        outs = [np.zeros(h.shape) for h in head_grads]
        grads = {n: np.zeros(values[n].shape) for n in grad_names}
        for n in range(N):
            steps = lengths[n]
            assert 1 <= steps <= T
            one = mx.sym.RNN(**{s: mx.sym.Variable(v) for s, v in zip(slots, names)},
                             **plain, name="rnn")
            # Per-element views: data/output rows [:steps, n], states [:, n].
            rows = lambda a, axis: a[:steps, n:n + 1] if axis == 0 else a[:, n:n + 1]
            vals = {v: values[v] if s == "parameters" else rows(values[v], s != "data")
                    for s, v in zip(slots, names)}
            hg = [rows(h, i != 0) for i, h in enumerate(head_grads)]
            o, g, _ = run_mxnet(one, vals, grad_names, train, backward, hg, dtype, {})
            for i, a in enumerate(o):
                if i == 0:
                    outs[i][:steps, n:n + 1] = a
                else:
                    outs[i][:, n:n + 1] = a
            for v, a in g.items():
                if v == names[1]:
                    grads[v] += a
                elif v == "data":
                    grads[v][:steps, n:n + 1] = a
                else:
                    grads[v][:, n:n + 1] = a
        return outs, grads, {}
    return run


def rnn_ops():
    c = []

    def rnn(mode, layers=1, bidir=False, state_outputs=False, T=3, N=2, I=3, H=2, train=True,
            p=None, projection=None, lengths=None, alias=None, note=None):
        inputs = [("data", (T, N, I))]
        attrs = {"state_size": H, "num_layers": layers, "mode": mode,
                 "bidirectional": bidir, "state_outputs": state_outputs}
        if p is not None:
            attrs["p"] = p
        if projection is not None:
            attrs["projection_size"] = projection
        runner = None
        if lengths is not None:
            inputs.append(("sequence_length", (N,), Fixed(lengths, discrete=True)))
            attrs["use_sequence_length"] = True
            runner = rnn_by_length(attrs)
        return Case("RNN", inputs, attrs, node="rnn", train=train, backward=train,
                    gens={"parameters": U(-0.5, 0.5), "state": U(-0.5, 0.5),
                          "state_cell": U(-0.5, 0.5)}, alias=alias, runner=runner,
                    note=note)

    c += [rnn("lstm"), rnn("lstm", 2, state_outputs=True), rnn("lstm", 1, True),
          rnn("gru"), rnn("gru", 2, True, True), rnn("rnn_tanh"), rnn("rnn_tanh", 2, True),
          rnn("rnn_relu"), rnn("rnn_relu", 1, True, True), rnn("lstm", train=False),
          rnn("gru", N=1, T=5, I=2, H=3)]
    # More layers and directions, state outputs of every mode, edge sizes.
    c += [rnn("lstm", 2, True, True, T=4, N=3, I=5, H=3),
          rnn("gru", 3, False, True, T=2, N=3, I=4, H=4),
          rnn("rnn_relu", 2, True, True, T=4, N=2, I=3, H=3),
          rnn("rnn_tanh", 1, False, True, T=1, N=1, I=1, H=1),
          rnn("lstm", 2, False, False, T=6, N=4, I=8, H=8)]
    # p: dropout between layers, the identity at inference; with one layer
    # there is no layer to drop between, in training too.
    c += [rnn("lstm", 2, False, True, train=False, p=0.3),
          rnn("gru", 1, True, False, p=0.4)]
    # LSTM with a projection (MXNet's CPU operator: inference only, and
    # only with state_outputs).
    c += [rnn("lstm", 2, True, True, H=3, train=False, projection=2),
          rnn("lstm", 1, False, True, T=4, H=3, train=False, projection=1)]
    # MXNet's numpy-frontend alias.
    c += [rnn("gru", 1, False, True, alias="_npx_rnn")]
    # Variable lengths (use_sequence_length), computed by MXNet one batch
    # element at a time: MXNet's CPU operator refuses them (cuDNN only).
    note = ("use_sequence_length: MXNet 1.9.1 runs it only with cuDNN; the reference is MXNet's "
            "plain RNN over each element's first sequence_length steps (cuDNN's semantics)")
    c += [rnn("lstm", 2, True, True, T=4, N=3, lengths=[4, 1, 2], note=note),
          rnn("gru", 1, False, True, T=4, N=2, lengths=[2, 4], note=note),
          rnn("rnn_tanh", 1, True, False, T=3, N=3, lengths=[3, 2, 1], note=note)]
    return c


def sequence_ops():
    # SequenceMask, SequenceLast, SequenceReverse: the ops MXNet's recurrent
    # models use around RNN. Lengths are floats MXNet truncates (2.7 -> 2);
    # they cover 0 and T, and above T for SequenceMask (nothing masked), but
    # not lengths MXNet's kernels access memory outside the tensor with
    # (SequenceLast 0 or > T, SequenceReverse > T, negative ones).
    def seq(op, shape, lengths=None, **attrs):
        inputs = [("data", shape)]
        if lengths is not None:
            inputs.append(("sequence_length", (len(lengths),), Fixed(lengths, discrete=True)))
            attrs["use_sequence_length"] = True
        alias = attrs.pop("alias", None)
        return Case(op, inputs, attrs, nograd={"sequence_length"}, alias=alias)

    c = [seq("SequenceMask", (3, 2, 4)),
         seq("SequenceMask", (4, 3, 2), [2.7, 0, 4], value=-1.0),
         seq("SequenceMask", (3, 5, 2), [5, 1.5, 7], axis=1, value=0.5),
         seq("SequenceMask", (4, 3), [1, 3, 2]),
         seq("SequenceMask", (2, 3, 2, 2), [3, 1], axis=1),
         seq("SequenceMask", (3, 2, 2), [1, 2], value=2.0, alias="_npx_sequence_mask")]
    c += [seq("SequenceLast", (3, 2, 4)),
          seq("SequenceLast", (2, 3, 4), axis=1),
          seq("SequenceLast", (3, 3, 2), [2.7, 1, 3]),
          seq("SequenceLast", (2, 4, 3), [4, 1.9], axis=1),
          seq("SequenceLast", (4, 3), [1, 4, 2]),
          seq("SequenceLast", (2, 3, 2, 2), [2, 3], axis=1)]
    c += [seq("SequenceReverse", (4, 2, 3)),
          seq("SequenceReverse", (4, 3, 2), [2.7, 0, 4]),
          seq("SequenceReverse", (5, 2), [3, 5]),
          seq("SequenceReverse", (3, 2, 2, 2), [1, 2])]
    return c


def rnn_param_concat_ops():
    # Gluon's RNN layers join their flattened weights with _rnn_param_concat
    # before RNN.
    cat = lambda shapes, attrs, **kw: Case(
        "_internal._rnn_param_concat", [], dict(attrs, num_args=len(shapes)),
        pos=[("arg%d" % i, s) for i, s in enumerate(shapes)], node="concat", **kw)
    return [cat([(6,), (4,), (2,)], {"dim": 0}), cat([(2, 3), (2, 1)], {}),
            cat([(2, 3), (1, 3)], {"dim": 0}), cat([(5,)], {"dim": 0})]


def box(rng, n, lo=0.0, hi=1.0, min_size=0.1):
    x1 = rng.uniform(lo, hi - min_size, n)
    y1 = rng.uniform(lo, hi - min_size, n)
    x2 = np.minimum(x1 + rng.uniform(min_size, (hi - lo) / 2, n), hi)
    y2 = np.minimum(y1 + rng.uniform(min_size, (hi - lo) / 2, n), hi)
    return np.stack([x1, y1, x2, y2], axis=-1)


def detection_ops():
    c = []

    # box_encode: matches index refs; some samples negative (targets 0).
    def be(b, n, m, means=(0.0, 0.0, 0.0, 0.0), stds=(0.1, 0.1, 0.2, 0.2)):
        boxes = lambda rng, s: box(rng, int(np.prod(s[:-1]))).reshape(s)
        return Case("contrib.box_encode",
                    [("samples", (b, n), Choice([0.0, 1.0, 1.0], discrete=True)),
                     ("matches", (b, n), Ints(0, m)), ("anchors", (b, n, 4), Fn(boxes)),
                     ("refs", (b, m, 4), Fn(boxes)), ("means", (4,), Fixed(list(means))),
                     ("stds", (4,), Fixed(list(stds)))],
                    backward=False, node="box_encode")
    c += [be(1, 5, 3), be(2, 4, 2), be(1, 1, 1), be(2, 3, 4, (0.1, -0.1, 0.0, 0.2), (1.0, 0.5, 2.0, 1.0))]

    def nms_data(n, batch=None):
        def draw(rng, shape):
            rows = int(np.prod(shape[:-1]))
            cls = rng.randint(0, 2, rows)
            score = rng.permutation(np.linspace(0.05, 0.95, rows))
            b = box(rng, rows)
            return np.concatenate([cls[:, None], score[:, None], b], axis=1).reshape(shape)
        return Fn(draw)

    nms = lambda s, attrs, **kw: Case("contrib.box_nms", [("data", s, nms_data(s[-2]))], attrs,
                                      backward=False, node="nms", **kw)
    c += [nms((6, 6), {"overlap_thresh": 0.5, "coord_start": 2, "score_index": 1, "id_index": 0}),
          nms((6, 6), {"overlap_thresh": 0.3, "coord_start": 2, "score_index": 1}),
          nms((2, 5, 6), {"overlap_thresh": 0.5, "coord_start": 2, "score_index": 1,
                          "id_index": 0, "topk": 3}),
          nms((6, 6), {"overlap_thresh": 0.5, "coord_start": 2, "score_index": 1,
                       "valid_thresh": 0.3, "force_suppress": True}),
          nms((6, 6), {"overlap_thresh": 0.5, "coord_start": 2, "score_index": 1,
                       "in_format": "corner", "out_format": "center"})]
    boxes = lambda n: Fn(lambda rng, s: box(rng, int(np.prod(s[:-1]))).reshape(s))
    c += [Case("contrib.box_iou", [("lhs", (4, 4), boxes(4)), ("rhs", (3, 4), boxes(3))],
               backward=False, node="iou"),
          Case("contrib.box_iou", [("lhs", (2, 3, 4), boxes(6)), ("rhs", (5, 4), boxes(5))],
               backward=False, node="iou"),
          Case("contrib.box_iou", [("lhs", (3, 4), Fn(lambda r, s: np.c_[r.uniform(0.3, .7, (3, 2)),
                                                                        r.uniform(.1, .3, (3, 2))])),
                                   ("rhs", (2, 4), Fn(lambda r, s: np.c_[r.uniform(.3, .7, (2, 2)),
                                                                        r.uniform(.1, .3, (2, 2))]))],
               {"format": "center"}, backward=False, node="iou")]
    mp = lambda s, attrs: Case("contrib.MultiBoxPrior", [("data", s)], attrs, backward=False,
                               node="prior")
    c += [mp((1, 2, 2, 3), {"sizes": (0.5,)}),
          mp((1, 2, 3, 3), {"sizes": (0.5, 0.25), "ratios": (1, 2, 0.5)}),
          mp((1, 1, 2, 2), {"sizes": (0.3,), "clip": True, "steps": (0.4, 0.4),
                            "offsets": (0.25, 0.75)})]

    def mbd(n, classes, anchors, attrs):
        def probs(rng, s):
            p = rng.uniform(0.05, 1, s)
            return p / p.sum(axis=1, keepdims=True)
        anchor = Fn(lambda rng, s: box(rng, s[1], 0.0, 1.0, 0.2).reshape(s))
        return Case("contrib.MultiBoxDetection",
                    [("cls_prob", (n, classes + 1, anchors), Fn(probs)),
                     ("loc_pred", (n, anchors * 4), U(-0.5, 0.5)),
                     ("anchor", (1, anchors, 4), anchor)], attrs, backward=False, node="det")
    c += [mbd(1, 2, 5, {}), mbd(2, 3, 4, {"nms_threshold": 0.3, "threshold": 0.1}),
          mbd(1, 2, 6, {"force_suppress": True, "clip": False,
                        "variances": (0.1, 0.1, 0.2, 0.2)})]

    def rois(n, batch, h, w):
        def draw(rng, s):
            b = box(rng, n, 0.0, 1.0, 0.2) * np.array([w - 1, h - 1, w - 1, h - 1])
            return np.c_[rng.randint(0, batch, n), b]
        return Fn(draw, discrete=True)

    rp = lambda s, n, attrs: Case("ROIPooling", [("data", s, Distinct(-2, 2)),
                                                 ("rois", (n, 5), rois(n, s[0], s[2] / attrs.get(
                                                     "spatial_scale", 1), s[3] / attrs.get(
                                                     "spatial_scale", 1)))],
                                  attrs, node="roipool")
    c += [rp((1, 2, 6, 6), 2, {"pooled_size": (2, 2), "spatial_scale": 1.0}),
          rp((2, 1, 8, 8), 3, {"pooled_size": (3, 2), "spatial_scale": 0.5})]
    ra = lambda s, n, attrs: Case("contrib.ROIAlign", [("data", s),
                                                       ("rois", (n, 5), rois(n, s[0], s[2] /
                                                                             attrs["spatial_scale"],
                                                                             s[3] /
                                                                             attrs["spatial_scale"]))],
                                  attrs, node="roialign")
    c += [ra((1, 2, 6, 6), 2, {"pooled_size": (2, 2), "spatial_scale": 1.0}),
          ra((2, 1, 8, 8), 3, {"pooled_size": (3, 2), "spatial_scale": 0.5, "sample_ratio": 2}),
          ra((1, 2, 5, 5), 2, {"pooled_size": (2, 2), "spatial_scale": 1.0, "aligned": True})]

    def proposal(n, a_scales, a_ratios, h, w, attrs):
        A = len(a_scales) * len(a_ratios)

        def cls(rng, s):
            fg = rng.permutation(np.linspace(0.05, 0.95, n * A * h * w)).reshape(n, A, h, w)
            return np.concatenate([1 - fg, fg], axis=1)
        attrs = dict({"scales": a_scales, "ratios": a_ratios, "feature_stride": 4,
                      "rpn_pre_nms_top_n": 20, "rpn_post_nms_top_n": 5, "rpn_min_size": 1},
                     **attrs)
        return Case("contrib.Proposal",
                    [("cls_prob", (n, 2 * A, h, w), Fn(cls)),
                     ("bbox_pred", (n, 4 * A, h, w), U(-0.2, 0.2)),
                     ("im_info", (n, 3), Fixed([[h * 4, w * 4, 1.0]] * n))],
                    attrs, backward=False, node="proposal")
    c += [proposal(1, (2,), (1,), 3, 4, {}),
          proposal(1, (2, 4), (0.5, 1, 2), 3, 3, {"threshold": 0.5, "output_score": True})]

    # More cases, appended (case names are positional).
    c += [nms((2, 2, 4, 6), {"overlap_thresh": 0.4, "coord_start": 2, "score_index": 1,
                             "id_index": 0, "background_id": 1}),
          nms((6, 6), {"overlap_thresh": 0.5, "coord_start": 2, "score_index": 1, "topk": 0}),
          nms((6, 6), {"overlap_thresh": 0.5, "coord_start": 2, "score_index": 1,
                       "valid_thresh": 0.99}),
          nms((7, 6), {"overlap_thresh": 0.2, "coord_start": 2, "score_index": 1,
                       "id_index": 0, "force_suppress": True, "in_format": "center",
                       "out_format": "corner"}),
          Case("contrib.box_nms",
               [("data", (5, 7), Fn(lambda rng, s: np.c_[
                   rng.permutation(np.linspace(0.1, 0.9, 5)), rng.uniform(-1, 1, 5),
                   rng.randint(0, 2, 5), box(rng, 5)]))],
               {"overlap_thresh": 0.45, "coord_start": 3, "score_index": 0, "id_index": 2,
                "topk": 2}, backward=False, node="nms")]
    # box_nms's gradient: each kept row's head gradient back to its input row.
    c += [Case("contrib.box_nms", [("data", (2, 5, 6), nms_data(5))],
               {"overlap_thresh": 0.3, "coord_start": 2, "score_index": 1, "id_index": 0,
                "topk": 4, "out_format": "center"}, node="nms")]
    c += [Case("contrib.box_iou", [("lhs", (2, 4), boxes(2)), ("rhs", (2, 3, 4), boxes(6))],
               backward=False, node="iou")]
    c += [mp((1, 3, 2, 4), {"sizes": (0.4, 0.2), "ratios": (1, 3)}),
          mp((2, 1, 3, 2), {"sizes": (0.9,), "ratios": (2, 0.5), "clip": True})]
    c += [mbd(1, 3, 6, {"nms_topk": 3, "nms_threshold": 0.4}),
          mbd(2, 2, 5, {"threshold": 0.45, "background_id": 1}),
          mbd(1, 2, 5, {"nms_threshold": 0.0})]
    c += [rp((1, 1, 5, 5), 2, {"pooled_size": (4, 3), "spatial_scale": 1.0})]
    c += [ra((1, 8, 4, 4), 2, {"pooled_size": (2, 2), "spatial_scale": 1.0,
                               "position_sensitive": True}),
          ra((1, 1, 6, 6), 2, {"pooled_size": (3, 3), "spatial_scale": 0.5, "sample_ratio": 1,
                               "aligned": True})]
    c += [proposal(1, (2,), (0.5, 2), 3, 3, {"iou_loss": True, "output_score": True}),
          proposal(1, (2, 3), (1,), 2, 3, {"rpn_pre_nms_top_n": 3, "rpn_post_nms_top_n": 4,
                                            "threshold": 0.3, "output_score": True})]

    def decode(b, n, attrs):
        anchor_gen = (Fn(lambda rng, s: np.c_[rng.uniform(0.3, .7, (n, 2)),
                                              rng.uniform(.1, .3, (n, 2))].reshape(s))
                      if attrs.get("format", "center") == "center" else
                      Fn(lambda rng, s: box(rng, n).reshape(s)))
        return Case("contrib.box_decode", [("data", (b, n, 4), U(-0.5, 0.5)),
                                           ("anchors", (1, n, 4), anchor_gen)],
                    attrs, backward=False, node="decode")
    c += [decode(1, 5, {}), decode(2, 3, {"format": "corner", "std0": 0.1, "std1": 0.1,
                                         "std2": 0.2, "std3": 0.2}),
          decode(1, 4, {"clip": 0.05, "std2": 0.5, "std3": 0.5})]
    return c


def all_cases():
    return (unary_ops() + activations() + binary_ops() + scalar_ops() + misc_elemwise() +
            shape_ops() + index_ops() + creation_ops() + image_shape_ops() + reductions() +
            nn_layers() + softmax_ops() + linalg_ops() + attention_ops() + spatial_ops() +
            correlation_ops() + psroi_pooling_ops() + norm_layers() + resize_ops() +
            rnn_ops() + rnn_param_concat_ops() + sequence_ops() + detection_ops())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "cases"))
    parser.add_argument("--only", nargs="*", help="operators (file names) to regenerate")
    opts = parser.parse_args()
    assert mx.__version__ == MXNET_VERSION, "needs MXNet %s, found %s" % (MXNET_VERSION,
                                                                      mx.__version__)
    groups = {}
    for case in all_cases():
        try:
            groups.setdefault(canonical_op(case), []).append(case)
        except Exception as e:
            sys.exit("cannot build %s %s: %s" % (case.op, case.attrs, e))
    os.makedirs(opts.out, exist_ok=True)
    if not opts.only:
        for f in os.listdir(opts.out):
            if f.endswith(".json") or f.endswith(".f64"):
                os.remove(os.path.join(opts.out, f))
    total = 0
    failures = []
    for op in sorted(groups):
        fname = file_name(op)
        if opts.only and fname not in opts.only and op not in opts.only:
            continue
        w = Writer(op)
        for i, case in enumerate(groups[op]):
            label = "%s-%d" % (op, i)
            try:
                emit(w, case, label, zlib.crc32(label.encode()))
            except Exception as e:  # report every bad case, then fail
                failures.append("%s: %s" % (label, str(e).strip()[:2000]))
        doc = {"operator": op, "mxnet": MXNET_VERSION, "cases": w.cases}
        with open(os.path.join(opts.out, fname + ".json"), "w") as f:
            f.write(json.dumps(doc, indent=1, sort_keys=False) + "\n")
        with open(os.path.join(opts.out, fname + ".f64"), "wb") as f:
            if w.arrays:
                f.write(np.concatenate(w.arrays).astype("<f8").tobytes())
        total += len(w.cases)
        print("%-32s %3d cases" % (op, len(w.cases)))
    print("%d operators, %d cases" % (len(groups), total))
    if failures:
        print("\n%d cases failed:\n%s" % (len(failures), "\n\n".join(failures)))
        sys.exit(1)


if __name__ == "__main__":
    main()
