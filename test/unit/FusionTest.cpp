//===- FusionTest.cpp - kiln-graph-fuse through the real JIT --------------===//
//
// Zoo networks compiled twice, with and without kiln-graph-fuse, outlined
// and planned by buildExecutable(), their kernels JIT-compiled by
// CPUJit::compile and run by the plan executor: both must match the
// reference interpreter (rtol 1e-4, atol 1e-5), and fusion must give fewer
// kernels, fewer arena tensors and no larger arena. Also checks the grouping
// on the networks' structure (every conv's BatchNorm and ReLU fused into it).
//
//===----------------------------------------------------------------------===//

#include "Compiler/Driver.h"
#include "Compiler/Executable.h"
#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "Target/CPU/JIT.h"
#include "Target/CPU/Pipeline.h"
#include "Transforms/Fusion.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

using namespace kiln;

namespace {

mlir::MLIRContext &context() { return kiln::cpu::cpuPipelineContext(); }

struct Compiled {
  std::vector<std::vector<float>> outputs;
  size_t numKernels = 0;
  size_t numArenaSlots = 0;
  int64_t arenaBytes = 0;
  int64_t naiveBytes = 0;
  FusionStats stats;
};

/// buildExecutable + CPUJit + PlanExecutor on a copy of `model`'s module.
Compiled compileAndRun(const LoadedModel &model, const std::vector<Tensor> &args, bool fuse) {
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::cast<mlir::ModuleOp>(model.module.get()->clone());
  auto main = module->lookupSymbol<mlir::func::FuncOp>("main");
  Compiled c;
  if (fuse)
    c.stats = fuseGraph(main);
  // buildExecutable would fuse by itself; the groups (or their absence) are
  // decided above.
  ExecutableOptions options;
  options.fuse = false;
  // What the naive strategy would need: the sum of every arena tensor.
  {
    mlir::OwningOpRef<mlir::ModuleOp> naive = module->clone();
    ExecutableOptions o = options;
    o.memory.strategy = MemoryStrategy::Naive;
    c.naiveBytes = buildExecutable(*naive, o).plan.arenaBytes;
  }
  CompiledModel cm = buildExecutable(*module, options);
  c.numKernels = cm.plan.kernelNames.size();
  c.arenaBytes = cm.plan.arenaBytes;
  for (const exec::Slot &s : cm.plan.slots)
    c.numArenaSlots += cm.plan.storages[s.storage].kind == exec::SlotKind::Arena;

  auto jit = cpu::CPUJit::compile(*cm.kernels);
  if (!jit)
    throw Error("JIT failed: " + llvm::toString(jit.takeError()));
  std::shared_ptr<const cpu::CompiledModule> kernels = *jit;
  auto ex = makePlanExecutor(cm.plan, [&](const std::string &name) { return kernels->lookup(name); });

  std::vector<const void *> inputs, params;
  for (size_t i = 0; i < model.args.size(); ++i)
    (model.args[i].kind == ModelArg::Input ? inputs : params).push_back(args[i].values.data());
  std::vector<void *> outs;
  for (uint32_t slot : cm.plan.outputSlots) {
    c.outputs.emplace_back(Tensor::numElements(cm.plan.slots[slot].shape), -777.0f);
    outs.push_back(c.outputs.back().data());
  }
  ex->run(inputs, params, outs);
  // A second run on the same arena gives the same answer.
  std::vector<std::vector<float>> first = c.outputs;
  ex->run(inputs, params, outs);
  EXPECT_EQ(first, c.outputs);
  return c;
}

void expectClose(const std::vector<float> &got, const ref::Array &want, const char *what) {
  ASSERT_EQ(got.size(), want.data.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want.data[i]) <= 1e-5 + 1e-4 * std::fabs(want.data[i])) && bad++ < 5)
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", want " << want.data[i];
  EXPECT_EQ(bad, 0u) << what;
}

struct Case {
  std::string name;
  std::vector<int64_t> data;
};

class FusionZoo : public ::testing::TestWithParam<Case> {};

