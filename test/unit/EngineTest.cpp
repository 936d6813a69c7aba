//===- EngineTest.cpp - Dependency engine: ordering, errors, shutdown -----===//
//
// No test asserts a timing threshold. Waits inside ops use generous timeouts
// and report failure instead of hanging, and every test body runs under a
// watchdog that aborts the binary (a failed test, with a message) if the
// engine deadlocks.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "runtime/engine/Engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace kiln;
using namespace kiln::rt;

namespace {

constexpr auto kWaitTimeout = std::chrono::seconds(60);

/// Aborts the process if the enclosing scope does not finish in time, so a
/// deadlocked engine fails the test run instead of hanging it.
class Watchdog {
public:
  explicit Watchdog(const char *what, int seconds = 240)
      : thread([this, what, seconds] {
          std::unique_lock<std::mutex> lock(mu);
          if (!cv.wait_for(lock, std::chrono::seconds(seconds),
                           [&] { return done; })) {
            std::fprintf(stderr, "watchdog: '%s' did not finish in %d s "
                                 "(engine deadlock?)\n", what, seconds);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_all();
    thread.join();
  }

private:
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread thread;
};

/// A one-shot event; waitFor returns false on timeout.
class Gate {
public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu);
      isOpen = true;
    }
    cv.notify_all();
  }
  bool waitFor(std::chrono::milliseconds t = kWaitTimeout) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, t, [&] { return isOpen; });
  }
  bool isOpenNow() {
    std::lock_guard<std::mutex> lock(mu);
    return isOpen;
  }

private:
  std::mutex mu;
  std::condition_variable cv;
  bool isOpen = false;
};

/// N threads meet; arrive returns false if the others never came (which is
/// what happens when the engine serializes ops that should run together).
class Barrier {
public:
  explicit Barrier(int n) : count(n) {}
  bool arrive(std::chrono::milliseconds t = kWaitTimeout) {
    std::unique_lock<std::mutex> lock(mu);
    if (--count == 0) {
      cv.notify_all();
      return true;
    }
    return cv.wait_for(lock, t, [&] { return count <= 0; });
  }

private:
  std::mutex mu;
  std::condition_variable cv;
  int count;
};

EngineOptions threaded(int workers, int numThreads = 4) {
  EngineOptions o;
  o.cpuWorkers = workers;
  o.numThreads = numThreads;
  return o;
}

EngineOptions sync() {
  EngineOptions o;
  o.synchronous = true;
  o.cpuWorkers = 1;
  o.numThreads = 4;
  return o;
}

//===-- Ordering ----------------------------------------------------------===//

void checkReadWriteOrder(Engine &engine) {
  VarHandle v = engine.newVariable();
  std::vector<int> log; // guarded only by the engine's ordering
  int snap[4] = {-1, -1, -1, -1};
  auto write = [&](int x) {
    engine.push([&log, x](const RunContext &) { log.push_back(x); }, {}, {v});
  };
  auto read = [&](int slot) {
    engine.push(
        [&log, &snap, slot](const RunContext &) {
          snap[slot] = static_cast<int>(log.size());
        },
        {v}, {});
  };
  write(1);
  read(0);
  read(1);
  write(2);
  read(2);
  write(3);
  read(3);
  engine.waitForAll();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(snap[0], 1);
  EXPECT_EQ(snap[1], 1);
  EXPECT_EQ(snap[2], 2);
  EXPECT_EQ(snap[3], 3);
  engine.deleteVariable(v);
}

TEST(EngineTest, ReadWriteOrderThreaded) {
  Watchdog w("ReadWriteOrderThreaded");
  for (int workers : {1, 2, 4}) {
    Engine engine(threaded(workers));
    for (int i = 0; i < 100; ++i)
      checkReadWriteOrder(engine);
  }
}

TEST(EngineTest, ReadWriteOrderSynchronous) {
  Watchdog w("ReadWriteOrderSynchronous");
  Engine engine(sync());
  checkReadWriteOrder(engine);
}

