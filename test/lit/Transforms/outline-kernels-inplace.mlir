// kiln-outline-kernels' in-place permission for fused kernels: a result may
// overwrite a kernel input only when the input is read by the group's first
// op. Bufferization may compute any earlier op of the group in the result's
// buffer (a convolution accumulates into it), so an input read later by an
// epilogue would already be overwritten: the skip connection of a Gluon
// ResNet v1 unit, elemwise_add(skip, bn(conv(x))), was (issue 11).
// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse -kiln-outline-kernels | FileCheck %s

// The skip connection is read by the epilogue, after the convolution: no
// in-place, whichever operand of the add it is.
// CHECK-LABEL: func.func @main
// CHECK: func.func private @kiln_kernel_0
// CHECK-SAME: kiln.inplace = array<i64: -1>
// CHECK-SAME: kiln.op_name = "graph.convolution+graph.batch_norm+graph.elemwise_add+graph.activation"
// CHECK: func.func private @kiln_kernel_1
// CHECK-SAME: kiln.inplace = array<i64: -1>
// CHECK-SAME: kiln.op_name = "graph.convolution+graph.batch_norm+graph.elemwise_add+graph.activation"
func.func @main(%x: tensor<2x4x6x6xf32>, %skip: tensor<2x4x6x6xf32>, %w: tensor<4x4x3x3xf32>,
                %g: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) {
  %c = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64, pad = array<i64: 1, 1>} : (tensor<2x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  %n = graph.batch_norm %c, %g, %b, %m, %v : (tensor<2x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x6x6xf32>
  %s = graph.elemwise_add %skip, %n : (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %r = graph.activation %s {act_type = #graph.act_type<relu>} : (tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %c2 = graph.convolution %r, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64, pad = array<i64: 1, 1>} : (tensor<2x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  %n2 = graph.batch_norm %c2, %g, %b, %m, %v : (tensor<2x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x6x6xf32>
  %s2 = graph.elemwise_add %n2, %skip : (tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %r2 = graph.activation %s2 {act_type = #graph.act_type<relu>} : (tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  return %r, %r2 : tensor<2x4x6x6xf32>, tensor<2x4x6x6xf32>
}

// -----

// An elementwise chain whose first op reads the input: every op on the path
// reads an element before writing it, so the result may take its place.
// CHECK-LABEL: func.func @main
// CHECK: func.func private @kiln_kernel_0
// CHECK-SAME: kiln.inplace = array<i64: 0>
// CHECK-SAME: kiln.op_name = "graph.elemwise_add+graph.activation"
func.func @main(%a: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<8xf32> {
  %s = graph.elemwise_add %a, %b : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %r = graph.activation %s {act_type = #graph.act_type<relu>} : (tensor<8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}
