//===- ExecutorEndToEndTest.cpp - Outline + plan + execute vs interpreter --===//
//
// Graph functions go through buildExecutable() (outlining, memory planning,
// plan building) and run on PlanExecutor with "reference kernels": each
// outlined kernel function executed by the interpreter. Results must equal
// the interpreter run on the whole original function, under every memory
// strategy: a wrong plan (two live tensors in the same bytes) would corrupt
// values here.
//
// KernelFn is a plain function pointer, so the test binds interpreter calls
// to a fixed table of trampolines; production code stays free of closures.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Executable.h"
#include "Graph/GraphOps.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/MemoryPlan.h"
#include "runtime/engine/Engine.h"

#include "kiln/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <mutex>
#include <random>

using namespace kiln;

namespace {

mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<graph::GraphDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

mlir::OwningOpRef<mlir::ModuleOp> parse(const std::string &src) {
  auto m = mlir::parseSourceString<mlir::ModuleOp>(src, &context());
  if (!m)
    throw std::runtime_error("test IR does not parse:\n" + src);
  return m;
}

//===----------------------------------------------------------------------===//
// Reference kernels behind plain function pointers
//===----------------------------------------------------------------------===//

std::vector<std::function<void(void **)>> gRefKernels;
std::mutex gRefMutex;

template <size_t I> void trampoline(void **buffers) { gRefKernels.at(I)(buffers); }
template <size_t... I>
constexpr std::array<KernelFn, sizeof...(I)> makeTrampolines(std::index_sequence<I...>) {
  return {&trampoline<I>...};
}
constexpr size_t kMaxKernels = 256;
const auto kTrampolines = makeTrampolines(std::make_index_sequence<kMaxKernels>{});

std::vector<int64_t> shapeOf(mlir::Type t) {
  auto s = mlir::cast<mlir::RankedTensorType>(t).getShape();
  return {s.begin(), s.end()};
}

/// Runs kernel `f` through the interpreter on packed buffers (f32 / f64).
/// All inputs are read before any output is written, so in-place aliasing
/// is fine, as it must be for real kernels too.
void runRefKernel(mlir::func::FuncOp f, void **buffers) {
  std::lock_guard<std::mutex> lock(gRefMutex); // one MLIRContext for all threads
  mlir::FunctionType type = f.getFunctionType();
  std::vector<ref::Array> args;
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    ref::Array a;
    a.shape = shapeOf(type.getInput(i));
    a.data.resize(a.size());
    bool f64 = mlir::cast<mlir::ShapedType>(type.getInput(i)).getElementType().isF64();
    for (int64_t k = 0; k < a.size(); ++k)
      a.data[k] = f64 ? static_cast<double *>(buffers[i])[k] : static_cast<float *>(buffers[i])[k];
    args.push_back(std::move(a));
  }
  ref::Result r = ref::run(f, args);
  for (unsigned j = 0; j < type.getNumResults(); ++j) {
    void *out = buffers[type.getNumInputs() + j];
    bool f64 = mlir::cast<mlir::ShapedType>(type.getResult(j)).getElementType().isF64();
    for (size_t k = 0; k < r.outputs[j].data.size(); ++k) {
      if (f64)
        static_cast<double *>(out)[k] = r.outputs[j].data[k];
      else
        static_cast<float *>(out)[k] = static_cast<float>(r.outputs[j].data[k]);
    }
  }
}

/// A lookup over `kernels` (the extracted kernel module) for makePlanExecutor.
KernelLookup refLookup(mlir::ModuleOp kernels) {
  gRefKernels.clear();
  return [kernels](const std::string &name) mutable -> KernelFn {
    auto f = kernels.lookupSymbol<mlir::func::FuncOp>(name);
    if (!f || gRefKernels.size() == kMaxKernels)
      return nullptr;
    gRefKernels.push_back([f](void **b) { runRefKernel(f, b); });
    return kTrampolines[gRefKernels.size() - 1];
  };
}

rt::Engine &engine() {
  static rt::Engine e([] {
    rt::EngineOptions o;
    o.cpuWorkers = 3;
    o.numThreads = 3;
    return o;
  }());
  return e;
}

//===----------------------------------------------------------------------===//
// Compare against the interpreter
//===----------------------------------------------------------------------===//

struct Outcome {
  exec::Plan plan;
  int64_t executorArena = 0;
  MemoryReport report;
};

