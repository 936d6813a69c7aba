//===- Imperative.cpp - Eager operator calls: one-op functions, cached ----===//
//
// nd::invoke is the one road every eager op takes:
//
//   key = (op, attributes, input shapes, mode) ──hit──▶ EagerKernel
//        │ miss
//        ▼
//   mx::Graph {in0..inN → op} ──importGraph──▶ graph dialect (shapes inferred)
//        ──[kiln-graph-training-mode]──▶ JitModel::compile (fuse, outline, plan, CPU JIT)
//
// then one engine op that reads the input arrays' variables and writes the
// outputs' runs the kernel on the arrays' own memory. A hit costs a hash
// lookup, an output allocation from the storage pool and an engine push.
//
// Results that are not outputs of the op (BatchNorm's new moving statistics
// in training mode) are written back into the input arrays they update.
//
//===----------------------------------------------------------------------===//

#include "API/NDArrayInternal.h"

#include "Compiler/Diagnostics.h"
#include "Compiler/JitModel.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/MXNetAttrs.h"
#include "Import/OpCatalog.h"
#include "Transforms/Autodiff.h"
#include "kiln/Error.h"
#include "runtime/exec/Plan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

using namespace mlir;

namespace kiln {
namespace detail {
namespace {

/// Where a function argument's buffer comes from.
struct ArgSource {
  enum Kind : uint8_t { Input, RngCounter } kind = Input;
  uint32_t index = 0;
};
/// Where a function result goes: output `index`, or back into input
/// `index` (an updated aux state).
struct ResultDest {
  enum Kind : uint8_t { Output, InputUpdate } kind = Output;
  uint32_t index = 0;
};

/// A compiled one-op function and how to call it on arrays.
struct EagerKernel {
  std::unique_ptr<JitModel> model;
  std::vector<ArgSource> args;
  std::vector<ResultDest> results;
  std::vector<std::vector<int64_t>> outputShapes;
  /// Elements of each result (for the write-back scratch).
  std::vector<int64_t> resultElements;
  /// An output may share memory with an input of the same shape: every
  /// output element depends only on the same element of that input.
  bool elementwise = false;
  /// Small enough that handing it to a worker costs more than running it:
  /// it runs on the caller's thread when its inputs are ready.
  bool runInline = false;
  /// Compiled by the quick tier (plain loops) and worth the full pipeline
  /// once it is reused: the cache recompiles it in the background.
  bool upgradable = false;
  rt::OpInfo info;

  /// A plan of one kernel call on arguments and results only: call it
  /// directly (reentrant, no plan executor, no lock).
  exec::KernelFn direct = nullptr;
  /// Per kernel argument: function argument i (>= 0) or result ~i.
  std::vector<int32_t> directArgs;

  void run(void *const *argBuffers, void *const *resultBuffers) const {
    if (direct) {
      void *buffers[32];
      for (size_t i = 0; i < directArgs.size(); ++i) {
        int32_t a = directArgs[i];
        buffers[i] = a >= 0 ? argBuffers[a] : resultBuffers[~a];
      }
      direct(buffers);
      return;
    }
    model->runOnThisThread(argBuffers, resultBuffers);
  }
};

bool isElementwiseOp(const std::string &op) {
  static const char *const ops[] = {
      "elemwise_add",      "elemwise_sub",      "elemwise_mul",    "elemwise_div",
      "broadcast_add",     "broadcast_sub",     "broadcast_mul",   "broadcast_div",
      "broadcast_maximum", "broadcast_minimum", "broadcast_power", "_plus_scalar",
      "_minus_scalar",     "_rminus_scalar",    "_mul_scalar",     "_div_scalar",
      "_rdiv_scalar",      "_power_scalar",     "_rpower_scalar",  "_maximum_scalar",
      "_minimum_scalar",   "Activation",        "_copy",           "add_n"};
  for (const char *o : ops)
    if (op == o)
      return true;
  return false;
}

/// Which compilation a kernel gets (see KernelCache::compile).
enum class Tier { ByWork, Full };

class KernelCache {
public:
  static KernelCache &get() {
    static KernelCache *cache = new KernelCache(); // outlives static arrays
    return *cache;
  }

