//===- InterpreterGradTest.cpp - Gradient ops of the reference interpreter -===//
//
// The training and gradient ops of GraphGradOps.td, each against values
// worked out by hand, plus adjoint identities against the forward ops
// (⟨conv(x, w), dy⟩ = ⟨w, convolution_weight_grad(x, dy)⟩, and the same for
// the linear pooling types) where hand values would be too small to cover
// strides, padding, groups and dilation.
//
//===----------------------------------------------------------------------===//

#include "InterpreterTestUtil.h"

#include <cmath>

using namespace kiln::test;
using kiln::ref::Options;

namespace {

double dotProduct(const Array &a, const Array &b) {
  EXPECT_EQ(a.shape, b.shape);
  double s = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    s += a.data[i] * b.data[i];
  return s;
}

/// A one-op function: `%0 = graph.OP operands {attrs}` with the given operand
/// and result shapes.
std::string opIR(const std::string &op, const std::vector<Shape> &operands,
                 const std::vector<Shape> &results, const std::string &attrs = "") {
  std::string args, names, types;
  for (size_t i = 0; i < operands.size(); ++i) {
    std::string n = "%a" + std::to_string(i);
    args += (i ? ", " : "") + n + ": " + tt(operands[i]);
    names += (i ? ", " : "") + n;
    types += (i ? ", " : "") + tt(operands[i]);
  }
  std::string rtypes, rets;
  for (size_t i = 0; i < results.size(); ++i) {
    rtypes += (i ? ", " : "") + tt(results[i]);
    rets += (i ? ", " : "") + std::string("%0#") + std::to_string(i);
  }
  std::string lhs = results.size() == 1 ? "%0" : "%0:" + std::to_string(results.size());
  if (results.size() == 1)
    rets = "%0";
  return "func.func @main(" + args + ") -> (" + rtypes + ") {\n  " + lhs + " = graph." + op + " " +
         names + (attrs.empty() ? "" : " {" + attrs + "}") + " : (" + types + ") -> (" + rtypes +
         ")\n  return " + rets + " : " + rtypes + "\n}";
}

//===----------------------------------------------------------------------===//
// dot, slice_axis
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, DotAllTransposeCombinations) {
  // A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: A·B = [[4,5],[10,11]].
  Array a = make({2, 3}, {1, 2, 3, 4, 5, 6}), at = make({3, 2}, {1, 4, 2, 5, 3, 6});
  Array b = make({3, 2}, {1, 0, 0, 1, 1, 1}), bt = make({2, 3}, {1, 0, 1, 0, 1, 1});
  std::vector<double> want = {4, 5, 10, 11};
  expectNear(run1(opIR("dot", {{2, 3}, {3, 2}}, {{2, 2}}), {a, b}), {2, 2}, want);
  expectNear(run1(opIR("dot", {{3, 2}, {3, 2}}, {{2, 2}}, "transpose_a = true"), {at, b}), {2, 2},
             want);
  expectNear(run1(opIR("dot", {{2, 3}, {2, 3}}, {{2, 2}}, "transpose_b = true"), {a, bt}), {2, 2},
             want);
  expectNear(run1(opIR("dot", {{3, 2}, {2, 3}}, {{2, 2}}, "transpose_a = true, transpose_b = true"),
                  {at, bt}),
             {2, 2}, want);
}

TEST(InterpreterGrad, SliceAxisNegativeBounds) {
  // Columns [-3, -1) of a 4-wide row are 1 and 2.
  expectNear(run1(opIR("slice_axis", {{2, 4}}, {{2, 2}},
                       "axis = 1 : i64, begin = -3 : i64, end = -1 : i64"),
                  {iota({2, 4})}),
             {2, 2}, {1, 2, 5, 6});
  expectNear(run1(opIR("slice_axis", {{3, 2}}, {{1, 2}},
                       "axis = -2 : i64, begin = 2 : i64, end = 3 : i64"),
                  {iota({3, 2})}),
             {1, 2}, {4, 5});
}

