//===- InterpreterBasicTest.cpp - Elementwise, shape, softmax ops ---------===//
//
// Expected values are worked out by hand (arithmetic in the comments) or by
// properties that hold independently of the implementation.
//
//===----------------------------------------------------------------------===//

#include "InterpreterTestUtil.h"

#include <cmath>

using namespace kiln::test;
using kiln::ref::Options;

namespace {

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

TEST(InterpreterElemwise, BinaryOps) {
  const char *ir = R"(
    func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>)
        -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
      %0 = graph.elemwise_add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %1 = graph.elemwise_sub %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %2 = graph.elemwise_mul %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %3 = graph.elemwise_div %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
    })";
  auto r = runIR(ir, {make({4}, {1, 2, 3, 4}), make({4}, {5, 6, 7, 8})});
  ASSERT_EQ(r.outputs.size(), 4u);
  expectNear(r.outputs[0], {4}, {6, 8, 10, 12});
  expectNear(r.outputs[1], {4}, {-4, -4, -4, -4});
  expectNear(r.outputs[2], {4}, {5, 12, 21, 32});
  expectNear(r.outputs[3], {4}, {1.0 / 5, 2.0 / 6, 3.0 / 7, 4.0 / 8});
}

TEST(InterpreterElemwise, AddN) {
  const char *ir = R"(
    func.func @main(%a: tensor<3xf32>, %b: tensor<3xf32>, %c: tensor<3xf32>) -> tensor<3xf32> {
      %0 = graph.add_n %a, %b, %c : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      return %0 : tensor<3xf32>
    })";
  // [1,2,3] + [10,20,30] + [100,200,300]
  expectNear(run1(ir, {make({3}, {1, 2, 3}), make({3}, {10, 20, 30}),
                       make({3}, {100, 200, 300})}),
             {3}, {111, 222, 333});
}

TEST(InterpreterElemwise, ScalarOps) {
  std::string ir = "func.func @main(%x: tensor<3xf32>) -> (";
  const char *ops[] = {"plus_scalar",  "minus_scalar",   "rminus_scalar",
                       "mul_scalar",   "div_scalar",     "rdiv_scalar",
                       "power_scalar", "rpower_scalar",  "maximum_scalar",
                       "minimum_scalar"};
  for (int i = 0; i < 10; ++i)
    ir += std::string(i ? ", " : "") + "tensor<3xf32>";
  ir += ") {\n";
  for (int i = 0; i < 10; ++i)
    ir += "  %" + std::to_string(i) + " = graph." + ops[i] +
          " %x {scalar = 2.0 : f64} : (tensor<3xf32>) -> tensor<3xf32>\n";
  ir += "  return ";
  for (int i = 0; i < 10; ++i)
    ir += std::string(i ? ", " : "") + "%" + std::to_string(i);
  ir += " : ";
  for (int i = 0; i < 10; ++i)
    ir += std::string(i ? ", " : "") + "tensor<3xf32>";
  ir += "\n}";
  auto r = runIR(ir, {make({3}, {1, 2, 4})});
  // x = [1, 2, 4], s = 2.
  expectNear(r.outputs[0], {3}, {3, 4, 6});        // x + s
  expectNear(r.outputs[1], {3}, {-1, 0, 2});       // x - s
  expectNear(r.outputs[2], {3}, {1, 0, -2});       // s - x
  expectNear(r.outputs[3], {3}, {2, 4, 8});        // x * s
  expectNear(r.outputs[4], {3}, {0.5, 1, 2});      // x / s
  expectNear(r.outputs[5], {3}, {2, 1, 0.5});      // s / x
  expectNear(r.outputs[6], {3}, {1, 4, 16});       // x ^ s
  expectNear(r.outputs[7], {3}, {2, 4, 16});       // s ^ x
  expectNear(r.outputs[8], {3}, {2, 2, 4});        // max(x, s)
  expectNear(r.outputs[9], {3}, {1, 2, 2});        // min(x, s)
}

