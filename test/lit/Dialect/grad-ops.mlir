// Round trip of the training and gradient ops (GraphGradOps.td). Types were
// computed by hand; the verifier re-derives them.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s

// CHECK-LABEL: func @grad_ops
func.func @grad_ops(%x: tensor<8x784xf32>, %dy: tensor<8x10xf32>, %w: tensor<10x784xf32>,
                    %img: tensor<4x1x28x28xf32>, %dconv: tensor<4x20x24x24xf32>,
                    %p: tensor<1x8x8x8xf32>, %dp: tensor<1x8x4x4xf32>,
                    %bn: tensor<2x4x3x3xf32>, %c: tensor<4xf32>, %l: tensor<8xf32>,
                    %r: tensor<4x1xf32>, %rl: tensor<4xf32>) {
  // [8,10]ᵀ·[8,784] = [10, 784].
  // CHECK: graph.dot %{{.*}}, %{{.*}} {transpose_a = true} : (tensor<8x10xf32>, tensor<8x784xf32>) -> tensor<10x784xf32>
  %0 = graph.dot %dy, %x {transpose_a = true} : (tensor<8x10xf32>, tensor<8x784xf32>) -> tensor<10x784xf32>
  // CHECK: graph.dot {{.*}} : (tensor<8x10xf32>, tensor<10x784xf32>) -> tensor<8x784xf32>
  %1 = graph.dot %dy, %w : (tensor<8x10xf32>, tensor<10x784xf32>) -> tensor<8x784xf32>
  // Negative bounds count from the back: [-8, -5) of 10 is [2, 5).
  // CHECK: graph.slice_axis {{.*}} -> tensor<8x3xf32>
  %2 = graph.slice_axis %dy {axis = 1 : i64, begin = -8 : i64, end = -5 : i64} : (tensor<8x10xf32>) -> tensor<8x3xf32>
  // CHECK: graph.convolution_weight_grad {{.*}} -> tensor<20x1x5x5xf32>
  %3 = graph.convolution_weight_grad %img, %dconv {kernel = array<i64: 5, 5>}
      : (tensor<4x1x28x28xf32>, tensor<4x20x24x24xf32>) -> tensor<20x1x5x5xf32>
  // CHECK: graph.pooling_grad {{.*}} -> tensor<1x8x8x8xf32>
  %4 = graph.pooling_grad %p, %dp {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pool_type = #graph.pool_type<avg>}
      : (tensor<1x8x8x8xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x8x8xf32>
  // CHECK: graph.activation_grad {{.*}} {act_type = #graph.act_type<tanh>}
  %5 = graph.activation_grad %dy, %dy {act_type = #graph.act_type<tanh>} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<8x10xf32>
  // CHECK: graph.batch_norm_train {{.*}} -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %y, %m, %v = graph.batch_norm_train %bn, %c, %c {eps = 1.0e-05 : f64}
      : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: graph.batch_norm_grad {{.*}}fix_gamma = false{{.*}} -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %dx, %dg, %db = graph.batch_norm_grad %bn, %c, %m, %v, %y {fix_gamma = false}
      : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>)
      -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: graph.softmax_output_grad {{.*}}normalization = #graph.normalization<batch>{{.*}} -> tensor<8x10xf32>
  %6 = graph.softmax_output_grad %dy, %l {normalization = #graph.normalization<batch>}
      : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8x10xf32>
  // CHECK: graph.regression_output_grad {{.*}}kind = #graph.regression_kind<mae>
  %7 = graph.regression_output_grad %r, %rl {kind = #graph.regression_kind<mae>}
      : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xf32>
  // CHECK: graph.softmax_grad {{.*}}log = true
  %8 = graph.softmax_grad %dy, %dy {axis = 1 : i64, log = true} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<8x10xf32>
  return
}

// The ops the gradient rules and training mode build from.
// CHECK-LABEL: func @rule_ops
func.func @rule_ops(%x: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<1xf32>,
                    %img: tensor<1x8x4x4xf32>, %g: tensor<3xf32>, %i: tensor<4x5xf32>,
                    %de: tensor<4x5x8xf32>) {
  // CHECK: graph.zeros {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
  %0 = graph.zeros {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
  // CHECK: graph.log %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = graph.log %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.broadcast_equal {{.*}} -> tensor<2x3xf32>
  %2 = graph.broadcast_equal %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.broadcast_greater_equal {{.*}} -> tensor<2x3xf32>
  %3 = graph.broadcast_greater_equal %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.broadcast_lesser_equal {{.*}} -> tensor<2x3xf32>
  %4 = graph.broadcast_lesser_equal %b, %x : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.greater_equal_scalar {{.*}}scalar = 0.000000e+00 : f64
  %5 = graph.greater_equal_scalar %x {scalar = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // MXNet's default scalar, 1, is not printed.
  // CHECK: graph.lesser_equal_scalar %{{[^ ]*}} : (tensor<2x3xf32>)
  %6 = graph.lesser_equal_scalar %x {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.dropout_mask %{{.*}} {axes = array<i64: -1>, p = 2.500000e-01 : f32, seed = 7 : i64, shape = array<i64: 2, 3>} : (tensor<1xf32>) -> tensor<2x3xf32>
  %7 = graph.dropout_mask %c {p = 0.25 : f32, seed = 7 : i64, shape = array<i64: 2, 3>, axes = array<i64: -1>}
      : (tensor<1xf32>) -> tensor<2x3xf32>
  // CHECK: graph.random_uniform {{.*}}high = 3.340000e-01 : f32, low = 1.250000e-01 : f32{{.*}} -> tensor<2x3xf32>
  %8 = graph.random_uniform %c {low = 0.125 : f32, high = 0.334 : f32, shape = array<i64: 2, 3>}
      : (tensor<1xf32>) -> tensor<2x3xf32>
  // CHECK: graph.leaky_relu_grad {{.*}}act_type = #graph.leaky_act_type<prelu>{{.*}} -> tensor<2x3xf32>
  %9 = graph.leaky_relu_grad %x, %x, %g {act_type = #graph.leaky_act_type<prelu>}
      : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.leaky_relu_grad {{.*}}act_type = #graph.leaky_act_type<gelu>{{.*}} -> tensor<2x3xf32>
  %10 = graph.leaky_relu_grad %x, %x {act_type = #graph.leaky_act_type<gelu>}
      : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.lrn_grad {{.*}}nsize = 5 : i64{{.*}} -> tensor<1x8x4x4xf32>
  %11 = graph.lrn_grad %img, %img {nsize = 5 : i64}
      : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  // CHECK: graph.embedding_grad {{.*}} -> tensor<100x8xf32>
  %12 = graph.embedding_grad %i, %de {input_dim = 100 : i64, output_dim = 8 : i64}
      : (tensor<4x5xf32>, tensor<4x5x8xf32>) -> tensor<100x8xf32>
  return
}
