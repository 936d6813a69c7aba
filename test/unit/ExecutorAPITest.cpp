//===- ExecutorAPITest.cpp - kiln::Executor on the compiled path ----------===//
//
// The compiled executor against the same executor on the reference
// interpreter (outputs, gradients, aux updates, head gradients), a short SGD
// run that must fit a separable problem, and the errors.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Executable.h"
#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "Transforms/Autodiff.h"
#include "Transforms/MemoryPlan.h"
#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/Initializer.h"
#include "kiln/Optimizer.h"
#include "kiln/Random.h"
#include "kiln/Symbol.h"
#include "kiln/Zoo.h"
#include "ExecutorTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <mutex>

using namespace kiln;

namespace {

void expectClose(const Tensor &got, const Tensor &want, const std::string &what,
                 double rtol = 1e-4, double atol = 1e-5) {
  ASSERT_EQ(got.shape, want.shape) << what;
  for (size_t i = 0; i < got.values.size(); ++i)
    ASSERT_NEAR(got.values[i], want.values[i], atol + rtol * std::fabs(want.values[i]))
        << what << " element " << i;
}

void initialize(Executor &e, uint64_t seed) { test::initializeExecutor(e, seed); }

/// Runs one training step on a compiled and a reference executor bound the
/// same way and compares everything the step produces.
void compareTrainingStep(const std::function<std::unique_ptr<Executor>(ExecutorOptions)> &make) {
  ExecutorOptions ref;
  ref.engine = ExecutorOptions::Engine::Reference;
  auto compiled = make({}), reference = make(ref);
  initialize(*compiled, 7);
  initialize(*reference, 7);
  compiled->forward(true);
  compiled->backward();
  reference->forward(true);
  reference->backward();
  for (size_t i = 0; i < compiled->outputs().size(); ++i)
    expectClose(compiled->outputs()[i], reference->outputs()[i], "output");
  for (const auto &n : compiled->paramNames())
    expectClose(compiled->grad(n), reference->grad(n), "gradient of " + n, 1e-3, 1e-4);
  for (const auto &n : compiled->auxNames())
    expectClose(compiled->aux(n), reference->aux(n), "aux " + n);
  // Inference after training uses the updated aux states.
  compiled->forward(false);
  reference->forward(false);
  for (size_t i = 0; i < compiled->outputs().size(); ++i)
    expectClose(compiled->outputs()[i], reference->outputs()[i], "inference output");
}

TEST(ExecutorAPI, LeNetStepMatchesReference) {
  compareTrainingStep([](ExecutorOptions o) {
    return Executor::load("zoo:lenet", "", {{"data", {4, 1, 28, 28}}}, o);
  });
}

TEST(ExecutorAPI, BatchNormNetworkUpdatesAuxLikeReference) {
  Symbol data = Symbol::Variable("data");
  Symbol conv = sym::Convolution("conv", data, {3, 3}, 4, sym::ConvolutionOpts().pad({1, 1}));
  Symbol bn = sym::BatchNorm("bn", conv, sym::BatchNormOpts().fixGamma(false));
  Symbol act = sym::Activation("relu", bn, "relu");
  Symbol fc = sym::FullyConnected("fc", sym::Flatten("flat", act), 10);
  Symbol net = sym::SoftmaxOutput("softmax", fc);
  compareTrainingStep([&](ExecutorOptions o) {
    return Executor::bind(net, {{"data", {3, 2, 5, 5}}}, o);
  });
}

TEST(ExecutorAPI, HeadGradientOfNonLossHead) {
  // A head that is not a loss: its gradient comes from backward(headGrads).
  Symbol net = sym::FullyConnected("fc", Symbol::Variable("data"), 3);
  ExecutorOptions ref;
  ref.engine = ExecutorOptions::Engine::Reference;
  auto compiled = Executor::bind(net, {{"data", {2, 4}}});
  auto reference = Executor::bind(net, {{"data", {2, 4}}}, ref);
  initialize(*compiled, 3);
  initialize(*reference, 3);
  Tensor head({2, 3}, {1, -2, 0.5f, 3, 0, -1});
  for (Executor *e : {compiled.get(), reference.get()}) {
    e->forward(true);
    e->backward({{"fc_output", head}});
  }
  expectClose(compiled->grad("fc_weight"), reference->grad("fc_weight"), "fc_weight");
  // dW = headᵀ · data, by hand.
  const Tensor &x = compiled->arg("data");
  const Tensor &dw = compiled->grad("fc_weight");
  for (int o = 0; o < 3; ++o)
    for (int k = 0; k < 4; ++k) {
      double want = 0;
      for (int n = 0; n < 2; ++n)
        want += head.values[n * 3 + o] * x.values[n * 4 + k];
      EXPECT_NEAR(dw.values[o * 4 + k], want, 1e-4);
    }
  // Default head gradient: ones, so db = batch size.
  compiled->forward(true);
  compiled->backward();
  for (float v : compiled->grad("fc_bias").values)
    EXPECT_NEAR(v, 2.0f, 1e-6);
}

TEST(ExecutorAPI, SGDFitsSeparableData) {
  // Two Gaussian blobs; a small MLP must separate them within a few steps.
  Symbol data = Symbol::Variable("data");
  Symbol h = sym::Activation("relu1", sym::FullyConnected("fc1", data, 16), "relu");
  Symbol net = sym::SoftmaxOutput("softmax", sym::FullyConnected("fc2", h, 2));
  const int batch = 32;
  auto e = Executor::bind(net, {{"data", {batch, 4}}});
  initialize(*e, 11);
  OptimizerOptions opts;
  opts.learningRate = 0.5;
  opts.rescaleGrad = 1.0 / batch;
  auto sgd = createOptimizer("sgd", opts);
  Random rng(5);
  double accuracy = 0;
  for (int step = 0; step < 60; ++step) {
    Tensor &x = e->arg("data");
    Tensor &y = e->arg("softmax_label");
    for (int n = 0; n < batch; ++n) {
      int cls = static_cast<int>(rng.below(2));
      y.values[n] = cls;
      for (int k = 0; k < 4; ++k)
        x.values[n * 4 + k] = static_cast<float>(rng.normal() * 0.5 + (cls ? 1.0 : -1.0));
    }
    e->forward(true);
    e->backward();
    sgd->update(e->params(), e->grads());
    int correct = 0;
    const Tensor &p = e->outputs()[0];
    for (int n = 0; n < batch; ++n)
      correct += (p.values[n * 2 + 1] > p.values[n * 2]) == (y.values[n] > 0.5f);
    accuracy = double(correct) / batch;
  }
  EXPECT_GE(accuracy, 0.9);
}

TEST(ExecutorAPI, Errors) {
  auto e = Executor::load("zoo:mlp", "", {{"data", {2, 1, 28, 28}}});
  EXPECT_THROW(e->arg("no_such_weight"), Error);
  EXPECT_THROW(e->grads(), Error);
  EXPECT_THROW(e->backward(), Error);
  EXPECT_THROW(e->outputs(), Error);
  e->forward(true);
  EXPECT_THROW(e->backward({{"not_an_output", Tensor({1})}}), Error);
  EXPECT_THROW(e->grad("data"), Error);
}

} // namespace