//===----------------------------------------------------------------------===//
// batch_norm_train, batch_norm_grad
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, BatchNormTrainUsesBatchStatistics) {
  // Channel 0 holds {1, 3} (mean 2, var 1), channel 1 {2, 6} (mean 4, var 4).
  std::string ir = opIR("batch_norm_train", {{2, 2}, {2}, {2}}, {{2, 2}, {2}, {2}},
                        "eps = 1.0e-03 : f64, fix_gamma = false");
  auto r = runIR(ir, {make({2, 2}, {1, 2, 3, 6}), make({2}, {2, 0.5}), make({2}, {0, 1})});
  double s0 = 1 / std::sqrt(1.001), s1 = 1 / std::sqrt(4.001);
  expectNear(r.outputs[0], {2, 2}, {-2 * s0, -2 * 0.5 * s1 + 1, 2 * s0, 2 * 0.5 * s1 + 1});
  expectNear(r.outputs[1], {2}, {2, 4});
  expectNear(r.outputs[2], {2}, {1, 4});
  // fix_gamma (the default) takes gamma as 1.
  auto f = runIR(opIR("batch_norm_train", {{2, 2}, {2}, {2}}, {{2, 2}, {2}, {2}}),
                 {make({2, 2}, {1, 2, 3, 6}), make({2}, {2, 0.5}), make({2}, {0, 0})});
  expectNear(f.outputs[0], {2, 2}, {-s0, -2 * s1, s0, 2 * s1});
}

TEST(InterpreterGrad, BatchNormGradBatchStatistics) {
  // x = {1, 3} in one channel: mean 2, var 1, x̂ = ∓inv with inv = 1/sqrt(1 + eps).
  // dy = {1, 0}: Σdy = 1, Σdy·x̂ = −inv, m = 2, gamma 2:
  // dx = 2·inv·(dy − 1/2 + x̂·inv/2).
  std::vector<Shape> in = {{2, 1}, {1}, {1}, {1}, {2, 1}};
  std::vector<Shape> out = {{2, 1}, {1}, {1}};
  std::vector<Array> args = {make({2, 1}, {1, 3}), make({1}, {2}), make({1}, {2}), make({1}, {1}),
                             make({2, 1}, {1, 0})};
  double inv = 1 / std::sqrt(1.001);
  auto r = runIR(opIR("batch_norm_grad", in, out, "fix_gamma = false"), args);
  expectNear(r.outputs[0], {2, 1},
             {2 * inv * (1 - 0.5 - inv * inv / 2), 2 * inv * (-0.5 + inv * inv / 2)});
  expectNear(r.outputs[1], {1}, {-inv});
  expectNear(r.outputs[2], {1}, {1});

  // fix_gamma: gamma counts as 1 and gets no gradient.
  auto f = runIR(opIR("batch_norm_grad", in, out), args);
  expectNear(f.outputs[0], {2, 1}, {inv * (1 - 0.5 - inv * inv / 2), inv * (-0.5 + inv * inv / 2)});
  expectNear(f.outputs[1], {1}, {0});
  expectNear(f.outputs[2], {1}, {1});

  // use_global_stats: constant statistics, dx = dy·gamma·inv.
  auto g =
      runIR(opIR("batch_norm_grad", in, out, "fix_gamma = false, use_global_stats = true"), args);
  expectNear(g.outputs[0], {2, 1}, {2 * inv, 0});
  expectNear(g.outputs[1], {1}, {-inv});
}

TEST(InterpreterGrad, BatchNormGradLastAxis) {
  // axis = -1 on (1, 2, 2): channel c holds x[0, :, c]. Constant dy gives
  // dx = 0 (the mean is subtracted) and beta_grad = the count.
  auto r = runIR(opIR("batch_norm_grad", {{1, 2, 2}, {2}, {2}, {2}, {1, 2, 2}},
                      {{1, 2, 2}, {2}, {2}}, "axis = -1 : i64"),
                 {make({1, 2, 2}, {1, 5, 3, 7}), make({2}, {1, 1}), make({2}, {2, 6}),
                  make({2}, {1, 1}), make({1, 2, 2}, {1, 1, 1, 1})});
  expectNear(r.outputs[0], {1, 2, 2}, {0, 0, 0, 0});
  expectNear(r.outputs[2], {2}, {2, 2});
}

//===----------------------------------------------------------------------===//
// convolution_weight_grad
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, ConvolutionWeightGradByHand) {
  // x = 0..8 as 3x3, dy = ones(2x2), 2x2 kernel: dw[k] = Σ_o x[o + k].
  expectNear(run1(opIR("convolution_weight_grad", {{1, 1, 3, 3}, {1, 1, 2, 2}}, {{1, 1, 2, 2}},
                       "kernel = array<i64: 2, 2>"),
                  {iota({1, 1, 3, 3}), make({1, 1, 2, 2}, {1, 1, 1, 1})}),
             {1, 1, 2, 2}, {8, 12, 20, 24});
}

struct Geom {
  Shape kernel, stride, dilate, pad;
  int64_t groups;
};

std::string geomAttrs(const Geom &g) {
  return "kernel = " + arr(g.kernel) + ", stride = " + arr(g.stride) +
         ", dilate = " + arr(g.dilate) + ", pad = " + arr(g.pad) +
         ", num_group = " + std::to_string(g.groups) + " : i64";
}

