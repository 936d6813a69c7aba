#!/usr/bin/env python3
"""compare_params.py A.params B.params [--rtol R] [--atol A]

Compares two MXNet .params files (the V2/V3 dense float32 records Kiln writes,
standard library only): the same names and shapes, and for every element
|a - b| <= atol + rtol·|b| (default atol 1e-5, rtol 1e-3). Prints the largest
difference per array with -v, and one summary line; exits 1 on a mismatch."""
import argparse
import struct
import sys


def read_params(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    magic, _, count = take("QQQ")
    if magic != 0x112:
        sys.exit(f"{path}: not an MXNet NDArray list (magic {magic:#x})")
    arrays = []
    for i in range(count):
        (rec,) = take("I")
        if rec not in (0xF993FAC9, 0xF993FACA):
            sys.exit(f"{path}: array {i}: record {rec:#x} is not V2/V3 (Kiln writes V2)")
        (stype,) = take("i")
        if stype != 0:
            sys.exit(f"{path}: array {i}: sparse storage is not supported here")
        (ndim,) = take("I")
        shape = take("q" * ndim) if ndim else ()
        if ndim == 0 and rec == 0xF993FAC9:
            arrays.append(((0,), []))
            continue
        _dev_type, _dev_id, dtype = take("iii")
        if dtype != 0:
            sys.exit(f"{path}: array {i}: dtype {dtype} is not float32")
        n = 1
        for d in shape:
            n *= d
        arrays.append((tuple(shape), take("f" * n) if n else ()))
    (nnames,) = take("Q")
    names = []
    for _ in range(nnames):
        (length,) = take("Q")
        names.append(data[pos:pos + length].decode())
        pos += length
    if not names:
        names = [str(i) for i in range(count)]
    return dict(zip(names, arrays))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("-v", action="store_true")
    args = p.parse_args()
    a, b = read_params(args.a), read_params(args.b)
    if sorted(a) != sorted(b):
        sys.exit(f"different arrays: {sorted(set(a) ^ set(b))}")
    worst, bad, total = 0.0, 0, 0
    for name in sorted(a):
        (sa, va), (sb, vb) = a[name], b[name]
        if sa != sb:
            sys.exit(f"{name}: shape {sa} vs {sb}")
        diff = 0.0
        for x, y in zip(va, vb):
            d = abs(x - y)
            diff = max(diff, d)
            if d > args.atol + args.rtol * abs(y):
                bad += 1
        total += len(va)
        worst = max(worst, diff)
        if args.v:
            print(f"{name} {sa}: max |diff| {diff:.3g}")
    if bad:
        sys.exit(f"{bad} of {total} values differ beyond atol {args.atol} + rtol {args.rtol}; "
                 f"max |diff| {worst:.3g}")
    print(f"equal within tolerance: {len(a)} arrays, {total} values, max |diff| {worst:.3g}")


if __name__ == "__main__":
    main()
