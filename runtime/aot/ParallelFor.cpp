//===- runtime/aot/ParallelFor.cpp - kiln_parallel_for for AOT artifacts --===//
//
// Compiled kernels run their outer parallel tile loop through one C-ABI hook
// (see lib/Target/CPU/ParallelRuntime.h):
//
//   void kiln_parallel_for(int64_t begin, int64_t end,
//                          void (*body)(int64_t lo, int64_t hi, void *ctx),
//                          void *ctx);
//
// In the JIT the hook is the compiler library's default pool. An AOT
// executable or library links no compiler code, so this archive member gives
// the strong definition on the runtime's own intra-op pool
// (runtime/engine/Parallel.h): kernels and the engine share one set of
// helper threads. KILN_NUM_THREADS caps the threads of one loop (default:
// the hardware threads), as it does for the JIT's pool.
//
//===----------------------------------------------------------------------===//

#include "runtime/engine/Parallel.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <thread>

namespace {
int loopThreads() {
  if (const char *e = std::getenv("KILN_NUM_THREADS")) {
    int v = std::atoi(e);
    if (v >= 1)
      return v;
  }
  return std::max(1, int(std::thread::hardware_concurrency()));
}
} // namespace

extern "C" void kiln_parallel_for(int64_t begin, int64_t end,
                                  void (*body)(int64_t lo, int64_t hi, void *ctx),
                                  void *ctx) {
  static const int threads = loopThreads();
  kiln::rt::RunContext rc;
  rc.intraOpThreads = threads;
  // The runtime pool runs the caller's chunk inline and lets idle helpers
  // take the rest, so nested or concurrent loops never deadlock.
  kiln::rt::parallelFor(rc, begin, end, [&](int64_t lo, int64_t hi) { body(lo, hi, ctx); });
}
