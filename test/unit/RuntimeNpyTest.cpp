//===- RuntimeNpyTest.cpp - formatShape, file helpers and .npy I/O --------===//
//
// Every expected byte string here is assembled by the tiny encoder below,
// written from numpy/lib/format.py's description rather than from Kiln's
// writer, and every expected value is computed by hand.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Tensor.h"
#include "runtime/io/File.h"
#include "runtime/io/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;

namespace {

//===-- Test-side encoder -------------------------------------------------===//

void appendLE(std::string &out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t f32Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
uint64_t f64Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}
std::string f32Data(std::initializer_list<float> values) {
  std::string out;
  for (float v : values)
    appendLE(out, f32Bits(v), 4);
  return out;
}

/// A .npy file around DICT (the header dict text, without padding) holding
/// DATA. Pads the way NumPy does: 1..64 spaces then '\n' to a 64 boundary.
std::string npyFile(const std::string &dict, const std::string &data,
                    int major = 1) {
  int lengthBytes = major == 1 ? 2 : 4;
  size_t prefix = 6 + 2 + lengthBytes;
  size_t pad = 64 - (prefix + dict.size() + 1) % 64;
  std::string header = dict + std::string(pad, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  appendLE(out, header.size(), lengthBytes);
  return out + header + data;
}

std::string dictFor(const std::string &descr, const std::string &shape,
                    const std::string &fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }";
}

/// A fresh directory removed (with its files) at the end of the test.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") +
                          "/kiln-runtime-test-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
      std::abort();
    dir = buf.data();
  }
  ~TempDir() {
    // Tests create plain files and at most one empty subdirectory.
    for (const std::string &name : entries())
      if (::unlink((dir + "/" + name).c_str()) != 0)
        ::rmdir((dir + "/" + name).c_str());
    ::rmdir(dir.c_str());
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR *d = ::opendir(dir.c_str())) {
      while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..")
          names.push_back(n);
      }
      ::closedir(d);
    }
    return names;
  }
  std::string dir;
};

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// Parses BYTES expecting a kiln::Error whose message names the file and
/// contains FRAGMENT.
void expectNpyError(const std::string &bytes, const std::string &fragment) {
  const std::string fileName = "bad-input.npy";
  try {
    parseNpy(bytes, fileName);
    ADD_FAILURE() << "expected an error containing '" << fragment << "'";
  } catch (const Error &e) {
    std::string message = e.what();
    EXPECT_NE(message.find(fileName), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "message '" << message << "' lacks '" << fragment << "'";
  }
}

void expectValues(const Tensor &t, const std::vector<float> &expected) {
  ASSERT_EQ(t.values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::isnan(expected[i]))
      EXPECT_TRUE(std::isnan(t.values[i])) << "element " << i;
    else
      EXPECT_EQ(t.values[i], expected[i]) << "element " << i;
  }
}

//===-- formatShape --------------------------------------------------------===//

TEST(RuntimeFormatShape, MatchesPython) {
  EXPECT_EQ(formatShape({2, 3, 4}), "(2, 3, 4)");
  EXPECT_EQ(formatShape({5}), "(5,)");
  EXPECT_EQ(formatShape({}), "()");
  EXPECT_EQ(formatShape({0, 7}), "(0, 7)");
  EXPECT_EQ(formatShape({-1, 10000000000LL}), "(-1, 10000000000)");
}

//===-- File helpers -------------------------------------------------------===//

TEST(RuntimeFile, ReadMissingFileNamesIt) {
  TempDir tmp;
  std::string path = tmp.path("missing.bin");
  try {
    readFile(path);
    FAIL() << "no error";
  } catch (const Error &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("cannot open '" + path + "'"), std::string::npos) << m;
  }
}

TEST(RuntimeFile, ReadDirectoryFails) {
  TempDir tmp;
  try {
    readFile(tmp.dir);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(tmp.dir), std::string::npos);
  }
}

TEST(RuntimeFile, WriteThenReadExactBytesAndOverwrite) {
  TempDir tmp;
  std::string path = tmp.path("out.bin");
  std::string bytes("a\0b\xff\n", 5);
  writeFileAtomically(path, bytes);
  EXPECT_EQ(readFile(path), bytes);
  writeFileAtomically(path, "shorter");
  EXPECT_EQ(readFile(path), "shorter");
  // Only the output remains: no temporaries left behind.
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"out.bin"});
  writeFileAtomically(path, "");
  EXPECT_EQ(readFile(path), "");
}

