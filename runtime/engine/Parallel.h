//===- runtime/engine/Parallel.h - Intra-op parallel loops ------*- C++ -*-===//
//
// Kernels split their loops with parallelFor, using the thread budget the
// engine put in their RunContext. The engine divides the machine's cores
// between the ops running at the same time, so kernels use every core when
// one op runs alone and do not oversubscribe when several run together.
//
// The helper threads form one persistent, process-wide pool; no call ever
// spawns a thread (the pool grows once to the largest budget seen). The
// calling thread always runs chunks itself and takes back chunks no helper
// has started, so a busy pool or a nested parallelFor never deadlocks.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_ENGINE_PARALLEL_H
#define KILN_RUNTIME_ENGINE_PARALLEL_H

#include "runtime/engine/Engine.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <type_traits>

namespace kiln {
namespace rt {

namespace detail {
/// Calls CHUNK(c) exactly once for every c in [0, numChunks), on the calling
/// thread and up to numChunks - 1 pool helpers, and returns when all are
/// done. The first exception thrown by a chunk is rethrown here; chunks not
/// yet started when it was thrown are skipped.
void runChunks(int numChunks, const std::function<void(int)> &chunk);
} // namespace detail

/// Helper threads the intra-op pool has started so far (for tests/metrics).
int intraOpPoolThreads();

/// Runs F over [BEGIN, END) in at most ctx.intraOpThreads contiguous chunks
/// of at least GRAIN indices each. F is called either as f(lo, hi) for a
/// half-open chunk (preferred: kernels vectorize the inner loop) or as f(i)
/// for each index. With a budget of 1, or one chunk, it runs inline.
template <typename F>
void parallelFor(const RunContext &ctx, int64_t begin, int64_t end, F &&f,
                 int64_t grain = 1) {
  if (end <= begin)
    return;
  auto call = [&f](int64_t lo, int64_t hi) {
    if constexpr (std::is_invocable_v<F &, int64_t, int64_t>) {
      f(lo, hi);
    } else {
      for (int64_t i = lo; i < hi; ++i)
        f(i);
    }
  };
  int64_t n = end - begin;
  grain = std::max<int64_t>(grain, 1);
  int64_t maxChunks = n / grain + (n % grain != 0);
  int chunks = static_cast<int>(
      std::min<int64_t>(std::max(ctx.intraOpThreads, 1), maxChunks));
  if (chunks <= 1) {
    call(begin, end);
    return;
  }
  int64_t base = n / chunks, rem = n % chunks;
  detail::runChunks(chunks, [&](int c) {
    int64_t lo = begin + c * base + std::min<int64_t>(c, rem);
    int64_t hi = lo + base + (c < rem ? 1 : 0);
    call(lo, hi);
  });
}

} // namespace rt
} // namespace kiln

#endif // KILN_RUNTIME_ENGINE_PARALLEL_H
