//===- InterpreterNNTest.cpp - Layer ops of the reference interpreter -----===//
//
// Hand-computed cases plus independent formulations: convolution against an
// explicit im2col + matrix product written here, deconvolution as the
// adjoint of convolution, pooling against hand-worked windows.
//
//===----------------------------------------------------------------------===//

#include "InterpreterTestUtil.h"

#include <cmath>

using namespace kiln::test;
using kiln::ref::Options;

namespace {

//===----------------------------------------------------------------------===//
// FullyConnected
//===----------------------------------------------------------------------===//

TEST(InterpreterFC, ByHandWithBiasAndFlatten) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x1x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>)
        -> tensor<2x2xf32> {
      %0 = graph.fully_connected %x, %w, %b {num_hidden = 2 : i64}
          : (tensor<2x1x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    })";
  // x rows [1,2,3], [4,5,6]; W rows [1,0,-1], [.5,.5,.5]; b [10, 20].
  // row 0: 1-3+10 = 8, 3+20 = 23; row 1: 4-6+10 = 8, 7.5+20 = 27.5.
  expectNear(run1(ir, {make({2, 1, 3}, {1, 2, 3, 4, 5, 6}),
                       make({2, 3}, {1, 0, -1, 0.5, 0.5, 0.5}),
                       make({2}, {10, 20})}),
             {2, 2}, {8, 23, 8, 27.5});
}

TEST(InterpreterFC, NoFlattenAppliesToLastAxis) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x2x3xf32>, %w: tensor<2x3xf32>) -> tensor<2x2x2xf32> {
      %0 = graph.fully_connected %x, %w {num_hidden = 2 : i64, flatten = false}
          : (tensor<2x2x3xf32>, tensor<2x3xf32>) -> tensor<2x2x2xf32>
      return %0 : tensor<2x2x2xf32>
    })";
  // Rows [0,1,2], [3,4,5], [6,7,8], [9,10,11] times W = [[1,1,1],[1,0,0]]:
  // row sums 3, 12, 21, 30 and first elements 0, 3, 6, 9.
  expectNear(run1(ir, {iota({2, 2, 3}), make({2, 3}, {1, 1, 1, 1, 0, 0})}),
             {2, 2, 2}, {3, 0, 12, 3, 21, 6, 30, 9});
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

struct ConvGeom {
  Shape kernel, stride, dilate, pad;
  int64_t groups = 1;
};

/// Output spatial sizes of a convolution.
Shape convOut(const Shape &in, const ConvGeom &g) {
  Shape o;
  for (size_t d = 0; d < g.kernel.size(); ++d)
    o.push_back((in[d] + 2 * g.pad[d] - g.dilate[d] * (g.kernel[d] - 1) - 1) /
                    g.stride[d] + 1);
  return o;
}

/// Unravels `flat` over `shape` (row-major).
Shape unravel(int64_t flat, const Shape &shape) {
  Shape idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

/// Convolution as im2col followed by one matrix product per (sample, group):
/// cols[(c, k)][p] holds the input tapped by kernel offset k at output
/// position p (0 in the padding), and out[f][p] = Σ_r W[f][r] · cols[r][p].
Array convIm2col(const Array &x, const Array &w, const Array *bias,
                 const ConvGeom &g) {
  size_t nsp = g.kernel.size();
  int64_t n = x.shape[0], c = x.shape[1], f = w.shape[0];
  int64_t cg = c / g.groups, fg = f / g.groups;
  Shape in(x.shape.begin() + 2, x.shape.end());
  Shape os = convOut(in, g);
  int64_t positions = count(os), taps = count(g.kernel), rows = cg * taps;
  Shape outShape = {n, f};
  outShape.insert(outShape.end(), os.begin(), os.end());
  Array out{outShape, std::vector<double>(count(outShape), 0.0)};
  for (int64_t b = 0; b < n; ++b)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      std::vector<double> cols(rows * positions, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t ch = grp * cg + r / taps;
        Shape k = unravel(r % taps, g.kernel);
        for (int64_t p = 0; p < positions; ++p) {
          Shape o = unravel(p, os);
          int64_t off = b * c + ch;
          bool inside = true;
          for (size_t d = 0; d < nsp; ++d) {
            int64_t pos = o[d] * g.stride[d] - g.pad[d] + k[d] * g.dilate[d];
            inside = inside && pos >= 0 && pos < in[d];
            off = off * in[d] + pos;
          }
          if (inside)
            cols[r * positions + p] = x.data[off];
        }
      }
      for (int64_t j = 0; j < fg; ++j) {
        int64_t oc = grp * fg + j;
        for (int64_t p = 0; p < positions; ++p) {
          double acc = bias ? bias->data[oc] : 0.0;
          for (int64_t r = 0; r < rows; ++r)
            acc += w.data[oc * rows + r] * cols[r * positions + p];
          out.data[(b * f + oc) * positions + p] = acc;
        }
      }
    }
  return out;
}

