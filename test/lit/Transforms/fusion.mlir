// kiln-graph-fuse: which ops join a producer's fusion group (CHECK), why the
// others do not (expected-remark, with remarks=1), and the kernels
// kiln-outline-kernels makes of the groups (KERNEL): one per group, its
// external inputs as arguments, only values used outside as results.
// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse=remarks=1 -verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse -kiln-outline-kernels | FileCheck %s --check-prefix=KERNEL
// Without the fusion pass, outlining is still one kernel per op.
// RUN: kiln-opt %s -split-input-file -kiln-outline-kernels | FileCheck %s --check-prefix=UNFUSED

// Convolution + bias (broadcast into the full-size value) + relu: one group;
// the pooling after it reads windows and starts its own kernel.
// CHECK-LABEL: func.func @main
// CHECK: graph.convolution {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.broadcast_add {{.*}}{kiln.fusion_group = 0 : i64}
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.pooling
// CHECK-NOT: kiln.fusion_group
// CHECK: return
// KERNEL-LABEL: func.func @main
// KERNEL-SAME: (%[[X:[^:]*]]: tensor<1x3x8x8xf32>, %[[W:[^:]*]]: tensor<8x3x3x3xf32>, %[[B:[^:]*]]: tensor<1x8x1x1xf32>)
// KERNEL-NEXT: %[[R:.*]] = call @kiln_kernel_0(%[[X]], %[[W]], %[[B]]) : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x6x6xf32>
// KERNEL-NEXT: %[[P:.*]] = call @kiln_kernel_1(%[[R]])
// KERNEL-NEXT: return %[[P]]
// KERNEL: func.func private @kiln_kernel_0(%[[KX:[^:]*]]: tensor<1x3x8x8xf32>, %[[KW:[^:]*]]: tensor<8x3x3x3xf32>, %[[KB:[^:]*]]: tensor<1x8x1x1xf32>) -> tensor<1x8x6x6xf32>
// KERNEL-SAME: kiln.inplace = array<i64: -1>, kiln.kernel
// KERNEL-SAME: kiln.op_name = "graph.convolution+graph.broadcast_add+graph.activation"
// KERNEL-NEXT: %[[C:.*]] = graph.convolution %[[KX]], %[[KW]]
// KERNEL-NOT: kiln.fusion_group
// KERNEL-NEXT: %[[A:.*]] = graph.broadcast_add %[[C]], %[[KB]]
// KERNEL-NEXT: %[[Y:.*]] = graph.activation %[[A]]
// KERNEL-NEXT: return %[[Y]] : tensor<1x8x6x6xf32>
// KERNEL: func.func private @kiln_kernel_1
// KERNEL-SAME: kiln.op_name = "graph.pooling"
// UNFUSED-LABEL: func.func @main
// UNFUSED-NEXT: call @kiln_kernel_0
// UNFUSED-NEXT: call @kiln_kernel_1
// UNFUSED-NEXT: call @kiln_kernel_2
// UNFUSED-NEXT: call @kiln_kernel_3
// UNFUSED-NEXT: return
func.func @main(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<1x8x1x1xf32>) -> tensor<1x8x3x3xf32> {
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 8 : i64}
      : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x6x6xf32>
  %1 = graph.broadcast_add %0, %b : (tensor<1x8x6x6xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x6x6xf32>
  // expected-remark @+1 {{not fused with its consumer: 'graph.pooling' is a pooling (reads a window), not an elementwise epilogue}}
  %2 = graph.activation %1 {act_type = #graph.act_type<relu>} : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %3 = graph.pooling %2 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pool_type = #graph.pool_type<max>}
      : (tensor<1x8x6x6xf32>) -> tensor<1x8x3x3xf32>
  return %3 : tensor<1x8x3x3xf32>
}

// -----

// FullyConnected (with its bias operand) + relu; the softmax reads a whole
// axis and stays in its own kernel.
// CHECK-LABEL: func.func @main
// CHECK: graph.fully_connected {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.softmax
// CHECK-NOT: kiln.fusion_group
// KERNEL-LABEL: func.func @main
// KERNEL-NEXT: call @kiln_kernel_0(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// KERNEL-NEXT: call @kiln_kernel_1
// KERNEL: func.func private @kiln_kernel_0
// KERNEL-SAME: kiln.op_name = "graph.fully_connected+graph.activation"
// KERNEL: func.func private @kiln_kernel_1
// KERNEL-SAME: kiln.op_name = "graph.softmax"
func.func @main(%x: tensor<2x16xf32>, %w: tensor<4x16xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = graph.fully_connected %x, %w, %b {num_hidden = 4 : i64}
      : (tensor<2x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  // expected-remark @+1 {{not fused with its consumer: 'graph.softmax' is a softmax (reads a whole axis), not an elementwise epilogue}}
  %1 = graph.activation %0 {act_type = #graph.act_type<relu>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %2 = graph.softmax %1 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}

// -----

// Convolution + inference BatchNorm (per-channel affine) + relu, and a
// residual add whose other operand (the block input) is already computed,
// then its relu: one group of five ops. Nothing is written to memory
// between the convolution and the last relu.
// CHECK-LABEL: func.func @main
// CHECK: graph.convolution {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.batch_norm {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.elemwise_add {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// KERNEL-LABEL: func.func @main
// KERNEL-SAME: (%[[X:[^:]*]]: tensor<1x4x6x6xf32>, %[[W:[^:]*]]: tensor<4x4x3x3xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[BE:[^:]*]]: tensor<4xf32>, %[[MM:[^:]*]]: tensor<4xf32>, %[[MV:[^:]*]]: tensor<4xf32>)
// KERNEL-NEXT: %[[R:.*]] = call @kiln_kernel_0(%[[X]], %[[W]], %[[G]], %[[BE]], %[[MM]], %[[MV]])
// KERNEL-NEXT: return %[[R]]
// The output is not on an in-place path: the add's in-place operand is the
// BatchNorm side, which starts at a convolution.
// KERNEL: func.func private @kiln_kernel_0
// KERNEL-SAME: kiln.inplace = array<i64: -1>
// KERNEL-SAME: kiln.op_name = "graph.convolution+graph.batch_norm+graph.activation+graph.elemwise_add+graph.activation"
func.func @main(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x3x3xf32>, %g: tensor<4xf32>, %be: tensor<4xf32>,
                %mm: tensor<4xf32>, %mv: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, num_filter = 4 : i64}
      : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %1 = graph.batch_norm %0, %g, %be, %mm, %mv
      : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %2 = graph.activation %1 {act_type = #graph.act_type<relu>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %3 = graph.elemwise_add %2, %x : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %4 = graph.activation %3 {act_type = #graph.act_type<relu>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %4 : tensor<1x4x6x6xf32>
}

// -----

// A value with two users is not fused into either (that would mean writing
// it out anyway, or recomputing it): the convolution is a kernel of its own.
// Each branch's chain fuses on its own; the join goes to the chain that
// reaches it first in program order (its other operand is computed before).
// A chain that is in place all the way from its first op may overwrite its
// input (see outline-kernels-inplace.mlir).
// CHECK-LABEL: func.func @main
// CHECK: graph.convolution %{{.*}}, %{{.*}} {kernel = array<i64: 1, 1>, num_filter = 2 : i64} :
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.mul_scalar {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 1 : i64
// CHECK-NEXT: graph.plus_scalar {{.*}}kiln.fusion_group = 1 : i64
// CHECK-NEXT: graph.elemwise_add {{.*}}kiln.fusion_group = 0 : i64
// KERNEL-LABEL: func.func @main
// KERNEL-NEXT: %[[C:.*]] = call @kiln_kernel_0(
// KERNEL-NEXT: %[[T:.*]] = call @kiln_kernel_1(%[[C]])
// KERNEL-NEXT: %[[R:.*]] = call @kiln_kernel_2(%[[C]], %[[T]])
// KERNEL-NEXT: return %[[R]]
// KERNEL: func.func private @kiln_kernel_1
// KERNEL-SAME: kiln.inplace = array<i64: 0>
// KERNEL-SAME: kiln.op_name = "graph.activation+graph.plus_scalar"
// The add's in-place operand is %4 (argument 1), read by nothing else, but
// only after the group's sigmoid, whose result bufferization may place in the
// kernel's result buffer: no in-place.
// KERNEL: func.func private @kiln_kernel_2
// KERNEL-SAME: kiln.inplace = array<i64: -1>
// KERNEL-SAME: kiln.op_name = "graph.activation+graph.mul_scalar+graph.elemwise_add"
func.func @main(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  // expected-remark @+1 {{not fused with its consumer: the result has 2 users (fusion never recomputes)}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 1, 1>, num_filter = 2 : i64}
      : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = graph.activation %0 {act_type = #graph.act_type<sigmoid>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %2 = graph.mul_scalar %1 {scalar = 2.0 : f64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %3 = graph.activation %0 {act_type = #graph.act_type<tanh>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %4 = graph.plus_scalar %3 {scalar = 1.0 : f64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %5 = graph.elemwise_add %4, %2 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %5 : tensor<1x2x4x4xf32>
}

// -----

// A diamond: the join reads the fully-connected result directly and through
// the relu. Fusing the join into the FC's group would need the relu, which
// depends on the group: a cycle. The relu and the join fuse instead.
// CHECK-LABEL: func.func @main
// CHECK: graph.fully_connected %{{.*}}, %{{.*}} {num_hidden = 4 : i64} :
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.elemwise_mul {{.*}}kiln.fusion_group = 0 : i64
// KERNEL-LABEL: func.func @main
// KERNEL-NEXT: %[[F:.*]] = call @kiln_kernel_0(
// KERNEL-NEXT: %[[R:.*]] = call @kiln_kernel_1(%[[F]]) : (tensor<2x4xf32>) -> tensor<2x4xf32>
// KERNEL-NEXT: return %[[R]]
// %f is read twice in the group (by the relu and the multiply), so the
// result may not overwrite it.
// KERNEL: func.func private @kiln_kernel_1(%[[A:[^:]*]]: tensor<2x4xf32>)
// KERNEL-SAME: kiln.inplace = array<i64: -1>
// KERNEL-NEXT: %[[T:.*]] = graph.activation %[[A]]
// KERNEL-NEXT: graph.elemwise_mul %[[A]], %[[T]]
func.func @main(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) -> tensor<2x4xf32> {
  // expected-remark @+1 {{the result has 2 users (fusion never recomputes); fusing 'graph.elemwise_mul' would also need a value computed from this group (a cycle)}}
  %f = graph.fully_connected %x, %w {num_hidden = 4 : i64} : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  %r = graph.activation %f {act_type = #graph.act_type<relu>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = graph.elemwise_mul %f, %r : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %m : tensor<2x4xf32>
}

// -----

// A graph output also read by another op ends the chain: the relu's value
// must reach the caller's buffer anyway. A broadcast whose fused value is
// the small operand would broadcast it, so it is not an epilogue either.
// CHECK-LABEL: func.func @main
// CHECK: graph.fully_connected {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.activation {{.*}}kiln.fusion_group = 0 : i64
// CHECK-NEXT: graph.mul_scalar
// CHECK-NOT: kiln.fusion_group
// CHECK: graph.broadcast_mul
// CHECK-NOT: kiln.fusion_group
// CHECK: return
// KERNEL-LABEL: func.func @main
// KERNEL-NEXT: %[[F:.*]] = call @kiln_kernel_0(
// KERNEL-NEXT: %[[S:.*]] = call @kiln_kernel_1(%[[F]])
// KERNEL-NEXT: %[[T:.*]] = call @kiln_kernel_2(%{{.*}}, %[[S]])
// KERNEL-NEXT: return %[[F]], %[[T]]
func.func @main(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %big: tensor<3x2x4xf32>)
    -> (tensor<2x4xf32>, tensor<3x2x4xf32>) {
  %f = graph.fully_connected %x, %w {num_hidden = 4 : i64} : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  // expected-remark @+1 {{not fused with its consumer: the result is a graph output also read by another op}}
  %r = graph.activation %f {act_type = #graph.act_type<relu>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  // expected-remark @+1 {{not fused with its consumer: 'graph.broadcast_mul' would broadcast the fused value}}
  %s = graph.mul_scalar %r {scalar = 3.0 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %t = graph.broadcast_mul %big, %s : (tensor<3x2x4xf32>, tensor<2x4xf32>) -> tensor<3x2x4xf32>
  return %r, %t : tensor<2x4xf32>, tensor<3x2x4xf32>
}
