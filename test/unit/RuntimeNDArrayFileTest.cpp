//===- RuntimeNDArrayFileTest.cpp - MXNet .params / .nd reading/writing ---===//
//
// Records are assembled by the small encoder below, written from SPEC §2.2
// and MXNet's NDArray::Save/Load, not from Kiln's writer. Facts about the
// real sample files (counts, names, shapes, a few values) were checked once
// by hand with a struct-only Python script.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Tensor.h"
#include "runtime/io/File.h"
#include "runtime/io/NDArrayFile.h"

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

struct Bytes {
  std::string s;
  Bytes &le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Bytes &u32(uint32_t v) { return le(v, 4); }
  Bytes &i32(int32_t v) { return le(static_cast<uint32_t>(v), 4); }
  Bytes &u64(uint64_t v) { return le(v, 8); }
  Bytes &i64(int64_t v) { return le(static_cast<uint64_t>(v), 8); }
  Bytes &f32(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return u32(b);
  }
  Bytes &raw(const std::string &r) {
    s += r;
    return *this;
  }
};

constexpr uint32_t V1 = 0xF993FAC8u, V2 = 0xF993FAC9u, V3 = 0xF993FACAu;

std::string f32Data(std::initializer_list<float> values) {
  Bytes b;
  for (float v : values)
    b.f32(v);
  return b.s;
}

/// Context (cpu, 0) and dtype flag, as every non-none record carries.
void ctxAndFlag(Bytes &b, int32_t flag) { b.i32(1).i32(0).i32(flag); }

std::string legacyRecord(std::vector<uint32_t> dims, int32_t flag,
                         const std::string &data) {
  Bytes b;
  b.u32(static_cast<uint32_t>(dims.size()));
  for (uint32_t d : dims)
    b.u32(d);
  ctxAndFlag(b, flag);
  return b.raw(data).s;
}

void shape64(Bytes &b, const std::vector<int64_t> &dims) {
  b.i32(static_cast<int32_t>(dims.size()));
  for (int64_t d : dims)
    b.i64(d);
}

std::string v1Record(std::vector<int64_t> dims, int32_t flag,
                     const std::string &data) {
  Bytes b;
  b.u32(V1);
  shape64(b, dims);
  ctxAndFlag(b, flag);
  return b.raw(data).s;
}

std::string v2Record(std::vector<int64_t> dims, int32_t flag,
                     const std::string &data, uint32_t magic = V2) {
  Bytes b;
  b.u32(magic).i32(0);
  shape64(b, dims);
  ctxAndFlag(b, flag);
  return b.raw(data).s;
}

std::string v3Record(std::vector<int64_t> dims, int32_t flag,
                     const std::string &data) {
  return v2Record(dims, flag, data, V3);
}

/// A whole list file. NAMES may be empty.
std::string listFile(const std::vector<std::string> &records,
                     const std::vector<std::string> &names) {
  Bytes b;
  b.u64(0x112).u64(0).u64(records.size());
  for (const std::string &r : records)
    b.raw(r);
  b.u64(names.size());
  for (const std::string &n : names)
    b.u64(n.size()).raw(n);
  return b.s;
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

const char *kFile = "model-0007.params";

/// Parses BYTES expecting an Error naming kFile and containing every
/// fragment.
void expectListError(const std::string &bytes,
                     std::initializer_list<std::string> fragments) {
  try {
    parseNDArrayList(bytes, kFile);
    ADD_FAILURE() << "expected an error";
  } catch (const Error &e) {
    std::string m = e.what();
    EXPECT_NE(m.find(kFile), std::string::npos) << m;
    for (const std::string &f : fragments)
      EXPECT_NE(m.find(f), std::string::npos)
          << "message '" << m << "' lacks '" << f << "'";
  }
}

class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") +
                          "/kiln-ndarray-test-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
      std::abort();
    dir = buf.data();
  }
  ~TempDir() {
    for (const std::string &n : entries())
      ::unlink((dir + "/" + n).c_str());
    ::rmdir(dir.c_str());
  }
  std::string path(const std::string &n) const { return dir + "/" + n; }
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

//===-- Record versions ---------------------------------------------------===//