TEST(InterpreterBroadcast, NumPyRules) {
  const char *ir = R"(
    func.func @main(%a: tensor<2x3xf32>, %row: tensor<1x3xf32>, %col: tensor<2x1xf32>,
                    %vec: tensor<3xf32>)
        -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>,
            tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
      %0 = graph.broadcast_add %a, %row : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
      %1 = graph.broadcast_sub %a, %col : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
      %2 = graph.broadcast_mul %a, %vec : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      %3 = graph.broadcast_maximum %col, %row : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
      %4 = graph.broadcast_minimum %col, %row : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
      %5 = graph.broadcast_div %a, %col : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
      %6 = graph.broadcast_power %col, %vec : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      return %0, %1, %2, %3, %4, %5, %6 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>,
          tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
    })";
  Array a = make({2, 3}, {1, 2, 3, 4, 5, 6});
  Array row = make({1, 3}, {10, 20, 30});
  Array col = make({2, 1}, {1, 2});
  Array vec = make({3}, {1, 2, 3});
  auto r = runIR(ir, {a, row, col, vec});
  // a + row: each row of a plus [10, 20, 30].
  expectNear(r.outputs[0], {2, 3}, {11, 22, 33, 14, 25, 36});
  // a - col: row 0 minus 1, row 1 minus 2.
  expectNear(r.outputs[1], {2, 3}, {0, 1, 2, 2, 3, 4});
  // a * vec (rank 1 aligned from the right): [1*1, 2*2, 3*3; 4*1, 5*2, 6*3].
  expectNear(r.outputs[2], {2, 3}, {1, 4, 9, 4, 10, 18});
  // max(col, row) = max([[1],[2]], [10,20,30]).
  expectNear(r.outputs[3], {2, 3}, {10, 20, 30, 10, 20, 30});
  expectNear(r.outputs[4], {2, 3}, {1, 1, 1, 2, 2, 2});
  // a / col: [1,2,3]/1, [4,5,6]/2.
  expectNear(r.outputs[5], {2, 3}, {1, 2, 3, 2, 2.5, 3});
  // col ^ vec: 1^[1,2,3], 2^[1,2,3].
  expectNear(r.outputs[6], {2, 3}, {1, 1, 1, 2, 4, 8});
}

TEST(InterpreterBroadcast, BroadcastTo) {
  const char *ir = R"(
    func.func @main(%x: tensor<1x3xf32>) -> tensor<2x3xf32> {
      %0 = graph.broadcast_to %x {shape = array<i64: 2, 0>} : (tensor<1x3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })";
  expectNear(run1(ir, {make({1, 3}, {7, 8, 9})}), {2, 3}, {7, 8, 9, 7, 8, 9});
}

