//===- DataIterTest.cpp - IDX reading, batching, sharding, data sets ------===//
//
// IDX bytes come from the little encoder below (written from LeCun's format
// description) and gzip bytes from zlib itself; expected batches are worked
// out by hand from the documented semantics (docs/training.md).
//
//===----------------------------------------------------------------------===//

#include "kiln/DataIter.h"
#include "kiln/Error.h"
#include "kiln/Random.h"
#include "runtime/data/Idx.h"
#include "runtime/io/File.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <numeric>
#include <optional>
#include <set>
#include <unistd.h>

using namespace kiln;

namespace {

//===-- Test-side encoders ------------------------------------------------===//

void appendBE(std::string &out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string idxHeader(uint8_t type, const std::vector<uint32_t> &dims) {
  std::string s;
  s.push_back(0);
  s.push_back(0);
  s.push_back(static_cast<char>(type));
  s.push_back(static_cast<char>(dims.size()));
  for (uint32_t d : dims)
    appendBE(s, d, 4);
  return s;
}

std::string gzipBytes(const std::string &raw) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(raw.data()));
  zs.avail_in = raw.size();
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = out.size();
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/kiln-dataiter-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string &name, const std::string &bytes) const {
    std::string p = path + "/" + name;
    writeFileAtomically(p, bytes);
    return p;
  }
  std::string path;
};

/// N images of R×C where pixel (i, r, c) = (i·R·C + r·C + c) mod 256, and
/// labels i mod 10.
std::pair<std::string, std::string> mnistBytes(uint32_t n, uint32_t rows, uint32_t cols) {
  std::string img = idxHeader(0x08, {n, rows, cols});
  for (uint32_t i = 0; i < n * rows * cols; ++i)
    img.push_back(static_cast<char>(i % 256));
  std::string lab = idxHeader(0x08, {n});
  for (uint32_t i = 0; i < n; ++i)
    lab.push_back(static_cast<char>(i % 10));
  return {img, lab};
}

void expectThrowsWith(const std::function<void()> &f, const std::vector<std::string> &parts) {
  try {
    f();
    ADD_FAILURE() << "no kiln::Error thrown";
  } catch (const Error &e) {
    for (const std::string &p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' lacks '" << p << "'";
  }
}

/// Data [N, 2] with row i = (i, 100 + i) and labels [N] = 1000 + i, so a
/// batch row tells which sample it holds.
NDArrayIter indexIter(int64_t n, BatchOptions o) {
  Tensor data({n, 2}), label({n});
  for (int64_t i = 0; i < n; ++i) {
    data.values[2 * i] = static_cast<float>(i);
    data.values[2 * i + 1] = static_cast<float>(100 + i);
    label.values[i] = static_cast<float>(1000 + i);
  }
  return NDArrayIter(std::move(data), std::move(label), o);
}

/// The sample indices of every batch until the end of the epoch, checking
/// that data, label and index agree; pads are appended to `pads`.
std::vector<std::vector<int64_t>> epochBatches(DataIter &it, std::vector<int64_t> *pads = nullptr) {
  std::vector<std::vector<int64_t>> out;
  while (const Batch *b = it.next()) {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < it.batchSize(); ++r) {
      int64_t i = static_cast<int64_t>(b->data.values[2 * r]);
      EXPECT_EQ(b->data.values[2 * r + 1], 100 + i);
      EXPECT_EQ(b->label.values[r], 1000 + i);
      EXPECT_EQ(b->index[r], i);
      rows.push_back(i);
    }
    out.push_back(rows);
    if (pads)
      pads->push_back(b->pad);
  }
  return out;
}

using Batches = std::vector<std::vector<int64_t>>;

//===-- Random ------------------------------------------------------------===//

TEST(Random, MersenneTwisterIsTheStandardOne) {
  // [rand.predef]: the 10000th draw of a default-seeded mt19937_64.
  Random rng(5489u);
  uint64_t v = 0;
  for (int i = 0; i < 10000; ++i)
    v = rng.nextU64();
  EXPECT_EQ(v, 9981545732273789042ull);
}

