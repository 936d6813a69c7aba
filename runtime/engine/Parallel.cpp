//===- runtime/engine/Parallel.cpp - The intra-op helper pool -------------===//

#include "runtime/engine/Parallel.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {
namespace rt {
namespace {

// One parallelFor call. Helpers hold it by shared_ptr, so a helper that
// dequeues it after the caller returned only finds no chunk left. The chunk
// function lives on the caller's stack: it is touched only by whoever
// claimed a chunk, and the caller returns only after every claimed chunk
// finished.
struct Job {
  const std::function<void(int)> *fn = nullptr;
  int numChunks = 0;
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::condition_variable cv;
  std::exception_ptr error;

  // Claims and runs chunks until none are left.
  void drain() {
    for (;;) {
      int c = next.fetch_add(1);
      if (c >= numChunks)
        return;
      if (!failed.load()) {
        try {
          (*fn)(c);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!error)
            error = std::current_exception();
          failed.store(true);
        }
      }
      if (done.fetch_add(1) + 1 == numChunks) {
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
      }
    }
  }
};

class Pool {
public:
  void submit(const std::shared_ptr<Job> &job, int helpers) {
    {
      std::lock_guard<std::mutex> lock(mu);
      // Grow once to the widest request; threads are never spawned per call.
      while (static_cast<int>(threads.size()) < std::min(helpers, kMaxThreads))
        threads.emplace_back([this] { loop(); });
      for (int i = 0; i < helpers; ++i)
        queue.push_back(job);
    }
    if (helpers == 1)
      cv.notify_one();
    else
      cv.notify_all();
  }

  int size() {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(threads.size());
  }

private:
  static constexpr int kMaxThreads = 256;

  void loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !queue.empty(); });
        job = std::move(queue.front());
        queue.pop_front();
      }
      job->drain();
    }
  }

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Job>> queue;
  std::vector<std::thread> threads;
};

// Deliberately leaked, with threads detached in effect: engines (including
// Engine::get()'s static one) may still run kernels while static objects
// are destroyed at exit, and a destroyed pool would crash them.
Pool &pool() {
  static Pool *p = new Pool;
  return *p;
}

} // namespace

int intraOpPoolThreads() { return pool().size(); }

void detail::runChunks(int numChunks, const std::function<void(int)> &chunk) {
  if (numChunks <= 0)
    return;
  auto job = std::make_shared<Job>();
  job->fn = &chunk;
  job->numChunks = numChunks;
  if (numChunks > 1)
    pool().submit(job, numChunks - 1);
  job->drain();
  {
    std::unique_lock<std::mutex> lock(job->mu);
    job->cv.wait(lock, [&] { return job->done.load() == numChunks; });
  }
  if (job->error)
    std::rethrow_exception(job->error);
}

} // namespace rt
} // namespace kiln