TEST(InterpreterBroadcast, IncompatibleShapesAreAnError) {
  const char *ir = R"(
    func.func @main(%a: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<2x3xf32> {
      %0 = graph.broadcast_add %a, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32> loc("badd")
      return %0 : tensor<2x3xf32>
    })";
  std::string msg =
      errorOf([&] { run1(ir, {iota({2, 3}), iota({2})}, Options(), /*verify=*/false); });
  EXPECT_NE(msg.find("badd"), std::string::npos) << msg;
  EXPECT_NE(msg.find("broadcast"), std::string::npos) << msg;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

TEST(InterpreterReduce, AxisKeepdimsExcludeNone) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3xf32>)
        -> (tensor<2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<2x1xf32>, tensor<2xf32>,
            tensor<2xf32>, tensor<1x1xf32>) {
      %0 = graph.sum %x {axis = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
      %1 = graph.mean %x {axis = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
      %2 = graph.max %x : (tensor<2x3xf32>) -> tensor<1xf32>
      %3 = graph.min %x {axis = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
      %4 = graph.sum %x {axis = array<i64: 0>, exclude = true} : (tensor<2x3xf32>) -> tensor<2xf32>
      %5 = graph.max %x {axis = array<i64: -1>} : (tensor<2x3xf32>) -> tensor<2xf32>
      %6 = graph.mean %x {keepdims = true} : (tensor<2x3xf32>) -> tensor<1x1xf32>
      return %0, %1, %2, %3, %4, %5, %6 : tensor<2xf32>, tensor<3xf32>, tensor<1xf32>,
          tensor<2x1xf32>, tensor<2xf32>, tensor<2xf32>, tensor<1x1xf32>
    })";
  // x = [[1, 2, 3], [4, 5, 6]]
  auto r = runIR(ir, {make({2, 3}, {1, 2, 3, 4, 5, 6})});
  expectNear(r.outputs[0], {2}, {6, 15});          // row sums
  expectNear(r.outputs[1], {3}, {2.5, 3.5, 4.5});  // column means
  expectNear(r.outputs[2], {1}, {6});              // max of all
  expectNear(r.outputs[3], {2, 1}, {1, 4});        // row minima, kept dims
  expectNear(r.outputs[4], {2}, {6, 15});          // all but axis 0 = axis 1
  expectNear(r.outputs[5], {2}, {3, 6});           // axis -1 = last
  expectNear(r.outputs[6], {1, 1}, {3.5});         // 21 / 6
}

TEST(InterpreterReduce, MultipleAxesMatchLoops) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<3xf32>, tensor<1x3x1xf32>) {
      %0 = graph.sum %x {axis = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
      %1 = graph.max %x {axis = array<i64: 1>, exclude = true, keepdims = true}
          : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
      return %0, %1 : tensor<3xf32>, tensor<1x3x1xf32>
    })";
  Array x = random({2, 3, 4}, 7);
  auto r = runIR(ir, {x});
  std::vector<double> sum(3, 0), mx(3, -1e300);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) {
        double v = x.data[(i * 3 + j) * 4 + k];
        sum[j] += v;
        mx[j] = std::max(mx[j], v);
      }
  expectNear(r.outputs[0], {3}, sum);
  expectNear(r.outputs[1], {1, 3, 1}, mx);
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

TEST(InterpreterShape, FlattenAndReshapeKeepOrder) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<2x12xf32>, tensor<4x6xf32>) {
      %0 = graph.flatten %x : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
      %1 = graph.reshape %x {shape = array<i64: 4, -1>} : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
      return %0, %1 : tensor<2x12xf32>, tensor<4x6xf32>
    })";
  Array x = iota({2, 3, 4});
  auto r = runIR(ir, {x});
  expectNear(r.outputs[0], {2, 12}, x.data);
  expectNear(r.outputs[1], {4, 6}, x.data);
}

TEST(InterpreterShape, IdentityCopies) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %0 = graph.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })";
  expectNear(run1(ir, {make({2, 3}, {1, -2, 3, 0.5, 5, 6})}), {2, 3}, {1, -2, 3, 0.5, 5, 6});
}

TEST(InterpreterShape, TransposeByHand) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
      %0 = graph.transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
      return %0 : tensor<3x2xf32>
    })";
  // Default axes reverse: [[1,2,3],[4,5,6]]ᵀ = [[1,4],[2,5],[3,6]].
  expectNear(run1(ir, {make({2, 3}, {1, 2, 3, 4, 5, 6})}), {3, 2},
             {1, 4, 2, 5, 3, 6});
}

TEST(InterpreterShape, TransposeTwiceWithInverseIsIdentity) {
  // axes (2,0,3,1) has inverse (1,3,0,2).
  const char *ir = R"(
    func.func @main(%x: tensor<2x3x4x5xf32>) -> (tensor<4x2x5x3xf32>, tensor<2x3x4x5xf32>) {
      %0 = graph.transpose %x {axes = array<i64: 2, 0, 3, 1>} : (tensor<2x3x4x5xf32>) -> tensor<4x2x5x3xf32>
      %1 = graph.transpose %0 {axes = array<i64: 1, 3, 0, 2>} : (tensor<4x2x5x3xf32>) -> tensor<2x3x4x5xf32>
      return %0, %1 : tensor<4x2x5x3xf32>, tensor<2x3x4x5xf32>
    })";
  Array x = random({2, 3, 4, 5}, 3);
  auto r = runIR(ir, {x});
  expectNear(r.outputs[1], x);
  // out[a,b,c,d] = x[b, d, a, c]: check one element, (3,1,4,2) = x[1,2,3,4].
  EXPECT_DOUBLE_EQ(r.outputs[0].data[((3 * 2 + 1) * 5 + 4) * 3 + 2],
                   x.data[((1 * 3 + 2) * 4 + 3) * 5 + 4]);
}

