//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// Format reference: numpy/lib/format.py. The header is a Python dict literal;
// only the subset NumPy itself writes (string keys; string, bool and int-tuple
// values) is accepted, since anything else is not an array Kiln can hold.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Npy.h"

#include "kiln/Error.h"
#include "runtime/io/ElementConvert.h"
#include "runtime/io/File.h"

#include <cctype>
#include <cstring>
#include <limits>

namespace kiln {

using io::ElementKind;

static const char kMagic[] = "\x93NUMPY";
static constexpr size_t kMagicLength = 6;
static constexpr size_t kAlignment = 64;

namespace {

[[noreturn]] void fail(const std::string &fileName, const std::string &what) {
  throw Error("'" + fileName + "': " + what);
}

/// A parsed header value: the dict holds only these three shapes of value.
struct HeaderValue {
  enum Kind { String, Bool, Tuple } kind = String;
  std::string text;
  bool flag = false;
  std::vector<int64_t> dims;
};

class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &fileName)
      : text(text), fileName(fileName) {}

  /// Parses the whole dict; returns (key, value) pairs in order.
  std::vector<std::pair<std::string, HeaderValue>> parseDict() {
    std::vector<std::pair<std::string, HeaderValue>> entries;
    skipSpace();
    expect('{', "'{' at the start of the header dict");
    skipSpace();
    while (peek() != '}') {
      std::string key = parseString("a quoted key");
      skipSpace();
      expect(':', "':' after key '" + key + "'");
      skipSpace();
      HeaderValue value = parseValue(key);
      entries.emplace_back(key, std::move(value));
      skipSpace();
      if (peek() == ',') {
        ++pos;
        skipSpace();
        continue;
      }
      if (peek() != '}')
        malformed("expected ',' or '}' after the value of '" + key + "'");
    }
    ++pos;
    // NumPy pads with spaces and ends with '\n'; anything else after the
    // dict means the header is not what it claims to be.
    for (; pos < text.size(); ++pos)
      if (!std::isspace(static_cast<unsigned char>(text[pos])) &&
          text[pos] != '\0')
        malformed("unexpected text after the header dict");
    return entries;
  }

private:
  const std::string &text;
  const std::string &fileName;
  size_t pos = 0;

  [[noreturn]] void malformed(const std::string &why) {
    fail(fileName, "malformed .npy header (" + why + " at offset " +
                       std::to_string(pos) + " of \"" + printable() + "\")");
  }

  std::string printable() const {
    std::string out;
    for (char c : text) {
      if (out.size() > 200) {
        out += "...";
        break;
      }
      if (c == '\n')
        out += "\\n";
      else if (std::isprint(static_cast<unsigned char>(c)))
        out += c;
      else
        out += '?';
    }
    return out;
  }

  char peek() {
    if (pos >= text.size())
      malformed("unexpected end of header");
    return text[pos];
  }
  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  void expect(char c, const std::string &what) {
    if (peek() != c)
      malformed("expected " + what);
    ++pos;
  }

  std::string parseString(const std::string &what) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      malformed("expected " + what);
    ++pos;
    std::string s;
    while (peek() != quote) {
      if (text[pos] == '\\')
        malformed("escape sequences are not supported in strings");
      s += text[pos++];
    }
    ++pos;
    return s;
  }

  int64_t parseInt() {
    size_t start = pos;
    int64_t v = 0;
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      int digit = text[pos] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
        malformed("dimension too large");
      v = v * 10 + digit;
      ++pos;
    }
    if (pos == start)
      malformed("expected a non-negative integer dimension");
    // Python 2 wrote longs as "3L".
    if (pos < text.size() && (text[pos] == 'L' || text[pos] == 'l'))
      ++pos;
    return v;
  }

  HeaderValue parseValue(const std::string &key) {
    HeaderValue v;
    char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = HeaderValue::String;
      v.text = parseString("a string");
      return v;
    }
    if (text.compare(pos, 4, "True") == 0) {
      pos += 4;
      v.kind = HeaderValue::Bool;
      v.flag = true;
      return v;
    }
    if (text.compare(pos, 5, "False") == 0) {
      pos += 5;
      v.kind = HeaderValue::Bool;
      v.flag = false;
      return v;
    }
    if (c == '(') {
      ++pos;
      v.kind = HeaderValue::Tuple;
      skipSpace();
      while (peek() != ')') {
        v.dims.push_back(parseInt());
        skipSpace();
        if (peek() == ',') {
          ++pos;
          skipSpace();
        } else if (peek() != ')') {
          malformed("expected ',' or ')' in the tuple of '" + key + "'");
        }
      }
      ++pos;
      return v;
    }
    if (c == '[')
      fail(fileName, "unsupported dtype: structured arrays ('" + key +
                         "' is a list) are not supported");
    malformed("unsupported value for '" + key + "'");
  }
};