/// ⟨convolution(x, w), dy⟩ = ⟨w, convolution_weight_grad(x, dy)⟩ for every
/// w and dy, since the convolution is linear in w.
void checkWeightGradAdjoint(const Shape &xs, int64_t f, const Geom &g, unsigned seed) {
  Shape ws = {f, xs[1] / g.groups}, ys = {xs[0], f};
  ws.insert(ws.end(), g.kernel.begin(), g.kernel.end());
  for (size_t d = 0; d < g.kernel.size(); ++d)
    ys.push_back((xs[d + 2] + 2 * g.pad[d] - g.dilate[d] * (g.kernel[d] - 1) - 1) / g.stride[d] +
                 1);
  Array x = random(xs, seed), w = random(ws, seed + 1), dy = random(ys, seed + 2);
  Array y = run1(opIR("convolution", {xs, ws}, {ys},
                      geomAttrs(g) + ", num_filter = " + std::to_string(f) + " : i64"),
                 {x, w});
  Array dw = run1(opIR("convolution_weight_grad", {xs, ys}, {ws}, geomAttrs(g)), {x, dy});
  EXPECT_NEAR(dotProduct(y, dy), dotProduct(w, dw), 1e-10);
}

TEST(InterpreterGrad, ConvolutionWeightGradIsTheAdjoint) {
  checkWeightGradAdjoint({2, 3, 7, 6}, 4, {{3, 3}, {1, 1}, {1, 1}, {1, 1}, 1}, 1);
  checkWeightGradAdjoint({2, 4, 9, 8}, 6, {{3, 2}, {2, 3}, {2, 1}, {2, 1}, 2}, 2);
  checkWeightGradAdjoint({1, 3, 6, 6}, 3, {{3, 3}, {1, 2}, {1, 1}, {1, 0}, 3}, 3);
  checkWeightGradAdjoint({2, 2, 11}, 3, {{3}, {2}, {2}, {1}, 1}, 4);
  checkWeightGradAdjoint({1, 2, 5, 4, 6}, 4, {{2, 3, 2}, {1, 1, 2}, {2, 1, 1}, {1, 1, 0}, 2}, 5);
}

TEST(InterpreterGrad, ConvolutionWeightGradOfDeconvolution) {
  // Swapped roles: data = ∂L/∂y of the Deconvolution, out_grad = its input;
  // deconvolution is linear in w too.
  Shape xs = {2, 4, 3, 3}, ws = {4, 3, 3, 3}, ys = {2, 6, 6, 6};
  Geom g{{3, 3}, {2, 2}, {1, 1}, {1, 1}, 2};
  Array x = random(xs, 7), w = random(ws, 8), dy = random(ys, 9);
  Array y = run1(opIR("deconvolution", {xs, ws}, {ys},
                      geomAttrs(g) + ", num_filter = 6 : i64, adj = array<i64: 1, 1>"),
                 {x, w});
  Array dw = run1(opIR("convolution_weight_grad", {ys, xs}, {ws}, geomAttrs(g)), {dy, x});
  EXPECT_NEAR(dotProduct(y, dy), dotProduct(w, dw), 1e-10);
}

//===----------------------------------------------------------------------===//
// pooling_grad
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, PoolingGradMaxRoutesToTheFirstMaximum) {
  // Window (0,0) holds 1 2 / 5 5: the first 5 (row 1, col 0) takes it; the
  // other windows have unique maxima.
  Array x = make({1, 1, 4, 4}, {1, 2, 0, 9, //
                                5, 5, 3, 1, //
                                0, 0, 0, 0, //
                                7, 0, 0, 8});
  Array dy = make({1, 1, 2, 2}, {10, 20, 30, 40});
  expectNear(run1(opIR("pooling_grad", {{1, 1, 4, 4}, {1, 1, 2, 2}}, {{1, 1, 4, 4}},
                       "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>"),
                  {x, dy}),
             {1, 1, 4, 4},
             {0, 0, 0, 20, //
              10, 0, 0, 0, //
              0, 0, 0, 0,  //
              30, 0, 0, 40});
}

TEST(InterpreterGrad, PoolingGradMaxOverlappingWindowsAccumulate) {
  // 1-D, kernel 2 stride 1 over {1, 3, 2}: both windows pick the 3.
  expectNear(
      run1(opIR("pooling_grad", {{1, 1, 3}, {1, 1, 2}}, {{1, 1, 3}}, "kernel = array<i64: 2>"),
           {make({1, 1, 3}, {1, 3, 2}), make({1, 1, 2}, {1, 2})}),
      {1, 1, 3}, {0, 3, 0});
}

