// The Reduce family (GraphReduceOps.td): round trip with non-default
// attributes, and the shape rules through kiln-graph-infer-shapes. Every
// type below was computed by hand from MXNet 1.9.1's shape functions
// (ReduceAxesShapeImpl, ReduceAxisShapeImpl, ParseTopKParam); the verifier
// re-derives them, so a wrong rule fails before FileCheck runs.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --kiln-graph-infer-shapes | FileCheck %s --check-prefix=INFER

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<2x3x4xf32>) {
  // CHECK: graph.prod %{{.*}} {axis = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  %0 = graph.prod %x {axis = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  // exclude keeps the listed axis only.
  // CHECK: graph.nansum %{{.*}} {axis = array<i64: 1>, exclude = true} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %1 = graph.nansum %x {axis = array<i64: 1>, exclude = true} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // No axis: everything, shape (1).
  // CHECK: graph.nanprod %{{.*}} : (tensor<2x3x4xf32>) -> tensor<1xf32>
  %2 = graph.nanprod %x : (tensor<2x3x4xf32>) -> tensor<1xf32>
  // CHECK: graph.norm %{{.*}} {axis = array<i64: -1>, ord = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %3 = graph.norm %x {axis = array<i64: -1>, ord = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  // CHECK: graph.norm %{{.*}} {keepdims = true, out_dtype = #graph.dtype<float64>} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
  %4 = graph.norm %x {keepdims = true, out_dtype = #graph.dtype<float64>} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
  // moments: mean and variance over axes 0 and 2 of (2, 3, 4), both (3).
  // CHECK: graph.moments %{{.*}} {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  %5:2 = graph.moments %x {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  // CHECK: graph.moments %{{.*}} {axes = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> (tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  %6:2 = graph.moments %x {axes = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> (tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  // argmax_channel: axis 1 of (2, 3, 4) removed.
  // CHECK: graph.argmax_channel %{{.*}} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  %7 = graph.argmax_channel %x : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  return
}

// CHECK-LABEL: func @search
func.func @search(%x: tensor<2x3x4xf32>, %v: tensor<6xf32>) {
  // CHECK: graph.argmax %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  %0 = graph.argmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  // CHECK: graph.argmin %{{.*}} {axis = -1 : i64, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  %1 = graph.argmin %x {axis = -1 : i64, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  // No axis: the flattened array, (1), or all ones with keepdims.
  // CHECK: graph.argmax %{{.*}} {keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
  %2 = graph.argmax %x {keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>
  // Rank 1 gives (1) with or without keepdims.
  // CHECK: graph.argmin %{{.*}} {axis = 0 : i64, keepdims = true} : (tensor<6xf32>) -> tensor<1xf32>
  %3 = graph.argmin %v {axis = 0 : i64, keepdims = true} : (tensor<6xf32>) -> tensor<1xf32>
  return
}

// CHECK-LABEL: func @sorting
func.func @sorting(%x: tensor<2x3x4xf32>) {
  // k along the axis; `both` has the values and the indices.
  // CHECK: %{{.*}}:2 = graph.topk %{{.*}} {axis = 1 : i64, dtype = #graph.dtype<int32>, is_ascend = true, k = 2 : i64, ret_typ = #graph.topk_ret_typ<both>} : (tensor<2x3x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x2x4xf32>)
  %v, %i = graph.topk %x {axis = 1 : i64, k = 2 : i64, ret_typ = #graph.topk_ret_typ<both>, is_ascend = true, dtype = #graph.dtype<int32>}
      : (tensor<2x3x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x2x4xf32>)
  // No axis: the flattened array, (k).
  // CHECK: graph.topk %{{.*}} {k = 5 : i64, ret_typ = #graph.topk_ret_typ<value>} : (tensor<2x3x4xf32>) -> tensor<5xf32>
  %0 = graph.topk %x {k = 5 : i64, ret_typ = #graph.topk_ret_typ<value>} : (tensor<2x3x4xf32>) -> tensor<5xf32>
  // mask has the data's shape; k ≤ 0 keeps the whole axis.
  // CHECK: graph.topk %{{.*}} {axis = -1 : i64, k = 0 : i64, ret_typ = #graph.topk_ret_typ<mask>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %1 = graph.topk %x {axis = -1 : i64, k = 0 : i64, ret_typ = #graph.topk_ret_typ<mask>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // The default ret_typ is indices.
  // CHECK: graph.topk %{{.*}} {axis = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<1x3x4xf32>
  %2 = graph.topk %x {axis = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<1x3x4xf32>
  // CHECK: graph.sort %{{.*}} {axis = 0 : i64, is_ascend = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %3 = graph.sort %x {axis = 0 : i64, is_ascend = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: graph.sort %{{.*}} : (tensor<2x3x4xf32>) -> tensor<24xf32>
  %4 = graph.sort %x : (tensor<2x3x4xf32>) -> tensor<24xf32>
  // CHECK: graph.argsort %{{.*}} {axis = -1 : i64, dtype = #graph.dtype<uint8>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %5 = graph.argsort %x {axis = -1 : i64, dtype = #graph.dtype<uint8>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return
}

// The backward ops the gradient rules build.
// CHECK-LABEL: func @backward
func.func @backward(%x: tensor<2x3xf32>, %dy: tensor<2x1xf32>, %y: tensor<2x1xf32>,
                    %dv: tensor<2x2xf32>, %iv: tensor<2x2xf32>, %df: tensor<4xf32>) {
  // CHECK: graph.prod_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %0 = graph.prod_grad %x, %dy, %y : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  // CHECK: graph.nanprod_grad
  %1 = graph.nanprod_grad %x, %dy, %y : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  // CHECK: graph.nansum_grad
  %2 = graph.nansum_grad %x, %dy, %y : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  // CHECK: graph.norm_grad %{{.*}} {ord = 1 : i64}
  %3 = graph.norm_grad %x, %dy, %y {ord = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  // CHECK: graph.topk_grad %{{.*}}, %{{.*}} {axis = 1 : i64, shape = array<i64: 2, 3>} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %4 = graph.topk_grad %dv, %iv {axis = 1 : i64, shape = array<i64: 2, 3>} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
  // CHECK: graph.topk_grad %{{.*}}, %{{.*}} {shape = array<i64: 2, 3>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  %5 = graph.topk_grad %df, %df {shape = array<i64: 2, 3>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// Shape inference fills the results from the data's shape.
// INFER-LABEL: func @infer
// INFER: graph.prod {{.*}} -> tensor<2x4xf32>
// INFER: graph.norm {{.*}} -> tensor<1xf32>
// INFER: graph.argmax {{.*}} -> tensor<2x3xf32>
// INFER: graph.topk {{.*}} -> (tensor<2x3x3xf32>, tensor<2x3x3xf32>)
// INFER: graph.topk {{.*}} -> tensor<2x3x4xf32>
// INFER: graph.sort {{.*}} -> tensor<24xf32>
// INFER: graph.argsort {{.*}} -> tensor<2x3x4xf32>
func.func @infer(%x: tensor<2x3x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>,
                                          tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %0 = graph.prod %x {axis = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %1 = graph.norm %x : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %2 = graph.argmax %x {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %3:2 = graph.topk %x {axis = -1 : i64, k = 3 : i64, ret_typ = #graph.topk_ret_typ<both>} : (tensor<2x3x4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  %4 = graph.topk %x {axis = 1 : i64, k = 2 : i64, ret_typ = #graph.topk_ret_typ<mask>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %5 = graph.sort %x : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %6 = graph.argsort %x {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3#0, %3#1, %4, %5, %6 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