TEST_P(FusionZoo, FusedAndUnfusedMatchTheInterpreter) {
  const Case &c = GetParam();
  LoadedModel model = loadModel(context(), "zoo:" + c.name, "", {{"data", c.data}});
  std::vector<Tensor> args = driver::bindParameters(model, /*randomSeed=*/7);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < model.args.size(); ++i) {
    if (model.args[i].kind != ModelArg::Input)
      continue;
    args[i] = Tensor(model.args[i].shape);
    for (float &v : args[i].values)
      v = model.args[i].name == "data" ? dist(rng) : 1.0f;
  }
  // Non-trivial BatchNorm statistics and betas, so a wrongly fused (or
  // skipped) BatchNorm changes the answer.
  std::uniform_real_distribution<float> pos(0.5f, 1.5f), small(-0.2f, 0.2f);
  for (size_t i = 0; i < model.args.size(); ++i) {
    const std::string &n = model.args[i].name;
    auto ends = [&](const std::string &s) {
      return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (ends("moving_var") || ends("gamma"))
      for (float &v : args[i].values)
        v = pos(rng);
    else if (ends("moving_mean") || ends("beta") || ends("bias"))
      for (float &v : args[i].values)
        v = small(rng);
  }
  ref::Result want = ref::run(model.mainFunc(), ref::fromTensors(args));

  Compiled unfused = compileAndRun(model, args, /*fuse=*/false);
  Compiled fused = compileAndRun(model, args, /*fuse=*/true);
  ASSERT_EQ(unfused.outputs.size(), want.outputs.size());
  ASSERT_EQ(fused.outputs.size(), want.outputs.size());
  for (size_t i = 0; i < want.outputs.size(); ++i) {
    expectClose(unfused.outputs[i], want.outputs[i], "unfused");
    expectClose(fused.outputs[i], want.outputs[i], "fused");
  }

  EXPECT_GT(fused.stats.numFusedOps, 0u);
  EXPECT_EQ(fused.numKernels + fused.stats.numFusedOps, unfused.numKernels)
      << "every fused op removes exactly one kernel";
  EXPECT_LT(fused.numKernels, unfused.numKernels);
  EXPECT_LT(fused.numArenaSlots, unfused.numArenaSlots);
  EXPECT_LT(fused.naiveBytes, unfused.naiveBytes);
  EXPECT_LE(fused.arenaBytes, unfused.arenaBytes);
  std::cout << "[ fusion ] " << c.name << ": kernels " << unfused.numKernels << " -> "
            << fused.numKernels << ", arena tensors " << unfused.numArenaSlots << " -> "
            << fused.numArenaSlots << ", arena bytes " << unfused.arenaBytes << " -> "
            << fused.arenaBytes << " (naive " << unfused.naiveBytes << " -> " << fused.naiveBytes
            << ")\n";
}

INSTANTIATE_TEST_SUITE_P(Zoo, FusionZoo,
                         ::testing::Values(Case{"lenet", {2, 1, 28, 28}},
                                           Case{"resnet18", {1, 3, 32, 32}}),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name;
                         });

/// The groups on ResNet-18's structure: every convolution's BatchNorm (and
/// the ReLU after it, if any) is in the convolution's group; no softmax,
/// pooling after the stem, or multi-use value is fused into anything.
TEST(Fusion, ResNetGroups) {
  LoadedModel model = loadModel(context(), "zoo:resnet18", "", {{"data", {1, 3, 32, 32}}});
  mlir::func::FuncOp main = model.mainFunc();
  FusionStats s = fuseGraph(main);
  EXPECT_GT(s.numGroups, 10u);
  unsigned convs = 0;
  main.walk([&](mlir::Operation *op) {
    auto group = op->getAttrOfType<mlir::IntegerAttr>(kFusionGroupAttr);
    if (mlir::isa<graph::SoftmaxOutputOp>(op)) {
      EXPECT_FALSE(group) << "softmax must not be fused";
    }
    for (mlir::Value r : op->getResults())
      if (!r.hasOneUse() && group) {
        // A value with several users ends its group: no user is in it.
        for (mlir::Operation *u : r.getUsers())
          EXPECT_NE(u->getAttr(kFusionGroupAttr), group) << "multi-use value fused";
      }
    if (!mlir::isa<graph::ConvolutionOp>(op))
      return;
    ++convs;
    mlir::Operation *user = op->hasOneUse() ? *op->getUsers().begin() : nullptr;
    if (user && mlir::isa<graph::BatchNormOp>(user)) {
      ASSERT_TRUE(group);
      EXPECT_EQ(user->getAttr(kFusionGroupAttr), group) << "conv + BN not fused";
    }
  });
  EXPECT_GT(convs, 16u);
  // Idempotent: running again gives the same groups.
  FusionStats again = fuseGraph(main);
  EXPECT_EQ(again.numGroups, s.numGroups);
  EXPECT_EQ(again.numFusedOps, s.numFusedOps);
}