  const EagerKernel &lookup(const std::string &key, const std::string &op,
                            const nd::AttrMap &attrs,
                            const std::vector<const std::vector<int64_t> *> &shapes,
                            bool training, uint64_t seed) {
    {
      std::shared_lock<std::shared_mutex> lock(mu);
      auto it = entries.find(key);
      if (it != entries.end())
        return hit(*it->second);
    }
    std::lock_guard<std::mutex> compileLock(compileMu);
    {
      std::shared_lock<std::shared_mutex> lock(mu);
      auto it = entries.find(key);
      if (it != entries.end())
        return hit(*it->second);
    }
    auto start = std::chrono::steady_clock::now();
    auto entry = std::make_unique<Entry>();
    entry->first = compile(op, attrs, shapes, training, seed, Tier::ByWork);
    entry->current.store(entry->first.get());
    entry->op = op;
    entry->attrs = attrs;
    for (const auto *shape : shapes)
      entry->shapes.push_back(*shape);
    entry->training = training;
    entry->seed = seed;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::unique_lock<std::shared_mutex> lock(mu);
    misses.fetch_add(1, std::memory_order_relaxed);
    compileSeconds += seconds;
    const EagerKernel &ref = *entry->first;
    entries.emplace(key, std::move(entry));
    return ref;
  }

  nd::CacheStats stats() {
    std::shared_lock<std::shared_mutex> lock(mu);
    nd::CacheStats s;
    s.hits = hits.load();
    s.misses = misses.load();
    s.entries = static_cast<int64_t>(entries.size());
    s.compileSeconds = compileSeconds;
    s.upgrades = upgrades.load();
    return s;
  }

  void clear() {
    // Pending ops may still run cached kernels, and the background compiler
    // may be working on an entry.
    engine().waitForAll();
    {
      std::unique_lock<std::mutex> lock(queueMu);
      queueIdle.wait(lock, [&] { return queue.empty() && !upgrading; });
    }
    std::lock_guard<std::mutex> compileLock(compileMu);
    std::unique_lock<std::shared_mutex> lock(mu);
    entries.clear();
    hits = 0;
    misses = 0;
    upgrades = 0;
    compileSeconds = 0;
  }

private:
  /// One key's kernels: the first compilation and, for an upgradable one,
  /// the full-pipeline kernel that replaces it; both stay alive (pending
  /// calls may still run the first).
  struct Entry {
    std::unique_ptr<EagerKernel> first, upgraded;
    std::atomic<const EagerKernel *> current{nullptr};
    std::atomic<int> hits{0};
    std::string op;
    nd::AttrMap attrs;
    std::vector<std::vector<int64_t>> shapes;
    bool training = false;
    uint64_t seed = 0;
  };

  /// Reuses before a quick-tier kernel worth upgrading is recompiled: the
  /// first reuse says the call sits in a loop.
  static constexpr int kUpgradeAfterHits = 1;

  KernelCache() { context.loadDialect<graph::GraphDialect, func::FuncDialect>(); }

  const EagerKernel &hit(Entry &e) {
    hits.fetch_add(1, std::memory_order_relaxed);
    if (e.first->upgradable && e.hits.fetch_add(1, std::memory_order_relaxed) + 1 == kUpgradeAfterHits)
      queueUpgrade(&e);
    return *e.current.load(std::memory_order_acquire);
  }

  void queueUpgrade(Entry *e) {
    std::lock_guard<std::mutex> lock(queueMu);
    queue.push_back(e);
    if (!compiler.joinable()) {
      compiler = std::thread([this] { compileInBackground(); });
      // Stop it before the static destructors of LLVM and MLIR run (this
      // handler is registered after they were constructed).
      std::atexit([] { get().stopCompiler(); });
    }
    queueReady.notify_one();
  }

  void compileInBackground() {
    for (;;) {
      Entry *e;
      {
        std::unique_lock<std::mutex> lock(queueMu);
        queueReady.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping)
          return;
        e = queue.front();
        queue.pop_front();
        upgrading = true;
      }
      try {
        std::lock_guard<std::mutex> compileLock(compileMu);
        std::vector<const std::vector<int64_t> *> shapes;
        for (const auto &shape : e->shapes)
          shapes.push_back(&shape);
        e->upgraded = compile(e->op, e->attrs, shapes, e->training, e->seed, Tier::Full);
        e->current.store(e->upgraded.get(), std::memory_order_release);
        upgrades.fetch_add(1);
      } catch (const std::exception &) {
        // The quick kernel works; it simply stays.
      }
      std::lock_guard<std::mutex> lock(queueMu);
      upgrading = false;
      queueIdle.notify_all();
    }
  }