TEST(InterpreterShape, ConcatByHand) {
  const char *ir = R"(
    func.func @main(%a: tensor<2x1xf32>, %b: tensor<2x2xf32>) -> (tensor<2x3xf32>, tensor<4x1xf32>) {
      %0 = graph.concat %a, %b : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
      %1 = graph.concat %a, %a {dim = 0 : i64} : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<4x1xf32>
      return %0, %1 : tensor<2x3xf32>, tensor<4x1xf32>
    })";
  auto r = runIR(ir, {make({2, 1}, {1, 2}), make({2, 2}, {3, 4, 5, 6})});
  // [[1],[2]] ++ [[3,4],[5,6]] along dim 1 (the default).
  expectNear(r.outputs[0], {2, 3}, {1, 3, 4, 2, 5, 6});
  expectNear(r.outputs[1], {4, 1}, {1, 2, 1, 2});
}

TEST(InterpreterShape, SplitByHandAndSqueeze) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x4xf32>, %y: tensor<3x2xf32>)
        -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
      %0:2 = graph.split %x {num_outputs = 2 : i64} : (tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
      %1:3 = graph.split %y {num_outputs = 3 : i64, axis = 0 : i64, squeeze_axis = true}
          : (tensor<3x2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
      return %0#0, %0#1, %1#0, %1#1, %1#2
          : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
    })";
  auto r = runIR(ir, {make({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}),
                      make({3, 2}, {1, 2, 3, 4, 5, 6})});
  // [[1,2,3,4],[5,6,7,8]] halves along axis 1.
  expectNear(r.outputs[0], {2, 2}, {1, 2, 5, 6});
  expectNear(r.outputs[1], {2, 2}, {3, 4, 7, 8});
  // Rows of [[1,2],[3,4],[5,6]], axis 0 squeezed.
  expectNear(r.outputs[2], {2}, {1, 2});
  expectNear(r.outputs[3], {2}, {3, 4});
  expectNear(r.outputs[4], {2}, {5, 6});
}

TEST(InterpreterShape, SplitThenConcatIsIdentity) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x6x3xf32>) -> tensor<2x6x3xf32> {
      %0:3 = graph.split %x {num_outputs = 3 : i64}
          : (tensor<2x6x3xf32>) -> (tensor<2x2x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>)
      %1 = graph.concat %0#0, %0#1, %0#2
          : (tensor<2x2x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>) -> tensor<2x6x3xf32>
      return %1 : tensor<2x6x3xf32>
    })";
  Array x = random({2, 6, 3}, 11);
  expectNear(run1(ir, {x}), x);
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

TEST(InterpreterSoftmax, ByHand) {
  const char *ir = R"(
    func.func @main(%x: tensor<2xf32>, %t: tensor<2xf32>, %m: tensor<2x2xf32>)
        -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2x2xf32>) {
      %0 = graph.softmax %x : (tensor<2xf32>) -> tensor<2xf32>
      %1 = graph.log_softmax %x : (tensor<2xf32>) -> tensor<2xf32>
      %2 = graph.softmax %t {temperature = 2.0 : f64} : (tensor<2xf32>) -> tensor<2xf32>
      %3 = graph.softmax %m {axis = 0 : i64} : (tensor<2x2xf32>) -> tensor<2x2xf32>
      return %0, %1, %2, %3 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2x2xf32>
    })";
  double l3 = std::log(3.0);
  // softmax([0, ln 3]) = [1, 3] / 4.
  // With temperature 2, [0, 2 ln 3] / 2 = [0, ln 3]: the same.
  // Axis 0 of [[0, 0], [ln 3, 0]]: column 0 -> [1/4, 3/4], column 1 -> halves.
  auto r = runIR(ir, {make({2}, {0, l3}), make({2}, {0, 2 * l3}),
                      make({2, 2}, {0, 0, l3, 0})});
  expectNear(r.outputs[0], {2}, {0.25, 0.75});
  expectNear(r.outputs[1], {2}, {std::log(0.25), std::log(0.75)});
  expectNear(r.outputs[2], {2}, {0.25, 0.75});
  expectNear(r.outputs[3], {2, 2}, {0.25, 0.5, 0.75, 0.5});
}