TEST(InterpreterGrad, PoolingGradAvgDividesAsTheForward) {
  // 1-D, kernel 2, stride 2, pad 1 over 3 elements: windows [-1, 1) and
  // [1, 3). With count_include_pad each divides by 2; without, the first
  // window has one real element.
  std::string attrs = "kernel = array<i64: 2>, stride = array<i64: 2>, pad = array<i64: 1>, "
                      "pool_type = #graph.pool_type<avg>";
  Array x = make({1, 1, 3}, {1, 2, 3}), dy = make({1, 1, 2}, {4, 8});
  expectNear(run1(opIR("pooling_grad", {{1, 1, 3}, {1, 1, 2}}, {{1, 1, 3}}, attrs), {x, dy}),
             {1, 1, 3}, {2, 4, 4});
  expectNear(run1(opIR("pooling_grad", {{1, 1, 3}, {1, 1, 2}}, {{1, 1, 3}},
                       attrs + ", count_include_pad = false"),
                  {x, dy}),
             {1, 1, 3}, {4, 4, 4});
}

TEST(InterpreterGrad, PoolingGradSumAndLp) {
  Array x = make({1, 1, 2, 2}, {3, 4, 0, 0}), dy = make({1, 1, 1, 1}, {10});
  expectNear(run1(opIR("pooling_grad", {{1, 1, 2, 2}, {1, 1, 1, 1}}, {{1, 1, 2, 2}},
                       "global_pool = true, pool_type = #graph.pool_type<sum>"),
                  {x, dy}),
             {1, 1, 2, 2}, {10, 10, 10, 10});
  // L2: out = 5, ∂out/∂x = x / out.
  expectNear(run1(opIR("pooling_grad", {{1, 1, 2, 2}, {1, 1, 1, 1}}, {{1, 1, 2, 2}},
                       "global_pool = true, pool_type = #graph.pool_type<lp>"),
                  {x, dy}),
             {1, 1, 2, 2}, {6, 8, 0, 0});
  // L3: out = (27 + 64)^(1/3), ∂out/∂x = x² / out².
  double out3 = std::cbrt(91.0);
  expectNear(run1(opIR("pooling_grad", {{1, 1, 2, 2}, {1, 1, 1, 1}}, {{1, 1, 2, 2}},
                       "global_pool = true, pool_type = #graph.pool_type<lp>, p_value = 3 : i64"),
                  {x, dy}),
             {1, 1, 2, 2}, {90 / (out3 * out3), 160 / (out3 * out3), 0, 0});
}

/// For the linear pooling types, pooling_grad(x, ·) is the adjoint of
/// pooling: ⟨pool(x), dy⟩ = ⟨x, pooling_grad(x, dy)⟩.
void checkPoolAdjoint(const Shape &xs, const Shape &ys, const std::string &attrs, unsigned seed) {
  Array x = random(xs, seed), dy = random(ys, seed + 1);
  Array y = run1(opIR("pooling", {xs}, {ys}, attrs), {x});
  Array dx = run1(opIR("pooling_grad", {xs, ys}, {xs}, attrs), {x, dy});
  EXPECT_NEAR(dotProduct(y, dy), dotProduct(x, dx), 1e-10) << attrs;
}

TEST(InterpreterGrad, PoolingGradAvgAndSumAreAdjoints) {
  for (std::string type : {"avg", "sum"}) {
    std::string t = "pool_type = #graph.pool_type<" + type + ">";
    checkPoolAdjoint({2, 2, 7, 6}, {2, 2, 4, 3},
                     t + ", kernel = array<i64: 3, 2>, stride = array<i64: 2, 2>, "
                         "pad = array<i64: 1, 0>",
                     1);
    checkPoolAdjoint({1, 2, 8, 6}, {1, 2, 4, 3},
                     t + ", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
                         "pooling_convention = #graph.pooling_convention<full>, "
                         "count_include_pad = false",
                     2);
    checkPoolAdjoint({1, 1, 7}, {1, 1, 3},
                     t + ", kernel = array<i64: 3>, stride = array<i64: 3>, "
                         "pooling_convention = #graph.pooling_convention<same>",
                     3);
  }
}