TEST(RuntimeNDArrayRead, EveryRecordVersionWithNames) {
  std::string bytes = listFile(
      {legacyRecord({2, 3}, 0, f32Data({1, 2, 3, 4, 5, 6})),
       v1Record({3}, 0, f32Data({-1, -2, -3})),
       v2Record({1, 2}, 0, f32Data({0.5f, 0.25f})),
       v3Record({2}, 0, f32Data({9, 10}))},
      {"arg:fc1_weight", "arg:fc1_bias", "aux:bn_moving_mean", "x"});
  NDArrayList list = parseNDArrayList(bytes, kFile);
  ASSERT_EQ(list.arrays.size(), 4u);
  EXPECT_EQ(list.names, (std::vector<std::string>{
                            "arg:fc1_weight", "arg:fc1_bias",
                            "aux:bn_moving_mean", "x"}));
  EXPECT_EQ(list.arrays[0].shape, (std::vector<int64_t>{2, 3}));
  expectValues(list.arrays[0], {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(list.arrays[1].shape, (std::vector<int64_t>{3}));
  expectValues(list.arrays[1], {-1, -2, -3});
  EXPECT_EQ(list.arrays[2].shape, (std::vector<int64_t>{1, 2}));
  expectValues(list.arrays[2], {0.5f, 0.25f});
  EXPECT_EQ(list.arrays[3].shape, (std::vector<int64_t>{2}));
  expectValues(list.arrays[3], {9, 10});
}

TEST(RuntimeNDArrayRead, UnnamedListAndEmptyList) {
  NDArrayList list =
      parseNDArrayList(listFile({v2Record({1}, 0, f32Data({7}))}, {}), kFile);
  EXPECT_TRUE(list.names.empty());
  ASSERT_EQ(list.arrays.size(), 1u);
  expectValues(list.arrays[0], {7});

  NDArrayList empty = parseNDArrayList(listFile({}, {}), kFile);
  EXPECT_TRUE(empty.arrays.empty());
  EXPECT_TRUE(empty.names.empty());
}

TEST(RuntimeNDArrayRead, NoneArraysAndScalars) {
  Bytes v2None;
  v2None.u32(V2).i32(0).i32(0); // ndim 0: none, nothing follows
  Bytes v3None;
  v3None.u32(V3).i32(0).i32(-1); // ndim -1: unknown, nothing follows
  Bytes v1None;
  v1None.u32(V1).i32(0);
  Bytes legacyNone;
  legacyNone.u32(0);
  std::string bytes = listFile(
      {v2None.s, v3Record({}, 0, f32Data({3.25f})), v3None.s, v1None.s,
       legacyNone.s, v2Record({0, 4}, 0, ""), v3Record({2, 0}, 0, "")},
      {});
  NDArrayList list = parseNDArrayList(bytes, kFile);
  ASSERT_EQ(list.arrays.size(), 7u);
  for (int i : {0, 2, 3, 4}) {
    EXPECT_EQ(list.arrays[i].shape, (std::vector<int64_t>{0})) << i;
    EXPECT_TRUE(list.arrays[i].values.empty()) << i;
  }
  // V3 ndim 0 is a real scalar with one element.
  EXPECT_TRUE(list.arrays[1].shape.empty());
  expectValues(list.arrays[1], {3.25f});
  EXPECT_EQ(list.arrays[5].shape, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE(list.arrays[5].values.empty());
  EXPECT_EQ(list.arrays[6].shape, (std::vector<int64_t>{2, 0}));
}

//===-- Dtypes ------------------------------------------------------------===//

struct DtypeCase {
  int32_t flag;
  int size;
  std::vector<uint64_t> raw;
  std::vector<float> expected;
};

std::vector<DtypeCase> dtypeCases() {
  auto f64 = [](double d) {
    uint64_t b;
    std::memcpy(&b, &d, 8);
    return b;
  };
  auto f32 = [](float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return uint64_t(b);
  };
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::nanf("");
  return {
      {0, 4, {f32(1.5f), f32(-0.0f), f32(inf)}, {1.5f, -0.0f, inf}},
      {1, 8, {f64(2.25), f64(-1e-3), f64(1e300)}, {2.25f, -1e-3f, inf}},
      // binary16: 1, 2^-24 (smallest subnormal), 1023*2^-24, -inf, nan.
      {2,
       2,
       {0x3C00, 0x0001, 0x03FF, 0xFC00, 0x7E00},
       {1.0f, 5.9604644775390625e-08f, 6.097555160522461e-05f, -inf, nan}},
      {3, 1, {0, 200, 255}, {0, 200, 255}},
      {4, 4, {0xFFFFFFF9u, 0x7FFFFFFFu, 12}, {-7, 2147483648.0f, 12}},
      {5, 1, {0x80, 0x7F, 0xFE}, {-128, 127, -2}},
      {6, 8, {~uint64_t(0) - 2, uint64_t(1) << 40, 3}, {-3, 1099511627776.0f, 3}},
      {7, 1, {1, 0, 1}, {1, 0, 1}},
      {8, 2, {0x8000, 0x7FFF, 0xFFFF}, {-32768, 32767, -1}},
      {9, 2, {0xFFFF, 0, 2}, {65535, 0, 2}},
      {10, 4, {0xFFFFFFFFu, 1, 0}, {4294967296.0f, 1, 0}},
      {11, 8, {uint64_t(1) << 63, 5, 0}, {9223372036854775808.0f, 5, 0}},
      // bfloat16: 1, -3, 2^-133 (a float subnormal), inf, nan.
      {12,
       2,
       {0x3F80, 0xC040, 0x0001, 0x7F80, 0x7FC0},
       {1.0f, -3.0f, 9.183549615799121e-41f, inf, nan}},
  };
}

TEST(RuntimeNDArrayRead, EveryDtypeFlagInEveryVersion) {
  for (const DtypeCase &c : dtypeCases()) {
    std::string data;
    Bytes b;
    for (uint64_t r : c.raw)
      b.le(r, c.size);
    data = b.s;
    int64_t n = static_cast<int64_t>(c.raw.size());
    std::string bytes =
        listFile({legacyRecord({static_cast<uint32_t>(n)}, c.flag, data),
                  v1Record({n}, c.flag, data), v2Record({n}, c.flag, data),
                  v3Record({n}, c.flag, data)},
                 {"a", "b", "c", "d"});
    SCOPED_TRACE("dtype flag " + std::to_string(c.flag));
    NDArrayList list = parseNDArrayList(bytes, kFile);
    ASSERT_EQ(list.arrays.size(), 4u);
    for (const Tensor &t : list.arrays) {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{n}));
      expectValues(t, c.expected);
    }
    if (c.flag == 0) {
      EXPECT_TRUE(std::signbit(list.arrays[0].values[1]));
    }
  }
}

//===-- Bad inputs --------------------------------------------------------===//

TEST(RuntimeNDArrayErrors, UnknownDtypeFlagNamesTheArray) {
  expectListError(
      listFile({v2Record({1}, 0, f32Data({1})), v2Record({1}, 13, "xxxx")},
               {"arg:a", "arg:b"}),
      {"array 1", "dtype flag 13"});
  expectListError(listFile({legacyRecord({1}, -1, "xxxx")}, {}),
                  {"array 0", "dtype flag -1"});
}

std::string sparseRecord(int32_t stype) {
  // row_sparse: storage shape (1, 2), shape (3, 2), one aux (int64 row
  // indices, shape (1,)), data 2 floats, aux data 1 int64.
  // csr: storage shape (2,), shape (2, 3), aux indptr (3,) and idx (2,).
  Bytes b;
  b.u32(V2).i32(stype);
  if (stype == 1) {
    shape64(b, {1, 2});
    shape64(b, {3, 2});
    ctxAndFlag(b, 0);
    b.i32(6);
    shape64(b, {1});
    b.f32(1).f32(2).i64(1);
  } else {
    shape64(b, {2});
    shape64(b, {2, 3});
    ctxAndFlag(b, 0);
    b.i32(6);
    shape64(b, {3});
    b.i32(6);
    shape64(b, {2});
    b.f32(1).f32(2).i64(0).i64(1).i64(2).i64(0).i64(2);
  }
  return b.s;
}

TEST(RuntimeNDArrayErrors, SparseStorageIsRejectedByName) {
  std::string dense = v2Record({1}, 0, f32Data({1}));
  expectListError(listFile({dense, sparseRecord(1)}, {"arg:b", "arg:w"}),
                  {"array 'arg:w'", "row_sparse storage",
                   "Kiln does not support"});
  expectListError(listFile({sparseRecord(2), dense}, {"arg:emb", "arg:b"}),
                  {"array 'arg:emb'", "csr storage"});
  expectListError(listFile({sparseRecord(2)}, {}), {"array 0", "csr"});
}

TEST(RuntimeNDArrayErrors, ListLevelProblems) {
  std::string rec = v2Record({2}, 0, f32Data({1, 2}));
  std::string good = listFile({rec, rec}, {"arg:a", "arg:b"});

  std::string badMagic = good;
  badMagic[0] = 0x13;
  expectListError(badMagic, {"bad magic"});
  expectListError("", {"truncated"});
  expectListError(listFile({rec, rec}, {"only-one"}),
                  {"2 arrays but 1 names"});
  expectListError(good + "junk", {"4 unexpected trailing bytes"});
  // A huge array count must fail before anything is reserved.
  Bytes hugeCount;
  hugeCount.u64(0x112).u64(0).u64(uint64_t(1) << 60);
  expectListError(hugeCount.s + rec, {"array count"});
  // A name longer than the file.
  Bytes hugeName;
  hugeName.u64(0x112).u64(0).u64(1).raw(rec).u64(1).u64(uint64_t(1) << 62);
  expectListError(hugeName.s + "abc", {"name 0", "truncated"});
}

TEST(RuntimeNDArrayErrors, CorruptShapesAndRecords) {
  // Absurd ndim in V2 and V1, and a legacy "ndim" that is really garbage.
  Bytes bigNdim;
  bigNdim.u32(V2).i32(0).i32(1000);
  expectListError(listFile({bigNdim.s}, {"arg:x"}), {"array 0", "ndim 1000"});
  Bytes negNdim;
  negNdim.u32(V1).i32(-5);
  expectListError(listFile({negNdim.s}, {}), {"array 0", "ndim -5"});
  Bytes garbage;
  garbage.u32(0x12345678).raw(std::string(64, '\0'));
  expectListError(listFile({garbage.s}, {}),
                  {"array 0", "unrecognized record header 0x12345678"});
  // Dims whose product overflows or far exceeds the file.
  expectListError(listFile({v2Record({int64_t(1) << 62, int64_t(1) << 62}, 0,
                                     "abcd")},
                           {}),
                  {"array 0", "truncated"});
  expectListError(
      listFile({legacyRecord({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 1, "")},
               {}),
      {"array 0", "truncated"});
  expectListError(listFile({v2Record({-3}, 0, "")}, {}),
                  {"array 0", "negative dimension"});
  expectListError(listFile({v3Record({-2}, 0, "")}, {}),
                  {"array 0", "negative dimension"});
  Bytes badStype;
  badStype.u32(V2).i32(7);
  shape64(badStype, {1});
  ctxAndFlag(badStype, 0);
  badStype.f32(1);
  expectListError(listFile({badStype.s}, {}), {"array 0", "storage type 7"});
  // Data shorter than the shape says, in the last array of a file that
  // ends there.
  Bytes shortData;
  shortData.u64(0x112).u64(0).u64(2);
  shortData.raw(v2Record({1}, 0, f32Data({1})));
  shortData.raw(v2Record({4}, 0, f32Data({1, 2})));
  expectListError(shortData.s, {"array 1", "truncated", "data"});
  // A scalar whose 4 bytes are missing.
  Bytes shortScalar;
  shortScalar.u64(0x112).u64(0).u64(1).raw(v3Record({}, 0, "ab"));
  expectListError(shortScalar.s, {"array 0", "truncated"});
}

TEST(RuntimeNDArrayErrors, EveryTruncationIsAnError) {
  std::string full = listFile(
      {legacyRecord({2}, 0, f32Data({1, 2})), v1Record({1}, 1, std::string(8, 'a')),
       v2Record({2}, 2, "abcd"), v3Record({}, 0, f32Data({5}))},
      {"arg:a", "arg:b", "aux:c", "d"});
  ASSERT_NO_THROW(parseNDArrayList(full, kFile));
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    expectListError(full.substr(0, n), {});
  }
}

//===-- Writing -----------------------------------------------------------===//

TEST(RuntimeNDArrayWrite, WritesMXNetV2Bytes) {
  NDArrayList list;
  list.names = {"arg:fc1_weight", "aux:mean"};
  list.arrays = {Tensor({2, 1}, {1.5f, -2}), Tensor({3}, {0, 1, 2})};
  std::string expected =
      listFile({v2Record({2, 1}, 0, f32Data({1.5f, -2})),
                v2Record({3}, 0, f32Data({0, 1, 2}))},
               {"arg:fc1_weight", "aux:mean"});
  EXPECT_EQ(serializeNDArrayList(list), expected);

  NDArrayList unnamed;
  unnamed.arrays = {Tensor({1}, {4})};
  EXPECT_EQ(serializeNDArrayList(unnamed),
            listFile({v2Record({1}, 0, f32Data({4}))}, {}));
}

TEST(RuntimeNDArrayWrite, ScalarsAndEmptyTensors) {
  NDArrayList list;
  list.arrays = {Tensor({}, {2.5f}), Tensor({0, 3}, {})};
  Bytes none;
  none.u32(V2).i32(0).i32(0);
  EXPECT_EQ(serializeNDArrayList(list),
            listFile({v3Record({}, 0, f32Data({2.5f})), none.s}, {}));
  NDArrayList back = parseNDArrayList(serializeNDArrayList(list), kFile);
  ASSERT_EQ(back.arrays.size(), 2u);
  EXPECT_TRUE(back.arrays[0].shape.empty());
  expectValues(back.arrays[0], {2.5f});
  EXPECT_TRUE(back.arrays[1].values.empty());
}

TEST(RuntimeNDArrayWrite, RoundTripThroughAFile) {
  TempDir tmp;
  NDArrayList list;
  list.names = {"arg:w", "arg:b", "aux:v"};
  list.arrays = {Tensor({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, -8}),
                 Tensor({1}, {std::nanf("")}), Tensor({4}, {0, -0.0f, 1e-40f, 3e38f})};
  std::string path = tmp.path("ck-0001.params");
  saveNDArrayFile(path, list);
  NDArrayList back = loadNDArrayFile(path);
  EXPECT_EQ(back.names, list.names);
  ASSERT_EQ(back.arrays.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.arrays[i].shape, list.arrays[i].shape);
    ASSERT_EQ(back.arrays[i].values.size(), list.arrays[i].values.size());
    EXPECT_EQ(std::memcmp(back.arrays[i].values.data(),
                          list.arrays[i].values.data(),
                          4 * list.arrays[i].values.size()),
              0)
        << "array " << i << " bits differ";
  }
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"ck-0001.params"});
}

