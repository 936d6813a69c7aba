//===- ParallelRuntime.h - default kiln_parallel_for for compiled kernels -===//
//
// Kernels compiled by the CPU pipeline run their outermost parallel tile loop
// through one C-ABI hook (kiln-cpu-lower-parallel-dispatch):
//
//   void kiln_parallel_for(int64_t begin, int64_t end,
//                          void (*body)(int64_t lo, int64_t hi, void *ctx),
//                          void *ctx);
//
// It must call `body` on disjoint sub-ranges covering [begin, end) and return
// when all have finished. The definition here is a small persistent thread
// pool (KILN_NUM_THREADS, default: hardware threads) that the JIT registers;
// it is a weak symbol, so a process linking a strong definition overrides it; the runtime engine
// (runtime/engine/Parallel.h) is meant to replace it with its scheduler so
// that kernels and inter-op parallelism share one set of threads. Calls made
// while the pool is busy (nested, or from concurrent kernels) run inline on
// the calling thread: never more threads than configured.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_CPU_PARALLELRUNTIME_H
#define KILN_TARGET_CPU_PARALLELRUNTIME_H

#include <cstdint>

extern "C" {
using kiln_parallel_body_fn = void (*)(int64_t lo, int64_t hi, void *ctx);
void kiln_parallel_for(int64_t begin, int64_t end, kiln_parallel_body_fn body, void *ctx);
}

namespace kiln::cpu {
/// Threads the default pool uses (caller included); fixed at first use from
/// KILN_NUM_THREADS, unless setParallelThreads ran before.
unsigned parallelThreads();
/// Resizes the default pool (1 = run every range inline). Not thread-safe
/// against concurrent kernel calls; for benchmarks and tests.
void setParallelThreads(unsigned n);
} // namespace kiln::cpu

#endif // KILN_TARGET_CPU_PARALLELRUNTIME_H