//===----------------------------------------------------------------------===//
// activation_grad
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, ActivationGradEveryType) {
  auto grad = [](const std::string &type, std::vector<double> saved) {
    return run1(
        opIR("activation_grad", {{3}, {3}}, {{3}}, "act_type = #graph.act_type<" + type + ">"),
        {make({3}, {1, 2, -1}), make({3}, saved)});
  };
  // relu, sigmoid and tanh read the output y; softrelu and softsign the input x.
  expectNear(grad("relu", {0.5, 0, 3}), {3}, {1, 0, -1});
  expectNear(grad("sigmoid", {0.5, 0.25, 1}), {3}, {0.25, 2 * 0.1875, 0});
  expectNear(grad("tanh", {0.5, 0, 1}), {3}, {0.75, 2, 0});
  expectNear(grad("softrelu", {0, 100, -100}), {3}, {0.5, 2, -std::exp(-100.0)});
  expectNear(grad("softsign", {1, -1, 0}), {3}, {0.25, 0.5, -1});
}

//===----------------------------------------------------------------------===//
// Loss heads and softmax
//===----------------------------------------------------------------------===//

const Array kProbs = make({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.6, 0.3});

TEST(InterpreterGrad, SoftmaxOutputGradClassLabels) {
  Array label = make({2}, {0, 2});
  auto grad = [&](const std::string &attrs, const Array &l) {
    return run1(opIR("softmax_output_grad", {{2, 3}, l.shape}, {{2, 3}}, attrs), {kProbs, l});
  };
  expectNear(grad("", label), {2, 3}, {-0.8, 0.3, 0.5, 0.1, 0.6, -0.7});
  // batch: divided by N = 2; grad_scale multiplies.
  expectNear(grad("normalization = #graph.normalization<batch>, grad_scale = 3.0 : f32", label),
             {2, 3}, {-1.2, 0.45, 0.75, 0.15, 0.9, -1.05});
  // use_ignore with ignore_label 2 zeroes row 1; valid then divides by the
  // one row left.
  expectNear(grad("use_ignore = true, ignore_label = 2.0 : f32, "
                  "normalization = #graph.normalization<valid>",
                  label),
             {2, 3}, {-0.8, 0.3, 0.5, 0, 0, 0});
  // valid counts labels ≠ ignore_label even without use_ignore (MXNet).
  expectNear(grad("ignore_label = 2.0 : f32, normalization = #graph.normalization<valid>", label),
             {2, 3}, {-0.8, 0.3, 0.5, 0.1, 0.6, -0.7});
  // Labels are cast to int: 2.7 is class 2.
  expectNear(grad("", make({2}, {0.9, 2.7})), {2, 3}, {-0.8, 0.3, 0.5, 0.1, 0.6, -0.7});
  // smooth_alpha 0.2 over 3 classes: target 0.8 for the class, 0.1 elsewhere.
  expectNear(grad("smooth_alpha = 0.2 : f32", label), {2, 3},
             {0.2 - 0.8, 0.3 - 0.1, 0.5 - 0.1, 0.1 - 0.1, 0.6 - 0.1, 0.3 - 0.8}, 1e-6);
}

TEST(InterpreterGrad, SoftmaxOutputGradProbabilityLabels) {
  // Probability labels: (p − label) · grad_scale, no normalization.
  Array label = make({2, 3}, {0, 1, 0, 0.5, 0.5, 0});
  expectNear(run1(opIR("softmax_output_grad", {{2, 3}, {2, 3}}, {{2, 3}},
                       "grad_scale = 2.0 : f32, normalization = #graph.normalization<batch>"),
                  {kProbs, label}),
             {2, 3}, {0.4, -1.4, 1.0, -0.8, 0.2, 0.6});
}

TEST(InterpreterGrad, SoftmaxOutputGradMultiOutputDividesBySpatialSize) {
  // (N=1, C=2, 2 positions): p[:, c, i], labels per position {1, 0}.
  Array p = make({1, 2, 2}, {0.25, 0.5, 0.75, 0.5});
  Array label = make({1, 2}, {1, 0});
  std::vector<Shape> in = {{1, 2, 2}, {1, 2}};
  expectNear(run1(opIR("softmax_output_grad", in, {{1, 2, 2}}, "multi_output = true"), {p, label}),
             {1, 2, 2}, {0.125, -0.25, -0.125, 0.25});
  // valid: no division by the spatial size; one of the two labels ignored.
  expectNear(run1(opIR("softmax_output_grad", in, {{1, 2, 2}},
                       "multi_output = true, use_ignore = true, ignore_label = 0.0 : f32, "
                       "normalization = #graph.normalization<valid>"),
                  {p, label}),
             {1, 2, 2}, {0.25, 0, -0.25, 0});
}

