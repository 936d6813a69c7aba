//===- NDArrayFile.cpp - MXNet NDArray list files -------------------------===//
//
// Layout (mx:v1.x src/ndarray/ndarray.cc NDArray::Save/Load/LegacyLoad, and
// dmlc serializer): u64 0x112, u64 reserved, u64 count, count records, u64
// name count (0 or count), names as u64 length + bytes. Record versions:
//   legacy  u32 ndim (no magic), ndim x u32 dims, ctx, i32 dtype, data
//   V1      u32 0xF993FAC8, i32 ndim, ndim x i64 dims, ctx, i32 dtype, data
//   V2      u32 0xF993FAC9, i32 stype, [sparse: storage shape], shape, ...
//   V3      u32 0xF993FACA, as V2 but numpy shape semantics
// A "none" array stops right after its shape: ndim 0 (legacy..V2) or ndim /
// a dim of -1 (V3, where ndim 0 is a real scalar).
//
// Parsing runs in two passes because names sit at the end of the file:
// first the structure (which needs only sizes), then the names, then the
// checks that deserve a name in their message and the conversion.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/NDArrayFile.h"

#include "kiln/Error.h"
#include "runtime/io/ElementConvert.h"
#include "runtime/io/File.h"

#include <cstdio>
#include <cstring>

namespace kiln {

using io::ElementKind;

namespace {

constexpr uint64_t kListMagic = 0x112;
constexpr uint32_t kV1Magic = 0xF993FAC8u;
constexpr uint32_t kV2Magic = 0xF993FAC9u;
constexpr uint32_t kV3Magic = 0xF993FACAu;
// MXNet never builds arrays of more dims than this; a larger ndim is a
// corrupt or misidentified record.
constexpr int64_t kMaxNdim = 32;

constexpr int32_t kDenseStorage = 0;
constexpr int32_t kRowSparseStorage = 1;
constexpr int32_t kCSRStorage = 2;
constexpr int32_t kUndefinedStorage = -1;

/// mshadow's TypeFlag, in flag order.
bool elementKindForFlag(int32_t flag, ElementKind &kind) {
  static const ElementKind kinds[] = {
      ElementKind::F32, ElementKind::F64, ElementKind::F16, ElementKind::U8,
      ElementKind::I32, ElementKind::I8,  ElementKind::I64, ElementKind::Bool,
      ElementKind::I16, ElementKind::U16, ElementKind::U32, ElementKind::U64,
      ElementKind::BF16};
  if (flag < 0 || flag >= static_cast<int32_t>(sizeof(kinds) / sizeof(kinds[0])))
    return false;
  kind = kinds[flag];
  return true;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08X", v);
  return buf;
}

struct Record {
  size_t offset = 0;
  int version = 0; // 0 = legacy
  bool none = false;
  int32_t stype = kDenseStorage;
  std::vector<int64_t> shape;
  ElementKind kind = ElementKind::F32;
  size_t dataOffset = 0;
  uint64_t count = 0;
};

class Parser {
public:
  Parser(const std::string &bytes, const std::string &fileName)
      : bytes(bytes), fileName(fileName),
        raw(reinterpret_cast<const unsigned char *>(bytes.data())) {}

  NDArrayList parse() {
    context = "the list header";
    uint64_t magic = u64("magic");
    if (magic != kListMagic)
      fail("not an MXNet NDArray list (bad magic 0x" + hex64(magic) +
           ", expected 0x112)");
    u64("reserved field");
    uint64_t count = u64("array count");
    // Every record takes at least 4 bytes, so a larger count is corrupt;
    // checking first keeps a bad count from driving a huge reserve().
    if (count > remaining() / 4)
      fail("truncated or corrupt file: array count " + std::to_string(count) +
           " needs at least " + std::to_string(count) + " x 4 more bytes but " +
           "only " + std::to_string(remaining()) + " remain");

    std::vector<Record> records;
    records.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      context = "array " + std::to_string(i);
      records.push_back(parseRecord());
    }

    NDArrayList list;
    context = "the name list";
    uint64_t nameCount = u64("name count");
    if (nameCount != 0 && nameCount != count)
      fail("the file has " + std::to_string(count) + " arrays but " +
           std::to_string(nameCount) + " names (expected 0 or " +
           std::to_string(count) + ")");
    list.names.reserve(nameCount);
    for (uint64_t i = 0; i < nameCount; ++i) {
      context = "name " + std::to_string(i);
      uint64_t length = u64("length");
      need(length, "the name text");
      list.names.push_back(bytes.substr(pos, length));
      pos += length;
    }
    if (pos != bytes.size()) {
      context = "the end of the file";
      fail(std::to_string(bytes.size() - pos) +
           " unexpected trailing bytes after the name list");
    }