struct DtypeInfo {
  ElementKind kind;
  bool isFloat32;
};

DtypeInfo parseDescr(const std::string &descr, const std::string &fileName) {
  std::string s = descr;
  char order = '=';
  if (!s.empty() && std::strchr("<>|=", s[0])) {
    order = s[0];
    s = s.substr(1);
  }
  if (s.empty())
    fail(fileName, "unsupported dtype '" + descr + "'");
  char kindChar = s[0];
  std::string sizeText = s.substr(1);
  int size = 0;
  bool sizeOk = !sizeText.empty() && sizeText.size() <= 3;
  for (char c : sizeText)
    sizeOk = sizeOk && std::isdigit(static_cast<unsigned char>(c));
  if (sizeOk)
    size = std::stoi(sizeText);

  auto unsupported = [&](const std::string &what) {
    fail(fileName, "unsupported dtype '" + descr + "' (" + what +
                       "); Kiln reads float, integer and bool arrays");
  };
  const char *family = nullptr;
  switch (kindChar) {
  case 'c':
    family = "complex";
    break;
  case 'O':
    family = "Python objects";
    break;
  case 'S':
  case 'a':
  case 'U':
    family = "strings";
    break;
  case 'V':
    family = "raw/structured";
    break;
  case 'M':
  case 'm':
    family = "datetime";
    break;
  default:
    break;
  }
  if (family)
    unsupported(family);

  ElementKind kind;
  bool known = true;
  if (kindChar == 'f' && size == 2)
    kind = ElementKind::F16;
  else if (kindChar == 'f' && size == 4)
    kind = ElementKind::F32;
  else if (kindChar == 'f' && size == 8)
    kind = ElementKind::F64;
  else if (kindChar == 'i' && size == 1)
    kind = ElementKind::I8;
  else if (kindChar == 'i' && size == 2)
    kind = ElementKind::I16;
  else if (kindChar == 'i' && size == 4)
    kind = ElementKind::I32;
  else if (kindChar == 'i' && size == 8)
    kind = ElementKind::I64;
  else if (kindChar == 'u' && size == 1)
    kind = ElementKind::U8;
  else if (kindChar == 'u' && size == 2)
    kind = ElementKind::U16;
  else if (kindChar == 'u' && size == 4)
    kind = ElementKind::U32;
  else if (kindChar == 'u' && size == 8)
    kind = ElementKind::U64;
  else if (kindChar == 'b' && size == 1)
    kind = ElementKind::Bool;
  else
    known = false;
  if (!known)
    unsupported("unknown type code or size");
  // Byte order is meaningless for one-byte elements.
  if (order == '>' && size > 1)
    fail(fileName, "big-endian data ('" + descr +
                       "') is not supported; save it little-endian "
                       "(e.g. arr.astype('<" + s + "'))");
  return {kind, kind == ElementKind::F32};
}

} // namespace

