// kiln-convert-graph-to-linalg on the training and gradient ops
// (GraphGradOps.td): what each one lowers to. LoweringTest compares every
// one of them, compiled, with the reference interpreter.
// RUN: kiln-opt %s --kiln-convert-graph-to-linalg | FileCheck %s

// The indexing maps of the contractions below (printed first).
// CHECK-DAG: #[[$KM:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$KN:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$WY:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d0, d1, d6, d7)>
// CHECK-DAG: #[[$WX:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d0, d2, d6 * 2 + d3, d7 * 2 + d4)>
// CHECK-DAG: #[[$WW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$DW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d6, d2, d3, d4)>
// CHECK-DAG: #[[$DX:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d6, d5)>
// CHECK-DAG: #[[$DC:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d0, d1, d2, d5)>

// dot: one matmul whose indexing maps read the transposed operand in place
// (the packed GEMM lowering reads any layout; nothing is transposed here).
// CHECK-LABEL: func.func @dot_ta
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: linalg.matmul indexing_maps = [#[[$KM]], #[[$KN]], #[[$MN]]] ins(%arg0, %arg1 : tensor<8x10xf32>, tensor<8x20xf32>) outs(%[[Z]] : tensor<10x20xf32>)
func.func @dot_ta(%a: tensor<8x10xf32>, %b: tensor<8x20xf32>) -> tensor<10x20xf32> {
  %0 = graph.dot %a, %b {transpose_a = true} : (tensor<8x10xf32>, tensor<8x20xf32>) -> tensor<10x20xf32>
  return %0 : tensor<10x20xf32>
}

// CHECK-LABEL: func.func @dot_tb
// CHECK: linalg.matmul indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]]
func.func @dot_tb(%a: tensor<8x10xf32>, %b: tensor<20x10xf32>) -> tensor<8x20xf32> {
  %0 = graph.dot %a, %b {transpose_b = true} : (tensor<8x10xf32>, tensor<20x10xf32>) -> tensor<8x20xf32>
  return %0 : tensor<8x20xf32>
}

// slice_axis: a static slice.
// CHECK-LABEL: func.func @slice_axis
// CHECK-NEXT: %[[S:.+]] = tensor.extract_slice %arg0[0, 2] [2, 3] [1, 1] : tensor<2x8xf32> to tensor<2x3xf32>
// CHECK-NEXT: return %[[S]]
func.func @slice_axis(%x: tensor<2x8xf32>) -> tensor<2x3xf32> {
  %0 = graph.slice_axis %x {axis = 1 : i64, begin = 2 : i64, end = 5 : i64} : (tensor<2x8xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// batch_norm_train on the [outer, C, inner] view: Σx over the batch first
// (the innermost loop stays parallel, so it vectorizes), then over H·W; the
// same for Σ(x − mean)²; then one per-channel map.
// CHECK-LABEL: func.func @bn_train
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<2x4x3x3xf32> into tensor<2x4x9xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "parallel"]{{.*}} outs(%{{.+}} : tensor<4x9xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} outs(%{{.+}} : tensor<4xf32>)
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "parallel"]
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]{{.*}} outs(%{{.+}} : tensor<2x4x9xf32>)
// CHECK: %[[Y:.+]] = tensor.expand_shape {{.*}} into tensor<2x4x3x3xf32>
// CHECK: return %[[Y]], %{{.+}}, %{{.+}} : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
func.func @bn_train(%x: tensor<2x4x3x3xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) {
  %y, %m, %v = graph.batch_norm_train %x, %g, %b {fix_gamma = false} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y, %m, %v : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
}

// convolution_weight_grad: one contraction generic over (g, f, c, k…, n, o…)
// reading the padded data through the convolution window (no im2col
// materialized), per group.
// CHECK-LABEL: func.func @wgrad
// CHECK: %[[XP:.+]] = tensor.insert_slice %arg0 into %{{.+}}[0, 0, 1, 1] [2, 4, 6, 6] [1, 1, 1, 1] : tensor<2x4x6x6xf32> into tensor<2x4x8x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$WY]], #[[$WX]], #[[$WW]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: outs(%{{.+}} : tensor<2x3x2x3x3xf32>)
// CHECK: tensor.collapse_shape {{.*}} into tensor<6x2x3x3xf32>
func.func @wgrad(%x: tensor<2x4x6x6xf32>, %dy: tensor<2x6x3x3xf32>) -> tensor<6x2x3x3xf32> {
  %0 = graph.convolution_weight_grad %x, %dy {kernel = array<i64: 3, 3>, num_group = 2 : i64, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>} : (tensor<2x4x6x6xf32>, tensor<2x6x3x3xf32>) -> tensor<6x2x3x3xf32>
  return %0 : tensor<6x2x3x3xf32>
}

