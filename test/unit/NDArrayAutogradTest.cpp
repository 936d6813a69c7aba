//===- NDArrayAutogradTest.cpp - Imperative autograd vs symbolic autodiff --===//
//
// Whole zoo networks run op by op eagerly under autograd::RecordScope (the
// Symbol's graph walked node by node through nd::invoke) must give the same
// outputs, parameter gradients and BatchNorm moving statistics as the
// compiled Executor's forward(true) + backward(), which differentiates the
// same network symbolically. Smaller cases check head gradients against
// hand-derived values and finite differences, gradient accumulation, and
// the errors.
//
//===----------------------------------------------------------------------===//

#include "API/SymbolInternal.h"
#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/NDArray.h"
#include "kiln/Random.h"
#include "kiln/Zoo.h"
#include "ExecutorTestUtil.h"

#include "NDArrayTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln;
using kiln::test::errorOf;
using kiln::test::expectClose;

namespace {

/// Runs `net`'s graph node by node with nd::invoke on `values` (variables by
/// name); returns the heads.
std::vector<NDArray> runEagerly(const Symbol &net, std::map<std::string, NDArray> &values) {
  const mx::Graph &g = detail::graphOf(net);
  std::vector<std::vector<NDArray>> outs(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const mx::Node &n = g.nodes[i];
    if (n.isVariable()) {
      outs[i] = {values.at(n.name)};
      continue;
    }
    std::vector<NDArray> inputs;
    for (const mx::NodeEntry &e : n.inputs)
      inputs.push_back(outs[e.node][e.index]);
    outs[i] = nd::invoke(n.op, inputs, n.attrs);
  }
  std::vector<NDArray> heads;
  for (const mx::NodeEntry &h : g.heads)
    heads.push_back(outs[h.node][h.index]);
  return heads;
}

/// Eager forward + autograd backward of zoo network `name` against the
/// compiled executor's training step, from the same seeded values.
void compareWithExecutor(const std::string &name, const std::vector<int64_t> &dataShape) {
  SCOPED_TRACE(name);
  zoo::ZooOptions zo;
  zo.imageShape = {dataShape[1], dataShape[2], dataShape[3]};
  zo.numClasses = 10;
  Symbol net = zoo::build(name, zo);
  auto exec = Executor::bind(net, {{"data", dataShape}});
  test::initializeExecutor(*exec, 11);

  std::map<std::string, NDArray> values;
  for (const auto &n : exec->inputNames())
    values[n] = NDArray(exec->arg(n));
  for (const auto &n : exec->paramNames()) {
    values[n] = NDArray(exec->arg(n));
    values[n].attachGrad();
  }
  for (const auto &n : exec->auxNames())
    values[n] = NDArray(exec->arg(n));

  std::vector<NDArray> heads;
  {
    autograd::RecordScope record;
    heads = runEagerly(net, values);
  }
  autograd::backward(heads);

  exec->forward(true);
  exec->backward();
  ASSERT_EQ(heads.size(), exec->outputs().size());
  for (size_t h = 0; h < heads.size(); ++h)
    expectClose(heads[h].toTensor(), exec->outputs()[h], "output " + std::to_string(h));
  for (const auto &n : exec->paramNames())
    expectClose(values[n].grad().toTensor(), exec->grad(n), "gradient of " + n, 1e-3, 1e-5);
  for (const auto &n : exec->auxNames())
    expectClose(values[n].toTensor(), exec->aux(n), "moving statistic " + n);
}

TEST(NDArrayAutograd, ZooMLPMatchesSymbolicAutodiff) { compareWithExecutor("mlp", {8, 1, 28, 28}); }

TEST(NDArrayAutograd, ZooLeNetMatchesSymbolicAutodiff) {
  compareWithExecutor("lenet", {4, 1, 28, 28});
}

TEST(NDArrayAutograd, BatchNormNetworkMatchesSymbolicAutodiff) {
  // Training-mode BatchNorm: batch statistics, moving statistics updated in
  // place by the eager call, and their gradients through autodiff.
  compareWithExecutor("resnet18", {2, 1, 28, 28});
}

TEST(NDArrayAutograd, HeadGradientsAndHandValues) {
  NDArray x({3}, {1, 2, 3});
  x.attachGrad();
  NDArray y;
  {
    autograd::RecordScope record;
    y = x * x + x * 3.0f; // dy/dx = 2x + 3
  }
  y.backward();
  EXPECT_EQ(x.grad().toVector(), (std::vector<float>{5, 7, 9}));
  {
    autograd::RecordScope record;
    y = x * x;
  }
  y.backward(NDArray({3}, {1, 10, 100}));
  EXPECT_EQ(x.grad().toVector(), (std::vector<float>{2, 40, 600}));
}

TEST(NDArrayAutograd, BroadcastGradientsSumOverStretchedAxes) {
  NDArray a({2, 3}, {1, 2, 3, 4, 5, 6}), b({3}, {1, 1, 1});
  a.attachGrad();
  b.attachGrad();
  {
    autograd::RecordScope record;
    NDArray y = a * b + b;
    y.backward();
  }
  EXPECT_EQ(a.grad().toVector(), (std::vector<float>{1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(b.grad().toVector(), (std::vector<float>{1 + 4 + 2, 2 + 5 + 2, 3 + 6 + 2}));
}

TEST(NDArrayAutograd, MatchesFiniteDifferences) {
  Random rng(3);
  auto rand = [&](std::vector<int64_t> s) {
    Tensor t(s);
    for (float &v : t.values)
      v = static_cast<float>(rng.normal());
    return t;
  };
  Tensor tx = rand({2, 3}), tw = rand({3, 4}), tb = rand({4});
  auto f = [&](const Tensor &w) {
    autograd::PauseScope pause;
    NDArray h = nd::Activation(nd::dot(NDArray(tx), NDArray(w)), "tanh");
    return nd::sum(nd::broadcast_mul(h, NDArray(tb))).item();
  };
  NDArray w(tw);
  w.attachGrad();
  {
    autograd::RecordScope record;
    NDArray loss = nd::sum(nd::broadcast_mul(
        nd::Activation(nd::dot(NDArray(tx), w), "tanh"), NDArray(tb)));
    loss.backward();
  }
  std::vector<float> grad = w.grad().toVector();
  const double eps = 1e-2;
  for (size_t i = 0; i < tw.values.size(); ++i) {
    Tensor plus = tw, minus = tw;
    plus.values[i] += eps;
    minus.values[i] -= eps;
    double fd = (f(plus) - f(minus)) / (2 * eps);
    EXPECT_NEAR(grad[i], fd, 2e-3 + 2e-2 * std::abs(fd)) << "element " << i;
  }
}

TEST(NDArrayAutograd, GradReqAddAccumulates) {
  NDArray x({2}, {1, 2});
  x.attachGrad(GradReq::Add);
  for (int i = 0; i < 3; ++i) {
    autograd::RecordScope record;
    NDArray y = x * 4.0f;
    y.backward();
  }
  EXPECT_EQ(x.grad().toVector(), (std::vector<float>{12, 12}));
}

TEST(NDArrayAutograd, DropoutBackwardUsesTheForwardMask) {
  NDArray x = nd::ones({200});
  x.attachGrad();
  NDArray y;
  {
    autograd::RecordScope record;
    y = nd::Dropout(x, sym::DropoutOpts().p(0.5));
  }
  y.backward();
  std::vector<float> out = y.toVector(), grad = x.grad().toVector();
  int kept = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(out[i] == 0.0f || out[i] == 2.0f) << out[i];
    EXPECT_EQ(grad[i], out[i]) << "element " << i; // d(x·mask)/dx = mask, x = 1
    kept += out[i] != 0;
  }
  EXPECT_GT(kept, 60);
  EXPECT_LT(kept, 140);
  // Outside training mode Dropout is the identity.
  EXPECT_EQ(nd::Dropout(x).toVector(), x.toVector());
}

TEST(NDArrayAutograd, PredictModeRecordingKeepsMovingStatistics) {
  NDArray data({2, 2, 1, 1}, {1, 2, 3, 4}), gamma({2}, {1, 1}), beta({2}, {0, 0});
  NDArray mean({2}, {0, 0}), var({2}, {1, 1});
  data.attachGrad();
  NDArray y;
  {
    autograd::RecordScope record(/*train=*/false);
    y = nd::BatchNorm(data, gamma, beta, mean, var, sym::BatchNormOpts().eps(1e-5));
  }
  y.backward();
  // Moving statistics (0, 1) normalize: y = x / sqrt(1 + eps), dy/dx the
  // same factor, and nothing moved.
  std::vector<float> out = y.toVector(), grad = data.grad().toVector();
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(out[i], (i + 1) / std::sqrt(1 + 1e-5), 1e-5);
    EXPECT_NEAR(grad[i], 1 / std::sqrt(1 + 1e-5), 1e-5);
  }
  EXPECT_EQ(mean.toVector(), (std::vector<float>{0, 0}));
  EXPECT_EQ(var.toVector(), (std::vector<float>{1, 1}));
}

TEST(NDArrayAutograd, Errors) {
  NDArray x({2}, {1, 2});
  EXPECT_NE(errorOf([&] { x.backward(); }).find("was not computed by a recorded op"),
            std::string::npos);
  NDArray w({2}, {3, 4});
  w.attachGrad();
  NDArray y;
  {
    autograd::RecordScope record;
    y = x * w;
    EXPECT_NE(errorOf([&] { w += x; }).find("cannot be written in place"), std::string::npos);
  }
  x += 1.0f; // a recorded input changes before backward
  EXPECT_NE(errorOf([&] { y.backward(); }).find("modified in place"), std::string::npos);
  NDArray z;
  {
    autograd::RecordScope record;
    z = x * 2.0f;
  }
  EXPECT_NE(errorOf([&] { z.backward(); }).find("nothing the heads depend on has a gradient"),
            std::string::npos);
  {
    autograd::RecordScope record;
    z = x * w;
  }
  z.backward();
  EXPECT_NE(errorOf([&] { z.backward(); }).find("was not computed by a recorded op"),
            std::string::npos)
      << "the graph is freed after backward without retainGraph";
}

} // namespace
