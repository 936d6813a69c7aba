//===- runtime/engine/Engine.cpp - MXNet-style dependency engine ----------===//
//
// Scheduling follows MXNet's ThreadedEngine (threaded_engine.{h,cc}):
//  - every op is an OprBlock whose atomic `wait` starts at
//    |reads| + |writes| + 1; each variable decrements it when it grants the
//    op access, and push() drops the final 1 once every variable has been
//    told, so an op cannot start while push() is still appending it;
//  - every variable keeps a FIFO of ops not yet granted, a count of running
//    reads and a running-write flag. A read is granted at once when nothing
//    is queued or writing; a write when nothing at all is running or queued.
//    When a write finishes, the next queued write or *all* consecutive queued
//    reads are granted; when the last read finishes, the queued write is.
// There is no engine-wide lock on this path: variables have their own
// mutexes, and each device has a ready queue ordered by priority.
//
// Errors are decided when a variable grants access (not when the op later
// starts): that moment has a fixed place in the variable's push order, so
// whether an op is skipped never depends on thread timing.
//
//===----------------------------------------------------------------------===//

#include "runtime/engine/Engine.h"

#include "kiln/Error.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <queue>

namespace kiln {
namespace rt {

std::string Device::str() const {
  return std::string(type == Type::CPU ? "cpu(" : "gpu(") +
         std::to_string(id) + ")";
}

namespace detail {

struct ErrorRecord {
  std::string message;
  // waitForAll retires records of older epochs in one step.
  uint64_t epoch = 0;
  // The failed op's push order: waitForAll reports the earliest-pushed
  // failure, whichever worker finished first.
  uint64_t seq = 0;
  // Thrown already by some wait; waitForAll does not throw it again.
  std::atomic<bool> reported{false};
};

struct WaitState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::shared_ptr<ErrorRecord> error;
};

struct OprBlock {
  enum class Kind { Normal, DeleteVar, WaitMarker };

  OpFn fn;
  std::vector<Var *> reads, writes;
  Device device;
  DevicePool *pool = nullptr;
  int priority = 0;
  uint64_t seq = 0;
  OpInfo info;
  Kind kind = Kind::Normal;
  WaitState *waitState = nullptr;
  bool inlineIfReady = false;

  std::atomic<int> wait{0};
  // First error seen on any of the op's variables when they were granted.
  std::mutex errMu;
  std::shared_ptr<ErrorRecord> inherited;
};

struct Var {
  struct Entry {
    OprBlock *op;
    bool write;
  };
  std::mutex mu;
  std::deque<Entry> queue; // ops not yet granted, in push order
  int runningReads = 0;
  bool runningWrite = false;
  // The failure of the last write, if it failed or was skipped.
  std::shared_ptr<ErrorRecord> error;
};

using Grant = std::pair<OprBlock *, std::shared_ptr<ErrorRecord>>;
using GrantList = std::vector<Grant>;

struct ReadyOrder {
  // priority_queue pops the "largest": higher priority, then earlier push.
  bool operator()(const OprBlock *a, const OprBlock *b) const {
    if (a->priority != b->priority)
      return a->priority < b->priority;
    return a->seq > b->seq;
  }
};

// Set on engine worker threads, so a wait from inside an op (a certain
// deadlock once all workers do it) fails loudly instead.
thread_local Engine *tlWorkerOf = nullptr;
// The op whose push() is dropping its last wait count on this thread: if
// that makes it ready and it asked to, it runs right here.
thread_local OprBlock *tlPushing = nullptr;

struct DevicePool {
  Engine *engine = nullptr;
  Device device;
  std::mutex mu;
  std::condition_variable cv;
  std::priority_queue<OprBlock *, std::vector<OprBlock *>, ReadyOrder> ready;
  bool stop = false;
  std::vector<std::thread> threads;

  void enqueue(OprBlock *op) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ready.push(op);
    }
    cv.notify_one();
  }

  void workerLoop() {
    tlWorkerOf = engine;
    for (;;) {
      OprBlock *op;
      int queued;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || !ready.empty(); });
        if (ready.empty())
          return; // stop, and nothing left
        op = ready.top();
        ready.pop();
        queued = static_cast<int>(ready.size());
      }
      engine->execute(op, this, queued);
    }
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    for (std::thread &t : threads)
      t.join();
    threads.clear();
  }
};

} // namespace detail

