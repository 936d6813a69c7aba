//===- MXNetAttrs.cpp - MXNet attribute strings ---------------------------===//
//
// Parsing is deliberately as lenient as MXNet's own readers (dmlc-core's
// FieldEntry and mxnet::Tuple's operator>>), because real files were written
// by Python 2, Python 3 and C++ printers; formatting follows Python's repr so
// the files Kiln writes look like the ones MXNet's Python front end writes.
//
//===----------------------------------------------------------------------===//

#include "Import/MXNetAttrs.h"

#include "kiln/Error.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kiln::mx {

namespace {

std::string trim(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

[[noreturn]] void fail(const std::string &context, const std::string &what,
                       const std::string &value) {
  std::string msg = context.empty() ? std::string() : context + ": ";
  throw Error(msg + "expected " + what + ", got '" + value + "'");
}

// Python 2 wrote longs as "3L"; MXNet's tuple reader strips the suffix, so we
// do too (for scalars as well as tuple elements).
bool parseIntToken(const std::string &token, int64_t &out) {
  std::string t = trim(token);
  if (!t.empty() && (t.back() == 'L' || t.back() == 'l'))
    t.pop_back();
  if (t.empty())
    return false;
  const char *begin = t.c_str();
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(begin, &end, 10);
  if (errno != 0 || end == begin || *end != '\0')
    return false;
  out = v;
  return true;
}

} // namespace

bool parseBool(const std::string &value, const std::string &context) {
  // dmlc-core compares case-insensitively against true/false/1/0.
  std::string v = lower(trim(value));
  if (v == "true" || v == "1")
    return true;
  if (v == "false" || v == "0")
    return false;
  fail(context, "a boolean (True/False/1/0)", value);
}

int64_t parseInt(const std::string &value, const std::string &context) {
  int64_t v = 0;
  if (!parseIntToken(value, v))
    fail(context, "an integer", value);
  return v;
}

double parseFloat(const std::string &value, const std::string &context) {
  std::string t = trim(value);
  if (t.empty())
    fail(context, "a number", value);
  const char *begin = t.c_str();
  char *end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0')
    fail(context, "a number", value);
  return v;
}

std::vector<int64_t> parseTuple(const std::string &value,
                                const std::string &context) {
  std::string t = trim(value);
  std::vector<int64_t> result;
  if (t.empty())
    fail(context, "a tuple such as (3, 3)", value);
  char open = t.front();
  if (open != '(' && open != '[') {
    // A bare scalar is a 1-tuple, as mxnet::Tuple reads it.
    int64_t v = 0;
    if (!parseIntToken(t, v))
      fail(context, "a tuple such as (3, 3)", value);
    result.push_back(v);
    return result;
  }
  char close = open == '(' ? ')' : ']';
  if (t.back() != close)
    fail(context, "a tuple such as (3, 3)", value);
  std::string body = t.substr(1, t.size() - 2);
  if (trim(body).empty())
    return result;
  size_t start = 0;
  while (start <= body.size()) {
    size_t comma = body.find(',', start);
    std::string token =
        body.substr(start, comma == std::string::npos ? std::string::npos
                                                      : comma - start);
    bool last = comma == std::string::npos;
    // "(3,)" has an empty element after its trailing comma.
    if (last && trim(token).empty() && !result.empty())
      break;
    int64_t v = 0;
    if (!parseIntToken(token, v))
      fail(context, "a tuple such as (3, 3)", value);
    result.push_back(v);
    if (last)
      break;
    start = comma + 1;
  }
  return result;
}

bool isNone(const std::string &value) { return lower(trim(value)) == "none"; }

std::vector<double> parseFloatTuple(const std::string &value, const std::string &context) {
  std::string t = trim(value);
  std::vector<double> result;
  if (t.empty())
    fail(context, "a tuple of numbers such as (0.5, 1)", value);
  if (t.front() != '(' && t.front() != '[') {
    result.push_back(parseFloat(t, context));
    return result;
  }
  char close = t.front() == '(' ? ')' : ']';
  if (t.back() != close)
    fail(context, "a tuple of numbers such as (0.5, 1)", value);
  std::string body = t.substr(1, t.size() - 2);
  size_t start = 0;
  while (start < body.size()) {
    size_t comma = body.find(',', start);
    std::string token = trim(body.substr(start, comma == std::string::npos ? std::string::npos
                                                                            : comma - start));
    if (!token.empty())
      result.push_back(parseFloat(token, context));
    else if (comma != std::string::npos || result.empty())
      fail(context, "a tuple of numbers such as (0.5, 1)", value);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return result;
}

std::vector<std::optional<int64_t>> parseOptTuple(const std::string &value,
                                                  const std::string &context) {
  auto entry = [&](const std::string &token) -> std::optional<int64_t> {
    if (isNone(token))
      return std::nullopt;
    int64_t v = 0;
    if (!parseIntToken(token, v))
      fail(context, "a tuple of integers or None such as (None, 3)", value);
    return v;
  };
  std::string t = trim(value);
  if (t.empty() || (t.front() != '(' && t.front() != '['))
    return {entry(t)};
  char close = t.front() == '(' ? ')' : ']';
  if (t.back() != close)
    fail(context, "a tuple of integers or None such as (None, 3)", value);
  std::string body = t.substr(1, t.size() - 2);
  std::vector<std::optional<int64_t>> result;
  if (trim(body).empty())
    return result;
  size_t start = 0;
  while (true) {
    size_t comma = body.find(',', start);
    std::string token =
        body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    // "(3,)" has an empty element after its trailing comma.
    if (comma == std::string::npos && trim(token).empty() && !result.empty())
      break;
    result.push_back(entry(token));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return result;
}

std::string formatBool(bool value) { return value ? "True" : "False"; }

std::string formatTuple(const std::vector<int64_t> &values) {
  std::string s = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(values[i]);
  }
  if (values.size() == 1)
    s += ",";
  return s + ")";
}

std::string formatOptTuple(const std::vector<std::optional<int64_t>> &values) {
  std::string s = "(";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : "") + (values[i] ? std::to_string(*values[i]) : std::string("None"));
  return s + (values.size() == 1 ? ",)" : ")");
}

std::string formatFloat(double value) {
  // Python's repr: shortest round-trip digits, fixed notation for decimal
  // exponents in [-4, 16), otherwise "1e-05" style with a two-digit exponent.
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  if (value == 0)
    return std::signbit(value) ? "-0.0" : "0.0";
  char buf[64];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*e", precision - 1, value);
    if (std::strtod(buf, nullptr) == value)
      break;
  }
  // buf is "[-]d.ddde[+-]XX": split into sign, digits and exponent.
  std::string sci = buf;
  bool negative = sci[0] == '-';
  if (negative)
    sci.erase(0, 1);
  size_t ePos = sci.find('e');
  std::string mantissa = sci.substr(0, ePos);
  int exponent = std::atoi(sci.c_str() + ePos + 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.')
      digits += c;
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();

  std::string out;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out = "0." + std::string(-exponent - 1, '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out = digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    char expBuf[16];
    std::snprintf(expBuf, sizeof(expBuf), "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    out += expBuf;
  }
  return negative ? "-" + out : out;
}

} // namespace kiln::mx
