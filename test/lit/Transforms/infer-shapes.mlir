// kiln-graph-infer-shapes: result shapes, parameter and label shapes implied by
// the data (MXNet's InferShape), and the updated function type. Every expected
// shape is worked out by hand in the comment above it.
// RUN: kiln-opt %s -kiln-graph-infer-shapes -split-input-file | FileCheck %s

// A whole MLP from the data shape alone. Flatten: 1·28·28 = 784.
// CHECK-LABEL: func @mlp
// CHECK-SAME: (%{{.*}}: tensor<8x1x28x28xf32>, %{{.*}}: tensor<128x784xf32>, %{{.*}}: tensor<128xf32>, %{{.*}}: tensor<10x128xf32>, %{{.*}}: tensor<10xf32>, %{{.*}}: tensor<8xf32>) -> tensor<8x10xf32>
// CHECK: graph.flatten {{.*}} -> tensor<8x784xf32>
// CHECK: graph.fully_connected {{.*}} -> tensor<8x128xf32>
// CHECK: graph.activation {{.*}} -> tensor<8x128xf32>
// CHECK: graph.fully_connected {{.*}} -> tensor<8x10xf32>
// CHECK: graph.softmax_output {{.*}} : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8x10xf32>
// CHECK: return {{.*}} : tensor<8x10xf32>
func.func @mlp(%data: tensor<8x1x28x28xf32>, %w1: tensor<*xf32>, %b1: tensor<*xf32>,
               %w2: tensor<*xf32>, %b2: tensor<*xf32>, %label: tensor<*xf32>) -> tensor<*xf32> {
  %0 = graph.flatten %data : (tensor<8x1x28x28xf32>) -> tensor<*xf32>
  %1 = graph.fully_connected %0, %w1, %b1 {num_hidden = 128 : i64}
      : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %2 = graph.activation %1 {act_type = #graph.act_type<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = graph.fully_connected %2, %w2, %b2 {num_hidden = 10 : i64}
      : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %4 = graph.softmax_output %3, %label : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %4 : tensor<*xf32>
}

// -----

// flatten: K = 3·4 = 12, result (2, 5). Without flatten: K = 4, result (2, 3, 5).
// The new argument keeps its own element type (f16).
// CHECK-LABEL: func @fc
// CHECK-SAME: (%{{.*}}: tensor<2x3x4xf16>, %{{.*}}: tensor<5x12xf16>, %{{.*}}: tensor<5xf16>, %{{.*}}: tensor<5x4xf16>) -> (tensor<2x5xf16>, tensor<2x3x5xf16>)
func.func @fc(%x: tensor<2x3x4xf16>, %w: tensor<*xf16>, %b: tensor<*xf16>, %w2: tensor<*xf16>)
    -> (tensor<*xf16>, tensor<*xf16>) {
  %0 = graph.fully_connected %x, %w, %b {num_hidden = 5 : i64}
      : (tensor<2x3x4xf16>, tensor<*xf16>, tensor<*xf16>) -> tensor<*xf16>
  %1 = graph.fully_connected %x, %w2 {num_hidden = 5 : i64, flatten = false}
      : (tensor<2x3x4xf16>, tensor<*xf16>) -> tensor<*xf16>
  return %0, %1 : tensor<*xf16>, tensor<*xf16>
}

// -----

// pad 1 keeps 8: (8 + 2 − 3)/1 + 1 = 8; weight [8, 3, 3, 3].
// Grouped: (7 − 3)/2 + 1 = 3; weight [6, 4/2, 3, 3].
// CHECK-LABEL: func @conv
// CHECK-SAME: (%{{.*}}: tensor<1x3x8x8xf32>, %{{.*}}: tensor<8x3x3x3xf32>, %{{.*}}: tensor<8xf32>, %{{.*}}: tensor<2x4x7x7xf32>, %{{.*}}: tensor<6x2x3x3xf32>) -> (tensor<1x8x8x8xf32>, tensor<2x6x3x3xf32>)
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<*xf32>, %b: tensor<*xf32>,
                %y: tensor<2x4x7x7xf32>, %wg: tensor<*xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.convolution %x, %w, %b {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, num_filter = 8 : i64}
      : (tensor<1x3x8x8xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = graph.convolution %y, %wg {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                                  num_filter = 6 : i64, num_group = 2 : i64}
      : (tensor<2x4x7x7xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// target_shape (8, 9): the most a 4-wide input gives is 2·3 + 4 = 10, so
// pad/adj are (1, 0) and (1, 1) and the output is exactly (8, 9).
// Weight is [C, num_filter/num_group, *kernel] = [2, 3, 4, 4].
// Without target_shape: 2·(4 − 1) + 4 − 2·1 + 1 = 9 with pad 1, adj 1.
// CHECK-LABEL: func @deconv
// CHECK-SAME: (%{{.*}}: tensor<1x2x4x4xf32>, %{{.*}}: tensor<2x3x4x4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2x3x4x4xf32>) -> (tensor<1x3x8x9xf32>, tensor<1x3x9x9xf32>)
func.func @deconv(%x: tensor<1x2x4x4xf32>, %w: tensor<*xf32>, %b: tensor<*xf32>, %w2: tensor<*xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.deconvolution %x, %w, %b {kernel = array<i64: 4, 4>, stride = array<i64: 2, 2>,
                                       target_shape = array<i64: 8, 9>, num_filter = 3 : i64}
      : (tensor<1x2x4x4xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = graph.deconvolution %x, %w2 {kernel = array<i64: 4, 4>, stride = array<i64: 2, 2>,
                                    pad = array<i64: 1, 1>, adj = array<i64: 1, 1>, num_filter = 3 : i64}
      : (tensor<1x2x4x4xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// Kernel 3, stride 2 on an 8×9 plane:
//   valid: 1 + ⌊(8−3)/2⌋ = 3, 1 + ⌊(9−3)/2⌋ = 4
//   full:  1 + ⌈(8−3)/2⌉ = 4, 1 + ⌈(9−3)/2⌉ = 4
//   same:  ⌈8/2⌉ = 4, ⌈9/2⌉ = 5
// CHECK-LABEL: func @pooling
// CHECK: graph.pooling {{.*}} -> tensor<1x2x3x4xf32>
// CHECK: graph.pooling {{.*}}pooling_convention = #graph.pooling_convention<full>{{.*}} -> tensor<1x2x4x4xf32>
// CHECK: graph.pooling {{.*}}pooling_convention = #graph.pooling_convention<same>{{.*}} -> tensor<1x2x4x5xf32>
// CHECK: graph.pooling {{.*}}global_pool = true{{.*}} -> tensor<1x2x1x1xf32>
// Padding 1 with full: 1 + ⌈(5 + 2 − 2)/2⌉ = 4 (valid would give 3).
// CHECK: graph.pooling {{.*}} -> tensor<1x1x4x4xf32>
func.func @pooling(%x: tensor<1x2x8x9xf32>, %y: tensor<1x1x5x5xf32>) {
  %0 = graph.pooling %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>}
      : (tensor<1x2x8x9xf32>) -> tensor<*xf32>
  %1 = graph.pooling %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                         pooling_convention = #graph.pooling_convention<full>}
      : (tensor<1x2x8x9xf32>) -> tensor<*xf32>
  %2 = graph.pooling %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                         pooling_convention = #graph.pooling_convention<same>}
      : (tensor<1x2x8x9xf32>) -> tensor<*xf32>
  %3 = graph.pooling %x {kernel = array<i64: 3, 3>, global_pool = true,
                         pool_type = #graph.pool_type<avg>}
      : (tensor<1x2x8x9xf32>) -> tensor<*xf32>
  %4 = graph.pooling %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>,
                         pooling_convention = #graph.pooling_convention<full>}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  return
}

// -----

// BatchNorm parameters are [C] of `axis`: C = 4 for axis 1, C = 5 for axis −1.
// CHECK-LABEL: func @batch_norm
// CHECK-SAME: (%{{.*}}: tensor<2x4x3x5xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<5xf32>) -> (tensor<2x4x3x5xf32>, tensor<2x4x3x5xf32>)
func.func @batch_norm(%x: tensor<2x4x3x5xf32>, %g: tensor<*xf32>, %b: tensor<*xf32>,
                      %mm: tensor<*xf32>, %mv: tensor<*xf32>, %p: tensor<*xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.batch_norm %x, %g, %b, %mm, %mv
      : (tensor<2x4x3x5xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = graph.batch_norm %x, %p, %p, %p, %p {axis = -1 : i64}
      : (tensor<2x4x3x5xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// prelu gamma is [C] of axis 1; Embedding weight is [input_dim, output_dim]
// and the result appends output_dim to the index shape.
// CHECK-LABEL: func @prelu_embedding
// CHECK-SAME: (%{{.*}}: tensor<1x4x5x5xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4x5xf32>, %{{.*}}: tensor<100x8xf32>) -> (tensor<1x4x5x5xf32>, tensor<4x5x8xf32>)
func.func @prelu_embedding(%x: tensor<1x4x5x5xf32>, %g: tensor<*xf32>, %i: tensor<4x5xf32>, %w: tensor<*xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.leaky_relu %x, %g {act_type = #graph.leaky_act_type<prelu>}
      : (tensor<1x4x5x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = graph.embedding %i, %w {input_dim = 100 : i64, output_dim = 8 : i64}
      : (tensor<4x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// Labels: class ids (N) by default (the data shape without the last axis),
// (N, spatial size) with multi_output (MXNet's first choice), without the last
// axis with preserve_shape; regression labels take the data shape, except
// that MXNet gives an (N, 1) output an (N) label.
// CHECK-LABEL: func @labels
// CHECK-SAME: (%{{.*}}: tensor<8x10xf32>, %{{.*}}: tensor<8xf32>, %{{.*}}: tensor<2x5x3x3xf32>, %{{.*}}: tensor<2x9xf32>, %{{.*}}: tensor<2x3x5xf32>, %{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<4x1xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<4x3xf32>)
func.func @labels(%a: tensor<8x10xf32>, %la: tensor<*xf32>, %b: tensor<2x5x3x3xf32>, %lb: tensor<*xf32>,
                  %c: tensor<2x3x5xf32>, %lc: tensor<*xf32>, %d: tensor<4x1xf32>, %ld: tensor<*xf32>,
                  %e: tensor<4x3xf32>, %le: tensor<*xf32>) {
  %0 = graph.softmax_output %a, %la : (tensor<8x10xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = graph.softmax_output %b, %lb {multi_output = true} : (tensor<2x5x3x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  %2 = graph.softmax_output %c, %lc {preserve_shape = true} : (tensor<2x3x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  %3 = graph.linear_regression_output %d, %ld : (tensor<4x1xf32>, tensor<*xf32>) -> tensor<*xf32>
  %4 = graph.logistic_regression_output %e, %le : (tensor<4x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// Reshape codes on (10, 5, 4) and (2, 3, 4), following MXNet's documentation:
//   (-1, 0)             -> (40, 5);  with reverse -> (50, 4)
//   (-2, 1, 1)          -> (2, 3, 4, 1, 1)
//   (-3, 4)             -> (6, 4)
//   (0, -4, -1, 3, 0)   -> (2, 1, 3, 4)
//   (-4, 1, 2, -3)      -> (1, 2, 12)
// CHECK-LABEL: func @reshape
// CHECK: graph.reshape {{.*}} -> tensor<40x5xf32>
// CHECK: graph.reshape {{.*}} -> tensor<50x4xf32>
// CHECK: graph.reshape {{.*}} -> tensor<2x3x4x1x1xf32>
// CHECK: graph.reshape {{.*}} -> tensor<6x4xf32>
// CHECK: graph.reshape {{.*}} -> tensor<2x1x3x4xf32>
// CHECK: graph.reshape {{.*}} -> tensor<1x2x12xf32>
func.func @reshape(%x: tensor<10x5x4xf32>, %y: tensor<2x3x4xf32>) {
  %0 = graph.reshape %x {shape = array<i64: -1, 0>} : (tensor<10x5x4xf32>) -> tensor<*xf32>
  %1 = graph.reshape %x {shape = array<i64: -1, 0>, reverse = true} : (tensor<10x5x4xf32>) -> tensor<*xf32>
  %2 = graph.reshape %y {shape = array<i64: -2, 1, 1>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %3 = graph.reshape %y {shape = array<i64: -3, 4>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %4 = graph.reshape %y {shape = array<i64: 0, -4, -1, 3, 0>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %5 = graph.reshape %y {shape = array<i64: -4, 1, 2, -3>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

// CHECK-LABEL: func @split_concat_transpose
// Three parts of (2, 3) along axis 1, squeezed: (2) each.
// CHECK: graph.split {{.*}} -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
// Unsqueezed (2, 6) into three: (2, 2) each.
// CHECK: graph.split {{.*}} -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK: graph.concat {{.*}} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x6xf32>) -> tensor<2x10xf32>
// Empty axes reverse the dimensions.
// CHECK: graph.transpose {{.*}} -> tensor<10x2xf32>
func.func @split_concat_transpose(%x: tensor<2x3xf32>, %y: tensor<2x6xf32>) {
  %0:3 = graph.split %x {num_outputs = 3 : i64, squeeze_axis = true}
      : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  %1:3 = graph.split %y {num_outputs = 3 : i64}
      : (tensor<2x6xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  %2 = graph.concat %1#0, %1#1, %y : (tensor<*xf32>, tensor<*xf32>, tensor<2x6xf32>) -> tensor<*xf32>
  %3 = graph.transpose %2 : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// CHECK-LABEL: func @reductions
// axis 1 dropped: (2, 4).
// CHECK: graph.sum {{.*}} -> tensor<2x4xf32>
// axis −1 kept as 1: (2, 3, 1).
// CHECK: graph.mean {{.*}} -> tensor<2x3x1xf32>
// exclude (0, 2) reduces axis 1 only: (2, 4).
// CHECK: graph.max {{.*}} -> tensor<2x4xf32>
// no axis: (1); with keepdims: (1, 1, 1).
// CHECK: graph.min {{.*}} -> tensor<1xf32>
// CHECK: graph.min {{.*}} -> tensor<1x1x1xf32>
func.func @reductions(%x: tensor<2x3x4xf32>) {
  %0 = graph.sum %x {axis = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %1 = graph.mean %x {axis = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %2 = graph.max %x {axis = array<i64: 0, 2>, exclude = true} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %3 = graph.min %x : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %4 = graph.min %x {keepdims = true} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

// Same-shape ops fill an unknown operand from a known one; broadcast and
// broadcast_to follow NumPy rules (0 keeps a dimension).
// CHECK-LABEL: func @elementwise
// CHECK-SAME: (%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<4x1x3xf32>) -> (tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>)
func.func @elementwise(%a: tensor<*xf32>, %b: tensor<2x3xf32>, %c: tensor<4x1x3xf32>)
    -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.elemwise_mul %a, %b : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  %1 = graph.broadcast_add %c, %0 : (tensor<4x1x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  %2 = graph.broadcast_to %c {shape = array<i64: 0, 2, 0>} : (tensor<4x1x3xf32>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// MXNet's unknown dimension 0 in a creation op's shape, taken from the
// consumer: Gluon's LSTM layer exports its begin states as _zeros of shape
// (layers·directions, 0, hidden) = (2, 0, 4); the RNN op's data (5, 3, 6)
// gives the batch 3, and an elementwise add gives _ones its (3, 4).
// CHECK-LABEL: func @unknown_creation_dims
// CHECK: graph.zeros {shape = array<i64: 2, 3, 4>} : () -> tensor<2x3x4xf32>
// CHECK: graph.zeros {shape = array<i64: 2, 3, 4>} : () -> tensor<2x3x4xf32>
// CHECK: graph.rnn {{.*}} : (tensor<5x3x6xf32>, tensor<{{[0-9]+}}xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> (tensor<5x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>)
// CHECK: graph.ones {shape = array<i64: 3, 4>} : () -> tensor<3x4xf32>
func.func @unknown_creation_dims(%x: tensor<5x3x6xf32>, %w: tensor<*xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %h = graph.zeros {shape = array<i64: 2, 0, 4>} : () -> tensor<*xf32>
  %c = graph.zeros {shape = array<i64: 2, 0, 4>} : () -> tensor<*xf32>
  %y, %hy, %cy = graph.rnn %x, %w, %h, %c {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64,
      bidirectional = true, state_outputs = true, state_size = 4 : i64}
      : (tensor<5x3x6xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
      -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  %o = graph.ones {shape = array<i64: 0, 4>} : () -> tensor<*xf32>
  %s = graph.sum %hy {axis = array<i64: 0>} : (tensor<*xf32>) -> tensor<*xf32>
  %z = graph.elemwise_add %s, %o : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %y, %z : tensor<*xf32>, tensor<*xf32>
}