using namespace detail;

//===-- Options -----------------------------------------------------------===//

static int parsePositiveEnv(const char *name) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return 0;
  errno = 0;
  char *end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (errno || *end || n < 1 || n > 4096)
    throw Error(std::string(name) + " must be a positive integer, got '" + v +
                "'");
  return static_cast<int>(n);
}

EngineOptions EngineOptions::fromEnv() {
  EngineOptions o;
  if (const char *e = std::getenv("KILN_ENGINE")) {
    std::string s(e);
    if (s == "sync" || s == "synchronous" || s == "naive")
      o.synchronous = true;
    else if (!s.empty() && s != "threaded")
      throw Error("KILN_ENGINE must be 'sync' or 'threaded', got '" + s + "'");
  }
  o.cpuWorkers = parsePositiveEnv("KILN_ENGINE_WORKERS");
  o.numThreads = parsePositiveEnv("KILN_NUM_THREADS");
  return o;
}

//===-- Construction and shutdown -----------------------------------------===//

Engine::Engine() { init(EngineOptions::fromEnv()); }

Engine::Engine(EngineOptions options) { init(options); }

void Engine::init(EngineOptions o) {
  synchronous = o.synchronous;
  cpuWorkers = o.cpuWorkers > 0 ? o.cpuWorkers
                                : parsePositiveEnv("KILN_ENGINE_WORKERS");
  if (cpuWorkers <= 0)
    cpuWorkers = 2;
  workersPerDevice = std::max(1, o.workersPerDevice);
  totalCores =
      o.numThreads > 0 ? o.numThreads : parsePositiveEnv("KILN_NUM_THREADS");
  if (totalCores <= 0)
    totalCores = std::max(1u, std::thread::hardware_concurrency());
  if (!synchronous)
    cpuPool = &poolFor(Device::cpu());
}

Engine::~Engine() {
  // Everything pushed still runs, failed or not, so that no op is left
  // holding a reference into freed state; only then can workers stop.
  if (!synchronous)
    waitPendingZero();
  {
    std::lock_guard<std::mutex> lock(poolsMu);
    for (auto &p : pools)
      p.second->shutdown();
  }
  {
    std::lock_guard<std::mutex> lock(errMu);
    for (auto &rec : unreported)
      if (!rec->reported.load())
        std::fprintf(stderr, "kiln engine: unreported error at shutdown: %s\n",
                     rec->message.c_str());
  }
  for (Var *v : vars)
    delete v;
}

Engine &Engine::get() {
  static Engine engine;
  return engine;
}

DevicePool &Engine::poolFor(const Device &device) {
  std::lock_guard<std::mutex> lock(poolsMu);
  std::unique_ptr<DevicePool> &slot = pools[device];
  if (!slot) {
    slot = std::make_unique<DevicePool>();
    slot->engine = this;
    slot->device = device;
    int n = device.type == Device::Type::CPU ? cpuWorkers : workersPerDevice;
    for (int i = 0; i < n; ++i)
      slot->threads.emplace_back([p = slot.get()] { p->workerLoop(); });
  }
  return *slot;
}

//===-- Variables ---------------------------------------------------------===//

VarHandle Engine::newVariable() {
  Var *v = new Var;
  std::lock_guard<std::mutex> lock(varsMu);
  vars.insert(v);
  return v;
}

size_t Engine::numVariables() const {
  std::lock_guard<std::mutex> lock(varsMu);
  return vars.size();
}

void Engine::freeVar(Var *var) {
  {
    std::lock_guard<std::mutex> lock(varsMu);
    vars.erase(var);
  }
  delete var;
}

void Engine::deleteVariable(VarHandle var) {
  if (!var)
    throw Error("kiln engine: deleteVariable of a null variable");
  if (synchronous) {
    std::lock_guard<std::recursive_mutex> lock(syncMu);
    freeVar(var);
    return;
  }
  // A write, so it waits for every earlier read and write of VAR (MXNet's
  // DeleteVariable is pushed the same way).
  auto *op = new OprBlock;
  op->kind = OprBlock::Kind::DeleteVar;
  op->writes = {var};
  op->seq = nextSeq++;
  op->wait.store(2);
  {
    std::lock_guard<std::mutex> lock(pendingMu);
    ++pending;
  }
  std::shared_ptr<ErrorRecord> err;
  bool granted = false;
  {
    std::lock_guard<std::mutex> lock(var->mu);
    if (!var->runningWrite && var->runningReads == 0 && var->queue.empty()) {
      var->runningWrite = true;
      granted = true;
    } else {
      var->queue.push_back({op, true});
    }
  }
  if (granted)
    decWait(op, nullptr);
  decWait(op, nullptr);
}

