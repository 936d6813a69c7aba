//===- ParallelRuntime.cpp - default kiln_parallel_for thread pool --------===//

#include "Target/CPU/ParallelRuntime.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

/// Persistent workers woken per job; chunks are claimed dynamically so a
/// core that another process is using does not hold the whole job up.
class Pool {
public:
  explicit Pool(unsigned threads) {
    for (unsigned i = 1; i < threads; ++i)
      workers.emplace_back([this] { workerLoop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(m);
      stop = true;
      ++generation;
    }
    cv.notify_all();
    for (auto &t : workers)
      t.join();
  }
  unsigned size() const { return static_cast<unsigned>(workers.size()) + 1; }

  void run(int64_t begin, int64_t end, kiln_parallel_body_fn body, void *ctx) {
    int64_t n = end - begin;
    unsigned threads = size();
    if (n <= 1 || threads == 1 || inWorker || !busy.try_lock()) {
      body(begin, end, ctx);
      return;
    }
    // About 4 chunks per thread: balance without too many wake-ups.
    int64_t grain = std::max<int64_t>(1, n / (int64_t(threads) * 4));
    {
      std::lock_guard<std::mutex> l(m);
      job = {begin, end, grain, body, ctx};
      next.store(begin, std::memory_order_relaxed);
      active.store(static_cast<int>(workers.size()), std::memory_order_relaxed);
      ++generation;
    }
    cv.notify_all();
    work();
    // Workers finish their chunks; spin briefly, they are short.
    while (active.load(std::memory_order_acquire) != 0)
      std::this_thread::yield();
    busy.unlock();
  }

private:
  struct Job {
    int64_t begin = 0, end = 0, grain = 1;
    kiln_parallel_body_fn body = nullptr;
    void *ctx = nullptr;
  };

  void work() {
    for (;;) {
      int64_t lo = next.fetch_add(job.grain, std::memory_order_relaxed);
      if (lo >= job.end)
        return;
      job.body(lo, std::min(job.end, lo + job.grain), job.ctx);
    }
  }

  void workerLoop() {
    inWorker = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> l(m);
        cv.wait(l, [&] { return generation != seen; });
        seen = generation;
        if (stop)
          return;
      }
      work();
      active.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> workers;
  std::mutex m, busy;
  std::condition_variable cv;
  uint64_t generation = 0;
  bool stop = false;
  Job job;
  std::atomic<int64_t> next{0};
  std::atomic<int> active{0};
  static thread_local bool inWorker;
};

thread_local bool Pool::inWorker = false;

unsigned defaultThreads() {
  if (const char *e = std::getenv("KILN_NUM_THREADS")) {
    int v = std::atoi(e);
    if (v >= 1)
      return static_cast<unsigned>(v);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::mutex poolMutex;
std::unique_ptr<Pool> &poolSlot() {
  static auto *p = new std::unique_ptr<Pool>();
  return *p;
}

Pool &pool() {
  std::lock_guard<std::mutex> l(poolMutex);
  auto &p = poolSlot();
  if (!p)
    p = std::make_unique<Pool>(defaultThreads());
  return *p;
}

} // namespace

// Weak: a process that links its own kiln_parallel_for (the runtime engine's
// scheduler) overrides this one without a duplicate-symbol error.
extern "C" __attribute__((weak)) void kiln_parallel_for(int64_t begin, int64_t end, kiln_parallel_body_fn body,
                                  void *ctx) {
  if (end <= begin)
    return;
  pool().run(begin, end, body, ctx);
}

namespace kiln::cpu {
unsigned parallelThreads() { return pool().size(); }
void setParallelThreads(unsigned n) {
  std::lock_guard<std::mutex> l(poolMutex);
  poolSlot() = std::make_unique<Pool>(std::max(1u, n));
}
} // namespace kiln::cpu
