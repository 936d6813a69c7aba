// kiln-graph-training-mode on graph.rnn (TrainingModeOpInterface): dropout
// between layers becomes a dropout_mask operand of shape
// (L − 1, T, N, D·R); without dropout between layers the op is unchanged.
// RUN: kiln-opt %s -split-input-file -kiln-graph-training-mode | FileCheck %s

// gru, 3 layers, both directions, p = 0.25: masks (2, T=4, N=2, D·H=6),
// seed 0 (the first random op; not printed, the default).
// CHECK-LABEL: func @dropout
// CHECK-SAME: %[[C:arg[0-9]+]]: tensor<1xf32> {graph.kind = "rng_counter", graph.name = "rng_counter"}
// CHECK: %[[M:.*]] = graph.dropout_mask %[[C]] {p = 2.500000e-01 : f32, shape = array<i64: 2, 4, 2, 6>} : (tensor<1xf32>) -> tensor<2x4x2x6xf32>
// CHECK: graph.rnn %{{.*}}, %{{.*}}, %{{.*}}, %[[M]] {{.*}} : (tensor<4x2x3xf32>, tensor<{{[0-9]+}}xf32>, tensor<6x2x3xf32>, tensor<2x4x2x6xf32>) -> tensor<4x2x6xf32>
func.func @dropout(%x: tensor<4x2x3xf32>, %w: tensor<540xf32>, %h: tensor<6x2x3xf32>) -> tensor<4x2x6xf32> {
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 3 : i64, state_size = 3 : i64,
                             bidirectional = true, p = 0.25 : f32}
      : (tensor<4x2x3xf32>, tensor<540xf32>, tensor<6x2x3xf32>) -> tensor<4x2x6xf32>
  return %y : tensor<4x2x6xf32>
}

// -----

// One layer: nothing to drop between.
// CHECK-LABEL: func @one_layer
// CHECK-NOT: dropout_mask
// CHECK: graph.rnn %{{.*}}, %{{.*}}, %{{.*}} {
func.func @one_layer(%x: tensor<4x2x3xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>) -> tensor<4x2x2xf32> {
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64,
                             p = 0.5 : f32}
      : (tensor<4x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>) -> tensor<4x2x2xf32>
  return %y : tensor<4x2x2xf32>
}
