// Verifier diagnostics: attribute constraints, then the shape rules once every
// operand is ranked.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @fc_num_hidden(%x: tensor<2x4xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.fully_connected' op num_hidden must be positive, got 0}}
  %0 = graph.fully_connected %x, %w {num_hidden = 0 : i64} : (tensor<2x4xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @fc_result(%x: tensor<2x4xf32>, %w: tensor<10x4xf32>) {
  // expected-error @+1 {{'graph.fully_connected' op result 0 has shape (2, 9) but the shape rule gives (2, 10)}}
  %0 = graph.fully_connected %x, %w {num_hidden = 10 : i64} : (tensor<2x4xf32>, tensor<10x4xf32>) -> tensor<2x9xf32>
  return
}

// -----

// flatten collapses (3, 4) into K = 12.
func.func @fc_weight(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>) {
  // expected-error @+1 {{operand 'weight' has shape (5, 4) but the shape rule gives (5, 12)}}
  %0 = graph.fully_connected %x, %w {num_hidden = 5 : i64} : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @fc_bias(%x: tensor<2x4xf32>, %w: tensor<5x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{operand 'bias' has shape (4) but the shape rule gives (5)}}
  %0 = graph.fully_connected %x, %w, %b {num_hidden = 5 : i64} : (tensor<2x4xf32>, tensor<5x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.convolution' op stride has 3 entries but kernel has 2}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1, 1>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_kernel_rank(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{kernel must have 1, 2 or 3 entries, got 4}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 1, 1, 1, 1>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_kernel_value(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{kernel entries must be positive, got 0}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 0>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_pad(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{pad entries must be non-negative, got -1}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, pad = array<i64: -1, 0>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_dilate(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{dilate entries must be positive, got 0}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, dilate = array<i64: 0, 1>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_num_filter(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.convolution' op num_filter must be positive}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 0 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_group_filter(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{num_group (3) must divide num_filter (8)}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 8 : i64, num_group = 3 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_group_channels(%x: tensor<1x8x5x5xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error @+1 {{num_group (3) must divide the input channels (8)}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 6 : i64, num_group = 3 : i64} : (tensor<1x8x5x5xf32>, tensor<6x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<8x5x5xf32>, %w: tensor<4x8x3x3xf32>) {
  // expected-error @+1 {{expects a rank-4 input for a 2-D kernel, got rank 3}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64} : (tensor<8x5x5xf32>, tensor<4x8x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

// The dilated kernel 2·(3−1)+1 = 5 does not fit in 4.
func.func @conv_too_small(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error @+1 {{dilated kernel size 5 exceeds padded input size 4 in spatial dimension 0}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, dilate = array<i64: 2, 2>, num_filter = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

// Weight is [num_filter, C/num_group, *kernel] = [4, 2, 3, 3].
func.func @conv_weight(%x: tensor<1x4x5x5xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{operand 'weight' has shape (4, 4, 3, 3) but the shape rule gives (4, 2, 3, 3)}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64, num_group = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<4x4x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

// (5 − 3)/1 + 1 = 3, not 5.
func.func @conv_result(%x: tensor<1x1x5x5xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error @+1 {{result 0 has shape (1, 2, 5, 5) but the shape rule gives (1, 2, 3, 3)}}
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 2 : i64} : (tensor<1x1x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x5x5xf32>
  return
}

// -----

func.func @deconv_adj(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.deconvolution' op adj[0] (2) must be smaller than stride[0] (2)}}
  %0 = graph.deconvolution %x, %w {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, adj = array<i64: 2, 0>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @deconv_target_rank(%x: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{target_shape has 1 entries but kernel has 2}}
  %0 = graph.deconvolution %x, %w {kernel = array<i64: 3, 3>, target_shape = array<i64: 8>, num_filter = 4 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// s(x−1) + k = 2·3 + 4 = 10 is the most a 4-wide input can produce.
func.func @deconv_target_big(%x: tensor<1x2x4x4xf32>, %w: tensor<2x4x4x4xf32>) {
  // expected-error @+1 {{target_shape[0] (11) is too big: the input allows at most 10}}
  %0 = graph.deconvolution %x, %w {kernel = array<i64: 4, 4>, stride = array<i64: 2, 2>, target_shape = array<i64: 11, 8>, num_filter = 4 : i64} : (tensor<1x2x4x4xf32>, tensor<2x4x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

// Deconvolution weight is [C, num_filter/num_group, *kernel] = [2, 4, 2, 2].
func.func @deconv_weight(%x: tensor<1x2x4x4xf32>, %w: tensor<4x2x2x2xf32>) {
  // expected-error @+1 {{operand 'weight' has shape (4, 2, 2, 2) but the shape rule gives (2, 4, 2, 2)}}
  %0 = graph.deconvolution %x, %w {kernel = array<i64: 2, 2>, num_filter = 4 : i64} : (tensor<1x2x4x4xf32>, tensor<4x2x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_kernel(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.pooling' op kernel must be set unless global_pool}}
  %0 = graph.pooling %x : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_pad(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.pooling' op pad has 1 entries but kernel has 2}}
  %0 = graph.pooling %x {kernel = array<i64: 2, 2>, pad = array<i64: 1>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_p_value(%x: tensor<*xf32>) {
  // expected-error @+1 {{p_value must be positive, got 0}}
  %0 = graph.pooling %x {kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<lp>, p_value = 0 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_too_big(%x: tensor<1x1x2x2xf32>) {
  // expected-error @+1 {{kernel size 3 exceeds padded input size 2 in spatial dimension 0}}
  %0 = graph.pooling %x {kernel = array<i64: 3, 3>} : (tensor<1x1x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

// valid: 1 + ⌊(8 − 3)/2⌋ = 3 (full would give 4).
func.func @pool_valid(%x: tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{result 0 has shape (1, 1, 4, 4) but the shape rule gives (1, 1, 3, 3)}}
  %0 = graph.pooling %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return
}

// -----

func.func @pool_global_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{global pooling expects a rank-3, 4 or 5 input, got rank 2}}
  %0 = graph.pooling %x {global_pool = true} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @activation_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.activation' op requires the same shape for all operands and results}}
  %0 = graph.activation %x {act_type = #graph.act_type<tanh>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @prelu_no_gamma(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.leaky_relu' op act_type prelu needs a gamma operand}}
  %0 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<prelu>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @leaky_gamma(%x: tensor<*xf32>, %g: tensor<*xf32>) {
  // expected-error @+1 {{'graph.leaky_relu' op gamma is only taken by act_type prelu}}
  %0 = graph.leaky_relu %x, %g : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rrelu_bounds(%x: tensor<*xf32>) {
  // expected-error @+1 {{lower_bound must not exceed upper_bound}}
  %0 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<rrelu>, lower_bound = 0.5 : f32, upper_bound = 0.25 : f32} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @prelu_gamma_shape(%x: tensor<1x4x5x5xf32>, %g: tensor<5xf32>) {
  // expected-error @+1 {{operand 'gamma' has shape (5) but the shape rule gives (4)}}
  %0 = graph.leaky_relu %x, %g {act_type = #graph.leaky_act_type<prelu>} : (tensor<1x4x5x5xf32>, tensor<5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @bn_axis(%x: tensor<2x3x4x5xf32>, %p: tensor<3xf32>) {
  // expected-error @+1 {{'graph.batch_norm' op axis 4 out of range for rank-4 input}}
  %0 = graph.batch_norm %x, %p, %p, %p, %p {axis = 4 : i64} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @bn_eps(%x: tensor<*xf32>, %p: tensor<*xf32>) {
  // expected-error @+1 {{'graph.batch_norm' op eps must be positive}}
  %0 = graph.batch_norm %x, %p, %p, %p, %p {eps = 0.0 : f64} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @bn_moving_var(%x: tensor<2x3xf32>, %p: tensor<3xf32>, %v: tensor<2xf32>) {
  // expected-error @+1 {{operand 'moving_var' has shape (2) but the shape rule gives (3)}}
  %0 = graph.batch_norm %x, %p, %p, %p, %v : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sync_bn_ndev(%x: tensor<*xf32>, %p: tensor<*xf32>) {
  // expected-error @+1 {{'graph.sync_batch_norm' op ndev must be positive, got 0}}
  %0 = graph.sync_batch_norm %x, %p, %p, %p, %p {key = "k", ndev = 0 : i64} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sync_bn_eps(%x: tensor<*xf32>, %p: tensor<*xf32>) {
  // expected-error @+1 {{'graph.sync_batch_norm' op eps must be positive}}
  %0 = graph.sync_batch_norm %x, %p, %p, %p, %p {eps = -1.0 : f32, key = "k"} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sync_bn_rank1(%x: tensor<3xf32>, %p: tensor<3xf32>) {
  // expected-error @+1 {{'graph.sync_batch_norm' op axis 1 out of range for rank-1 input}}
  %0 = graph.sync_batch_norm %x, %p, %p, %p, %p {key = "k"} : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sync_bn_moving_var(%x: tensor<2x3xf32>, %p: tensor<3xf32>, %v: tensor<2xf32>) {
  // expected-error @+1 {{operand 'moving_var' has shape (2) but the shape rule gives (3)}}
  %0 = graph.sync_batch_norm %x, %p, %p, %p, %v {key = "k"} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_nsize(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.lrn' op nsize must be odd and positive, got 4}}
  %0 = graph.lrn %x {nsize = 4 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_negative(%x: tensor<*xf32>) {
  // expected-error @+1 {{nsize must be odd and positive, got -3}}
  %0 = graph.lrn %x {nsize = -3 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_rank(%x: tensor<8xf32>) {
  // expected-error @+1 {{expects an input with a channel axis (rank at least 2), got rank 1}}
  %0 = graph.lrn %x {nsize = 3 : i64} : (tensor<8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dropout_p(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.dropout' op p must be in [0, 1), got 1}}
  %0 = graph.dropout %x {p = 1.0 : f32} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dropout_axes(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'graph.dropout' op axis 2 out of range for rank-2 input}}
  %0 = graph.dropout %x {axes = array<i64: 2>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @embedding_dim(%i: tensor<*xf32>, %w: tensor<*xf32>) {
  // expected-error @+1 {{'graph.embedding' op output_dim must be positive, got 0}}
  %0 = graph.embedding %i, %w {input_dim = 10 : i64, output_dim = 0 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @embedding_weight(%i: tensor<4xf32>, %w: tensor<10x5xf32>) {
  // expected-error @+1 {{operand 'weight' has shape (10, 5) but the shape rule gives (10, 6)}}
  %0 = graph.embedding %i, %w {input_dim = 10 : i64, output_dim = 6 : i64} : (tensor<4xf32>, tensor<10x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @embedding_result(%i: tensor<4xf32>, %w: tensor<10x6xf32>) {
  // expected-error @+1 {{result 0 has shape (4, 10) but the shape rule gives (4, 6)}}
  %0 = graph.embedding %i, %w {input_dim = 10 : i64, output_dim = 6 : i64} : (tensor<4xf32>, tensor<10x6xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @softmax_output_label(%x: tensor<8x10xf32>, %l: tensor<10xf32>) {
  // expected-error @+1 {{'graph.softmax_output' op operand 'label' has shape (10) but the shape rule gives (8) (class ids) or (8, 10) (probabilities)}}
  %0 = graph.softmax_output %x, %l : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  return
}

// -----

func.func @softmax_output_alpha(%x: tensor<*xf32>, %l: tensor<*xf32>) {
  // expected-error @+1 {{smooth_alpha must be in [0, 1), got 1.5}}
  %0 = graph.softmax_output %x, %l {smooth_alpha = 1.5 : f32} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_output_multi_rank(%x: tensor<8xf32>, %l: tensor<8xf32>) {
  // expected-error @+1 {{multi_output expects an input of rank at least 2, got rank 1}}
  %0 = graph.softmax_output %x, %l {multi_output = true} : (tensor<8xf32>, tensor<8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @linear_label(%x: tensor<4x2xf32>, %l: tensor<4xf32>) {
  // expected-error @+1 {{'graph.linear_regression_output' op operand 'label' has shape (4) but the shape rule needs the batch size 4 and 8 elements}}
  %0 = graph.linear_regression_output %x, %l : (tensor<4x2xf32>, tensor<4xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @logistic_label(%x: tensor<4x2xf32>, %l: tensor<2x4xf32>) {
  // expected-error @+1 {{'graph.logistic_regression_output' op operand 'label' has shape (2, 4)}}
  %0 = graph.logistic_regression_output %x, %l : (tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @mae_result(%x: tensor<4x2xf32>, %l: tensor<4x2xf32>) {
  // expected-error @+1 {{'graph.mae_regression_output' op result 0 has shape (4) but the shape rule gives (4, 2)}}
  %0 = graph.mae_regression_output %x, %l : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x5xf32>) {
  // expected-error @+1 {{'graph.softmax' op axis -3 out of range for rank-2 input}}
  %0 = graph.softmax %x {axis = -3 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @log_softmax_temperature(%x: tensor<2x5xf32>) {
  // expected-error @+1 {{'graph.log_softmax' op temperature must be nonzero}}
  %0 = graph.log_softmax %x {temperature = 0.0 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @softmin_temperature(%x: tensor<2x5xf32>) {
  // expected-error @+1 {{'graph.softmin' op temperature must be nonzero}}
  %0 = graph.softmin %x {temperature = 0.0 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @softmax_activation_channel(%x: tensor<2x5xf32>) {
  // expected-error @+1 {{'graph.softmax_activation' op mode channel expects an input of rank at least 3, got rank 2}}
  %0 = graph.softmax_activation %x {mode = #graph.softmax_mode<channel>} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @identity_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.identity' op requires the same shape for all operands and results}}
  %0 = graph.identity %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @flatten_result(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'graph.flatten' op result 0 has shape (6, 4) but the shape rule gives (2, 12)}}
  %0 = graph.flatten %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  return
}

// -----

func.func @flatten_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{'graph.flatten' op expects an input of rank at least 1}}
  %0 = graph.flatten %x : (tensor<f32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_code(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.reshape' op reshape: invalid code -5 in shape}}
  %0 = graph.reshape %x {shape = array<i64: -5, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_two_infer(%x: tensor<*xf32>) {
  // expected-error @+1 {{reshape: more than one -1 in shape}}
  %0 = graph.reshape %x {shape = array<i64: -1, 2, -1>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_split_short(%x: tensor<*xf32>) {
  // expected-error @+1 {{reshape: -4 must be followed by two dimensions}}
  %0 = graph.reshape %x {shape = array<i64: 0, -4, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_split_both(%x: tensor<*xf32>) {
  // expected-error @+1 {{reshape: split dims cannot both be -1}}
  %0 = graph.reshape %x {shape = array<i64: -4, -1, -1>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_empty(%x: tensor<*xf32>) {
  // expected-error @+1 {{reshape: shape must not be empty}}
  %0 = graph.reshape %x {shape = array<i64>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_size(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{reshape: target shape (4, 2) has a different size than the input (2, 3)}}
  %0 = graph.reshape %x {shape = array<i64: 4, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_copy_past_end(%x: tensor<6xf32>) {
  // expected-error @+1 {{reshape: code 0 needs more input dimensions than the 1 of (6)}}
  %0 = graph.reshape %x {shape = array<i64: 0, 0>} : (tensor<6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_split_mismatch(%x: tensor<6x2xf32>) {
  // expected-error @+1 {{reshape: split dims 4, 2 do not multiply to the input dimension 6}}
  %0 = graph.reshape %x {shape = array<i64: -4, 4, 2, 0>} : (tensor<6x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_infer(%x: tensor<7xf32>) {
  // expected-error @+1 {{reshape: cannot infer the -1 dimension reshaping (7) with shape (2, -1)}}
  %0 = graph.reshape %x {shape = array<i64: 2, -1>} : (tensor<7xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<*xf32>) {
  // expected-error @+1 {{'graph.transpose' op transpose axes must be a permutation of [0, rank)}}
  %0 = graph.transpose %x {axes = array<i64: 0, 0, 1>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @transpose_rank(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{transpose has 2 axes but the input has rank 3}}
  %0 = graph.transpose %x {axes = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{'graph.concat' op concat needs at least one input}}
  %0 = graph.concat : () -> tensor<*xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  // expected-error @+1 {{operand 'inputs #1' has shape (3, 3), which does not match (2, 3) outside dim 1}}
  %0 = graph.concat %a, %b : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_dim(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{dim 2 out of range for rank-2 input}}
  %0 = graph.concat %a, %b {dim = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @split_divisible(%x: tensor<2x5xf32>) {
  // expected-error @+1 {{'graph.split' op split: axis size 5 is not divisible by num_outputs 2}}
  %0:2 = graph.split %x {num_outputs = 2 : i64} : (tensor<2x5xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @split_results(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'graph.split' op has 3 results but num_outputs is 2}}
  %0:3 = graph.split %x {num_outputs = 2 : i64} : (tensor<2x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @split_squeeze(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{split: squeeze_axis needs parts of size 1, but axis size 4 is split into 2}}
  %0:2 = graph.split %x {num_outputs = 2 : i64, squeeze_axis = true} : (tensor<2x4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @elemwise_shape(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+1 {{'graph.elemwise_add' op requires the same shape for all operands and results}}
  %0 = graph.elemwise_add %a, %b : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @add_n_empty() {
  // The SameOperandsAndResultShape trait rejects it before the op verifier.
  // expected-error @+1 {{'graph.add_n' op expected 1 or more operands, but found 0}}
  %0 = graph.add_n : () -> tensor<*xf32>
  return
}

// -----

func.func @scalar_shape(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.mul_scalar' op requires the same shape for all operands and results}}
  %0 = graph.mul_scalar %a {scalar = 2.0 : f64} : (tensor<2x3xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'graph.broadcast_mul' op operands could not be broadcast together with shapes (2, 3) and (4)}}
  %0 = graph.broadcast_mul %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_result(%a: tensor<2x1xf32>, %b: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_add' op result 0 has shape (2, 1) but the shape rule gives (2, 3)}}
  %0 = graph.broadcast_add %a, %b : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @broadcast_to_negative(%a: tensor<*xf32>) {
  // expected-error @+1 {{'graph.broadcast_to' op broadcast_to: shape entries must be non-negative, got -1}}
  %0 = graph.broadcast_to %a {shape = array<i64: -1, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_to_mismatch(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{broadcast_to: cannot broadcast (2, 3) to (4, 3)}}
  %0 = graph.broadcast_to %a {shape = array<i64: 4, 3>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sum_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.sum' op axis -3 out of range for rank-2 input}}
  %0 = graph.sum %x {axis = array<i64: -3>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mean_duplicate(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.mean' op reduction axes contain axis 1 twice}}
  %0 = graph.mean %x {axis = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @max_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.max' op result 0 has shape (2, 1) but the shape rule gives (2)}}
  %0 = graph.max %x {axis = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

// A full reduction without keepdims yields shape (1), not a scalar.
func.func @min_all(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.min' op result 0 has shape () but the shape rule gives (1)}}
  %0 = graph.min %x : (tensor<2x3xf32>) -> tensor<f32>
  return
}

// -----

// (3, 2) against (2, 3): 2 vs 3 in the last axis.
func.func @broadcast_sub(%a: tensor<3x2xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_sub' op operands could not be broadcast together with shapes (3, 2) and (2, 3)}}
  %0 = graph.broadcast_sub %a, %b : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// (3, 2) against (2, 3): 2 vs 3 in the last axis.
func.func @broadcast_div(%a: tensor<3x2xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_div' op operands could not be broadcast together with shapes (3, 2) and (2, 3)}}
  %0 = graph.broadcast_div %a, %b : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// (3, 2) against (2, 3): 2 vs 3 in the last axis.
func.func @broadcast_maximum(%a: tensor<3x2xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_maximum' op operands could not be broadcast together with shapes (3, 2) and (2, 3)}}
  %0 = graph.broadcast_maximum %a, %b : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// (3, 2) against (2, 3): 2 vs 3 in the last axis.
func.func @broadcast_minimum(%a: tensor<3x2xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_minimum' op operands could not be broadcast together with shapes (3, 2) and (2, 3)}}
  %0 = graph.broadcast_minimum %a, %b : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// (3, 2) against (2, 3): 2 vs 3 in the last axis.
func.func @broadcast_power(%a: tensor<3x2xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.broadcast_power' op operands could not be broadcast together with shapes (3, 2) and (2, 3)}}
  %0 = graph.broadcast_power %a, %b : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @elemwise_sub(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.elemwise_sub' op requires the same shape for all operands and results}}
  %0 = graph.elemwise_sub %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @elemwise_mul(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.elemwise_mul' op requires the same shape for all operands and results}}
  %0 = graph.elemwise_mul %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @elemwise_div(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.elemwise_div' op requires the same shape for all operands and results}}
  %0 = graph.elemwise_div %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @plus_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.plus_scalar' op requires the same shape for all operands and results}}
  %0 = graph.plus_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @minus_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.minus_scalar' op requires the same shape for all operands and results}}
  %0 = graph.minus_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @rminus_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.rminus_scalar' op requires the same shape for all operands and results}}
  %0 = graph.rminus_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @div_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.div_scalar' op requires the same shape for all operands and results}}
  %0 = graph.div_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @rdiv_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.rdiv_scalar' op requires the same shape for all operands and results}}
  %0 = graph.rdiv_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @power_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.power_scalar' op requires the same shape for all operands and results}}
  %0 = graph.power_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @rpower_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.rpower_scalar' op requires the same shape for all operands and results}}
  %0 = graph.rpower_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @maximum_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.maximum_scalar' op requires the same shape for all operands and results}}
  %0 = graph.maximum_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @minimum_scalar(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.minimum_scalar' op requires the same shape for all operands and results}}
  %0 = graph.minimum_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}