/// A residual block written out by hand, with every chain in place: the
/// fused executable (whose kernels may overwrite their inputs) still matches
/// the interpreter, and the in-place hint reaches the plan.
TEST(Fusion, ResidualBlockThroughTheJit) {
  const char *src = R"mlir(
func.func @main(%x: tensor<1x4x6x6xf32> {graph.name = "data", graph.kind = "input"},
                %w: tensor<4x4x3x3xf32> {graph.name = "w", graph.kind = "param"},
                %g: tensor<4xf32> {graph.name = "g", graph.kind = "param"},
                %b: tensor<4xf32> {graph.name = "b", graph.kind = "param"},
                %mm: tensor<4xf32> {graph.name = "mm", graph.kind = "aux"},
                %mv: tensor<4xf32> {graph.name = "mv", graph.kind = "aux"},
                %bias: tensor<1x4x1x1xf32> {graph.name = "bias", graph.kind = "param"})
    -> tensor<1x4x6x6xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<tanh>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> loc("pre")
  %c = graph.convolution %a, %w {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, num_filter = 4 : i64}
      : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> loc("conv")
  %n = graph.batch_norm %c, %g, %b, %mm, %mv {fix_gamma = false, eps = 1.0e-5 : f64}
      : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32> loc("bn")
  %r = graph.activation %n {act_type = #graph.act_type<relu>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> loc("relu")
  %s = graph.elemwise_add %a, %r : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> loc("res")
  %t = graph.broadcast_add %s, %bias : (tensor<1x4x6x6xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x6x6xf32> loc("bias")
  %u = graph.mul_scalar %t {scalar = 0.5 : f64} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> loc("half")
  return %u : tensor<1x4x6x6xf32>
}
)mlir";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &context());
  ASSERT_TRUE(module);
  auto main = module->lookupSymbol<mlir::func::FuncOp>("main");
  ASSERT_TRUE(main);
  // tanh (2 users) alone; conv+bn+relu+add; the add's other operand is the
  // tanh, computed before, so the residual add and what follows join.
  FusionStats s = fuseGraph(main);
  EXPECT_EQ(s.numGroups, 1u);
  EXPECT_EQ(s.numFusedOps, 5u);

  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<Tensor> args;
  for (mlir::Type t : main.getArgumentTypes()) {
    auto shape = mlir::cast<mlir::RankedTensorType>(t).getShape();
    Tensor a(std::vector<int64_t>(shape.begin(), shape.end()));
    for (float &v : a.values)
      v = dist(rng);
    args.push_back(std::move(a));
  }
  for (float &v : args[5].values) // moving_var > 0
    v = std::fabs(v) + 0.5f;
  ref::Result want = ref::run(main, ref::fromTensors(args));

  CompiledModel cm = buildExecutable(*module);
  ASSERT_EQ(cm.plan.kernelNames.size(), 2u);
  EXPECT_EQ(cm.plan.steps[1].opName,
            "graph.convolution+graph.batch_norm+graph.activation+graph.elemwise_add+"
            "graph.broadcast_add+graph.mul_scalar");
  // Kernel 1 reads the tanh output (arena), the params and writes the
  // output: only one arena tensor in the whole plan.
  size_t arenaSlots = 0;
  for (const exec::Slot &sl : cm.plan.slots)
    arenaSlots += cm.plan.storages[sl.storage].kind == exec::SlotKind::Arena;
  EXPECT_EQ(arenaSlots, 1u);
  auto jit = cpu::CPUJit::compile(*cm.kernels);
  ASSERT_TRUE(bool(jit)) << llvm::toString(jit.takeError());
  auto ex = makePlanExecutor(cm.plan, [&](const std::string &n) { return (*jit)->lookup(n); });
  std::vector<const void *> inputs{args[0].values.data()}, params;
  for (size_t i = 1; i < args.size(); ++i)
    params.push_back(args[i].values.data());
  std::vector<float> out(144, -1.0f);
  std::vector<void *> outs{out.data()};
  ex->run(inputs, params, outs);
  expectClose(out, want.outputs[0], "residual block");
}

/// In-place hints of fused kernels: a chain in place all the way may
/// overwrite its input; a convolution on the path, or the input read twice
/// in the group, forbid it.
TEST(Fusion, InPlaceHintsOfGroups) {
  const char *src = R"mlir(
func.func @main(%x: tensor<2x8xf32>, %w: tensor<8x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %0 = graph.mul_scalar %x {scalar = 2.0 : f64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = graph.activation %0 {act_type = #graph.act_type<relu>} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %2 = graph.plus_scalar %1 {scalar = 1.0 : f64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = graph.fully_connected %2, %w {num_hidden = 8 : i64} : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %4 = graph.activation %3 {act_type = #graph.act_type<sigmoid>} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %5 = graph.activation %4 {act_type = #graph.act_type<relu>} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %6 = graph.elemwise_mul %5, %4 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %7 = graph.activation %6 {act_type = #graph.act_type<tanh>} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %8 = graph.elemwise_add %7, %7 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %2, %4, %8 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}
)mlir";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &context());
  ASSERT_TRUE(module);
  auto main = module->lookupSymbol<mlir::func::FuncOp>("main");
  fuseGraph(main);
  // %2 is returned and read by the FC: [mul, relu, plus] ends there. FC +
  // sigmoid (%4: two users). [relu, mul, tanh, add].
  std::map<std::string, std::vector<int64_t>> hints;
  CompiledModel cm = buildExecutable(*module);
  for (auto f : module->getOps<mlir::func::FuncOp>())
    if (f->hasAttr("kiln.kernel"))
      hints[f->getAttrOfType<mlir::StringAttr>("kiln.op_name").getValue().str()] =
          std::vector<int64_t>(f->getAttrOfType<mlir::DenseI64ArrayAttr>("kiln.inplace").asArrayRef());
  EXPECT_EQ(hints["graph.mul_scalar+graph.activation+graph.plus_scalar"], (std::vector<int64_t>{0}));
  EXPECT_EQ(hints["graph.fully_connected+graph.activation"], (std::vector<int64_t>{-1}));
  // %4 is read by the relu and by the multiply: not in place.
  EXPECT_EQ(hints["graph.activation+graph.elemwise_mul+graph.activation+graph.elemwise_add"],
            (std::vector<int64_t>{-1}));
  EXPECT_EQ(hints.size(), 3u);
}

} // namespace
