// Round trip and shape inference of the RNN family (GraphRNNOps.td). Every
// shape is worked out by hand from MXNet's RNNShape / GetRnnParamSize in the
// comment above it; the verifier re-derives them.
// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-graph-infer-shapes | FileCheck %s --check-prefix=INFER

// lstm, I = 3, H = 2, one layer: (I + H + 2)·4H = 56 parameters.
// CHECK-LABEL: func @lstm
// CHECK: graph.rnn %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64, state_outputs = true, state_size = 2 : i64} : (tensor<3x2x3xf32>, tensor<56xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> (tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
func.func @lstm(%x: tensor<3x2x3xf32>, %w: tensor<56xf32>, %h: tensor<1x2x2xf32>, %c: tensor<1x2x2xf32>) {
  %y, %hy, %cy = graph.rnn %x, %w, %h, %c {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64,
                                          state_size = 2 : i64, state_outputs = true}
      : (tensor<3x2x3xf32>, tensor<56xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
      -> (tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
  return
}

// -----

// gru, 2 layers, bidirectional: 3H·D = 12 rows per layer; layer 0 has
// (I + H + 2)·12 = 84, layer 1 (D·H + H + 2)·12 = 96: 180. Output D·H = 4
// wide, states L·D = 4.
// CHECK-LABEL: func @gru
// CHECK: graph.rnn {{.*}} : (tensor<5x1x3xf32>, tensor<180xf32>, tensor<4x1x2xf32>) -> (tensor<5x1x4xf32>, tensor<4x1x2xf32>)
// CHECK: graph.rnn_grad {{.*}} : (tensor<5x1x3xf32>, tensor<180xf32>, tensor<4x1x2xf32>, tensor<5x1x4xf32>, tensor<4x1x2xf32>) -> (tensor<5x1x3xf32>, tensor<180xf32>, tensor<4x1x2xf32>)
func.func @gru(%x: tensor<5x1x3xf32>, %w: tensor<180xf32>, %h: tensor<4x1x2xf32>,
               %dy: tensor<5x1x4xf32>) {
  %y, %hy = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 2 : i64,
                                  state_size = 2 : i64, bidirectional = true, state_outputs = true}
      : (tensor<5x1x3xf32>, tensor<180xf32>, tensor<4x1x2xf32>) -> (tensor<5x1x4xf32>, tensor<4x1x2xf32>)
  %dx, %dw, %dh = graph.rnn_grad %x, %w, %h, %dy, %hy {mode = #graph.rnn_mode<gru>, num_layers = 2 : i64,
                                                      state_size = 2 : i64, bidirectional = true}
      : (tensor<5x1x3xf32>, tensor<180xf32>, tensor<4x1x2xf32>, tensor<5x1x4xf32>, tensor<4x1x2xf32>)
      -> (tensor<5x1x3xf32>, tensor<180xf32>, tensor<4x1x2xf32>)
  return
}

// -----

// rnn_tanh with sequence lengths (one per batch element): (3 + 2 + 2)·2 = 14.
// CHECK-LABEL: func @lengths
// CHECK: graph.rnn {{.*}}use_sequence_length = true{{.*}} : (tensor<4x3x3xf32>, tensor<14xf32>, tensor<1x3x2xf32>, tensor<3xf32>) -> tensor<4x3x2xf32>
func.func @lengths(%x: tensor<4x3x3xf32>, %w: tensor<14xf32>, %h: tensor<1x3x2xf32>, %n: tensor<3xf32>) {
  %y = graph.rnn %x, %w, %h, %n {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64,
                                 state_size = 2 : i64, use_sequence_length = true}
      : (tensor<4x3x3xf32>, tensor<14xf32>, tensor<1x3x2xf32>, tensor<3xf32>) -> tensor<4x3x2xf32>
  return
}

// -----

// Shape inference fills the parameter vector and the states from the data
// (MXNet's RNNShape). lstm, I = 3, H = 3, projection P = 2, 2 layers, both
// directions: 4H·D = 24 rows per layer, (I + P + 2)·24 = 168 and
// (D·P + P + 2)·24 = 192, plus the projections P·H·L·D = 24: 384. The state
// and the output are P wide, the cell H.
// INFER-LABEL: func @projection
// INFER-SAME: (%{{.*}}: tensor<2x5x3xf32>, %{{.*}}: tensor<384xf32>, %{{.*}}: tensor<4x5x2xf32>, %{{.*}}: tensor<4x5x3xf32>) -> (tensor<2x5x4xf32>, tensor<4x5x2xf32>, tensor<4x5x3xf32>)
// INFER: graph.rnn {{.*}} -> (tensor<2x5x4xf32>, tensor<4x5x2xf32>, tensor<4x5x3xf32>)
// CHECK-LABEL: func @projection
func.func @projection(%x: tensor<2x5x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>, %c: tensor<*xf32>)
    -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %y, %hy, %cy = graph.rnn %x, %w, %h, %c {mode = #graph.rnn_mode<lstm>, num_layers = 2 : i64,
                                          state_size = 3 : i64, projection_size = 2 : i64,
                                          bidirectional = true, state_outputs = true}
      : (tensor<2x5x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
      -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y, %hy, %cy : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Gluon's weight packing: Concat of the flattened weights (24 + 16 = 40).
// CHECK-LABEL: func @param_concat
// CHECK: graph.rnn_param_concat {{.*}} {dim = 0 : i64} : (tensor<24xf32>, tensor<16xf32>) -> tensor<*xf32>
// INFER-LABEL: func @param_concat
// INFER: graph.rnn_param_concat {{.*}} -> tensor<40xf32>
func.func @param_concat(%a: tensor<24xf32>, %b: tensor<16xf32>) -> tensor<*xf32> {
  %w = graph.rnn_param_concat %a, %b {dim = 0 : i64} : (tensor<24xf32>, tensor<16xf32>) -> tensor<*xf32>
  return %w : tensor<*xf32>
}