TEST(InterpreterSoftmax, Properties) {
  // Rows sum to 1, adding a constant changes nothing, log_softmax = log(softmax).
  const char *ir = R"(
    func.func @main(%x: tensor<3x5xf32>) -> (tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>) {
      %0 = graph.softmax %x : (tensor<3x5xf32>) -> tensor<3x5xf32>
      %s = graph.plus_scalar %x {scalar = 7.5 : f64} : (tensor<3x5xf32>) -> tensor<3x5xf32>
      %1 = graph.softmax %s : (tensor<3x5xf32>) -> tensor<3x5xf32>
      %2 = graph.log_softmax %x : (tensor<3x5xf32>) -> tensor<3x5xf32>
      return %0, %1, %2 : tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>
    })";
  Array x = random({3, 5}, 5, -4, 4);
  auto r = runIR(ir, {x});
  for (int i = 0; i < 3; ++i) {
    double sum = 0;
    for (int j = 0; j < 5; ++j) {
      double p = r.outputs[0].data[i * 5 + j];
      EXPECT_GT(p, 0);
      sum += p;
      EXPECT_NEAR(r.outputs[2].data[i * 5 + j], std::log(p), 1e-12);
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
  expectNear(r.outputs[1], r.outputs[0], 1e-12);
}

/// Softmax of x (shape (outer, n, inner)) over the middle axis, by loops.
static std::vector<double> softmaxRef(const std::vector<double> &x, int outer,
                                      int n, int inner) {
  std::vector<double> y(x.size());
  for (int o = 0; o < outer; ++o)
    for (int i = 0; i < inner; ++i) {
      double sum = 0;
      for (int j = 0; j < n; ++j)
        sum += std::exp(x[(o * n + j) * inner + i]);
      for (int j = 0; j < n; ++j)
        y[(o * n + j) * inner + i] = std::exp(x[(o * n + j) * inner + i]) / sum;
    }
  return y;
}

TEST(InterpreterSoftmax, SoftmaxOutputModes) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3x4xf32>, %l: tensor<2xf32>, %lm: tensor<2x4xf32>,
                    %lp: tensor<2x3xf32>)
        -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
      %0 = graph.softmax_output %x, %l : (tensor<2x3x4xf32>, tensor<2xf32>) -> tensor<2x3x4xf32>
      %1 = graph.softmax_output %x, %lm {multi_output = true}
          : (tensor<2x3x4xf32>, tensor<2x4xf32>) -> tensor<2x3x4xf32>
      %2 = graph.softmax_output %x, %lp {preserve_shape = true}
          : (tensor<2x3x4xf32>, tensor<2x3xf32>) -> tensor<2x3x4xf32>
      return %0, %1, %2 : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
    })";
  Array x = random({2, 3, 4}, 9, -3, 3);
  auto r = runIR(ir, {x, iota({2}), iota({2, 4}), iota({2, 3})});
  // Default: all 12 non-batch values of each sample form one softmax.
  expectNear(r.outputs[0], {2, 3, 4}, softmaxRef(x.data, 2, 12, 1));
  // multi_output: over axis 1 (3 classes) at each of the 4 positions.
  expectNear(r.outputs[1], {2, 3, 4}, softmaxRef(x.data, 2, 3, 4));
  // preserve_shape: over the last axis.
  expectNear(r.outputs[2], {2, 3, 4}, softmaxRef(x.data, 6, 4, 1));
}