/// IR for one convolution (or deconvolution) with every attribute spelled.
std::string convIR(const char *opName, const Shape &xs, const Shape &ws,
                   const Shape *bs, const Shape &ys, const ConvGeom &g,
                   int64_t numFilter, const std::string &extra = "") {
  std::string args = "%x: " + tt(xs) + ", %w: " + tt(ws);
  std::string operands = "%x, %w", types = tt(xs) + ", " + tt(ws);
  if (bs) {
    args += ", %b: " + tt(*bs);
    operands += ", %b";
    types += ", " + tt(*bs);
  }
  return "func.func @main(" + args + ") -> " + tt(ys) + " {\n  %0 = graph." +
         opName + " " + operands + " {kernel = " + arr(g.kernel) +
         ", stride = " + arr(g.stride) + ", dilate = " + arr(g.dilate) +
         ", pad = " + arr(g.pad) + ", num_filter = " + std::to_string(numFilter) +
         " : i64, num_group = " + std::to_string(g.groups) + " : i64" + extra +
         "} : (" + types + ") -> " + tt(ys) + "\n  return %0 : " + tt(ys) +
         "\n}";
}

TEST(InterpreterConv, ByHand) {
  // x = 1..9 as 3x3, w = [[1, 0], [0, -1]]: out[i][j] = x[i][j] - x[i+1][j+1] = -4.
  const char *ir = R"(
    func.func @main(%x: tensor<1x1x3x3xf32>, %w: tensor<1x1x2x2xf32>, %b: tensor<1xf32>)
        -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
      %0 = graph.convolution %x, %w {kernel = array<i64: 2, 2>, num_filter = 1 : i64}
          : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
      %1 = graph.convolution %x, %w, %b {kernel = array<i64: 2, 2>, num_filter = 1 : i64,
                                         stride = array<i64: 2, 2>, pad = array<i64: 1, 1>}
          : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
      return %0, %1 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
    })";
  auto r = runIR(ir, {iota({1, 1, 3, 3}, 1), make({1, 1, 2, 2}, {1, 0, 0, -1}),
                      make({1}, {100})});
  expectNear(r.outputs[0], {1, 1, 2, 2}, {-4, -4, -4, -4});
  // Stride 2, pad 1: windows start at (-1,-1), (-1,1), (1,-1), (1,1).
  // (-1,-1): only w[1][1]·x[0][0] = -1; (-1,1): -x[0][2] = -3;
  // (1,-1): -x[2][0] = -7; (1,1): x[1][1] - x[2][2] = 5 - 9 = -4; plus 100.
  expectNear(r.outputs[1], {1, 1, 2, 2}, {99, 97, 93, 96});
}

void checkConvAgainstIm2col(const Shape &xs, int64_t f, const ConvGeom &g,
                            bool withBias, unsigned seed) {
  Shape ws = {f, xs[1] / g.groups};
  ws.insert(ws.end(), g.kernel.begin(), g.kernel.end());
  Shape in(xs.begin() + 2, xs.end());
  Shape ys = {xs[0], f};
  Shape os = convOut(in, g);
  ys.insert(ys.end(), os.begin(), os.end());
  Shape bs = {f};
  Array x = random(xs, seed), w = random(ws, seed + 1), b = random(bs, seed + 2);
  std::vector<Array> args = {x, w};
  if (withBias)
    args.push_back(b);
  Array got = run1(convIR("convolution", xs, ws, withBias ? &bs : nullptr, ys, g, f),
                   args);
  expectNear(got, convIm2col(x, w, withBias ? &b : nullptr, g), 1e-12);
}

TEST(InterpreterConv, MatchesIm2col2D) {
  checkConvAgainstIm2col({2, 3, 7, 6}, 4, {{3, 3}, {1, 1}, {1, 1}, {0, 0}, 1}, true, 1);
  checkConvAgainstIm2col({2, 3, 7, 6}, 4, {{3, 3}, {1, 1}, {1, 1}, {1, 1}, 1}, false, 2);
}

TEST(InterpreterConv, MatchesIm2colGroupsDilationStridePad) {
  // Groups 2, dilation 2, stride 2 (rectangular), pad (2, 1).
  checkConvAgainstIm2col({2, 4, 9, 8}, 6, {{3, 2}, {2, 3}, {2, 1}, {2, 1}, 2}, true, 3);
  // Depthwise: groups = channels.
  checkConvAgainstIm2col({1, 3, 6, 6}, 3, {{3, 3}, {1, 2}, {1, 1}, {1, 0}, 3}, true, 4);
}

TEST(InterpreterConv, MatchesIm2col1DAnd3D) {
  checkConvAgainstIm2col({2, 2, 11}, 3, {{3}, {2}, {2}, {1}, 1}, true, 5);
  checkConvAgainstIm2col({1, 2, 5, 4, 6}, 4, {{2, 3, 2}, {1, 1, 2}, {2, 1, 1}, {1, 1, 0}, 2},
                         true, 6);
}

