//===- EngineParallelTest.cpp - parallelFor and the intra-op pool ---------===//

#include "kiln/Error.h"
#include "runtime/engine/Engine.h"
#include "runtime/engine/Parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace kiln;
using namespace kiln::rt;

namespace {

RunContext budget(int n) { return RunContext{Device::cpu(), n}; }

TEST(EngineParallelTest, EveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 8})
    for (int64_t n : {0, 1, 2, 7, 100, 1001, 12345}) {
      for (int64_t begin : {int64_t(0), int64_t(-5), int64_t(1) << 40}) {
        std::vector<std::atomic<int>> hits(n);
        parallelFor(budget(threads), begin, begin + n,
                    [&](int64_t i) { ++hits[i - begin]; });
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[i].load(), 1)
              << "index " << i << " threads " << threads << " n " << n;

        std::vector<std::atomic<int>> rangeHits(n);
        std::atomic<int> calls{0};
        parallelFor(budget(threads), begin, begin + n,
                    [&](int64_t lo, int64_t hi) {
                      ++calls;
                      EXPECT_LT(lo, hi);
                      for (int64_t i = lo; i < hi; ++i)
                        ++rangeHits[i - begin];
                    });
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(rangeHits[i].load(), 1);
        EXPECT_LE(calls.load(), threads);
        EXPECT_EQ(calls.load(), n == 0 ? 0 : std::min<int64_t>(threads, n));
      }
    }
}

TEST(EngineParallelTest, RespectsTheBudget) {
  for (int threads : {1, 2, 3, 5}) {
    std::mutex mu;
    std::set<std::thread::id> ids;
    parallelFor(budget(threads), 0, 1000, [&](int64_t lo, int64_t hi) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    });
    EXPECT_GE(ids.size(), 1u);
    EXPECT_LE(static_cast<int>(ids.size()), threads);
    if (threads == 1) {
      EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u)
          << "a budget of 1 must run inline";
    }
  }
}

TEST(EngineParallelTest, GrainLimitsChunks) {
  std::atomic<int> calls{0};
  parallelFor(budget(8), 0, 10, [&](int64_t, int64_t) { ++calls; }, 4);
  EXPECT_EQ(calls.load(), 3);
}

TEST(EngineParallelTest, ChunksReallyRunTogether) {
  // All three chunks must be in flight at once to pass the barrier.
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::atomic<int> met{0};
  parallelFor(budget(3), 0, 3, [&](int64_t) {
    std::unique_lock<std::mutex> lock(mu);
    if (++arrived == 3)
      cv.notify_all();
    if (cv.wait_for(lock, std::chrono::seconds(60),
                    [&] { return arrived >= 3; }))
      ++met;
  });
  EXPECT_EQ(met.load(), 3);
  EXPECT_GE(intraOpPoolThreads(), 2);
}

TEST(EngineParallelTest, PoolIsPersistent) {
  parallelFor(budget(4), 0, 100, [](int64_t) {});
  int before = intraOpPoolThreads();
  for (int i = 0; i < 200; ++i)
    parallelFor(budget(4), 0, 100, [](int64_t) {});
  EXPECT_EQ(intraOpPoolThreads(), before) << "threads spawned per call";
}

TEST(EngineParallelTest, ExceptionsPropagateToTheCaller) {
  EXPECT_THROW(parallelFor(budget(4), 0, 100,
                           [](int64_t i) {
                             if (i == 57)
                               throw std::runtime_error("chunk");
                           }),
               std::runtime_error);
  // Still usable.
  std::atomic<int64_t> sum{0};
  parallelFor(budget(4), 0, 100, [&](int64_t i) { sum += i; });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(EngineParallelTest, NestedLoopsDoNotDeadlock) {
  std::atomic<int64_t> sum{0};
  parallelFor(budget(4), 0, 8, [&](int64_t i) {
    parallelFor(budget(4), 0, 100, [&](int64_t j) { sum += j; });
  });
  EXPECT_EQ(sum.load(), 8 * 4950);
}

TEST(EngineParallelTest, KernelsInsideEngineOps) {
  EngineOptions o;
  o.cpuWorkers = 3;
  o.numThreads = 4;
  Engine engine(o);
  const int numArrays = 6;
  const int64_t n = 10000;
  std::vector<std::vector<int64_t>> arrays(numArrays,
                                           std::vector<int64_t>(n, 0));
  std::vector<VarHandle> vars;
  for (int i = 0; i < numArrays; ++i)
    vars.push_back(engine.newVariable());
  // Chain: a[i] = a[i-1] * 2 + index, each step a parallel kernel.
  for (int64_t i = 0; i < n; ++i)
    arrays[0][i] = i;
  for (int k = 1; k < numArrays; ++k)
    engine.push(
        [&, k](const RunContext &ctx) {
          parallelFor(ctx, 0, n, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i)
              arrays[k][i] = arrays[k - 1][i] * 2 + i;
          });
        },
        {vars[k - 1]}, {vars[k]});
  engine.waitForAll();
  for (int64_t i = 0; i < n; i += 97) {
    int64_t want = i;
    for (int k = 1; k < numArrays; ++k)
      want = want * 2 + i;
    ASSERT_EQ(arrays[numArrays - 1][i], want);
  }
}

} // namespace