  void stopCompiler() {
    {
      std::lock_guard<std::mutex> lock(queueMu);
      stopping = true;
    }
    queueReady.notify_all();
    if (compiler.joinable())
      compiler.join();
  }

  std::unique_ptr<EagerKernel> compile(const std::string &op, const nd::AttrMap &attrs,
                                       const std::vector<const std::vector<int64_t> *> &shapes,
                                       bool training, uint64_t seed, Tier tier);

  MLIRContext context;
  std::mutex compileMu; // one compilation at a time (the context is shared)
  std::shared_mutex mu;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries;
  std::atomic<int64_t> hits{0}, misses{0}, upgrades{0};
  double compileSeconds = 0;

  // The background compiler (upgrades).
  std::mutex queueMu;
  std::condition_variable queueReady, queueIdle;
  std::deque<Entry *> queue;
  bool upgrading = false, stopping = false;
  std::thread compiler;
};

/// Ops up to this many element touches run inline when ready (measured on
/// the 2-core development VM: a worker hand-off costs 3-6 µs, a 32K-element
/// add about 10 µs).
constexpr int64_t kInlineWork = 1 << 15;
/// Up to this much work, the first compilation is the quick tier: it
/// compiles in about a third of the time (a 3x3 convolution: 20 instead of
/// 60-90 ms). Plain loops run about 4.5 ms per million multiply-adds here
/// (100x slower than the full pipeline's kernels), so up to 4M the first
/// call and the one or two before the upgrade lands still finish sooner.
/// Above it, the full pipeline from the start.
constexpr int64_t kQuickTierWork = 1 << 22;

/// Elements touched, times the reduction length for the contractions.
int64_t estimateWork(const std::string &op, const std::vector<const std::vector<int64_t> *> &shapes,
                     const std::vector<int64_t> &resultElements,
                     const std::vector<std::vector<int64_t>> &outputShapes) {
  int64_t work = 0;
  for (const auto *shape : shapes)
    work += Tensor::numElements(*shape);
  for (int64_t n : resultElements)
    work += n;
  if ((op == "FullyConnected" || op == "Convolution" || op == "Deconvolution" || op == "dot") &&
      shapes.size() >= 2 && !outputShapes.empty()) {
    int64_t outputs = Tensor::numElements(outputShapes[0]);
    int64_t reduction = std::max<int64_t>(1, Tensor::numElements(*shapes[1]) /
                                                 std::max<int64_t>(1, (*shapes[1])[0]));
    work += outputs * reduction;
  }
  return work;
}

std::string inputName(size_t i) { return "in" + std::to_string(i); }

std::unique_ptr<EagerKernel>
KernelCache::compile(const std::string &op, const nd::AttrMap &attrs,
                     const std::vector<const std::vector<int64_t> *> &shapes, bool training,
                     uint64_t seed, Tier tier) {
  // The key holds every input's shape, so a call with another input count
  // never hits this kernel: checking the count here, once, is enough.
  const mx::OpInfo *info = mx::lookupOp(op);
  std::vector<std::string> inputNames = info->inputNames(attrs);
  if (inputNames.size() != shapes.size()) {
    std::string names;
    for (const std::string &n : inputNames)
      names += (names.empty() ? "" : ", ") + n;
    throw Error(op + " takes " + std::to_string(inputNames.size()) + " inputs (" + names +
                ") with these attributes, but " + std::to_string(shapes.size()) +
                " were given");
  }
  size_t numAux = info->numAuxInputs;

  mx::Graph g;
  ImportOptions options;
  options.fileName = "<eager " + op + ">";
  for (size_t i = 0; i < shapes.size(); ++i) {
    mx::Node var;
    var.op = "null";
    var.name = inputName(i);
    g.nodes.push_back(var);
    // Aux inputs must be classified as aux states for training mode to
    // return their updates; the importer does that for non-input variables.
    bool aux = i + numAux >= shapes.size();
    (aux ? options.paramShapes : options.inputShapes)[var.name] = *shapes[i];
  }
  mx::Node node;
  node.op = op;
  node.name = op;
  node.attrs = attrs;
  for (size_t i = 0; i < shapes.size(); ++i)
    node.inputs.push_back({(int64_t)i, 0});
  g.nodes.push_back(node);
  int64_t numOutputs = mx::numOutputs(g.nodes.back());
  for (int64_t o = 0; o < numOutputs; ++o)
    g.heads.push_back({(int64_t)shapes.size(), o});

  OwningOpRef<ModuleOp> module = importGraph(context, g, options);
  auto main = module->lookupSymbol<func::FuncOp>("main");
  if (training) {
    DiagnosticCollector diagnostics(&context);
    TrainingModeOptions tm;
    tm.seed = seed;
    if (failed(applyTrainingMode(main, tm)))
      diagnostics.fail(options.fileName + ": training mode failed");
  }

  auto kernel = std::make_unique<EagerKernel>();
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    auto kind = main.getArgAttrOfType<StringAttr>(i, kGraphKindAttr);
    if (kind && kind.getValue() == kRngCounterKind) {
      kernel->args.push_back({ArgSource::RngCounter, 0});
      continue;
    }
    std::string name = argName(main, i);
    kernel->args.push_back({ArgSource::Input, (uint32_t)std::stoul(name.substr(2))});
  }
  for (unsigned r = 0; r < main.getNumResults(); ++r) {
    auto type = cast<RankedTensorType>(main.getResultTypes()[r]);
    kernel->resultElements.push_back(type.getNumElements());
    if (r < (unsigned)numOutputs) {
      kernel->results.push_back({ResultDest::Output, r});
      kernel->outputShapes.emplace_back(type.getShape().begin(), type.getShape().end());
      continue;
    }
    // Training mode's updated aux states, named after their argument.
    std::string name = resultName(main, r);
    kernel->results.push_back({ResultDest::InputUpdate, (uint32_t)std::stoul(name.substr(2))});
  }
  kernel->elementwise = isElementwiseOp(op);