TEST(EngineTest, ReadsRunConcurrently) {
  Watchdog w("ReadsRunConcurrently");
  Engine engine(threaded(2));
  VarHandle v = engine.newVariable();
  int value = 0;
  engine.push([&](const RunContext &) { value = 7; }, {}, {v});
  Barrier barrier(2);
  std::atomic<int> met{0}, seen{0};
  for (int i = 0; i < 2; ++i)
    engine.push(
        [&](const RunContext &) {
          seen += value;
          // Both reads must be running at once to get past this.
          if (barrier.arrive())
            ++met;
        },
        {v}, {});
  engine.waitForAll();
  EXPECT_EQ(met.load(), 2) << "two reads of one variable were serialized";
  EXPECT_EQ(seen.load(), 14);
}

TEST(EngineTest, WriteExcludesReads) {
  Watchdog w("WriteExcludesReads");
  Engine engine(threaded(4));
  VarHandle v = engine.newVariable();
  Gate release;
  std::atomic<int> activeReads{0}, readsStarted{0};
  std::atomic<bool> writeStarted{false}, writeDone{false};
  std::atomic<int> readsSeenDuringWrite{-1};
  std::atomic<bool> gateTimedOut{false}, laterReadSawWrite{false};
  for (int i = 0; i < 2; ++i)
    engine.push(
        [&](const RunContext &) {
          ++activeReads;
          ++readsStarted;
          if (!release.waitFor())
            gateTimedOut = true;
          --activeReads;
        },
        {v}, {});
  engine.push(
      [&](const RunContext &) {
        writeStarted = true;
        readsSeenDuringWrite = activeReads.load();
        writeDone = true;
      },
      {}, {v});
  engine.push([&](const RunContext &) { laterReadSawWrite = writeDone.load(); },
              {v}, {});
  // While the reads are held, the write must not start; a broken engine
  // would usually start it within this pause (a correct one never does).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(writeStarted.load());
  release.open();
  engine.waitForAll();
  EXPECT_FALSE(gateTimedOut.load());
  EXPECT_EQ(readsStarted.load(), 2);
  EXPECT_TRUE(writeStarted.load());
  EXPECT_EQ(readsSeenDuringWrite.load(), 0);
  EXPECT_TRUE(laterReadSawWrite.load());
}

TEST(EngineTest, DuplicateAndOverlappingVariables) {
  Watchdog w("DuplicateAndOverlappingVariables");
  for (bool isSync : {false, true}) {
    Engine engine(isSync ? sync() : threaded(2));
    VarHandle a = engine.newVariable(), b = engine.newVariable();
    int x = 1;
    // A variable twice in reads, and one in both lists: no self-deadlock.
    engine.push([&](const RunContext &) { x += 1; }, {a, a, b}, {b, b});
    engine.push([&](const RunContext &) { x *= 10; }, {b}, {b});
    engine.waitForVar(b);
    EXPECT_EQ(x, 20);
    engine.waitForAll();
  }
}

TEST(EngineTest, PriorityOrdersReadyOps) {
  Watchdog w("PriorityOrdersReadyOps");
  Engine engine(threaded(1));
  Gate started, release;
  std::atomic<bool> gateTimedOut{false};
  engine.push(
      [&](const RunContext &) {
        started.open();
        if (!release.waitFor())
          gateTimedOut = true;
      },
      {}, {});
  ASSERT_TRUE(started.waitFor());
  // The only worker is busy, so all of these are ready at once.
  std::mutex mu;
  std::vector<int> order;
  int prios[] = {0, 5, 1, 5, -3, 2};
  for (int i = 0; i < 6; ++i)
    engine.push(
        [&, i](const RunContext &) {
          std::lock_guard<std::mutex> lock(mu);
          order.push_back(i);
        },
        {}, {}, Device::cpu(), prios[i]);
  release.open();
  engine.waitForAll();
  EXPECT_FALSE(gateTimedOut.load());
  EXPECT_EQ(order, (std::vector<int>{1, 3, 5, 2, 0, 4}));
}