/// Compiles `src` with `strategy`, runs it on random inputs through the
/// executor (twice, to exercise arena reuse) and compares every output with
/// the interpreter on the original function.
Outcome checkAgainstInterpreter(const std::string &src, MemoryStrategy strategy,
                                unsigned seed = 1) {
  auto original = parse(src);
  auto module = parse(src);
  auto main = original->lookupSymbol<mlir::func::FuncOp>("main");

  ExecutableOptions opts;
  opts.memory.strategy = strategy;
  // The hand-computed plans are of the unfused graphs.
  opts.fuse = false;
  CompiledModel cm = buildExecutable(*module, opts);
  Outcome out;
  out.plan = cm.plan;
  auto report = computeMemoryReport(module->lookupSymbol<mlir::func::FuncOp>("main"), opts.memory);
  EXPECT_TRUE(mlir::succeeded(report));
  out.report = *report;
  auto ex = makePlanExecutor(cm.plan, refLookup(*cm.kernels), &engine());
  out.executorArena = ex->arenaBytes();

  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  for (int round = 0; round < 2; ++round) {
    // Arguments in function order, split into the plan's inputs/params.
    std::vector<ref::Array> args;
    std::vector<std::vector<float>> argData;
    for (mlir::Type t : main.getFunctionType().getInputs()) {
      ref::Array a;
      a.shape = shapeOf(t);
      a.data.resize(a.size());
      std::vector<float> f(a.size());
      for (int64_t k = 0; k < a.size(); ++k)
        a.data[k] = f[k] = (float)dist(rng);
      args.push_back(std::move(a));
      argData.push_back(std::move(f));
    }
    ref::Result expected = ref::run(main, args);

    std::vector<const void *> inputs, params;
    unsigned argIndex = 0;
    for (mlir::BlockArgument arg : main.getArguments()) {
      auto kind = main.getArgAttrOfType<mlir::StringAttr>(arg.getArgNumber(), "graph.kind");
      bool isParam = kind && (kind.getValue() == "param" || kind.getValue() == "aux");
      (isParam ? params : inputs).push_back(argData[argIndex++].data());
    }
    std::vector<std::vector<float>> outData;
    std::vector<void *> outputs;
    for (uint32_t s : cm.plan.outputSlots)
      outData.emplace_back(cm.plan.slots[s].bytes / 4, -12345.f);
    for (auto &o : outData)
      outputs.push_back(o.data());
    ex->run(inputs, params, outputs);

    EXPECT_EQ(outData.size(), expected.outputs.size());
    for (size_t j = 0; j < outData.size() && j < expected.outputs.size(); ++j) {
      EXPECT_EQ(outData[j].size(), expected.outputs[j].data.size());
      int bad = 0;
      for (size_t k = 0; k < outData[j].size() && bad < 5; ++k) {
        double want = expected.outputs[j].data[k];
        bool near = std::abs(outData[j][k] - want) <= 1e-4 * (1 + std::abs(want));
        bad += !near;
        EXPECT_TRUE(near) << memoryStrategyName(strategy) << " output " << j << " element " << k
                          << " round " << round << ": got " << outData[j][k] << ", want "
                          << want;
      }
    }
  }
  return out;
}

const MemoryStrategy kAll[] = {MemoryStrategy::Naive, MemoryStrategy::InPlace,
                               MemoryStrategy::CoShare, MemoryStrategy::Both};