TEST(RuntimeNDArrayWrite, FailuresLeaveNoFile) {
  TempDir tmp;
  NDArrayList good;
  good.arrays = {Tensor({1}, {1})};
  std::string missing = tmp.path("no-dir/x.params");
  try {
    saveNDArrayFile(missing, good);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
  }

  NDArrayList mismatched;
  mismatched.names = {"a", "b"};
  mismatched.arrays = {Tensor({1}, {1})};
  std::string path = tmp.path("y.params");
  try {
    saveNDArrayFile(path, mismatched);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  NDArrayList inconsistent;
  inconsistent.names = {"arg:w"};
  inconsistent.arrays = {Tensor()};
  inconsistent.arrays[0].shape = {3};
  inconsistent.arrays[0].values = {1};
  try {
    saveNDArrayFile(path, inconsistent);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("arg:w"), std::string::npos);
  }
  EXPECT_TRUE(tmp.entries().empty());
}

TEST(RuntimeNDArrayRead, MissingFileNamesIt) {
  try {
    loadNDArrayFile("/nonexistent-kiln-dir/m-0000.params");
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-kiln-dir/m-0000.params"),
              std::string::npos);
  }
}

//===-- Real MXNet files ---------------------------------------------------===//

std::string sampleDir() {
  return std::string(KILN_TESTDATA_DIR) + "/mxnet-format-samples";
}