//===----------------------------------------------------------------------===//
// Deconvolution
//===----------------------------------------------------------------------===//

TEST(InterpreterDeconv, ByHandStride2) {
  const char *ir = R"(
    func.func @main(%x: tensor<1x1x2x2xf32>, %w: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
      %0 = graph.deconvolution %x, %w {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>,
                                       num_filter = 1 : i64}
          : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
      return %0 : tensor<1x1x4x4xf32>
    })";
  // A ones kernel with stride 2 copies each input into its own 2x2 block.
  expectNear(run1(ir, {make({1, 1, 2, 2}, {1, 2, 3, 4}),
                       make({1, 1, 2, 2}, {1, 1, 1, 1})}),
             {1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST(InterpreterDeconv, BiasWhenGiven) {
  const char *ir = R"(
    func.func @main(%x: tensor<1x1x1xf32>, %w: tensor<1x2x2xf32>, %b: tensor<2xf32>)
        -> tensor<1x2x2xf32> {
      %0 = graph.deconvolution %x, %w, %b {kernel = array<i64: 2>, num_filter = 2 : i64}
          : (tensor<1x1x1xf32>, tensor<1x2x2xf32>, tensor<2xf32>) -> tensor<1x2x2xf32>
      return %0 : tensor<1x2x2xf32>
    })";
  // x = 3: out[f][k] = 3·w[0][f][k] + b[f] = 3·[1,2 | 3,4] + [10 | 20].
  expectNear(run1(ir, {make({1, 1, 1}, {3}), make({1, 2, 2}, {1, 2, 3, 4}),
                       make({2}, {10, 20})}),
             {1, 2, 2}, {13, 16, 29, 32});
}

/// <conv(x), y> == <x, deconv(y)> with the same weight and geometry; adj
/// restores the input size that the convolution's floor dropped.
void checkAdjoint(const Shape &xs, int64_t f, const ConvGeom &g, unsigned seed) {
  size_t nsp = g.kernel.size();
  int64_t c = xs[1];
  Shape ws = {f, c / g.groups};
  ws.insert(ws.end(), g.kernel.begin(), g.kernel.end());
  Shape in(xs.begin() + 2, xs.end());
  Shape os = convOut(in, g);
  Shape ys = {xs[0], f};
  ys.insert(ys.end(), os.begin(), os.end());
  Shape adj;
  for (size_t d = 0; d < nsp; ++d)
    adj.push_back((in[d] + 2 * g.pad[d] - g.dilate[d] * (g.kernel[d] - 1) - 1) %
                  g.stride[d]);
  Array x = random(xs, seed), w = random(ws, seed + 1), y = random(ys, seed + 2);
  Array cx = run1(convIR("convolution", xs, ws, nullptr, ys, g, f), {x, w});
  Array dy = run1(convIR("deconvolution", ys, ws, nullptr, xs, g, c,
                         ", adj = " + arr(adj)),
                  {y, w});
  ASSERT_EQ(dy.shape, xs);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < y.data.size(); ++i)
    lhs += cx.data[i] * y.data[i];
  for (size_t i = 0; i < x.data.size(); ++i)
    rhs += x.data[i] * dy.data[i];
  EXPECT_NEAR(lhs, rhs, 1e-10 * std::max(1.0, std::abs(lhs)));
}

TEST(InterpreterDeconv, AdjointOfConvolution) {
  checkAdjoint({2, 3, 6, 5}, 4, {{3, 3}, {1, 1}, {1, 1}, {1, 1}, 1}, 10);
  // Stride 2 with odd sizes (adj = 1), dilation, asymmetric pad.
  checkAdjoint({1, 4, 10, 8}, 6, {{3, 2}, {2, 2}, {2, 1}, {1, 0}, 2}, 11);
  checkAdjoint({2, 2, 10}, 4, {{3}, {3}, {1}, {2}, 2}, 12); // adj = 2
  checkAdjoint({1, 2, 5, 6, 4}, 2, {{2, 3, 2}, {2, 1, 2}, {1, 2, 1}, {0, 1, 1}, 1}, 13);
}

