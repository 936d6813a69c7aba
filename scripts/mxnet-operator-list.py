#!/usr/bin/env python3
"""mxnet-operator-list.py OUT.json: writes MXNet's registered operators (run with
MXNet 1.9.1's Python, e.g. /opt/mxvenv/bin/python): for each canonical operator
its registered names (aliases included) and its arguments with MXNet's type and
default strings. test/conformance/mxnet-1.9.1-operators.json was written by it;
RegistryTest checks Kiln's operator registry against that file."""
import ctypes
import json
import sys

import mxnet as mx
from mxnet.base import _LIB, c_str, check_call, py_str


def op_info(name):
    handle = ctypes.c_void_p()
    check_call(_LIB.NNGetOpHandle(c_str(name), ctypes.byref(handle)))
    real_name = ctypes.c_char_p()
    desc = ctypes.c_char_p()
    num_args = ctypes.c_uint()
    arg_names = ctypes.POINTER(ctypes.c_char_p)()
    arg_types = ctypes.POINTER(ctypes.c_char_p)()
    arg_descs = ctypes.POINTER(ctypes.c_char_p)()
    key_var_num_args = ctypes.c_char_p()
    ret_type = ctypes.c_char_p()
    check_call(_LIB.MXSymbolGetAtomicSymbolInfo(
        handle, ctypes.byref(real_name), ctypes.byref(desc), ctypes.byref(num_args),
        ctypes.byref(arg_names), ctypes.byref(arg_types), ctypes.byref(arg_descs),
        ctypes.byref(key_var_num_args), ctypes.byref(ret_type)))
    args = [[py_str(arg_names[i]), py_str(arg_types[i])] for i in range(num_args.value)]
    var = py_str(key_var_num_args.value) if key_var_num_args.value else ""
    return py_str(real_name.value), args, var


def main():
    operators = {}
    for name in mx.operator.get_all_registered_operators():
        canonical, args, var = op_info(name)
        entry = operators.setdefault(canonical, {"names": [], "args": args,
                                                 "key_var_num_args": var})
        entry["names"].append(name)
    for entry in operators.values():
        entry["names"].sort()
    with open(sys.argv[1], "w") as f:
        json.dump({"mxnet": mx.__version__, "operators": dict(sorted(operators.items()))}, f,
                  indent=1)


if __name__ == "__main__":
    main()