std::shared_ptr<ErrorRecord> Engine::liveError(Var *var) const {
  // Caller holds var->mu (or runs synchronously).
  if (var->error && var->error->epoch == errorEpoch.load())
    return var->error;
  return nullptr;
}

//===-- Push and dependency tracking --------------------------------------===//

static void normalizeVars(std::vector<VarHandle> &reads,
                          std::vector<VarHandle> &writes) {
  for (VarHandle v : reads)
    if (!v)
      throw Error("kiln engine: push with a null read variable");
  for (VarHandle v : writes)
    if (!v)
      throw Error("kiln engine: push with a null write variable");
  std::sort(writes.begin(), writes.end());
  writes.erase(std::unique(writes.begin(), writes.end()), writes.end());
  std::sort(reads.begin(), reads.end());
  reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
  // A variable that is both read and written is a write: granting it twice
  // to one op would make the op wait for itself.
  reads.erase(std::remove_if(reads.begin(), reads.end(),
                             [&](VarHandle v) {
                               return std::binary_search(writes.begin(),
                                                         writes.end(), v);
                             }),
              reads.end());
}

void Engine::push(OpFn fn, std::vector<VarHandle> reads,
                  std::vector<VarHandle> writes, Device device, int priority,
                  OpInfo info, bool inlineIfReady) {
  normalizeVars(reads, writes);
  auto *op = new OprBlock;
  op->fn = std::move(fn);
  op->reads = std::move(reads);
  op->writes = std::move(writes);
  op->device = device;
  op->priority = priority;
  op->info = std::move(info);
  op->seq = nextSeq++;

  if (synchronous) {
    pushSync(op);
    return;
  }

  op->pool = device == Device::cpu() ? cpuPool : &poolFor(device);
  op->wait.store(static_cast<int>(op->reads.size() + op->writes.size()) + 1);
  {
    std::lock_guard<std::mutex> lock(pendingMu);
    ++pending;
  }

  for (Var *v : op->reads) {
    std::shared_ptr<ErrorRecord> err;
    bool granted = false;
    {
      std::lock_guard<std::mutex> lock(v->mu);
      if (!v->runningWrite && v->queue.empty()) {
        ++v->runningReads;
        err = liveError(v);
        granted = true;
      } else {
        v->queue.push_back({op, false});
      }
    }
    if (granted)
      decWait(op, err);
  }
  for (Var *v : op->writes) {
    std::shared_ptr<ErrorRecord> err;
    bool granted = false;
    {
      std::lock_guard<std::mutex> lock(v->mu);
      if (!v->runningWrite && v->runningReads == 0 && v->queue.empty()) {
        v->runningWrite = true;
        err = liveError(v);
        granted = true;
      } else {
        v->queue.push_back({op, true});
      }
    }
    if (granted)
      decWait(op, err);
  }
  op->inlineIfReady = inlineIfReady && device.type == Device::Type::CPU;
  OprBlock *outer = tlPushing;
  tlPushing = op;
  decWait(op, nullptr); // may run the op inline: nothing may touch op after
  tlPushing = outer;
}

void Engine::decWait(OprBlock *op, const std::shared_ptr<ErrorRecord> &err) {
  if (err) {
    std::lock_guard<std::mutex> lock(op->errMu);
    if (!op->inherited)
      op->inherited = err;
  }
  if (op->wait.fetch_sub(1, std::memory_order_acq_rel) == 1)
    dispatch(op);
}

void Engine::grantAll(GrantList &grants) {
  for (Grant &g : grants)
    decWait(g.first, g.second);
  grants.clear();
}

void Engine::dispatch(OprBlock *op) {
  switch (op->kind) {
  case OprBlock::Kind::WaitMarker:
    // Waits run on whichever thread released the variable, so a waiter is
    // never stuck behind busy workers.
    runMarker(op);
    return;
  case OprBlock::Kind::DeleteVar:
    complete(op, nullptr);
    return;
  case OprBlock::Kind::Normal:
    if (op->inlineIfReady && op == tlPushing) {
      tlPushing = nullptr;
      execute(op, op->pool, 0);
      return;
    }
    op->pool->enqueue(op);
    return;
  }
}