TEST(EngineTest, SynchronousModeRunsInlineInPushOrder) {
  Watchdog w("SynchronousModeRunsInlineInPushOrder");
  Engine engine(sync());
  EXPECT_TRUE(engine.isSynchronous());
  std::thread::id ranOn;
  bool ran = false;
  VarHandle v = engine.newVariable();
  engine.push(
      [&](const RunContext &ctx) {
        ran = true;
        ranOn = std::this_thread::get_id();
        EXPECT_EQ(ctx.intraOpThreads, engine.numThreads());
      },
      {}, {v}, Device::cpu(), /*priority=*/100);
  EXPECT_TRUE(ran) << "synchronous push returned before running the op";
  EXPECT_EQ(ranOn, std::this_thread::get_id());
  std::vector<int> order;
  for (int i = 0; i < 5; ++i)
    engine.push([&, i](const RunContext &) { order.push_back(i); }, {}, {},
                Device::cpu(), /*priority=*/i);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EngineTest, OtherDevicesHaveTheirOwnWorkers) {
  Watchdog w("OtherDevicesHaveTheirOwnWorkers");
  Engine engine(threaded(2));
  VarHandle u = engine.newVariable(), v = engine.newVariable();
  std::mutex mu;
  std::vector<std::string> log;
  std::set<std::thread::id> cpuThreads;
  std::thread::id gpuThread;
  Device gpuDev;
  int gpuBudget = 0;
  auto note = [&](const std::string &s) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(s);
  };
  for (int i = 0; i < 3; ++i) {
    engine.push(
        [&](const RunContext &ctx) {
          note("cpu-write");
          std::lock_guard<std::mutex> lock(mu);
          cpuThreads.insert(std::this_thread::get_id());
        },
        {}, {v});
    engine.push(
        [&](const RunContext &ctx) {
          note("gpu");
          std::lock_guard<std::mutex> lock(mu);
          gpuThread = std::this_thread::get_id();
          gpuDev = ctx.device;
          gpuBudget = ctx.intraOpThreads;
        },
        {v}, {u}, Device::gpu(0));
    engine.push(
        [&](const RunContext &ctx) {
          note("cpu-read");
          std::lock_guard<std::mutex> lock(mu);
          cpuThreads.insert(std::this_thread::get_id());
        },
        {u}, {v}); // writing v too makes the three rounds a total order
  }
  engine.waitForAll();
  std::vector<std::string> want;
  for (int i = 0; i < 3; ++i)
    want.insert(want.end(), {"cpu-write", "gpu", "cpu-read"});
  EXPECT_EQ(log, want);
  EXPECT_EQ(gpuDev, Device::gpu(0));
  EXPECT_EQ(gpuDev.str(), "gpu(0)");
  EXPECT_EQ(gpuBudget, 1);
  EXPECT_EQ(cpuThreads.count(gpuThread), 0u)
      << "a GPU op ran on a CPU worker";
}

//===-- Random op streams against sequential execution --------------------===//

struct RandomOp {
  std::vector<int> reads, writes; // may repeat and overlap
  int priority = 0;
  bool onGpu = false;
  uint64_t mul = 1, add = 0;
  int waitVar = -1; // after pushing, the test waits for this variable
};

/// Reads sum the read variables; writes fold that sum into each written
/// variable. Every op also records the sum it saw, so wrong read ordering
/// shows up as well as wrong write ordering.
void applyOp(const RandomOp &op, uint64_t *vals, uint64_t &observed) {
  uint64_t sum = 0;
  for (int r : op.reads)
    sum += vals[r] * 31 + static_cast<uint64_t>(r);
  for (int w : op.writes)
    vals[w] = vals[w] * op.mul + sum + op.add + static_cast<uint64_t>(w);
  observed = sum;
}

std::vector<RandomOp> makeStream(uint64_t seed, int numOps, int numVars) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  std::vector<RandomOp> ops(numOps);
  for (RandomOp &op : ops) {
    int nr = pick(4), nw = pick(3);
    for (int i = 0; i < nr; ++i)
      op.reads.push_back(pick(numVars));
    for (int i = 0; i < nw; ++i)
      op.writes.push_back(pick(numVars));
    op.priority = pick(5) - 2;
    op.onGpu = pick(10) == 0;
    op.mul = rng() | 1;
    op.add = rng();
    if (pick(50) == 0)
      op.waitVar = pick(numVars);
  }
  return ops;
}