  // Tiers, as in any JIT: the first call of a small or medium op gets the
  // quick pipeline (plain loops, about half the compile time). An op small
  // enough to run inline stays there (call overhead dominates it); a medium
  // one is recompiled with the full pipeline (tiled, vectorized, packed
  // GEMMs) in the background once it is reused. A big op gets the full
  // pipeline at once: plain loops would cost more than the compile saves.
  int64_t work = estimateWork(op, shapes, kernel->resultElements, kernel->outputShapes);
  kernel->runInline = work <= kInlineWork;
  bool quick = tier == Tier::ByWork && work <= kQuickTierWork;
  kernel->upgradable = quick && !kernel->runInline;
  cpu::JitOptions jit;
  if (quick) {
    jit.tileAndVectorize = false;
    jit.lowerContractions = false;
  }
  kernel->model = JitModel::compile(*module, MemoryStrategy::Both, jit);
  const exec::Plan &plan = kernel->model->plan();
  if (plan.steps.size() == 1 && plan.arenaBytes == 0 && plan.constants.empty() &&
      plan.steps[0].args.size() <= 32) {
    const exec::Step &step = plan.steps[0];
    bool ok = true;
    for (uint32_t slot : step.args) {
      const exec::Storage &s = plan.storages[plan.slots[slot].storage];
      switch (s.kind) {
      case exec::SlotKind::Input:
        kernel->directArgs.push_back((int32_t)kernel->model->inputArgument(s.index));
        break;
      case exec::SlotKind::Param:
        kernel->directArgs.push_back((int32_t)kernel->model->paramArgument(s.index));
        break;
      case exec::SlotKind::Output:
        kernel->directArgs.push_back(~(int32_t)s.index);
        break;
      default:
        ok = false;
      }
    }
    if (ok)
      kernel->direct = kernel->model->kernelFunction(step.kernel);
    else
      kernel->directArgs.clear();
  }