TEST(InterpreterDeconv, TargetShapeDerivesPadAndAdj) {
  // 3 -> target 6 with kernel 3, stride 2: unpadded 2·2+3 = 7, one too many,
  // so pad = (1+1)/2 = 1 and adj = 1 % 2 = 1; same as giving those directly.
  const char *ir = R"(
    func.func @main(%x: tensor<1x2x3x3xf32>, %w: tensor<2x1x3x3xf32>)
        -> (tensor<1x1x6x6xf32>, tensor<1x1x6x6xf32>) {
      %0 = graph.deconvolution %x, %w {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                                       target_shape = array<i64: 6, 6>, num_filter = 1 : i64}
          : (tensor<1x2x3x3xf32>, tensor<2x1x3x3xf32>) -> tensor<1x1x6x6xf32>
      %1 = graph.deconvolution %x, %w {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                                       pad = array<i64: 1, 1>, adj = array<i64: 1, 1>,
                                       num_filter = 1 : i64}
          : (tensor<1x2x3x3xf32>, tensor<2x1x3x3xf32>) -> tensor<1x1x6x6xf32>
      return %0, %1 : tensor<1x1x6x6xf32>, tensor<1x1x6x6xf32>
    })";
  auto r = runIR(ir, {random({1, 2, 3, 3}, 30), random({2, 1, 3, 3}, 31)});
  expectNear(r.outputs[0], r.outputs[1], 0);
  // Output (0,0) is hit only by input (0,0) at kernel offset (1,1) (0·2 − 1 + 1).
  Array x = random({1, 2, 3, 3}, 30), w = random({2, 1, 3, 3}, 31);
  EXPECT_NEAR(r.outputs[0].data[0], x.data[0] * w.data[4] + x.data[9] * w.data[13],
              1e-12);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

std::string poolIR(const Shape &xs, const Shape &ys, const std::string &attrs) {
  return "func.func @main(%x: " + tt(xs) + ") -> " + tt(ys) +
         " {\n  %0 = graph.pooling %x {" + attrs + "} : (" + tt(xs) + ") -> " +
         tt(ys) + "\n  return %0 : " + tt(ys) + "\n}";
}

TEST(InterpreterPooling, MaxValid) {
  // 4x4 of 1..16, 2x2 windows, stride 2: maxima 6, 8, 14, 16.
  expectNear(run1(poolIR({1, 1, 4, 4}, {1, 1, 2, 2},
                         "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>"),
                  {iota({1, 1, 4, 4}, 1)}),
             {1, 1, 2, 2}, {6, 8, 14, 16});
}

TEST(InterpreterPooling, FullConventionClipsLastWindow) {
  // 3x3 of 1..9, kernel 2, stride 2. valid: 1 window; full: 1+ceil(1/2) = 2.
  // Windows (rows x cols): [0,2)x[0,2) = {1,2,4,5}; [0,2)x[2,3) = {3,6};
  // [2,3)x[0,2) = {7,8}; [2,3)x[2,3) = {9}. Without padding the clipped
  // window is also the padded window, so avg divides by 4, 2, 2, 1.
  Array x = iota({1, 1, 3, 3}, 1);
  std::string full = "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, "
                     "pooling_convention = #graph.pooling_convention<full>";
  expectNear(run1(poolIR({1, 1, 3, 3}, {1, 1, 1, 1},
                         "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>"),
                  {x}),
             {1, 1, 1, 1}, {5});
  expectNear(run1(poolIR({1, 1, 3, 3}, {1, 1, 2, 2}, full), {x}), {1, 1, 2, 2},
             {5, 6, 8, 9});
  expectNear(run1(poolIR({1, 1, 3, 3}, {1, 1, 2, 2},
                         full + ", pool_type = #graph.pool_type<avg>"),
                  {x}),
             {1, 1, 2, 2}, {3, 4.5, 7.5, 9});
  expectNear(run1(poolIR({1, 1, 3, 3}, {1, 1, 2, 2},
                         full + ", pool_type = #graph.pool_type<sum>"),
                  {x}),
             {1, 1, 2, 2}, {12, 9, 15, 9});
}

TEST(InterpreterPooling, FullWindowHangingPastPaddingIsClippedNotDropped) {
  // x = [1, 2, 3, 4] (one row), kernel 3, stride 2, pad 1, full:
  // 1 + ceil((4 + 2 - 3)/2) = 3 windows over the padded range [-1, 5):
  //   o=0: [-1, 2) -> size 3, values {1, 2}
  //   o=1: [ 1, 4) -> size 3, values {2, 3, 4}
  //   o=2: [ 3, 5) (clipped from [3, 6)) -> size 2, values {4}
  Shape xs = {1, 1, 1, 4}, ys = {1, 1, 1, 3};
  Array x = iota(xs, 1);
  std::string geom = "kernel = array<i64: 1, 3>, stride = array<i64: 1, 2>, "
                     "pad = array<i64: 0, 1>, "
                     "pooling_convention = #graph.pooling_convention<full>";
  expectNear(run1(poolIR(xs, ys, geom), {x}), ys, {2, 4, 4});
  // count_include_pad (default): 3/3, 9/3, 4/2.
  expectNear(run1(poolIR(xs, ys, geom + ", pool_type = #graph.pool_type<avg>"), {x}),
             ys, {1, 3, 2});
  // Excluding padding: 3/2, 9/3, 4/1.
  expectNear(run1(poolIR(xs, ys, geom + ", pool_type = #graph.pool_type<avg>, "
                                        "count_include_pad = false"),
                  {x}),
             ys, {1.5, 3, 4});
}