    list.arrays.reserve(count);
    for (size_t i = 0; i < records.size(); ++i)
      list.arrays.push_back(convert(records[i], i, list.names));
    return list;
  }

private:
  const std::string &bytes;
  const std::string &fileName;
  const unsigned char *raw;
  size_t pos = 0;
  std::string context;

  static std::string hex64(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%llX", static_cast<unsigned long long>(v));
    return buf;
  }

  [[noreturn]] void fail(const std::string &what) const {
    throw Error("'" + fileName + "': " + context + ": " + what);
  }

  size_t remaining() const { return bytes.size() - pos; }

  void need(uint64_t n, const std::string &what) const {
    if (n > remaining())
      fail("truncated file: " + what + " needs " + std::to_string(n) +
           " bytes at offset " + std::to_string(pos) + " but only " +
           std::to_string(remaining()) + " remain");
  }

  uint64_t readLE(size_t n, const std::string &what) {
    need(n, what);
    uint64_t v = io::loadLE(raw + pos, n);
    pos += n;
    return v;
  }
  uint64_t u64(const std::string &what) { return readLE(8, what); }
  uint32_t u32(const std::string &what) {
    return static_cast<uint32_t>(readLE(4, what));
  }
  int32_t i32(const std::string &what) {
    return static_cast<int32_t>(static_cast<uint32_t>(readLE(4, what)));
  }
  int64_t i64(const std::string &what) {
    return static_cast<int64_t>(readLE(8, what));
  }

  /// Reads a V1-V3 shape (i32 ndim + i64 dims). Returns false for V3's
  /// unknown shapes, which mark a none array.
  bool readShape(int version, const std::string &what,
                 std::vector<int64_t> &dims) {
    int32_t ndim = i32(what + " ndim");
    if (version == 3 && ndim == -1)
      return false;
    if (ndim < 0 || ndim > kMaxNdim)
      fail("implausible " + what + " ndim " + std::to_string(ndim));
    need(static_cast<uint64_t>(ndim) * 8, what + " dims");
    dims.resize(ndim);
    bool known = true;
    for (int32_t d = 0; d < ndim; ++d) {
      dims[d] = i64(what + " dims");
      if (version == 3 && dims[d] == -1)
        known = false;
      else if (dims[d] < 0)
        fail("negative dimension in " + what + " " + formatShape(dims));
    }
    return known;
  }

  ElementKind readTypeFlag(const std::string &what) {
    int32_t flag = i32(what);
    ElementKind kind;
    if (!elementKindForFlag(flag, kind))
      fail("unknown " + what + " " + std::to_string(flag) +
           " (MXNet's flags are 0..12)");
    return kind;
  }

  /// Checks that COUNT elements of KIND fit in what is left and skips them.
  uint64_t skipElements(const std::vector<int64_t> &dims, ElementKind kind,
                        const std::string &what) {
    size_t size = io::elementSize(kind);
    uint64_t count = 0;
    if (!io::checkedElementCount(dims, remaining() / size, count) ||
        count * size > remaining())
      fail("truncated file: " + what + " of shape " + formatShape(dims) +
           " needs more than the " + std::to_string(remaining()) +
           " bytes that remain at offset " + std::to_string(pos));
    pos += count * size;
    return count;
  }

  Record parseRecord() {
    Record r;
    r.offset = pos;
    uint32_t magic = u32("record header");
    if (magic == kV2Magic || magic == kV3Magic) {
      r.version = magic == kV2Magic ? 2 : 3;
      r.stype = i32("storage type");
      if (r.stype != kDenseStorage && r.stype != kRowSparseStorage &&
          r.stype != kCSRStorage && r.stype != kUndefinedStorage)
        fail("unknown storage type " + std::to_string(r.stype));
    } else if (magic == kV1Magic) {
      r.version = 1;
    } else {
      r.version = 0;
      if (magic > static_cast<uint32_t>(kMaxNdim))
        fail("unrecognized record header " + hex32(magic) +
             " (neither an NDArray magic nor a plausible legacy ndim)");
    }
    int auxCount = r.stype == kRowSparseStorage ? 1
                   : r.stype == kCSRStorage     ? 2
                                                : 0;

    std::vector<int64_t> storageShape;
    if (auxCount > 0 && !readShape(r.version, "storage shape", storageShape)) {
      r.none = true;
      return r;
    }

    if (r.version == 0) {
      uint32_t ndim = magic;
      need(static_cast<uint64_t>(ndim) * 4, "shape dims");
      r.shape.resize(ndim);
      for (uint32_t d = 0; d < ndim; ++d)
        r.shape[d] = u32("shape dims");
    } else if (!readShape(r.version, "shape", r.shape)) {
      r.none = true;
      return r;
    }
    if (r.version != 3 && r.shape.empty()) {
      r.none = true;
      return r;
    }

    i32("device type");
    i32("device id");
    r.kind = readTypeFlag("dtype flag");
    std::vector<ElementKind> auxKinds(auxCount);
    std::vector<std::vector<int64_t>> auxShapes(auxCount);
    for (int a = 0; a < auxCount; ++a) {
      auxKinds[a] = readTypeFlag("aux dtype flag");
      if (!readShape(r.version, "aux shape", auxShapes[a]))
        fail("unknown aux shape");
    }
    r.dataOffset = pos;
    r.count = skipElements(auxCount ? storageShape : r.shape, r.kind, "data");
    for (int a = 0; a < auxCount; ++a)
      skipElements(auxShapes[a], auxKinds[a], "aux data");
    return r;
  }

