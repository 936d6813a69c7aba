//===- KVStoreTest.cpp - KVStore semantics (local backend) -----------------===//
//
// MXNet's KVStore contract on the in-process backend: push sums the values
// of one key's devices, pull broadcasts the stored value, updaters and
// optimizers run on the store, int and string keys, bucketing counts, and
// clear errors. The MPI backend runs the same code with a real communicator
// (kvstore-mpi-check, test/lit/Tools/kvstore-mpi.test); the NCCL one is
// tried here and skipped with a message where there is no GPU.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/KVStore.h"
#include "kiln/Optimizer.h"
#include "runtime/kvstore/Backends.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln;

namespace {

Tensor filled(std::vector<int64_t> shape, float v) {
  Tensor t(std::move(shape));
  for (float &x : t.values)
    x = v;
  return t;
}

std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(KVStoreTest, PushSumsDevicesPullBroadcasts) {
  auto kv = KVStore::create("local");
  EXPECT_EQ(kv->type(), "local");
  EXPECT_EQ(kv->rank(), 0);
  EXPECT_EQ(kv->numWorkers(), 1);
  Tensor init = filled({2, 3}, 1);
  kv->init(3, init);
  Tensor a = filled({2, 3}, 1), b = filled({2, 3}, 2), c = filled({2, 3}, 4);
  kv->push(3, {&a, &b, &c});
  Tensor o1 = filled({2, 3}, 0), o2 = filled({2, 3}, 0);
  kv->pull(3, {&o1, &o2});
  kv->waitAll();
  for (float v : o1.values)
    EXPECT_EQ(v, 7);
  EXPECT_EQ(o1.values, o2.values);
  // A second push replaces (no updater): stored = merged, not accumulated.
  kv->push(3, {&a});
  kv->pull(3, {&o1});
  kv->wait({3});
  EXPECT_EQ(o1.values[0], 1);
}

TEST(KVStoreTest, InitValueIsPulledBack) {
  auto kv = KVStore::create("device");
  Tensor w({4}, {1, 2, 3, 4}), out({4});
  kv->init("w", w);
  kv->pull("w", {&out});
  kv->waitAll();
  EXPECT_EQ(out.values, w.values);
}

TEST(KVStoreTest, UpdaterRunsOnTheStore) {
  auto kv = KVStore::create("local");
  Tensor a0 = filled({3}, 10), b0 = filled({5}, 20);
  kv->init({"a", "b"}, {&a0, &b0});
  std::vector<std::string> seen;
  kv->setUpdater([&](const KVKey &key, const Tensor &merged, Tensor &stored) {
    seen.push_back(key.name);
    for (size_t i = 0; i < stored.values.size(); ++i)
      stored.values[i] -= 0.5f * merged.values[i];
  });
  Tensor ga = filled({3}, 1), ga2 = filled({3}, 3), gb = filled({5}, 2);
  kv->push({"a", "b"}, {{&ga, &ga2}, {&gb}});
  Tensor wa({3}), wb({5});
  kv->pull({"a", "b"}, {{&wa}, {&wb}});
  kv->waitAll();
  EXPECT_EQ(wa.values[0], 10 - 0.5f * 4);
  EXPECT_EQ(wb.values[4], 20 - 0.5f * 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST(KVStoreTest, OptimizerOnStoreMatchesDirectUpdate) {
  OptimizerOptions o;
  o.learningRate = 0.1;
  o.momentum = 0.9;
  o.rescaleGrad = 0.25;
  auto direct = createOptimizer("sgd", o), onStore = createOptimizer("sgd", o);
  Tensor w1({2, 2}, {1, 2, 3, 4}), b1({2}, {0.5, -0.5});
  Tensor w2 = w1, b2 = b1;
  auto kv = KVStore::create("local");
  kv->init({0, 1}, {&w2, &b2});
  kv->setOptimizer(*onStore);
  for (int step = 0; step < 3; ++step) {
    Tensor gw({2, 2}, {0.1f * step, 1, -1, 2}), gb({2}, {3, step * 1.0f});
    Tensor gwHalf({2, 2}), gbHalf({2});
    for (int i = 0; i < 4; ++i)
      gwHalf.values[i] = gw.values[i] / 2;
    for (int i = 0; i < 2; ++i)
      gbHalf.values[i] = gb.values[i] / 2;
    direct->update({&w1, &b1}, {&gw, &gb});
    // Two devices holding half the gradient each sum to the same gradient.
    kv->push({0, 1}, {{&gwHalf, &gwHalf}, {&gbHalf, &gbHalf}}, 0);
    kv->pull({0, 1}, {{&w2}, {&b2}});
    kv->waitAll();
  }
  for (int i = 0; i < 4; ++i)
    EXPECT_FLOAT_EQ(w1.values[i], w2.values[i]) << i;
  for (int i = 0; i < 2; ++i)
    EXPECT_FLOAT_EQ(b1.values[i], b2.values[i]) << i;
}

TEST(KVStoreTest, BucketsPackSmallArraysAndIsolateLargeOnes) {
  KVStoreOptions opts;
  opts.bucketBytes = 1024; // 256 floats
  auto kv = KVStore::create("local", opts);
  // 10 biases of 16 floats (640 bytes: one bucket), a 1000-float weight
  // (alone), then 3 small ones again (one bucket).
  std::vector<KVKey> keys;
  std::vector<Tensor> vals;
  for (int i = 0; i < 14; ++i)
    vals.push_back(filled({i == 10 ? 1000 : 16}, float(i)));
  std::vector<const Tensor *> ptrs;
  std::vector<std::vector<const Tensor *>> pushVals;
  for (int i = 0; i < 14; ++i) {
    keys.push_back(i);
    ptrs.push_back(&vals[i]);
    pushVals.push_back({&vals[i]});
  }
  kv->init(keys, ptrs);
  kv->push(keys, pushVals);
  kv->waitAll();
  KVStoreStats st = kv->stats();
  EXPECT_EQ(st.pushes, 14);
  EXPECT_EQ(st.collectives, 3);
  EXPECT_EQ(st.bytesReduced, (13 * 16 + 1000) * 4);
  // One collective per key when bucketing is off.
  opts.bucketBytes = -1;
  auto kv2 = KVStore::create("local", opts);
  kv2->init(keys, ptrs);
  kv2->push(keys, pushVals);
  kv2->waitAll();
  EXPECT_EQ(kv2->stats().collectives, 14);
  // Bucketed values still land on their own keys.
  Tensor out({1000});
  kv->pull(10, {&out});
  kv->waitAll();
  EXPECT_EQ(out.values[999], 10);
}

TEST(KVStoreTest, IntAndStringKeysDoNotMix) {
  auto kv = KVStore::create("local");
  Tensor t = filled({2}, 1);
  kv->init(5, t);
  EXPECT_NE(errorOf([&] { kv->init("w", t); }).find("this store holds int keys"),
            std::string::npos);
  // The int 5 and the string "5" are different keys.
  EXPECT_NE(errorOf([&] { kv->push("5", {&t}); }).find("never init()ed"), std::string::npos);
}

TEST(KVStoreTest, ClearErrors) {
  auto kv = KVStore::create("local");
  Tensor t = filled({2, 2}, 1), bad = filled({3}, 1);
  kv->init("w", t);
  EXPECT_NE(errorOf([&] { kv->init("w", t); }).find("already initialized"), std::string::npos);
  EXPECT_NE(errorOf([&] { kv->push("w", {&bad}); }).find("differs from the initialized (2, 2)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { kv->pull("w", {&bad}); }).find("expected (2, 2)"), std::string::npos);
  EXPECT_NE(errorOf([&] { kv->pull("nope", {&t}); }).find("'nope', which was never init()ed"),
            std::string::npos);
  EXPECT_NE(errorOf([] { KVStore::create("bogus"); }).find("unknown type"), std::string::npos);
  EXPECT_NE(errorOf([] { KVStore::create("dist_async"); }).find("not implemented"),
            std::string::npos);
}

TEST(KVStoreTest, SingleWorkerCollectivesAreIdentity) {
  auto kv = KVStore::create("local");
  EXPECT_TRUE(kv->allWorkers(true));
  EXPECT_FALSE(kv->allWorkers(false));
  std::vector<double> v{1, 2};
  kv->allreduce(v);
  EXPECT_EQ(v[1], 2);
  kv->barrier();
}

TEST(KVStoreTest, DistSyncOutsideMpirunIsAClearError) {
#ifdef KILN_HAVE_MPI_BACKEND
  kiln::kvstore::registerMPIBackend();
  if (kiln::kvstore::launchedByMPI())
    GTEST_SKIP() << "running under mpirun";
  EXPECT_NE(errorOf([] { KVStore::create("dist_sync"); }).find("not started by an MPI launcher"),
            std::string::npos);
#else
  GTEST_SKIP() << "built without MPI: dist_sync is not available";
#endif
}

TEST(KVStoreTest, NcclSumsOnOneGpuOrSkips) {
#ifdef KILN_HAVE_NCCL_BACKEND
  kiln::kvstore::registerNCCLBackend();
  std::unique_ptr<KVStore> kv;
  std::string err = errorOf([&] { kv = KVStore::create("nccl"); });
  if (!kv)
    GTEST_SKIP() << "no GPU for the nccl backend here: " << err;
  Tensor a = filled({1000}, 1.5), b = filled({1000}, 2), out({1000});
  kv->init(0, a);
  kv->push(0, {&a, &b});
  kv->pull(0, {&out});
  kv->waitAll();
  EXPECT_EQ(out.values[999], 3.5f);
#else
  GTEST_SKIP() << "built without NCCL (nccl.h, libnccl or libcudart not found)";
#endif
}

TEST(KVStoreTest, GradientReducerPushesGroupsInFixedOrderAsTheyBecomeReady) {
  KVStoreOptions o;
  o.bucketBytes = 16; // a 4-float gradient fills a group
  auto kv = KVStore::create("local", o);
  Tensor g0 = filled({4}, 1), g1 = filled({4}, 2), g2 = filled({4}, 3);
  GradientReducer r(*kv, {"g0", "g1", "g2"}, {&g0, &g1, &g2});
  ASSERT_EQ(r.numGroups(), 3u); // the last parameter's group first
  int64_t before = kv->stats().collectives;
  r.beginStep();
  r.ready(0); // its group is last in the order: nothing may go yet
  EXPECT_EQ(r.groupsPushedEarly(), 0u);
  EXPECT_EQ(kv->stats().collectives, before);
  r.ready(2);
  EXPECT_EQ(r.groupsPushedEarly(), 1u);
  r.ready(1); // unblocks its own group and the waiting one of g0
  EXPECT_EQ(r.groupsPushedEarly(), 3u);
  EXPECT_EQ(kv->stats().collectives, before + 3);
  r.finishStep();
  // One worker: the sums are the gradients themselves, written back.
  EXPECT_EQ(g0.values, filled({4}, 1).values);
  EXPECT_EQ(g2.values, filled({4}, 3).values);
  // Without ready() calls, finishStep pushes everything.
  r.beginStep();
  r.finishStep();
  EXPECT_EQ(r.groupsPushedEarly(), 0u);
  EXPECT_EQ(kv->stats().collectives, before + 6);
  EXPECT_NE(errorOf([&] { GradientReducer bad(*kv, {"x"}, {}); }).find("1 keys but 0 gradients"),
            std::string::npos);
}

} // namespace