  kernel->info.opName = op;
  kernel->info.nodeName = "eager";
  std::string shapeText;
  for (size_t i = 0; i < shapes.size(); ++i)
    shapeText += (i ? " " : "") + inputNames[i] + "=" + formatShape(*shapes[i]);
  kernel->info.shapes = shapeText;
  return kernel;
}

thread_local std::string keyBuffer;

/// Appends the raw bytes of `v` (keys are compared, never printed).
template <typename T>
void appendRaw(std::string &key, const T &v) {
  key.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

std::atomic<uint64_t> rngSeed{0};
std::atomic<uint64_t> rngCounter{0};

/// What one pushed eager call holds on to until it has run.
struct EagerCall {
  const EagerKernel *kernel = nullptr;
  std::vector<std::shared_ptr<Chunk>> keepAlive;
  std::vector<void *> args, results;
  /// Result j of an InputUpdate (or an output computed aside because it
  /// overlaps an input): copy `elements` floats from results[j] to target.
  struct CopyBack {
    uint32_t result;
    float *target;
    int64_t elements;
  };
  std::vector<CopyBack> copyBacks;
  std::vector<std::shared_ptr<Chunk>> scratch;
  float counter = 0;

  void operator()() const {
    kernel->run(args.data(), results.data());
    for (const CopyBack &c : copyBacks)
      std::memcpy(c.target, results[c.result], c.elements * sizeof(float));
  }
};

} // namespace

bool hasTrainingMode(const std::string &op, const nd::AttrMap &attrs) {
  if (op == "BatchNorm" || op == "_contrib_SyncBatchNorm") {
    auto it = attrs.find("use_global_stats");
    return it == attrs.end() || !mx::parseBool(it->second, "use_global_stats");
  }
  if (op == "Dropout")
    return true;
  if (op == "LeakyReLU") {
    auto it = attrs.find("act_type");
    return it != attrs.end() && it->second == "rrelu";
  }
  return false;
}

void checkUsable(const NDArray &a, const std::string &what) {
  if (a.empty())
    throw Error(what + " is an empty NDArray");
}

} // namespace detail