void checkRandomStream(const EngineOptions &options, uint64_t seed) {
  const int numOps = 3000, numVars = 6;
  std::vector<RandomOp> ops = makeStream(seed, numOps, numVars);

  // Sequential reference, remembering the state at every waitForVar.
  std::vector<uint64_t> ref(numVars);
  for (int i = 0; i < numVars; ++i)
    ref[i] = static_cast<uint64_t>(i) + 1;
  std::vector<uint64_t> refObserved(numOps);
  std::vector<uint64_t> refAtWait(numOps);
  for (int i = 0; i < numOps; ++i) {
    applyOp(ops[i], ref.data(), refObserved[i]);
    if (ops[i].waitVar >= 0)
      refAtWait[i] = ref[ops[i].waitVar];
  }

  Engine engine(options);
  std::vector<uint64_t> vals(numVars);
  for (int i = 0; i < numVars; ++i)
    vals[i] = static_cast<uint64_t>(i) + 1;
  std::vector<uint64_t> observed(numOps);
  std::vector<VarHandle> vars;
  for (int i = 0; i < numVars; ++i)
    vars.push_back(engine.newVariable());
  for (int i = 0; i < numOps; ++i) {
    const RandomOp &op = ops[i];
    std::vector<VarHandle> reads, writes;
    for (int r : op.reads)
      reads.push_back(vars[r]);
    for (int w : op.writes)
      writes.push_back(vars[w]);
    engine.push(
        [&op, &vals, &observed, i](const RunContext &) {
          applyOp(op, vals.data(), observed[i]);
        },
        reads, writes, op.onGpu ? Device::gpu(0) : Device::cpu(),
        op.priority, OpInfo{"random", "op" + std::to_string(i), ""});
    if (op.waitVar >= 0) {
      engine.waitForVar(vars[op.waitVar]);
      // Later ops are not pushed yet and earlier ones may only read it.
      ASSERT_EQ(vals[op.waitVar], refAtWait[i]) << "op " << i;
    }
  }
  engine.waitForAll();
  for (int i = 0; i < numVars; ++i)
    EXPECT_EQ(vals[i], ref[i]) << "variable " << i << ", seed " << seed;
  int firstBad = -1;
  for (int i = 0; i < numOps && firstBad < 0; ++i)
    if (observed[i] != refObserved[i])
      firstBad = i;
  EXPECT_EQ(firstBad, -1) << "op saw values out of push order, seed " << seed;
  for (VarHandle v : vars)
    engine.deleteVariable(v);
  engine.waitForAll();
  EXPECT_EQ(engine.numVariables(), 0u);
}

TEST(EngineTest, RandomStreamsMatchSequentialThreaded) {
  Watchdog w("RandomStreamsMatchSequentialThreaded", 400);
  for (int workers : {1, 2, 3, 8})
    for (uint64_t seed : {1u, 2u})
      checkRandomStream(threaded(workers, 4), seed * 1000 + workers);
}

TEST(EngineTest, RandomStreamsMatchSequentialSynchronous) {
  Watchdog w("RandomStreamsMatchSequentialSynchronous");
  for (uint64_t seed : {1u, 2u, 3u})
    checkRandomStream(sync(), seed);
}

//===-- Variables ---------------------------------------------------------===//

TEST(EngineTest, DeleteVariableIsDeferred) {
  Watchdog w("DeleteVariableIsDeferred");
  Engine engine(threaded(2));
  VarHandle v = engine.newVariable();
  EXPECT_EQ(engine.numVariables(), 1u);
  Gate release;
  std::atomic<bool> gateTimedOut{false}, ran{false};
  engine.push(
      [&](const RunContext &) {
        if (!release.waitFor())
          gateTimedOut = true;
      },
      {}, {v});
  engine.push([&](const RunContext &) { ran = true; }, {v}, {});
  engine.deleteVariable(v);
  // The ops on v are held by the gate, so the deletion cannot have run.
  EXPECT_EQ(engine.numVariables(), 1u);
  release.open();
  engine.waitForAll();
  EXPECT_FALSE(gateTimedOut.load());
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(engine.numVariables(), 0u);

  Engine se(sync());
  VarHandle s = se.newVariable();
  EXPECT_EQ(se.numVariables(), 1u);
  se.deleteVariable(s);
  EXPECT_EQ(se.numVariables(), 0u);
}

