//===- JitModelTest.cpp - Compiled models equal the reference interpreter -===//
//
// Issue 3's promise: every zoo network and every model in shared/testdata
// runs compiled (outlined kernels, memory plan, CPU JIT, engine) with outputs
// equal to the reference interpreter (rtol 1e-4, atol 1e-5), at several
// batch sizes. Sizes are the smallest each network accepts, to keep the
// interpreter's plain loops quick (GoogLeNet needs 253×253 inputs, the
// slowest case).
//
//===----------------------------------------------------------------------===//

#include "CompiledVsInterpreter.h"
#include "Compiler/Driver.h"
#include "Compiler/JitModel.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "kiln/Error.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

using namespace kiln;

namespace {

struct Case {
  std::string label;
  std::string model;  ///< zoo:NAME or a path under the testdata samples
  std::string params; ///< empty: seeded random parameters
  std::map<std::string, std::vector<int64_t>> inputs;
};

std::string samples() { return std::string(KILN_TESTDATA_DIR) + "/mxnet-format-samples/"; }

class JitModelTest : public ::testing::TestWithParam<Case> {};

TEST_P(JitModelTest, CompiledEqualsInterpreter) {
  const Case &c = GetParam();
  if (c.model.rfind("zoo:", 0) != 0 && !std::filesystem::is_directory(samples()))
    GTEST_SKIP() << "MXNet sample files not found at " << samples();
  mlir::MLIRContext ctx;
  std::string model = c.model.rfind("zoo:", 0) == 0 ? c.model : samples() + c.model;
  std::string params = c.params.empty() ? "" : samples() + c.params;
  LoadedModel loaded = loadModel(ctx, model, params, c.inputs);
  std::vector<Tensor> args = driver::bindParameters(loaded, /*randomSeed=*/3);
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  for (size_t i = 0; i < loaded.args.size(); ++i) {
    if (loaded.args[i].kind != ModelArg::Input)
      continue;
    args[i] = Tensor(loaded.args[i].shape);
    bool label = loaded.args[i].name.find("label") != std::string::npos;
    for (float &v : args[i].values)
      v = label ? float(rng() % 10) : pixel(rng);
  }

  std::unique_ptr<JitModel> compiled = JitModel::compile(*loaded.module);
  std::vector<Tensor> got = compiled->run(args);
  // A second run reuses the arena; it must give the same answer.
  std::vector<Tensor> again = compiled->run(args);
  ref::Result want = ref::run(loaded.mainFunc(), ref::fromTensors(args));
  ASSERT_EQ(got.size(), want.outputs.size());
  for (size_t i = 0; i < got.size(); ++i) {
    test::expectMatchesInterpreter(got[i], want.outputs[i], c.label + " output " + std::to_string(i));
    EXPECT_EQ(got[i].values, again[i].values);
  }
}

std::vector<Case> cases() {
  auto img = [](int64_t n, int64_t ch, int64_t h, int64_t w) {
    return std::map<std::string, std::vector<int64_t>>{{"data", {n, ch, h, w}}};
  };
  return {
      {"mlp_b1", "zoo:mlp", "", img(1, 1, 28, 28)},
      {"mlp_b5", "zoo:mlp", "", img(5, 1, 28, 28)},
      {"lenet_b1", "zoo:lenet", "", img(1, 1, 28, 28)},
      {"lenet_b4", "zoo:lenet", "", img(4, 1, 28, 28)},
      {"resnet18_b1", "zoo:resnet18", "", img(1, 3, 32, 32)},
      {"resnet18_b2", "zoo:resnet18", "", img(2, 1, 28, 28)},
      {"resnet50_b1", "zoo:resnet50", "", img(1, 3, 64, 64)},
      {"vgg16_b1", "zoo:vgg16", "", img(1, 3, 32, 32)},
      {"alexnet_b1", "zoo:alexnet", "", img(1, 3, 67, 67)},
      {"inception_bn_b2", "zoo:inception-bn", "", img(2, 3, 28, 28)},
      // GoogLeNet's fixed 7x7 average pool needs at least 253x253.
      {"googlenet_b1", "zoo:googlenet", "", img(1, 3, 253, 253)},
      {"mlp08_b2", "mlp-v0.8-symbol.json", "", {{"data", {2, 784}}}},
      {"pnet08_b1", "pnet-v0.8-symbol.json", "pnet-v0.8-0001.params", img(1, 3, 12, 12)},
      {"pnet08_b2", "pnet-v0.8-symbol.json", "pnet-v0.8-0001.params", img(2, 3, 24, 20)},
      {"reshapefc094_b4", "reshape-fc-v0.9.4-symbol.json", "reshape-fc-v0.9.4-0001.params",
       {{"data", {4, 1}}, {"softmax_label", {4}}}},
  };
}

INSTANTIATE_TEST_SUITE_P(Models, JitModelTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.label;
                         });

} // namespace
