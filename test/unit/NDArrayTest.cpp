//===- NDArrayTest.cpp - NDArray handles, views, files, engine order ------===//
//
// What an NDArray is apart from its ops: creation, views, in-place updates
// and out= writes through write dependencies, the kernel cache, MXNet .nd
// files, printing, errors; and eager calls interleaved with compiled
// Executor calls on the engine in program order, without copies.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/NDArray.h"
#include "kiln/Symbol.h"
#include "runtime/io/NDArrayFile.h"

#include "NDArrayTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <chrono>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace kiln;
using kiln::test::errorOf;
using kiln::test::expectClose;

namespace {

using Floats = std::vector<float>;

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/kiln-ndarray-" + std::to_string(::getpid()) + "-" + name;
}

TEST(NDArray, CreationAndReadBack) {
  NDArray a({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.size(), 6);
  EXPECT_EQ(a.ndim(), 2u);
  EXPECT_EQ(a.dtype(), DType::Float32);
  EXPECT_EQ(a.context(), Context::cpu());
  EXPECT_EQ(a.toVector(), (Floats{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(nd::zeros({3}).toVector(), (Floats{0, 0, 0}));
  EXPECT_EQ(nd::ones({2}).toVector(), (Floats{1, 1}));
  EXPECT_EQ(nd::full({2}, 7.5f).toVector(), (Floats{7.5f, 7.5f}));
  EXPECT_EQ(nd::arange(4).toVector(), (Floats{0, 1, 2, 3}));
  EXPECT_FLOAT_EQ(NDArray({1}, {4.5f}).item(), 4.5f);
  // Seeded random arrays are reproducible and in range.
  Floats u = nd::uniform(-1, 1, {100}, 5).toVector();
  EXPECT_EQ(u, nd::uniform(-1, 1, {100}, 5).toVector());
  for (float v : u)
    EXPECT_TRUE(v >= -1 && v < 1);
  Floats n = nd::normal(3, 0.5f, {2000}, 6).toVector();
  double mean = 0;
  for (float v : n)
    mean += v / n.size();
  EXPECT_NEAR(mean, 3.0, 0.05);
}

TEST(NDArray, HandlesShareCopiesDoNot) {
  NDArray a({2}, {1, 2});
  NDArray alias = a;
  NDArray copy = a.copy();
  a += 10.0f;
  EXPECT_EQ(alias.toVector(), (Floats{11, 12}));
  EXPECT_EQ(copy.toVector(), (Floats{1, 2}));
  EXPECT_TRUE(alias.sharesStorageWith(a));
  EXPECT_FALSE(copy.sharesStorageWith(a));
  NDArray dst = nd::zeros({2});
  a.copyTo(dst);
  EXPECT_EQ(dst.toVector(), (Floats{11, 12}));
}

TEST(NDArray, ViewsWriteThrough) {
  NDArray a = nd::arange(6).reshape({2, 3});
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
  NDArray row1 = a.at(1);
  EXPECT_EQ(row1.shape(), (std::vector<int64_t>{3}));
  EXPECT_EQ(row1.toVector(), (Floats{3, 4, 5}));
  row1 *= 10.0f; // in place on the view: the base sees it
  EXPECT_EQ(a.toVector(), (Floats{0, 1, 2, 30, 40, 50}));
  NDArray flat = a.reshape({-1});
  EXPECT_EQ(flat.shape(), (std::vector<int64_t>{6}));
  EXPECT_EQ(a.reshape({0, 3, 1}).shape(), (std::vector<int64_t>{2, 3, 1}));
  NDArray rows = nd::arange(8).reshape({4, 2}).slice(1, 3);
  EXPECT_EQ(rows.toVector(), (Floats{2, 3, 4, 5}));
  // An op on a view reads exactly the view.
  EXPECT_EQ((rows + 1.0f).toVector(), (Floats{3, 4, 5, 6}));
}

TEST(NDArray, InPlaceAndOutForms) {
  NDArray a({2, 2}, {1, 2, 3, 4});
  NDArray row({2}, {10, 20});
  a += row; // broadcasting into a
  EXPECT_EQ(a.toVector(), (Floats{11, 22, 13, 24}));
  a -= 1.0f;
  a *= NDArray({2, 2}, {1, 0, 1, 0});
  a /= 2.0f;
  EXPECT_EQ(a.toVector(), (Floats{5, 0, 6, 0}));
  // out= over an input of an op that is not elementwise: computed aside.
  NDArray m({2, 2}, {1, 2, 3, 4});
  nd::invoke("transpose", {m}, {}, {m});
  EXPECT_EQ(m.toVector(), (Floats{1, 3, 2, 4}));
  NDArray out = nd::zeros({2, 2});
  std::vector<NDArray> r = nd::invoke("_plus_scalar", {m}, {{"scalar", "1"}}, {out});
  EXPECT_TRUE(r[0].sharesStorageWith(out));
  EXPECT_EQ(out.toVector(), (Floats{2, 4, 3, 5}));
  EXPECT_NE(errorOf([&] { nd::invoke("_plus_scalar", {m}, {{"scalar", "1"}}, {nd::zeros({3})}); })
                .find("output 0 has shape (3,) but the op computes (2, 2)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { row += a; }).find("broadcast"), std::string::npos)
      << "the result of row + a has a's shape, not row's";
}

TEST(NDArray, LongChainsRunInProgramOrder) {
  // Many dependent in-place updates and reads interleaved: each read sees
  // exactly the updates pushed before it.
  NDArray acc = nd::zeros({1000});
  NDArray one = nd::ones({1000});
  std::vector<NDArray> snapshots;
  for (int i = 0; i < 200; ++i) {
    acc += one;
    if (i % 50 == 49)
      snapshots.push_back(acc * 1.0f);
  }
  EXPECT_EQ(acc.toVector()[999], 200.0f);
  for (size_t s = 0; s < snapshots.size(); ++s)
    EXPECT_EQ(snapshots[s].toVector()[0], 50.0f * (s + 1));
}

TEST(NDArray, ManyThreadsCallEagerOpsAtOnce) {
  // Each thread computes on its own arrays (compiling some kernels for the
  // first time concurrently) and adds into one shared array; the engine
  // orders the shared writes, so the total is exact.
  NDArray shared = nd::zeros({64});
  std::vector<std::thread> threads;
  std::vector<float> results(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      NDArray mine = nd::full({8, 8}, float(t));
      for (int i = 0; i < 100; ++i) {
        mine = nd::Activation(mine * 1.0f + 1.0f, "relu"); // +1 each time
        shared += nd::ones({64});
      }
      results[t] = nd::sum(mine).item();
    });
  for (auto &th : threads)
    th.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(results[t], 64.0f * (t + 100)) << "thread " << t;
  EXPECT_EQ(shared.toVector(), Floats(64, 400.0f));
}

TEST(NDArray, KernelCacheHitsOnRepeatedShapes) {
  nd::clearCache();
  NDArray a = nd::ones({3, 3});
  for (int i = 0; i < 5; ++i)
    a = a * 2.0f;
  nd::CacheStats s = nd::cacheStats();
  EXPECT_EQ(s.misses, 1); // _mul_scalar on 3x3 (filling ones compiles nothing)
  EXPECT_EQ(s.hits, 4);
  EXPECT_EQ(s.entries, 1);
  EXPECT_GT(s.compileSeconds, 0.0);
  EXPECT_EQ(a.toVector()[0], 32.0f);
}

TEST(NDArray, ReusedMediumOpsAreRecompiledWithTheFullPipeline) {
  // 16x64 · 64x64: too big to run inline, small enough for the quick tier
  // first; reused, it is recompiled in the background and replaces the
  // first kernel, with the same results.
  nd::clearCache();
  NDArray x = nd::uniform(-1, 1, {16, 64}, 1), w = nd::uniform(-1, 1, {64, 64}, 2);
  Floats quick = nd::FullyConnected(x, w, NDArray(), 64).toVector();
  nd::FullyConnected(x, w, NDArray(), 64).waitToRead(); // reused: upgrade
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (nd::cacheStats().upgrades < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(nd::cacheStats().upgrades, 1);
  Floats full = nd::FullyConnected(x, w, NDArray(), 64).toVector();
  expectClose(Tensor({16, 64}, full), Tensor({16, 64}, quick), "full vs quick tier", 1e-5, 1e-5);
  // Tiny ops stay on their first kernel.
  for (int i = 0; i < 5; ++i)
    (x + 1.0f).waitToRead();
  EXPECT_EQ(nd::cacheStats().upgrades, 1);
  EXPECT_EQ(nd::cacheStats().misses, 2);
}

TEST(NDArray, SaveAndLoadMXNetLists) {
  std::string named = tempPath("named.nd"), unnamed = tempPath("list.nd");
  NDArray a({2}, {1, 2}), b({1, 3}, {3, 4, 5});
  nd::save(named, {{"arg:w", a}, {"aux:m", b}});
  nd::save(unnamed, std::vector<NDArray>{a, b});
  std::map<std::string, NDArray> m = nd::loadMap(named);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("arg:w").toVector(), (Floats{1, 2}));
  EXPECT_EQ(m.at("aux:m").shape(), (std::vector<int64_t>{1, 3}));
  std::vector<NDArray> l = nd::loadList(unnamed);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].toVector(), (Floats{3, 4, 5}));
  // The files are MXNet's format: the runtime's reader (tested against
  // MXNet's own files) reads them back with their names.
  NDArrayList raw = loadNDArrayFile(named);
  EXPECT_EQ(raw.names, (std::vector<std::string>{"arg:w", "aux:m"}));
  EXPECT_NE(errorOf([&] { nd::loadMap(unnamed); }).find("unnamed list"), std::string::npos);
  EXPECT_NE(errorOf([&] { nd::loadList(tempPath("missing.nd")); }).find("missing.nd"),
            std::string::npos);
  std::remove(named.c_str());
  std::remove(unnamed.c_str());
}

TEST(NDArray, PrintsLikeNumPy) {
  std::ostringstream os;
  os << NDArray({2, 2}, {1, 2.5f, -3, 4});
  EXPECT_EQ(os.str(), "[[1, 2.5],\n [-3, 4]]\n<NDArray 2x2 @cpu(0)>");
  std::ostringstream big;
  big << nd::arange(2000);
  EXPECT_NE(big.str().find("[0, 1, 2, ..., 1997, 1998, 1999]"), std::string::npos) << big.str();
}

TEST(NDArray, Errors) {
  NDArray none;
  EXPECT_TRUE(none.empty());
  EXPECT_NE(errorOf([&] { none.shape(); }).find("empty NDArray"), std::string::npos);
  EXPECT_NE(errorOf([&] { NDArray({2}, {1, 2, 3}); }).find("needs 2 values, got 3"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { NDArray({2}, Context::gpu(0)); }).find("CPU only"), std::string::npos);
  EXPECT_NE(errorOf([&] { NDArray({2}, Context::cpu(), DType::Float64); }).find("float32"),
            std::string::npos);
  NDArray a({2, 3}, {1, 2, 3, 4, 5, 6}), b({4}, {1, 2, 3, 4});
  EXPECT_NE(errorOf([&] { (a + b).waitToRead(); }).find("broadcast_add"), std::string::npos);
  EXPECT_NE(errorOf([&] { nd::invoke("NoSuchOp", {a}); }).find("unknown operator 'NoSuchOp'"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { nd::invoke("FullyConnected", {a}, {{"num_hidden", "2"}}); })
                .find("FullyConnected takes 3 inputs (data, weight, bias)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { nd::Activation(a, "bogus"); }).find("bogus"), std::string::npos);
  EXPECT_NE(errorOf([&] { a.reshape({4, 2}); }).find("cannot view (2, 3)"), std::string::npos);
  EXPECT_NE(errorOf([&] { a.slice(1, 5); }).find("not a non-empty range"), std::string::npos);
  EXPECT_NE(errorOf([&] { a.item(); }).find("not one element"), std::string::npos);
  EXPECT_NE(errorOf([&] { a.grad(); }).find("attachGrad"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Eager and compiled work on one engine
//===----------------------------------------------------------------------===//

Symbol affineNet() {
  Symbol x = Symbol::Variable("x");
  return sym::FullyConnected("fc", x, 2);
}

TEST(NDArrayExecutor, ForwardReadsAndWritesNDArraysInProgramOrder) {
  auto exec = Executor::bind(affineNet(), {{"x", {1, 3}}});
  exec->arg("fc_weight") = Tensor({2, 3}, {1, 0, 0, 0, 1, 0});
  exec->arg("fc_bias") = Tensor({2}, {0, 100});
  NDArray x({1, 3}, {1, 2, 3});
  std::vector<NDArray> results;
  for (int i = 0; i < 5; ++i) {
    x += 1.0f;                                            // eager write
    results.push_back(exec->forward({{"x", x}}, false)[0]); // compiled read
    x *= 2.0f;                                            // must wait for it
  }
  float v0 = 1, v1 = 2;
  for (int i = 0; i < 5; ++i) {
    v0 += 1;
    v1 += 1;
    EXPECT_EQ(results[i].toVector(), (Floats{v0, v1 + 100})) << "step " << i;
    v0 *= 2;
    v1 *= 2;
  }
}

TEST(NDArrayExecutor, EagerUpdatesOfExecutorParametersWithoutCopies) {
  // An SGD loop whose update is eager while forward/backward are compiled:
  // argArray/gradArray are views of the executor's own memory.
  Symbol x = Symbol::Variable("x");
  Symbol net = sym::LinearRegressionOutput("out", sym::FullyConnected("fc", x, 1));
  auto exec = Executor::bind(net, {{"x", {4, 2}}, {"out_label", {4, 1}}});
  exec->arg("fc_weight") = Tensor({1, 2}, {0, 0});
  exec->arg("fc_bias") = Tensor({1}, {0});
  NDArray data({4, 2}, {1, 0, 0, 1, 1, 1, 2, 1});
  NDArray label({4, 1}, {1, 2, 3, 4}); // y = x0 + 2 x1, no bias
  NDArray w = exec->argArray("fc_weight"), b = exec->argArray("fc_bias");
  NDArray gw = exec->gradArray("fc_weight"), gb = exec->gradArray("fc_bias");
  for (int step = 0; step < 300; ++step) {
    exec->forward({{"x", data}, {"out_label", label}}, true);
    w -= gw * 0.1f;
    b -= gb * 0.1f;
  }
  Floats wv = w.toVector();
  EXPECT_NEAR(wv[0], 1.0f, 1e-2);
  EXPECT_NEAR(wv[1], 2.0f, 1e-2);
  EXPECT_NEAR(b.item(), 0.0f, 2e-2);
  // The Tensor API sees the same memory (it waits for the pushed calls).
  EXPECT_EQ(exec->arg("fc_weight").values, wv);
}

TEST(NDArrayExecutor, Errors) {
  auto exec = Executor::bind(affineNet(), {{"x", {1, 3}}});
  EXPECT_NE(errorOf([&] { exec->forward({{"y", nd::ones({1, 3})}}, false); })
                .find("'y' is not a data input"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { exec->forward({{"x", nd::ones({2, 3})}}, false); })
                .find("input 'x' has shape (2, 3) but the executor was bound to (1, 3)"),
            std::string::npos);
  exec->forward({{"x", nd::ones({1, 3})}}, false);
  EXPECT_NE(errorOf([&] { exec->outputs(); }).find("as NDArrays"), std::string::npos);
  EXPECT_NE(errorOf([&] { exec->gradArray("nope"); }).find("no parameter named 'nope'"),
            std::string::npos);
}

} // namespace