TEST(InterpreterGrad, SoftmaxOutputGradPreserveShape) {
  // (1, 2, 3) with preserve_shape: two rows of 3 classes, labels {0, 2}.
  Array p = make({1, 2, 3}, kProbs.data);
  expectNear(run1(opIR("softmax_output_grad", {{1, 2, 3}, {1, 2}}, {{1, 2, 3}},
                       "preserve_shape = true, normalization = #graph.normalization<batch>"),
                  {p, make({1, 2}, {0, 2})}),
             {1, 2, 3}, {-0.4, 0.15, 0.25, 0.05, 0.3, -0.35});
}

TEST(InterpreterGrad, RegressionOutputGradKinds) {
  Array y = make({2, 2}, {1, 2, 3, 4}), l = make({2, 2}, {0, 2, 5, 3.5});
  auto grad = [&](const std::string &kind, const Array &out, const Array &label) {
    return run1(opIR("regression_output_grad", {out.shape, label.shape}, {out.shape},
                     "kind = #graph.regression_kind<" + kind + ">"),
                {out, label});
  };
  // Two elements per sample: divided by 2.
  expectNear(grad("linear", y, l), {2, 2}, {0.5, 0, -1, 0.25});
  expectNear(grad("logistic", y, l), {2, 2}, {0.5, 0, -1, 0.25});
  expectNear(grad("mae", y, l), {2, 2}, {0.5, 0, -0.5, 0.5});
  // (N, 1) output with an (N) label; grad_scale multiplies.
  expectNear(run1(opIR("regression_output_grad", {{2, 1}, {2}}, {{2, 1}},
                       "kind = #graph.regression_kind<linear>, grad_scale = 4.0 : f32"),
                  {make({2, 1}, {1, 2}), make({2}, {0.5, 3})}),
             {2, 1}, {2, -4});
}

TEST(InterpreterGrad, SoftmaxGradAndLogSoftmaxGrad) {
  // softmax: y·(dy − Σ dy·y); y = {0.5, 0.5}, dy = {1, 0}: Σ = 0.5.
  expectNear(run1(opIR("softmax_grad", {{1, 2}, {1, 2}}, {{1, 2}}),
                  {make({1, 2}, {0.5, 0.5}), make({1, 2}, {1, 0})}),
             {1, 2}, {0.25, -0.25});
  // log_softmax: dy − exp(y)·Σ dy, with y = log {0.5, 0.5}.
  expectNear(run1(opIR("softmax_grad", {{1, 2}, {1, 2}}, {{1, 2}}, "log = true"),
                  {make({1, 2}, {std::log(0.5), std::log(0.5)}), make({1, 2}, {1, 0})}),
             {1, 2}, {0.5, -0.5});
  // Along axis 0, divided by the temperature.
  expectNear(run1(opIR("softmax_grad", {{2, 1}, {2, 1}}, {{2, 1}},
                       "axis = 0 : i64, temperature = 2.0 : f64"),
                  {make({2, 1}, {0.5, 0.5}), make({2, 1}, {1, 0})}),
             {2, 1}, {0.125, -0.125});
}

//===----------------------------------------------------------------------===//
// Ops the gradient rules build from
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, ZerosLogAndComparisons) {
  expectNear(run1("func.func @main() -> tensor<2x2xf32> {\n"
                  "  %0 = graph.zeros {shape = array<i64: 2, 2>} : () -> tensor<2x2xf32>\n"
                  "  return %0 : tensor<2x2xf32>\n}",
                  {}),
             {2, 2}, {0, 0, 0, 0});
  expectNear(run1(opIR("log", {{2}}, {{2}}), {make({2}, {1, std::exp(2.0)})}), {2}, {0, 2});
  // (2, 1) against (3): lhs rows {1, 2}, rhs {1, 2, 3}.
  Array a = make({2, 1}, {1, 2}), b = make({3}, {1, 2, 3});
  expectNear(run1(opIR("broadcast_equal", {{2, 1}, {3}}, {{2, 3}}), {a, b}), {2, 3},
             {1, 0, 0, 0, 1, 0});
  expectNear(run1(opIR("broadcast_greater_equal", {{2, 1}, {3}}, {{2, 3}}), {a, b}), {2, 3},
             {1, 0, 0, 1, 1, 0});
  expectNear(run1(opIR("broadcast_lesser_equal", {{2, 1}, {3}}, {{2, 3}}), {a, b}), {2, 3},
             {1, 1, 1, 0, 1, 1});
  Array x = make({3}, {-1, 0.5, 2});
  expectNear(run1(opIR("greater_equal_scalar", {{3}}, {{3}}, "scalar = 5.0e-01 : f64"), {x}), {3},
             {0, 1, 1});
  expectNear(run1(opIR("lesser_equal_scalar", {{3}}, {{3}}, "scalar = 5.0e-01 : f64"), {x}), {3},
             {1, 1, 0});
}