const char *kChain = R"mlir(
func.func @main(%x: tensor<8x8xf32> {graph.name = "data", graph.kind = "input"},
                %w: tensor<4x8xf32> {graph.name = "fc_weight", graph.kind = "param"},
                %bias: tensor<4xf32> {graph.name = "fc_bias", graph.kind = "param"})
    -> (tensor<8x4xf32> {graph.name = "out"}) {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<8x8xf32>) -> tensor<8x8xf32> loc("a")
  %b = graph.activation %a {act_type = #graph.act_type<tanh>} : (tensor<8x8xf32>) -> tensor<8x8xf32> loc("b")
  %c = graph.fully_connected %b, %w, %bias {num_hidden = 4 : i64}
      : (tensor<8x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<8x4xf32> loc("c")
  %d = graph.activation %c {act_type = #graph.act_type<sigmoid>} : (tensor<8x4xf32>) -> tensor<8x4xf32> loc("d")
  %e = graph.activation %d {act_type = #graph.act_type<relu>} : (tensor<8x4xf32>) -> tensor<8x4xf32> loc("e")
  return %e : tensor<8x4xf32>
}
)mlir";

} // namespace

TEST(ExecutorEndToEnd, ChainUnderEveryStrategy) {
  // Hand-computed in PlanMemoryTest: 768 / 384 / 512 / 384.
  const int64_t arena[] = {768, 384, 512, 384};
  for (int i = 0; i < 4; ++i) {
    Outcome o = checkAgainstInterpreter(kChain, kAll[i]);
    EXPECT_EQ(o.plan.arenaBytes, arena[i]) << memoryStrategyName(kAll[i]);
    EXPECT_EQ(o.executorArena, arena[i]);
    EXPECT_EQ(o.report.naive, 768);
    EXPECT_EQ(o.report.both, 384);
  }
}

TEST(ExecutorEndToEnd, PlanStructure) {
  auto module = parse(kChain);
  ExecutableOptions unfused;
  unfused.fuse = false; // the structure below is one step per op
  CompiledModel cm = buildExecutable(*module, unfused);
  const exec::Plan &p = cm.plan;
  ASSERT_EQ(p.steps.size(), 5u);
  EXPECT_EQ(p.kernelNames.size(), 5u);
  EXPECT_EQ(p.inputSlots.size(), 1u);
  EXPECT_EQ(p.paramSlots.size(), 2u);
  EXPECT_EQ(p.slots[p.inputSlots[0]].name, "data");
  EXPECT_EQ(p.slots[p.paramSlots[1]].name, "fc_bias");
  EXPECT_EQ(p.slots[p.outputSlots[0]].name, "out");
  EXPECT_EQ(p.steps[2].opName, "graph.fully_connected");
  EXPECT_EQ(p.steps[2].nodeName, "c");
  EXPECT_EQ(p.steps[2].numInputs, 3u);
  // b was written in place over a: step 1 writes a's storage and reads none
  // of the arena.
  EXPECT_EQ(p.slots[p.steps[1].args[0]].storage, p.slots[p.steps[1].args[1]].storage);
  EXPECT_EQ(p.steps[1].reads.size(), 0u);
  EXPECT_EQ(p.steps[1].writes.size(), 1u);
  // The kernel module holds exactly the public kernel functions.
  unsigned n = 0;
  for (auto f : cm.kernels->getOps<mlir::func::FuncOp>()) {
    EXPECT_TRUE(f.isPublic());
    EXPECT_TRUE(f->hasAttr("kiln.kernel"));
    ++n;
  }
  EXPECT_EQ(n, 5u);
  // The serialized plan is the same plan.
  exec::Plan q = exec::deserializePlan(exec::serializePlan(p));
  EXPECT_EQ(exec::serializePlan(q), exec::serializePlan(p));
}

// Diamond, a value both returned and read later, a split with two results,
// an argument returned unchanged and a result returned twice (both get a
// graph.identity so each output has one writer).
TEST(ExecutorEndToEnd, DiamondOutputsAndSplit) {
  const char *src = R"mlir(
func.func @main(%x: tensor<4x16xf32>, %y: tensor<4x16xf32>)
    -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %a = graph.activation %x {act_type = #graph.act_type<tanh>} : (tensor<4x16xf32>) -> tensor<4x16xf32> loc("a")
  %b = graph.activation %a {act_type = #graph.act_type<sigmoid>} : (tensor<4x16xf32>) -> tensor<4x16xf32> loc("b")
  %c = graph.elemwise_add %a, %b : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32> loc("c")
  %d = graph.elemwise_mul %c, %y : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32> loc("d")
  %s0, %s1 = graph.split %d {num_outputs = 2 : i64} : (tensor<4x16xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) loc("s")
  %e = graph.elemwise_sub %s0, %s1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> loc("e")
  %f = graph.activation %d {act_type = #graph.act_type<relu>} : (tensor<4x16xf32>) -> tensor<4x16xf32> loc("f")
  return %d, %f, %e, %x, %f : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}
)mlir";
  for (MemoryStrategy s : kAll) {
    Outcome o = checkAgainstInterpreter(src, s, 7);
    EXPECT_EQ(o.executorArena, o.plan.arenaBytes);
  }
}

TEST(ExecutorEndToEnd, ConstantsBecomePlanData) {
  auto module = parse(R"mlir(
func.func @main(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %c = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("c")
  %y = graph.elemwise_add %x, %c : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32> loc("y")
  return %y : tensor<2x2xf32>
}
)mlir");
  CompiledModel cm = buildExecutable(*module);
  ASSERT_EQ(cm.plan.constants.size(), 1u);
  EXPECT_EQ(cm.plan.constants[0].name, "c");
  std::vector<float> c(4);
  std::memcpy(c.data(), cm.plan.constants[0].data.data(), 16);
  EXPECT_EQ(c, (std::vector<float>{1, 2, 3, 4}));
  auto ex = makePlanExecutor(cm.plan, refLookup(*cm.kernels), &engine());
  std::vector<float> x = {10, 20, 30, 40}, y(4);
  ex->run({x.data()}, {}, {y.data()});
  EXPECT_EQ(y, (std::vector<float>{11, 22, 33, 44}));
}

// Random DAGs of elementwise ops and FCs (so sizes vary), some
// intermediates also returned, under every strategy.
TEST(ExecutorEndToEnd, RandomGraphsMatchTheInterpreter) {
  std::mt19937 rng(99);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int g = 0; g < 40; ++g) {
    // Values of two shapes: 4x16 (class 0) and 4x8 (class 1).
    std::vector<std::pair<std::string, int>> vals = {{"%x0", 0}, {"%x1", 0}};
    std::string body;
    auto ty = [](int c) { return c ? std::string("tensor<4x8xf32>") : "tensor<4x16xf32>"; };
    int n = pick(4, 14);
    for (int i = 0; i < n; ++i) {
      std::string name = "%v" + std::to_string(i);
      int back = std::min<int>(vals.size() - 1, pick(0, 3));
      auto [src, cls] = vals[vals.size() - 1 - back];
      int kind = pick(0, 4);
      std::string loc = " loc(\"n" + std::to_string(i) + "\")\n";
      if (kind == 0 && cls == 0) {
        body += "  " + name + " = graph.fully_connected " + src +
                ", %w {num_hidden = 8 : i64, flatten = false} : (tensor<4x16xf32>, "
                "tensor<8x16xf32>) -> tensor<4x8xf32>" + loc;
        cls = 1;
      } else if (kind <= 2) {
        // Binary with another value of the same shape.
        std::vector<std::string> same;
        for (auto &v : vals)
          if (v.second == cls)
            same.push_back(v.first);
        std::string other = same[pick(0, same.size() - 1)];
        const char *op = kind == 1 ? "elemwise_add" : "elemwise_mul";
        body += "  " + name + " = graph." + op + " " + src + ", " + other + " : (" + ty(cls) +
                ", " + ty(cls) + ") -> " + ty(cls) + loc;
      } else {
        const char *act = kind == 3 ? "tanh" : "sigmoid";
        body += "  " + name + " = graph.activation " + src + " {act_type = #graph.act_type<" +
                act + ">} : (" + ty(cls) + ") -> " + ty(cls) + loc;
      }
      vals.push_back({name, cls});
    }
    // Return the last value and one random earlier intermediate.
    auto last = vals.back(), extra = vals[pick(2, vals.size() - 1)];
    std::string src = "func.func @main(%x0: tensor<4x16xf32>, %x1: tensor<4x16xf32>, "
                      "%w: tensor<8x16xf32> {graph.kind = \"param\"}) -> (" +
                      ty(last.second) + ", " + ty(extra.second) + ") {\n" + body +
                      "  return " + last.first + ", " + extra.first + " : " + ty(last.second) +
                      ", " + ty(extra.second) + "\n}\n";
    SCOPED_TRACE(src);
    int64_t bytes[4];
    for (int s = 0; s < 4; ++s) {
      Outcome o = checkAgainstInterpreter(src, kAll[s], g);
      bytes[s] = o.plan.arenaBytes;
      EXPECT_EQ(o.executorArena, o.plan.arenaBytes);
      const int64_t reported[4] = {o.report.naive, o.report.inplace, o.report.coshare,
                                   o.report.both};
      EXPECT_EQ(reported[s], o.plan.arenaBytes) << "the report must be the plan that runs";
    }
    EXPECT_LE(bytes[3], bytes[2]);
    EXPECT_LE(bytes[2], bytes[0]);
    if (HasFailure())
      break;
  }
}

TEST(ExecutorEndToEnd, Errors) {
  auto module = parse(kChain);
  CompiledModel cm = buildExecutable(*module);
  std::string msg;
  try {
    makePlanExecutor(cm.plan, [](const std::string &) -> KernelFn { return nullptr; });
  } catch (const Error &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("no compiled entry for kernel 'kiln_kernel_0'"), std::string::npos) << msg;

  // Not outlined: buildExecutablePlan refuses and says what to run.
  auto raw = parse(kChain);
  msg.clear();
  try {
    buildExecutablePlan(*raw);
  } catch (const Error &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("node 'a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run kiln-outline-kernels first"), std::string::npos) << msg;

  // Dynamic shapes: outlining fails and the diagnostic reaches the message.
  auto dyn = parse(R"mlir(
func.func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<?x4xf32>) -> tensor<?x4xf32> loc("a")
  return %a : tensor<?x4xf32>
}
)mlir");
  msg.clear();
  try {
    buildExecutable(*dyn);
  } catch (const Error &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("not a static tensor"), std::string::npos) << msg;
}
