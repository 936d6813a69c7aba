// Verifier and shape-rule diagnostics of the shape and indexing family
// (GraphShapeOps.td): attribute checks, then MXNet's shape rules.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @expand_dims_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.expand_dims' op axis 3 out of range [-3, 2] for a rank-2 input}}
  %0 = graph.expand_dims %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @squeeze_not_one(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.squeeze' op cannot squeeze axis 1 of size 3 (only size-1 axes)}}
  %0 = graph.squeeze %x {axis = array<i64: 1>} : (tensor<1x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @squeeze_twice(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.squeeze' op axis -2 is listed twice}}
  %0 = graph.squeeze %x {axis = array<i64: 0, -2>} : (tensor<1x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @squeeze_range(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.squeeze' op axis 2 out of range for rank-2 input}}
  %0 = graph.squeeze %x {axis = array<i64: 2>} : (tensor<1x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_like_range(%a: tensor<2x6xf32>, %b: tensor<5x3x2xf32>) {
  // expected-error @+1 {{'graph.reshape_like' op lhs_begin/lhs_end give the empty or invalid range [2, 2) of a rank-2 shape}}
  %0 = graph.reshape_like %a, %b {lhs_begin = 2 : i64} : (tensor<2x6xf32>, tensor<5x3x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_like_size(%a: tensor<2x6xf32>, %b: tensor<5x3x2xf32>) {
  // expected-error @+1 {{'graph.reshape_like' op cannot reshape lhs (2, 6) to (5, 3, 2): the sizes differ}}
  %0 = graph.reshape_like %a, %b : (tensor<2x6xf32>, tensor<5x3x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @swap_axis_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.swap_axis' op dim2 2 out of range for rank-2 input}}
  %0 = graph.swap_axis %x {dim1 = 0 : i64, dim2 = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reverse_negative(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.reverse' op axis entries must be non-negative (MXNet 1.9.1's reverse takes no negative axis), got (-1)}}
  %0 = graph.reverse %x {axis = array<i64: -1>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reverse_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.reverse' op axis 2 out of range for rank-2 input}}
  %0 = graph.reverse %x {axis = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @tile_reps(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.tile' op reps entries must be positive, got (2, 0)}}
  %0 = graph.tile %x {reps = array<i64: 2, 0>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @tile_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.tile' op result 0 has shape (2, 3) but the shape rule gives (2, 6)}}
  %0 = graph.tile %x {reps = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @repeat_repeats(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.repeat' op repeats must be positive, got 0}}
  %0 = graph.repeat %x {repeats = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @repeat_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.repeat' op axis -3 out of range for rank-2 input}}
  %0 = graph.repeat %x {repeats = 2 : i64, axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_like_shape(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_like' op lhs (2, 3) cannot be broadcast to rhs (4, 3)}}
  %0 = graph.broadcast_like %a, %b : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_like_axes_count(%a: tensor<1x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_like' op lhs_axes has 1 entries but rhs_axes has 2}}
  %0 = graph.broadcast_like %a, %b {lhs_axes = array<i64: 0>, rhs_axes = array<i64: 0, 1>} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_like_axes_empty(%a: tensor<1x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_like' op lhs_axes and rhs_axes must not be empty}}
  %0 = graph.broadcast_like %a, %b {lhs_axes = array<i64>, rhs_axes = array<i64>} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_like_axis_size(%a: tensor<1x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_like' op lhs axis 1 has size 3; only size-1 axes are broadcast}}
  %0 = graph.broadcast_like %a, %b {lhs_axes = array<i64: 1>, rhs_axes = array<i64: 0>} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_like_axis_range(%a: tensor<1x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_like' op rhs_axes entry 2 out of range for rank-2 input}}
  %0 = graph.broadcast_like %a, %b {lhs_axes = array<i64: 0>, rhs_axes = array<i64: 2>} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @stack_none() {
  // expected-error @+1 {{'graph.stack' op stack needs at least one input}}
  %0 = graph.stack : () -> tensor<*xf32>
  return
}

// -----

func.func @stack_shapes(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+1 {{'graph.stack' op operand 'data #1' has shape (3, 2) but the shape rule gives (2, 3)}}
  %0 = graph.stack %a, %b : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @stack_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.stack' op axis 3 out of range [-3, 2] for rank-2 inputs}}
  %0 = graph.stack %a {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @space_to_depth_block(%x: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'graph.space_to_depth' op block_size must be positive, got 0}}
  %0 = graph.space_to_depth %x {block_size = 0 : i64} : (tensor<1x2x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @space_to_depth_rank(%x: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'graph.space_to_depth' op expects NCHW data (rank 4), got rank 3}}
  %0 = graph.space_to_depth %x {block_size = 2 : i64} : (tensor<2x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @space_to_depth_multiple(%x: tensor<1x2x4x3xf32>) {
  // expected-error @+1 {{'graph.space_to_depth' op H and W of (1, 2, 4, 3) must be multiples of block_size 2}}
  %0 = graph.space_to_depth %x {block_size = 2 : i64} : (tensor<1x2x4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @depth_to_space_block(%x: tensor<1x8x2x2xf32>) {
  // expected-error @+1 {{'graph.depth_to_space' op block_size must be positive, got -2}}
  %0 = graph.depth_to_space %x {block_size = -2 : i64} : (tensor<1x8x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @depth_to_space_channels(%x: tensor<1x6x2x2xf32>) {
  // expected-error @+1 {{'graph.depth_to_space' op the channels of (1, 6, 2, 2) must be a multiple of block_size² = 4}}
  %0 = graph.depth_to_space %x {block_size = 2 : i64} : (tensor<1x6x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_lengths(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'graph.slice' op begin has 2 entries but end has 1}}
  %0 = graph.slice %x {begin = array<i64: 0, 0>, end = array<i64: 2>} : (tensor<4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_step_length(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'graph.slice' op step has 2 entries but begin has 1}}
  %0 = graph.slice %x {begin = array<i64: 0>, end = array<i64: 2>, step = array<i64: 1, 1>} : (tensor<4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_step_zero(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'graph.slice' op step entries must not be 0}}
  %0 = graph.slice %x {begin = array<i64: 0>, end = array<i64: 2>, step = array<i64: 0>} : (tensor<4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{'graph.slice' op begin has 2 entries for data of rank 1}}
  %0 = graph.slice %x {begin = array<i64: 0, 0>, end = array<i64: 2, 2>} : (tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_empty(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'graph.slice' op the slice [3, 1) with step 1 of axis 0 (size 4) is empty (Kiln has no zero-size tensors)}}
  %0 = graph.slice %x {begin = array<i64: 3>, end = array<i64: 1>} : (tensor<4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_like_exceeds(%x: tensor<4x5xf32>, %s: tensor<5x2xf32>) {
  // expected-error @+1 {{'graph.slice_like' op axis 0 of shape_like (5, 2) exceeds data (4, 5)}}
  %0 = graph.slice_like %x, %s : (tensor<4x5xf32>, tensor<5x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_like_rank(%x: tensor<4x5xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{'graph.slice_like' op without axes, data (4, 5) and shape_like (2) must have the same rank}}
  %0 = graph.slice_like %x, %s : (tensor<4x5xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_like_axes(%x: tensor<4x5xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{'graph.slice_like' op axes entry 1 exceeds the rank of shape_like (2)}}
  %0 = graph.slice_like %x, %s {axes = array<i64: 1>} : (tensor<4x5xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_inputs(%x: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op takes 1 or 2 inputs (MXNet's num_args), got 3 (MXNet 1.9.1 accepts 3 but computes nothing with them)}}
  %0 = graph.crop %x, %x, %x : (tensor<1x2x5x6xf32>, tensor<1x2x5x6xf32>, tensor<1x2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_tuples(%x: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op offset and h_w must have two entries (y, x), got (0, 0) and (3)}}
  %0 = graph.crop %x {h_w = array<i64: 3>} : (tensor<1x2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_offset(%x: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op offset entries must be non-negative, got (-1, 0)}}
  %0 = graph.crop %x {h_w = array<i64: 3, 2>, offset = array<i64: -1, 0>} : (tensor<1x2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_hw(%x: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op with one input, h_w must be positive, got (0, 0)}}
  %0 = graph.crop %x : (tensor<1x2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_rank(%x: tensor<2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op expects NCHW data (rank 4), got (2, 5, 6)}}
  %0 = graph.crop %x {h_w = array<i64: 3, 2>} : (tensor<2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_like_rank(%x: tensor<1x2x5x6xf32>, %l: tensor<3x4xf32>) {
  // expected-error @+1 {{'graph.crop' op expects a rank-4 crop_like, got (3, 4)}}
  %0 = graph.crop %x, %l : (tensor<1x2x5x6xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_exceeds(%x: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op the crop 6×2 exceeds the data (1, 2, 5, 6)}}
  %0 = graph.crop %x {h_w = array<i64: 6, 2>} : (tensor<1x2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_fit(%x: tensor<1x2x5x6xf32>) {
  // expected-error @+1 {{'graph.crop' op the crop 3×2 at offset (3, 0) does not fit in the data (1, 2, 5, 6)}}
  %0 = graph.crop %x {h_w = array<i64: 3, 2>, offset = array<i64: 3, 0>} : (tensor<1x2x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_negative(%x: tensor<1x2x3x3xf32>) {
  // expected-error @+1 {{'graph.pad' op pad_width entries must be non-negative, got (0, 0, 0, 0, -1, 0, 0, 0)}}
  %0 = graph.pad %x {mode = #graph.pad_mode<edge>, pad_width = array<i64: 0, 0, 0, 0, -1, 0, 0, 0>} : (tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_count(%x: tensor<1x2x3xf32>) {
  // expected-error @+1 {{'graph.pad' op pad_width has 6 entries; MXNet pads 4-D or 5-D data (8 or 10 entries)}}
  %0 = graph.pad %x {mode = #graph.pad_mode<edge>, pad_width = array<i64: 0, 0, 0, 0, 1, 1>} : (tensor<1x2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_batch(%x: tensor<1x2x3x3xf32>) {
  // expected-error @+1 {{'graph.pad' op pad_width (0, 0, 1, 0, 1, 1, 1, 1) pads the first two axes, which MXNet does not}}
  %0 = graph.pad %x {mode = #graph.pad_mode<edge>, pad_width = array<i64: 0, 0, 1, 0, 1, 1, 1, 1>} : (tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_rank(%x: tensor<1x2x3x3x3xf32>) {
  // expected-error @+1 {{'graph.pad' op pad_width has 8 entries for rank-5 data (two per axis)}}
  %0 = graph.pad %x {mode = #graph.pad_mode<edge>, pad_width = array<i64: 0, 0, 0, 0, 1, 1, 1, 1>} : (tensor<1x2x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_reflect(%x: tensor<1x2x3x3xf32>) {
  // expected-error @+1 {{'graph.pad' op reflect padding must be smaller than the axis it pads: pad_width (0, 0, 0, 0, 3, 0, 0, 0) for data (1, 2, 3, 3)}}
  %0 = graph.pad %x {mode = #graph.pad_mode<reflect>, pad_width = array<i64: 0, 0, 0, 0, 3, 0, 0, 0>} : (tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @take_axis(%a: tensor<4x3xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{'graph.take' op axis 2 out of range for rank-2 input}}
  %0 = graph.take %a, %i {axis = 2 : i64} : (tensor<4x3xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pick_axis(%a: tensor<4x3xf32>, %i: tensor<4xf32>) {
  // expected-error @+1 {{'graph.pick' op axis -3 out of range for rank-2 input}}
  %0 = graph.pick %a, %i {axis = -3 : i64} : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pick_index(%a: tensor<4x3xf32>, %i: tensor<3xf32>) {
  // expected-error @+1 {{'graph.pick' op operand 'index' has shape (3) but the shape rule gives (4)}}
  %0 = graph.pick %a, %i : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @gather_nd_rank(%d: tensor<3x4xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{'graph.gather_nd' op indices must have rank at least 2, got (2)}}
  %0 = graph.gather_nd %d, %i : (tensor<3x4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @gather_nd_axes(%d: tensor<3x4xf32>, %i: tensor<3x2xf32>) {
  // expected-error @+1 {{'graph.gather_nd' op indices (3, 2) index 3 axes of data (3, 4)}}
  %0 = graph.gather_nd %d, %i : (tensor<3x4xf32>, tensor<3x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @one_hot_depth(%i: tensor<4xf32>) {
  // expected-error @+1 {{'graph.one_hot' op depth must be positive, got 0}}
  %0 = graph.one_hot %i {depth = 0 : i64} : (tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @where_condition(%c: tensor<3xf32>, %x: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.where' op condition (3) must have x's shape (4, 3) or be 1-D with one entry per row}}
  %0 = graph.where %c, %x, %x : (tensor<3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @where_xy(%c: tensor<4xf32>, %x: tensor<4x3xf32>, %y: tensor<4x2xf32>) {
  // expected-error @+1 {{'graph.where' op operand 'y' has shape (4, 2) but the shape rule gives (4, 3)}}
  %0 = graph.where %c, %x, %y : (tensor<4xf32>, tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @arange_step() {
  // expected-error @+1 {{'graph.arange' op step must not be 0}}
  %0 = graph.arange {start = 1.0 : f64, stop = 3.0 : f64, step = 0.0 : f64} : () -> tensor<*xf32>
  return
}

// -----

func.func @arange_repeat() {
  // expected-error @+1 {{'graph.arange' op repeat must be positive, got 0}}
  %0 = graph.arange {start = 1.0 : f64, repeat = 0 : i64} : () -> tensor<*xf32>
  return
}

// -----

func.func @arange_empty() {
  // expected-error @+1 {{'graph.arange' op the range [3, 1) with step 1 is empty}}
  %0 = graph.arange {start = 3.0 : f64, stop = 1.0 : f64} : () -> tensor<*xf32>
  return
}

// -----

func.func @arange_infer_range() {
  // expected-error @+1 {{'graph.arange' op infer_range without stop takes the size from the consumer, which Kiln's forward shape inference cannot do}}
  %0 = graph.arange {start = 3.0 : f64, infer_range = true} : () -> tensor<*xf32>
  return
}

// -----

func.func @zeros_without_dtype_empty() {
  // expected-error @+1 {{'graph.zeros_without_dtype' op shape must not be empty (MXNet's shape () is unknown)}}
  %0 = graph.zeros_without_dtype : () -> tensor<*xf32>
  return
}

// -----

func.func @amp_multicast_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.amp_multicast' op num_outputs is 2 but the op has 1 operands and 1 results}}
  %0 = graph.amp_multicast %x {num_outputs = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eye_rows() {
  // expected-error @+1 {{'graph.eye' op N must be positive, got 0}}
  %0 = graph.eye {N = 0 : i64} : () -> tensor<*xf32>
  return
}

// -----

func.func @eye_columns() {
  // expected-error @+1 {{'graph.eye' op M must not be negative, got -2}}
  %0 = graph.eye {N = 2 : i64, M = -2 : i64} : () -> tensor<*xf32>
  return
}

// -----

func.func @arange_like_repeat(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.arange_like' op repeat must be positive, got 0}}
  %0 = graph.arange_like %x {repeat = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @arange_like_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.arange_like' op axis 2 out of range for rank-2 input}}
  %0 = graph.arange_like %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @ones_empty() {
  // expected-error @+1 {{'graph.ones' op shape must not be empty (MXNet's shape () is unknown)}}
  %0 = graph.ones : () -> tensor<*xf32>
  return
}

// -----

func.func @full_entries() {
  // expected-error @+1 {{'graph.full' op shape entries must be non-negative, got (2, -1)}}
  %0 = graph.full {shape = array<i64: 2, -1>, value = 1.0 : f64} : () -> tensor<*xf32>
  return
}

// -----

func.func @zeros_empty() {
  // expected-error @+1 {{'graph.zeros' op shape must not be empty}}
  %0 = graph.zeros : () -> tensor<*xf32>
  return
}

// -----

func.func @slice_grad_fit(%dy: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.slice_grad' op axis 0: 4 elements from 3 with step 1 do not fit in 4}}
  %0 = graph.slice_grad %dy {begin = array<i64: 3, 0>, step = array<i64: 1, 2>, shape = array<i64: 4, 5>} : (tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_grad_rank(%dy: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.slice_grad' op out_grad (4, 3), begin, step and shape (4, 5) must have one entry per axis}}
  %0 = graph.slice_grad %dy {begin = array<i64: 0>, step = array<i64: 1>, shape = array<i64: 4, 5>} : (tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @take_grad_axis(%i: tensor<4xf32>, %dy: tensor<4x3xf32>) {
  // expected-error @+1 {{'graph.take_grad' op axis 2 out of range for shape (5, 3)}}
  %0 = graph.take_grad %i, %dy {axis = 2 : i64, shape = array<i64: 5, 3>} : (tensor<4xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @take_grad_out_grad(%i: tensor<4xf32>, %dy: tensor<4x2xf32>) {
  // expected-error @+1 {{'graph.take_grad' op operand 'out_grad' has shape (4, 2) but the shape rule gives (4, 3)}}
  %0 = graph.take_grad %i, %dy {axis = 0 : i64, shape = array<i64: 5, 3>} : (tensor<4xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pick_grad_shape(%i: tensor<4xf32>, %dy: tensor<5xf32>) {
  // expected-error @+1 {{'graph.pick_grad' op out_grad (5) is not the picked shape of (4, 6)}}
  %0 = graph.pick_grad %i, %dy {axis = 1 : i64, shape = array<i64: 4, 6>} : (tensor<4xf32>, tensor<5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pick_grad_axis(%i: tensor<4xf32>, %dy: tensor<4xf32>) {
  // expected-error @+1 {{'graph.pick_grad' op axis 2 out of range for shape (4, 6)}}
  %0 = graph.pick_grad %i, %dy {axis = 2 : i64, shape = array<i64: 4, 6>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @gather_nd_grad_out_grad(%i: tensor<2x5xf32>, %dy: tensor<5x3xf32>) {
  // expected-error @+1 {{'graph.gather_nd_grad' op operand 'out_grad' has shape (5, 3) but the shape rule gives (5, 2)}}
  %0 = graph.gather_nd_grad %i, %dy {shape = array<i64: 3, 4, 2>} : (tensor<2x5xf32>, tensor<5x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_grad_count(%dy: tensor<1x1x5x5xf32>) {
  // expected-error @+1 {{'graph.pad_grad' op pad_width has 6 entries; MXNet pads 4-D or 5-D data (8 or 10 entries)}}
  %0 = graph.pad_grad %dy {mode = #graph.pad_mode<edge>, pad_width = array<i64: 0, 0, 0, 0, 1, 1>} : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pad_grad_small(%dy: tensor<1x1x2x5xf32>) {
  // expected-error @+1 {{'graph.pad_grad' op out_grad (1, 1, 2, 5) is not larger than pad_width (0, 0, 0, 0, 1, 1, 1, 1)}}
  %0 = graph.pad_grad %dy {mode = #graph.pad_mode<edge>, pad_width = array<i64: 0, 0, 0, 0, 1, 1, 1, 1>} : (tensor<1x1x2x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @split_v2_no_parts(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op needs split indices or a positive sections}}
  %0 = graph.split_v2 %x {indices = array<i64>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @split_v2_negative_sections(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op sections must not be negative, got -2}}
  %0 = graph.split_v2 %x {indices = array<i64>, sections = -2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @split_v2_first_index(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op indices (1, 2) must start at 0 (MXNet's kernel reads out of bounds otherwise)}}
  %0:2 = graph.split_v2 %x {indices = array<i64: 1, 2>} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @split_v2_not_increasing(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op indices (0, 2, 2) must increase strictly (Kiln has no zero-size tensors)}}
  %0:3 = graph.split_v2 %x {indices = array<i64: 0, 2, 2>} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @split_v2_result_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op has 1 results but the attributes make 2 parts}}
  %0 = graph.split_v2 %x {indices = array<i64>, sections = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @split_v2_index_outside(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op split index 3 is not inside the axis of size 3}}
  %0:2 = graph.split_v2 %x {indices = array<i64: 0, 3>} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @split_v2_too_many_sections(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op sections 4 exceeds the axis size 3 (Kiln has no zero-size tensors)}}
  %0:4 = graph.split_v2 %x {indices = array<i64>, sections = 4 : i64} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @split_v2_squeeze(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.split_v2' op squeeze_axis needs parts of size 1, but part 1 has size 2}}
  %0:2 = graph.split_v2 %x {indices = array<i64: 0, 1>, squeeze_axis = true} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @diag_same_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.diag' op axis1 and axis2 both refer to axis 1}}
  %0 = graph.diag %x {axis1 = -1 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @diag_axis_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.diag' op axis 2 out of range for rank-2 input}}
  %0 = graph.diag %x {axis2 = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @diag_missing(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.diag' op diagonal k = 3 does not exist in a 2x3 matrix}}
  %0 = graph.diag %x {k = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @diag_grad_rank(%dy: tensor<3xf32>) {
  // expected-error @+1 {{'graph.diag_grad' op shape (3) must have rank at least 2}}
  %0 = graph.diag_grad %dy {shape = array<i64: 3>} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @diag_grad_out_grad(%dy: tensor<4xf32>) {
  // expected-error @+1 {{operand 'out_grad' has shape (4) but the shape rule gives (2)}}
  %0 = graph.diag_grad %dy {k = 1 : i64, shape = array<i64: 2, 3>} : (tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_take_rank(%a: tensor<2x3x4xf32>, %i: tensor<6xf32>) {
  // expected-error @+1 {{'graph.batch_take' op a must be a matrix, got (2, 3, 4) (MXNet's kernel reads past data of higher rank)}}
  %0 = graph.batch_take %a, %i : (tensor<2x3x4xf32>, tensor<6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_take_count(%a: tensor<3x4xf32>, %i: tensor<2x2xf32>) {
  // expected-error @+1 {{'graph.batch_take' op indices (2, 2) must hold one index per row of a (3, 4)}}
  %0 = graph.batch_take %a, %i : (tensor<3x4xf32>, tensor<2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @index_array_empty_axes(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.index_array' op axes is empty: the result would have size 0 (Kiln has no zero-size tensors)}}
  %0 = graph.index_array %x {axes = array<i64>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @ravel_no_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.ravel_multi_index' op needs a non-empty shape}}
  %0 = graph.ravel_multi_index %x : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @ravel_rows(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.ravel_multi_index' op data (2, 3) must be (3, N): one row per axis of shape}}
  %0 = graph.ravel_multi_index %x {shape = array<i64: 2, 2, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @unravel_no_shape(%x: tensor<3xf32>) {
  // expected-error @+1 {{'graph.unravel_index' op needs a non-empty shape}}
  %0 = graph.unravel_index %x {shape = array<i64>} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @unravel_rank(%x: tensor<3x1xf32>) {
  // expected-error @+1 {{'graph.unravel_index' op data (3, 1) must be a vector of flat indices}}
  %0 = graph.unravel_index %x {shape = array<i64: 4>} : (tensor<3x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scatter_nd_data(%d: tensor<4x3xf32>, %i: tensor<2x4xf32>) {
  // expected-error @+1 {{operand 'data' has shape (4, 3) but the shape rule gives (4, 2)}}
  %0 = graph.scatter_nd %d, %i {shape = array<i64: 3, 4, 2>} : (tensor<4x3xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scatter_nd_shape(%d: tensor<4xf32>, %i: tensor<1x4xf32>) {
  // expected-error @+1 {{'graph.scatter_nd' op shape entries must be positive, got (0)}}
  %0 = graph.scatter_nd %d, %i {shape = array<i64: 0>} : (tensor<4xf32>, tensor<1x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scatter_nd_indices(%d: tensor<4xf32>, %i: tensor<3x4xf32>) {
  // expected-error @+1 {{'graph.scatter_nd' op indices (3, 4) index 3 axes of data (2, 2)}}
  %0 = graph.scatter_nd %d, %i {shape = array<i64: 2, 2>} : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  return
}