//===----------------------------------------------------------------------===//
// Counter-based random numbers
//===----------------------------------------------------------------------===//

/// The hash exactly as GraphGradOps.td's dropout_mask description states it,
/// written out again so the interpreter's copy is checked against the text.
uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double u(uint64_t seed, uint64_t counter, uint64_t i) {
  return static_cast<double>(mix(mix(mix(seed) ^ counter) ^ i) >> 40) / 16777216.0;
}

TEST(InterpreterGrad, CounterHashIsSplitMix64) {
  // splitmix64's well-known first output for state 0.
  EXPECT_EQ(kiln::ref::splitmix64(0), 0xE220A8397B1DCDAFull);
  for (uint64_t i : {0ull, 1ull, 12345ull})
    EXPECT_EQ(kiln::ref::counterUniform(7, 3, i), u(7, 3, i));
  EXPECT_EQ(kiln::ref::counterToUint(3.9), 3u);
  EXPECT_EQ(kiln::ref::counterToUint(-2), 0u);
  EXPECT_EQ(kiln::ref::counterToUint(std::nan("")), 0u);
}

std::string maskIR(const Shape &shape, const std::string &attrs) {
  return opIR("dropout_mask", {{1}}, {shape}, "shape = " + arr(shape) + ", " + attrs);
}

TEST(InterpreterGrad, DropoutMaskIsTheDocumentedFunction) {
  Shape shape = {4, 5};
  Array m = run1(maskIR(shape, "p = 3.0e-01 : f32, seed = 11 : i64"), {make({1}, {2})});
  double p = static_cast<double>(0.3f);
  for (int64_t i = 0; i < 20; ++i)
    EXPECT_EQ(m.data[i], u(11, 2, i) >= p ? 1 / (1 - p) : 0.0) << i;
  // A new counter or seed draws a new mask.
  Array m2 = run1(maskIR(shape, "p = 3.0e-01 : f32, seed = 11 : i64"), {make({1}, {3})});
  Array m3 = run1(maskIR(shape, "p = 3.0e-01 : f32, seed = 12 : i64"), {make({1}, {2})});
  EXPECT_NE(m.data, m2.data);
  EXPECT_NE(m.data, m3.data);
}

TEST(InterpreterGrad, DropoutMaskSharedAxesAndRate) {
  // axes = {0, -1}: the index of (i, j, k) is that of (0, j, 0), so every
  // (·, j, ·) slice is constant and equals u at flat index j·4.
  Shape shape = {3, 5, 4};
  Array m = run1(maskIR(shape, "p = 5.0e-01 : f32, axes = array<i64: 0, -1>"), {make({1}, {0})});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j)
      for (int64_t k = 0; k < 4; ++k)
        EXPECT_EQ(m.data[(i * 5 + j) * 4 + k], u(0, 0, j * 4) >= 0.5 ? 2.0 : 0.0);
  // The keep rate of a large mask is close to 1 − p.
  Array big = run1(maskIR({100, 100}, "p = 2.5e-01 : f32, seed = 3 : i64"), {make({1}, {9})});
  double kept = 0;
  for (double v : big.data) {
    EXPECT_TRUE(v == 0 || v == 1 / 0.75);
    kept += v != 0;
  }
  EXPECT_NEAR(kept / 10000, 0.75, 0.02);
}

TEST(InterpreterGrad, RandomUniform) {
  Array r = run1(opIR("random_uniform", {{1}}, {{2, 3}},
                      "low = -2.0 : f32, high = 3.0 : f32, seed = 5 : i64, "
                      "shape = array<i64: 2, 3>"),
                 {make({1}, {4})});
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(r.data[i], -2 + 5 * u(5, 4, i));
    EXPECT_TRUE(r.data[i] >= -2 && r.data[i] < 3);
  }
}