TEST(InterpreterSoftmax, SoftmaxOutputByHand) {
  const char *ir = R"(
    func.func @main(%x: tensor<1x2x2xf32>, %l: tensor<1xf32>) -> tensor<1x2x2xf32> {
      %0 = graph.softmax_output %x, %l : (tensor<1x2x2xf32>, tensor<1xf32>) -> tensor<1x2x2xf32>
      return %0 : tensor<1x2x2xf32>
    })";
  // exp of [0, 0, 0, ln 5] = [1, 1, 1, 5], total 8.
  expectNear(run1(ir, {make({1, 2, 2}, {0, 0, 0, std::log(5.0)}), make({1}, {0})}),
             {1, 2, 2}, {1.0 / 8, 1.0 / 8, 1.0 / 8, 5.0 / 8});
}

TEST(InterpreterSoftmax, SoftmaxActivationModes) {
  const char *ir = R"(
    func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
      %0 = graph.softmax_activation %x : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
      %1 = graph.softmax_activation %x {mode = #graph.softmax_mode<channel>}
          : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
      return %0, %1 : tensor<2x3x4xf32>, tensor<2x3x4xf32>
    })";
  Array x = random({2, 3, 4}, 21, -2, 2);
  auto r = runIR(ir, {x});
  expectNear(r.outputs[0], {2, 3, 4}, softmaxRef(x.data, 6, 4, 1)); // last axis
  expectNear(r.outputs[1], {2, 3, 4}, softmaxRef(x.data, 2, 3, 4)); // axis 1
}

TEST(InterpreterSoftmax, RegressionOutputs) {
  const char *ir = R"(
    func.func @main(%x: tensor<3xf32>, %l: tensor<3xf32>)
        -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
      %0 = graph.linear_regression_output %x, %l : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %1 = graph.logistic_regression_output %x, %l : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %2 = graph.mae_regression_output %x, %l : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      return %0, %1, %2 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
    })";
  auto r = runIR(ir, {make({3}, {-1, 0, 2}), make({3}, {9, 9, 9})});
  expectNear(r.outputs[0], {3}, {-1, 0, 2});
  // sigmoid(-1) = 1/(1+e), sigmoid(0) = 1/2, sigmoid(2) = 1/(1+e^-2).
  expectNear(r.outputs[1], {3},
             {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-2.0))});
  expectNear(r.outputs[2], {3}, {-1, 0, 2});
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

TEST(InterpreterActivation, AllFive) {
  const char *ir = R"(
    func.func @main(%x: tensor<3xf32>)
        -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
      %0 = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<3xf32>) -> tensor<3xf32>
      %1 = graph.activation %x {act_type = #graph.act_type<sigmoid>} : (tensor<3xf32>) -> tensor<3xf32>
      %2 = graph.activation %x {act_type = #graph.act_type<tanh>} : (tensor<3xf32>) -> tensor<3xf32>
      %3 = graph.activation %x {act_type = #graph.act_type<softrelu>} : (tensor<3xf32>) -> tensor<3xf32>
      %4 = graph.activation %x {act_type = #graph.act_type<softsign>} : (tensor<3xf32>) -> tensor<3xf32>
      return %0, %1, %2, %3, %4 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
    })";
  auto r = runIR(ir, {make({3}, {-1, 0, 2})});
  double e = std::exp(1.0);
  expectNear(r.outputs[0], {3}, {0, 0, 2});
  expectNear(r.outputs[1], {3}, {1 / (1 + e), 0.5, 1 / (1 + 1 / (e * e))});
  // tanh(x) = (e^2x - 1)/(e^2x + 1).
  expectNear(r.outputs[2], {3},
             {(1 / (e * e) - 1) / (1 / (e * e) + 1), 0,
              (std::pow(e, 4) - 1) / (std::pow(e, 4) + 1)});
  // log(1 + e^x): log(1 + 1/e), log 2, log(1 + e^2).
  expectNear(r.outputs[3], {3},
             {std::log(1 + 1 / e), std::log(2.0), std::log(1 + e * e)});
  // x / (1 + |x|): -1/2, 0, 2/3.
  expectNear(r.outputs[4], {3}, {-0.5, 0, 2.0 / 3});
}

TEST(InterpreterActivation, SoftreluIsStableForLargeInputs) {
  const char *ir = R"(
    func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
      %0 = graph.activation %x {act_type = #graph.act_type<softrelu>} : (tensor<2xf32>) -> tensor<2xf32>
      return %0 : tensor<2xf32>
    })";
  Array y = run1(ir, {make({2}, {800, -800})});
  EXPECT_DOUBLE_EQ(y.data[0], 800);
  EXPECT_GE(y.data[1], 0);
  EXPECT_LT(y.data[1], 1e-300);
}

