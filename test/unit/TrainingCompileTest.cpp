//===- TrainingCompileTest.cpp - Compiled training steps equal the interpreter -===//
//
// Zoo networks are differentiated (kiln::differentiate: training mode, then
// forward+backward), compiled the way training runs them (fusion, outlined
// kernels, memory plan, CPU JIT, engine: kiln::JitModel) and run; every
// result — the heads, the gradient of every parameter and the updated aux
// states — must equal the reference interpreter's on the same function and
// arguments (rtol 1e-4, atol 1e-5), at two batch sizes.
//
// Choosing the instances: a training step is discontinuous where a relu's
// input is 0, and float32 rounding of the forward moves values near 0 by
// ~1e-5. When one saved relu output is ≤ 0 in the interpreter's float64 but
// positive in float32, that element's gradient passes in one run and not in
// the other, and the BatchNorm backward below it spreads the difference over
// its whole channel (through mean(dy) and mean(dy·x̂)) and on towards the
// input. ResNet-18 at batch 3 with these arguments has such an element in
// stage 3 (found by returning every intermediate value: the first large
// deviation is an activation_grad whose saved relu output is 0 in float64
// and a small positive number in float32), so it is not used; the
// instances below have none. A failure here that starts at
// a relu with a saved value within ~1e-5 of 0 is this effect, not a bug.
//
// Larger networks cannot avoid it: ResNet-50 at 3x128x128, batch 2, has 34
// relu elements (in 26 of its 50 relus, values up to ~1e-4) on different
// sides of 0 in the two runs, and even the interpreter against itself, with
// the input pixels scaled by 1 ± 1e-7, differs beyond the tolerance in 149
// of its 260 results. Such a case is run with `smooth`: every relu becomes
// softrelu before differentiation, which keeps each op and pattern of the
// network (convolutions, BatchNorm, residual adds, pooling) and makes the
// step a smooth function of its inputs, so the comparison is meaningful.
//
//===----------------------------------------------------------------------===//

#include "CompiledVsInterpreter.h"
#include "Compiler/Driver.h"
#include "Compiler/JitModel.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/Autodiff.h"
#include "kiln/Error.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace kiln;

namespace {

struct Case {
  std::string label;
  std::string model;
  std::vector<int64_t> image; ///< (C, H, W)
  std::vector<int64_t> batches;
  /// Replace every relu by softrelu (see the file comment).
  bool smooth = false;
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.label; }

std::string resultLabel(mlir::func::FuncOp f, unsigned i) {
  std::string kind, name;
  if (auto k = f.getResultAttrOfType<mlir::StringAttr>(i, "graph.kind"))
    kind = k.str();
  if (auto n = f.getResultAttrOfType<mlir::StringAttr>(i, "graph.name"))
    name = n.str();
  return "result " + std::to_string(i) + " (" + kind + (name.empty() ? "" : " " + name) + ")";
}

class TrainingCompileTest : public ::testing::TestWithParam<Case> {};

TEST_P(TrainingCompileTest, GradientsEqualInterpreter) {
  const Case &c = GetParam();
  for (int64_t batch : c.batches) {
    SCOPED_TRACE(c.label + " batch " + std::to_string(batch));
    mlir::MLIRContext ctx;
    std::vector<int64_t> data{batch};
    data.insert(data.end(), c.image.begin(), c.image.end());
    LoadedModel loaded = loadModel(ctx, c.model, "", {{"data", data}});
    std::vector<Tensor> args = driver::bindParameters(loaded, /*randomSeed=*/3);
    std::mt19937 rng(17);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f), unit(-1.0f, 1.0f);
    for (size_t i = 0; i < loaded.args.size(); ++i) {
      if (loaded.args[i].kind != ModelArg::Input)
        continue;
      bool label = loaded.args[i].name.find("label") != std::string::npos;
      args[i] = Tensor(loaded.args[i].shape);
      for (float &v : args[i].values)
        v = label ? float(rng() % 10) : pixel(rng);
    }

    mlir::func::FuncOp main = loaded.mainFunc();
    if (c.smooth)
      main.walk([](graph::ActivationOp op) {
        if (op.getActType() == graph::ActType::relu)
          op.setActType(graph::ActType::softrelu);
      });
    ASSERT_TRUE(mlir::succeeded(differentiate(main))) << "autodiff failed";
    // Arguments the rewrite appended: the RNG counter, head gradients.
    for (unsigned i = args.size(); i < main.getNumArguments(); ++i) {
      auto type = mlir::cast<mlir::RankedTensorType>(main.getArgumentTypes()[i]);
      Tensor t(std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
      auto kind = main.getArgAttrOfType<mlir::StringAttr>(i, "graph.kind");
      for (float &v : t.values)
        v = kind && kind.getValue() == kRngCounterKind ? 7.0f : unit(rng);
      args.push_back(std::move(t));
    }

    std::unique_ptr<JitModel> compiled;
    try {
      compiled = JitModel::compile(*loaded.module);
    } catch (const Error &e) {
      FAIL() << "compile: " << e.what();
    }
    std::vector<Tensor> got = compiled->run(args);
    ref::Result want = ref::run(main, ref::fromTensors(args));
    ASSERT_EQ(got.size(), want.outputs.size());
    ASSERT_GT(got.size(), 1u) << "no gradients";
    for (size_t i = 0; i < got.size(); ++i)
      test::expectMatchesInterpreter(got[i], want.outputs[i], resultLabel(main, i));
    std::printf("%s batch %lld: %zu results, %zu kernels, arena %.1f MiB, compile %.2f s\n",
                c.label.c_str(), (long long)batch, got.size(), compiled->numKernels(),
                compiled->arenaBytes() / 1048576.0, compiled->compileSeconds());
  }
}

std::vector<Case> cases() {
  return {
      {"mlp", "zoo:mlp", {1, 28, 28}, {1, 5}},
      {"lenet", "zoo:lenet", {1, 28, 28}, {2, 3}},
      {"resnet18", "zoo:resnet18", {1, 28, 28}, {1, 2}},
      {"inception_bn", "zoo:inception-bn", {3, 28, 28}, {1}},
      // Smooth at batch 2: with relu, relu_in4a_1x1 has an input at -1.2e-6
      // in float64 that the compiled float32 step computes as +5.0e-7
      // (since the GEMM sums each k block from zero: a different rounding).
      {"inception_bn_smooth", "zoo:inception-bn", {3, 28, 28}, {2}, /*smooth=*/true},
      {"alexnet", "zoo:alexnet", {3, 67, 67}, {1}},
      {"vgg16", "zoo:vgg16", {3, 32, 32}, {1}},
      // Batch 2 at 64x64: stage 4 keeps 2x2 pixels, so training BatchNorm
      // never normalizes over a single value. Smooth: with relu, float32
      // rounding flips relu masks (see the file comment).
      {"resnet50", "zoo:resnet50", {3, 64, 64}, {2}, /*smooth=*/true},
      // GoogLeNet's fixed 7x7 average pool needs at least 253x253.
      {"googlenet", "zoo:googlenet", {3, 253, 253}, {1}},
  };
}

INSTANTIATE_TEST_SUITE_P(Zoo, TrainingCompileTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.label;
                         });

} // namespace