namespace {

TEST(ExecutorAPI, TrainingArenaIsTheReportedPlan) {
  // kiln-compile --memory-report's training "both" is what the executor
  // allocates for its training function.
  mlir::MLIRContext ctx;
  ctx.loadDialect<graph::GraphDialect, mlir::func::FuncDialect>();
  ShapeMap shapes{{"data", {8, 1, 28, 28}}};
  LoadedModel model = loadModel(ctx, "zoo:lenet", "", shapes);
  ASSERT_TRUE(mlir::succeeded(differentiate(model.mainFunc())));
  (void)buildExecutable(*model.module);
  auto report = computeMemoryReport(model.mainFunc());
  ASSERT_TRUE(mlir::succeeded(report));
  EXPECT_LT(report->both, report->naive);

  auto e = Executor::load("zoo:lenet", "", shapes);
  initialize(*e, 1);
  e->forward(true);
  EXPECT_EQ(e->trainingArenaBytes(), report->both);
}

TEST(ExecutorAPI, GradientHookSeesEachFinalGradientDuringTheStep) {
  zoo::ZooOptions zo;
  Symbol net = zoo::build("lenet", zo);
  auto exec = Executor::bind(net, {{"data", {2, 1, 28, 28}}});
  initialize(*exec, 3);
  size_t n = exec->paramNames().size();
  std::vector<int> calls(n, 0);
  std::vector<Tensor> seen(n);
  exec->prepare(true);
  std::vector<const Tensor *> grads = exec->grads();
  std::mutex mu;
  exec->setGradientHook([&](size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls[i];
    seen[i] = *grads[i]; // final already: later steps must not change it
  });
  exec->forward(true);
  exec->backward();
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(calls[i], 1) << exec->paramNames()[i];
    EXPECT_EQ(seen[i].values, grads[i]->values) << exec->paramNames()[i];
  }
  exec->setGradientHook(nullptr);
  exec->forward(true);
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(calls[i], 1) << "a removed hook is not called";
}

} // namespace