TEST(InterpreterPooling, PaddingMaxAndAvgBothCountModes) {
  // 3x3 of 1..9, kernel 2, stride 1, pad 1, valid: (3+2-2)/1+1 = 4x4 outputs.
  Shape xs = {1, 1, 3, 3}, ys = {1, 1, 4, 4};
  Array x = iota(xs, 1);
  std::string geom = "kernel = array<i64: 2, 2>, pad = array<i64: 1, 1>";
  Array mx = run1(poolIR(xs, ys, geom), {x});
  Array inc = run1(poolIR(xs, ys, geom + ", pool_type = #graph.pool_type<avg>"), {x});
  Array exc = run1(poolIR(xs, ys, geom + ", pool_type = #graph.pool_type<avg>, "
                                         "count_include_pad = false"),
                   {x});
  // Window at output (r, c) covers rows [r-1, r+1) and cols [c-1, c+1).
  // (0,0): {1} -> max 1, incl 1/4, excl 1/1.
  // (0,1): {1,2} -> max 2, incl 3/4, excl 3/2.
  // (1,1): {1,2,4,5} -> max 5, 12/4 both.
  // (3,3): {9} -> max 9, incl 9/4, excl 9.
  // (2,3): {6, 9} -> max 9, incl 15/4, excl 15/2.
  auto at = [](const Array &a, int r, int c) { return a.data[r * 4 + c]; };
  EXPECT_DOUBLE_EQ(at(mx, 0, 0), 1);
  EXPECT_DOUBLE_EQ(at(mx, 0, 1), 2);
  EXPECT_DOUBLE_EQ(at(mx, 1, 1), 5);
  EXPECT_DOUBLE_EQ(at(mx, 3, 3), 9);
  EXPECT_DOUBLE_EQ(at(mx, 2, 3), 9);
  EXPECT_DOUBLE_EQ(at(inc, 0, 0), 0.25);
  EXPECT_DOUBLE_EQ(at(exc, 0, 0), 1);
  EXPECT_DOUBLE_EQ(at(inc, 0, 1), 0.75);
  EXPECT_DOUBLE_EQ(at(exc, 0, 1), 1.5);
  EXPECT_DOUBLE_EQ(at(inc, 1, 1), 3);
  EXPECT_DOUBLE_EQ(at(exc, 1, 1), 3);
  EXPECT_DOUBLE_EQ(at(inc, 3, 3), 2.25);
  EXPECT_DOUBLE_EQ(at(exc, 3, 3), 9);
  EXPECT_DOUBLE_EQ(at(inc, 2, 3), 3.75);
  EXPECT_DOUBLE_EQ(at(exc, 2, 3), 7.5);
}

TEST(InterpreterPooling, MaxPaddingIsLowestNotZero) {
  // All-negative input: padding must never win the max.
  Shape xs = {1, 1, 2, 2}, ys = {1, 1, 3, 3};
  Array y = run1(poolIR(xs, ys, "kernel = array<i64: 2, 2>, pad = array<i64: 1, 1>"),
                 {make(xs, {-4, -3, -2, -1})});
  // Corners see one element each; the centre sees all four.
  expectNear(y, ys, {-4, -3, -3, -2, -1, -1, -2, -1, -1});
}

TEST(InterpreterPooling, GlobalLpAnd1D3D) {
  // Global: per-channel reduction over the whole plane.
  Shape xs = {1, 2, 2, 2};
  Array x = make(xs, {1, 2, 3, 4, -1, -2, -3, 8});
  expectNear(run1(poolIR(xs, {1, 2, 1, 1}, "global_pool = true"), {x}), {1, 2, 1, 1},
             {4, 8});
  expectNear(run1(poolIR(xs, {1, 2, 1, 1},
                         "global_pool = true, pool_type = #graph.pool_type<avg>"),
                  {x}),
             {1, 2, 1, 1}, {2.5, 0.5});
  // Lp, p = 2 on windows [3, 4] -> 5 and [6, 8] -> 10; p = 1 is the sum.
  Shape ls = {1, 1, 4};
  Array l = make(ls, {3, 4, 6, 8});
  std::string lp = "kernel = array<i64: 2>, stride = array<i64: 2>, "
                   "pool_type = #graph.pool_type<lp>";
  expectNear(run1(poolIR(ls, {1, 1, 2}, lp), {l}), {1, 1, 2}, {5, 10});
  expectNear(run1(poolIR(ls, {1, 1, 2}, lp + ", p_value = 1 : i64"), {l}), {1, 1, 2},
             {7, 14});
  // 1-D max, kernel 2 stride 2 over [1, 3, 2, 5, 4]: [3, 5].
  expectNear(run1(poolIR({1, 1, 5}, {1, 1, 2},
                         "kernel = array<i64: 2>, stride = array<i64: 2>"),
                  {make({1, 1, 5}, {1, 3, 2, 5, 4})}),
             {1, 1, 2}, {3, 5});
  // 3-D avg of 1..8 in one 2x2x2 window: 4.5.
  expectNear(run1(poolIR({1, 1, 2, 2, 2}, {1, 1, 1, 1, 1},
                         "kernel = array<i64: 2, 2, 2>, pool_type = #graph.pool_type<avg>"),
                  {iota({1, 1, 2, 2, 2}, 1)}),
             {1, 1, 1, 1, 1}, {4.5});
}

