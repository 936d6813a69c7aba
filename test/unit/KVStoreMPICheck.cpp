//===- KVStoreMPICheck.cpp - dist_sync checks, run under mpirun -----------===//
//
// kvstore-mpi-check MODE, started by `mpirun -np N` (test/lit/Tools/
// kvstore-mpi.test). Each mode prints one line per rank and exits 0 when
// its check holds:
//
//   sum      init broadcasts rank 0's values; push sums devices and ranks;
//            bucketed and unbucketed keys; string keys; updater; barrier.
//   uneven   rank r has 3 + 2r batches; allWorkers() ends the epoch for
//            everybody after 3 steps instead of deadlocking (MXNet #7888).
//   hang     rank 1 stops taking part (sleeps); rank 0's next collective
//            fails after KILN_KVSTORE_TIMEOUT with a message, exit 1.
//   die      rank 1 exits after 2 steps; rank 0 must end, with a message,
//            well within 30 s (mpirun's SIGTERM, or the timeout).
//   bench    allreduce bandwidth by message size (bench/, docs/distributed.md).
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/KVStore.h"
#include "runtime/kvstore/Backends.h"
#include "runtime/kvstore/MPICommunicator.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <unistd.h>

using namespace kiln;

namespace {

int failures = 0;
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "rank %d: check failed: %s: ", kv.rank(), #cond);                      \
      std::fprintf(stderr, __VA_ARGS__);                                                           \
      std::fprintf(stderr, "\n");                                                                  \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

Tensor filled(int64_t n, float v) { return Tensor({n}, std::vector<float>(n, v)); }

void sum(KVStore &kv) {
  int r = kv.rank(), n = kv.numWorkers();
  // Sizes: small ones share buckets, 300000 floats (1.2 MB) exceeds the
  // 64 KiB bucket of this run and goes alone.
  std::vector<int64_t> sizes{10, 1, 300000, 7, 4096, 3};
  std::vector<KVKey> keys;
  std::vector<Tensor> init, g1, g2, out;
  for (size_t i = 0; i < sizes.size(); ++i) {
    keys.push_back(int(i));
    init.push_back(filled(sizes[i], 100.0f * (r + 1))); // rank 0's must win
    g1.push_back(filled(sizes[i], float(r + 1)));
    g2.push_back(filled(sizes[i], float(i)));
    out.push_back(filled(sizes[i], -1));
  }
  std::vector<const Tensor *> ip;
  std::vector<std::vector<const Tensor *>> gp;
  std::vector<std::vector<Tensor *>> op;
  for (size_t i = 0; i < sizes.size(); ++i) {
    ip.push_back(&init[i]);
    gp.push_back({&g1[i], &g2[i]});
    op.push_back({&out[i]});
  }
  kv.init(keys, ip);
  kv.pull(keys, op);
  kv.waitAll();
  for (size_t i = 0; i < sizes.size(); ++i)
    CHECK(out[i].values.back() == 100.0f, "init of key %zu: %g", i, out[i].values.back());
  for (int step = 0; step < 3; ++step) {
    kv.pushpull(keys, gp, op, -step);
    kv.waitAll();
    // sum over ranks of (r + 1) + i = n(n+1)/2 + n·i
    for (size_t i = 0; i < sizes.size(); ++i) {
      float want = n * (n + 1) / 2.0f + n * float(i);
      CHECK(out[i].values.front() == want && out[i].values.back() == want,
            "key %zu step %d: %g, want %g", i, step, out[i].values.back(), want);
    }
  }
  KVStoreStats st = kv.stats();
  // Buckets of 64 KiB: {10, 1} | {300000} | {7, 4096, 3}, three pushes.
  CHECK(st.collectives == 9, "collectives %lld, want 9", (long long)st.collectives);

  // String keys and an updater, on a second store.
  auto kv2 = KVStore::create("dist_sync");
  Tensor w = filled(5, 1), g = filled(5, float(r)), wout = filled(5, 0);
  kv2->init("w", w);
  kv2->setUpdater([](const KVKey &, const Tensor &merged, Tensor &stored) {
    for (size_t i = 0; i < stored.values.size(); ++i)
      stored.values[i] -= 0.5f * merged.values[i];
  });
  kv2->push("w", {&g});
  kv2->pull("w", {&wout});
  kv2->waitAll();
  float want = 1 - 0.5f * (n * (n - 1) / 2.0f);
  CHECK(wout.values[0] == want, "updater: %g, want %g", wout.values[0], want);
  std::vector<double> stats{double(r), 1.0};
  kv2->allreduce(stats);
  CHECK(stats[1] == n, "allreduce of statistics: %g", stats[1]);
  kv2->barrier();
  std::printf("rank %d of %d: sum %s\n", r, n, failures ? "FAILED" : "OK");
}

/// A training loop's shape: ask allWorkers() before each step.
void uneven(KVStore &kv) {
  int r = kv.rank();
  int mine = 3 + 2 * r, steps = 0;
  Tensor g = filled(1000, 1), out = filled(1000, 0);
  kv.init(0, g);
  while (kv.allWorkers(steps < mine)) {
    kv.pushpull({0}, {{&g}}, {{&out}});
    kv.waitAll();
    ++steps;
  }
  CHECK(steps == 3, "steps %d", steps);
  std::printf("rank %d: stopped after %d of %d batches with the others\n", r, steps, mine);
}

void hang(KVStore &kv) {
  Tensor g = filled(1000, 1), out = filled(1000, 0);
  kv.init(0, g);
  if (kv.rank() == 1) {
    std::printf("rank 1: stops taking part\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return;
  }
  kv.pushpull({0}, {{&g}}, {{&out}});
  kv.waitAll(); // throws after the timeout
}

void die(KVStore &kv) {
  Tensor g = filled(1000, 1), out = filled(1000, 0);
  kv.init(0, g);
  for (int step = 0;; ++step) {
    if (kv.rank() == 1 && step == 2) {
      std::fprintf(stderr, "rank 1: exits abruptly at step 2\n");
      _exit(3);
    }
    kv.pushpull({0}, {{&g}}, {{&out}});
    kv.waitAll();
  }
}

void bench(KVStore &kv) {
  int r = kv.rank();
  if (r == 0)
    std::printf("bytes,seconds_per_allreduce,algbw_GBps,busbw_GBps\n");
  for (int64_t bytes = 4; bytes <= (64 << 20); bytes *= 4) {
    int64_t n = bytes / 4;
    Tensor g = filled(n, 1), out = filled(n, 0);
    KVKey key = int(bytes);
    kv.init(key, g);
    int iters = bytes <= (1 << 16) ? 500 : bytes <= (4 << 20) ? 50 : 10;
    for (int i = 0; i < 3; ++i) // warm-up
      kv.pushpull({key}, {{&g}}, {{&out}});
    kv.barrier();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) { // as a training step: push, pull, wait
      kv.pushpull({key}, {{&g}}, {{&out}});
      kv.waitAll();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
    int p = kv.numWorkers();
    if (r == 0)
      std::printf("%lld,%.3e,%.3f,%.3f\n", (long long)bytes, s, bytes / s / 1e9,
                  bytes / s / 1e9 * 2.0 * (p - 1) / p);
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mpirun -np N kvstore-mpi-check sum|uneven|hang|die|bench\n");
    return 2;
  }
  std::string mode = argv[1];
  try {
    kvstore::registerMPIBackend();
    KVStoreOptions opts;
    if (mode == "sum")
      opts.bucketBytes = 64 << 10;
    auto kv = KVStore::create("dist_sync", opts);
    if (mode == "sum")
      sum(*kv);
    else if (mode == "uneven")
      uneven(*kv);
    else if (mode == "hang")
      hang(*kv);
    else if (mode == "die")
      die(*kv);
    else if (mode == "bench")
      bench(*kv);
    else
      throw Error("unknown mode " + mode);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "kvstore-mpi-check: error: %s\n", e.what());
    std::fflush(stderr);
    return 1; // no MPI_Finalize: mpirun stops the others
  }
  if (failures)
    return 1;
  kvstore::finalizeMPI();
  return 0;
}
