//===- ExecutorTest.cpp - PlanExecutor on hand-built plans ----------------===//
//
// Hand-written C++ kernels (plain void(void**) functions) on hand-built
// plans: values, arena size and reuse, ordering of co-shared storage under
// the threaded engine, and errors.
//
//===----------------------------------------------------------------------===//

#include "runtime/engine/Engine.h"
#include "runtime/exec/Executor.h"

#include "kiln/Error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <functional>
#include <thread>

using namespace kiln;
using namespace kiln::exec;

namespace {

// Kernels on 6 floats (2x3) unless the name says otherwise.
void add6(void **b) {
  auto *x = static_cast<float *>(b[0]), *y = static_cast<float *>(b[1]),
       *o = static_cast<float *>(b[2]);
  for (int i = 0; i < 6; ++i)
    o[i] = x[i] + y[i];
}
void relu6(void **b) {
  auto *x = static_cast<float *>(b[0]), *o = static_cast<float *>(b[1]);
  for (int i = 0; i < 6; ++i)
    o[i] = x[i] > 0 ? x[i] : 0;
}
// (2x3) · (3x3) → (2x3)
void matmul233(void **b) {
  auto *x = static_cast<float *>(b[0]), *w = static_cast<float *>(b[1]),
       *o = static_cast<float *>(b[2]);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      float s = 0;
      for (int k = 0; k < 3; ++k)
        s += x[i * 3 + k] * w[k * 3 + j];
      o[i * 3 + j] = s;
    }
}
// Reads slowly, so a writer that jumped the queue would change what it sees.
void slowCopy6(void **b) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto *x = static_cast<float *>(b[0]), *o = static_cast<float *>(b[1]);
  for (int i = 0; i < 6; ++i)
    o[i] = x[i];
}
void fill6(void **b) {
  auto *x = static_cast<float *>(b[0]), *o = static_cast<float *>(b[1]);
  for (int i = 0; i < 6; ++i)
    o[i] = x[i] * 100;
}
std::atomic<bool> gFail{false};
void maybeFail(void **b) {
  if (gFail)
    throw Error("value out of range");
  relu6(b);
}

/// Small plan builder: each helper adds a storage and a slot.
struct Builder {
  Plan p;
  uint32_t block(int64_t offset, int64_t bytes) {
    p.storages.push_back({SlotKind::Arena, offset, bytes});
    p.arenaBytes = std::max(p.arenaBytes, offset + bytes);
    return p.storages.size() - 1;
  }
  uint32_t slot(const std::string &name, std::vector<int64_t> shape, uint32_t storage) {
    int64_t n = 4;
    for (int64_t d : shape)
      n *= d;
    p.slots.push_back({name, std::move(shape), DType::F32, n, storage});
    return p.slots.size() - 1;
  }
  uint32_t external(SlotKind kind, std::vector<uint32_t> &list, const std::string &name,
                    std::vector<int64_t> shape) {
    int64_t n = 4;
    for (int64_t d : shape)
      n *= d;
    p.storages.push_back({kind, (int64_t)list.size(), n});
    uint32_t s = slot(name, std::move(shape), p.storages.size() - 1);
    list.push_back(s);
    return s;
  }
  uint32_t input(const std::string &n, std::vector<int64_t> s) {
    return external(SlotKind::Input, p.inputSlots, n, s);
  }
  uint32_t param(const std::string &n, std::vector<int64_t> s) {
    return external(SlotKind::Param, p.paramSlots, n, s);
  }
  uint32_t output(const std::string &n, std::vector<int64_t> s) {
    return external(SlotKind::Output, p.outputSlots, n, s);
  }
  uint32_t kernel(const std::string &name) {
    p.kernelNames.push_back(name);
    return p.kernelNames.size() - 1;
  }
  void step(uint32_t kernel, std::vector<uint32_t> args, uint32_t numInputs, std::string op,
            std::string node) {
    Step s;
    s.kernel = kernel;
    s.args = args;
    s.numInputs = numInputs;
    std::set<uint32_t> r, w;
    for (size_t a = 0; a < args.size(); ++a)
      (a < numInputs ? r : w).insert(p.slots[args[a]].storage);
    for (uint32_t x : w)
      r.erase(x);
    s.reads.assign(r.begin(), r.end());
    s.writes.assign(w.begin(), w.end());
    s.opName = std::move(op);
    s.nodeName = std::move(node);
    p.steps.push_back(std::move(s));
  }
};

