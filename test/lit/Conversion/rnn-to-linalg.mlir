// RUN: kiln-opt %s --split-input-file --kiln-convert-graph-to-linalg | FileCheck %s

// graph.rnn (lstm, one layer and direction): the whole sequence times Wxᵀ in
// one GEMM (6 = T·N rows, 8 = 4H gate rows), then one scf.for over the 3
// steps with the recurrent GEMM h·Whᵀ and one generic for the cell (state,
// output, cell); the states live in [T + 1, N, H] stacks.
// CHECK-LABEL: func.func @lstm
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %{{.*}} : tensor<6x3xf32>, tensor<8x3xf32>) outs(%{{.*}} : tensor<6x8xf32>)
// CHECK: scf.for {{.*}} -> (tensor<4x2x2xf32>, tensor<4x2x2xf32>, tensor<3x2x2xf32>)
// CHECK:   linalg.matmul {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x2xf32>, tensor<8x2xf32>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK:   linalg.generic
// CHECK:   } -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK:   tensor.insert_slice
// CHECK:   scf.yield
// CHECK-NOT: graph.
func.func @lstm(%x: tensor<3x2x3xf32>, %w: tensor<56xf32>, %h: tensor<1x2x2xf32>, %c: tensor<1x2x2xf32>)
    -> (tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) {
  %y, %hy, %cy = graph.rnn %x, %w, %h, %c {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64,
                                          state_size = 2 : i64, state_outputs = true}
      : (tensor<3x2x3xf32>, tensor<56xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
      -> (tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
  return %y, %hy, %cy : tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>
}

// -----

// graph.rnn_grad (rnn_tanh): the forward loop again, keeping the gates, then
// a loop backwards in time (the state gradient stack, the gates' gradients),
// then the whole-sequence GEMMs: dx = dA·Wx [6, 3], dWx = dAᵀ·x [2, 3],
// dWh = dAᵀ·hprev [2, 2].
// CHECK-LABEL: func.func @tanh_grad
// CHECK: scf.for
// CHECK: scf.for
// CHECK: linalg.matmul {{.*}} : tensor<6x2xf32>, tensor<2x3xf32>) outs(%{{.*}} : tensor<6x3xf32>)
// CHECK: linalg.matmul {{.*}} : tensor<6x2xf32>, tensor<6x3xf32>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK: linalg.matmul {{.*}} : tensor<6x2xf32>, tensor<6x2xf32>) outs(%{{.*}} : tensor<2x2xf32>)
// CHECK-NOT: graph.
func.func @tanh_grad(%x: tensor<3x2x3xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>,
                     %dy: tensor<3x2x2xf32>, %dh: tensor<1x2x2xf32>)
    -> (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>) {
  %dx, %dw, %dh0 = graph.rnn_grad %x, %w, %h, %dy, %dh {mode = #graph.rnn_mode<rnn_tanh>,
                                                        num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>, tensor<3x2x2xf32>, tensor<1x2x2xf32>)
      -> (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>)
  return %dx, %dw, %dh0 : tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>
}

// -----

// The Sequence ops: one generic each over the (T, N, rest) view. The mask
// selects by t < ⌊length⌋; SequenceLast and SequenceReverse gather with
// tensor.extract at the step the length picks; sequence_last_grad selects dy
// at step ⌊length⌋ − 1 (T − 1 here, without lengths).
// CHECK-LABEL: func.func @sequence
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x2x3xf32>, tensor<2xf32>)
// CHECK:   arith.fptosi
// CHECK:   arith.cmpi slt
// CHECK:   arith.select
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2xf32>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK:   tensor.extract
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2xf32>) outs(%{{.*}} : tensor<4x2x3xf32>)
// CHECK:   tensor.extract
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xf32>) outs(%{{.*}} : tensor<4x2x3xf32>)
// CHECK:   arith.cmpi eq
// CHECK-NOT: graph.
func.func @sequence(%x: tensor<4x2x3xf32>, %l: tensor<2xf32>, %dy: tensor<2x3xf32>)
    -> (tensor<4x2x3xf32>, tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>) {
  %m = graph.sequence_mask %x, %l {use_sequence_length = true, value = -1.0 : f32}
      : (tensor<4x2x3xf32>, tensor<2xf32>) -> tensor<4x2x3xf32>
  %y = graph.sequence_last %x, %l {use_sequence_length = true}
      : (tensor<4x2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  %r = graph.sequence_reverse %x, %l {use_sequence_length = true}
      : (tensor<4x2x3xf32>, tensor<2xf32>) -> tensor<4x2x3xf32>
  %dx = graph.sequence_last_grad %x, %dy : (tensor<4x2x3xf32>, tensor<2x3xf32>) -> tensor<4x2x3xf32>
  return %m, %y, %r, %dx : tensor<4x2x3xf32>, tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>
}