TEST(RuntimeFile, WriteIntoMissingDirectoryFailsCleanly) {
  TempDir tmp;
  std::string path = tmp.path("no-such-dir/out.bin");
  try {
    writeFileAtomically(path, "data");
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_FALSE(exists(path));
  EXPECT_TRUE(tmp.entries().empty());
}

TEST(RuntimeFile, WriteOverDirectoryFailsAndRemovesTemporary) {
  TempDir tmp;
  std::string path = tmp.path("sub");
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  EXPECT_THROW(writeFileAtomically(path, "data"), Error);
  // The directory is still there and no temporary file is left beside it.
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"sub"});
}

//===-- .npy reading ------------------------------------------------------===//

TEST(RuntimeNpyRead, Float32Matrix) {
  std::string bytes =
      npyFile(dictFor("<f4", "(2, 3)"), f32Data({1, -2, 3.5f, 0, 1e-3f, -7}));
  std::string note = "stale";
  Tensor t = parseNpy(bytes, "m.npy", &note);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  expectValues(t, {1, -2, 3.5f, 0, 1e-3f, -7});
  EXPECT_EQ(note, "") << "float32 needs no conversion note";
}

TEST(RuntimeNpyRead, RankOneScalarAndEmpty) {
  Tensor v = parseNpy(npyFile(dictFor("<f4", "(3,)"), f32Data({4, 5, 6})), "v");
  EXPECT_EQ(v.shape, (std::vector<int64_t>{3}));
  expectValues(v, {4, 5, 6});

  Tensor s = parseNpy(npyFile(dictFor("<f4", "()"), f32Data({2.5f})), "s");
  EXPECT_TRUE(s.shape.empty());
  expectValues(s, {2.5f});

  Tensor e = parseNpy(npyFile(dictFor("<f4", "(0, 3)"), ""), "e");
  EXPECT_EQ(e.shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(e.values.empty());
}

TEST(RuntimeNpyRead, Versions2And3) {
  for (int major : {2, 3}) {
    Tensor t =
        parseNpy(npyFile(dictFor("<f4", "(2,)"), f32Data({1, 2}), major), "v");
    EXPECT_EQ(t.shape, (std::vector<int64_t>{2})) << "version " << major;
    expectValues(t, {1, 2});
  }
}

TEST(RuntimeNpyRead, HeaderSpellingVariants) {
  // Python 2 NumPy: no trailing comma, long suffixes, double quotes, keys in
  // another order, and no padding beyond the newline.
  std::string dict = "{\"shape\": (2L, 1L), 'fortran_order': False, "
                     "'descr': '=f4'}";
  Tensor t = parseNpy(npyFile(dict, f32Data({8, 9})), "py2.npy");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 1}));
  expectValues(t, {8, 9});
}

TEST(RuntimeNpyRead, Float64ConvertsWithNote) {
  std::string data;
  for (double d : {1.5, -0.1, 1e300})
    appendLE(data, f64Bits(d), 8);
  std::string note;
  Tensor t = parseNpy(npyFile(dictFor("<f8", "(3,)"), data), "d.npy", &note);
  expectValues(t, {1.5f, -0.1f, std::numeric_limits<float>::infinity()});
  EXPECT_EQ(note, "converted '<f8' to float32");
}

TEST(RuntimeNpyRead, Float16IncludingSubnormalsInfNan) {
  // Bit patterns and their values, from the IEEE binary16 definition.
  std::vector<std::pair<uint16_t, float>> cases = {
      {0x3C00, 1.0f},
      {0xC000, -2.0f},
      {0x7BFF, 65504.0f},
      {0x3555, 0.333251953125f},
      {0x0001, 5.9604644775390625e-08f}, // 2^-24, smallest subnormal
      {0x03FF, 6.097555160522461e-05f},  // 1023 * 2^-24
      {0x8001, -5.9604644775390625e-08f},
      {0x0400, 6.103515625e-05f}, // smallest normal, 2^-14
      {0x8000, -0.0f},
      {0x7C00, std::numeric_limits<float>::infinity()},
      {0xFC00, -std::numeric_limits<float>::infinity()},
      {0x7E00, std::nanf("")}};
  std::string data;
  std::vector<float> expected;
  for (auto &c : cases) {
    appendLE(data, c.first, 2);
    expected.push_back(c.second);
  }
  std::string note;
  Tensor t = parseNpy(
      npyFile(dictFor("<f2", "(" + std::to_string(cases.size()) + ",)"), data),
      "h.npy", &note);
  expectValues(t, expected);
  EXPECT_TRUE(std::signbit(t.values[8])) << "-0.0 keeps its sign";
  EXPECT_EQ(note, "converted '<f2' to float32");
}