/// h = x·W (arena, block 0); r = relu(h) in place over h; y = r + b.
Plan mlpPlan() {
  Builder b;
  uint32_t x = b.input("data", {2, 3}), w = b.param("fc_weight", {3, 3}),
           bias = b.param("bias", {2, 3});
  uint32_t blk = b.block(0, 64);
  uint32_t h = b.slot("fc", {2, 3}, blk), r = b.slot("relu", {2, 3}, blk);
  uint32_t y = b.output("out", {2, 3});
  uint32_t kmm = b.kernel("k_mm"), krelu = b.kernel("k_relu"), kadd = b.kernel("k_add");
  b.step(kmm, {x, w, h}, 2, "graph.fully_connected", "fc");
  b.step(krelu, {h, r}, 1, "graph.activation", "relu");
  b.step(kadd, {r, bias, y}, 2, "elemwise_add", "add");
  return b.p;
}

std::vector<float> mlpExpected(const std::vector<float> &x, const std::vector<float> &w,
                               const std::vector<float> &bias) {
  std::vector<float> y(6);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      float s = 0;
      for (int k = 0; k < 3; ++k)
        s += x[i * 3 + k] * w[k * 3 + j];
      y[i * 3 + j] = (s > 0 ? s : 0) + bias[i * 3 + j];
    }
  return y;
}

rt::Engine &threadedEngine() {
  static rt::Engine e([] {
    rt::EngineOptions o;
    o.cpuWorkers = 3;
    o.numThreads = 3;
    return o;
  }());
  return e;
}

rt::Engine &syncEngine() {
  static rt::Engine e([] {
    rt::EngineOptions o;
    o.synchronous = true;
    return o;
  }());
  return e;
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Executor, MLPValuesAndArenaReuse) {
  for (rt::Engine *engine : {&syncEngine(), &threadedEngine()}) {
    PlanExecutor ex(mlpPlan(), {matmul233, relu6, add6}, engine);
    EXPECT_EQ(ex.arenaBytes(), 64);
    EXPECT_EQ(ex.arenaBytes(), ex.plan().arenaBytes);
    ASSERT_NE(ex.arenaData(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ex.arenaData()) % 64, 0u);
    const void *arena = ex.arenaData();
    std::vector<float> w = {1, 0, -1, 0, 1, 0, 2, 0, 1}, bias = {0.5f, 0, 0, 0, 0, -1};
    for (int run = 0; run < 5; ++run) {
      std::vector<float> x = {1.f + run, -2, 3, -4, 5, -6.f * run}, y(6, -99);
      ex.run({x.data()}, {w.data(), bias.data()}, {y.data()});
      EXPECT_EQ(y, mlpExpected(x, w, bias)) << "run " << run;
      EXPECT_EQ(ex.arenaData(), arena) << "the arena must never be reallocated";
    }
  }
}

// The arena is exactly the planned size, whatever the blocks.
TEST(Executor, ArenaIsExactlyThePlannedSize) {
  Builder b;
  uint32_t x = b.input("x", {2, 3});
  uint32_t b0 = b.block(0, 64), b1 = b.block(64, 128);
  b.p.arenaBytes = 192;
  uint32_t t0 = b.slot("t0", {2, 3}, b0), t1 = b.slot("t1", {2, 3}, b1);
  uint32_t y = b.output("y", {2, 3});
  uint32_t k = b.kernel("relu");
  b.step(k, {x, t0}, 1, "relu", "a");
  b.step(k, {t0, t1}, 1, "relu", "b");
  b.step(k, {t1, y}, 1, "relu", "c");
  PlanExecutor ex(b.p, {relu6}, &syncEngine());
  EXPECT_EQ(ex.arenaBytes(), 192);
}

// t1 and t3 share block 0 (co-shared): step 1 reads t1 slowly, step 2
// overwrites the block with t3. The block's engine variable must keep the
// write behind the read, on a threaded engine, every time.
TEST(Executor, CoSharedStorageIsOrdered) {
  Builder b;
  uint32_t x = b.input("x", {2, 3});
  uint32_t blk0 = b.block(0, 64), blk1 = b.block(64, 64);
  uint32_t t1 = b.slot("t1", {2, 3}, blk0), t2 = b.slot("t2", {2, 3}, blk1),
           t3 = b.slot("t3", {2, 3}, blk0);
  uint32_t y = b.output("y", {2, 3});
  uint32_t kcopy = b.kernel("copy"), kslow = b.kernel("slow"), kfill = b.kernel("fill"),
           kadd = b.kernel("add");
  b.step(kcopy, {x, t1}, 1, "copy", "t1");
  b.step(kslow, {t1, t2}, 1, "slow_copy", "t2");
  b.step(kfill, {x, t3}, 1, "fill", "t3");
  b.step(kadd, {t2, t3, y}, 2, "add", "y");
  PlanExecutor ex(b.p, {relu6, slowCopy6, fill6, add6}, &threadedEngine());
  for (int run = 0; run < 20; ++run) {
    std::vector<float> xv = {1, 2, 3, 4, 5, (float)run}, yv(6);
    ex.run({xv.data()}, {}, {yv.data()});
    for (int i = 0; i < 6; ++i)
      ASSERT_EQ(yv[i], xv[i] + xv[i] * 100) << "run " << run << " element " << i;
  }
}