TEST(InterpreterPooling, SameConvention1D) {
  // Length 5, kernel 3, stride 2: ceil(5/2) = 3 outputs; total padding
  // (3-1)·2 + 3 - 5 = 2, one on each side. Windows [-1,2), [1,4), [3,6).
  expectNear(run1(poolIR({1, 1, 5}, {1, 1, 3},
                         "kernel = array<i64: 3>, stride = array<i64: 2>, "
                         "pooling_convention = #graph.pooling_convention<same>"),
                  {make({1, 1, 5}, {1, 3, 2, 5, 4})}),
             {1, 1, 3}, {3, 5, 5});
}

TEST(InterpreterPooling, WrongResultShapeIsAnError) {
  std::string msg = errorOf([] {
    run1(poolIR({1, 1, 4, 4}, {1, 1, 3, 3},
                "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>"),
         {iota({1, 1, 4, 4})}, Options(), /*verify=*/false);
  });
  EXPECT_NE(msg.find("pooling geometry"), std::string::npos) << msg;
}

//===----------------------------------------------------------------------===//
// BatchNorm
//===----------------------------------------------------------------------===//

const char *kBatchNormIR = R"(
  func.func @main(%x: tensor<2x2x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>,
                  %mm: tensor<2xf32>, %mv: tensor<2xf32>) -> tensor<2x2x2xf32> {
    %0 = graph.batch_norm %x, %g, %b, %mm, %mv ATTRS
        : (tensor<2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
        -> tensor<2x2x2xf32> loc("bn0")
    return %0 : tensor<2x2x2xf32>
  })";

std::string bnIR(const std::string &attrs) {
  std::string s = kBatchNormIR;
  return s.replace(s.find("ATTRS"), 5, attrs);
}

// x[n][c][w]: channel 0 = {1, 2, 3, 6}, channel 1 = {0, 0, 0, 4}.
Array bnData() { return make({2, 2, 2}, {1, 2, 0, 0, 3, 6, 0, 4}); }
const Array kGamma = make({2}, {2, 3}), kBeta = make({2}, {0.5, -1});
const Array kMovMean = make({2}, {1, 2}), kMovVar = make({2}, {4, 9});

TEST(InterpreterBatchNorm, InferenceUsesMovingStatsAndFixGamma) {
  Array x = bnData();
  std::vector<Array> args = {x, kGamma, kBeta, kMovMean, kMovVar};
  // Defaults: eps 1e-3, fix_gamma: y = (x - mm)/sqrt(mv + 1e-3) + beta.
  Array fixed = run1(bnIR(""), args);
  Array scaled = run1(bnIR("{fix_gamma = false}"), args);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 2; ++c)
      for (int w = 0; w < 2; ++w) {
        int i = (n * 2 + c) * 2 + w;
        double norm = (x.data[i] - kMovMean.data[c]) / std::sqrt(kMovVar.data[c] + 1e-3);
        EXPECT_NEAR(fixed.data[i], norm + kBeta.data[c], 1e-12);
        EXPECT_NEAR(scaled.data[i], kGamma.data[c] * norm + kBeta.data[c], 1e-12);
      }
  // Inference reports no aux updates.
  EXPECT_TRUE(runIR(bnIR(""), args).updatedArgs.empty());
}

TEST(InterpreterBatchNorm, TrainingUsesBatchStatsAndUpdatesMovingStats) {
  Options train;
  train.training = true;
  auto r = runIR(bnIR("{fix_gamma = false, eps = 1.0e-05 : f64}"),
                 {bnData(), kGamma, kBeta, kMovMean, kMovVar}, train);
  // Channel 0 {1,2,3,6}: mean 3, biased var (4+1+0+9)/4 = 3.5.
  // Channel 1 {0,0,0,4}: mean 1, var (1+1+1+9)/4 = 3.
  double mean[2] = {3, 1}, var[2] = {3.5, 3};
  Array x = bnData();
  for (int i = 0; i < 8; ++i) {
    int c = (i / 2) % 2;
    double want = kGamma.data[c] * (x.data[i] - mean[c]) / std::sqrt(var[c] + 1e-5) +
                  kBeta.data[c];
    EXPECT_NEAR(r.outputs[0].data[i], want, 1e-12) << i;
  }
  // moving = 0.9·moving + 0.1·batch, momentum being the f32 0.9.
  double m = double(0.9f);
  ASSERT_EQ(r.updatedArgs.size(), 2u);
  expectNear(r.updatedArgs.at(3), {2},
             {m * 1 + (1 - m) * 3, m * 2 + (1 - m) * 1});
  expectNear(r.updatedArgs.at(4), {2},
             {m * 4 + (1 - m) * 3.5, m * 9 + (1 - m) * 3});
}

