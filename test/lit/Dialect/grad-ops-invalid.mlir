// Verifier diagnostics of the training and gradient ops.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @dot_contraction(%a: tensor<8x10xf32>, %b: tensor<9x784xf32>) {
  // expected-error @+1 {{'graph.dot' op contraction sizes differ: 8 (lhs (8, 10)) and 9 (rhs (9, 784))}}
  %0 = graph.dot %a, %b {transpose_a = true} : (tensor<8x10xf32>, tensor<9x784xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_empty(%a: tensor<8x10xf32>) {
  // expected-error @+1 {{'graph.slice_axis' op slice [5, 5) is empty or out of range for axis 1 of size 10}}
  %0 = graph.slice_axis %a {axis = 1 : i64, begin = 5 : i64, end = 5 : i64} : (tensor<8x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @weight_grad_mismatch(%x: tensor<4x1x28x28xf32>, %dy: tensor<4x20x23x24xf32>) {
  // expected-error @+1 {{'graph.convolution_weight_grad' op out_grad (4, 20, 23, 24) is not the convolution output of data (4, 1, 28, 28) in spatial dimension 0 (expected 24)}}
  %0 = graph.convolution_weight_grad %x, %dy {kernel = array<i64: 5, 5>} : (tensor<4x1x28x28xf32>, tensor<4x20x23x24xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_grad_shape(%x: tensor<1x8x8x8xf32>, %dy: tensor<1x8x3x4xf32>) {
  // expected-error @+1 {{'graph.pooling_grad' op operand 'out_grad' has shape (1, 8, 3, 4) but the shape rule gives (1, 8, 4, 4)}}
  %0 = graph.pooling_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<1x8x8x8xf32>, tensor<1x8x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @bn_grad_stats(%x: tensor<2x4x3x3xf32>, %c: tensor<4xf32>, %bad: tensor<3xf32>) {
  // expected-error @+1 {{'graph.batch_norm_grad' op operand 'mean' has shape (3) but the shape rule gives (4)}}
  %0:3 = graph.batch_norm_grad %x, %c, %bad, %c, %x : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @softmax_output_grad_label(%p: tensor<8x10xf32>, %l: tensor<7xf32>) {
  // expected-error @+1 {{'graph.softmax_output_grad' op operand 'label' has shape (7) but the shape rule gives (8) (class ids) or (8, 10) (probabilities)}}
  %0 = graph.softmax_output_grad %p, %l : (tensor<8x10xf32>, tensor<7xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @zeros_negative() {
  // expected-error @+1 {{'graph.zeros' op shape entries must be non-negative, got -2}}
  %0 = graph.zeros {shape = array<i64: 3, -2>} : () -> tensor<*xf32>
  return
}

// -----

func.func @zeros_result(%c: tensor<1xf32>) {
  // expected-error @+1 {{'graph.zeros' op result 0 has shape (2, 2) but the shape rule gives (2, 3)}}
  %0 = graph.zeros {shape = array<i64: 2, 3>} : () -> tensor<2x2xf32>
  return
}

// -----

func.func @dropout_mask_p(%c: tensor<1xf32>) {
  // expected-error @+1 {{'graph.dropout_mask' op p must be in [0, 1), got 1}}
  %0 = graph.dropout_mask %c {p = 1.0 : f32, shape = array<i64: 2>} : (tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dropout_mask_axes(%c: tensor<1xf32>) {
  // expected-error @+1 {{'graph.dropout_mask' op axes entry 2 out of range for shape (2, 3)}}
  %0 = graph.dropout_mask %c {shape = array<i64: 2, 3>, axes = array<i64: 2>} : (tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dropout_mask_counter(%c: tensor<2xf32>) {
  // expected-error @+1 {{'graph.dropout_mask' op operand 'counter' has shape (2) but the shape rule gives (1)}}
  %0 = graph.dropout_mask %c {shape = array<i64: 2, 3>} : (tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @random_uniform_bounds(%c: tensor<1xf32>) {
  // expected-error @+1 {{'graph.random_uniform' op low must not exceed high}}
  %0 = graph.random_uniform %c {low = 2.0 : f32, high = 1.0 : f32, shape = array<i64: 2>} : (tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @leaky_relu_grad_gamma(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.leaky_relu_grad' op act_type prelu needs a gamma operand}}
  %0 = graph.leaky_relu_grad %x, %x {act_type = #graph.leaky_act_type<prelu>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @leaky_relu_grad_shapes(%x: tensor<2x3xf32>, %dy: tensor<3x2xf32>) {
  // expected-error @+1 {{'graph.leaky_relu_grad' op operand 'data' has shape (2, 3) but the shape rule gives (3, 2)}}
  %0 = graph.leaky_relu_grad %dy, %x : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_grad_nsize(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+1 {{'graph.lrn_grad' op nsize must be odd and positive, got 4}}
  %0 = graph.lrn_grad %x, %x {nsize = 4 : i64} : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @embedding_grad_shape(%i: tensor<4x5xf32>, %dy: tensor<4x5x7xf32>) {
  // expected-error @+1 {{'graph.embedding_grad' op operand 'out_grad' has shape (4, 5, 7) but the shape rule gives (4, 5, 8)}}
  %0 = graph.embedding_grad %i, %dy {input_dim = 10 : i64, output_dim = 8 : i64} : (tensor<4x5xf32>, tensor<4x5x7xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @compare_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'graph.broadcast_equal' op operands could not be broadcast together with shapes (2, 3) and (4)}}
  %0 = graph.broadcast_equal %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}