bool haveSample(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(RuntimeNDArrayReal, PNetV08LegacyParams) {
  std::string path = sampleDir() + "/pnet-v0.8-0001.params";
  if (!haveSample(path))
    GTEST_SKIP() << "test data not present: " << path;
  NDArrayList list = loadNDArrayFile(path);
  // Checked by hand: 13 legacy (no-magic) f32 records on cpu(0).
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"arg:prelu2_gamma", {16}},         {"arg:conv4_1_bias", {2}},
      {"arg:prelu1_gamma", {10}},         {"arg:prelu3_gamma", {32}},
      {"arg:conv3_bias", {32}},           {"arg:conv4_2_weight", {4, 32, 1, 1}},
      {"arg:conv2_bias", {16}},           {"arg:conv1_weight", {10, 3, 3, 3}},
      {"arg:conv1_bias", {10}},           {"arg:conv3_weight", {32, 16, 3, 3}},
      {"arg:conv4_1_weight", {2, 32, 1, 1}}, {"arg:conv4_2_bias", {4}},
      {"arg:conv2_weight", {16, 10, 3, 3}}};
  ASSERT_EQ(list.arrays.size(), expected.size());
  ASSERT_EQ(list.names.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(list.names[i], expected[i].first);
    EXPECT_EQ(list.arrays[i].shape, expected[i].second) << expected[i].first;
  }
  // arg:conv1_weight: first value, and last value from its bits 0x3E9A9A47.
  EXPECT_FLOAT_EQ(list.arrays[7].values.front(), -0.13688956201076508f);
  uint32_t lastBits;
  std::memcpy(&lastBits, &list.arrays[7].values.back(), 4);
  EXPECT_EQ(lastBits, 0x3E9A9A47u);
  double sum = 0;
  for (float v : list.arrays[6].values) // arg:conv2_bias
    sum += v;
  EXPECT_NEAR(sum, 20.170246325433254, 1e-4);
}