TEST(InterpreterBatchNorm, UseGlobalStatsInTraining) {
  Options train;
  train.training = true;
  std::vector<Array> args = {bnData(), kGamma, kBeta, kMovMean, kMovVar};
  auto r = runIR(bnIR("{use_global_stats = true}"), args, train);
  expectNear(r.outputs[0], run1(bnIR(""), args));
  EXPECT_TRUE(r.updatedArgs.empty());
}

TEST(InterpreterBatchNorm, LastAxis) {
  // axis = -1 on (3, 2): channels are columns.
  const char *ir = R"(
    func.func @main(%x: tensor<3x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>,
                    %mm: tensor<2xf32>, %mv: tensor<2xf32>) -> tensor<3x2xf32> {
      %0 = graph.batch_norm %x, %g, %b, %mm, %mv {axis = -1 : i64, eps = 1.0e-30 : f64}
          : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
          -> tensor<3x2xf32>
      return %0 : tensor<3x2xf32>
    })";
  Options train;
  train.training = true;
  // Column 0 {1, 2, 3}: mean 2, var 2/3. Column 1 {0, 3, 6}: mean 3, var 6.
  // fix_gamma (default) ignores gamma; beta is [0.5, -1].
  auto r = runIR(ir, {make({3, 2}, {1, 0, 2, 3, 3, 6}), kGamma, kBeta, kMovMean, kMovVar},
                 train);
  double s0 = std::sqrt(2.0 / 3), s1 = std::sqrt(6.0);
  expectNear(r.outputs[0], {3, 2},
             {-1 / s0 + 0.5, -3 / s1 - 1, 0.5, -1, 1 / s0 + 0.5, 3 / s1 - 1});
}

//===----------------------------------------------------------------------===//
// LRN, Dropout, Embedding
//===----------------------------------------------------------------------===//

TEST(InterpreterLRN, ByHand) {
  const char *ir = R"(
    func.func @main(%x: tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32> {
      %0 = graph.lrn %x {nsize = 3 : i64, alpha = 3.0 : f32, beta = 0.5 : f32, knorm = 1.0 : f32}
          : (tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32>
      return %0 : tensor<1x3x1x1xf32>
    })";
  // alpha/nsize = 1. Window sums of squares of [1, 2, 3]: 1+4 = 5, 1+4+9 = 14,
  // 4+9 = 13. out = x / sqrt(1 + sum).
  expectNear(run1(ir, {make({1, 3, 1, 1}, {1, 2, 3})}), {1, 3, 1, 1},
             {1 / std::sqrt(6.0), 2 / std::sqrt(15.0), 3 / std::sqrt(14.0)});
}

TEST(InterpreterLRN, DefaultsScaleAlphaByNsize) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x7x2x2xf32>) -> tensor<2x7x2x2xf32> {
      %0 = graph.lrn %x {nsize = 5 : i64} : (tensor<2x7x2x2xf32>) -> tensor<2x7x2x2xf32>
      return %0 : tensor<2x7x2x2xf32>
    })";
  Array x = random({2, 7, 2, 2}, 77, -30, 30);
  Array y = run1(ir, {x});
  double alpha = double(1e-4f), beta = double(0.75f);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 7; ++c)
      for (int s = 0; s < 4; ++s) {
        double sum = 0;
        for (int j = c - 2; j <= c + 2; ++j)
          if (j >= 0 && j < 7)
            sum += std::pow(x.data[(n * 7 + j) * 4 + s], 2);
        int i = (n * 7 + c) * 4 + s;
        EXPECT_NEAR(y.data[i], x.data[i] * std::pow(2 + alpha / 5 * sum, -beta), 1e-12);
      }
}

const char *kDropoutIR = R"(
  func.func @main(%x: tensor<200x100xf32>) -> tensor<200x100xf32> {
    %0 = graph.dropout %x {p = 0.3 : f32} : (tensor<200x100xf32>) -> tensor<200x100xf32>
    return %0 : tensor<200x100xf32>
  })";

TEST(InterpreterDropout, IdentityAtInference) {
  Array x = random({200, 100}, 8);
  expectNear(run1(kDropoutIR, {x}), x, 0);
}

