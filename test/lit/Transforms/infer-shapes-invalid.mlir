// kiln-graph-infer-shapes failures: unknown inputs, and implied shapes that
// contradict declared ones (cases the verifier cannot see because some operand
// was still unranked).
// RUN: kiln-opt %s -split-input-file -kiln-graph-infer-shapes -verify-diagnostics

func.func @unknown_data(%x: tensor<*xf32>, %w: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'graph.fully_connected' op cannot infer the shape of operand 'data'}}
  %0 = graph.fully_connected %x, %w {num_hidden = 3 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @unknown_both(%a: tensor<*xf32>, %b: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'graph.elemwise_add' op cannot infer the shape of operand 'lhs'}}
  %0 = graph.elemwise_add %a, %b : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Broadcasting cannot tell an operand's shape from the other one.
func.func @unknown_rhs(%a: tensor<2x3xf32>, %b: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'graph.broadcast_add' op cannot infer the shape of operand 'rhs'}}
  %0 = graph.broadcast_add %a, %b : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @unknown_concat_input(%a: tensor<2x3xf32>, %b: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'graph.concat' op cannot infer the shape of operand 'inputs #1'}}
  %0 = graph.concat %a, %b : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// The failure is reported at the first op that cannot be inferred, after the
// ones before it succeeded.
func.func @unknown_label_data(%x: tensor<2x4xf32>, %y: tensor<*xf32>, %l: tensor<*xf32>) {
  %0 = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2x4xf32>) -> tensor<*xf32>
  // expected-error @+1 {{'graph.softmax_output' op cannot infer the shape of operand 'data'}}
  %1 = graph.softmax_output %y, %l : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// The bias is unranked, so the verifier left the weight alone; inference
// derives (3, 4) for it.
func.func @weight_conflict(%x: tensor<2x4xf32>, %w: tensor<3x5xf32>, %b: tensor<*xf32>) {
  // expected-error @+1 {{'graph.fully_connected' op operand 'weight' has shape (3, 5) but the shape rule gives (3, 4)}}
  %0 = graph.fully_connected %x, %w, %b {num_hidden = 3 : i64} : (tensor<2x4xf32>, tensor<3x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dynamic_weight_conflict(%x: tensor<2x4xf32>, %w: tensor<?x5xf32>) {
  // expected-error @+1 {{'graph.fully_connected' op operand 1 of type 'tensor<?x5xf32>' cannot take the inferred shape (3, 4)}}
  %0 = graph.fully_connected %x, %w {num_hidden = 3 : i64} : (tensor<2x4xf32>, tensor<?x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @result_conflict(%x: tensor<2x4xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.fully_connected' op result 0 has shape (2, 9) but the shape rule gives (2, 3)}}
  %0 = graph.fully_connected %x, %w {num_hidden = 3 : i64} : (tensor<2x4xf32>, tensor<*xf32>) -> tensor<2x9xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x8x5x5xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.convolution' op num_group (3) must divide the input channels (8)}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 6 : i64, num_group = 3 : i64} : (tensor<1x8x5x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @deconv_target(%x: tensor<1x2x4x4xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.deconvolution' op target_shape[1] (12) is too big: the input allows at most 10}}
  %0 = graph.deconvolution %x, %w {kernel = array<i64: 4, 4>, stride = array<i64: 2, 2>, target_shape = array<i64: 8, 12>, num_filter = 4 : i64} : (tensor<1x2x4x4xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// The label was pinned by the first head; the second head needs another shape.
func.func @label_conflict(%a: tensor<8x10xf32>, %b: tensor<4x10xf32>, %l: tensor<*xf32>) {
  %0 = graph.softmax_output %a, %l : (tensor<8x10xf32>, tensor<*xf32>) -> tensor<*xf32>
  // expected-error @+1 {{'graph.softmax_output' op operand 'label' has shape (8) but the shape rule gives (4) (class ids) or (4, 10) (probabilities)}}
  %1 = graph.softmax_output %b, %l : (tensor<4x10xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<2x8x8xf32>) {
  // expected-error @+1 {{'graph.pooling' op expects a rank-4 input for a 2-D kernel, got rank 3}}
  %0 = graph.pooling %x {kernel = array<i64: 2, 2>} : (tensor<2x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_infer(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'graph.reshape' op cannot infer the shape of operand 'data'}}
  %0 = graph.reshape %x {shape = array<i64: -1>} : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// An unknown dimension is not inferred backward through a FullyConnected
// (Gluon's unrolled LSTMCell begin state): the error names the creation op.
func.func @unknown_creation_dim_behind_fc(%w: tensor<8x4xf32>) -> tensor<*xf32> {
  // expected-remark @+1 {{shape (0, 4) has MXNet's unknown dimension 0}}
  %h = graph.zeros {shape = array<i64: 0, 4>} : () -> tensor<*xf32>
  // expected-error @+1 {{cannot infer the shape of operand 'data'}}
  %0 = graph.fully_connected %h, %w {num_hidden = 8 : i64} : (tensor<*xf32>, tensor<8x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Known dimensions must agree with what the consumer implies.
func.func @unknown_creation_dim_mismatch(%x: tensor<5x3x6xf32>, %w: tensor<*xf32>) -> tensor<*xf32> {
  %h = graph.zeros {shape = array<i64: 2, 0, 4>} : () -> tensor<*xf32>
  // expected-error @+1 {{operand 2 needs shape (1, 3, 4) but its producer 'graph.zeros' has shape (2, 0, 4) (0: unknown)}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 1 : i64, state_size = 4 : i64}
      : (tensor<5x3x6xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