TEST(EngineTest, WaitForVarWaitsForEarlierWrites) {
  Watchdog w("WaitForVarWaitsForEarlierWrites");
  Engine engine(threaded(2));
  VarHandle v = engine.newVariable(), other = engine.newVariable();
  std::atomic<int> value{0};
  for (int i = 1; i <= 50; ++i)
    engine.push([&, i](const RunContext &) { value = i; }, {}, {v});
  Gate release;
  engine.push([&](const RunContext &) { release.waitFor(); }, {}, {other});
  engine.waitForVar(v); // must not wait for the op on `other`
  EXPECT_EQ(value.load(), 50);
  release.open();
  engine.waitForAll();
}

TEST(EngineTest, WaitFromInsideAnOpIsAnError) {
  Watchdog w("WaitFromInsideAnOpIsAnError");
  Engine engine(threaded(1));
  VarHandle v = engine.newVariable();
  engine.push([&](const RunContext &) { engine.waitForAll(); }, {}, {v},
              Device::cpu(), 0, OpInfo{"Nested", "n0", ""});
  try {
    engine.waitForAll();
    FAIL() << "expected kiln::Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("would deadlock"), std::string::npos)
        << e.what();
  }
}

TEST(EngineTest, OpsMayPushOps) {
  Watchdog w("OpsMayPushOps");
  for (bool isSync : {false, true}) {
    Engine engine(isSync ? sync() : threaded(2));
    VarHandle v = engine.newVariable();
    std::atomic<int> value{0};
    engine.push(
        [&](const RunContext &) {
          value = 1;
          engine.push([&](const RunContext &) { value = value * 10; }, {},
                      {v});
        },
        {}, {v});
    engine.waitForAll();
    engine.waitForAll(); // the inner push may land after the first wait began
    EXPECT_EQ(value.load(), 10);
  }
}

TEST(EngineTest, InlineIfReadyRunsOnTheCallerOnlyWhenNothingIsPending) {
  Watchdog w("InlineIfReady");
  Engine engine(threaded(2));
  VarHandle v = engine.newVariable();
  std::thread::id caller = std::this_thread::get_id(), ranOn;
  // Ready: runs before push returns, on this thread.
  bool ran = false;
  engine.push(
      [&](const RunContext &) {
        ran = true;
        ranOn = std::this_thread::get_id();
      },
      {}, {v}, Device::cpu(), 0, {}, /*inlineIfReady=*/true);
  EXPECT_TRUE(ran);
  EXPECT_EQ(ranOn, caller);
  // Behind a pending write: it must not run inline (that would break the
  // order); a worker runs it after the write.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<int> order;
  engine.push(
      [&](const RunContext &) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return release; });
        order.push_back(1);
      },
      {}, {v});
  engine.push(
      [&](const RunContext &) {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(2);
        ranOn = std::this_thread::get_id();
      },
      {v}, {}, Device::cpu(), 0, {}, /*inlineIfReady=*/true);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(order.empty()); // push returned without running it
    release = true;
  }
  cv.notify_all();
  engine.waitForAll();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_NE(ranOn, caller);
  engine.deleteVariable(v);
}

//===-- Errors ------------------------------------------------------------===//

class EngineErrorTest : public ::testing::TestWithParam<bool> {
protected:
  EngineOptions options() const { return GetParam() ? sync() : threaded(3); }
};

void expectThrowsMentioning(const std::function<void()> &f,
                            const std::vector<std::string> &parts) {
  try {
    f();
    ADD_FAILURE() << "expected kiln::Error";
  } catch (const Error &e) {
    std::string msg = e.what();
    for (const std::string &p : parts)
      EXPECT_NE(msg.find(p), std::string::npos)
          << "'" << p << "' missing from: " << msg;
  }
}