TEST(InterpreterDropout, TrainingMaskFractionScaleAndSeed) {
  Array ones{{200, 100}, std::vector<double>(20000, 1.0)};
  Options train;
  train.training = true;
  train.seed = 123;
  Array a = run1(kDropoutIR, {ones}, train);
  int zeros = 0;
  double keep = 1 / (1 - double(0.3f));
  for (double v : a.data) {
    if (v == 0)
      ++zeros;
    else
      EXPECT_NEAR(v, keep, 1e-12);
  }
  // 20000 Bernoulli(0.3) draws: sd ≈ 0.0032, so ±0.02 is over 6 sigma.
  EXPECT_NEAR(zeros / 20000.0, 0.3, 0.02);
  EXPECT_EQ(run1(kDropoutIR, {ones}, train).data, a.data); // same seed
  train.seed = 124;
  EXPECT_NE(run1(kDropoutIR, {ones}, train).data, a.data); // another seed
}

TEST(InterpreterDropout, ModeAlwaysAndSharedAxes) {
  const char *ir = R"(
    func.func @main(%x: tensor<50x40xf32>) -> tensor<50x40xf32> {
      %0 = graph.dropout %x {p = 0.5 : f32, mode = #graph.dropout_mode<always>, axes = array<i64: 1>}
          : (tensor<50x40xf32>) -> tensor<50x40xf32>
      return %0 : tensor<50x40xf32>
    })";
  Array ones{{50, 40}, std::vector<double>(2000, 1.0)};
  Array y = run1(ir, {ones}); // inference, but mode = always
  int droppedRows = 0;
  for (int r = 0; r < 50; ++r) {
    double first = y.data[r * 40];
    EXPECT_TRUE(first == 0 || first == 2);
    for (int c = 1; c < 40; ++c)
      EXPECT_EQ(y.data[r * 40 + c], first); // one mask value per row
    droppedRows += first == 0;
  }
  EXPECT_GT(droppedRows, 5);
  EXPECT_LT(droppedRows, 45);
}

TEST(InterpreterEmbedding, IndicesAreTruncatedAndClipped) {
  const char *ir = R"(
    func.func @main(%i: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> tensor<2x3x2xf32> {
      %0 = graph.embedding %i, %w {input_dim = 3 : i64, output_dim = 2 : i64}
          : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x3x2xf32>
      return %0 : tensor<2x3x2xf32>
    })";
  // Indices 0, 2, 1.7 -> 1, 5 -> clipped to 2, -1 -> clipped to 0, 1.
  expectNear(run1(ir, {make({2, 3}, {0, 2, 1.7, 5, -1, 1}),
                       make({3, 2}, {0, 1, 10, 11, 20, 21})}),
             {2, 3, 2}, {0, 1, 20, 21, 10, 11, 20, 21, 0, 1, 10, 11});
}

//===----------------------------------------------------------------------===//
// A small network end to end
//===----------------------------------------------------------------------===//

TEST(InterpreterNetwork, ConvPoolFCSoftmax) {
  // Checks values flow between ops: the head equals softmax(FC(flatten(
  // maxpool(relu(conv(x)))))), each stage computed by this test's own code.
  const char *ir = R"(
    func.func @main(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x3x3xf32>, %fw: tensor<3x2xf32>,
                    %l: tensor<1xf32>) -> tensor<1x3xf32> {
      %c = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 2 : i64}
          : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32>
      %r = graph.activation %c {act_type = #graph.act_type<relu>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
      %p = graph.pooling %r {global_pool = true} : (tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32>
      %f = graph.flatten %p : (tensor<1x2x1x1xf32>) -> tensor<1x2xf32>
      %h = graph.fully_connected %f, %fw {num_hidden = 3 : i64} : (tensor<1x2xf32>, tensor<3x2xf32>) -> tensor<1x3xf32>
      %s = graph.softmax_output %h, %l : (tensor<1x3xf32>, tensor<1xf32>) -> tensor<1x3xf32>
      return %s : tensor<1x3xf32>
    })";
  Array x = random({1, 1, 4, 4}, 50), w = random({2, 1, 3, 3}, 51),
        fw = random({3, 2}, 52);
  Array conv = convIm2col(x, w, nullptr, {{3, 3}, {1, 1}, {1, 1}, {0, 0}, 1});
  double feat[2];
  for (int f = 0; f < 2; ++f) {
    feat[f] = 0; // max of relu = max(0, max)
    for (int i = 0; i < 4; ++i)
      feat[f] = std::max(feat[f], conv.data[f * 4 + i]);
  }
  double logits[3], sum = 0;
  for (int j = 0; j < 3; ++j) {
    logits[j] = fw.data[j * 2] * feat[0] + fw.data[j * 2 + 1] * feat[1];
    sum += std::exp(logits[j]);
  }
  expectNear(run1(ir, {x, w, fw, make({1}, {0})}), {1, 3},
             {std::exp(logits[0]) / sum, std::exp(logits[1]) / sum,
              std::exp(logits[2]) / sum},
             1e-12);
}

} // namespace