TEST(Random, ShuffleIsADeterministicPermutation) {
  std::vector<int> a(100), b;
  std::iota(a.begin(), a.end(), 0);
  b = a;
  Random r1(7), r2(7);
  r1.shuffle(a);
  r2.shuffle(b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<int>(a.begin(), a.end()).size(), 100u);
  std::vector<int> sorted(100);
  std::iota(sorted.begin(), sorted.end(), 0);
  EXPECT_NE(a, sorted);
  Random r(3);
  for (int i = 0; i < 1000; ++i)
    EXPECT_LT(r.below(7), 7u);
}

//===-- IDX ---------------------------------------------------------------===//

TEST(Idx, ReadsPlainAndGzipFiles) {
  TempDir dir;
  auto [img, lab] = mnistBytes(3, 2, 4);
  for (bool gz : {false, true}) {
    std::string path = dir.file(gz ? "img.gz" : "img", gz ? gzipBytes(img) : img);
    IdxArray a = readIdx(path);
    EXPECT_EQ(a.type, IdxType::UInt8);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
    ASSERT_EQ(a.payload.size(), 24u);
    EXPECT_EQ(static_cast<unsigned char>(a.payload[23]), 23);
  }
  // Compression is recognised by content, not by name.
  IdxArray b = readIdx(dir.file("labels-no-suffix", gzipBytes(lab)));
  EXPECT_EQ(b.dims, (std::vector<int64_t>{3}));
}

TEST(Idx, ConvertsEveryTypeFromBigEndian) {
  std::string s = idxHeader(0x0B, {2});
  appendBE(s, 0xFFFE, 2); // -2
  appendBE(s, 300, 2);
  EXPECT_EQ(parseIdx(s, "i16").toTensor().values, (std::vector<float>{-2, 300}));

  s = idxHeader(0x0C, {1});
  appendBE(s, 0xFFFFFFF9u, 4); // -7
  EXPECT_EQ(parseIdx(s, "i32").toTensor().values, (std::vector<float>{-7}));

  s = idxHeader(0x0D, {1});
  float f = 1.5f;
  uint32_t fb;
  std::memcpy(&fb, &f, 4);
  appendBE(s, fb, 4);
  EXPECT_EQ(parseIdx(s, "f32").toTensor().values, (std::vector<float>{1.5f}));

  s = idxHeader(0x0E, {1});
  double d = -0.25;
  uint64_t db;
  std::memcpy(&db, &d, 8);
  appendBE(s, db, 8);
  EXPECT_EQ(parseIdx(s, "f64").toTensor().values, (std::vector<float>{-0.25f}));

  s = idxHeader(0x09, {1});
  s.push_back(static_cast<char>(0x80));
  EXPECT_EQ(parseIdx(s, "i8").toTensor().values, (std::vector<float>{-128}));
}

TEST(Idx, RejectsMalformedFilesNamingThem) {
  auto parse = [](std::string bytes) { return [bytes] { parseIdx(bytes, "f.idx"); }; };
  expectThrowsWith(parse("\x00\x00"), {"f.idx", "4-byte magic"});
  expectThrowsWith(parse(std::string("\x01\x00\x08\x01", 4)), {"f.idx", "bad magic 0x01000801"});
  expectThrowsWith(parse(idxHeader(0x07, {1}) + "x"), {"f.idx", "unknown element type 0x07"});
  expectThrowsWith(parse(idxHeader(0x08, {}) + "x"), {"f.idx", "0 dimensions"});
  expectThrowsWith(parse(idxHeader(0x08, {2, 3}).substr(0, 9)), {"f.idx", "truncated header"});
  expectThrowsWith(parse(idxHeader(0x08, {2, 0})), {"f.idx", "dimension 1 is 0"});
  expectThrowsWith(parse(idxHeader(0x08, {2, 3}) + "abc"),
                   {"f.idx", "truncated", "needs 6 data bytes, the file has 3"});
  expectThrowsWith(parse(idxHeader(0x0C, {2}) + std::string(9, '\0')),
                   {"f.idx", "1 bytes after the 8 data bytes"});

  TempDir dir;
  std::string gz = gzipBytes(idxHeader(0x08, {1000}) + std::string(1000, 'a'));
  std::string cut = dir.file("cut.gz", gz.substr(0, gz.size() / 2));
  expectThrowsWith([&] { readIdx(cut); }, {cut, "truncated gzip"});
  std::string bad = gz;
  bad[12] ^= 0x55;
  bad[13] ^= 0x55;
  std::string corrupt = dir.file("corrupt.gz", bad);
  expectThrowsWith([&] { readIdx(corrupt); }, {corrupt});
  expectThrowsWith([&] { readIdx(dir.path + "/missing"); }, {dir.path + "/missing", "cannot open"});
}