  Tensor convert(const Record &r, size_t index,
                 const std::vector<std::string> &names) {
    context = names.empty() ? "array " + std::to_string(index)
                            : "array '" + names[index] + "' (index " +
                                  std::to_string(index) + ")";
    // A none array carries no data, whatever its storage type says.
    if (r.none)
      return Tensor({0}, {});
    if (r.stype == kRowSparseStorage || r.stype == kCSRStorage)
      throw Error(context + " in '" + fileName + "' uses " +
                  (r.stype == kRowSparseStorage ? "row_sparse" : "csr") +
                  " storage, which Kiln does not support");
    if (r.stype == kUndefinedStorage)
      fail("has undefined storage type -1 but holds data");
    Tensor t;
    t.shape = r.shape;
    t.values = io::convertToFloat(raw + r.dataOffset, r.count, r.kind);
    return t;
  }
};

void putLE(std::string &out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

} // namespace

NDArrayList parseNDArrayList(const std::string &bytes,
                             const std::string &fileName) {
  return Parser(bytes, fileName).parse();
}

NDArrayList loadNDArrayFile(const std::string &path) {
  return parseNDArrayList(readFile(path), path);
}

std::string serializeNDArrayList(const NDArrayList &list) {
  if (!list.names.empty() && list.names.size() != list.arrays.size())
    throw Error("cannot write an NDArray list of " +
                std::to_string(list.arrays.size()) + " arrays with " +
                std::to_string(list.names.size()) + " names");
  std::string out;
  putLE(out, kListMagic, 8);
  putLE(out, 0, 8);
  putLE(out, list.arrays.size(), 8);
  for (size_t i = 0; i < list.arrays.size(); ++i) {
    const Tensor &t = list.arrays[i];
    std::string what = list.names.empty()
                           ? "array " + std::to_string(i)
                           : "array '" + list.names[i] + "'";
    for (int64_t d : t.shape)
      if (d < 0)
        throw Error("cannot write " + what + ": negative dimension in shape " +
                    formatShape(t.shape));
    if (static_cast<uint64_t>(t.size()) != t.values.size())
      throw Error("cannot write " + what + ": shape " + formatShape(t.shape) +
                  " has " + std::to_string(t.size()) +
                  " elements but the tensor holds " +
                  std::to_string(t.values.size()));
    bool scalar = t.shape.empty();
    putLE(out, scalar ? kV3Magic : kV2Magic, 4);
    putLE(out, static_cast<uint32_t>(kDenseStorage), 4);
    if (t.values.empty()) {
      // A none record: MXNet 1.x reads any zero-size V2 shape as none and
      // then expects no further fields, so write exactly that.
      putLE(out, 0, 4);
      continue;
    }
    putLE(out, static_cast<uint32_t>(t.shape.size()), 4);
    for (int64_t d : t.shape)
      putLE(out, static_cast<uint64_t>(d), 8);
    putLE(out, 1, 4); // dev_type cpu
    putLE(out, 0, 4); // dev_id
    putLE(out, 0, 4); // float32
    out.reserve(out.size() + t.values.size() * 4);
    for (float v : t.values) {
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof(bits));
      putLE(out, bits, 4);
    }
  }
  putLE(out, list.names.size(), 8);
  for (const std::string &name : list.names) {
    putLE(out, name.size(), 8);
    out += name;
  }
  return out;
}

void saveNDArrayFile(const std::string &path, const NDArrayList &list) {
  std::string bytes;
  try {
    bytes = serializeNDArrayList(list);
  } catch (const Error &e) {
    throw Error("'" + path + "': " + e.what());
  }
  writeFileAtomically(path, bytes);
}

} // namespace kiln
