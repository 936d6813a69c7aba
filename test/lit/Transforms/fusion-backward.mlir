// kiln-graph-fuse on training graphs (kiln-autodiff output): the gradient
// kernels as producers, activation_grad / elementwise chains as their
// epilogues, and the multi-result producers batch_norm_train and
// batch_norm_grad, whose chain follows result 0 while the other results
// leave the kernel as extra outputs. The CHECK lines show the groups (and
// the epilogues moved next to a multi-result producer), the KERNEL lines the
// kernels outlined from them; remarks say why a chain stops.
// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse=remarks=1 -verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse -kiln-outline-kernels | FileCheck %s --check-prefix=KERNEL

// Training-mode BatchNorm + relu, with the moving-average updates of the
// batch statistics between them (as kiln-graph-training-mode emits them):
// the relu moves up next to the BatchNorm, so the kernel that replaces the
// pair has produced mean and var before the updates read them.
// CHECK-LABEL: func.func @main
// CHECK: graph.batch_norm_train {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.mul_scalar %mean
// CHECK-NEXT: graph.mul_scalar %var
// KERNEL-LABEL: func.func @main
// KERNEL-NEXT: %[[K:.*]]:3 = call @kiln_kernel_0(%arg0, %arg1, %arg2) : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>)
// KERNEL-NEXT: call @kiln_kernel_1(%[[K]]#0)
// KERNEL-NEXT: call @kiln_kernel_2(%[[K]]#1)
// KERNEL-NEXT: return %[[K]]#2
// KERNEL: func.func private @kiln_kernel_0
// KERNEL-SAME: kiln.op_name = "graph.batch_norm_train+graph.activation"
// KERNEL: %[[Y:.*]], %[[M:.*]], %[[V:.*]] = graph.batch_norm_train
// KERNEL-NEXT: %[[R:.*]] = graph.activation %[[Y]]
// KERNEL-NEXT: return %[[M]], %[[V]], %[[R]]
func.func @main(%x: tensor<2x4x3x3xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>)
    -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) {
  %y, %mean, %var = graph.batch_norm_train %x, %g, %b {fix_gamma = false}
      : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %m = graph.mul_scalar %mean {scalar = 1.000000e-01 : f64} : (tensor<4xf32>) -> tensor<4xf32>
  %v = graph.mul_scalar %var {scalar = 1.000000e-01 : f64} : (tensor<4xf32>) -> tensor<4xf32>
  %r = graph.activation %y {act_type = #graph.act_type<relu>} : (tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %r, %m, %v : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// An epilogue of a multi-result producer that also reads a value computed
// after the producer cannot move up next to it, so it is not fused.
// CHECK-LABEL: func.func @main
// CHECK-NOT: kiln.fusion_group
// KERNEL-LABEL: func.func @main
// KERNEL-COUNT-3: call @kiln_kernel_
// KERNEL-NEXT: return
func.func @main(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>)
    -> (tensor<2x4xf32>, tensor<4xf32>) {
  // expected-remark @+1 {{not fused with its consumer: 'graph.elemwise_add' also reads a value computed after the multi-result producer (it cannot move next to it)}}
  %y, %mean, %var = graph.batch_norm_train %x, %g, %b
      : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %e = graph.softmax %x : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %s = graph.elemwise_add %y, %e : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %s, %mean : tensor<2x4xf32>, tensor<4xf32>
}

// -----

// FullyConnected's backward: dX = dY·W with the tanh gradient as its
// epilogue (one kernel); dW = dYᵀ·X is a graph result.
// CHECK-LABEL: func.func @main
// CHECK: graph.dot %arg0, %arg1 {kiln.fusion_group = 0 : i64}
// CHECK-NEXT: graph.activation_grad {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.dot {{.*}}transpose_a = true
// KERNEL-LABEL: func.func @main
// KERNEL: func.func private @kiln_kernel_0
// KERNEL-SAME: kiln.inplace = array<i64: -1>
// KERNEL-SAME: kiln.op_name = "graph.dot+graph.activation_grad"
func.func @main(%dy: tensor<8x10xf32>, %w: tensor<10x20xf32>, %y: tensor<8x20xf32>)
    -> (tensor<8x20xf32>, tensor<10x20xf32>) {
  %dx = graph.dot %dy, %w : (tensor<8x10xf32>, tensor<10x20xf32>) -> tensor<8x20xf32>
  %g = graph.activation_grad %dx, %y {act_type = #graph.act_type<tanh>}
      : (tensor<8x20xf32>, tensor<8x20xf32>) -> tensor<8x20xf32>
  %dw = graph.dot %dy, %y {transpose_a = true} : (tensor<8x10xf32>, tensor<8x20xf32>) -> tensor<10x20xf32>
  return %g, %dw : tensor<8x20xf32>, tensor<10x20xf32>
}

// -----

// Convolution backward: the data gradient (a deconvolution), the residual
// gradient added in and the relu gradient, one kernel; the relu gradient
// has three users (the next data gradient, the weight gradient, the bias
// gradient), so the chain stops there. Pooling's gradient takes its
// activation gradient as epilogue too.
// CHECK-LABEL: func.func @main
// CHECK: graph.deconvolution {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.elemwise_add {{.*}}{kiln.fusion_group = 0 : i64}
// CHECK-NEXT: graph.activation_grad {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.convolution_weight_grad
// CHECK-NOT: kiln.fusion_group
// CHECK: graph.pooling_grad {{.*}}kiln.fusion_group = 1 : i64
// CHECK-NEXT: graph.activation_grad {{.*}}kiln.fusion_group = 1 : i64
// KERNEL-LABEL: func.func @main
// KERNEL: kiln.op_name = "graph.deconvolution+graph.elemwise_add+graph.activation_grad"
// KERNEL: kiln.op_name = "graph.convolution_weight_grad"
// KERNEL: kiln.op_name = "graph.sum"
// KERNEL: kiln.op_name = "graph.pooling_grad+graph.activation_grad"
func.func @main(%dy: tensor<2x8x4x4xf32>, %w: tensor<8x4x3x3xf32>, %res: tensor<2x4x6x6xf32>,
                         %x: tensor<2x4x6x6xf32>, %xp: tensor<2x4x12x12xf32>)
    -> (tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<2x4x12x12xf32>) {
  %d = graph.deconvolution %dy, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64}
      : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  %a = graph.elemwise_add %d, %res : (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  // expected-remark @+1 {{not fused with its consumer: the result has 3 users (fusion never recomputes)}}
  %g = graph.activation_grad %a, %x {act_type = #graph.act_type<relu>}
      : (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %dw = graph.convolution_weight_grad %x, %g {kernel = array<i64: 1, 1>}
      : (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) -> tensor<4x4x1x1xf32>
  %db = graph.sum %g {axis = array<i64: 0, 2, 3>} : (tensor<2x4x6x6xf32>) -> tensor<4xf32>
  %pg = graph.pooling_grad %xp, %g {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
      : (tensor<2x4x12x12xf32>, tensor<2x4x6x6xf32>) -> tensor<2x4x12x12xf32>
  %ag = graph.activation_grad %pg, %xp {act_type = #graph.act_type<tanh>}
      : (tensor<2x4x12x12xf32>, tensor<2x4x12x12xf32>) -> tensor<2x4x12x12xf32>
  return %dw, %db, %ag : tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<2x4x12x12xf32>
}

// -----

// BatchNorm's gradient: the data gradient continues into the gradient
// accumulation of a residual branch (an epilogue); gamma's and beta's
// gradients are extra kernel outputs. The activation gradient in front of
// it cannot take the BatchNorm gradient as an epilogue (it reduces over its
// input, and it has several results).
// CHECK-LABEL: func.func @main
// CHECK: graph.activation_grad
// CHECK-NOT: kiln.fusion_group
// CHECK: graph.batch_norm_grad {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.elemwise_add {{.*}}{kiln.fusion_group = 0 : i64}
// KERNEL-LABEL: func.func @main
// KERNEL: call @kiln_kernel_1({{.*}}) : ({{.*}}) -> (tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>)
// KERNEL: kiln.op_name = "graph.batch_norm_grad+graph.elemwise_add"
func.func @main(%x: tensor<2x4x3x3xf32>, %g: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>,
                       %dy: tensor<2x4x3x3xf32>, %y: tensor<2x4x3x3xf32>, %other: tensor<2x4x3x3xf32>)
    -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) {
  // expected-remark @+1 {{not fused with its consumer: 'graph.batch_norm_grad' has several results}}
  %a = graph.activation_grad %dy, %y {act_type = #graph.act_type<relu>}
      : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dx, %dg, %db = graph.batch_norm_grad %x, %g, %m, %v, %a {fix_gamma = false}
      : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>)
      -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %s = graph.elemwise_add %dx, %other : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %s, %dg, %db : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A prelu gradient whose gamma is the chained value does not read it
// elementwise: no fusion.
// CHECK-LABEL: func.func @main
// CHECK-NOT: kiln.fusion_group
// KERNEL-LABEL: func.func @main
// KERNEL-COUNT-2: call @kiln_kernel_
func.func @main(%dy: tensor<2x3x4xf32>, %x: tensor<2x3x4xf32>, %a: tensor<3xf32>) -> tensor<2x3x4xf32> {
  // expected-remark @+1 {{not fused with its consumer: 'graph.leaky_relu_grad' reads the value as prelu's per-channel gamma}}
  %g = graph.mul_scalar %a {scalar = 2.000000e+00 : f64} : (tensor<3xf32>) -> tensor<3xf32>
  %d = graph.leaky_relu_grad %dy, %x, %g {act_type = #graph.leaky_act_type<prelu>}
      : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  return %d : tensor<2x3x4xf32>
}