//===-- MNISTIter ---------------------------------------------------------===//

TEST(MNISTIter, ScalesPixelsAndShapesBatches) {
  TempDir dir;
  auto [img, lab] = mnistBytes(5, 2, 3);
  MNISTOptions o;
  o.image = dir.file("img.gz", gzipBytes(img));
  o.label = dir.file("lab", lab);
  o.batchSize = 2;
  MNISTIter it(o);
  EXPECT_EQ(it.numSamples(), 5);
  EXPECT_EQ(it.dataShape(), (std::vector<int64_t>{2, 1, 2, 3}));
  EXPECT_EQ(it.labelShape(), (std::vector<int64_t>{2}));
  const Batch *b = it.next();
  ASSERT_TRUE(b);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(b->data.values[i], static_cast<float>(i) / 255.0f) << i;
  EXPECT_EQ(b->label.values, (std::vector<float>{0, 1}));
  it.next();
  b = it.next(); // sample 4 + filler sample 0
  ASSERT_TRUE(b);
  EXPECT_EQ(b->pad, 1);
  EXPECT_EQ(b->index, (std::vector<int64_t>{4, 0}));
  EXPECT_EQ(b->data.values[0], 24.0f / 255.0f);
  EXPECT_EQ(b->data.values[6], 0.0f);
  EXPECT_EQ(b->label.values, (std::vector<float>{4, 0}));
  EXPECT_FALSE(it.next());

  o.flat = true;
  MNISTIter flat(o);
  EXPECT_EQ(flat.dataShape(), (std::vector<int64_t>{2, 6}));
}

TEST(MNISTIter, RejectsMismatchedFiles) {
  TempDir dir;
  auto [img, lab] = mnistBytes(5, 2, 3);
  auto [img4, lab4] = mnistBytes(4, 2, 3);
  MNISTOptions o;
  o.batchSize = 2;
  o.image = dir.file("img", img);
  o.label = dir.file("lab4", lab4);
  expectThrowsWith([&] { MNISTIter it(o); }, {o.label, "4 labels", o.image, "5 images"});
  o.label = dir.file("lab", lab);
  o.image = dir.file("notimages", lab);
  expectThrowsWith([&] { MNISTIter it(o); }, {o.image, "not an MNIST image file", "(5,)"});
  o.image = dir.file("img", img);
  o.label = dir.file("notlabels", img);
  expectThrowsWith([&] { MNISTIter it(o); }, {o.label, "not an MNIST label file"});
  o.label = dir.file("lab", lab);
  o.batchSize = 0;
  expectThrowsWith([&] { MNISTIter it(o); }, {"batch size must be positive"});
}

//===-- Batching ----------------------------------------------------------===//

TEST(DataIter, PadFillsFromTheStart) {
  BatchOptions o;
  o.batchSize = 4;
  NDArrayIter it = indexIter(10, o);
  std::vector<int64_t> pads;
  EXPECT_EQ(epochBatches(it, &pads), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 0, 1}}));
  EXPECT_EQ(pads, (std::vector<int64_t>{0, 0, 2}));
  EXPECT_FALSE(it.next()); // stays at the end until reset
  it.reset();
  EXPECT_EQ(it.epoch(), 1);
  EXPECT_EQ(epochBatches(it).size(), 3u);
}

TEST(DataIter, PadSmallerThanABatchCycles) {
  BatchOptions o;
  o.batchSize = 5;
  NDArrayIter it = indexIter(2, o);
  std::vector<int64_t> pads;
  EXPECT_EQ(epochBatches(it, &pads), (Batches{{0, 1, 0, 1, 0}}));
  EXPECT_EQ(pads, (std::vector<int64_t>{3}));
}

TEST(DataIter, DiscardDropsTheTail) {
  BatchOptions o;
  o.batchSize = 4;
  o.lastBatch = LastBatch::Discard;
  NDArrayIter it = indexIter(10, o);
  EXPECT_EQ(epochBatches(it), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  it.reset();
  EXPECT_EQ(epochBatches(it), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}}));
}