namespace nd {

using detail::Chunk;
using detail::NDArrayImpl;

std::vector<NDArray> invoke(const std::string &opName, const std::vector<NDArray> &inputs,
                            const AttrMap &attrs, const std::vector<NDArray> &out) {
  const std::string op = mx::canonicalOpName(opName);
  const mx::OpInfo *info = mx::lookupOp(op);
  if (!info)
    throw Error("nd::invoke: " + mx::unknownOperatorMessage(opName));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].empty()) // (the message is built only when needed: a hot path)
      detail::checkUsable(inputs[i], "input " + std::to_string(i) + " of " + op);

  bool training = autograd::isTraining() && detail::hasTrainingMode(op, attrs);
  if (op == "Dropout") {
    auto mode = attrs.find("mode");
    bool always = mode != attrs.end() && mode->second == "always";
    training = autograd::isTraining() || always;
    // Recorded: the mask becomes an input of a recorded multiply, so the
    // backward graph sees the very mask this call drew.
    if (training && autograd::isRecording() && inputs.size() == 1) {
      NDArray mask;
      {
        autograd::PauseScope pause(/*train=*/true);
        mask = invoke(op, {nd::ones(inputs[0].shape())}, attrs).front();
      }
      return invoke("elemwise_mul", {inputs[0], mask}, {}, out);
    }
  }
  uint64_t seed = detail::rngSeed.load(std::memory_order_relaxed);

  // The cache key: op, attributes, shapes, mode (raw bytes).
  std::string &key = detail::keyBuffer;
  key.assign(op);
  key.push_back('\0');
  for (const auto &[k, v] : attrs) {
    key.append(k);
    key.push_back('=');
    key.append(v);
    key.push_back('\0');
  }
  std::vector<const std::vector<int64_t> *> shapes;
  shapes.reserve(inputs.size());
  for (const NDArray &a : inputs) {
    const std::vector<int64_t> &s = a.shape();
    shapes.push_back(&s);
    detail::appendRaw(key, s.size());
    for (int64_t d : s)
      detail::appendRaw(key, d);
  }
  key.push_back(training ? 'T' : 'I');
  if (training)
    detail::appendRaw(key, seed);

  const detail::EagerKernel &kernel =
      detail::KernelCache::get().lookup(key, op, attrs, shapes, training, seed);

  size_t numOutputs = kernel.outputShapes.size();
  if (!out.empty() && out.size() != numOutputs)
    throw Error(op + " has " + std::to_string(numOutputs) + " outputs but " +
                std::to_string(out.size()) + " arrays were given to write them to");

  bool recording = autograd::isRecording();
  std::vector<uint64_t> inputVersions;
  if (recording) {
    for (const NDArray &a : inputs)
      inputVersions.push_back(a.implPtr()->chunk->version.load(std::memory_order_relaxed));
    for (const NDArray &o : out)
      detail::checkRecordedWrite(o, op);
  }

  auto call = std::make_shared<detail::EagerCall>();
  call->kernel = &kernel;
  std::vector<rt::VarHandle> reads, writes;
  reads.reserve(inputs.size());
  writes.reserve(kernel.results.size());
  call->keepAlive.reserve(inputs.size() + kernel.results.size());
  for (const NDArray &a : inputs) {
    reads.push_back(a.implPtr()->var());
    call->keepAlive.push_back(a.implPtr()->chunk);
  }

  std::vector<NDArray> results;
  results.reserve(numOutputs);
  call->results.resize(kernel.results.size());
  for (size_t o = 0; o < numOutputs; ++o) {
    if (out.empty()) {
      NDArray fresh(detail::newArray(kernel.outputShapes[o]));
      call->results[o] = fresh.implPtr()->data();
      writes.push_back(fresh.implPtr()->var());
      call->keepAlive.push_back(fresh.implPtr()->chunk);
      results.push_back(std::move(fresh));
      continue;
    }
    const NDArray &dst = out[o];
    detail::checkUsable(dst, "output " + std::to_string(o) + " of " + op);
    if (dst.shape() != kernel.outputShapes[o])
      throw Error(op + ": output " + std::to_string(o) + " has shape " +
                  formatShape(dst.shape()) + " but the op computes " +
                  formatShape(kernel.outputShapes[o]));
    const auto &d = dst.implPtr();
    // Writing over an input is safe for an elementwise op reading exactly
    // that view; otherwise compute aside and copy.
    bool overlaps = false, exactAlias = true;
    for (const NDArray &a : inputs)
      if (a.implPtr()->chunk == d->chunk) {
        overlaps = true;
        exactAlias = exactAlias && a.implPtr()->offset == d->offset && a.shape() == dst.shape();
      }
    if (overlaps && !(kernel.elementwise && exactAlias)) {
      auto tmp = Chunk::allocate(d->elements);
      call->results[o] = tmp->data;
      call->copyBacks.push_back({(uint32_t)o, d->data(), d->elements});
      call->scratch.push_back(std::move(tmp));
    } else {
      call->results[o] = d->data();
    }
    writes.push_back(d->var());
    d->chunk->version.fetch_add(1, std::memory_order_relaxed);
    call->keepAlive.push_back(d->chunk);
    results.push_back(dst);
  }
  for (size_t r = numOutputs; r < kernel.results.size(); ++r) {
    const NDArray &target = inputs[kernel.results[r].index];
    const auto &t = target.implPtr();
    auto tmp = Chunk::allocate(kernel.resultElements[r]);
    call->results[r] = tmp->data;
    call->copyBacks.push_back({(uint32_t)r, t->data(), t->elements});
    call->scratch.push_back(std::move(tmp));
    writes.push_back(t->var());
    uint64_t updated = t->chunk->version.fetch_add(1, std::memory_order_relaxed) + 1;
    // The op's own update (training-mode moving statistics, which the
    // recorded forward does not read) does not stale its recording.
    if (recording)
      inputVersions[kernel.results[r].index] = updated;
  }
  call->args.resize(kernel.args.size());
  for (size_t i = 0; i < kernel.args.size(); ++i) {
    if (kernel.args[i].kind == detail::ArgSource::RngCounter) {
      call->counter =
          static_cast<float>(detail::rngCounter.fetch_add(1, std::memory_order_relaxed));
      call->args[i] = &call->counter;
      continue;
    }
    call->args[i] = inputs[kernel.args[i].index].implPtr()->data();
  }

  detail::engine().push(
      [c = std::move(call)](const rt::RunContext &) {
        (*c)();
      },
      std::move(reads), std::move(writes), rt::Device::cpu(), 0, kernel.info, kernel.runInline);

  if (recording)
    detail::recordOp(op, attrs, inputs, results, autograd::isTraining(), &inputVersions);
  return results;
}

CacheStats cacheStats() { return detail::KernelCache::get().stats(); }
void clearCache() { detail::KernelCache::get().clear(); }
void seed(uint64_t s) {
  detail::rngSeed.store(s);
  detail::rngCounter.store(0);
}

} // namespace nd
} // namespace kiln
