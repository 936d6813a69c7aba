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