TEST_P(EngineErrorTest, ErrorReachesWaitWithOpNodeAndShapes) {
  Watchdog w("ErrorReachesWaitWithOpNodeAndShapes");
  Engine engine(options());
  VarHandle x = engine.newVariable(), y = engine.newVariable(),
            z = engine.newVariable(), t = engine.newVariable();
  std::atomic<bool> ranB{false}, ranC{false}, ranD{false}, ranE{false};
  engine.push(
      [](const RunContext &) { throw std::runtime_error("boom: bad stride"); },
      {}, {x}, Device::cpu(), 0,
      OpInfo{"Convolution", "conv1", "data=[1,3,224,224] weight=[64,3,7,7]"});
  engine.push([&](const RunContext &) { ranB = true; }, {x}, {y}); // skipped
  engine.push([&](const RunContext &) { ranC = true; }, {}, {z});  // runs
  engine.push([&](const RunContext &) { ranD = true; }, {y}, {t}); // skipped
  engine.waitForVar(z);
  EXPECT_TRUE(ranC.load());
  const std::vector<std::string> parts = {
      "Convolution", "conv1", "data=[1,3,224,224] weight=[64,3,7,7]",
      "boom: bad stride"};
  expectThrowsMentioning([&] { engine.waitForVar(y); }, parts);
  expectThrowsMentioning([&] { engine.waitForVar(t); }, parts);
  expectThrowsMentioning([&] { engine.waitForVar(x); }, parts);
  EXPECT_FALSE(ranB.load());
  EXPECT_FALSE(ranD.load());
  // Each variable reports once, then is usable again.
  EXPECT_NO_THROW(engine.waitForVar(x));
  // Every failure was already thrown by a waitForVar.
  EXPECT_NO_THROW(engine.waitForAll());
  engine.push([&](const RunContext &) { ranE = true; }, {x, y}, {x});
  EXPECT_NO_THROW(engine.waitForVar(x));
  EXPECT_TRUE(ranE.load());
}

TEST_P(EngineErrorTest, WaitForAllReportsOnceAndEngineRecovers) {
  Watchdog w("WaitForAllReportsOnceAndEngineRecovers");
  Engine engine(options());
  VarHandle x = engine.newVariable(), y = engine.newVariable();
  std::atomic<int> ran{0};
  engine.push([](const RunContext &) { throw std::logic_error("kaput"); }, {},
              {x}, Device::cpu(), 0, OpInfo{"Dense", "fc7", "[8,4096]"});
  engine.push([&](const RunContext &) { ++ran; }, {x}, {y}); // skipped
  expectThrowsMentioning([&] { engine.waitForAll(); },
                         {"Dense", "fc7", "[8,4096]", "kaput"});
  EXPECT_EQ(ran.load(), 0);
  EXPECT_NO_THROW(engine.waitForAll());
  // waitForAll retired the error on x and y: new ops on them run.
  engine.push([&](const RunContext &) { ++ran; }, {x}, {y});
  EXPECT_NO_THROW(engine.waitForVar(y));
  EXPECT_NO_THROW(engine.waitForVar(x));
  EXPECT_EQ(ran.load(), 1);
}

TEST_P(EngineErrorTest, ReadOnlyAndNonStdFailuresReachWaitForAll) {
  Watchdog w("ReadOnlyAndNonStdFailuresReachWaitForAll");
  Engine engine(options());
  VarHandle x = engine.newVariable();
  engine.push([](const RunContext &) { throw 42; }, {x}, {}, Device::cpu(), 0,
              OpInfo{"Print", "p", ""});
  engine.push([](const RunContext &) { throw std::runtime_error("second"); },
              {}, {}, Device::cpu(), 0, OpInfo{"Other", "", ""});
  expectThrowsMentioning([&] { engine.waitForAll(); },
                         {"Print", "unknown exception", "1 more failed op"});
  EXPECT_NO_THROW(engine.waitForVar(x));
}