TEST(RuntimeNpyRead, IntegerAndBoolDtypes) {
  struct Case {
    std::string descr;
    int size;
    std::vector<uint64_t> raw;
    std::vector<float> expected;
  };
  std::vector<Case> cases = {
      {"|u1", 1, {0, 7, 255}, {0, 7, 255}},
      {"|i1", 1, {0x80, 0x7f, 0xff}, {-128, 127, -1}},
      {"<i2", 2, {0x8000, 0x7fff, 0xfffe}, {-32768, 32767, -2}},
      {"<u2", 2, {0xffff, 1, 0}, {65535, 1, 0}},
      {"<i4", 4, {0x80000000u, 0xfffffff9u, 100}, {-2147483648.0f, -7, 100}},
      {"<u4", 4, {0xffffffffu, 3, 0}, {4294967296.0f, 3, 0}},
      {"<i8", 8, {~uint64_t(0), uint64_t(1) << 40, 5}, {-1, 1099511627776.0f, 5}},
      {"<u8", 8, {uint64_t(1) << 63, 2, 0}, {9223372036854775808.0f, 2, 0}},
      {"|b1", 1, {1, 0, 1}, {1, 0, 1}},
  };
  for (const Case &c : cases) {
    std::string data;
    for (uint64_t r : c.raw)
      appendLE(data, r, c.size);
    std::string note;
    Tensor t = parseNpy(npyFile(dictFor(c.descr, "(3,)"), data), "i.npy", &note);
    SCOPED_TRACE(c.descr);
    expectValues(t, c.expected);
    EXPECT_EQ(note, "converted '" + c.descr + "' to float32");
  }
}

TEST(RuntimeNpyRead, ReadsFromDiskAndNamesMissingFile) {
  TempDir tmp;
  std::string path = tmp.path("x.npy");
  writeFileAtomically(path, npyFile(dictFor("<f4", "(1,)"), f32Data({42})));
  expectValues(readNpy(path), {42});
  try {
    readNpy(tmp.path("nope.npy"));
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("nope.npy"), std::string::npos);
  }
}

//===-- .npy bad inputs ----------------------------------------------------===//

TEST(RuntimeNpyErrors, BadMagicAndTruncatedHeaders) {
  std::string good = npyFile(dictFor("<f4", "(2,)"), f32Data({1, 2}));
  expectNpyError("", "bad magic");
  expectNpyError("PK\x03\x04 this is a zip", "bad magic");
  std::string wrongMagic = good;
  wrongMagic[1] = 'X';
  expectNpyError(wrongMagic, "bad magic");
  expectNpyError(good.substr(0, 7), "truncated");
  expectNpyError(good.substr(0, 9), "truncated");
  expectNpyError(good.substr(0, 40), "truncated .npy header");
  std::string v4 = good;
  v4[6] = 4;
  expectNpyError(v4, "version 4.0");
  std::string v11 = good;
  v11[7] = 1;
  expectNpyError(v11, "version 1.1");
}

TEST(RuntimeNpyErrors, UnsupportedLayoutsAndDtypes) {
  std::string two = f32Data({1, 2});
  expectNpyError(npyFile(dictFor(">f4", "(2,)"), two), "big-endian");
  expectNpyError(npyFile(dictFor("<f4", "(2,)", "True"), two), "fortran_order");
  expectNpyError(npyFile(dictFor("<c8", "(1,)"), two), "complex");
  expectNpyError(npyFile(dictFor("|O", "(1,)"), std::string(8, '\0')),
                 "object");
  expectNpyError(npyFile(dictFor("<U1", "(2,)"), two), "strings");
  expectNpyError(npyFile(dictFor("|S4", "(2,)"), two), "strings");
  expectNpyError(npyFile(dictFor("<f3", "(2,)"), two), "unsupported dtype");
  expectNpyError(npyFile(dictFor("<M8[ns]", "(1,)"), std::string(8, '\0')),
                 "unsupported dtype");
  expectNpyError(npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, "
                         "'shape': (2,), }",
                         two),
                 "structured");
}

TEST(RuntimeNpyErrors, MalformedHeaderDicts) {
  std::string two = f32Data({1, 2});
  const char *dicts[] = {
      "'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ",
      "{'descr': '<f4', 'fortran_order': False}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 'y'}",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing",
      "{'descr': '<f4', 'fortran_order': False, 'shape': "
      "(99999999999999999999,)}",
  };
  for (const char *dict : dicts) {
    SCOPED_TRACE(dict);
    expectNpyError(npyFile(dict, two), "header");
  }
}