void Engine::runMarker(OprBlock *op) {
  Var *var = op->reads[0];
  WaitState *ws = op->waitState;
  std::shared_ptr<ErrorRecord> err;
  {
    // The marker holds a read grant, so no write can change the error now;
    // taking it clears the variable for ops pushed after the wait.
    std::lock_guard<std::mutex> lock(var->mu);
    err = liveError(var);
    var->error.reset();
  }
  complete(op, nullptr);
  std::lock_guard<std::mutex> lock(ws->mu);
  ws->error = std::move(err);
  ws->done = true;
  ws->cv.notify_all();
}

//===-- Execution ---------------------------------------------------------===//

int Engine::acquireCores(int queuedHint) {
  std::lock_guard<std::mutex> lock(coresMu);
  // Every worker must be able to start an op on a core of its own, so one
  // core per worker is never lent out; only the rest ("extras") are shared,
  // fairly among the ops that can run now. A budget cannot shrink once
  // given, so this is what keeps the sum of budgets of running ops within
  // max(totalCores, cpuWorkers) whatever arrives later.
  int extras = totalCores - std::min(cpuWorkers, totalCores);
  int contenders = std::min(cpuWorkers, runningCpuOps + 1 + queuedHint);
  int fairExtra = extras / std::max(1, contenders);
  int extra = std::max(0, std::min(fairExtra, extras - coresInUse));
  coresInUse += extra;
  ++runningCpuOps;
  return 1 + extra;
}

void Engine::releaseCores(int cores) {
  std::lock_guard<std::mutex> lock(coresMu);
  coresInUse -= cores - 1;
  --runningCpuOps;
}

static std::string describeFailure(const OpInfo &info, const Device &device,
                                   const std::string &what) {
  std::string msg = "engine op '" +
                    (info.opName.empty() ? std::string("<unnamed>")
                                         : info.opName) +
                    "'";
  if (!info.nodeName.empty())
    msg += " (node '" + info.nodeName + "')";
  if (!info.shapes.empty())
    msg += " with shapes " + info.shapes;
  msg += " on " + device.str() + " failed: " + what;
  return msg;
}

std::shared_ptr<ErrorRecord> Engine::runOp(OprBlock *op,
                                           const RunContext &ctx) {
  std::string what;
  try {
    op->fn(ctx);
    return nullptr;
  } catch (const std::exception &e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception (not derived from std::exception)";
  }
  auto rec = std::make_shared<ErrorRecord>();
  rec->message = describeFailure(op->info, op->device, what);
  rec->seq = op->seq;
  std::lock_guard<std::mutex> lock(errMu);
  rec->epoch = errorEpoch.load();
  unreported.push_back(rec);
  return rec;
}

void Engine::execute(OprBlock *op, DevicePool *pool, int queuedHint) {
  std::shared_ptr<ErrorRecord> err;
  {
    std::lock_guard<std::mutex> lock(op->errMu);
    err = op->inherited;
  }
  // An op whose inputs failed is skipped and passes the error on.
  if (!err && op->fn) {
    bool cpu = op->device.type == Device::Type::CPU;
    int cores = cpu ? acquireCores(queuedHint) : 1;
    err = runOp(op, RunContext{op->device, cores});
    if (cpu)
      releaseCores(cores);
  }
  complete(op, err);
}

