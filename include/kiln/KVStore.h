//===- kiln/KVStore.h - Key-value store for data-parallel training -*- C++ -*-===//
//
// MXNet's KVStore: parameters and gradients live under keys (ints or
// strings); workers push values, which are summed, and pull the result.
//
//   auto kv = kiln::KVStore::create("dist_sync");    // local | device | dist_sync | nccl
//   kv->init(keys, weights);                        // rank 0's values win
//   kv->setOptimizer(*optimizer);                   // update on the store
//   kv->push(keys, {{&grad0}, {&grad1}}, priority);  // summed over devices and workers
//   kv->pull(keys, {{&weight0}, {&weight1}});
//   kv->waitAll();
//
// Semantics (MXNet 1.x, python/mxnet/kvstore.py):
//   - init(key, v): stored[key] = v. In a distributed store rank 0's value is
//     broadcast, so every worker starts from the same weights.
//   - push(key, [v0, v1, ...]): merged = v0 + v1 + ... (the values of one
//     worker's devices), then summed over all workers (dist_sync, nccl).
//     With an updater: updater(key, merged, stored); with an optimizer: one
//     optimizer step over all keys of the push call; otherwise stored = merged.
//   - pull(key, [o0, o1, ...]): every o_i = stored[key].
//   - pushpull: push then pull.
//   A store holds int keys or string keys, not both (as in MXNet).
//
// Asynchrony: push and pull return at once. Each is an op on the dependency
// engine (runtime/engine) that reads the source arrays and writes the key,
// or reads the key and writes the destinations, so the communication of one
// key overlaps whatever the caller does next with other arrays. Tensors are
// plain host arrays that the engine does not track: do not modify an array
// passed to push, nor read one passed to pull, before wait()/waitAll().
//
// Collectives: arrays of one push call are packed into buckets of up to
// KVStoreOptions::bucketBytes, one collective per bucket, so small arrays
// (biases) do not pay a collective each; a larger array gets one of its own.
// Every collective has a deadline (timeoutSeconds): a peer that died, hangs
// or runs a different number of steps makes it fail with a message naming
// the rank, the keys and the timeout instead of hanging.
//
// Library: KilnKVStore (runtime/kvstore; no LLVM/MLIR). `dist_sync` needs
// KilnKVStoreMPI (Open MPI) and `nccl` KilnKVStoreNCCL, each registered by a
// call (runtime/kvstore/Backends.h) in the programs that link them.
// docs/distributed.md has the details and the figures.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_KVSTORE_H
#define KILN_KVSTORE_H

#include "kiln/Optimizer.h"
#include "kiln/Tensor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kiln {

/// A key: an int or a string.
struct KVKey {
  KVKey(int key) : isInt(true), num(key), name(std::to_string(key)) {}
  KVKey(const char *key) : isInt(false), name(key) {}
  KVKey(std::string key) : isInt(false), name(std::move(key)) {}
  bool isInt;
  int64_t num = 0;
  std::string name; ///< the string, or the int in decimal (for messages)
};

struct KVStoreOptions {
  /// Arrays of one push are packed into one collective while their total
  /// stays within this many bytes; a larger array is reduced on its own.
  /// 0 means KILN_KVSTORE_BUCKET_BYTES, else 4 MiB. -1: one collective per key.
  int64_t bucketBytes = 0;
  /// Seconds any collective may wait for the other workers. 0 means
  /// KILN_KVSTORE_TIMEOUT, else 25.
  double timeoutSeconds = 0;
};

/// Counters, for tests and benchmarks.
struct KVStoreStats {
  int64_t pushes = 0;      ///< keys pushed
  int64_t collectives = 0; ///< buckets reduced (one collective each across workers)
  int64_t bytesReduced = 0;
};

class KVStore {
public:
  /// Per-key update: `stored` is the key's value, `merged` the pushed sum.
  using Updater = std::function<void(const KVKey &key, const Tensor &merged, Tensor &stored)>;
  /// Update of all keys of one push call at once (what an Optimizer does).
  using BatchUpdater = std::function<void(const std::vector<Tensor *> &stored,
                                          const std::vector<const Tensor *> &merged)>;

  /// "local" or "device" (in-process sums), "dist_sync" (Open MPI, launched
  /// by mpirun), "nccl" or "dist_device_sync" (NCCL). Throws kiln::Error for
  /// an unknown type, a backend this program was not linked with, or a
  /// backend that cannot start (no mpirun, no GPU), saying which.
  static std::unique_ptr<KVStore> create(const std::string &type = "local",
                                         const KVStoreOptions &options = {});
  ~KVStore();

  const std::string &type() const;
  int rank() const;
  int numWorkers() const;

  void init(const std::vector<KVKey> &keys, const std::vector<const Tensor *> &values);
  void init(const KVKey &key, const Tensor &value) { init({key}, {&value}); }