TEST(RuntimeNpyErrors, DataSizeMismatch) {
  expectNpyError(npyFile(dictFor("<f4", "(2, 2)"), f32Data({1, 2, 3})),
                 "truncated .npy data");
  expectNpyError(npyFile(dictFor("<f4", "(2,)"), f32Data({1, 2, 3})),
                 "4 unexpected bytes");
  expectNpyError(npyFile(dictFor("<f8", "(1,)"), f32Data({1})),
                 "truncated .npy data");
  // Shapes whose element count overflows or dwarfs the file must be
  // rejected before any allocation.
  expectNpyError(npyFile(dictFor("<f4", "(4611686018427387904, 4)"), ""),
                 "truncated .npy data");
  expectNpyError(
      npyFile(dictFor("<f4", "(4294967296, 4294967296, 4294967296)"), "abcd"),
      "truncated .npy data");
}

//===-- .npy writing ------------------------------------------------------===//

TEST(RuntimeNpyWrite, MatchesNumPyLayout) {
  Tensor t({2, 3}, {1, 2, 3, 4, 5, -6.5f});
  std::string bytes = serializeNpy(t);
  std::string expectedDict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes,
            npyFile(expectedDict, f32Data({1, 2, 3, 4, 5, -6.5f})));
  // Independent of the encoder above: the layout facts themselves.
  ASSERT_GE(bytes.size(), 64u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  size_t headerLength = static_cast<unsigned char>(bytes[8]) |
                        (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + headerLength) % 64, 0u);
  EXPECT_EQ(bytes[10 + headerLength - 1], '\n');
  EXPECT_EQ(bytes.size(), 10 + headerLength + 24);
}

TEST(RuntimeNpyWrite, AlreadyAlignedHeaderStillGetsNumPysFullPad) {
  // "(10, 1, ..., 1)" with 20 ones is 64 characters, so magic + length +
  // the 117-byte dict + '\n' is exactly 128 bytes; NumPy's _wrap_header
  // then pads 64 spaces, not 0.
  std::vector<int64_t> shape(21, 1);
  shape[0] = 10;
  std::string bytes = serializeNpy(Tensor(shape));
  ASSERT_EQ(bytes.size(), 192u + 40u);
  EXPECT_EQ(bytes.substr(127, 65), std::string(64, ' ') + "\n");
  EXPECT_EQ(bytes[8], static_cast<char>(182));
  EXPECT_EQ(bytes[9], 0);
}

TEST(RuntimeNpyWrite, ScalarAndRankOneHeaders) {
  EXPECT_EQ(serializeNpy(Tensor({}, {3})),
            npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                    f32Data({3})));
  EXPECT_EQ(serializeNpy(Tensor({2}, {3, 4})),
            npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                    f32Data({3, 4})));
}

TEST(RuntimeNpyWrite, RoundTripKeepsBitsIncludingNaNAndNegativeZero) {
  Tensor t({2, 2, 2}, {0.0f, -0.0f, 1e-45f, 3.4e38f,
                       std::numeric_limits<float>::infinity(), std::nanf(""),
                       -1.25f, 7});
  TempDir tmp;
  std::string path = tmp.path("rt.npy");
  writeNpy(path, t);
  std::string note = "stale";
  Tensor back = readNpy(path, &note);
  EXPECT_EQ(note, "");
  EXPECT_EQ(back.shape, t.shape);
  ASSERT_EQ(back.values.size(), t.values.size());
  for (size_t i = 0; i < t.values.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, &t.values[i], 4);
    std::memcpy(&b, &back.values[i], 4);
    EXPECT_EQ(a, b) << "element " << i;
  }
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"rt.npy"});
}

TEST(RuntimeNpyWrite, FailuresLeaveNoFile) {
  TempDir tmp;
  std::string missing = tmp.path("missing-dir/out.npy");
  try {
    writeNpy(missing, Tensor({1}, {1}));
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
  }
  EXPECT_FALSE(exists(missing));

  std::string bad = tmp.path("bad.npy");
  Tensor inconsistent;
  inconsistent.shape = {2, 2};
  inconsistent.values = {1, 2, 3};
  try {
    writeNpy(bad, inconsistent);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
  }
  EXPECT_TRUE(tmp.entries().empty());
}

//===-- Fuzz-ish ----------------------------------------------------------===//

TEST(RuntimeNpyFuzz, CorruptionsThrowOrParse) {
  std::string seed = npyFile(dictFor("<f2", "(3, 2)"), std::string(12, '\x3c'));
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string bytes = seed;
    int flips = 1 + next() % 4;
    for (int f = 0; f < flips; ++f)
      bytes[next() % bytes.size()] ^= static_cast<char>(1u << (next() % 8));
    if (next() % 3 == 0)
      bytes.resize(next() % (bytes.size() + 1));
    try {
      Tensor t = parseNpy(bytes, "fuzz.npy");
      EXPECT_EQ(static_cast<int64_t>(t.values.size()), t.size());
      ++parsed;
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("fuzz.npy"), std::string::npos);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(parsed, 0);
}

} // namespace