//===----------------------------------------------------------------------===//
// leaky_relu_grad, lrn_grad, embedding_grad
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, LeakyReLUGradEveryType) {
  Array dy = make({3}, {1, 2, 3}), x = make({3}, {2, -1, 0});
  auto grad = [&](const std::string &attrs) {
    return run1(opIR("leaky_relu_grad", {{3}, {3}}, {{3}}, attrs), {dy, x});
  };
  // x ≤ 0 takes the slope branch (0 included, as the forward's x > 0 test).
  expectNear(grad("slope = 5.0e-01 : f32"), {3}, {1, 1, 1.5});
  expectNear(grad("act_type = #graph.leaky_act_type<elu>, slope = 5.0e-01 : f32"), {3},
             {1, 2 * 0.5 * std::exp(-1.0), 3 * 0.5}, 1e-7);
  const double alpha = 1.6732632423543772848170429916717;
  const double lambda = 1.0507009873554804934193349852946;
  // MXNet's selu_grad: λ·(α + y) at x ≤ 0, y = λα(eˣ − 1) the output (not
  // the derivative λαeˣ).
  expectNear(grad("act_type = #graph.leaky_act_type<selu>"), {3},
             {lambda, 2 * lambda * (alpha + lambda * alpha * (std::exp(-1.0) - 1)),
              3 * lambda * alpha});
  // gelu′(x) = Φ(x) + x·φ(x): Φ(0) = 1/2.
  auto gelu = [](double v) {
    return 0.5 * (1 + std::erf(v / std::sqrt(2.0))) +
           v * std::exp(-v * v / 2) / std::sqrt(2 * 3.14159265358979323846);
  };
  expectNear(grad("act_type = #graph.leaky_act_type<gelu>"), {3}, {gelu(2), 2 * gelu(-1), 1.5});
  // rrelu at inference: the mean slope.
  expectNear(grad("act_type = #graph.leaky_act_type<rrelu>, lower_bound = 1.0e-01 : f32, "
                  "upper_bound = 3.0e-01 : f32"),
             {3}, {1, 0.4, 0.6}, 1e-7);
  // prelu: per-channel slopes along axis 1.
  expectNear(run1(opIR("leaky_relu_grad", {{1, 2, 2}, {1, 2, 2}, {2}}, {{1, 2, 2}},
                       "act_type = #graph.leaky_act_type<prelu>"),
                  {make({1, 2, 2}, {1, 1, 1, 1}), make({1, 2, 2}, {-1, 1, -1, 1}),
                   make({2}, {0.5, 0.25})}),
             {1, 2, 2}, {0.5, 1, 0.25, 1});
}

TEST(InterpreterGrad, LRNGradByHand) {
  // Two channels, nsize 3 (both in every window), alpha/nsize = 1/3,
  // beta = 1, knorm = 1, x = {1, 2}: S = 1 + 5/3 = 8/3 for both.
  // dy = {1, 0}: dx_j = dy_j/S − (2/3)·x_j·(dy_0·x_0/S²) = dy_j·3/8 − x_j·3/32.
  expectNear(run1(opIR("lrn_grad", {{1, 2, 1}, {1, 2, 1}}, {{1, 2, 1}},
                       "nsize = 3 : i64, alpha = 1.0 : f32, beta = 1.0 : f32, knorm = 1.0 : f32"),
                  {make({1, 2, 1}, {1, 2}), make({1, 2, 1}, {1, 0})}),
             {1, 2, 1}, {9.0 / 32, -3.0 / 16});
}

TEST(InterpreterGrad, EmbeddingGradScatterAdds) {
  // Rows picked as the forward picks them: 0, trunc(2.7) = 2, 0, clip(-1) = 0,
  // clip(9) = 2.
  Array idx = make({5}, {0, 2.7, 0, -1, 9});
  Array dy = make({5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  expectNear(run1(opIR("embedding_grad", {{5}, {5, 2}}, {{3, 2}},
                       "input_dim = 3 : i64, output_dim = 2 : i64"),
                  {idx, dy}),
             {3, 2}, {1 + 5 + 7, 2 + 6 + 8, 0, 0, 3 + 9, 4 + 10});
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(InterpreterGrad, BadShapesAreErrorsNotCrashes) {
  // Unverified IR: the interpreter must still refuse cleanly.
  std::string msg = errorOf([] {
    run1(opIR("dot", {{2, 3}, {2, 2}}, {{2, 2}}), {iota({2, 3}), iota({2, 2})}, Options(),
         /*verify=*/false);
  });
  EXPECT_NE(msg.find("graph.dot"), std::string::npos) << msg;
  msg = errorOf([] {
    run1(opIR("convolution_weight_grad", {{1, 1, 3, 3}, {1, 1, 3, 3}}, {{1, 1, 2, 2}},
              "kernel = array<i64: 2, 2>"),
         {iota({1, 1, 3, 3}), iota({1, 1, 3, 3})}, Options(), /*verify=*/false);
  });
  EXPECT_NE(msg.find("not the convolution output"), std::string::npos) << msg;
  msg = errorOf([] {
    run1(opIR("softmax_output_grad", {{2, 3}, {1}}, {{2, 3}}), {kProbs, iota({1})}, Options(),
         /*verify=*/false);
  });
  EXPECT_NE(msg.find("label"), std::string::npos) << msg;
}

} // namespace