void Engine::complete(OprBlock *op, const std::shared_ptr<ErrorRecord> &err) {
  GrantList grants;
  for (Var *v : op->reads) {
    std::lock_guard<std::mutex> lock(v->mu);
    assert(v->runningReads > 0);
    if (--v->runningReads == 0 && !v->queue.empty()) {
      // Reads never queue behind reads, so the head is a write.
      assert(v->queue.front().write);
      v->runningWrite = true;
      grants.emplace_back(v->queue.front().op, liveError(v));
      v->queue.pop_front();
    }
  }
  Var *toFree = nullptr;
  if (op->kind == OprBlock::Kind::DeleteVar)
    toFree = op->writes[0];
  for (Var *v : op->writes) {
    std::lock_guard<std::mutex> lock(v->mu);
    assert(v->runningWrite);
    v->runningWrite = false;
    if (op->kind != OprBlock::Kind::DeleteVar) {
      if (!err)
        v->error.reset();
      else if (!liveError(v)) // keep the variable's own, earlier failure
        v->error = err;
    }
    if (v->queue.empty())
      continue;
    if (v->queue.front().write) {
      v->runningWrite = true;
      grants.emplace_back(v->queue.front().op, liveError(v));
      v->queue.pop_front();
      continue;
    }
    while (!v->queue.empty() && !v->queue.front().write) {
      ++v->runningReads;
      grants.emplace_back(v->queue.front().op, liveError(v));
      v->queue.pop_front();
    }
  }
  delete op;
  if (toFree)
    freeVar(toFree);
  grantAll(grants);
  {
    std::lock_guard<std::mutex> lock(pendingMu);
    if (--pending == 0)
      pendingCv.notify_all();
  }
}

void Engine::pushSync(OprBlock *op) {
  std::unique_ptr<OprBlock> holder(op);
  std::lock_guard<std::recursive_mutex> lock(syncMu);
  std::shared_ptr<ErrorRecord> err;
  for (Var *v : op->reads)
    if (!err)
      err = liveError(v);
  for (Var *v : op->writes)
    if (!err)
      err = liveError(v);
  if (!err && op->fn)
    err = runOp(op, RunContext{op->device, totalCores});
  for (Var *v : op->writes) {
    if (!err)
      v->error.reset();
    else if (!liveError(v))
      v->error = err;
  }
}

//===-- Waiting -----------------------------------------------------------===//

void Engine::waitPendingZero() {
  std::unique_lock<std::mutex> lock(pendingMu);
  pendingCv.wait(lock, [&] { return pending == 0; });
}

void Engine::waitForVar(VarHandle var) {
  if (!var)
    throw Error("kiln engine: waitForVar of a null variable");
  std::shared_ptr<ErrorRecord> err;
  if (synchronous) {
    std::lock_guard<std::recursive_mutex> lock(syncMu);
    err = liveError(var);
    var->error.reset();
  } else {
    if (tlWorkerOf == this)
      throw Error("kiln engine: waitForVar called from inside an engine op "
                  "would deadlock");
    WaitState ws;
    auto *op = new OprBlock;
    op->kind = OprBlock::Kind::WaitMarker;
    op->reads = {var};
    op->waitState = &ws;
    op->seq = nextSeq++;
    op->wait.store(2);
    {
      std::lock_guard<std::mutex> lock(pendingMu);
      ++pending;
    }
    bool granted = false;
    {
      std::lock_guard<std::mutex> lock(var->mu);
      if (!var->runningWrite && var->queue.empty()) {
        ++var->runningReads;
        granted = true;
      } else {
        var->queue.push_back({op, false});
      }
    }
    if (granted)
      decWait(op, nullptr);
    decWait(op, nullptr);
    std::unique_lock<std::mutex> lock(ws.mu);
    ws.cv.wait(lock, [&] { return ws.done; });
    err = std::move(ws.error);
  }
  if (err) {
    err->reported.store(true);
    throw Error(err->message);
  }
}

void Engine::waitForAll() {
  if (synchronous) {
    std::lock_guard<std::recursive_mutex> lock(syncMu);
  } else {
    if (tlWorkerOf == this)
      throw Error("kiln engine: waitForAll called from inside an engine op "
                  "would deadlock");
    waitPendingZero();
  }
  std::vector<std::shared_ptr<ErrorRecord>> failures;
  {
    std::lock_guard<std::mutex> lock(errMu);
    failures.swap(unreported);
    // Retire every error stored on any variable: the engine starts clean.
    errorEpoch.fetch_add(1);
  }
  std::shared_ptr<ErrorRecord> first;
  size_t more = 0;
  for (auto &rec : failures) {
    if (rec->reported.exchange(true))
      continue;
    if (!first) {
      first = rec;
      continue;
    }
    ++more;
    if (rec->seq < first->seq)
      first = rec;
  }
  if (!first)
    return;
  std::string msg = first->message;
  if (more)
    msg += " (and " + std::to_string(more) + " more failed op" +
           (more == 1 ? "" : "s") + ")";
  throw Error(msg);
}

} // namespace rt
} // namespace kiln