TEST_P(EngineErrorTest, ManyFailuresWithIndependentWork) {
  Watchdog w("ManyFailuresWithIndependentWork");
  Engine engine(options());
  const int n = 8;
  std::vector<VarHandle> vars;
  for (int i = 0; i < n; ++i)
    vars.push_back(engine.newVariable());
  std::atomic<int> ran{0};
  for (int round = 0; round < 50; ++round)
    for (int i = 0; i < n; ++i) {
      bool fail = (i == 3 && round == 10);
      engine.push(
          [&, fail](const RunContext &) {
            if (fail)
              throw std::runtime_error("round ten");
            ++ran;
          },
          {vars[(i + 1) % n]}, {vars[i]}, Device::cpu(), 0,
          OpInfo{"Step", "v" + std::to_string(i), ""});
    }
  expectThrowsMentioning([&] { engine.waitForAll(); }, {"Step", "round ten"});
  // The failure spreads backwards along the ring one variable per round
  // (op i reads i+1), so some later ops were skipped, but not all.
  EXPECT_LT(ran.load(), 50 * n - 1);
  EXPECT_GT(ran.load(), 10 * n);
  int before = ran.load();
  for (int i = 0; i < n; ++i)
    engine.push([&](const RunContext &) { ++ran; }, {vars[(i + 1) % n]},
                {vars[i]});
  EXPECT_NO_THROW(engine.waitForAll());
  EXPECT_EQ(ran.load(), before + n);
}

INSTANTIATE_TEST_SUITE_P(Modes, EngineErrorTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "Synchronous" : "Threaded";
                         });

TEST(EngineTest, ErrorIsDeterministicAcrossRuns) {
  Watchdog w("ErrorIsDeterministicAcrossRuns");
  // Whether a reader pushed before a waitForVar sees the failure must not
  // depend on timing: it always does.
  for (int rep = 0; rep < 200; ++rep) {
    Engine engine(threaded(3));
    VarHandle x = engine.newVariable(), y = engine.newVariable();
    std::atomic<bool> ran{false};
    engine.push([](const RunContext &) { throw std::runtime_error("e"); }, {},
                {x});
    engine.push([&](const RunContext &) { ran = true; }, {x}, {y});
    EXPECT_THROW(engine.waitForVar(x), Error);
    EXPECT_THROW(engine.waitForVar(y), Error);
    ASSERT_FALSE(ran.load()) << "rep " << rep;
  }
}

//===-- Shutdown ----------------------------------------------------------===//

TEST(EngineTest, DestructorRunsPendingOps) {
  Watchdog w("DestructorRunsPendingOps");
  for (int rep = 0; rep < 20; ++rep) {
    std::atomic<int> ran{0};
    {
      Engine engine(threaded(1 + rep % 4));
      std::vector<VarHandle> vars;
      for (int i = 0; i < 3; ++i)
        vars.push_back(engine.newVariable());
      for (int i = 0; i < 200; ++i)
        engine.push(
            [&, i](const RunContext &) {
              if (i % 50 == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
              ++ran;
            },
            {vars[i % 3]}, {vars[(i + 1) % 3]}, Device::cpu(), i % 3);
      // No wait: the destructor must drain the queue and join.
    }
    EXPECT_EQ(ran.load(), 200) << "rep " << rep;
  }
}

TEST(EngineTest, DestructorAfterFailureAndWithOtherDevices) {
  Watchdog w("DestructorAfterFailureAndWithOtherDevices");
  for (int rep = 0; rep < 20; ++rep) {
    std::atomic<int> ran{0};
    {
      Engine engine(threaded(2));
      VarHandle x = engine.newVariable(), y = engine.newVariable();
      engine.push([](const RunContext &) { throw std::runtime_error("x"); },
                  {}, {x}, Device::cpu(), 0, OpInfo{"Fail", "f", ""});
      for (int i = 0; i < 50; ++i) {
        engine.push([&](const RunContext &) { ++ran; }, {x}, {y},
                    Device::gpu(i % 2));
        engine.push([&](const RunContext &) { ++ran; }, {}, {});
      }
      engine.deleteVariable(x);
    }
    EXPECT_EQ(ran.load(), 50) << "rep " << rep;
  }
}

TEST(EngineTest, DestructorWaitsForABlockedOp) {
  Watchdog w("DestructorWaitsForABlockedOp");
  std::atomic<bool> finished{false};
  Gate release;
  std::thread opener;
  {
    Engine engine(threaded(2));
    VarHandle v = engine.newVariable();
    engine.push(
        [&](const RunContext &) {
          release.waitFor();
          finished = true;
        },
        {}, {v});
    engine.push([&](const RunContext &) {}, {v}, {});
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      release.open();
    });
  }
  EXPECT_TRUE(finished.load());
  opener.join();
}

//===-- Intra-op budget ---------------------------------------------------===//

