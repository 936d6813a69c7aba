// RUN: kiln-opt %s --split-input-file --verify-diagnostics --kiln-convert-graph-to-linalg | FileCheck %s

// FullyConnected: flatten, bias broadcast into the init, matmul reading W transposed.
// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$B:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$C:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @fc
// CHECK: %[[X:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2]] : tensor<2x3x4xf32> into tensor<2x12xf32>
// CHECK: %[[INIT:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<5xf32>)
// CHECK: linalg.matmul indexing_maps = [#[[$A]], #[[$B]], #[[$C]]] ins(%[[X]], %{{.+}} : tensor<2x12xf32>, tensor<5x12xf32>) outs(%[[INIT]] : tensor<2x5xf32>)
// CHECK-NOT: graph.
func.func @fc(%x: tensor<2x3x4xf32>, %w: tensor<5x12xf32>, %b: tensor<5xf32>) -> tensor<2x5xf32> {
  %0 = graph.fully_connected %x, %w, %b {num_hidden = 5 : i64}
      : (tensor<2x3x4xf32>, tensor<5x12xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Convolution: zero padding by insert_slice, then the named op with strides/dilations.
// CHECK-LABEL: func.func @conv
// CHECK: %[[PAD:.+]] = tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1, 1] [1, 3, 8, 8] [1, 1, 1, 1] : tensor<1x3x8x8xf32> into tensor<1x3x10x10xf32>
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %{{.+}} : tensor<1x3x10x10xf32>, tensor<8x3x3x3xf32>) outs(%{{.+}} : tensor<1x8x4x4xf32>)
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<1x8x4x4xf32> {
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 8 : i64,
                                 pad = array<i64: 1, 1>, stride = array<i64: 2, 2>}
      : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// Grouped convolution: a generic whose input channel is (f floordiv Fg)·Cg + c.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, (d1 floordiv 3) * 2 + d4, d2 + d5, d3 + d6)>
// CHECK-LABEL: func.func @group_conv
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
func.func @group_conv(%x: tensor<1x4x5x5xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x3x3xf32> {
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 6 : i64, num_group = 2 : i64}
      : (tensor<1x4x5x5xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x3x3xf32>
  return %0 : tensor<1x6x3x3xf32>
}

// -----

// Max pooling, 'full' convention: the right side is padded with float's
// lowest value far enough for the last (clipped) window.
// CHECK-LABEL: func.func @maxpool_full
// CHECK: %[[LOW:.+]] = arith.constant -3.40282347E+38 : f32
// CHECK: linalg.fill ins(%[[LOW]] : f32) outs(%{{.+}} : tensor<1x2x7x7xf32>)
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [1, 2, 6, 6] [1, 1, 1, 1]
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
// CHECK-SAME: -> tensor<1x2x3x3xf32>
func.func @maxpool_full(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = graph.pooling %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                         pooling_convention = #graph.pooling_convention<full>}
      : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Average pooling without padding in the count: a sum pool, then a divide by
// the per-position count of real (unpadded) elements, known at compile time
// and folded into a constant (corners 2×2, edges 2×3, centre 3×3).
// CHECK-LABEL: func.func @avgpool
// CHECK: %[[SUM:.+]] = linalg.pooling_nchw_sum
// CHECK: %[[COUNT:.+]] = arith.constant dense<{{\[\[}}4.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[COUNT]] : tensor<1x1x3x3xf32>, tensor<3x3xf32>)
// CHECK: arith.divf
func.func @avgpool(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %0 = graph.pooling %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>,
                         pool_type = #graph.pool_type<avg>, count_include_pad = false}
      : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// Softmax: max and exp-sum reductions over the axis, then a normalizing map.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[MAX]], %[[SUM]] : tensor<4x10xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.divf
func.func @softmax(%x: tensor<4x10xf32>, %l: tensor<4xf32>) -> tensor<4x10xf32> {
  %0 = graph.softmax_output %x, %l : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// Broadcasting: size-1 dims read index 0.
// CHECK-DAG: #[[$RHS:.+]] = affine_map<(d0, d1, d2) -> (0, d1, 0)>
// CHECK-LABEL: func.func @bcast
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$RHS]], #{{.+}}]
// CHECK: arith.addf
func.func @bcast(%a: tensor<2x3x4xf32>, %b: tensor<1x3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = graph.broadcast_add %a, %b : (tensor<2x3x4xf32>, tensor<1x3x1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Reductions with keepdims, here over axes 0 and 2: first over the outer
// axis 0 with the trailing axes kept (the innermost loop stays parallel and
// vectorizes), then over the trailing axis 2; then an expand_shape.
// CHECK-LABEL: func.func @sum_keepdims
// CHECK: %[[P:.+]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "parallel"]} ins(%{{.+}} : tensor<2x3x4xf32>) outs(%{{.+}} : tensor<3x4xf32>)
// CHECK: %[[R:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<3x4xf32>) outs(%{{.+}} : tensor<3xf32>)
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1, 2]] output_shape [1, 3, 1] : tensor<3xf32> into tensor<1x3x1xf32>
func.func @sum_keepdims(%x: tensor<2x3x4xf32>) -> tensor<1x3x1xf32> {
  %0 = graph.sum %x {axis = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}

// -----

// Split: one extract_slice per part; squeeze_axis is a collapse.
// CHECK-LABEL: func.func @split
// CHECK: tensor.extract_slice %{{.+}}[0, 0] [2, 1] [1, 1]
// CHECK: tensor.collapse_shape
// CHECK: tensor.extract_slice %{{.+}}[0, 1] [2, 1] [1, 1]
func.func @split(%x: tensor<2x2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %0:2 = graph.split %x {num_outputs = 2 : i64, squeeze_axis = true}
      : (tensor<2x2xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0#0, %0#1 : tensor<2xf32>, tensor<2xf32>
}

// -----

// GELU uses math.erf (a libm call later on).
// CHECK-LABEL: func.func @gelu
// CHECK: math.erf
func.func @gelu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<gelu>} : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @dropout_always(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'graph.dropout' op with mode=always draws random numbers}}
  %0 = graph.dropout %x {mode = #graph.dropout_mode<always>} : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{needs static shapes}}
  %0 = graph.identity %x : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
