//===- Idx.cpp - IDX files (MNIST format) ---------------------------------===//

#include "runtime/data/Idx.h"

#include "kiln/Error.h"
#include "runtime/io/File.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

namespace kiln {

const char *idxTypeName(IdxType type) {
  switch (type) {
  case IdxType::UInt8:
    return "unsigned byte";
  case IdxType::Int8:
    return "signed byte";
  case IdxType::Int16:
    return "int16";
  case IdxType::Int32:
    return "int32";
  case IdxType::Float32:
    return "float32";
  case IdxType::Float64:
    return "float64";
  }
  return "unknown";
}

static int64_t elementBytes(IdxType type) {
  switch (type) {
  case IdxType::UInt8:
  case IdxType::Int8:
    return 1;
  case IdxType::Int16:
    return 2;
  case IdxType::Int32:
  case IdxType::Float32:
    return 4;
  case IdxType::Float64:
    return 8;
  }
  return 0;
}

static bool isKnownType(uint8_t code) {
  return code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C || code == 0x0D ||
         code == 0x0E;
}

static uint64_t readBigEndian(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | p[i];
  return v;
}

Tensor IdxArray::toTensor() const {
  Tensor t(dims);
  auto *p = reinterpret_cast<const unsigned char *>(payload.data());
  int64_t n = numElements();
  for (int64_t i = 0; i < n; ++i) {
    float &out = t.values[i];
    switch (type) {
    case IdxType::UInt8:
      out = static_cast<float>(p[i]);
      break;
    case IdxType::Int8:
      out = static_cast<float>(static_cast<int8_t>(p[i]));
      break;
    case IdxType::Int16:
      out = static_cast<float>(static_cast<int16_t>(readBigEndian(p + 2 * i, 2)));
      break;
    case IdxType::Int32:
      out = static_cast<float>(static_cast<int32_t>(readBigEndian(p + 4 * i, 4)));
      break;
    case IdxType::Float32: {
      uint32_t bits = static_cast<uint32_t>(readBigEndian(p + 4 * i, 4));
      std::memcpy(&out, &bits, 4);
      break;
    }
    case IdxType::Float64: {
      uint64_t bits = readBigEndian(p + 8 * i, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      out = static_cast<float>(d);
      break;
    }
    }
  }
  return t;
}

std::string gunzip(const std::string &bytes, const std::string &fileName) {
  std::string out;
  // The trailer's ISIZE is the last member's size mod 2^32: exact for the
  // single-member files data sets ship, and only a hint otherwise.
  if (bytes.size() >= 18) {
    auto *t = reinterpret_cast<const unsigned char *>(bytes.data() + bytes.size() - 4);
    out.reserve(t[0] | t[1] << 8 | t[2] << 16 | static_cast<uint32_t>(t[3]) << 24);
  }

  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 + 16: a gzip wrapper (not zlib, not raw deflate).
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    throw Error("cannot decompress '" + fileName + "': zlib initialisation failed");
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.data()));
  size_t inputLeft = bytes.size();
  char buffer[1 << 16];
  while (true) {
    // avail_in is 32-bit; feed at most 1 GiB at a time.
    if (zs.avail_in == 0 && inputLeft > 0) {
      zs.avail_in = static_cast<uInt>(std::min<size_t>(inputLeft, 1u << 30));
      inputLeft -= zs.avail_in;
    }
    zs.next_out = reinterpret_cast<Bytef *>(buffer);
    zs.avail_out = sizeof(buffer);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - zs.avail_out);
    if (rc == Z_STREAM_END) {
      // gzip allows concatenated members; anything else after the end is
      // not ours to guess about.
      if (zs.avail_in == 0 && inputLeft == 0)
        break;
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      inflateEnd(&zs);
      throw Error("cannot decompress '" + fileName + "': trailing garbage after the gzip data");
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && inputLeft == 0) {
      inflateEnd(&zs);
      throw Error("cannot decompress '" + fileName + "': truncated gzip data");
    }
    if (rc != Z_OK) {
      std::string why = zs.msg ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      throw Error("cannot decompress '" + fileName + "': corrupt gzip data (" + why + ")");
    }
  }
  inflateEnd(&zs);
  return out;
}

IdxArray parseIdx(std::string bytes, const std::string &fileName) {
  auto fail = [&](const std::string &why) -> Error {
    return Error("'" + fileName + "' is not a valid IDX file: " + why);
  };
  auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  if (bytes.size() < 4)
    throw fail("it has " + std::to_string(bytes.size()) + " bytes, fewer than the 4-byte magic");
  if (p[0] != 0 || p[1] != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%02X%02X%02X%02X", p[0], p[1], p[2], p[3]);
    throw fail(std::string("bad magic ") + hex + " (an IDX file starts with two zero bytes)");
  }
  if (!isKnownType(p[2])) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02X", p[2]);
    throw fail(std::string("unknown element type ") + hex);
  }
  IdxArray a;
  a.type = static_cast<IdxType>(p[2]);
  int ndim = p[3];
  if (ndim == 0)
    throw fail("it has 0 dimensions");
  size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (bytes.size() < header)
    throw fail("truncated header: " + std::to_string(ndim) + " dimensions need " +
               std::to_string(header) + " bytes, the file has " + std::to_string(bytes.size()));
  int64_t count = 1;
  for (int i = 0; i < ndim; ++i) {
    int64_t d = static_cast<int64_t>(readBigEndian(p + 4 + 4 * i, 4));
    if (d == 0)
      throw fail("dimension " + std::to_string(i) + " is 0");
    if (count > std::numeric_limits<int64_t>::max() / d / 8)
      throw fail("the dimensions' product overflows");
    count *= d;
    a.dims.push_back(d);
  }
  int64_t want = count * elementBytes(a.type);
  int64_t have = static_cast<int64_t>(bytes.size() - header);
  if (have < want)
    throw fail("truncated: shape " + formatShape(a.dims) + " of " + idxTypeName(a.type) +
               " needs " + std::to_string(want) + " data bytes, the file has " +
               std::to_string(have));
  if (have > want)
    throw fail(std::to_string(have - want) + " bytes after the " + std::to_string(want) +
               " data bytes of shape " + formatShape(a.dims));
  // Shift in place rather than copy: the buffer's pages are already touched.
  bytes.erase(0, header);
  a.payload = std::move(bytes);
  return a;
}

IdxArray readIdx(const std::string &path) {
  std::string bytes = readFile(path);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b)
    bytes = gunzip(bytes, path);
  return parseIdx(std::move(bytes), path);
}

} // namespace kiln
