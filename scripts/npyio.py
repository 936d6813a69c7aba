"""The one small .npy reader/writer (NumPy format 1.0, little-endian, C order)
shared by Kiln's scripts and lit test helpers, so none of them needs NumPy."""
import ast
import struct

_FORMATS = {"<f4": "f", "<f8": "d", ">f4": "f"}


def npy_encode(shape, values, descr="<f4", magic=b"\x93NUMPY"):
    """The bytes of a .npy file; `descr` may be <f4, <f8 or >f4 and `magic`
    wrong on purpose, so tests can make bad files too."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    endian = ">" if descr.startswith(">") else "<"
    payload = struct.pack("%s%d%s" % (endian, len(values), _FORMATS[descr]), *values)
    return magic + b"\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def write_npy(path, shape, values, descr="<f4"):
    with open(path, "wb") as f:
        f.write(npy_encode(shape, values, descr))


def read_npy(path):
    """Returns (shape, values, descr) of a <f4 or <f8 .npy file."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    hlen_size = 2 if raw[6] == 1 else 4
    hlen = int.from_bytes(raw[8:8 + hlen_size], "little")
    start = 8 + hlen_size + hlen
    header = ast.literal_eval(raw[8 + hlen_size:start].decode())
    descr = header["descr"]
    shape = tuple(header["shape"])
    count = 1
    for d in shape:
        count *= d
    size = struct.calcsize(_FORMATS[descr])
    values = struct.unpack("<%d%s" % (count, _FORMATS[descr]), raw[start:start + size * count])
    return shape, values, descr
