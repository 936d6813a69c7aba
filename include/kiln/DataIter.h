//===- kiln/DataIter.h - Batches of training data ---------------*- C++ -*-===//
//
// MXNet-style data iterators: a DataIter hands out fixed-size batches of a
// data set, one epoch at a time, with optional shuffling, sharding across
// workers and MXNet's three ways of handling the last, incomplete batch.
// MNISTIter reads IDX files (MNIST, Fashion-MNIST; gzip or not); NDArrayIter
// batches tensors the caller already holds. Both are the same DataIter: the
// subclasses only copy one sample; ordering, sharding and batching are
// written once, here. docs/training.md has the exact semantics.
//
// Batches are written into buffers allocated once per iterator: fresh
// buffers per batch would cost a page fault per 4 KiB touched, which on a
// small model is more than the compute.
//
// Library: KilnData (runtime/data; links zlib, no LLVM/MLIR).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DATAITER_H
#define KILN_DATAITER_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// What happens to the samples left over when a part's size is not a
/// multiple of the batch size (MXNet's `last_batch_handle`).
enum class LastBatch {
  /// The last batch is filled up with samples from the start of the epoch's
  /// order; Batch::pad says how many trailing rows are such filler.
  Pad,
  /// The incomplete last batch is dropped.
  Discard,
  /// The leftover samples are not returned in this epoch; after reset() they
  /// open the next epoch's first batch, followed by that epoch's samples.
  RollOver,
};

/// Parses "pad" | "discard" | "roll_over"; throws kiln::Error otherwise.
LastBatch parseLastBatch(const std::string &text);

struct BatchOptions {
  int64_t batchSize = 0; ///< Required, > 0.
  /// Visit the samples in a new pseudo-random order each epoch. The order
  /// of epoch e depends only on (seed, e): every part of a sharded data set
  /// sees the same permutation, so the parts never overlap.
  bool shuffle = false;
  uint64_t seed = 0;
  LastBatch lastBatch = LastBatch::Pad;
  /// Sharding for data-parallel workers: part `partIndex` of `numParts`
  /// gets positions partIndex, partIndex + numParts, ... of the epoch's
  /// order, which is first extended cyclically to a multiple of numParts,
  /// so every part has exactly ceil(N / numParts) samples (and every worker
  /// runs the same number of batches).
  int64_t numParts = 1;
  int64_t partIndex = 0;
};

/// One batch. Shapes are fixed for the iterator's life.
struct Batch {
  Tensor data;  ///< [batchSize, sample dims...]
  Tensor label; ///< [batchSize, label dims...]; shape {} and no values when unlabeled
  /// Number of trailing rows that are filler (LastBatch::Pad), as in MXNet.
  int64_t pad = 0;
  /// Data set index of each row (filler rows included).
  std::vector<int64_t> index;
};

class DataIter {
public:
  virtual ~DataIter();
  DataIter(const DataIter &) = delete;
  DataIter &operator=(const DataIter &) = delete;

  /// The next batch of the current epoch, or null when the epoch is over.
  /// The batch lives in the iterator and is overwritten by the next call.
  const Batch *next();
  /// Starts the next epoch (new order when shuffling; RollOver leftovers of
  /// a finished epoch go first).
  void reset();
  /// Starts epoch `epoch` afresh (its order; no leftovers carried), e.g. to
  /// resume training where a checkpoint stopped.
  void setEpoch(int64_t epoch);

  int64_t epoch() const { return epochIndex; }
  int64_t batchSize() const { return opts.batchSize; }
  /// Samples in the whole data set.
  int64_t numSamples() const { return total; }
  /// Samples this part visits per epoch: ceil(numSamples / numParts).
  int64_t partSize() const { return partLength; }
  const std::vector<int64_t> &dataShape() const { return current.data.shape; }
  const std::vector<int64_t> &labelShape() const { return current.label.shape; }
  const BatchOptions &options() const { return opts; }

protected:
  /// `what` names the data (files) in messages. Validates the options.
  DataIter(const BatchOptions &options, int64_t numSamples, std::vector<int64_t> sampleShape,
           std::optional<std::vector<int64_t>> labelShape, std::string what);

  /// Writes sample `index` into `data` (sampleSize() floats) and its label
  /// into `label` (labelSize() floats; null when the iterator has no label).
  virtual void copySample(int64_t index, float *data, float *label) const = 0;

  int64_t sampleSize() const { return sampleElems; }
  int64_t labelSize() const { return labelElems; }
  const std::string &description() const { return what; }

private:
  void startEpoch(int64_t epoch, std::vector<int64_t> carry);
  int64_t streamAt(int64_t position) const;
  void fillRow(int64_t row, int64_t index);

  BatchOptions opts;
  int64_t total, partLength;
  int64_t sampleElems, labelElems;
  bool hasLabel;
  std::string what;

  int64_t epochIndex = 0;
  std::vector<int64_t> permutation; // the whole data set's order for the epoch
  std::vector<int64_t> order;       // this part's samples for the epoch
  std::vector<int64_t> carry;       // RollOver leftovers opening the epoch
  std::vector<int64_t> leftover;    // RollOver leftovers of the finished epoch
  int64_t position = 0;             // into carry ++ order
  bool finished = false;
  Batch current;
};

/// Batches of caller-provided tensors (MXNet NDArrayIter): data [N, ...] and
/// optional label [N, ...]; sample i is row i of each.
class NDArrayIter : public DataIter {
public:
  NDArrayIter(Tensor data, const BatchOptions &options);
  NDArrayIter(Tensor data, Tensor label, const BatchOptions &options);

private:
  void copySample(int64_t index, float *data, float *label) const override;
  Tensor samples, labels;
};

struct MNISTOptions : BatchOptions {
  std::string image; ///< IDX images, unsigned bytes [N, rows, cols] (.gz or not)
  std::string label; ///< IDX labels, unsigned bytes [N] (.gz or not)
  /// Data as [B, rows·cols] instead of [B, 1, rows, cols].
  bool flat = false;
};

/// MNIST-format images and labels (MXNet MNISTIter): data float32 pixel/255
/// (SPEC §3), labels float32 class ids of shape [B]. Throws kiln::Error
/// naming the file for a missing, malformed or mismatched file.
class MNISTIter : public DataIter {
public:
  explicit MNISTIter(const MNISTOptions &options);

private:
  struct Files {
    std::string pixels, labels; // unsigned bytes, as in the files
    int64_t count = 0, rows = 0, cols = 0;
  };
  static Files load(const MNISTOptions &options);
  MNISTIter(const MNISTOptions &options, Files files);
  void copySample(int64_t index, float *data, float *label) const override;
  std::string pixels, labels;
};

/// Where a named data set's files are. Each path is the gzip file when it
/// exists, else the uncompressed one.
struct DatasetFiles {
  std::string name, dir;
  std::string trainImages, trainLabels, testImages, testLabels;
};

/// Resolves a `--dataset` name. Known: "fashion-mnist" (Debian's
/// dataset-fashion-mnist in /usr/share/datasets/fashion-mnist, or the
/// directory in $KILN_FASHION_MNIST_DIR). Throws kiln::Error for an unknown
/// name or a missing file, saying how to get it.
DatasetFiles locateDataset(const std::string &name);

/// The MNISTIter of split "train" or "test" of `files`.
MNISTOptions datasetOptions(const DatasetFiles &files, const std::string &split,
                            const BatchOptions &batch);

} // namespace kiln

#endif // KILN_DATAITER_H