TEST(Executor, ConstantsAreReadFromThePlan) {
  Builder b;
  uint32_t x = b.input("x", {2, 3});
  b.p.constants.push_back({"c", {}});
  std::vector<float> c = {10, 20, 30, 40, 50, 60};
  b.p.constants[0].data.resize(24);
  std::memcpy(b.p.constants[0].data.data(), c.data(), 24);
  b.p.storages.push_back({SlotKind::Constant, 0, 24});
  uint32_t cs = b.slot("c", {2, 3}, b.p.storages.size() - 1);
  uint32_t y = b.output("y", {2, 3});
  b.step(b.kernel("add"), {x, cs, y}, 2, "add", "y");
  PlanExecutor ex(b.p, {add6}, &syncEngine());
  EXPECT_EQ(ex.arenaBytes(), 0);
  std::vector<float> xv = {1, 2, 3, 4, 5, 6}, yv(6);
  ex.run({xv.data()}, {}, {yv.data()});
  EXPECT_EQ(yv, (std::vector<float>{11, 22, 33, 44, 55, 66}));
}

// A kernel failure names the op, the node and the shapes, fails the run,
// and leaves the executor usable.
TEST(Executor, KernelErrorNamesOpNodeAndShapes) {
  for (rt::Engine *engine : {&syncEngine(), &threadedEngine()}) {
    Builder b;
    uint32_t x = b.input("data", {2, 3});
    uint32_t t = b.slot("act", {2, 3}, b.block(0, 64));
    uint32_t y = b.output("out", {2, 3});
    b.step(b.kernel("kiln_kernel_0"), {x, t}, 1, "graph.activation", "relu1");
    b.step(b.kernel("kiln_kernel_1"), {t, y}, 1, "graph.activation", "relu2");
    PlanExecutor ex(b.p, {maybeFail, relu6}, engine);
    std::vector<float> xv = {-1, 2, -3, 4, -5, 6}, yv(6, 0);
    gFail = true;
    std::string msg = errorOf([&] { ex.run({xv.data()}, {}, {yv.data()}); });
    gFail = false;
    EXPECT_NE(msg.find("graph.activation"), std::string::npos) << msg;
    EXPECT_NE(msg.find("kiln_kernel_0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("relu1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("data=(2, 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("value out of range"), std::string::npos) << msg;
    ex.run({xv.data()}, {}, {yv.data()});
    EXPECT_EQ(yv, (std::vector<float>{0, 2, 0, 4, 0, 6}));
  }
}

TEST(Executor, CallerErrors) {
  PlanExecutor ex(mlpPlan(), {matmul233, relu6, add6}, &syncEngine());
  std::vector<float> x(6), w(9), bias(6), y(6);
  std::string msg = errorOf([&] { ex.run({}, {w.data(), bias.data()}, {y.data()}); });
  EXPECT_NE(msg.find("takes 1 inputs ('data') but 0 were given"), std::string::npos) << msg;
  msg = errorOf([&] { ex.run({x.data()}, {w.data()}, {y.data()}); });
  EXPECT_NE(msg.find("2 parameters ('fc_weight', 'bias')"), std::string::npos) << msg;
  msg = errorOf([&] { ex.run({x.data()}, {w.data(), nullptr}, {y.data()}); });
  EXPECT_NE(msg.find("parameter #1 ('bias') is a null buffer"), std::string::npos) << msg;

  msg = errorOf([&] { PlanExecutor bad(mlpPlan(), {matmul233, nullptr, add6}, &syncEngine()); });
  EXPECT_NE(msg.find("no kernel function for 'k_relu'"), std::string::npos) << msg;
  msg = errorOf([&] { PlanExecutor bad(mlpPlan(), {matmul233}, &syncEngine()); });
  EXPECT_NE(msg.find("names 3 kernels but 1"), std::string::npos) << msg;
  Plan broken = mlpPlan();
  broken.steps[0].args[2] = 42;
  msg = errorOf([&] { PlanExecutor bad(broken, {matmul233, relu6, add6}, &syncEngine()); });
  EXPECT_EQ(msg.rfind("invalid plan:", 0), 0u) << msg;
}