  /// values[i] lists key i's arrays (one per device), all of its shape.
  /// Higher priority is communicated first (MXNet pushes layer i with
  /// priority -i, so the last layers' gradients go first).
  void push(const std::vector<KVKey> &keys, const std::vector<std::vector<const Tensor *>> &values,
            int priority = 0);
  void push(const KVKey &key, const std::vector<const Tensor *> &values, int priority = 0) {
    push(std::vector<KVKey>{key}, {values}, priority);
  }
  void pull(const std::vector<KVKey> &keys, const std::vector<std::vector<Tensor *>> &outs,
            int priority = 0);
  void pull(const KVKey &key, const std::vector<Tensor *> &outs, int priority = 0) {
    pull(std::vector<KVKey>{key}, {outs}, priority);
  }
  void pushpull(const std::vector<KVKey> &keys,
                const std::vector<std::vector<const Tensor *>> &values,
                const std::vector<std::vector<Tensor *>> &outs, int priority = 0) {
    push(keys, values, priority);
    pull(keys, outs, priority);
  }

  void setUpdater(Updater updater);
  void setBatchUpdater(BatchUpdater updater);
  /// Runs `optimizer` on the store (MXNet's update_on_kvstore): every push
  /// call is followed by one optimizer step over the keys it pushed, in
  /// their order. The step is a compiled plan on the engine itself, so a
  /// push with a batch updater waits for its reduction and runs the update
  /// on the calling thread before it returns. The optimizer must outlive the store's use of it, and
  /// every push must name the same keys (Optimizer fixes its parameters on
  /// its first update).
  void setOptimizer(Optimizer &optimizer) {
    setBatchUpdater([&optimizer](const std::vector<Tensor *> &stored,
                                 const std::vector<const Tensor *> &merged) {
      optimizer.update(stored, merged);
    });
  }

  /// Waits for the pending pushes and pulls of these keys / of all keys.
  /// Throws kiln::Error for a failed one (e.g. a collective that timed out).
  void wait(const std::vector<KVKey> &keys);
  void waitAll();
  /// Waits for every worker (after this worker's pending operations).
  void barrier();
  /// True when every worker passes true. A data-parallel loop asks this
  /// before each step so that a worker that runs out of batches early ends
  /// the epoch for everybody instead of leaving them waiting in a
  /// collective (MXNet issue #7888).
  bool allWorkers(bool mine);
  /// Sums `values` over all workers, in place (e.g. epoch statistics).
  void allreduce(std::vector<double> &values);

  KVStoreStats stats() const;
  /// Arrays of one push are packed into collectives of up to this many bytes
  /// (KVStoreOptions::bucketBytes as resolved; -1: one per key).
  int64_t bucketBytes() const;
  struct Impl;

private:
  explicit KVStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// Sums gradients over the workers while the backward is still computing
/// the rest (MXNet's engine-driven push, so communication of layer n
/// overlaps the backward of layer n-1). Wire ready() to
/// Executor::setGradientHook: once every gradient of a group is final, the
/// group is pushed (one collective per bucket) and its sum pulled back into
/// the gradient arrays, all as engine ops, from the hook. Groups are
/// consecutive gradients in a fixed order — the last parameter first, the
/// order the backward produces them — of up to KVStore::bucketBytes(): the
/// sequence of collectives is then the same on every worker whatever order
/// each worker's engine finishes its steps in. The store must have no
/// updater; the caller applies its optimizer to the summed gradients (every
/// worker holds the same sums, so every worker takes the same step).
class GradientReducer {
public:
  /// Initializes `keys` in `store` with the gradients' shapes.
  GradientReducer(KVStore &store, std::vector<KVKey> keys, std::vector<Tensor *> grads);
  ~GradientReducer();
  GradientReducer(const GradientReducer &) = delete;
  GradientReducer &operator=(const GradientReducer &) = delete;

  /// Before each step: no gradient is ready.
  void beginStep();
  /// Gradient `index` is final for this step (from any thread).
  void ready(size_t index);
  /// After the step's backward: pushes what no ready() pushed (everything
  /// when no hook is wired), then waits until every gradient array holds
  /// its sum over the workers. Throws kiln::Error for a failed collective.
  void finishStep();
  /// Groups ready() pushed during the last step, before finishStep(): how
  /// much of the communication could start during the backward.
  size_t groupsPushedEarly() const { return early; }
  size_t numGroups() const { return groups.size(); }

private:
  void pushGroup(size_t g);

  KVStore &store;
  std::vector<KVKey> keys;
  std::vector<Tensor *> grads;
  /// Groups of gradient indices, in push order.
  std::vector<std::vector<size_t>> groups;
  std::vector<size_t> groupOf;
  std::vector<size_t> missing; // per group: gradients not yet ready
  size_t nextGroup = 0;        // first group not pushed yet
  size_t early = 0;
  std::mutex mu;
};

} // namespace kiln

#endif // KILN_KVSTORE_H
