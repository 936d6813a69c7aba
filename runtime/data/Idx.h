//===- runtime/data/Idx.h - IDX files (MNIST format) ------------*- C++ -*-===//
//
// The IDX format of LeCun's MNIST files, also used by Fashion-MNIST:
//
//   u8 0, u8 0, u8 type, u8 ndim, ndim × u32 big-endian dims, data
//
// with type 0x08 unsigned byte, 0x09 signed byte, 0x0B i16, 0x0C i32,
// 0x0D f32, 0x0E f64, multi-byte values big-endian, and data exactly
// prod(dims) elements. Files may be gzip-compressed (as Debian ships them);
// compression is recognised by the gzip magic, not by the file name.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_IDX_H
#define KILN_RUNTIME_DATA_IDX_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

enum class IdxType : uint8_t {
  UInt8 = 0x08,
  Int8 = 0x09,
  Int16 = 0x0B,
  Int32 = 0x0C,
  Float32 = 0x0D,
  Float64 = 0x0E,
};

/// "unsigned byte", "float32", ... for messages.
const char *idxTypeName(IdxType type);

struct IdxArray {
  IdxType type = IdxType::UInt8;
  std::vector<int64_t> dims;
  /// The elements as stored: big-endian for multi-byte types.
  std::string payload;

  int64_t numElements() const { return Tensor::numElements(dims); }
  /// The elements converted to float32, shaped `dims`.
  Tensor toTensor() const;
};

/// Reads an IDX file, gunzipping it when it starts with the gzip magic.
/// Throws kiln::Error naming PATH for an unreadable or corrupt file, a bad
/// magic, an unknown type, or a size that disagrees with the dims.
IdxArray readIdx(const std::string &path);

/// Parses the (already decompressed) bytes of an IDX file; `fileName` is used
/// only in messages.
IdxArray parseIdx(std::string bytes, const std::string &fileName);

/// The bytes of a gzip stream (one or more members), decompressed. Throws
/// kiln::Error naming `fileName` on corrupt or truncated input.
std::string gunzip(const std::string &bytes, const std::string &fileName);

} // namespace kiln

#endif // KILN_RUNTIME_DATA_IDX_H
