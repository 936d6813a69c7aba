// Verifier diagnostics of the NN family (GraphNNOps.td) and of the core ops
// it extended (dot, softmax's length): attribute constraints, then the shape
// rules once every operand is ranked.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @layer_norm_axis(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{axis 2 out of range for rank-2 input}}
  %0 = graph.layer_norm %x, %g, %g {axis = 2 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @layer_norm_gamma(%x: tensor<2x3xf32>, %g: tensor<2xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{operand 'gamma' has shape (2) but the shape rule gives (3)}}
  %0 = graph.layer_norm %x, %g, %b : (tensor<2x3xf32>, tensor<2xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @instance_norm_rank(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{expects an input of rank at least 3 (N, C, spatial...), got shape (2, 3)}}
  %0 = graph.instance_norm %x, %g, %g : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @group_norm_groups(%x: tensor<*xf32>) {
  // expected-error @+1 {{num_groups must be positive, got 0}}
  %0 = graph.group_norm %x, %x, %x {num_groups = 0 : i64} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @group_norm_divide(%x: tensor<2x6x3xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{num_groups (4) must divide the channels (6)}}
  %0 = graph.group_norm %x, %g, %g {num_groups = 4 : i64} : (tensor<2x6x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

// MXNet 1.9.1's GroupNorm has one gamma per group.
func.func @group_norm_gamma(%x: tensor<2x6x3xf32>, %g: tensor<6xf32>) {
  // expected-error @+1 {{operand 'gamma' has shape (6) but the shape rule gives (3)}}
  %0 = graph.group_norm %x, %g, %g {num_groups = 3 : i64} : (tensor<2x6x3xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @l2_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{mode channel expects an input of rank at least 3, got shape (2, 3)}}
  %0 = graph.l2_normalization %x {mode = #graph.l2norm_mode<channel>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_scale(%x: tensor<*xf32>) {
  // expected-error @+1 {{scale must be at least 1, got 0}}
  %0 = graph.up_sampling %x {num_args = 1 : i64, scale = 0 : i64, sample_type = #graph.sample_type<nearest>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_num_args(%x: tensor<*xf32>) {
  // expected-error @+1 {{num_args must be at least 1, got 0}}
  %0 = graph.up_sampling %x {num_args = 0 : i64, scale = 2 : i64, sample_type = #graph.sample_type<nearest>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_operands(%x: tensor<*xf32>) {
  // expected-error @+1 {{has 1 operands but num_args is 2}}
  %0 = graph.up_sampling %x {num_args = 2 : i64, scale = 2 : i64, sample_type = #graph.sample_type<nearest>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_bilinear_operands(%x: tensor<*xf32>) {
  // expected-error @+1 {{bilinear mode takes two operands (data, weight), got 1}}
  %0 = graph.up_sampling %x {num_args = 1 : i64, scale = 2 : i64, sample_type = #graph.sample_type<bilinear>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_bilinear_filters(%x: tensor<1x2x3x3xf32>, %w: tensor<2x1x4x4xf32>) {
  // expected-error @+1 {{bilinear mode needs num_filter equal to the channels (2), got 0}}
  %0 = graph.up_sampling %x, %w {num_args = 2 : i64, scale = 2 : i64, sample_type = #graph.sample_type<bilinear>} : (tensor<1x2x3x3xf32>, tensor<2x1x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_bilinear_weight(%x: tensor<1x2x3x3xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error @+1 {{operand 'weight' has shape (2, 1, 3, 3) but the shape rule gives (2, 1, 4, 4)}}
  %0 = graph.up_sampling %x, %w {num_args = 2 : i64, num_filter = 2 : i64, scale = 2 : i64, sample_type = #graph.sample_type<bilinear>} : (tensor<1x2x3x3xf32>, tensor<2x1x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_rank(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects operand 'arg0' of rank 4 (N, C, H, W), got shape (2, 3, 4)}}
  %0 = graph.up_sampling %x {num_args = 1 : i64, scale = 2 : i64, sample_type = #graph.sample_type<nearest>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

// The output is (4, 6); (3, 3) does not divide it.
func.func @up_factor(%a: tensor<1x1x2x3xf32>, %b: tensor<1x1x3x3xf32>) {
  // expected-error @+1 {{operand 'arg1' of shape (1, 1, 3, 3) does not upsample to the output's 4 x 6 by one whole factor}}
  %0 = graph.up_sampling %a, %b {num_args = 2 : i64, scale = 2 : i64, sample_type = #graph.sample_type<nearest>} : (tensor<1x1x2x3xf32>, tensor<1x1x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_sum_channels(%a: tensor<1x1x2x2xf32>, %b: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{multi_input_mode sum needs equal channels, but operand 'arg1' has 2 and arg0 1}}
  %0 = graph.up_sampling %a, %b {num_args = 2 : i64, scale = 2 : i64, sample_type = #graph.sample_type<nearest>, multi_input_mode = #graph.multi_input_mode<sum>} : (tensor<1x1x2x2xf32>, tensor<1x2x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @up_batch(%a: tensor<1x1x2x2xf32>, %b: tensor<2x1x4x4xf32>) {
  // expected-error @+1 {{operand 'arg1' has batch size 2 but arg0 has 1}}
  %0 = graph.up_sampling %a, %b {num_args = 2 : i64, scale = 2 : i64, sample_type = #graph.sample_type<nearest>} : (tensor<1x1x2x2xf32>, tensor<2x1x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_size(%x: tensor<*xf32>) {
  // expected-error @+1 {{height and width must be at least 1, got 0 and 3}}
  %0 = graph.bilinear_resize2d %x {height = 0 : i64, width = 3 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_like_missing(%x: tensor<*xf32>) {
  // expected-error @+1 {{mode like needs the operand 'like'}}
  %0 = graph.bilinear_resize2d %x {mode = #graph.resize_mode<like>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_like_extra(%x: tensor<*xf32>) {
  // expected-error @+1 {{takes the operand 'like' only in mode like}}
  %0 = graph.bilinear_resize2d %x, %x : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_odd_scale(%x: tensor<*xf32>) {
  // expected-error @+1 {{mode odd_scale needs scale_height and scale_width}}
  %0 = graph.bilinear_resize2d %x {mode = #graph.resize_mode<odd_scale>, scale_height = 2.0 : f32} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_scale_width(%x: tensor<*xf32>) {
  // expected-error @+1 {{scale_height needs scale_width (MXNet reads both)}}
  %0 = graph.bilinear_resize2d %x {scale_height = 2.0 : f32} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_empty(%x: tensor<1x1x1x4xf32>) {
  // expected-error @+1 {{resizes (1, 1, 1, 4) to an empty 0 x 4 image}}
  %0 = graph.bilinear_resize2d %x {mode = #graph.resize_mode<to_even_down>} : (tensor<1x1x1x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_rank(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects operand 'data' of rank 4 (N, C, H, W), got shape (2, 3, 4)}}
  %0 = graph.bilinear_resize2d %x {height = 2 : i64, width = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @resize_result(%x: tensor<1x1x3x3xf32>) {
  // expected-error @+1 {{result 0 has shape (1, 1, 6, 6) but the shape rule gives (1, 1, 4, 4)}}
  %0 = graph.bilinear_resize2d %x {mode = #graph.resize_mode<to_even_up>} : (tensor<1x1x3x3xf32>) -> tensor<1x1x6x6xf32>
  return
}

// -----

func.func @adaptive_size(%x: tensor<*xf32>) {
  // expected-error @+1 {{output_size has 3 entries; it takes at most 2 (height, width)}}
  %0 = graph.adaptive_avg_pooling2d %x {output_size = array<i64: 1, 2, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @adaptive_entry(%x: tensor<*xf32>) {
  // expected-error @+1 {{output_size entries must be positive, got 0}}
  %0 = graph.adaptive_avg_pooling2d %x {output_size = array<i64: 0>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @adaptive_rank(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{expects operand 'data' of rank 4 (N, C, H, W), got shape (2, 3, 4)}}
  %0 = graph.adaptive_avg_pooling2d %x : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @adaptive_grad(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x3x2x2xf32>) {
  // expected-error @+1 {{out_grad (1, 3, 2, 2) and data (1, 2, 4, 4) disagree on batch size or channels}}
  %0 = graph.adaptive_avg_pooling2d_grad %x, %dy : (tensor<1x2x4x4xf32>, tensor<1x3x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_dot_rank(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{expects operands of one rank, at least 3, got (3, 4) and (4, 5)}}
  %0 = graph.batch_dot %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_dot_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  // expected-error @+1 {{batch axes differ: (2, 3, 4) and (3, 4, 5)}}
  %0 = graph.batch_dot %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_dot_k(%a: tensor<2x3x4xf32>, %b: tensor<2x5x4xf32>) {
  // expected-error @+1 {{contraction sizes differ: 4 (lhs (2, 3, 4)) and 5 (rhs (2, 5, 4))}}
  %0 = graph.batch_dot %a, %b : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @make_loss_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{requires the same shape for all operands and results}}
  %0 = graph.make_loss %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @dot_vectors_transposed(%a: tensor<4xf32>) {
  // expected-error @+1 {{cannot transpose vectors}}
  %0 = graph.dot %a, %a {transpose_a = true} : (tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dot_nd(%a: tensor<2x3x4xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{contraction sizes differ: 4 (lhs (2, 3, 4)) and 3 (rhs (3, 5))}}
  %0 = graph.dot %a, %b : (tensor<2x3x4xf32>, tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_length_missing(%x: tensor<*xf32>) {
  // expected-error @+1 {{use_length needs the operand 'length'}}
  %0 = graph.softmax %x {use_length = true} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_length_extra(%x: tensor<*xf32>) {
  // expected-error @+1 {{takes the operand 'length' only with use_length}}
  %0 = graph.softmax %x, %x : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_length_shape(%x: tensor<3x4xf32>, %l: tensor<4xf32>) {
  // expected-error @+1 {{operand 'length' has shape (4) but the shape rule gives (3)}}
  %0 = graph.softmax %x, %l {use_length = true} : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @interleaved_heads(%x: tensor<*xf32>) {
  // expected-error @+1 {{heads must be positive, got 0}}
  %0 = graph.interleaved_matmul_selfatt_qk %x {heads = 0 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @interleaved_rank(%x: tensor<5x24xf32>) {
  // expected-error @+1 {{expects operand 'queries_keys_values' of rank 3 (seq, batch, heads * 3 * head_dim), got shape (5, 24)}}
  %0 = graph.interleaved_matmul_selfatt_qk %x {heads = 2 : i64} : (tensor<5x24xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @interleaved_split(%x: tensor<5x3x20xf32>) {
  // expected-error @+1 {{operand 'queries_keys_values' of shape (5, 3, 20): its last axis does not split into 2 heads of 3 equal parts}}
  %0 = graph.interleaved_matmul_selfatt_qk %x {heads = 2 : i64} : (tensor<5x3x20xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @interleaved_valatt_attention(%x: tensor<5x3x24xf32>, %a: tensor<6x5x4xf32>) {
  // expected-error @+1 {{operand 'attention' has shape (6, 5, 4) but the shape rule gives (6, 5, 5)}}
  %0 = graph.interleaved_matmul_selfatt_valatt %x, %a {heads = 2 : i64} : (tensor<5x3x24xf32>, tensor<6x5x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @interleaved_encdec_qk(%q: tensor<4x3x8xf32>, %kv: tensor<5x2x16xf32>) {
  // expected-error @+1 {{keys_values (5, 2, 16) does not match queries (4, 3, 8) (same batch, last axis twice as long)}}
  %0 = graph.interleaved_matmul_encdec_qk %q, %kv {heads = 2 : i64} : (tensor<4x3x8xf32>, tensor<5x2x16xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @interleaved_encdec_valatt(%kv: tensor<5x3x16xf32>, %a: tensor<6x4x4xf32>) {
  // expected-error @+1 {{expects operand 'attention' of shape (6, q_seq, 5) (batch * heads, q_seq, kv_seq), got (6, 4, 4)}}
  %0 = graph.interleaved_matmul_encdec_valatt %kv, %a {heads = 2 : i64} : (tensor<5x3x16xf32>, tensor<6x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @grid_target(%x: tensor<*xf32>) {
  // expected-error @+1 {{target_shape must be positive for an affine transform, got (0, 0)}}
  %0 = graph.grid_generator %x {transform_type = #graph.grid_transform<affine>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @grid_target_entries(%x: tensor<*xf32>) {
  // expected-error @+1 {{target_shape must have 2 entries (height, width), got 3}}
  %0 = graph.grid_generator %x {transform_type = #graph.grid_transform<warp>, target_shape = array<i64: 1, 2, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @grid_affine_data(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{expects operand 'data' of shape (batch, 6) (an affine matrix per sample), got (2, 4)}}
  %0 = graph.grid_generator %x {transform_type = #graph.grid_transform<affine>, target_shape = array<i64: 2, 2>} : (tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @grid_warp_data(%x: tensor<2x3x4x4xf32>) {
  // expected-error @+1 {{transform_type warp expects a flow of shape (batch, 2, height, width), got (2, 3, 4, 4)}}
  %0 = graph.grid_generator %x {transform_type = #graph.grid_transform<warp>} : (tensor<2x3x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sampler_grid(%x: tensor<2x3x4x4xf32>, %g: tensor<2x3x4x4xf32>) {
  // expected-error @+1 {{expects operand 'grid' of shape (2, 2, height, width) for data (2, 3, 4, 4), got (2, 3, 4, 4)}}
  %0 = graph.bilinear_sampler %x, %g : (tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sampler_data(%x: tensor<3x4x4xf32>, %g: tensor<3x2x4x4xf32>) {
  // expected-error @+1 {{expects operand 'data' of rank 4 (N, C, H, W), got shape (3, 4, 4)}}
  %0 = graph.bilinear_sampler %x, %g : (tensor<3x4x4xf32>, tensor<3x2x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spatial_warp(%x: tensor<*xf32>, %l: tensor<*xf32>) {
  // expected-error @+1 {{transform_type must be affine (MXNet 1.9.1's only one)}}
  %0 = graph.spatial_transformer %x, %l {target_shape = array<i64: 2, 2>, transform_type = #graph.grid_transform<warp>, sampler_type = #graph.sampler_type<bilinear>} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spatial_target(%x: tensor<*xf32>, %l: tensor<*xf32>) {
  // expected-error @+1 {{target_shape must be positive for an affine transform, got (0, 3)}}
  %0 = graph.spatial_transformer %x, %l {target_shape = array<i64: 0, 3>, transform_type = #graph.grid_transform<affine>, sampler_type = #graph.sampler_type<bilinear>} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spatial_loc(%x: tensor<2x3x4x4xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{operand 'localization' has shape (2, 4) but the shape rule gives (2, 6)}}
  %0 = graph.spatial_transformer %x, %l {target_shape = array<i64: 2, 2>, transform_type = #graph.grid_transform<affine>, sampler_type = #graph.sampler_type<bilinear>} : (tensor<2x3x4x4xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @correlation_even_kernel(%x: tensor<*xf32>) {
  // expected-error @+1 {{kernel_size must be odd and positive, got 2 (MXNet's CPU kernel reads outside its buffers otherwise)}}
  %0 = graph.correlation %x, %x {kernel_size = 2 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @correlation_stride(%x: tensor<*xf32>) {
  // expected-error @+1 {{stride1 and stride2 must be positive, got 1 and 0}}
  %0 = graph.correlation %x, %x {stride2 = 0 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @correlation_negative(%x: tensor<*xf32>) {
  // expected-error @+1 {{max_displacement and pad_size must not be negative}}
  %0 = graph.correlation %x, %x {pad_size = -1 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @correlation_fit(%x: tensor<1x2x3x3xf32>) {
  // expected-error @+1 {{the neighbourhood and kernel do not fit in data (1, 2, 3, 3) padded by 0 (output -1 x -1)}}
  %0 = graph.correlation %x, %x {max_displacement = 2 : i64} : (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @correlation_shapes(%a: tensor<1x2x4x4xf32>, %b: tensor<1x2x4x5xf32>) {
  // expected-error @+1 {{operand 'data2' has shape (1, 2, 4, 5) but the shape rule gives (1, 2, 4, 4)}}
  %0 = graph.correlation %a, %b : (tensor<1x2x4x4xf32>, tensor<1x2x4x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @khatri_rao_none() {
  // expected-error @+1 {{'graph.khatri_rao' op khatri_rao needs at least one input}}
  %0 = graph.khatri_rao : () -> tensor<*xf32>
  return
}

// -----

func.func @khatri_rao_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'graph.khatri_rao' op operand 'inputs #1' must be a matrix, got (3)}}
  %0 = graph.khatri_rao %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @khatri_rao_columns(%a: tensor<2x3xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+1 {{'graph.khatri_rao' op operand 'inputs #1' has 2 columns, not 3 as the first}}
  %0 = graph.khatri_rao %a, %b : (tensor<2x3xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_cross_entropy_rank(%x: tensor<2x3x4xf32>, %y: tensor<2xf32>) {
  // expected-error @+1 {{'graph.softmax_cross_entropy' op data must be (N, C), got (2, 3, 4)}}
  %0 = graph.softmax_cross_entropy %x, %y : (tensor<2x3x4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_cross_entropy_label(%x: tensor<2x3xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{operand 'label' has shape (3) but the shape rule gives (2)}}
  %0 = graph.softmax_cross_entropy %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_cross_entropy_grad_out_grad(%x: tensor<2x3xf32>, %y: tensor<2xf32>, %d: tensor<2xf32>) {
  // expected-error @+1 {{operand 'out_grad' has shape (2) but the shape rule gives (1)}}
  %0 = graph.softmax_cross_entropy_grad %x, %y, %d : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @svm_output_rank(%x: tensor<4xf32>, %y: tensor<1xf32>) {
  // expected-error @+1 {{'graph.svm_output' op data must have rank at least 2 (rows of classes), got (4)}}
  %0 = graph.svm_output %x, %y : (tensor<4xf32>, tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @svm_output_label(%x: tensor<3x4xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{operand 'label' has shape (4) but the shape rule gives (3)}}
  %0 = graph.svm_output %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}