TEST(InterpreterLeakyReLU, AllSixModes) {
  const char *ir = R"(
    func.func @main(%x: tensor<2xf32>, %p: tensor<1x2x2xf32>, %g: tensor<2xf32>)
        -> (tensor<2xf32>, tensor<1x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>,
            tensor<2xf32>) {
      %0 = graph.leaky_relu %x : (tensor<2xf32>) -> tensor<2xf32>
      %1 = graph.leaky_relu %p, %g {act_type = #graph.leaky_act_type<prelu>}
          : (tensor<1x2x2xf32>, tensor<2xf32>) -> tensor<1x2x2xf32>
      %2 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<elu>, slope = 1.0 : f32}
          : (tensor<2xf32>) -> tensor<2xf32>
      %3 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<selu>} : (tensor<2xf32>) -> tensor<2xf32>
      %4 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<gelu>} : (tensor<2xf32>) -> tensor<2xf32>
      %5 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<rrelu>} : (tensor<2xf32>) -> tensor<2xf32>
      return %0, %1, %2, %3, %4, %5 : tensor<2xf32>, tensor<1x2x2xf32>, tensor<2xf32>,
          tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
    })";
  Array x = make({2}, {-2, 3});
  auto r = runIR(ir, {x, make({1, 2, 2}, {-1, 1, -2, 2}), make({2}, {0.1, 0.2})});
  // leaky, slope 0.25: -2 -> -0.5.
  expectNear(r.outputs[0], {2}, {-0.5, 3});
  // prelu: channel 0 slope 0.1 ([-1, 1]), channel 1 slope 0.2 ([-2, 2]).
  expectNear(r.outputs[1], {1, 2, 2}, {-0.1, 1, -0.4, 2});
  // elu, slope 1: e^-2 - 1.
  expectNear(r.outputs[2], {2}, {std::exp(-2.0) - 1, 3});
  const double alpha = 1.6732632423543772848170429916717;
  const double lambda = 1.0507009873554804934193349852946;
  expectNear(r.outputs[3], {2}, {lambda * alpha * (std::exp(-2.0) - 1), lambda * 3});
  // gelu = x·Φ(x); Φ(-2) = 0.022750131948179195, Φ(3) = 0.9986501019683699.
  expectNear(r.outputs[4], {2}, {-2 * 0.022750131948179195, 3 * 0.9986501019683699},
             1e-12);
  // rrelu at inference: slope (0.125 + 0.334)/2 = 0.2295 (bounds are f32).
  double mid = (double(0.125f) + double(0.334f)) / 2;
  expectNear(r.outputs[5], {2}, {-2 * mid, 3});
}

TEST(InterpreterLeakyReLU, RReLUTrainingDrawsSlopesInBounds) {
  const char *ir = R"(
    func.func @main(%x: tensor<1000xf32>) -> tensor<1000xf32> {
      %0 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<rrelu>,
                                lower_bound = 0.1 : f32, upper_bound = 0.5 : f32}
          : (tensor<1000xf32>) -> tensor<1000xf32>
      return %0 : tensor<1000xf32>
    })";
  Array x = random({1000}, 4, -2, 2);
  Options train;
  train.training = true;
  train.seed = 42;
  Array a = run1(ir, {x}, train), b = run1(ir, {x}, train);
  EXPECT_EQ(a.data, b.data); // same seed, same draws
  double lo = 1, hi = 0;
  for (int i = 0; i < 1000; ++i) {
    if (x.data[i] > 0) {
      EXPECT_EQ(a.data[i], x.data[i]);
      continue;
    }
    double slope = a.data[i] / x.data[i];
    lo = std::min(lo, slope);
    hi = std::max(hi, slope);
  }
  EXPECT_GE(lo, double(0.1f));
  EXPECT_LE(hi, double(0.5f));
  EXPECT_GT(hi - lo, 0.3); // actually random, not a constant slope
}