// deconvolution: a GEMM per group into dcol[k…, n, g, f, i] (the forward
// convolution's FLOPs), then col2im: an scf.for nest over the taps, each
// adding its contiguous block of dcol to a strided slice of the output.
// CHECK-LABEL: func.func @deconv
// CHECK: linalg.generic {indexing_maps = [#[[$DW]], #[[$DX]], #[[$DC]]], {{.*}}"reduction"]}
// CHECK-SAME: outs(%{{.+}} : tensor<3x3x2x1x4x16xf32>)
// CHECK: scf.for %[[KH:.+]] = %c0 to %c3
// CHECK: scf.for %[[KW:.+]] = %c0{{.*}} to %c3
// CHECK: tensor.extract_slice %{{.+}}[%[[KH]], %[[KW]], 0, 0, 0, 0] [1, 1, 2, 4, 4, 4]
// CHECK: tensor.extract_slice %{{.+}}[0, 0, %[[KH]], %[[KW]]] [2, 4, 4, 4] [1, 1, 1, 1]
// CHECK: arith.addf
// CHECK: tensor.insert_slice
func.func @deconv(%x: tensor<2x8x4x4xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<2x4x6x6xf32> {
  %0 = graph.deconvolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64} : (tensor<2x8x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  return %0 : tensor<2x4x6x6xf32>
}

// Max pooling's gradient: the row-major number of each window's first
// maximum (a windowed generic with two outputs), then one scatter tap per
// kernel offset, routing out_grad where the number matches.
// CHECK-LABEL: func.func @maxpool_grad
// CHECK: %{{.+}}:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: linalg.index 4
// CHECK: linalg.index 5
// CHECK: arith.cmpf ogt
// CHECK: scf.for
// CHECK: scf.for
// CHECK: tensor.extract_slice %{{.+}}[0, 0, %{{.+}}, %{{.+}}] [1, 2, 3, 3] [1, 1, 2, 2]
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: tensor.insert_slice
func.func @maxpool_grad(%x: tensor<1x2x6x6xf32>, %dy: tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  %0 = graph.pooling_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// Average pooling's gradient: out_grad divided by the forward's window
// counts (a constant), scattered tap by tap into the padded input, the
// padding cropped at the end.
// CHECK-LABEL: func.func @avgpool_grad
// CHECK: arith.constant dense<{{\[}}[4.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>
// CHECK: arith.divf
// CHECK: scf.for
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 1, 1] [1, 1, 5, 5] [1, 1, 1, 1] : tensor<1x1x7x7xf32> to tensor<1x1x5x5xf32>
func.func @avgpool_grad(%x: tensor<1x1x5x5xf32>, %dy: tensor<1x1x3x3xf32>) -> tensor<1x1x5x5xf32> {
  %0 = graph.pooling_grad %x, %dy {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, pool_type = #graph.pool_type<avg>, count_include_pad = false} : (tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x5x5xf32>
}

// Global average pooling's gradient: a broadcast, no tap loop.
// CHECK-LABEL: func.func @global_avgpool_grad
// CHECK-NOT: scf.for
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}}ins(%{{.+}} : tensor<2x3x1x1xf32>) outs(%{{.+}} : tensor<2x3x4x4xf32>)
func.func @global_avgpool_grad(%x: tensor<2x3x4x4xf32>, %dy: tensor<2x3x1x1xf32>) -> tensor<2x3x4x4xf32> {
  %0 = graph.pooling_grad %x, %dy {global_pool = true, pool_type = #graph.pool_type<avg>} : (tensor<2x3x4x4xf32>, tensor<2x3x1x1xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// activation_grad (tanh, saved = y): dy·(1 − y²), one elementwise generic.
// CHECK-LABEL: func.func @activation_grad
// CHECK: linalg.generic
// CHECK: %[[Y2:.+]] = arith.mulf %in_{{.+}}, %in_{{.+}}
// CHECK: %[[D:.+]] = arith.subf %{{.+}}, %[[Y2]]
// CHECK: arith.mulf %in, %[[D]]
func.func @activation_grad(%dy: tensor<2x3xf32>, %y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = graph.activation_grad %dy, %y {act_type = #graph.act_type<tanh>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// batch_norm_grad: Σdy and Σdy·(x − mean) in one pass (two outputs) over
// the batch, then over H·W, then dx as one per-channel map.
// CHECK-LABEL: func.func @bn_grad
// CHECK: %{{.+}}:2 = linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "parallel"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]{{.*}} outs(%{{.+}} : tensor<2x4x9xf32>)
func.func @bn_grad(%x: tensor<2x4x3x3xf32>, %g: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) {
  %dx, %dg, %db = graph.batch_norm_grad %x, %g, %m, %v, %dy {fix_gamma = false} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return %dx, %dg, %db : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
}

// softmax_output_grad with class labels: the valid-label count (a
// reduction over the labels), then p − onehot(int(label)) scaled, ignored
// rows zeroed.
// CHECK-LABEL: func.func @softmax_output_grad
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]
// CHECK: arith.fptosi %{{.+}} : f32 to i32
// CHECK: arith.cmpi ne
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: arith.select
func.func @softmax_output_grad(%p: tensor<8x10xf32>, %l: tensor<8xf32>) -> tensor<8x10xf32> {
  %0 = graph.softmax_output_grad %p, %l {use_ignore = true, normalization = #graph.normalization<valid>} : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8x10xf32>
  return %0 : tensor<8x10xf32>
}

// regression_output_grad (mae): sign(y − label)·grad_scale/(size/N).
// CHECK-LABEL: func.func @regression_grad
// CHECK: tensor.expand_shape %arg1
// CHECK: arith.subf
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf olt
func.func @regression_grad(%y: tensor<4x1xf32>, %l: tensor<4xf32>) -> tensor<4x1xf32> {
  %0 = graph.regression_output_grad %y, %l {kind = #graph.regression_kind<mae>} : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// softmax_grad: Σ dy·y along the axis, then y·(dy − Σ).
// CHECK-LABEL: func.func @softmax_grad
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: arith.subf
func.func @softmax_grad(%y: tensor<2x5xf32>, %dy: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = graph.softmax_grad %y, %dy {axis = -1 : i64} : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// leaky_relu_grad (gelu): Φ(x) + x·φ(x) times dy.
// CHECK-LABEL: func.func @leaky_grad
// CHECK: math.erf
// CHECK: math.exp
func.func @leaky_grad(%dy: tensor<2x3xf32>, %x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = graph.leaky_relu_grad %dy, %x {act_type = #graph.leaky_act_type<gelu>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// lrn_grad: LRN's channel-window sum twice (W is symmetric).
// CHECK-LABEL: func.func @lrn_grad
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 1, 0, 0] [1, 4, 2, 2]
// CHECK: linalg.generic {{.*}}"reduction"]
// CHECK: math.powf
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 1, 0, 0] [1, 4, 2, 2]
// CHECK: linalg.generic {{.*}}"reduction"]
func.func @lrn_grad(%x: tensor<1x4x2x2xf32>, %dy: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %0 = graph.lrn_grad %x, %dy {nsize = 3 : i64} : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// embedding_grad: a dense scatter-add, one scf.for over the indices adding
// each out_grad row to the weight row Embedding's rule selects.
// CHECK-LABEL: func.func @embedding_grad
// CHECK: scf.for %[[I:.+]] = %c0 to %c20 step %c1
// CHECK: tensor.extract %{{.+}}[%[[I]]] : tensor<20xf32>
// CHECK: arith.fptosi
// CHECK: %[[ROW:.+]] = tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 8] [1, 1] : tensor<100x8xf32> to tensor<1x8xf32>
// CHECK: tensor.extract_slice %{{.+}}[%[[I]], 0] [1, 8] [1, 1] : tensor<20x8xf32> to tensor<1x8xf32>
// CHECK: arith.addf
// CHECK: tensor.insert_slice
func.func @embedding_grad(%i: tensor<4x5xf32>, %dy: tensor<4x5x8xf32>) -> tensor<100x8xf32> {
  %0 = graph.embedding_grad %i, %dy {input_dim = 100 : i64, output_dim = 8 : i64} : (tensor<4x5xf32>, tensor<4x5x8xf32>) -> tensor<100x8xf32>
  return %0 : tensor<100x8xf32>
}

// dropout_mask: splitmix64 of seed and counter once (the seed's hash is a
// constant), then per element of the position with the shared axis (0) at 0.
// CHECK-LABEL: func.func @dropout_mask
// CHECK: tensor.extract %arg0[%{{.+}}] : tensor<1xf32>
// CHECK: arith.fptoui
// CHECK: arith.xori %c{{[-0-9]+}}_i64
// CHECK: arith.shrui
// CHECK: linalg.generic {indexing_maps = [#{{.+}}], iterator_types = ["parallel", "parallel"]} outs(
// CHECK-NOT: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.uitofp
// CHECK: arith.cmpf oge
func.func @dropout_mask(%c: tensor<1xf32>) -> tensor<4x8xf32> {
  %0 = graph.dropout_mask %c {p = 5.000000e-01 : f32, seed = 3 : i64, shape = array<i64: 4, 8>, axes = array<i64: 0>} : (tensor<1xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// zeros, log and a comparison.
// CHECK-LABEL: func.func @zeros_log_cmp
// CHECK: linalg.fill
// CHECK: math.log
// CHECK: arith.cmpf oge
// CHECK: arith.select
func.func @zeros_log_cmp(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %z = graph.zeros {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
  %l = graph.log %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %c = graph.broadcast_greater_equal %l, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %z, %l, %c : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}
