//===- ZooRoundTripTest.cpp - Every zoo network survives export -----------===//
//
// Issue 2's promise: every zoo network exports to MXNet JSON and re-imports to
// an identical graph with identical reference-interpreter outputs. Input
// sizes are the smallest each network's MXNet definition accepts, so the
// interpreter (plain loops) stays fast enough for CI.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Driver.h"
#include "Import/Import.h"
#include "Import/MXNetGraph.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "kiln/Error.h"
#include "kiln/Zoo.h"

#include "Graph/GraphOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <random>

using namespace kiln;

namespace {

std::string print(mlir::ModuleOp m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os);
  return s;
}

struct Case {
  std::string name;
  std::vector<int64_t> data;
  /// Interpreting the largest networks twice adds minutes for no extra
  /// coverage once their IR is identical; they are still interpreted once.
  bool interpretBoth;
};

class ZooRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ZooRoundTrip, ExportImportIsIdentical) {
  const Case &c = GetParam();
  mlir::MLIRContext ctx;
  ctx.loadDialect<graph::GraphDialect>();
  std::map<std::string, std::vector<int64_t>> inputs = {{"data", c.data}};
  LoadedModel model = loadModel(ctx, "zoo:" + c.name, "", inputs);

  // Through MXNet's on-disk format and back.
  mx::Graph exported = exportGraph(model.mainFunc());
  std::string json = mx::writeSymbolJSON(exported);
  mx::Graph parsed = mx::parseSymbolJSON(json, c.name + "-symbol.json");
  ImportOptions options;
  options.fileName = c.name + "-symbol.json";
  options.inputShapes = inputs;
  mlir::OwningOpRef<mlir::ModuleOp> again = importGraph(ctx, parsed, options);
  ASSERT_EQ(print(*again), print(*model.module));

  // Same seeded parameters and data for both.
  std::vector<Tensor> args = driver::bindParameters(model, /*randomSeed=*/11);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (size_t i = 0; i < model.args.size(); ++i) {
    if (model.args[i].kind != ModelArg::Input)
      continue;
    args[i] = Tensor(model.args[i].shape);
    for (float &v : args[i].values)
      v = model.args[i].name == "data" ? dist(rng) : 1.0f;
  }
  std::vector<ref::Array> refArgs = ref::fromTensors(args);
  ref::Result first = ref::run(model.mainFunc(), refArgs);
  ASSERT_EQ(first.outputs.size(), 1u);
  // A 10-way softmax per sample: finite, rows sum to one.
  const ref::Array &p = first.outputs[0];
  ASSERT_EQ(p.shape, (std::vector<int64_t>{c.data[0], 10}));
  for (int64_t n = 0; n < c.data[0]; ++n) {
    double sum = 0;
    for (int64_t k = 0; k < 10; ++k) {
      ASSERT_TRUE(std::isfinite(p.data[n * 10 + k]));
      sum += p.data[n * 10 + k];
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  if (!c.interpretBoth)
    return;
  auto reimported = *again->getOps<mlir::func::FuncOp>().begin();
  ref::Result second = ref::run(reimported, refArgs);
  ASSERT_EQ(second.outputs.size(), 1u);
  EXPECT_EQ(second.outputs[0].data, first.outputs[0].data);
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, ZooRoundTrip,
    ::testing::Values(Case{"mlp", {2, 1, 28, 28}, true}, Case{"lenet", {2, 1, 28, 28}, true},
                      Case{"resnet18", {1, 3, 32, 32}, true},
                      Case{"resnet50", {1, 3, 64, 64}, true},
                      Case{"vgg16", {1, 3, 32, 32}, true},
                      Case{"alexnet", {1, 3, 67, 67}, true},
                      Case{"inception-bn", {1, 3, 28, 28}, true},
                      // GoogLeNet's final 7x7 average pool needs 253 pixels.
                      Case{"googlenet", {1, 3, 253, 253}, false}),
    [](const ::testing::TestParamInfo<Case> &info) {
      std::string n = info.param.name;
      for (char &ch : n)
        if (!isalnum(static_cast<unsigned char>(ch)))
          ch = '_';
      return n;
    });

} // namespace
