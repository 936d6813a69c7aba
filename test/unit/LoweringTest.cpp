//===- LoweringTest.cpp - CPU lowering against the reference interpreter ---===//
//
// Every case is a function of graph ops with unranked results; shape
// inference fills the shapes, the function goes through the real CPU
// pipeline and JIT, its packed entry runs on random inputs, and each result
// is compared with kiln::ref::run on the same inputs (rtol 1e-4, atol 1e-5).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"
#include "Interpreter/Interpreter.h"
#include "Target/CPU/JIT.h"
#include "Target/CPU/Pipeline.h"
#include "Transforms/Passes.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace mlir;
using kiln::cpu::CPUJit;
using kiln::cpu::KernelFn;
using Shape = std::vector<int64_t>;

namespace {

MLIRContext &context() { return kiln::cpu::cpuPipelineContext(); }

std::string tt(const Shape &s) {
  std::string r = "tensor<";
  for (int64_t d : s)
    r += std::to_string(d) + "x";
  return r + "f32>";
}

/// Range of the random values of one argument.
struct Range {
  double lo = -1, hi = 1;
};

/// Accepted |compiled - interpreter| = abs + rel·|interpreter|.
struct Tolerance {
  double abs = 1e-5, rel = 1e-4;
};

/// func @main(args) { %0 = graph.<op> args {attrs}; return } with unranked
/// results (shape inference fills them).
std::string single(const std::vector<Shape> &ins, const std::string &op,
                   const std::string &attrs, unsigned nres = 1) {
  std::string args, operands, types, rtypes, rets, rtys;
  for (size_t i = 0; i < ins.size(); ++i) {
    args += (i ? ", " : "") + std::string("%a") + std::to_string(i) + ": " + tt(ins[i]);
    operands += (i ? ", " : "") + std::string("%a") + std::to_string(i);
    types += (i ? ", " : "") + tt(ins[i]);
  }
  for (unsigned i = 0; i < nres; ++i) {
    rtypes += (i ? ", " : "") + std::string("tensor<*xf32>");
    rets += (i ? ", " : "") + std::string("%0") + (nres > 1 ? "#" + std::to_string(i) : "");
  }
  std::string res = nres > 1 ? "%0:" + std::to_string(nres) : "%0";
  return "func.func @main(" + args + ") -> (" + rtypes + ") {\n  " + res + " = graph." + op +
         " " + operands + (attrs.empty() ? "" : " {" + attrs + "}") + " : (" + types +
         ") -> (" + rtypes + ")\n  return " + rets + " : " + rtypes + "\n}\n";
}

OwningOpRef<ModuleOp> parse(const std::string &src) {
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(src, &context());
  if (!m)
    ADD_FAILURE() << "does not parse:\n" << src;
  return m;
}

/// Compiles and runs `fn` of `module` (after shape inference) and compares
/// with the interpreter. Returns false on a hard failure (already reported).
void checkFunction(ModuleOp module, const std::string &fnName,
                   const std::vector<Range> &ranges, unsigned seed, Tolerance tol = {}) {
  // The whole module is compiled, so every function needs its shapes.
  for (auto f : module.getOps<func::FuncOp>())
    ASSERT_TRUE(succeeded(kiln::inferFunctionShapes(f)));
  auto fn = module.lookupSymbol<func::FuncOp>(fnName);
  ASSERT_TRUE(fn) << "no function " << fnName;
  FunctionType ft = fn.getFunctionType();

  std::mt19937 gen(seed);
  std::vector<kiln::ref::Array> args;
  std::vector<std::vector<float>> buffers;
  for (unsigned i = 0; i < ft.getNumInputs(); ++i) {
    auto t = cast<RankedTensorType>(ft.getInput(i));
    Range r = i < ranges.size() ? ranges[i] : Range();
    std::uniform_real_distribution<double> dist(r.lo, r.hi);
    kiln::ref::Array a;
    a.shape.assign(t.getShape().begin(), t.getShape().end());
    std::vector<float> buf(t.getNumElements());
    for (float &v : buf) {
      v = static_cast<float>(dist(gen));
      a.data.push_back(v);
    }
    args.push_back(std::move(a));
    buffers.push_back(std::move(buf));
  }
  kiln::ref::Result want;
  try {
    want = kiln::ref::run(fn, args);
  } catch (const kiln::Error &e) {
    FAIL() << "interpreter: " << e.what();
  }
  for (Type t : ft.getResults())
    buffers.emplace_back(cast<RankedTensorType>(t).getNumElements(), -12345.0f);

  auto compiled = CPUJit::compile(module);
  if (!compiled) {
    FAIL() << llvm::toString(compiled.takeError());
  }
  KernelFn k = (*compiled)->lookup(fnName);
  ASSERT_NE(k, nullptr) << "no packed entry for " << fnName;
  std::vector<void *> ptrs;
  for (auto &b : buffers)
    ptrs.push_back(b.data());
  k(ptrs.data());

  for (unsigned r = 0; r < ft.getNumResults(); ++r) {
    const std::vector<float> &got = buffers[ft.getNumInputs() + r];
    const kiln::ref::Array &w = want.outputs[r];
    ASSERT_EQ(got.size(), w.data.size());
    int bad = 0;
    for (size_t i = 0; i < got.size() && bad < 5; ++i) {
      double limit = tol.abs + tol.rel * std::abs(w.data[i]);
      bool ok = std::abs(got[i] - w.data[i]) <= limit ||
                (std::isnan(got[i]) && std::isnan(w.data[i]));
      if (!ok) {
        ++bad;
        ADD_FAILURE() << "result " << r << " at " << i << ": got " << got[i] << ", want "
                      << w.data[i];
      }
    }
  }
}

void check(const std::string &src, const std::vector<Range> &ranges = {}, unsigned seed = 1,
           Tolerance tol = {}) {
  SCOPED_TRACE(src);
  OwningOpRef<ModuleOp> m = parse(src);
  ASSERT_TRUE(m);
  checkFunction(*m, "main", ranges, seed, tol);
}

const Range pos{0.2, 2.0};

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

TEST(LoweringFC, Variants) {
  check(single({{2, 3, 4}, {5, 12}, {5}}, "fully_connected", "num_hidden = 5 : i64"));
  check(single({{2, 3, 4}, {5, 12}}, "fully_connected", "num_hidden = 5 : i64"));
  check(single({{2, 3, 4}, {5, 4}, {5}}, "fully_connected",
               "num_hidden = 5 : i64, flatten = false"));
  check(single({{7, 4}, {3, 4}, {3}}, "fully_connected", "num_hidden = 3 : i64"));
}

TEST(LoweringConv, Variants) {
  check(single({{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, "convolution",
               "kernel = array<i64: 3, 3>, num_filter = 4 : i64, pad = array<i64: 1, 1>"));
  check(single({{1, 2, 9, 8}, {3, 2, 3, 2}, {3}}, "convolution",
               "kernel = array<i64: 3, 2>, num_filter = 3 : i64, stride = array<i64: 2, 1>, "
               "dilate = array<i64: 2, 2>, pad = array<i64: 1, 2>"));
  check(single({{1, 4, 6, 6}, {6, 2, 3, 3}, {6}}, "convolution",
               "kernel = array<i64: 3, 3>, num_filter = 6 : i64, num_group = 2 : i64, "
               "stride = array<i64: 2, 2>, pad = array<i64: 1, 1>"));
  check(single({{1, 4, 6, 6}, {4, 1, 3, 3}}, "convolution",
               "kernel = array<i64: 3, 3>, num_filter = 4 : i64, num_group = 4 : i64"));
  check(single({{2, 3, 9}, {4, 3, 3}, {4}}, "convolution",
               "kernel = array<i64: 3>, num_filter = 4 : i64, stride = array<i64: 2>, "
               "pad = array<i64: 1>"));
  check(single({{1, 4, 9}, {2, 2, 3}}, "convolution",
               "kernel = array<i64: 3>, num_filter = 2 : i64, num_group = 2 : i64, "
               "dilate = array<i64: 2>"));
  check(single({{1, 2, 4, 4, 4}, {3, 2, 2, 2, 2}, {3}}, "convolution",
               "kernel = array<i64: 2, 2, 2>, num_filter = 3 : i64, pad = array<i64: 1, 0, 1>"));
}

TEST(LoweringDeconv, Variants) {
  check(single({{1, 4, 3, 3}, {4, 2, 3, 3}}, "deconvolution",
               "kernel = array<i64: 3, 3>, num_filter = 2 : i64, stride = array<i64: 2, 2>, "
               "pad = array<i64: 1, 1>, adj = array<i64: 1, 1>"));
  check(single({{2, 4, 3, 4}, {4, 1, 2, 2}, {2}}, "deconvolution",
               "kernel = array<i64: 2, 2>, num_filter = 2 : i64, num_group = 2 : i64, "
               "stride = array<i64: 2, 2>"));
  check(single({{1, 2, 4, 4}, {2, 3, 3, 3}}, "deconvolution",
               "kernel = array<i64: 3, 3>, num_filter = 3 : i64, dilate = array<i64: 2, 2>, "
               "pad = array<i64: 1, 0>"));
  check(single({{1, 2, 4, 4}, {2, 3, 1, 1}}, "deconvolution",
               "kernel = array<i64: 1, 1>, num_filter = 3 : i64, pad = array<i64: 1, 1>"));
  check(single({{2, 3, 5}, {3, 2, 4}, {2}}, "deconvolution",
               "kernel = array<i64: 4>, num_filter = 2 : i64, stride = array<i64: 3>, "
               "pad = array<i64: 2>"));
  check(single({{1, 2, 3, 3}, {2, 2, 4, 4}}, "deconvolution",
               "kernel = array<i64: 4, 4>, num_filter = 2 : i64, stride = array<i64: 2, 2>, "
               "target_shape = array<i64: 6, 7>"));
  check(single({{1, 2, 2, 3, 2}, {2, 2, 2, 2, 2}}, "deconvolution",
               "kernel = array<i64: 2, 2, 2>, num_filter = 2 : i64, stride = array<i64: 2, 1, 2>"));
}

TEST(LoweringPooling, Variants) {
  auto pool = [](const Shape &x, const std::string &attrs) {
    check(single({x}, "pooling", attrs));
  };
  pool({2, 3, 6, 6}, "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>");
  pool({1, 2, 7, 6}, "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
                     "pooling_convention = #graph.pooling_convention<full>");
  pool({1, 2, 7, 7}, "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>");
  pool({1, 2, 7, 7}, "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, "
                     "pool_type = #graph.pool_type<avg>");
  pool({1, 2, 7, 7}, "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, "
                     "pool_type = #graph.pool_type<avg>, count_include_pad = false");
  pool({1, 2, 6, 7}, "kernel = array<i64: 3, 2>, stride = array<i64: 2, 2>, pad = array<i64: 1, 0>, "
                     "pool_type = #graph.pool_type<avg>, "
                     "pooling_convention = #graph.pooling_convention<full>");
  pool({1, 2, 6, 7}, "kernel = array<i64: 3, 2>, stride = array<i64: 2, 2>, pad = array<i64: 1, 0>, "
                     "pool_type = #graph.pool_type<avg>, count_include_pad = false, "
                     "pooling_convention = #graph.pooling_convention<full>");
  pool({1, 3, 5, 5}, "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<sum>");
  pool({2, 3, 4, 5}, "global_pool = true");
  pool({2, 3, 4, 5}, "global_pool = true, pool_type = #graph.pool_type<avg>");
  pool({2, 3, 9}, "kernel = array<i64: 3>, stride = array<i64: 2>, pad = array<i64: 1>");
  pool({2, 3, 9}, "kernel = array<i64: 3>, stride = array<i64: 2>, "
                  "pool_type = #graph.pool_type<avg>, "
                  "pooling_convention = #graph.pooling_convention<full>, count_include_pad = false");
  pool({1, 2, 7}, "kernel = array<i64: 3>, stride = array<i64: 2>, "
                  "pooling_convention = #graph.pooling_convention<same>");
  pool({1, 2, 7}, "kernel = array<i64: 3>, stride = array<i64: 2>, pool_type = #graph.pool_type<avg>, "
                  "pooling_convention = #graph.pooling_convention<same>, count_include_pad = false");
  pool({1, 2, 4, 5, 4}, "kernel = array<i64: 2, 2, 2>, stride = array<i64: 2, 2, 2>, "
                        "pooling_convention = #graph.pooling_convention<full>");
  pool({1, 2, 4, 5, 4}, "kernel = array<i64: 2, 3, 2>, pad = array<i64: 1, 1, 0>, "
                        "pool_type = #graph.pool_type<avg>, count_include_pad = false");
  pool({1, 2, 5, 5}, "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<lp>");
  pool({1, 2, 5, 5}, "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<lp>, p_value = 1 : i64");
  check(single({{1, 2, 5, 5}}, "pooling",
               "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<lp>, p_value = 3 : i64"),
        {pos});
}

TEST(LoweringActivation, AllTypes) {
  for (const char *t : {"relu", "sigmoid", "tanh", "softrelu", "softsign"})
    check(single({{2, 3, 4}}, "activation", std::string("act_type = #graph.act_type<") + t + ">"),
          {{-5, 5}});
}

TEST(LoweringLeakyReLU, AllTypes) {
  check(single({{2, 3, 4}}, "leaky_relu", ""));
  check(single({{2, 3, 4}}, "leaky_relu", "slope = 1.000000e-01 : f32"));
  check(single({{2, 3, 4, 2}, {3}}, "leaky_relu", "act_type = #graph.leaky_act_type<prelu>"));
  for (const char *t : {"elu", "selu", "gelu", "rrelu"})
    check(single({{2, 3, 4}}, "leaky_relu",
                 std::string("act_type = #graph.leaky_act_type<") + t + ">"),
          {{-3, 3}});
}

TEST(LoweringBatchNorm, Variants) {
  std::vector<Range> r{{-1, 1}, {0.5, 1.5}, {-1, 1}, {-1, 1}, pos};
  check(single({{2, 3, 4, 4}, {3}, {3}, {3}, {3}}, "batch_norm", ""), r);
  check(single({{2, 3, 4, 4}, {3}, {3}, {3}, {3}}, "batch_norm",
               "fix_gamma = false, eps = 1.000000e-05 : f64"),
        r);
  check(single({{2, 5, 3}, {3}, {3}, {3}, {3}}, "batch_norm", "fix_gamma = false, axis = -1 : i64"),
        r);
  check(single({{4, 3}, {3}, {3}, {3}, {3}}, "batch_norm", "fix_gamma = false"), r);
}

TEST(LoweringLRN, Variants) {
  check(single({{2, 6, 3, 3}}, "lrn", "nsize = 3 : i64"));
  check(single({{1, 7, 2, 2}}, "lrn", "nsize = 5 : i64, alpha = 1.000000e-01 : f32, knorm = 1.0 : f32"));
  check(single({{1, 5, 3}}, "lrn", "nsize = 1 : i64, beta = 5.000000e-01 : f32"));
}

TEST(LoweringMisc, DropoutIdentityEmbedding) {
  check(single({{3, 4}}, "dropout", "p = 2.000000e-01 : f32"));
  check(single({{3, 4}}, "identity", ""));
  check(single({{2, 5}, {10, 4}}, "embedding", "input_dim = 10 : i64, output_dim = 4 : i64"),
        {{-2, 12}});
  check(single({{7}, {6, 3}}, "embedding", "input_dim = 6 : i64, output_dim = 3 : i64"),
        {{0, 6}});
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

TEST(LoweringSoftmax, Variants) {
  check(single({{2, 3, 4}, {2}}, "softmax_output", ""), {{-3, 3}});
  check(single({{2, 3, 4}, {2, 4}}, "softmax_output", "multi_output = true"), {{-3, 3}});
  check(single({{2, 3, 4}, {2, 3}}, "softmax_output", "preserve_shape = true"), {{-3, 3}});
  check(single({{4}, {4}}, "softmax_output", ""));
  check(single({{2, 3, 4}}, "softmax", ""), {{-3, 3}});
  check(single({{2, 3, 4}}, "softmax", "axis = 1 : i64, temperature = 2.000000e+00 : f64"),
        {{-3, 3}});
  check(single({{2, 3, 4}}, "log_softmax", "axis = 0 : i64"), {{-3, 3}});
  check(single({{2, 3, 4}}, "log_softmax", ""), {{-3, 3}});
  check(single({{2, 3, 4}}, "softmax_activation", ""), {{-3, 3}});
  check(single({{2, 3, 2, 2}}, "softmax_activation", "mode = #graph.softmax_mode<channel>"),
        {{-3, 3}});
  check(single({{4, 3}, {4, 3}}, "linear_regression_output", ""));
  check(single({{4, 3}, {4, 3}}, "logistic_regression_output", ""), {{-4, 4}});
  check(single({{4, 1}, {4}}, "mae_regression_output", ""));
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

TEST(LoweringShape, ReshapeFlattenTranspose) {
  check(single({{2, 3, 4}}, "flatten", ""));
  check(single({{5}}, "flatten", ""));
  check(single({{2, 3, 4}}, "reshape", "shape = array<i64: 0, -1>"));
  check(single({{2, 3, 4}}, "reshape", "shape = array<i64: -3, -2>"));
  check(single({{2, 6, 4}}, "reshape", "shape = array<i64: 0, -4, 2, -1, -2>"));
  check(single({{2, 3, 4}}, "reshape", "shape = array<i64: 4, 6>"));
  check(single({{2, 3, 4}}, "reshape", "shape = array<i64: 3, 8>"));
  check(single({{2, 3, 4}}, "reshape", "shape = array<i64: -1, 3>, reverse = true"));
  check(single({{2, 3, 4}}, "transpose", "axes = array<i64: 0, 2, 1>"));
  check(single({{2, 3, 4}}, "transpose", ""));
  check(single({{2, 3, 4, 5}}, "transpose", "axes = array<i64: 3, 1, 0, 2>"));
}

TEST(LoweringShape, ConcatSplit) {
  check(single({{2, 3}, {2, 5}, {2, 1}}, "concat", "dim = 1 : i64"));
  check(single({{1, 3, 2}, {4, 3, 2}}, "concat", "dim = 0 : i64"));
  check(single({{2, 3, 2}, {2, 3, 3}}, "concat", "dim = -1 : i64"));
  check(single({{2, 4, 3}}, "split", "num_outputs = 2 : i64", 2));
  check(single({{2, 3, 3}}, "split", "num_outputs = 3 : i64, axis = 2 : i64, squeeze_axis = true", 3));
  check(single({{6, 2}}, "split", "num_outputs = 3 : i64, axis = 0 : i64", 3));
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

TEST(LoweringArith, Elemwise) {
  for (const char *op : {"elemwise_add", "elemwise_sub", "elemwise_mul"})
    check(single({{2, 3}, {2, 3}}, op, ""));
  check(single({{2, 3}, {2, 3}}, "elemwise_div", ""), {{-1, 1}, pos});
  check(single({{4, 2}, {4, 2}, {4, 2}}, "add_n", ""));
  check(single({{4}}, "add_n", ""));
}

TEST(LoweringArith, Scalar) {
  for (const char *op : {"plus_scalar", "minus_scalar", "rminus_scalar", "mul_scalar",
                         "div_scalar", "maximum_scalar", "minimum_scalar"})
    check(single({{2, 3}}, op, "scalar = 2.500000e-01 : f64"));
  check(single({{2, 3}}, "rdiv_scalar", "scalar = 3.0 : f64"), {pos});
  check(single({{2, 3}}, "power_scalar", "scalar = 2.0 : f64"));
  check(single({{2, 3}}, "power_scalar", "scalar = 1.5 : f64"), {pos});
  // x^0.5 becomes a vector sqrt (kiln-cpu-approximate-math): lanes and tail.
  check(single({{5, 19}}, "power_scalar", "scalar = 5.000000e-01 : f64"), {pos});
  check(single({{2, 3}}, "rpower_scalar", "scalar = 3.0 : f64"));
}

TEST(LoweringArith, Broadcast) {
  for (const char *op : {"broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_maximum",
                         "broadcast_minimum"}) {
    check(single({{2, 3, 4}, {1, 3, 1}}, op, ""));
    check(single({{4}, {2, 3, 1}}, op, ""));
  }
  check(single({{2, 3, 4}, {3, 1}}, "broadcast_div", ""), {{-1, 1}, pos});
  check(single({{2, 1, 4}, {2, 3, 1}}, "broadcast_power", ""), {pos, {-2, 2}});
  check(single({{1, 3}}, "broadcast_to", "shape = array<i64: 4, 0>"));
  check(single({{2, 1, 1}}, "broadcast_to", "shape = array<i64: 2, 3, 4>"));
}

TEST(LoweringArith, Reductions) {
  for (const char *op : {"sum", "mean", "max", "min"}) {
    check(single({{2, 3, 4}}, op, "axis = array<i64: 1>"));
    check(single({{2, 3, 4}}, op, "axis = array<i64: 0, 2>, keepdims = true"));
    check(single({{2, 3, 4}}, op, "axis = array<i64: 1>, exclude = true"));
    check(single({{2, 3, 4}}, op, ""));
    check(single({{2, 3, 4}}, op, "keepdims = true"));
    check(single({{2, 3, 4}}, op, "axis = array<i64: -1>"));
  }
}

TEST(LoweringArith, LongSumsAreBlocked) {
  // 16384 values in [0, 1) per output: summed in one float32 chain the
  // worst output is off by about 2e-6 relative; in blocks of 128 (two chains
  // of 128, see reductionBlock in LoweringHelpers.cpp) by less than 5e-7.
  check(single({{2, 3, 16384}}, "sum", "axis = array<i64: 0, 2>"), {{0, 1}}, 1,
        {0, 5e-7});
  check(single({{3, 128, 128}}, "mean", "axis = array<i64: 1, 2>"), {{0, 1}}, 2, {0, 1.5e-6});
  // BatchNorm's batch statistics on a 56×56 map whose channel mean (3) is
  // ten times its spread, as after a relu and a 1×1 convolution: a mean off
  // by a chain's rounding is magnified by mean/std in every normalized
  // output (docs/numerics.md: this doubled the training forward's error of
  // whole networks against oneDNN's).
  check(single({{2, 8, 56, 56}, {8}, {8}}, "batch_norm_train", "fix_gamma = false", 3),
        {{2.5, 3.5}, {0.5, 1.5}, {-1, 1}}, 3, {5e-6, 0});
}

//===----------------------------------------------------------------------===//
// Reductions and sorting (GraphReduceOps.td)
//===----------------------------------------------------------------------===//

/// `op` applied to `prep`(x) (an elementwise op: floor makes ties, log of
/// negatives makes NaN), so the sorting ops meet what random data never has.
std::string afterPrep(const Shape &in, const std::string &prep, const std::string &op,
                      const std::string &attrs, unsigned nres = 1) {
  std::string rtypes, rets;
  for (unsigned i = 0; i < nres; ++i) {
    rtypes += (i ? ", " : "") + std::string("tensor<*xf32>");
    rets += (i ? ", " : "") + std::string("%1") + (nres > 1 ? "#" + std::to_string(i) : "");
  }
  std::string res = nres > 1 ? "%1:" + std::to_string(nres) : "%1";
  return "func.func @main(%a0: " + tt(in) + ") -> (" + rtypes + ") {\n  %0 = graph." + prep +
         " %a0 : (" + tt(in) + ") -> " + tt(in) + "\n  " + res + " = graph." + op + " %0" +
         (attrs.empty() ? "" : " {" + attrs + "}") + " : (" + tt(in) + ") -> (" + rtypes +
         ")\n  return " + rets + " : " + rtypes + "\n}\n";
}

TEST(LoweringReduce, ProdNansumNanprodNorm) {
  for (const char *op : {"prod", "nansum", "nanprod"}) {
    check(single({{2, 3, 4}}, op, "axis = array<i64: 1>"), {Range{0.5, 1.5}});
    check(single({{2, 3, 4}}, op, "axis = array<i64: 0, 2>, keepdims = true"), {Range{0.5, 1.5}});
    check(single({{2, 3, 4}}, op, "axis = array<i64: 1>, exclude = true"), {Range{0.5, 1.5}});
    check(single({{2, 3, 4}}, op, ""), {Range{0.5, 1.5}});
    // log of negatives: NaN, skipped by nansum/nanprod, kept by prod.
    check(afterPrep({5, 7}, "log", op, "axis = array<i64: 1>"));
  }
  for (const char *attrs : {"", "axis = array<i64: 1>", "axis = array<i64: 0, 2>, keepdims = true",
                            "ord = 1 : i64, axis = array<i64: -1>", "ord = 1 : i64"})
    check(single({{3, 4, 5}}, "norm", attrs));
}

TEST(LoweringReduce, ArgmaxArgmin) {
  for (const char *op : {"argmax", "argmin"}) {
    check(single({{3, 4, 5}}, op, "axis = 1 : i64"));
    check(single({{3, 4, 5}}, op, "axis = -1 : i64, keepdims = true"));
    check(single({{3, 4, 5}}, op, ""));
    // Ties (the first occurrence) and NaN (the first NaN wins).
    check(afterPrep({6, 40}, "floor", op, "axis = 1 : i64"), {Range{-2, 2}});
    check(afterPrep({40, 6}, "floor", op, "axis = 0 : i64"), {Range{-2, 2}});
    check(afterPrep({6, 40}, "log", op, "axis = 1 : i64"), {Range{-0.2, 1}});
  }
}

TEST(LoweringReduce, SortArgsortTopK) {
  // Rows of odd lengths past several merge widths, each axis position, the
  // flattened array; floor makes many ties (their index order must hold)
  // and log of negatives NaN (sorted as the largest value).
  for (const char *prep : {"floor", "log", "exp"}) {
    SCOPED_TRACE(prep);
    std::vector<Range> r = {Range{-3, 3}};
    for (const char *attrs : {"axis = -1 : i64", "axis = -1 : i64, is_ascend = false",
                              "axis = 0 : i64", "axis = 1 : i64, is_ascend = false", ""}) {
      check(afterPrep({5, 37, 3}, prep, "sort", attrs), r);
      check(afterPrep({5, 37, 3}, prep, "argsort", attrs), r);
    }
    check(afterPrep({1}, prep, "argsort", "axis = 0 : i64"), r);
    check(afterPrep({4, 100}, prep, "topk",
                    "axis = -1 : i64, k = 5 : i64, ret_typ = #graph.topk_ret_typ<both>", 2),
          r);
    check(afterPrep({33, 4}, prep, "topk",
                    "axis = 0 : i64, k = 3 : i64, ret_typ = #graph.topk_ret_typ<mask>, "
                    "is_ascend = true"),
          r);
    check(afterPrep({3, 4, 5}, prep, "topk", "k = 7 : i64, ret_typ = #graph.topk_ret_typ<value>"),
          r);
    // k past the selection path's limit: the merge sort's first k.
    check(afterPrep({3, 40}, prep, "topk",
                    "axis = 1 : i64, k = 12 : i64, ret_typ = #graph.topk_ret_typ<both>", 2),
          r);
    check(afterPrep({30, 3}, prep, "topk",
                    "axis = 0 : i64, k = 9 : i64, ret_typ = #graph.topk_ret_typ<mask>"),
          r);
    check(afterPrep({2, 9}, prep, "topk",
                    "axis = 1 : i64, k = 1 : i64, ret_typ = #graph.topk_ret_typ<both>", 2),
          r);
  }
  // Ties spread over the top k (several groups of equal values), on both
  // topk paths (selection for k <= 8, merge sort beyond).
  for (const char *attrs : {"axis = -1 : i64, k = 6 : i64", "axis = -1 : i64, k = 20 : i64",
                            "axis = -1 : i64, k = 6 : i64, is_ascend = true",
                            "axis = 0 : i64, k = 8 : i64"})
    check(afterPrep({64, 64}, "floor", "topk", attrs), {Range{-20, 20}});
  // Index dtypes: uint8 wraps past 255, float16 rounds past 2048.
  check(single({{2, 300}}, "argsort", "axis = -1 : i64, dtype = #graph.dtype<uint8>"));
  check(single({{1, 2100}}, "argsort", "axis = -1 : i64, dtype = #graph.dtype<float16>"));
}

TEST(LoweringReduce, BackwardOps) {
  check(single({{2, 3}, {2, 1}, {2, 1}}, "prod_grad", ""));
  check(single({{2, 3}, {1, 3}, {1, 3}}, "nanprod_grad", ""));
  check(single({{2, 3}, {2, 1}, {2, 1}}, "nansum_grad", ""));
  check(single({{2, 3}, {2, 1}, {2, 1}}, "norm_grad", "ord = 1 : i64"));
  check(single({{2, 3}, {2, 1}, {2, 1}}, "norm_grad", ""), {Range{}, Range{}, pos});
  // Indices as positions: [0, 5) along an axis of 5 (fractions truncate).
  check(single({{3, 2}, {3, 2}}, "topk_grad", "axis = 1 : i64, shape = array<i64: 3, 5>"),
        {Range{}, Range{0, 4.99}});
  check(single({{2, 4}, {2, 4}}, "topk_grad", "axis = 0 : i64, shape = array<i64: 3, 4>"),
        {Range{}, Range{0, 2.99}});
  check(single({{4}, {4}}, "topk_grad", "shape = array<i64: 2, 3>"), {Range{}, Range{0, 5.99}});
}

//===----------------------------------------------------------------------===//
// Shapes big enough for the tiled/vectorized/parallel paths: several cache
// tiles and k blocks, partial register tiles, kiln_parallel_for dispatch.
//===----------------------------------------------------------------------===//

TEST(LoweringTiled, MatmulCacheAndRegisterTiles) {
  // M = 130: two 64-row tiles plus a partial one; N = 70: partial 32-lane
  // tiles; K = 300: two k blocks.
  check(single({{130, 300}, {70, 300}, {70}}, "fully_connected", "num_hidden = 70 : i64"));
  check(single({{1, 513}, {40, 513}, {40}}, "fully_connected", "num_hidden = 40 : i64"));
  check(single({{96, 64}, {256, 64}}, "fully_connected", "num_hidden = 256 : i64"));
}

TEST(LoweringTiled, ConvIm2colPaths) {
  check(single({{2, 16, 20, 20}, {32, 16, 3, 3}, {32}}, "convolution",
               "kernel = array<i64: 3, 3>, num_filter = 32 : i64, pad = array<i64: 1, 1>"));
  check(single({{1, 3, 33, 33}, {20, 3, 7, 7}, {20}}, "convolution",
               "kernel = array<i64: 7, 7>, num_filter = 20 : i64, stride = array<i64: 2, 2>, "
               "pad = array<i64: 3, 3>"));
  check(single({{1, 24, 14, 14}, {40, 24, 1, 1}}, "convolution",
               "kernel = array<i64: 1, 1>, num_filter = 40 : i64"));
}

TEST(LoweringTiled, ElementwiseParallelChunks) {
  // 1×4×130×160 = 83200 elements: two 64 Ki-element chunks, the second partial.
  const char *src = R"(
func.func @main(%a: tensor<1x4x130x160xf32>, %b: tensor<1x4x130x160xf32>,
                %c: tensor<4xf32>) -> tensor<*xf32> {
  %0 = graph.elemwise_mul %a, %b : (tensor<1x4x130x160xf32>, tensor<1x4x130x160xf32>) -> tensor<*xf32>
  %1 = graph.elemwise_add %0, %b : (tensor<*xf32>, tensor<1x4x130x160xf32>) -> tensor<*xf32>
  %2 = graph.activation %1 {act_type = #graph.act_type<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = graph.mul_scalar %2 {scalar = 5.000000e-01 : f64} : (tensor<*xf32>) -> tensor<*xf32>
  %4 = graph.reshape %c {shape = array<i64: 1, 4, 1, 1>} : (tensor<4xf32>) -> tensor<*xf32>
  %5 = graph.broadcast_add %3, %4 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %6 = graph.activation %5 {act_type = #graph.act_type<tanh>} : (tensor<*xf32>) -> tensor<*xf32>
  return %6 : tensor<*xf32>
})";
  check(src);
}

//===----------------------------------------------------------------------===//
// Training and gradient ops (GraphGradOps.td)
//===----------------------------------------------------------------------===//

TEST(LoweringGrad, Dot) {
  check(single({{3, 4}, {4, 5}}, "dot", ""));
  check(single({{4, 3}, {4, 5}}, "dot", "transpose_a = true"));
  check(single({{3, 4}, {5, 4}}, "dot", "transpose_b = true"));
  check(single({{4, 3}, {5, 4}}, "dot", "transpose_a = true, transpose_b = true"));
  // Shapes of LeNet's FullyConnected gradients (batch 16): dX = dY·W and
  // dW = dYᵀ·X, with partial register and cache tiles.
  check(single({{16, 500}, {500, 800}}, "dot", ""));
  check(single({{16, 500}, {16, 800}}, "dot", "transpose_a = true"));
  check(single({{16, 10}, {16, 500}}, "dot", "transpose_a = true"));
  check(single({{70, 33}, {130, 33}}, "dot", "transpose_b = true"));
}

TEST(LoweringGrad, SliceAxis) {
  check(single({{2, 8}}, "slice_axis", "axis = 1 : i64, begin = 2 : i64, end = 5 : i64"));
  check(single({{4, 3, 2}}, "slice_axis", "axis = 0 : i64, begin = -3 : i64, end = -1 : i64"));
  check(single({{2, 3, 5}}, "slice_axis", "axis = -1 : i64, begin = 0 : i64, end = 5 : i64"));
}

TEST(LoweringGrad, BatchNormTrain) {
  std::vector<Range> r{{-1, 1}, {0.5, 1.5}, {-1, 1}};
  check(single({{2, 3, 4, 4}, {3}, {3}}, "batch_norm_train", "", 3), r);
  check(single({{2, 3, 4, 4}, {3}, {3}}, "batch_norm_train",
               "fix_gamma = false, eps = 1.000000e-05 : f64", 3),
        r);
  check(single({{2, 5, 3}, {3}, {3}}, "batch_norm_train", "fix_gamma = false, axis = -1 : i64", 3),
        r);
  check(single({{6, 4}, {4}, {4}}, "batch_norm_train", "fix_gamma = false", 3), r);
  check(single({{8, 16, 10, 10}, {16}, {16}}, "batch_norm_train", "fix_gamma = false", 3), r);
}

TEST(LoweringGrad, BatchNormGrad) {
  // data, gamma, mean, var, out_grad
  std::vector<Range> r{{-1, 1}, {0.5, 1.5}, {-0.2, 0.2}, pos, {-1, 1}};
  for (const char *attrs :
       {"", "fix_gamma = false", "fix_gamma = false, use_global_stats = true",
        "use_global_stats = true, eps = 1.000000e-05 : f64"})
    check(single({{2, 3, 4, 4}, {3}, {3}, {3}, {2, 3, 4, 4}}, "batch_norm_grad", attrs, 3), r);
  check(single({{2, 5, 3}, {3}, {3}, {3}, {2, 5, 3}}, "batch_norm_grad",
               "fix_gamma = false, axis = 2 : i64", 3),
        r);
  check(single({{6, 4}, {4}, {4}, {4}, {6, 4}}, "batch_norm_grad", "fix_gamma = false", 3), r);
  check(single({{8, 16, 10, 10}, {16}, {16}, {16}, {8, 16, 10, 10}}, "batch_norm_grad",
               "fix_gamma = false", 3),
        r);
}

TEST(LoweringGrad, ConvolutionWeightGrad) {
  auto wgrad = [](const Shape &x, const Shape &dy, const std::string &attrs) {
    check(single({x, dy}, "convolution_weight_grad", attrs));
  };
  wgrad({2, 3, 5, 5}, {2, 4, 5, 5}, "kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>");
  wgrad({1, 2, 9, 8}, {1, 3, 4, 10},
        "kernel = array<i64: 3, 2>, stride = array<i64: 2, 1>, dilate = array<i64: 2, 2>, "
        "pad = array<i64: 1, 2>");
  wgrad({1, 4, 6, 6}, {1, 6, 3, 3},
        "kernel = array<i64: 3, 3>, num_group = 2 : i64, stride = array<i64: 2, 2>, "
        "pad = array<i64: 1, 1>");
  wgrad({2, 4, 6, 6}, {2, 4, 4, 4}, "kernel = array<i64: 3, 3>, num_group = 4 : i64");
  wgrad({2, 3, 9}, {2, 4, 5}, "kernel = array<i64: 3>, stride = array<i64: 2>, pad = array<i64: 1>");
  wgrad({1, 2, 4, 4, 4}, {1, 3, 5, 3, 5},
        "kernel = array<i64: 2, 2, 2>, pad = array<i64: 1, 0, 1>");
  // LeNet's two convolutions at batch 4: K = N·P long, N = C·K·K short.
  wgrad({4, 1, 28, 28}, {4, 20, 24, 24}, "kernel = array<i64: 5, 5>");
  wgrad({4, 20, 12, 12}, {4, 50, 8, 8}, "kernel = array<i64: 5, 5>");
}

TEST(LoweringGrad, PoolingGrad) {
  auto pgrad = [](const Shape &x, const Shape &dy, const std::string &attrs) {
    check(single({x, dy}, "pooling_grad", attrs));
  };
  pgrad({2, 3, 6, 6}, {2, 3, 3, 3}, "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>");
  pgrad({1, 2, 7, 6}, {1, 2, 3, 3},
        "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
        "pooling_convention = #graph.pooling_convention<full>");
  pgrad({1, 2, 7, 7}, {1, 2, 4, 4},
        "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>");
  for (const char *extra : {"", ", count_include_pad = false"}) {
    pgrad({1, 2, 7, 7}, {1, 2, 4, 4},
          std::string("kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
                      "pad = array<i64: 1, 1>, pool_type = #graph.pool_type<avg>") +
              extra);
    pgrad({1, 2, 6, 7}, {1, 2, 4, 4},
          std::string("kernel = array<i64: 3, 2>, stride = array<i64: 2, 2>, "
                      "pad = array<i64: 1, 0>, pool_type = #graph.pool_type<avg>, "
                      "pooling_convention = #graph.pooling_convention<full>") +
              extra);
    pgrad({1, 2, 7}, {1, 2, 4},
          std::string("kernel = array<i64: 3>, stride = array<i64: 2>, "
                      "pool_type = #graph.pool_type<avg>, "
                      "pooling_convention = #graph.pooling_convention<same>") +
              extra);
  }
  pgrad({1, 3, 5, 5}, {1, 3, 4, 4}, "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<sum>");
  pgrad({2, 3, 4, 5}, {2, 3, 1, 1}, "global_pool = true");
  pgrad({2, 3, 4, 5}, {2, 3, 1, 1}, "global_pool = true, pool_type = #graph.pool_type<avg>");
  pgrad({2, 3, 4, 5}, {2, 3, 1, 1}, "global_pool = true, pool_type = #graph.pool_type<sum>");
  pgrad({2, 3, 9}, {2, 3, 5}, "kernel = array<i64: 3>, stride = array<i64: 2>, pad = array<i64: 1>");
  pgrad({1, 2, 7}, {1, 2, 4}, "kernel = array<i64: 3>, stride = array<i64: 2>, "
                              "pooling_convention = #graph.pooling_convention<same>");
  pgrad({1, 2, 4, 5, 4}, {1, 2, 2, 3, 2},
        "kernel = array<i64: 2, 2, 2>, stride = array<i64: 2, 2, 2>, "
        "pooling_convention = #graph.pooling_convention<full>");
  pgrad({1, 2, 4, 5, 4}, {1, 2, 5, 5, 5},
        "kernel = array<i64: 2, 3, 2>, pad = array<i64: 1, 1, 1>, "
        "pool_type = #graph.pool_type<avg>, count_include_pad = false");
  pgrad({1, 2, 5, 5}, {1, 2, 4, 4}, "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<lp>");
  pgrad({1, 2, 5, 5}, {1, 2, 4, 4},
        "kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<lp>, p_value = 1 : i64");
  check(single({{1, 2, 5, 5}, {1, 2, 2, 2}}, "pooling_grad",
               "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
               "pool_type = #graph.pool_type<lp>, p_value = 3 : i64"),
        {pos});
  // LeNet's pooling at batch 4.
  pgrad({4, 20, 24, 24}, {4, 20, 12, 12}, "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>");
  pgrad({4, 50, 8, 8}, {4, 50, 4, 4},
        "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pool_type = #graph.pool_type<avg>");
  pgrad({2, 8, 9, 9}, {2, 8, 4, 4}, "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>");
}

TEST(LoweringGrad, MaxPoolingGradTies) {
  // Every element of a window equal (and windows overlapping): the whole
  // gradient goes to the window's first element, as MXNet routes it.
  const char *src = R"(
func.func @main(%x: tensor<1x1x5x5xf32>, %dy: tensor<1x1x2x2xf32>) -> tensor<*xf32> {
  %z = graph.mul_scalar %x {scalar = 0.0 : f64} : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  %c = graph.plus_scalar %z {scalar = 0.5 : f64} : (tensor<*xf32>) -> tensor<*xf32>
  %g = graph.pooling_grad %c, %dy {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>}
      : (tensor<*xf32>, tensor<1x1x2x2xf32>) -> tensor<*xf32>
  return %g : tensor<*xf32>
})";
  check(src);
  // max(x, 0): every window of negatives ties at 0 (padding stays lower).
  check(R"(
func.func @main(%x: tensor<2x3x6x6xf32>, %dy: tensor<2x3x3x3xf32>) -> tensor<*xf32> {
  %p = graph.maximum_scalar %x {scalar = 0.0 : f64} : (tensor<2x3x6x6xf32>) -> tensor<*xf32>
  %g = graph.pooling_grad %p, %dy {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                                   pad = array<i64: 1, 1>}
      : (tensor<*xf32>, tensor<2x3x3x3xf32>) -> tensor<*xf32>
  return %g : tensor<*xf32>
})");
}

TEST(LoweringGrad, ActivationGrad) {
  for (const char *t : {"relu", "sigmoid", "tanh", "softrelu", "softsign"})
    check(single({{2, 3, 4}, {2, 3, 4}}, "activation_grad",
                 std::string("act_type = #graph.act_type<") + t + ">"),
          {{-2, 2}, {-3, 3}});
  // Vectorized and split into parallel chunks.
  check(single({{4, 20, 24, 24}, {4, 20, 24, 24}}, "activation_grad",
               "act_type = #graph.act_type<tanh>"));
}

TEST(LoweringGrad, SoftmaxOutputGrad) {
  // Class labels in [−1, 10): −1 and out-of-range values included.
  std::vector<Range> r{{0, 1}, {-1.5, 10.99}};
  auto sog = [&](const Shape &p, const Shape &l, const std::string &attrs) {
    check(single({p, l}, "softmax_output_grad", attrs), r);
  };
  sog({8, 10}, {8}, "");
  sog({8, 10}, {8}, "grad_scale = 2.000000e+00 : f32, normalization = #graph.normalization<batch>");
  sog({8, 10}, {8}, "use_ignore = true, normalization = #graph.normalization<valid>");
  sog({8, 10}, {8}, "use_ignore = true, ignore_label = 3.000000e+00 : f32");
  sog({8, 10}, {8}, "normalization = #graph.normalization<valid>");
  sog({8, 10}, {8}, "smooth_alpha = 1.000000e-01 : f32");
  sog({8, 10}, {8}, "smooth_alpha = 1.000000e-01 : f32, use_ignore = true");
  sog({2, 3, 4}, {2}, "");
  sog({2, 3, 4}, {2, 4}, "multi_output = true");
  sog({2, 3, 4}, {2, 4}, "multi_output = true, normalization = #graph.normalization<batch>");
  sog({2, 3, 4}, {2, 4},
      "multi_output = true, use_ignore = true, normalization = #graph.normalization<valid>");
  sog({2, 3, 4}, {2, 4}, "multi_output = true, smooth_alpha = 2.000000e-01 : f32");
  sog({2, 3, 4}, {2, 3}, "preserve_shape = true, normalization = #graph.normalization<batch>");
  // Probability labels (label shape = output shape).
  check(single({{4, 5}, {4, 5}}, "softmax_output_grad", "grad_scale = 5.000000e-01 : f32"),
        {{0, 1}, {0, 1}});
}

TEST(LoweringGrad, RegressionOutputGrad) {
  for (const char *k : {"linear", "logistic", "mae"}) {
    std::string attrs = std::string("kind = #graph.regression_kind<") + k + ">";
    check(single({{4, 3}, {4, 3}}, "regression_output_grad", attrs));
    check(single({{4, 1}, {4}}, "regression_output_grad", attrs + ", grad_scale = 3.0 : f32"));
    check(single({{2, 3, 2}, {2, 6}}, "regression_output_grad", attrs));
  }
}

TEST(LoweringGrad, SoftmaxGrad) {
  check(single({{2, 5}, {2, 5}}, "softmax_grad", ""), {{0, 1}});
  check(single({{2, 3, 4}, {2, 3, 4}}, "softmax_grad", "axis = 1 : i64"), {{0, 1}});
  check(single({{2, 3, 4}, {2, 3, 4}}, "softmax_grad",
               "axis = 0 : i64, temperature = 2.000000e+00 : f64"),
        {{0, 1}});
  check(single({{2, 3, 4}, {2, 3, 4}}, "softmax_grad", "log = true"), {{-3, 0}});
  check(single({{2, 3, 4}, {2, 3, 4}}, "softmax_grad",
               "log = true, axis = 1 : i64, temperature = 5.000000e-01 : f64"),
        {{-3, 0}});
}

TEST(LoweringGrad, LeakyReLUGrad) {
  for (const char *t : {"leaky", "elu", "selu", "gelu", "rrelu"})
    check(single({{2, 3, 4}, {2, 3, 4}}, "leaky_relu_grad",
                 std::string("act_type = #graph.leaky_act_type<") + t + ">, slope = 0.2 : f32"),
          {{-1, 1}, {-3, 3}});
  const char *prelu = "act_type = #graph.leaky_act_type<prelu>";
  check(single({{2, 3, 4, 2}, {2, 3, 4, 2}, {3}}, "leaky_relu_grad", prelu));
  check(single({{5}, {5}, {1}}, "leaky_relu_grad", prelu));
}

TEST(LoweringGrad, LRNGrad) {
  check(single({{2, 6, 3, 3}, {2, 6, 3, 3}}, "lrn_grad", "nsize = 3 : i64"));
  check(single({{1, 7, 2, 2}, {1, 7, 2, 2}}, "lrn_grad",
               "nsize = 5 : i64, alpha = 1.000000e-01 : f32, knorm = 1.0 : f32"));
  check(single({{1, 5, 3}, {1, 5, 3}}, "lrn_grad", "nsize = 1 : i64, beta = 5.000000e-01 : f32"));
}

TEST(LoweringGrad, EmbeddingGrad) {
  // Indices out of range on both sides (clipped) and repeated.
  check(single({{2, 5}, {2, 5, 4}}, "embedding_grad", "input_dim = 10 : i64, output_dim = 4 : i64"),
        {{-2, 12}});
  check(single({{40}, {40, 3}}, "embedding_grad", "input_dim = 6 : i64, output_dim = 3 : i64"),
        {{0, 6}});
  check(single({{3, 2, 2}, {3, 2, 2, 17}}, "embedding_grad",
               "input_dim = 4 : i64, output_dim = 17 : i64"),
        {{0, 4}});
}

TEST(LoweringGrad, RandomOps) {
  // The counter: an iteration number (truncated; negative means 0).
  std::vector<Range> counter{{-3, 100000}};
  for (unsigned seed = 1; seed <= 3; ++seed) {
    check(single({{1}}, "dropout_mask",
                 "p = 5.000000e-01 : f32, seed = 3 : i64, shape = array<i64: 4, 8>"),
          counter, seed);
    check(single({{1}}, "dropout_mask",
                 "p = 2.500000e-01 : f32, seed = -7 : i64, shape = array<i64: 2, 3, 5>, "
                 "axes = array<i64: 1, -1>"),
          counter, seed);
    check(single({{1}}, "random_uniform",
                 "low = -2.000000e+00 : f32, high = 3.000000e+00 : f32, seed = 11 : i64, "
                 "shape = array<i64: 3, 70>"),
          counter, seed);
  }
  check(single({{1}}, "dropout_mask", "p = 0.0 : f32, shape = array<i64: 9>"), counter);
}

TEST(LoweringGrad, ZerosLogComparisons) {
  check(single({}, "zeros", "shape = array<i64: 2, 3>"));
  check(single({{2, 3}}, "log", ""), {pos});
  for (const char *op : {"broadcast_equal", "broadcast_greater_equal", "broadcast_lesser_equal"}) {
    check(single({{2, 3, 4}, {1, 3, 1}}, op, ""));
    // Ties: both sides clamped at 0.
    check(std::string(R"(
func.func @main(%a: tensor<2x3x4xf32>, %b: tensor<3x4xf32>) -> tensor<*xf32> {
  %0 = graph.maximum_scalar %a {scalar = 0.0 : f64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %1 = graph.maximum_scalar %b {scalar = 0.0 : f64} : (tensor<3x4xf32>) -> tensor<*xf32>
  %2 = graph.)") + op + R"( %0, %1 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
})");
  }
  for (const char *op : {"greater_equal_scalar", "lesser_equal_scalar"}) {
    check(single({{2, 3}}, op, "scalar = 2.500000e-01 : f64"));
    check(single({{4}}, op, "scalar = 0.0 : f64"), {{0, 0}});
  }
}

TEST(LoweringGrad, DeconvolutionAsConvolutionDataGrad) {
  // The data gradient of LeNet's second convolution (batch 4) and of a
  // strided, padded, grouped one with adj recovering the input size.
  check(single({{4, 50, 8, 8}, {50, 20, 5, 5}}, "deconvolution",
               "kernel = array<i64: 5, 5>, num_filter = 20 : i64"));
  check(single({{2, 6, 4, 4}, {6, 2, 3, 3}}, "deconvolution",
               "kernel = array<i64: 3, 3>, num_filter = 4 : i64, num_group = 2 : i64, "
               "stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, adj = array<i64: 1, 0>"));
  check(single({{2, 16, 10, 10}, {16, 8, 3, 3}, {8}}, "deconvolution",
               "kernel = array<i64: 3, 3>, num_filter = 8 : i64, pad = array<i64: 1, 1>"));
}

//===----------------------------------------------------------------------===//
// Networks, multi-kernel modules, ABI, cache, errors
//===----------------------------------------------------------------------===//

TEST(LoweringNetwork, ConvBnReluPoolFcSoftmax) {
  const char *src = R"(
func.func @main(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
                %g: tensor<4xf32>, %be: tensor<4xf32>, %mm: tensor<4xf32>, %mv: tensor<4xf32>,
                %fw: tensor<10x64xf32>, %fb: tensor<10xf32>, %l: tensor<2xf32>) -> tensor<*xf32> {
  %0 = graph.convolution %x, %w, %b {kernel = array<i64: 3, 3>, num_filter = 4 : i64, pad = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  %1 = graph.batch_norm %0, %g, %be, %mm, %mv {fix_gamma = false}
      : (tensor<*xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  %2 = graph.activation %1 {act_type = #graph.act_type<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = graph.pooling %2 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %4 = graph.flatten %3 : (tensor<*xf32>) -> tensor<*xf32>
  %5 = graph.fully_connected %4, %fw, %fb {num_hidden = 10 : i64} : (tensor<*xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<*xf32>
  %6 = graph.softmax_output %5, %l : (tensor<*xf32>, tensor<2xf32>) -> tensor<*xf32>
  return %6 : tensor<*xf32>
})";
  std::vector<Range> r(10);
  r[6] = pos;
  check(src, r);
  // Same text again: a cache hit, whose times are those of the compile above.
  OwningOpRef<ModuleOp> m = parse(src);
  ASSERT_TRUE(succeeded(kiln::inferFunctionShapes(m->lookupSymbol<func::FuncOp>("main"))));
  auto c = CPUJit::compile(*m);
  ASSERT_TRUE(bool(c)) << llvm::toString(c.takeError());
  std::printf("compile time (conv-bn-relu-pool-fc-softmax): pipeline %.3f s, codegen %.3f s\n",
              (*c)->pipelineSeconds(), (*c)->codegenSeconds());
}

TEST(LoweringNetwork, ResidualAndMultiOutput) {
  const char *src = R"(
func.func @main(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x3x3xf32>) -> (tensor<*xf32>, tensor<1x4x6x6xf32>) {
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64, pad = array<i64: 1, 1>}
      : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<*xf32>
  %1 = graph.elemwise_add %0, %x : (tensor<*xf32>, tensor<1x4x6x6xf32>) -> tensor<*xf32>
  %2 = graph.activation %1 {act_type = #graph.act_type<tanh>} : (tensor<*xf32>) -> tensor<*xf32>
  %3:2 = graph.split %2 {num_outputs = 2 : i64} : (tensor<*xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  %4 = graph.concat %3#1, %3#0 {dim = 1 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %5 = graph.mean %4 {axis = array<i64: 2, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  return %5, %x : tensor<*xf32>, tensor<1x4x6x6xf32>
})";
  check(src);
}

TEST(LoweringABI, SeveralKernelsInOneModule) {
  const char *src = R"(
func.func @kiln_kernel_0(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %0 = graph.mul_scalar %x {scalar = 2.0 : f64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @kiln_kernel_1(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.broadcast_add %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  %1 = graph.sum %0 : (tensor<*xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
})";
  OwningOpRef<ModuleOp> m = parse(src);
  ASSERT_TRUE(m);
  checkFunction(*m, "kiln_kernel_0", {}, 3);
  checkFunction(*m, "kiln_kernel_1", {}, 4);
  auto c = CPUJit::compile(*m);
  ASSERT_TRUE(bool(c)) << llvm::toString(c.takeError());
  EXPECT_EQ((*c)->kernels().size(), 2u);
  EXPECT_EQ((*c)->lookup("nope"), nullptr);
  // By hand: x = 1..6, y = (10, 20, 30); out-params follow the inputs.
  float x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {10, 20, 30}, out[6] = {}, sum = 0;
  void *bufs[] = {x, y, out, &sum};
  (*c)->lookup("kiln_kernel_1")(bufs);
  EXPECT_FLOAT_EQ(out[0], 11);
  EXPECT_FLOAT_EQ(out[5], 36);
  EXPECT_FLOAT_EQ(sum, 21 + 120);
}

TEST(LoweringJIT, CacheReusesCompiledModule) {
  std::string src = single({{3, 3}}, "plus_scalar", "scalar = 1.0 : f64");
  OwningOpRef<ModuleOp> a = parse(src), b = parse(src);
  ASSERT_TRUE(succeeded(kiln::inferFunctionShapes(a->lookupSymbol<func::FuncOp>("main"))));
  ASSERT_TRUE(succeeded(kiln::inferFunctionShapes(b->lookupSymbol<func::FuncOp>("main"))));
  auto ca = CPUJit::compile(*a);
  ASSERT_TRUE(bool(ca)) << llvm::toString(ca.takeError());
  auto cb = CPUJit::compile(*b);
  ASSERT_TRUE(bool(cb)) << llvm::toString(cb.takeError());
  EXPECT_EQ(ca->get(), cb->get());
  EXPECT_GT((*ca)->compileSeconds(), 0.0);
  std::printf("compile time (plus_scalar 3x3): pipeline %.3f s, codegen %.3f s\n",
              (*ca)->pipelineSeconds(), (*ca)->codegenSeconds());
}

TEST(LoweringErrors, DropoutAlwaysIsRejectedByName) {
  std::string src = single({{3, 3}}, "dropout", "mode = #graph.dropout_mode<always>");
  OwningOpRef<ModuleOp> m = parse(src);
  ASSERT_TRUE(succeeded(kiln::inferFunctionShapes(m->lookupSymbol<func::FuncOp>("main"))));
  auto c = CPUJit::compile(*m);
  ASSERT_FALSE(bool(c));
  std::string msg = llvm::toString(c.takeError());
  EXPECT_NE(msg.find("graph.dropout"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mode=always"), std::string::npos) << msg;
}

TEST(LoweringErrors, DynamicShapesAreRejected) {
  const char *src = R"(
func.func @main(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %0 = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
})";
  OwningOpRef<ModuleOp> m = parse(src);
  ASSERT_TRUE(m);
  auto c = CPUJit::compile(*m);
  ASSERT_FALSE(bool(c));
  std::string msg = llvm::toString(c.takeError());
  EXPECT_NE(msg.find("static shapes"), std::string::npos) << msg;
}

} // namespace