void checkBudget(int workers, int numThreads) {
  Engine engine(threaded(workers, numThreads));
  EXPECT_EQ(engine.numThreads(), numThreads);
  // Alone, an op gets every core but those kept so that the other workers
  // can start an op each without oversubscribing.
  int alone = 0;
  engine.push([&](const RunContext &ctx) { alone = ctx.intraOpThreads; }, {},
              {});
  engine.waitForAll();
  EXPECT_EQ(alone, std::max(1, numThreads - workers + 1));

  std::mutex mu;
  int running = 0, sum = 0, maxSum = 0, minBudget = 1 << 30;
  for (int i = 0; i < 64; ++i)
    engine.push(
        [&](const RunContext &ctx) {
          {
            std::lock_guard<std::mutex> lock(mu);
            ++running;
            sum += ctx.intraOpThreads;
            maxSum = std::max(maxSum, sum);
            minBudget = std::min(minBudget, ctx.intraOpThreads);
          }
          std::this_thread::sleep_for(std::chrono::microseconds(500));
          std::lock_guard<std::mutex> lock(mu);
          --running;
          sum -= ctx.intraOpThreads;
        },
        {}, {});
  engine.waitForAll();
  EXPECT_GE(minBudget, 1);
  EXPECT_LE(maxSum, std::max(numThreads, workers))
      << "ops running together were given more threads than cores";
}

TEST(EngineTest, IntraOpBudgetNeverOversubscribes) {
  Watchdog w("IntraOpBudgetNeverOversubscribes");
  checkBudget(4, 8);
  checkBudget(2, 8);
  checkBudget(4, 2);
  checkBudget(1, 3);
  checkBudget(3, 1);
}

TEST(EngineTest, OptionsFromEnvironment) {
  setenv("KILN_ENGINE", "sync", 1);
  setenv("KILN_ENGINE_WORKERS", "3", 1);
  setenv("KILN_NUM_THREADS", "5", 1);
  EngineOptions o = EngineOptions::fromEnv();
  EXPECT_TRUE(o.synchronous);
  EXPECT_EQ(o.cpuWorkers, 3);
  EXPECT_EQ(o.numThreads, 5);
  {
    Engine e; // default constructor reads the environment
    EXPECT_TRUE(e.isSynchronous());
    EXPECT_EQ(e.numThreads(), 5);
  }
  setenv("KILN_ENGINE", "threaded", 1);
  {
    Engine e;
    EXPECT_FALSE(e.isSynchronous());
    EXPECT_EQ(e.numCpuWorkers(), 3);
  }
  setenv("KILN_ENGINE_WORKERS", "two", 1);
  EXPECT_THROW(EngineOptions::fromEnv(), Error);
  setenv("KILN_ENGINE_WORKERS", "2", 1);
  setenv("KILN_ENGINE", "fast", 1);
  EXPECT_THROW(EngineOptions::fromEnv(), Error);
  unsetenv("KILN_ENGINE");
  unsetenv("KILN_ENGINE_WORKERS");
  unsetenv("KILN_NUM_THREADS");
  EngineOptions d = EngineOptions::fromEnv();
  EXPECT_FALSE(d.synchronous);
  EXPECT_EQ(d.cpuWorkers, 0);
}

TEST(EngineTest, DefaultEngine) {
  Watchdog w("DefaultEngine");
  Engine &a = Engine::get();
  EXPECT_EQ(&a, &Engine::get());
  VarHandle v = a.newVariable();
  int value = 0;
  a.push([&](const RunContext &) { value = 3; }, {}, {v});
  a.waitForVar(v);
  EXPECT_EQ(value, 3);
  a.deleteVariable(v);
  a.waitForAll();
}

TEST(EngineTest, NullVariablesAreRejected) {
  Engine engine(threaded(1));
  EXPECT_THROW(engine.push([](const RunContext &) {}, {nullptr}, {}), Error);
  EXPECT_THROW(engine.push([](const RunContext &) {}, {}, {nullptr}), Error);
  EXPECT_THROW(engine.waitForVar(nullptr), Error);
  EXPECT_THROW(engine.deleteVariable(nullptr), Error);
}

} // namespace
