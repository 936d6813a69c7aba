// The shape and indexing family (GraphShapeOps.td): round trip of every op
// with hand-computed result types (the verifier re-derives them), then
// kiln-graph-infer-shapes on unranked results. Every expected shape is
// worked out in the comment above it, from MXNet 1.9.1's shape functions.
// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s --check-prefix=RT
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | kiln-opt -split-input-file | FileCheck %s --check-prefix=RT
// RUN: kiln-opt %s -split-input-file -kiln-graph-infer-shapes | FileCheck %s --check-prefix=INFER

// RT-LABEL: func @views
// INFER-LABEL: func @views
func.func @views(%x: tensor<2x3xf32>, %o: tensor<1x3x1xf32>, %a: tensor<2x6xf32>,
                 %b: tensor<5x3x2xf32>) {
  // expand_dims: axis −1 appends, −3 prepends to (2, 3).
  // RT: graph.expand_dims %{{.*}} {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  // INFER: graph.expand_dims {{.*}} -> tensor<2x3x1xf32>
  // INFER: graph.expand_dims {{.*}} -> tensor<1x2x3xf32>
  %0 = graph.expand_dims %x {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  %1 = graph.expand_dims %x {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  // squeeze: every size-1 axis of (1, 3, 1), or only axis 0.
  // RT: graph.squeeze %{{.*}} : (tensor<1x3x1xf32>) -> tensor<*xf32>
  // INFER: graph.squeeze {{.*}} -> tensor<3xf32>
  // INFER: graph.squeeze {{.*}} {axis = array<i64: 0>} {{.*}} -> tensor<3x1xf32>
  %2 = graph.squeeze %o : (tensor<1x3x1xf32>) -> tensor<*xf32>
  %3 = graph.squeeze %o {axis = array<i64: 0>} : (tensor<1x3x1xf32>) -> tensor<*xf32>
  // reshape_like: lhs (2, 6) from axis 1 takes rhs (5, 3, 2) from axis 1: (2, 3, 2).
  // RT: graph.reshape_like {{.*}} {lhs_begin = 1 : i64, rhs_begin = 1 : i64}
  // INFER: graph.reshape_like {{.*}} -> tensor<2x3x2xf32>
  %4 = graph.reshape_like %a, %b {lhs_begin = 1 : i64, rhs_begin = 1 : i64}
      : (tensor<2x6xf32>, tensor<5x3x2xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @movement
// INFER-LABEL: func @movement
func.func @movement(%x: tensor<2x3x4xf32>, %y: tensor<2x3xf32>, %i: tensor<1x2x4x4xf32>,
                    %d: tensor<1x8x2x2xf32>) {
  // SwapAxis 0 ↔ −1 of (2, 3, 4): (4, 3, 2).
  // INFER: graph.swap_axis {{.*}} -> tensor<4x3x2xf32>
  %0 = graph.swap_axis %x {dim1 = 0 : i64, dim2 = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  // RT: graph.reverse %{{.*}} {axis = array<i64: 0, 2>}
  // INFER: graph.reverse {{.*}} -> tensor<2x3x4xf32>
  %1 = graph.reverse %x {axis = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  // tile (2, 3) by (2, 1, 2): (1·2, 2·1, 3·2) = (2, 2, 6); by (2): (2, 6).
  // INFER: graph.tile {{.*}} -> tensor<2x2x6xf32>
  // INFER: graph.tile {{.*}} -> tensor<2x6xf32>
  %2 = graph.tile %y {reps = array<i64: 2, 1, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  %3 = graph.tile %y {reps = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  // repeat 3 times along axis −1: (2, 9); without an axis: 6·3 = 18.
  // INFER: graph.repeat {{.*}} -> tensor<2x9xf32>
  // INFER: graph.repeat {{.*}} -> tensor<18xf32>
  %4 = graph.repeat %y {repeats = 3 : i64, axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  %5 = graph.repeat %y {repeats = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  // stack of two (2, 3) at axis 1: (2, 2, 3); at −1: (2, 3, 2).
  // INFER: graph.stack {{.*}} -> tensor<2x2x3xf32>
  // INFER: graph.stack {{.*}} -> tensor<2x3x2xf32>
  %6 = graph.stack %y, %y {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  %7 = graph.stack %y, %y {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  // space_to_depth 2: (1, 2·4, 4/2, 4/2); depth_to_space 2: (1, 8/4, 2·2, 2·2).
  // INFER: graph.space_to_depth {{.*}} -> tensor<1x8x2x2xf32>
  // INFER: graph.depth_to_space {{.*}} -> tensor<1x2x4x4xf32>
  %8 = graph.space_to_depth %i {block_size = 2 : i64} : (tensor<1x2x4x4xf32>) -> tensor<*xf32>
  %9 = graph.depth_to_space %d {block_size = 2 : i64} : (tensor<1x8x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @broadcast_like
// INFER-LABEL: func @broadcast_like
func.func @broadcast_like(%a: tensor<1x3xf32>, %b: tensor<2x3xf32>, %c: tensor<3x2x4xf32>) {
  // Without axes: rhs's shape. With lhs_axes (0) ← rhs_axes (2): (4, 3).
  // INFER: graph.broadcast_like {{.*}} -> tensor<2x3xf32>
  // INFER: graph.broadcast_like {{.*}} -> tensor<4x3xf32>
  %0 = graph.broadcast_like %a, %b : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  %1 = graph.broadcast_like %a, %c {lhs_axes = array<i64: 0>, rhs_axes = array<i64: 2>}
      : (tensor<1x3xf32>, tensor<3x2x4xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @slicing
// INFER-LABEL: func @slicing
func.func @slicing(%x: tensor<4x5xf32>, %s: tensor<2x2xf32>, %img: tensor<1x2x5x6xf32>,
                   %like: tensor<1x1x3x4xf32>, %p: tensor<1x2x3x3xf32>) {
  // slice: begin (3, 4), end (None, 0), step (−1, −2): axis 0 takes 3, 2, 1, 0;
  // axis 1 takes 4, 2 (0 excluded): (4, 2). None prints as −2⁶³.
  // RT: graph.slice %{{.*}} {begin = array<i64: 3, 4>, end = array<i64: -9223372036854775808, 0>, step = array<i64: -1, -2>}
  // INFER: graph.slice {{.*}} -> tensor<4x2xf32>
  %0 = graph.slice %x {begin = array<i64: 3, 4>, end = array<i64: -9223372036854775808, 0>,
                       step = array<i64: -1, -2>} : (tensor<4x5xf32>) -> tensor<*xf32>
  // Only axis 0 listed: [1, 3) and all of axis 1: (2, 5).
  // INFER: graph.slice {{.*}} -> tensor<2x5xf32>
  %1 = graph.slice %x {begin = array<i64: 1>, end = array<i64: 3>} : (tensor<4x5xf32>) -> tensor<*xf32>
  // slice_like on axis 0 only: (2, 5).
  // INFER: graph.slice_like {{.*}} -> tensor<2x5xf32>
  %2 = graph.slice_like %x, %s {axes = array<i64: 0>} : (tensor<4x5xf32>, tensor<2x2xf32>) -> tensor<*xf32>
  // Crop: h_w (3, 2) at (1, 2); or crop_like's H, W (3, 4), centred.
  // INFER: graph.crop {{.*}} -> tensor<1x2x3x2xf32>
  // INFER: graph.crop {{.*}} -> tensor<1x2x3x4xf32>
  %3 = graph.crop %img {h_w = array<i64: 3, 2>, offset = array<i64: 1, 2>}
      : (tensor<1x2x5x6xf32>) -> tensor<*xf32>
  %4 = graph.crop %img, %like {center_crop = true}
      : (tensor<1x2x5x6xf32>, tensor<1x1x3x4xf32>) -> tensor<*xf32>
  // Pad H by (1, 2) and W by (2, 1): (1, 2, 6, 6).
  // RT: graph.pad %{{.*}} {mode = #graph.pad_mode<reflect>, pad_width = array<i64: 0, 0, 0, 0, 1, 2, 2, 1>}
  // INFER: graph.pad {{.*}} -> tensor<1x2x6x6xf32>
  %5 = graph.pad %p {mode = #graph.pad_mode<reflect>, pad_width = array<i64: 0, 0, 0, 0, 1, 2, 2, 1>}
      : (tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @indexing
// INFER-LABEL: func @indexing
func.func @indexing(%a: tensor<4x3xf32>, %i: tensor<2x5xf32>, %d: tensor<3x4x2xf32>,
                    %pi: tensor<4xf32>, %c: tensor<4xf32>, %x: tensor<4x3xf32>) {
  // take along axis 1: (4) + (2, 5) = (4, 2, 5).
  // RT: graph.take {{.*}} {axis = 1 : i64, mode = #graph.take_mode<wrap>}
  // INFER: graph.take {{.*}} -> tensor<4x2x5xf32>
  %0 = graph.take %a, %i {axis = 1 : i64, mode = #graph.take_mode<wrap>}
      : (tensor<4x3xf32>, tensor<2x5xf32>) -> tensor<*xf32>
  // pick along axis 1 of (4, 3), index (4): (4); keepdims: (4, 1).
  // INFER: graph.pick {{.*}} -> tensor<4xf32>
  // INFER: graph.pick {{.*}} -> tensor<4x1xf32>
  %1 = graph.pick %a, %pi {axis = 1 : i64} : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  %2 = graph.pick %a, %pi {axis = 1 : i64, keepdims = true, mode = #graph.pick_mode<wrap>}
      : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  // gather_nd: indices (2, 5) address 2 axes of (3, 4, 2): (5) + (2) = (5, 2).
  // INFER: graph.gather_nd {{.*}} -> tensor<5x2xf32>
  %3 = graph.gather_nd %d, %i : (tensor<3x4x2xf32>, tensor<2x5xf32>) -> tensor<*xf32>
  // one_hot depth 6: (4, 6).
  // RT: graph.one_hot {{.*}} {depth = 6 : i64, dtype = #graph.dtype<int32>, on_value = 2.500000e+00 : f64}
  // INFER: graph.one_hot {{.*}} -> tensor<4x6xf32>
  %4 = graph.one_hot %pi {depth = 6 : i64, on_value = 2.5 : f64, dtype = #graph.dtype<int32>}
      : (tensor<4xf32>) -> tensor<*xf32>
  // where with a 1-D condition selecting rows of (4, 3).
  // INFER: graph.where {{.*}} -> tensor<4x3xf32>
  %5 = graph.where %c, %x, %a : (tensor<4xf32>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @constants
// INFER-LABEL: func @constants
func.func @constants(%x: tensor<2x3x4xf32>) {
  // shape_array: (rank); size_array: (1).
  // INFER: graph.shape_array {{.*}} -> tensor<3xf32>
  // INFER: graph.size_array {{.*}} -> tensor<1xf32>
  %0 = graph.shape_array %x : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %1 = graph.size_array %x : (tensor<2x3x4xf32>) -> tensor<*xf32>
  // arange 1.5, 2, …, 3.5: ⌈(4 − 1.5)/0.5⌉ = 5; repeated twice: 10.
  // Without stop: [0, 4), 4 values.
  // INFER: graph.arange {{.*}} -> tensor<5xf32>
  // INFER: graph.arange {{.*}} -> tensor<10xf32>
  // INFER: graph.arange {{.*}} -> tensor<4xf32>
  %2 = graph.arange {start = 1.5 : f64, stop = 4.0 : f64, step = 0.5 : f64} : () -> tensor<*xf32>
  %3 = graph.arange {start = 1.5 : f64, stop = 4.0 : f64, step = 0.5 : f64, repeat = 2 : i64}
      : () -> tensor<*xf32>
  %4 = graph.arange {start = 4.0 : f64} : () -> tensor<*xf32>
  // RT: graph.ones {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
  // RT: graph.full {shape = array<i64: 4>, value = 2.500000e+00 : f64} : () -> tensor<4xf32>
  // RT: graph.zeros {shape = array<i64: 1, 2>} : () -> tensor<1x2xf32>
  %5 = graph.ones {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
  %6 = graph.full {shape = array<i64: 4>, value = 2.5 : f64} : () -> tensor<4xf32>
  %7 = graph.zeros {shape = array<i64: 1, 2>} : () -> tensor<1x2xf32>
  // RT: graph.zeros_without_dtype {shape = array<i64: 3>} : () -> tensor<3xf32>
  %8 = graph.zeros_without_dtype {shape = array<i64: 3>} : () -> tensor<3xf32>
  // eye: (N, M), M = 0 meaning N.
  // INFER: graph.eye {{.*}} -> tensor<3x3xf32>
  // INFER: graph.eye {{.*}} -> tensor<2x5xf32>
  %9 = graph.eye {N = 3 : i64} : () -> tensor<*xf32>
  %10 = graph.eye {N = 2 : i64, M = 5 : i64, k = -1 : i64} : () -> tensor<*xf32>
  // arange_like: data's shape, or (data.shape[axis]).
  // INFER: graph.arange_like {{.*}} -> tensor<2x3x4xf32>
  // INFER: graph.arange_like {{.*}} -> tensor<3xf32>
  %11 = graph.arange_like %x {start = 1.0 : f64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %12 = graph.arange_like %x {axis = -2 : i64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

// The backward kernels (internal).
// RT-LABEL: func @grads
// INFER-LABEL: func @grads
func.func @grads(%dy: tensor<4x3xf32>, %i: tensor<4xf32>, %pd: tensor<1x1x5x5xf32>,
                 %gi: tensor<2x5xf32>, %gdy: tensor<5x2xf32>) {
  // INFER: graph.slice_grad {{.*}} -> tensor<4x5xf32>
  %0 = graph.slice_grad %dy {begin = array<i64: 3, 0>, step = array<i64: -1, 2>, shape = array<i64: 4, 5>}
      : (tensor<4x3xf32>) -> tensor<*xf32>
  // INFER: graph.take_grad {{.*}} -> tensor<5x3xf32>
  %1 = graph.take_grad %i, %dy {axis = 0 : i64, shape = array<i64: 5, 3>}
      : (tensor<4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  // INFER: graph.pick_grad {{.*}} -> tensor<4x6xf32>
  %2 = graph.pick_grad %i, %i {axis = 1 : i64, shape = array<i64: 4, 6>}
      : (tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  // INFER: graph.gather_nd_grad {{.*}} -> tensor<3x4x2xf32>
  %3 = graph.gather_nd_grad %gi, %gdy {shape = array<i64: 3, 4, 2>}
      : (tensor<2x5xf32>, tensor<5x2xf32>) -> tensor<*xf32>
  // (5, 5) less (1 + 1) on H and W: (1, 1, 3, 3).
  // INFER: graph.pad_grad {{.*}} -> tensor<1x1x3x3xf32>
  %4 = graph.pad_grad %pd {mode = #graph.pad_mode<reflect>, pad_width = array<i64: 0, 0, 0, 0, 1, 1, 1, 1>}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @split_v2
// INFER-LABEL: func @split_v2
func.func @split_v2(%x: tensor<2x5xf32>) {
  // indices (0, 2) along axis 1 of (2, 5): parts [0, 2) and [2, 5).
  // RT: graph.split_v2 %{{.*}} {indices = array<i64: 0, 2>}
  // INFER: graph.split_v2 {{.*}} -> (tensor<2x2xf32>, tensor<2x3xf32>)
  %0:2 = graph.split_v2 %x {indices = array<i64: 0, 2>} : (tensor<2x5xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  // sections 3 of 5: sizes 2, 2, 1 (the larger parts first).
  // INFER: graph.split_v2 {{.*}} -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x1xf32>)
  %1:3 = graph.split_v2 %x {indices = array<i64>, sections = 3 : i64} : (tensor<2x5xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  // sections 2 along axis 0 with squeeze_axis: two (5) parts.
  // INFER: graph.split_v2 {{.*}} -> (tensor<5xf32>, tensor<5xf32>)
  %2:2 = graph.split_v2 %x {axis = 0 : i64, indices = array<i64>, sections = 2 : i64, squeeze_axis = true} : (tensor<2x5xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

// RT-LABEL: func @diag
// INFER-LABEL: func @diag
func.func @diag(%x: tensor<3x4xf32>, %v: tensor<3xf32>, %t: tensor<2x3x4xf32>, %dy: tensor<3xf32>) {
  // k = 1 of (3, 4): min(3, 4 − 1) = 3 elements.
  // RT: graph.diag %{{.*}} {k = 1 : i64} : (tensor<3x4xf32>) -> tensor<*xf32>
  // INFER: graph.diag {{.*}} -> tensor<3xf32>
  %0 = graph.diag %x {k = 1 : i64} : (tensor<3x4xf32>) -> tensor<*xf32>
  // 1-D (3) on diagonal −2: a (5, 5) matrix.
  // INFER: graph.diag {{.*}} -> tensor<5x5xf32>
  %1 = graph.diag %v {k = -2 : i64} : (tensor<3xf32>) -> tensor<*xf32>
  // axes 2 and 0 of (2, 3, 4): (3) kept, then min(4, 2) = 2.
  // INFER: graph.diag {{.*}} -> tensor<3x2xf32>
  %2 = graph.diag %t {axis1 = 2 : i64, axis2 = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  // RT: graph.diag_grad %{{.*}} {k = 1 : i64, shape = array<i64: 3, 4>}
  // INFER: graph.diag_grad {{.*}} -> tensor<3x4xf32>
  %3 = graph.diag_grad %dy {k = 1 : i64, shape = array<i64: 3, 4>} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @batch_take
// INFER-LABEL: func @batch_take
func.func @batch_take(%a: tensor<6x4xf32>, %i: tensor<2x3xf32>) {
  // The result has the indices' shape.
  // RT: graph.batch_take %{{.*}}, %{{.*}} : (tensor<6x4xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  // INFER: graph.batch_take {{.*}} -> tensor<2x3xf32>
  %0 = graph.batch_take %a, %i : (tensor<6x4xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @index_computations
// INFER-LABEL: func @index_computations
func.func @index_computations(%x: tensor<2x3xf32>, %m: tensor<2x5xf32>, %f: tensor<5xf32>) {
  // index_array: (2, 3) plus the number of listed axes (all 2, or 3 listed).
  // INFER: graph.index_array {{.*}} -> tensor<2x3x2xf32>
  // INFER: graph.index_array {{.*}} -> tensor<2x3x3xf32>
  %0 = graph.index_array %x : (tensor<2x3xf32>) -> tensor<*xf32>
  %1 = graph.index_array %x {axes = array<i64: 1, -1, 4>} : (tensor<2x3xf32>) -> tensor<*xf32>
  // ravel_multi_index: (2, 5) multi-indices into (3, 4) give (5).
  // RT: graph.ravel_multi_index %{{.*}} {shape = array<i64: 3, 4>}
  // INFER: graph.ravel_multi_index {{.*}} -> tensor<5xf32>
  %2 = graph.ravel_multi_index %m {shape = array<i64: 3, 4>} : (tensor<2x5xf32>) -> tensor<*xf32>
  // unravel_index: (5) flat indices into (3, 4) give (2, 5).
  // INFER: graph.unravel_index {{.*}} -> tensor<2x5xf32>
  %3 = graph.unravel_index %f {shape = array<i64: 3, 4>} : (tensor<5xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @scatter_nd
// INFER-LABEL: func @scatter_nd
func.func @scatter_nd(%d: tensor<5x2xf32>, %i: tensor<2x5xf32>) {
  // The result has `shape`; data is gather_nd's result for it: (5) + (2).
  // RT: graph.scatter_nd %{{.*}}, %{{.*}} {shape = array<i64: 3, 4, 2>}
  // INFER: graph.scatter_nd {{.*}} -> tensor<3x4x2xf32>
  %0 = graph.scatter_nd %d, %i {shape = array<i64: 3, 4, 2>} : (tensor<5x2xf32>, tensor<2x5xf32>) -> tensor<*xf32>
  return
}
