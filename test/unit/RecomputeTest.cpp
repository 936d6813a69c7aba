//===- RecomputeTest.cpp - kiln-recompute keeps the step, shrinks the arena -===//
//
// Recompute (MXNet's mirror, lib/Transforms/Recompute.h) must not change a
// training step: the compiled executor with ExecutorOptions::recompute gives
// the same outputs, parameter gradients and aux updates as without (rtol
// 1e-5) on LeNet, ResNet-18 and a BatchNorm + Dropout network, for two steps
// (the second with other dropout masks and updated moving statistics). And
// it must pay: the planned training arena ("both", what runs) is strictly
// smaller with it on ResNet-18 and ResNet-50.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Executable.h"
#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "Transforms/Autodiff.h"
#include "Transforms/MemoryPlan.h"
#include "Transforms/Recompute.h"
#include "kiln/Executor.h"
#include "kiln/Initializer.h"
#include "kiln/Random.h"
#include "kiln/Symbol.h"
#include "ExecutorTestUtil.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace kiln;

namespace {

/// Counts elements outside rtol 1e-5 (atol 1e-7 for values near zero),
/// reporting the first few.
void expectSame(const Tensor &got, const Tensor &want, const std::string &what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.values.size(); ++i) {
    double g = got.values[i], w = want.values[i];
    if (!(std::fabs(g - w) <= 1e-7 + 1e-5 * std::fabs(w)) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: with recompute " << g << ", without " << w;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.values.size() << " differ";
}

void initialize(Executor &e, uint64_t seed) { test::initializeExecutor(e, seed); }

using MakeExecutor = std::function<std::unique_ptr<Executor>(const ExecutorOptions &)>;

/// Two training steps with and without recompute; returns the training
/// arenas (without, with).
std::pair<int64_t, int64_t> compareSteps(const MakeExecutor &make) {
  ExecutorOptions withOptions;
  withOptions.recompute = true;
  auto without = make({}), with = make(withOptions);
  initialize(*without, 5);
  initialize(*with, 5);
  for (int step = 0; step < 2; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    without->forward(true);
    without->backward();
    with->forward(true);
    with->backward();
    for (size_t i = 0; i < with->outputs().size(); ++i)
      expectSame(with->outputs()[i], without->outputs()[i], "output " + with->outputNames()[i]);
    for (const auto &n : with->paramNames())
      expectSame(with->grad(n), without->grad(n), "gradient of " + n);
    // forward(true) wrote the new moving statistics into the aux arrays.
    for (const auto &n : with->auxNames())
      expectSame(with->aux(n), without->aux(n), "aux " + n);
  }
  std::printf("training arena: %.3f MiB without recompute, %.3f MiB with\n",
              without->trainingArenaBytes() / 1048576.0, with->trainingArenaBytes() / 1048576.0);
  return {without->trainingArenaBytes(), with->trainingArenaBytes()};
}

TEST(Recompute, LeNetStepUnchanged) {
  // Nothing in LeNet qualifies (each tanh follows a convolution or
  // fully_connected whose output the backward does not read), so the
  // rewrite must leave the step and the plan as they are.
  auto [without, with] = compareSteps([](const ExecutorOptions &o) {
    return Executor::load("zoo:lenet", "", {{"data", {2, 1, 28, 28}}}, o);
  });
  EXPECT_EQ(with, without);
}

TEST(Recompute, ResNet18StepUnchangedArenaSmaller) {
  auto [without, with] = compareSteps([](const ExecutorOptions &o) {
    return Executor::load("zoo:resnet18", "", {{"data", {2, 3, 32, 32}}}, o);
  });
  EXPECT_LT(with, without);
}

TEST(Recompute, BatchNormDropoutStepUnchangedArenaSmaller) {
  // BN → relu → dropout → conv → BN → rrelu → pooling → fc: recomputes
  // batch_norm_train outputs, relu, the dropout mask and product, and the
  // rrelu's random slopes.
  Symbol data = Symbol::Variable("data");
  Symbol conv1 = sym::Convolution("conv1", data, {3, 3}, 4, sym::ConvolutionOpts().pad({1, 1}));
  Symbol bn1 = sym::BatchNorm("bn1", conv1, sym::BatchNormOpts().fixGamma(false));
  Symbol relu1 = sym::Activation("relu1", bn1, "relu");
  Symbol drop = sym::Dropout("drop", relu1, sym::DropoutOpts().p(0.3));
  Symbol conv2 = sym::Convolution("conv2", drop, {3, 3}, 6, sym::ConvolutionOpts().pad({1, 1}));
  Symbol bn2 = sym::BatchNorm("bn2", conv2);
  Symbol act2 = sym::LeakyReLU("rrelu2", bn2, sym::LeakyReLUOpts().actType("rrelu"));
  Symbol pool = sym::Pooling("pool", act2,
                             sym::PoolingOpts().kernel({2, 2}).stride({2, 2}).poolType("avg"));
  Symbol fc = sym::FullyConnected("fc", sym::Flatten("flat", pool), 10);
  Symbol net = sym::SoftmaxOutput("softmax", fc);
  auto [without, with] = compareSteps([&](const ExecutorOptions &o) {
    return Executor::bind(net, {{"data", {3, 2, 6, 6}}}, o);
  });
  EXPECT_LT(with, without);
}

/// Training arena ("both") of a zoo network, as kiln-compile --memory-report
/// plans it, with and without recompute; also the recompute statistics.
struct Plans {
  int64_t without = 0, with = 0;
  RecomputeStats stats;
};

Plans planTraining(const std::string &model, const std::vector<int64_t> &dataShape) {
  Plans plans;
  for (bool recomputeOn : {false, true}) {
    mlir::MLIRContext ctx;
    ctx.loadDialect<graph::GraphDialect, mlir::func::FuncDialect>();
    LoadedModel loaded = loadModel(ctx, model, "", {{"data", dataShape}});
    mlir::func::FuncOp main = loaded.mainFunc();
    EXPECT_TRUE(mlir::succeeded(differentiate(main)));
    if (recomputeOn) {
      mlir::FailureOr<RecomputeStats> stats = recompute(main);
      EXPECT_TRUE(mlir::succeeded(stats));
      if (mlir::succeeded(stats))
        plans.stats = *stats;
      // A second application changes nothing.
      mlir::FailureOr<RecomputeStats> again = recompute(main);
      EXPECT_TRUE(mlir::succeeded(again) && again->values == 0);
    }
    (void)buildExecutable(*loaded.module);
    auto report = computeMemoryReport(loaded.mainFunc());
    EXPECT_TRUE(mlir::succeeded(report));
    (recomputeOn ? plans.with : plans.without) = mlir::succeeded(report) ? report->both : 0;
  }
  std::printf("%s: training both %.2f MiB without recompute, %.2f MiB with (%u values, %u ops, "
              "%.3g MFLOP recomputed)\n",
              model.c_str(), plans.without / 1048576.0, plans.with / 1048576.0,
              plans.stats.values, plans.stats.ops, plans.stats.flops / 1e6);
  return plans;
}

TEST(Recompute, ResNetTrainingMemoryShrinks) {
  for (const char *model : {"zoo:resnet18", "zoo:resnet50"}) {
    SCOPED_TRACE(model);
    Plans plans = planTraining(model, {2, 3, 64, 64});
    EXPECT_GT(plans.stats.values, 0u);
    EXPECT_GT(plans.stats.flops, 0);
    EXPECT_LT(plans.with, plans.without);
  }
}

TEST(Recompute, NeedsADifferentiatedFunction) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<graph::GraphDialect, mlir::func::FuncDialect>();
  LoadedModel loaded = loadModel(ctx, "zoo:mlp", "", {{"data", {2, 1, 28, 28}}});
  std::string message;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    message = d.str();
    return mlir::success();
  });
  EXPECT_TRUE(mlir::failed(recompute(loaded.mainFunc())));
  EXPECT_NE(message.find("graph.differentiated"), std::string::npos) << message;
}

} // namespace