//===----------------------------------------------------------------------===//
// API: conversions and errors
//===----------------------------------------------------------------------===//

TEST(InterpreterAPI, TensorRoundTrip) {
  kiln::Tensor t({2, 2}, {1.5f, -2.f, 3.25f, 0.f});
  Array a = kiln::ref::fromTensor(t);
  EXPECT_EQ(a.shape, (Shape{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -2, 3.25, 0}));
  kiln::Tensor back = kiln::ref::toTensor(a);
  EXPECT_EQ(back.shape, t.shape);
  EXPECT_EQ(back.values, t.values);
  EXPECT_EQ(kiln::ref::toTensors(kiln::ref::fromTensors({t, t})).size(), 2u);
}

const char *kAddIR = R"(
  func.func @main(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %0 = graph.elemwise_add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32> loc("plus0")
    return %0 : tensor<2x3xf32>
  })";

TEST(InterpreterErrors, WrongArgumentCount) {
  std::string msg = errorOf([] { runIR(kAddIR, {iota({2, 3})}); });
  EXPECT_NE(msg.find("takes 2 arguments, got 1"), std::string::npos) << msg;
}

TEST(InterpreterErrors, WrongArgumentShape) {
  std::string msg = errorOf([] { runIR(kAddIR, {iota({2, 3}), iota({3, 2})}); });
  EXPECT_NE(msg.find("argument #1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3, 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor<2x3xf32>"), std::string::npos) << msg;
}

TEST(InterpreterErrors, DataDoesNotFillShape) {
  std::string msg =
      errorOf([] { runIR(kAddIR, {iota({2, 3}), make({2, 3}, {1, 2})}); });
  EXPECT_NE(msg.find("argument #1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 values"), std::string::npos) << msg;
}

TEST(InterpreterErrors, UnsupportedOpIsNamed) {
  const char *ir = R"(
    func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
      %0 = "mystery.op"(%a) : (tensor<2xf32>) -> tensor<2xf32> loc("weird1")
      return %0 : tensor<2xf32>
    })";
  std::string msg = errorOf([&] { runIR(ir, {iota({2})}); });
  EXPECT_NE(msg.find("node 'weird1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mystery.op"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
}

TEST(InterpreterErrors, DynamicResultShapeIsAnError) {
  const char *ir = R"(
    func.func @main(%a: tensor<2xf32>) -> tensor<?xf32> {
      %0 = graph.activation %a {act_type = #graph.act_type<relu>} : (tensor<2xf32>) -> tensor<?xf32> loc("act")
      return %0 : tensor<?xf32>
    })";
  std::string msg = errorOf([&] { runIR(ir, {iota({2})}); });
  EXPECT_NE(msg.find("node 'act'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("static shapes"), std::string::npos) << msg;
}

TEST(InterpreterErrors, OpLevelShapeProblemNamesTheNode) {
  const char *ir = R"(
    func.func @main(%x: tensor<1x3x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32> {
      %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64}
          : (tensor<1x3x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32> loc("conv1")
      return %0 : tensor<1x4x3x3xf32>
    })";
  std::string msg =
      errorOf([&] {
    runIR(ir, {iota({1, 3, 5, 5}), iota({4, 2, 3, 3})}, Options(), false);
  });
  EXPECT_NE(msg.find("node 'conv1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("weight has shape (4, 2, 3, 3), expected (4, 3, 3, 3)"),
            std::string::npos)
      << msg;
}

} // namespace