TEST(RuntimeNDArrayReal, ReshapeFcV094Params) {
  std::string path = sampleDir() + "/reshape-fc-v0.9.4-0001.params";
  if (!haveSample(path))
    GTEST_SKIP() << "test data not present: " << path;
  NDArrayList list = loadNDArrayFile(path);
  ASSERT_EQ(list.arrays.size(), 2u);
  EXPECT_EQ(list.names,
            (std::vector<std::string>{"arg:pred_bias", "arg:pred_weight"}));
  EXPECT_EQ(list.arrays[0].shape, (std::vector<int64_t>{10}));
  expectValues(list.arrays[0], std::vector<float>(10, 0.0f));
  EXPECT_EQ(list.arrays[1].shape, (std::vector<int64_t>{10, 1}));
  EXPECT_FLOAT_EQ(list.arrays[1].values[0], 0.0009762700647115707f);
  EXPECT_FLOAT_EQ(list.arrays[1].values[8], -0.0015269042924046516f);
}

//===-- Fuzz-ish ----------------------------------------------------------===//

void fuzz(const std::string &seed, int iterations) {
  uint64_t state = 0x2545F4914F6CDD1Dull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int rejected = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    std::string bytes = seed;
    int flips = 1 + next() % 6;
    for (int f = 0; f < flips; ++f) {
      size_t at = next() % bytes.size();
      if (next() % 4 == 0)
        bytes[at] = static_cast<char>(next()); // a whole random byte
      else
        bytes[at] ^= static_cast<char>(1u << (next() % 8));
    }
    if (next() % 4 == 0)
      bytes.resize(next() % (bytes.size() + 1));
    try {
      NDArrayList list = parseNDArrayList(bytes, "fuzz.params");
      for (const Tensor &t : list.arrays) {
        if (!t.values.empty()) {
          EXPECT_EQ(static_cast<int64_t>(t.values.size()), t.size());
        }
      }
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("fuzz.params"), std::string::npos);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(RuntimeNDArrayFuzz, CorruptionsThrowOrParse) {
  std::string seed = listFile(
      {legacyRecord({2, 1}, 0, f32Data({1, 2})), v1Record({1}, 2, "ab"),
       v2Record({2}, 6, std::string(16, 'z')), v3Record({}, 12, "cd"),
       sparseRecord(1)},
      {"arg:a", "arg:b", "aux:c", "d", "e"});
  fuzz(seed, 5000);
  std::string path = sampleDir() + "/reshape-fc-v0.9.4-0001.params";
  if (haveSample(path))
    fuzz(readFile(path), 3000);
}

} // namespace
