#!/usr/bin/env python3
"""ctypes_binding.py LIBKILN: Kiln's C API from Python with nothing but ctypes.

What a binding for another language does: load libkiln.so, declare the
signatures from include/kiln/c_api.h, create arrays, call an operator by its
MXNet name with attribute strings, record and differentiate, read values
back, and turn a failure into the message kiln_last_error() gives. Prints
values that are checked by hand (test/lit/Examples/c-api-ctypes.test).
"""
import ctypes as C
import sys

lib = C.CDLL(sys.argv[1])
nd_t = C.c_void_p
lib.kiln_last_error.restype = C.c_char_p
lib.kiln_nd_create_from_data.argtypes = [C.POINTER(C.c_int64), C.c_int, C.POINTER(C.c_float),
                                         C.c_size_t, C.POINTER(nd_t)]
lib.kiln_nd_invoke.argtypes = [C.c_char_p, C.POINTER(nd_t), C.c_int, C.POINTER(C.c_char_p),
                               C.POINTER(C.c_char_p), C.c_int, C.c_int, C.POINTER(nd_t),
                               C.POINTER(C.c_int)]
lib.kiln_nd_copy_to.argtypes = [nd_t, C.POINTER(C.c_float), C.c_size_t]
lib.kiln_nd_shape.argtypes = [nd_t, C.POINTER(C.c_int), C.POINTER(C.POINTER(C.c_int64))]
lib.kiln_nd_free.argtypes = [nd_t]
lib.kiln_nd_attach_grad.argtypes = [nd_t, C.c_int]
lib.kiln_nd_grad.argtypes = [nd_t, C.POINTER(nd_t)]
lib.kiln_autograd_record_begin.argtypes = [C.c_int]
lib.kiln_autograd_backward.argtypes = [C.POINTER(nd_t), C.c_int, C.POINTER(nd_t), C.c_int]


class KilnError(RuntimeError):
    pass


def check(status):
    if status != 0:
        raise KilnError(lib.kiln_last_error().decode())


def array(shape, values):
    dims = (C.c_int64 * len(shape))(*shape)
    data = (C.c_float * len(values))(*values)
    out = nd_t()
    check(lib.kiln_nd_create_from_data(dims, len(shape), data, len(values), C.byref(out)))
    return out


def invoke(op, inputs, **attrs):
    ins = (nd_t * len(inputs))(*inputs)
    keys = (C.c_char_p * len(attrs))(*[k.encode() for k in attrs])
    vals = (C.c_char_p * len(attrs))(*[str(v).encode() for v in attrs.values()])
    outs = (nd_t * 4)()
    n = C.c_int()
    check(lib.kiln_nd_invoke(op.encode(), ins, len(inputs), keys, vals, len(attrs), 4, outs,
                             C.byref(n)))
    return [outs[i] for i in range(n.value)]


def values(a):
    ndim = C.c_int()
    dims = C.POINTER(C.c_int64)()
    check(lib.kiln_nd_shape(a, C.byref(ndim), C.byref(dims)))
    shape = [dims[i] for i in range(ndim.value)]
    count = 1
    for d in shape:
        count *= d
    buf = (C.c_float * count)()
    check(lib.kiln_nd_copy_to(a, buf, count))
    return shape, [round(v, 4) for v in buf]


x = array([2, 2], [1, -2, 3, -4])
w = array([3, 2], [1, 0, 0, 1, 1, 1])
(y,) = invoke("FullyConnected", [x, w], num_hidden=3, no_bias=True)
print("fc", *values(y))                     # rows of x . w^T
(r,) = invoke("Activation", [y], act_type="relu")
print("relu", *values(r))
row = array([3], [10, 20, 30])
(s,) = invoke("broadcast_add", [r, row])
print("broadcast", *values(s))

check(lib.kiln_nd_attach_grad(w, 1))
check(lib.kiln_autograd_record_begin(1))
(p,) = invoke("FullyConnected", [x, w], num_hidden=3, no_bias=True)
(loss,) = invoke("sum", [p])
check(lib.kiln_autograd_scope_end())
heads = (nd_t * 1)(loss)
check(lib.kiln_autograd_backward(heads, 1, None, 0))
g = nd_t()
check(lib.kiln_nd_grad(w, C.byref(g)))
print("grad", *values(g))                   # d sum(x w^T) / dw = column sums of x, per row

try:
    invoke("NoSuchOp", [x])
except KilnError as e:
    print("error:", e)
for a in (x, w, y, r, row, s, p, loss, g):
    check(lib.kiln_nd_free(a))
print("ok")
