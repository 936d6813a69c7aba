// kiln-plan-memory on a backward chain: the gradient ops that map their
// out_grad elementwise (activation_grad, leaky_relu_grad) may overwrite it,
// so a chain of them needs one block. Every tensor is 8x64 f32 = 2048 bytes;
// %d is the result (outside the arena).
//   naive:   a@0 b@2048 c@4096; 6144
//   inplace: b over a, c over b (each dies where the next is made); 2048
//   coshare: a→B0; b→B1 (a is released after b's request); c reuses B0; 4096
//   both:    as inplace; 2048
// The same after fusion and outlining: dot + activation_grad +
// leaky_relu_grad are one kernel whose output is c (2048).
// RUN: kiln-opt %s -kiln-plan-memory | FileCheck %s
// RUN: kiln-opt %s -kiln-graph-fuse -kiln-outline-kernels -kiln-plan-memory | FileCheck %s --check-prefix=FUSED
// CHECK-LABEL: func.func @main
// CHECK-SAME: kiln.arena_bytes = 2048 : i64
// CHECK-SAME: kiln.memory_report = {both = 2048 : i64, coshare = 4096 : i64, inplace = 2048 : i64, naive = 6144 : i64}
// CHECK: graph.dot {{.*}}kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// CHECK: graph.activation_grad {{.*}}kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// CHECK: graph.leaky_relu_grad {{.*}}kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// CHECK: graph.dot {{.*}}kiln.offset = array<i64: -1>, kiln.storage = array<i64: -1>
// FUSED-LABEL: func.func @main
// FUSED-SAME: kiln.arena_bytes = 2048 : i64
// FUSED: call @kiln_kernel_0({{.*}}kiln.offset = array<i64: 0>
// FUSED: call @kiln_kernel_1({{.*}}kiln.offset = array<i64: -1>
// FUSED: kiln.op_name = "graph.dot+graph.activation_grad+graph.leaky_relu_grad"
func.func @main(%x: tensor<8x64xf32>, %w: tensor<64x64xf32>, %y: tensor<8x64xf32>,
                %s: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %a = graph.dot %x, %w : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  %b = graph.activation_grad %a, %y {act_type = #graph.act_type<tanh>}
      : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %c = graph.leaky_relu_grad %b, %s {act_type = #graph.leaky_act_type<elu>}
      : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %d = graph.dot %c, %w : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  return %d : tensor<8x64xf32>
}