TEST(DataIter, RollOverCarriesTheTailIntoTheNextEpoch) {
  BatchOptions o;
  o.batchSize = 4;
  o.lastBatch = LastBatch::RollOver;
  NDArrayIter it = indexIter(10, o);
  EXPECT_EQ(epochBatches(it), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  it.reset();
  EXPECT_EQ(epochBatches(it), (Batches{{8, 9, 0, 1}, {2, 3, 4, 5}, {6, 7, 8, 9}}));
  it.reset();
  EXPECT_EQ(epochBatches(it), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  // A reset before the end carries nothing.
  it.reset();
  it.next();
  it.reset();
  EXPECT_EQ(epochBatches(it), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  // setEpoch drops leftovers too.
  it.setEpoch(7);
  EXPECT_EQ(it.epoch(), 7);
  EXPECT_EQ(epochBatches(it), (Batches{{0, 1, 2, 3}, {4, 5, 6, 7}}));
}

TEST(DataIter, ShuffleIsSeededPerEpoch) {
  BatchOptions o;
  o.batchSize = 5;
  o.shuffle = true;
  o.seed = 42;
  NDArrayIter a = indexIter(20, o), b = indexIter(20, o);
  Batches a0 = epochBatches(a), b0 = epochBatches(b);
  EXPECT_EQ(a0, b0);
  std::set<int64_t> seen;
  for (const auto &batch : a0)
    seen.insert(batch.begin(), batch.end());
  EXPECT_EQ(seen.size(), 20u); // a permutation
  EXPECT_NE(a0, (Batches{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}, {10, 11, 12, 13, 14},
                         {15, 16, 17, 18, 19}}));
  a.reset();
  Batches a1 = epochBatches(a);
  EXPECT_NE(a0, a1);
  // Epoch order depends only on (seed, epoch).
  b.setEpoch(1);
  EXPECT_EQ(epochBatches(b), a1);
  o.seed = 43;
  NDArrayIter c = indexIter(20, o);
  EXPECT_NE(epochBatches(c), a0);
}

TEST(DataIter, PartsAreStridedAndEqualSized) {
  BatchOptions o;
  o.batchSize = 2;
  o.numParts = 3;
  Batches want[3] = {{{0, 3}, {6, 9}}, {{1, 4}, {7, 0}}, {{2, 5}, {8, 1}}};
  for (int64_t p = 0; p < 3; ++p) {
    o.partIndex = p;
    NDArrayIter it = indexIter(10, o);
    EXPECT_EQ(it.partSize(), 4);
    EXPECT_EQ(epochBatches(it), want[p]) << "part " << p;
  }
}

TEST(DataIter, ShuffledPartsShareOnePermutation) {
  BatchOptions o;
  o.batchSize = 3;
  o.shuffle = true;
  o.seed = 9;
  o.numParts = 4;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::multiset<int64_t> all;
    for (int64_t p = 0; p < 4; ++p) {
      o.partIndex = p;
      NDArrayIter it = indexIter(24, o);
      it.setEpoch(epoch);
      for (const auto &b : epochBatches(it))
        all.insert(b.begin(), b.end());
    }
    // 24 samples, 4 parts of 6: every sample exactly once.
    std::multiset<int64_t> every;
    for (int64_t i = 0; i < 24; ++i)
      every.insert(i);
    EXPECT_EQ(all, every) << "epoch " << epoch;
  }
}

TEST(DataIter, ReusesItsBatchBuffers) {
  BatchOptions o;
  o.batchSize = 3;
  o.shuffle = true;
  NDArrayIter it = indexIter(10, o);
  const Batch *first = it.next();
  const float *data = first->data.values.data(), *label = first->label.values.data();
  for (int epoch = 0; epoch < 3; ++epoch) {
    while (const Batch *b = it.next()) {
      EXPECT_EQ(b, first);
      EXPECT_EQ(b->data.values.data(), data);
      EXPECT_EQ(b->label.values.data(), label);
    }
    it.reset();
  }
}

TEST(DataIter, UnlabeledAndMultiDimensional) {
  BatchOptions o;
  o.batchSize = 2;
  Tensor data({3, 2, 2});
  std::iota(data.values.begin(), data.values.end(), 0.0f);
  NDArrayIter it(data, o);
  EXPECT_EQ(it.dataShape(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_TRUE(it.labelShape().empty());
  const Batch *b = it.next();
  EXPECT_EQ(b->data.values, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(b->label.values.empty());
  b = it.next();
  EXPECT_EQ(b->data.values, (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3}));
}

TEST(DataIter, RejectsBadOptions) {
  BatchOptions o;
  o.batchSize = 2;
  o.numParts = 2;
  o.partIndex = 2;
  expectThrowsWith([&] { indexIter(4, o); }, {"part index 2 is not in [0, 2)"});
  o.partIndex = 0;
  o.numParts = 0;
  expectThrowsWith([&] { indexIter(4, o); }, {"number of parts must be positive"});
  o.numParts = 1;
  expectThrowsWith([&] { NDArrayIter it(Tensor({3, 2}), Tensor({4}), o); },
                   {"data has 3 samples but label has 4"});
  expectThrowsWith([&] { NDArrayIter it(Tensor({0, 2}), o); }, {"no samples"});
  expectThrowsWith([] { parseLastBatch("wrap"); }, {"'wrap'", "pad, discard or roll_over"});
  EXPECT_EQ(parseLastBatch("roll_over"), LastBatch::RollOver);
}

//===-- Data sets ---------------------------------------------------------===//

class ScopedEnv {
public:
  ScopedEnv(const char *name, const std::string &value) : name(name) {
    if (const char *old = std::getenv(name))
      saved = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (saved)
      ::setenv(name, saved->c_str(), 1);
    else
      ::unsetenv(name);
  }

private:
  const char *name;
  std::optional<std::string> saved;
};

TEST(Dataset, EnvironmentOverridesTheDirectory) {
  TempDir dir;
  auto [img, lab] = mnistBytes(4, 2, 2);
  dir.file("train-images-idx3-ubyte", img);                  // plain
  dir.file("train-labels-idx1-ubyte.gz", gzipBytes(lab));    // gzip
  dir.file("t10k-images-idx3-ubyte.gz", gzipBytes(img));
  dir.file("t10k-labels-idx1-ubyte", lab);
  ScopedEnv env("KILN_FASHION_MNIST_DIR", dir.path);
  DatasetFiles f = locateDataset("fashion-mnist");
  EXPECT_EQ(f.dir, dir.path);
  EXPECT_EQ(f.trainImages, dir.path + "/train-images-idx3-ubyte");
  EXPECT_EQ(f.trainLabels, dir.path + "/train-labels-idx1-ubyte.gz");
  BatchOptions o;
  o.batchSize = 2;
  MNISTIter it(datasetOptions(f, "test", o));
  EXPECT_EQ(it.numSamples(), 4);
  expectThrowsWith([&] { datasetOptions(f, "valid", o); }, {"'valid'", "train and test"});

  std::filesystem::remove(dir.path + "/t10k-labels-idx1-ubyte");
  expectThrowsWith([] { locateDataset("fashion-mnist"); },
                   {"t10k-labels-idx1-ubyte", "KILN_FASHION_MNIST_DIR"});
  expectThrowsWith([] { locateDataset("cifar-10"); }, {"unknown data set 'cifar-10'",
                                                       "fashion-mnist"});
}

TEST(Dataset, FashionMNISTFromDebian) {
  DatasetFiles f;
  try {
    f = locateDataset("fashion-mnist");
  } catch (const Error &e) {
    GTEST_SKIP() << "Fashion-MNIST not installed: " << e.what();
  }
  BatchOptions o;
  o.batchSize = 100;
  MNISTIter train(datasetOptions(f, "train", o));
  EXPECT_EQ(train.numSamples(), 60000);
  EXPECT_EQ(train.dataShape(), (std::vector<int64_t>{100, 1, 28, 28}));
  MNISTIter test(datasetOptions(f, "test", o));
  EXPECT_EQ(test.numSamples(), 10000);
  // The first training and test images are both ankle boots (class 9).
  EXPECT_EQ(train.next()->label.values[0], 9.0f);
  EXPECT_EQ(test.next()->label.values[0], 9.0f);
  int64_t batches = 1, counts[10] = {};
  float lo = 1, hi = 0;
  while (const Batch *b = test.next()) {
    ++batches;
    for (float v : b->label.values)
      ++counts[static_cast<int>(v)];
    for (float v : b->data.values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  EXPECT_EQ(batches, 100);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  for (int c = 0; c < 10; ++c) // 1000 per class, less the first batch's
    EXPECT_GE(counts[c], 1000 - 100) << c;
}

} // namespace
