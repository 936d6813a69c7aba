//===- runtime/engine/Engine.h - MXNet-style dependency engine --*- C++ -*-===//
//
// DESIGN.md: "Asynchrony is the runtime's job". Every kernel, copy and
// KVStore call is pushed here as an op with the variables it reads and the
// variables it writes. Per variable, ops keep their push order; consecutive
// reads run in parallel and a write runs alone (MXNet's ThreadedVar, see
// shared/notes/mxnet-research.md §5). An exception thrown by an op never
// aborts the process: it is stored with the op's name, node and shapes and
// thrown as kiln::Error from the next wait that observes it.
//
// The model, the exact error rule and an example are in docs/runtime-engine.md.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_ENGINE_ENGINE_H
#define KILN_RUNTIME_ENGINE_ENGINE_H

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace kiln {
namespace rt {

/// Where an op runs. Each distinct device gets its own worker thread(s), so a
/// slow GPU stream never holds up CPU work and vice versa.
struct Device {
  enum class Type : int { CPU = 0, GPU = 1 };
  Type type = Type::CPU;
  int id = 0;

  static Device cpu(int id = 0) { return Device{Type::CPU, id}; }
  static Device gpu(int id) { return Device{Type::GPU, id}; }

  bool operator==(const Device &o) const { return type == o.type && id == o.id; }
  bool operator!=(const Device &o) const { return !(*this == o); }
  bool operator<(const Device &o) const {
    return type != o.type ? type < o.type : id < o.id;
  }
  /// "cpu(0)", "gpu(1)".
  std::string str() const;
};

/// What an op learns about where and how wide it runs.
struct RunContext {
  Device device;
  /// How many threads the op's kernels may use (>= 1), including the worker
  /// thread itself. The engine divides the machine's cores between the ops
  /// that run at the same time; hand this to parallelFor (Parallel.h).
  int intraOpThreads = 1;
};

/// Describes an op in error messages; every field may be empty.
struct OpInfo {
  std::string opName;   // e.g. "Convolution"
  std::string nodeName; // e.g. "conv1"
  std::string shapes;   // e.g. "data=[1,3,224,224] weight=[64,3,7,7]"
};

using OpFn = std::function<void(const RunContext &)>;

namespace detail {
struct Var;
struct OprBlock;
struct DevicePool;
struct ErrorRecord;
} // namespace detail

/// A variable is a tag for a resource (an array's storage, an RNG state, a
/// KVStore key). It carries no data; it only orders the ops that name it.
using VarHandle = detail::Var *;

struct EngineOptions {
  /// Run every op inline inside push(), in push order (debugging).
  bool synchronous = false;
  /// CPU worker threads; 0 means KILN_ENGINE_WORKERS, else 2.
  int cpuWorkers = 0;
  /// Worker threads per non-CPU device.
  int workersPerDevice = 1;
  /// Cores shared out as intra-op threads; 0 means KILN_NUM_THREADS, else
  /// std::thread::hardware_concurrency().
  int numThreads = 0;

  /// Options from the environment: KILN_ENGINE=sync|threaded,
  /// KILN_ENGINE_WORKERS=N, KILN_NUM_THREADS=N. Throws kiln::Error on a
  /// malformed value rather than silently running with a default.
  static EngineOptions fromEnv();
};

class Engine {
public:
  /// Options from the environment (EngineOptions::fromEnv()).
  Engine();
  /// Exactly these options; zero counts are resolved from the environment.
  explicit Engine(EngineOptions options);
  /// Waits for every pushed op (failed ones included), then joins workers.
  /// Errors nobody waited for are printed to stderr, never thrown.
  ~Engine();

  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  /// The process-wide engine that NDArray and friends use, built on first use
  /// from EngineOptions::fromEnv().
  static Engine &get();

  VarHandle newVariable();
  /// Frees VAR once every op pushed on it so far has finished (it is pushed
  /// as a write). VAR must not be named by any later push.
  void deleteVariable(VarHandle var);

  /// Schedules FN after every earlier-pushed op that conflicts with it on a
  /// shared variable. A variable in both READS and WRITES counts as a write;
  /// duplicates are ignored. Higher PRIORITY runs first among ready ops of
  /// the same device; ties keep push order. Thread-safe; may be called from
  /// inside a running op.
  ///
  /// INLINE_IF_READY: when nothing it depends on is pending, run FN on the
  /// calling thread before push returns instead of handing it to a worker.
  /// For tiny CPU ops (a small eager elementwise call), where waking a
  /// worker costs more than the op; the ordering rules are the same.
  void push(OpFn fn, std::vector<VarHandle> reads,
            std::vector<VarHandle> writes, Device device = Device::cpu(),
            int priority = 0, OpInfo info = {}, bool inlineIfReady = false);

  /// Blocks until every op that writes VAR and was pushed before this call
  /// has finished. Throws kiln::Error if VAR holds an error (see
  /// docs/runtime-engine.md); VAR is then cleared and usable again.
  void waitForVar(VarHandle var);
  /// Blocks until every op pushed before this call has finished. Throws
  /// kiln::Error for the first op failure not yet thrown by any wait; every
  /// variable is cleared of errors either way.
  void waitForAll();

  bool isSynchronous() const { return synchronous; }
  int numCpuWorkers() const { return cpuWorkers; }
  /// Cores shared out as intra-op threads.
  int numThreads() const { return totalCores; }
  /// Live variables (deleted ones disappear once their deletion ran).
  size_t numVariables() const;

private:
  friend struct detail::DevicePool;

  void init(EngineOptions options);
  detail::DevicePool &poolFor(const Device &device);
  void pushSync(detail::OprBlock *op);
  void grantAll(std::vector<std::pair<detail::OprBlock *,
                                      std::shared_ptr<detail::ErrorRecord>>>
                    &grants);
  void decWait(detail::OprBlock *op,
               const std::shared_ptr<detail::ErrorRecord> &err);
  void dispatch(detail::OprBlock *op);
  void execute(detail::OprBlock *op, detail::DevicePool *pool,
               int queuedHint);
  std::shared_ptr<detail::ErrorRecord> runOp(detail::OprBlock *op,
                                             const RunContext &ctx);
  void complete(detail::OprBlock *op,
                const std::shared_ptr<detail::ErrorRecord> &err);
  std::shared_ptr<detail::ErrorRecord> liveError(detail::Var *var) const;
  void runMarker(detail::OprBlock *op);
  void freeVar(detail::Var *var);
  int acquireCores(int queuedHint);
  void releaseCores(int cores);
  void waitPendingZero();

  bool synchronous = false;
  int cpuWorkers = 2;
  int workersPerDevice = 1;
  int totalCores = 1;

  // Synchronous mode: one op at a time; recursive so an op may push.
  std::recursive_mutex syncMu;

  std::mutex poolsMu;
  std::map<Device, std::unique_ptr<detail::DevicePool>> pools;
  detail::DevicePool *cpuPool = nullptr;

  std::atomic<uint64_t> nextSeq{0};

  // Ops pushed but not completed, for waitForAll and the destructor.
  std::mutex pendingMu;
  std::condition_variable pendingCv;
  int64_t pending = 0;

  // Intra-op core accounting (CPU ops only): cores lent beyond each running
  // op's own worker thread.
  std::mutex coresMu;
  int coresInUse = 0;
  int runningCpuOps = 0;

  // Live variables, so the destructor can free those never deleted.
  mutable std::mutex varsMu;
  std::unordered_set<detail::Var *> vars;

  // Failures not yet thrown by waitForAll, in order. waitForAll bumps
  // errorEpoch, which retires every error stored on a variable at once
  // without visiting (or racing with the deletion of) the variables.
  std::mutex errMu;
  std::vector<std::shared_ptr<detail::ErrorRecord>> unreported;
  std::atomic<uint64_t> errorEpoch{0};
};

} // namespace rt
} // namespace kiln

#endif // KILN_RUNTIME_ENGINE_ENGINE_H
