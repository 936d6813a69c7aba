// Verifier diagnostics of the Reduce family (GraphReduceOps.td).
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @prod_axis_twice(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.prod' op reduction axes contain axis 1 twice}}
  %0 = graph.prod %x {axis = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @nansum_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.nansum' op result 0 has shape (2) but the shape rule gives (3)}}
  %0 = graph.nansum %x {axis = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @norm_ord(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.norm' op ord must be 1 or 2 (MXNet's norm supports no other), got 3}}
  %0 = graph.norm %x {ord = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @norm_out_dtype(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.norm' op out_dtype int32 is not supported: MXNet 1.9.1's norm fails for an out_dtype other than the data's type (float32 or float64)}}
  %0 = graph.norm %x {out_dtype = #graph.dtype<int32>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @norm_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.norm' op axis 2 out of range for rank-2 input}}
  %0 = graph.norm %x {axis = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.argmax' op axis -3 out of range for rank-2 input}}
  %0 = graph.argmax %x {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmin_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.argmin' op result 0 has shape (3) but the shape rule gives (2)}}
  %0 = graph.argmin %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @topk_k(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.topk' op k = 4 exceeds the 3 elements along the axis}}
  %0 = graph.topk %x {axis = -1 : i64, k = 4 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @topk_k_flat(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.topk' op k = 7 exceeds the 6 elements of the flattened data}}
  %0 = graph.topk %x {k = 7 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @topk_results(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.topk' op with ret_typ both has 2 results, not 1}}
  %0 = graph.topk %x {axis = -1 : i64, ret_typ = #graph.topk_ret_typ<both>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @topk_dtype(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.topk' op dtype int8 is not one of MXNet's index types (uint8, int32, int64, float16, float32, float64)}}
  %0 = graph.topk %x {axis = -1 : i64, dtype = #graph.dtype<int8>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @topk_mask_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.topk' op result 0 has shape (2, 1) but the shape rule gives (2, 3)}}
  %0 = graph.topk %x {axis = -1 : i64, ret_typ = #graph.topk_ret_typ<mask>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @sort_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.sort' op axis 2 out of range for rank-2 input}}
  %0 = graph.sort %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argsort_dtype(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.argsort' op dtype bool is not one of MXNet's index types (uint8, int32, int64, float16, float32, float64)}}
  %0 = graph.argsort %x {axis = -1 : i64, dtype = #graph.dtype<bool>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reduce_grad_broadcast(%x: tensor<2x3xf32>, %dy: tensor<3x1xf32>, %y: tensor<2x1xf32>) {
  // expected-error @+1 {{'graph.prod_grad' op operand 'out_grad' of shape (3, 1) does not broadcast to the data's shape (2, 3)}}
  %0 = graph.prod_grad %x, %dy, %y : (tensor<2x3xf32>, tensor<3x1xf32>, tensor<2x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @topk_grad_k(%dy: tensor<2x4xf32>) {
  // expected-error @+1 {{'graph.topk_grad' op operands of shape (2, 4) are not the topk values of data of shape (2, 3)}}
  %0 = graph.topk_grad %dy, %dy {axis = 1 : i64, shape = array<i64: 2, 3>} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @topk_grad_operands(%dy: tensor<2x2xf32>, %i: tensor<2x1xf32>) {
  // expected-error @+1 {{'graph.topk_grad' op operand 'indices' has shape (2, 1) but the shape rule gives (2, 2)}}
  %0 = graph.topk_grad %dy, %i {axis = 1 : i64, shape = array<i64: 2, 3>} : (tensor<2x2xf32>, tensor<2x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @moments_no_axes(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.moments' op axes must list at least one axis (MXNet rejects moments without axes; list every axis for global moments)}}
  %0:2 = graph.moments %x : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @moments_empty_axes(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.moments' op axes must list at least one axis}}
  %0:2 = graph.moments %x {axes = array<i64>} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @moments_axis_twice(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.moments' op reduction axes contain axis 1 twice}}
  %0:2 = graph.moments %x {axes = array<i64: 1, -1>} : (tensor<2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @argmax_channel_rank1(%x: tensor<3xf32>) {
  // expected-error @+1 {{'graph.argmax_channel' op axis 1 out of range for rank-1 input}}
  %0 = graph.argmax_channel %x : (tensor<3xf32>) -> tensor<*xf32>
  return
}
