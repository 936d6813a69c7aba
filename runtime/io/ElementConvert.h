//===- runtime/io/ElementConvert.h - Raw elements to float32 ----*- C++ -*-===//
//
// Both file formats store little-endian elements of many types and Kiln holds
// float32 only. Decoding goes byte by byte so the result does not depend on
// the host's byte order or on the alignment of the element in the file.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IO_ELEMENTCONVERT_H
#define KILN_RUNTIME_IO_ELEMENTCONVERT_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace kiln {
namespace io {

/// The element types both formats can carry.
enum class ElementKind { F16, BF16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, Bool };

inline size_t elementSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::I8:
  case ElementKind::U8:
  case ElementKind::Bool:
    return 1;
  case ElementKind::F16:
  case ElementKind::BF16:
  case ElementKind::I16:
  case ElementKind::U16:
    return 2;
  case ElementKind::F32:
  case ElementKind::I32:
  case ElementKind::U32:
    return 4;
  case ElementKind::F64:
  case ElementKind::I64:
  case ElementKind::U64:
    return 8;
  }
  return 0;
}

inline uint64_t loadLE(const unsigned char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// IEEE binary16 to binary32. Every half value, subnormals included, is
/// exactly representable in float, so this is exact.
inline float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) // Inf or NaN; keep the payload.
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

/// bfloat16 is the upper half of a binary32.
inline float bfloat16ToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

/// Converts COUNT elements starting at DATA; the caller has checked that
/// COUNT * elementSize(kind) bytes are there.
inline std::vector<float> convertToFloat(const unsigned char *data,
                                         size_t count, ElementKind kind) {
  std::vector<float> out(count);
  size_t size = elementSize(kind);
  for (size_t i = 0; i < count; ++i) {
    const unsigned char *p = data + i * size;
    uint64_t raw = loadLE(p, size);
    float v = 0.0f;
    switch (kind) {
    case ElementKind::F16:
      v = halfToFloat(static_cast<uint16_t>(raw));
      break;
    case ElementKind::BF16:
      v = bfloat16ToFloat(static_cast<uint16_t>(raw));
      break;
    case ElementKind::F32:
      v = bitsToFloat(static_cast<uint32_t>(raw));
      break;
    case ElementKind::F64: {
      double d;
      std::memcpy(&d, &raw, sizeof(d));
      v = static_cast<float>(d);
      break;
    }
    case ElementKind::I8:
      v = static_cast<float>(static_cast<int8_t>(raw));
      break;
    case ElementKind::I16:
      v = static_cast<float>(static_cast<int16_t>(raw));
      break;
    case ElementKind::I32:
      v = static_cast<float>(static_cast<int32_t>(raw));
      break;
    case ElementKind::I64:
      v = static_cast<float>(static_cast<int64_t>(raw));
      break;
    case ElementKind::U8:
    case ElementKind::U16:
    case ElementKind::U32:
    case ElementKind::U64:
      v = static_cast<float>(raw);
      break;
    case ElementKind::Bool:
      v = raw != 0 ? 1.0f : 0.0f;
      break;
    }
    out[i] = v;
  }
  return out;
}

/// Multiplies DIMS into an element count, or returns false when it exceeds
/// LIMIT (or overflows), so corrupt files cannot trigger huge allocations.
inline bool checkedElementCount(const std::vector<int64_t> &dims,
                                uint64_t limit, uint64_t &count) {
  uint64_t n = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d < 0)
      return false;
    if (d == 0)
      zero = true;
  }
  if (zero) {
    count = 0;
    return true;
  }
  for (int64_t d : dims) {
    uint64_t ud = static_cast<uint64_t>(d);
    if (ud > limit || n > limit / ud)
      return false;
    n *= ud;
  }
  // A rank-0 shape has one element even though no dim was checked.
  if (n > limit)
    return false;
  count = n;
  return true;
}

} // namespace io
} // namespace kiln

#endif // KILN_RUNTIME_IO_ELEMENTCONVERT_H