Tensor parseNpy(const std::string &bytes, const std::string &fileName,
                std::string *conversionNote) {
  if (conversionNote)
    conversionNote->clear();
  if (bytes.size() < kMagicLength ||
      std::memcmp(bytes.data(), kMagic, kMagicLength) != 0)
    fail(fileName, "not a .npy file (bad magic; expected \\x93NUMPY)");
  if (bytes.size() < kMagicLength + 2)
    fail(fileName, "truncated .npy header (no version bytes)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  unsigned minor = static_cast<unsigned char>(bytes[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    fail(fileName, "unsupported .npy format version " + std::to_string(major) +
                       "." + std::to_string(minor) +
                       " (Kiln reads 1.0, 2.0 and 3.0)");
  const auto *raw = reinterpret_cast<const unsigned char *>(bytes.data());
  size_t lengthSize = major == 1 ? 2 : 4;
  size_t headerStart = kMagicLength + 2 + lengthSize;
  if (bytes.size() < headerStart)
    fail(fileName, "truncated .npy header (no header length)");
  uint64_t headerLength = io::loadLE(raw + 8, lengthSize);
  if (headerLength > bytes.size() - headerStart)
    fail(fileName, "truncated .npy header: it declares " +
                       std::to_string(headerLength) + " header bytes but only " +
                       std::to_string(bytes.size() - headerStart) + " follow");
  std::string header = bytes.substr(headerStart, headerLength);

  HeaderParser parser(header, fileName);
  auto entries = parser.parseDict();
  const HeaderValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (const auto &entry : entries) {
    const HeaderValue *value = &entry.second;
    if (entry.first == "descr" && value->kind == HeaderValue::String)
      descr = value;
    else if (entry.first == "fortran_order" && value->kind == HeaderValue::Bool)
      fortran = value;
    else if (entry.first == "shape" && value->kind == HeaderValue::Tuple)
      shape = value;
    else
      fail(fileName, "malformed .npy header: unexpected or mistyped key '" +
                         entry.first + "'");
  }
  if (!descr || !fortran || !shape)
    fail(fileName, "malformed .npy header: it needs 'descr', 'fortran_order' "
                   "and 'shape'");

  DtypeInfo dtype = parseDescr(descr->text, fileName);
  if (fortran->flag)
    fail(fileName, "Fortran-ordered arrays (fortran_order: True) are not "
                   "supported; save a C-ordered array "
                   "(np.ascontiguousarray)");

  size_t dataStart = headerStart + headerLength;
  uint64_t available = bytes.size() - dataStart;
  size_t itemSize = io::elementSize(dtype.kind);
  uint64_t count = 0;
  if (!io::checkedElementCount(shape->dims, available / itemSize + 1, count) ||
      count * itemSize > available)
    fail(fileName, "truncated .npy data: shape " + formatShape(shape->dims) +
                       " of '" + descr->text + "' needs more than the " +
                       std::to_string(available) + " data bytes present");
  if (count * itemSize < available)
    fail(fileName, std::to_string(available - count * itemSize) +
                       " unexpected bytes after the data of shape " +
                       formatShape(shape->dims) + " of '" + descr->text + "'");

  Tensor t;
  t.shape = shape->dims;
  t.values = io::convertToFloat(raw + dataStart, count, dtype.kind);
  if (!dtype.isFloat32 && conversionNote)
    *conversionNote = "converted '" + descr->text + "' to float32";
  return t;
}

Tensor readNpy(const std::string &path, std::string *conversionNote) {
  return parseNpy(readFile(path), path, conversionNote);
}

std::string serializeNpy(const Tensor &t) {
  for (int64_t d : t.shape)
    if (d < 0)
      throw Error("cannot write .npy: negative dimension in shape " +
                  formatShape(t.shape));
  if (static_cast<uint64_t>(t.size()) != t.values.size())
    throw Error("cannot write .npy: shape " + formatShape(t.shape) + " has " +
                std::to_string(t.size()) + " elements but the tensor holds " +
                std::to_string(t.values.size()));

  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " +
                     formatShape(t.shape) + ", }";
  // numpy/lib/format.py _wrap_header: pad with 1..64 spaces plus '\n' so the
  // data starts on a 64-byte boundary.
  unsigned major = 1;
  size_t lengthSize = 2;
  size_t unpadded = kMagicLength + 2 + lengthSize + dict.size() + 1;
  size_t padding = kAlignment - unpadded % kAlignment;
  if (dict.size() + 1 + padding > 0xffff) {
    major = 2;
    lengthSize = 4;
    unpadded = kMagicLength + 2 + lengthSize + dict.size() + 1;
    padding = kAlignment - unpadded % kAlignment;
  }
  uint64_t headerLength = dict.size() + padding + 1;

  std::string out(kMagic, kMagicLength);
  out += static_cast<char>(major);
  out += static_cast<char>(0);
  for (size_t i = 0; i < lengthSize; ++i)
    out += static_cast<char>((headerLength >> (8 * i)) & 0xff);
  out += dict;
  out.append(padding, ' ');
  out += '\n';
  out.reserve(out.size() + t.values.size() * 4);
  for (float v : t.values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    for (int i = 0; i < 4; ++i)
      out += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return out;
}

void writeNpy(const std::string &path, const Tensor &t) {
  std::string bytes;
  try {
    bytes = serializeNpy(t);
  } catch (const Error &e) {
    throw Error("'" + path + "': " + e.what());
  }
  writeFileAtomically(path, bytes);
}

} // namespace kiln
