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
