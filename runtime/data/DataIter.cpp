//===- DataIter.cpp - Batches of training data ----------------------------===//
//
// One epoch is a stream of data set indices: the RollOver leftovers of the
// previous epoch (if any), then this part's share of the epoch's order.
// Batches are consecutive runs of batchSize positions of that stream; only
// the handling of its incomplete tail depends on LastBatch.
//
//===----------------------------------------------------------------------===//

#include "kiln/DataIter.h"

#include "kiln/Error.h"
#include "kiln/Random.h"
#include "runtime/data/Idx.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <sys/stat.h>

namespace kiln {

LastBatch parseLastBatch(const std::string &text) {
  if (text == "pad")
    return LastBatch::Pad;
  if (text == "discard")
    return LastBatch::Discard;
  if (text == "roll_over")
    return LastBatch::RollOver;
  throw Error("unknown last-batch handling '" + text + "' (expected pad, discard or roll_over)");
}

//===----------------------------------------------------------------------===//
// DataIter
//===----------------------------------------------------------------------===//

DataIter::DataIter(const BatchOptions &options, int64_t numSamples,
                   std::vector<int64_t> sampleShape, std::optional<std::vector<int64_t>> labelShape,
                   std::string whatArg)
    : opts(options), total(numSamples), what(std::move(whatArg)) {
  if (opts.batchSize <= 0)
    throw Error(what + ": batch size must be positive, got " + std::to_string(opts.batchSize));
  if (opts.numParts <= 0)
    throw Error(what + ": the number of parts must be positive, got " +
                std::to_string(opts.numParts));
  if (opts.partIndex < 0 || opts.partIndex >= opts.numParts)
    throw Error(what + ": part index " + std::to_string(opts.partIndex) + " is not in [0, " +
                std::to_string(opts.numParts) + ")");
  if (total <= 0)
    throw Error(what + ": the data set has no samples");
  partLength = (total + opts.numParts - 1) / opts.numParts;

  sampleElems = Tensor::numElements(sampleShape);
  hasLabel = labelShape.has_value();
  labelElems = hasLabel ? Tensor::numElements(*labelShape) : 0;

  // The batch buffers, allocated (and touched) once for the iterator's life.
  std::vector<int64_t> dataShape{opts.batchSize};
  dataShape.insert(dataShape.end(), sampleShape.begin(), sampleShape.end());
  current.data = Tensor(dataShape);
  if (hasLabel) {
    std::vector<int64_t> shape{opts.batchSize};
    shape.insert(shape.end(), labelShape->begin(), labelShape->end());
    current.label = Tensor(shape);
  }
  current.index.assign(opts.batchSize, 0);
  order.reserve(partLength);
  carry.reserve(opts.batchSize);
  leftover.reserve(opts.batchSize);
  startEpoch(0, {});
}

DataIter::~DataIter() = default;

void DataIter::startEpoch(int64_t epoch, std::vector<int64_t> carried) {
  epochIndex = epoch;
  carry = std::move(carried);
  leftover.clear();
  position = 0;
  finished = false;

  // The whole data set's order for this epoch: the same on every part, so
  // the parts' strided shares are disjoint (up to the cyclic extension).
  permutation.resize(total);
  std::iota(permutation.begin(), permutation.end(), 0);
  if (opts.shuffle) {
    Random rng(Random::mix(opts.seed, static_cast<uint64_t>(epoch)));
    rng.shuffle(permutation);
  }
  order.clear();
  for (int64_t i = 0; i < partLength; ++i)
    order.push_back(permutation[(opts.partIndex + i * opts.numParts) % total]);
}

void DataIter::reset() { startEpoch(epochIndex + 1, std::move(leftover)); }

void DataIter::setEpoch(int64_t epoch) {
  if (epoch < 0)
    throw Error(what + ": epoch must be non-negative, got " + std::to_string(epoch));
  startEpoch(epoch, {});
}

int64_t DataIter::streamAt(int64_t pos) const {
  int64_t c = static_cast<int64_t>(carry.size());
  return pos < c ? carry[pos] : order[pos - c];
}

void DataIter::fillRow(int64_t row, int64_t index) {
  current.index[row] = index;
  copySample(index, current.data.values.data() + row * sampleElems,
             hasLabel ? current.label.values.data() + row * labelElems : nullptr);
}

const Batch *DataIter::next() {
  if (finished)
    return nullptr;
  int64_t length = static_cast<int64_t>(carry.size()) + partLength;
  int64_t remaining = length - position;
  int64_t b = opts.batchSize;
  if (remaining >= b) {
    for (int64_t r = 0; r < b; ++r)
      fillRow(r, streamAt(position + r));
    position += b;
    current.pad = 0;
    if (position == length)
      finished = true;
    return &current;
  }
  finished = true;
  if (remaining == 0)
    return nullptr;
  switch (opts.lastBatch) {
  case LastBatch::Discard:
    return nullptr;
  case LastBatch::RollOver:
    for (int64_t p = position; p < length; ++p)
      leftover.push_back(streamAt(p));
    return nullptr;
  case LastBatch::Pad:
    for (int64_t r = 0; r < remaining; ++r)
      fillRow(r, streamAt(position + r));
    // Filler from the start of this epoch's order, cyclically when the part
    // is smaller than a batch.
    for (int64_t r = remaining; r < b; ++r)
      fillRow(r, order[(r - remaining) % partLength]);
    current.pad = b - remaining;
    return &current;
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// NDArrayIter
//===----------------------------------------------------------------------===//

static std::vector<int64_t> rowShape(const Tensor &t) {
  return std::vector<int64_t>(t.shape.begin() + 1, t.shape.end());
}

static const Tensor &checkData(const Tensor &t, const char *what) {
  if (t.shape.empty())
    throw Error(std::string("NDArrayIter: the ") + what +
                " must have a leading sample dimension, got a scalar");
  if (static_cast<int64_t>(t.values.size()) != t.size())
    throw Error(std::string("NDArrayIter: the ") + what + " has shape " + formatShape(t.shape) +
                " but " + std::to_string(t.values.size()) + " values");
  return t;
}

NDArrayIter::NDArrayIter(Tensor data, const BatchOptions &options)
    : DataIter(options, checkData(data, "data").shape[0], rowShape(data), std::nullopt,
               "NDArrayIter"),
      samples(std::move(data)) {}

NDArrayIter::NDArrayIter(Tensor data, Tensor label, const BatchOptions &options)
    : DataIter(options, checkData(data, "data").shape[0], rowShape(data),
               rowShape(checkData(label, "label")), "NDArrayIter"),
      samples(std::move(data)), labels(std::move(label)) {
  if (labels.shape[0] != samples.shape[0])
    throw Error("NDArrayIter: data has " + std::to_string(samples.shape[0]) +
                " samples but label has " + std::to_string(labels.shape[0]));
}

void NDArrayIter::copySample(int64_t index, float *data, float *label) const {
  std::memcpy(data, samples.values.data() + index * sampleSize(), sampleSize() * sizeof(float));
  if (label)
    std::memcpy(label, labels.values.data() + index * labelSize(), labelSize() * sizeof(float));
}

//===----------------------------------------------------------------------===//
// MNISTIter
//===----------------------------------------------------------------------===//

MNISTIter::Files MNISTIter::load(const MNISTOptions &options) {
  if (options.image.empty() || options.label.empty())
    throw Error("MNISTIter: both an image file and a label file are required");
  IdxArray images = readIdx(options.image);
  if (images.type != IdxType::UInt8 || images.dims.size() != 3)
    throw Error("'" + options.image + "' is not an MNIST image file: expected unsigned bytes of " +
                "shape (N, rows, cols), found " + idxTypeName(images.type) + " of shape " +
                formatShape(images.dims));
  IdxArray labels = readIdx(options.label);
  if (labels.type != IdxType::UInt8 || labels.dims.size() != 1)
    throw Error("'" + options.label + "' is not an MNIST label file: expected unsigned bytes of " +
                "shape (N,), found " + idxTypeName(labels.type) + " of shape " +
                formatShape(labels.dims));
  if (labels.dims[0] != images.dims[0])
    throw Error("'" + options.label + "' has " + std::to_string(labels.dims[0]) + " labels but '" +
                options.image + "' has " + std::to_string(images.dims[0]) + " images");
  Files f;
  f.count = images.dims[0];
  f.rows = images.dims[1];
  f.cols = images.dims[2];
  f.pixels = std::move(images.payload);
  f.labels = std::move(labels.payload);
  return f;
}

MNISTIter::MNISTIter(const MNISTOptions &options) : MNISTIter(options, load(options)) {}

MNISTIter::MNISTIter(const MNISTOptions &options, Files files)
    : DataIter(options, files.count,
               options.flat ? std::vector<int64_t>{files.rows * files.cols}
                            : std::vector<int64_t>{1, files.rows, files.cols},
               std::vector<int64_t>{}, "MNISTIter('" + options.image + "')"),
      pixels(std::move(files.pixels)), labels(std::move(files.labels)) {}

void MNISTIter::copySample(int64_t index, float *data, float *label) const {
  // SPEC §3: pixel / 255, computed as a division (not a multiplication by
  // 1/255, which rounds differently) so anyone can reproduce the inputs.
  static const auto table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i)
      t[i] = static_cast<float>(i) / 255.0f;
    return t;
  }();
  auto *src = reinterpret_cast<const unsigned char *>(pixels.data()) + index * sampleSize();
  for (int64_t i = 0; i < sampleSize(); ++i)
    data[i] = table[src[i]];
  *label = static_cast<float>(static_cast<unsigned char>(labels[index]));
}

//===----------------------------------------------------------------------===//
// Data set locator
//===----------------------------------------------------------------------===//

static bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

DatasetFiles locateDataset(const std::string &name) {
  struct Known {
    const char *name, *envVar, *defaultDir, *package;
  };
  static const Known known[] = {
      {"fashion-mnist", "KILN_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist",
       "dataset-fashion-mnist"},
  };
  for (const Known &k : known) {
    if (name != k.name)
      continue;
    DatasetFiles files;
    files.name = name;
    const char *env = std::getenv(k.envVar);
    bool fromEnv = env && *env;
    files.dir = fromEnv ? env : k.defaultDir;
    auto find = [&](const char *stem) {
      std::string base = files.dir + "/" + stem;
      if (isFile(base + ".gz"))
        return base + ".gz";
      if (isFile(base))
        return base;
      std::string how = fromEnv ? std::string("check $") + k.envVar
                                : std::string("install Debian's ") + k.package + " or set $" +
                                      k.envVar + " to a directory holding the files";
      throw Error("data set '" + name + "': neither '" + base + ".gz' nor '" + base + "' exists (" +
                  how + ")");
    };
    files.trainImages = find("train-images-idx3-ubyte");
    files.trainLabels = find("train-labels-idx1-ubyte");
    files.testImages = find("t10k-images-idx3-ubyte");
    files.testLabels = find("t10k-labels-idx1-ubyte");
    return files;
  }
  std::string names;
  for (const Known &k : known)
    names += (names.empty() ? "" : ", ") + std::string(k.name);
  throw Error("unknown data set '" + name + "' (known: " + names + ")");
}

MNISTOptions datasetOptions(const DatasetFiles &files, const std::string &split,
                            const BatchOptions &batch) {
  MNISTOptions o;
  static_cast<BatchOptions &>(o) = batch;
  if (split == "train") {
    o.image = files.trainImages;
    o.label = files.trainLabels;
  } else if (split == "test") {
    o.image = files.testImages;
    o.label = files.testLabels;
  } else {
    throw Error("data set '" + files.name + "' has splits train and test, not '" + split + "'");
  }
  return o;
}

} // namespace kiln
