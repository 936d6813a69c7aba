// The NN family (GraphNNOps.td): round trip with non-default attributes, and
// shape inference from the data alone (parameters, labels and results
// implied by MXNet's shape rules). Every type below was worked out by hand
// from MXNet 1.9.1's FInferShape; the verifier re-derives them.
// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s --check-prefix=RT
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | kiln-opt -split-input-file | FileCheck %s --check-prefix=RT
// RUN: kiln-opt %s -split-input-file -kiln-graph-infer-shapes | FileCheck %s --check-prefix=INFER

// RT-LABEL: func @norms
// INFER-LABEL: func @norms
// Parameters: LayerNorm's gamma/beta are the size of `axis` (3 for axis 1);
// InstanceNorm's the channels (3); GroupNorm's are per group (2, MXNet
// 1.9.1), not per channel.
// INFER-SAME: (%{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2x3x4x4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<2x4x3xf32>, %{{.*}}: tensor<2xf32>, %{{.*}}: tensor<2xf32>)
func.func @norms(%x: tensor<2x3x4xf32>, %lg: tensor<*xf32>, %lb: tensor<*xf32>,
                 %img: tensor<2x3x4x4xf32>, %ig: tensor<*xf32>, %ib: tensor<*xf32>,
                 %gx: tensor<2x4x3xf32>, %gg: tensor<*xf32>, %gb: tensor<*xf32>) {
  // RT: graph.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, eps = 1.000000e-03 : f32}
  // INFER: graph.layer_norm {{.*}} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  %0 = graph.layer_norm %x, %lg, %lb {axis = 1 : i64, eps = 1.0e-3 : f32}
      : (tensor<2x3x4xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // RT: graph.instance_norm {{.*}} {eps = 2.500000e-01 : f32}
  // INFER: graph.instance_norm {{.*}} -> tensor<2x3x4x4xf32>
  %1 = graph.instance_norm %img, %ig, %ib {eps = 2.5e-1 : f32}
      : (tensor<2x3x4x4xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // RT: graph.group_norm {{.*}} {num_groups = 2 : i64}
  // INFER: graph.group_norm {{.*}} : (tensor<2x4x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x4x3xf32>
  %2 = graph.group_norm %gx, %gg, %gb {num_groups = 2 : i64}
      : (tensor<2x4x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // RT: graph.l2_normalization {{.*}} {mode = #graph.l2norm_mode<spatial>}
  // INFER: graph.l2_normalization {{.*}} -> tensor<2x3x4x4xf32>
  %3 = graph.l2_normalization %img {mode = #graph.l2norm_mode<spatial>}
      : (tensor<2x3x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @resize
// INFER-LABEL: func @resize
// Bilinear UpSampling by 3: kernel 2·3 − 1 = 5, weight (C, 1, 5, 5).
// INFER-SAME: (%{{.*}}: tensor<1x2x2x3xf32>, %{{.*}}: tensor<2x1x5x5xf32>, %{{.*}}: tensor<1x1x4x6xf32>, %{{.*}}: tensor<1x1x5x5xf32>, %{{.*}}: tensor<2x3x7x2xf32>)
func.func @resize(%a: tensor<1x2x2x3xf32>, %w: tensor<*xf32>, %b: tensor<1x1x4x6xf32>,
                  %c: tensor<1x1x5x5xf32>, %like: tensor<2x3x7x2xf32>) {
  // Nearest, one operand: (2·3, 3·3).
  // RT: graph.up_sampling {{.*}}multi_input_mode = #graph.multi_input_mode<sum>, num_args = 1 : i64, sample_type = #graph.sample_type<nearest>, scale = 3 : i64}
  // INFER: graph.up_sampling {{.*}} -> tensor<1x2x6x9xf32>
  %0 = graph.up_sampling %a {num_args = 1 : i64, scale = 3 : i64,
                             sample_type = #graph.sample_type<nearest>,
                             multi_input_mode = #graph.multi_input_mode<sum>}
      : (tensor<1x2x2x3xf32>) -> tensor<*xf32>
  // Two operands: output (2·2, 3·2) = (4, 6); b is already that size (s = 1):
  // 2 + 1 channels.
  // INFER: graph.up_sampling {{.*}} : (tensor<1x2x2x3xf32>, tensor<1x1x4x6xf32>) -> tensor<1x3x4x6xf32>
  %1 = graph.up_sampling %a, %b {num_args = 2 : i64, scale = 2 : i64,
                                 sample_type = #graph.sample_type<nearest>}
      : (tensor<1x2x2x3xf32>, tensor<1x1x4x6xf32>) -> tensor<*xf32>
  // INFER: graph.up_sampling {{.*}} : (tensor<1x2x2x3xf32>, tensor<2x1x5x5xf32>) -> tensor<1x2x6x9xf32>
  %2 = graph.up_sampling %a, %w {num_args = 2 : i64, num_filter = 2 : i64, scale = 3 : i64,
                                 sample_type = #graph.sample_type<bilinear>}
      : (tensor<1x2x2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  // odd_scale 0.5 on 5 × 5 (odd): int(4 · 0.5) + 1 = 3.
  // RT: graph.bilinear_resize2d {{.*}}mode = #graph.resize_mode<odd_scale>, scale_height = 5.000000e-01 : f32, scale_width = 5.000000e-01 : f32}
  // INFER: graph.bilinear_resize2d {{.*}} -> tensor<1x1x3x3xf32>
  %3 = graph.bilinear_resize2d %c {mode = #graph.resize_mode<odd_scale>,
                                   scale_height = 0.5 : f32, scale_width = 0.5 : f32}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  // size with scales: int(1.5 · 5) = 7, int(2.5 · 5) = 12; align_corners off.
  // RT: graph.bilinear_resize2d {{.*}}align_corners = false
  // INFER: graph.bilinear_resize2d {{.*}} -> tensor<1x1x7x12xf32>
  %4 = graph.bilinear_resize2d %c {scale_height = 1.5 : f32, scale_width = 2.5 : f32,
                                   align_corners = false}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  // like: the height and width of the second operand.
  // INFER: graph.bilinear_resize2d {{.*}} : (tensor<1x1x5x5xf32>, tensor<2x3x7x2xf32>) -> tensor<1x1x7x2xf32>
  %5 = graph.bilinear_resize2d %c, %like {mode = #graph.resize_mode<like>}
      : (tensor<1x1x5x5xf32>, tensor<2x3x7x2xf32>) -> tensor<*xf32>
  // to_even_up on 5: 6; to_odd_down on 5: 5.
  // INFER: graph.bilinear_resize2d {{.*}} -> tensor<1x1x6x6xf32>
  %6 = graph.bilinear_resize2d %c {mode = #graph.resize_mode<to_even_up>}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  // INFER: graph.bilinear_resize2d {{.*}} -> tensor<1x1x5x5xf32>
  %7 = graph.bilinear_resize2d %c {mode = #graph.resize_mode<to_odd_down>}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  // Adaptive pooling: empty output_size is (1, 1), one entry a square.
  // RT: graph.adaptive_avg_pooling2d {{.*}} {output_size = array<i64: 3>}
  // INFER: graph.adaptive_avg_pooling2d {{.*}} -> tensor<1x1x3x3xf32>
  %8 = graph.adaptive_avg_pooling2d %c {output_size = array<i64: 3>}
      : (tensor<1x1x5x5xf32>) -> tensor<*xf32>
  // INFER: graph.adaptive_avg_pooling2d {{.*}} -> tensor<2x3x1x1xf32>
  %9 = graph.adaptive_avg_pooling2d %like : (tensor<2x3x7x2xf32>) -> tensor<*xf32>
  return
}

// -----

// RT-LABEL: func @products
// INFER-LABEL: func @products
func.func @products(%a: tensor<2x3x4x5xf32>, %b: tensor<2x3x6x4xf32>, %x: tensor<4x2xf32>) {
  // [4, 5]ᵀ · [6, 4]ᵀ per batch: [5, 4] · [4, 6] = [5, 6].
  // RT: graph.batch_dot {{.*}} {transpose_a = true, transpose_b = true}
  // INFER: graph.batch_dot {{.*}} -> tensor<2x3x5x6xf32>
  %0 = graph.batch_dot %a, %b {transpose_a = true, transpose_b = true}
      : (tensor<2x3x4x5xf32>, tensor<2x3x6x4xf32>) -> tensor<*xf32>
  // RT: graph.make_loss {{.*}} {grad_scale = 5.000000e-01 : f32, normalization = #graph.normalization<valid>, valid_thresh = 2.500000e-01 : f32}
  // INFER: graph.make_loss {{.*}} -> tensor<4x2xf32>
  %1 = graph.make_loss %x {grad_scale = 0.5 : f32, normalization = #graph.normalization<valid>,
                           valid_thresh = 0.25 : f32}
      : (tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

// The interleaved attention products: (seq, batch, heads · parts · D)
// projections, (batch · heads, q_seq, kv_seq) attention maps.
// RT-LABEL: func @attention
// INFER-LABEL: func @attention
// INFER-SAME: tensor<6x5x5xf32>
func.func @attention(%qkv: tensor<5x3x24xf32>, %att: tensor<*xf32>, %q: tensor<4x3x8xf32>,
                     %kv: tensor<5x3x16xf32>, %att2: tensor<6x4x5xf32>) {
  // 2 heads of D = 4: 3 · 2 attention batches of 5 x 5.
  // RT: graph.interleaved_matmul_selfatt_qk {{.*}} {heads = 2 : i64}
  // INFER: graph.interleaved_matmul_selfatt_qk {{.*}} -> tensor<6x5x5xf32>
  %0 = graph.interleaved_matmul_selfatt_qk %qkv {heads = 2 : i64}
      : (tensor<5x3x24xf32>) -> tensor<*xf32>
  // INFER: graph.interleaved_matmul_selfatt_valatt {{.*}} -> tensor<5x3x8xf32>
  %1 = graph.interleaved_matmul_selfatt_valatt %qkv, %att {heads = 2 : i64}
      : (tensor<5x3x24xf32>, tensor<*xf32>) -> tensor<*xf32>
  // INFER: graph.interleaved_matmul_encdec_qk {{.*}} -> tensor<6x4x5xf32>
  %2 = graph.interleaved_matmul_encdec_qk %q, %kv {heads = 2 : i64}
      : (tensor<4x3x8xf32>, tensor<5x3x16xf32>) -> tensor<*xf32>
  // INFER: graph.interleaved_matmul_encdec_valatt {{.*}} -> tensor<4x3x8xf32>
  %3 = graph.interleaved_matmul_encdec_valatt %kv, %att2 {heads = 2 : i64}
      : (tensor<5x3x16xf32>, tensor<6x4x5xf32>) -> tensor<*xf32>
  return
}

// -----

// Spatial transformers: grids are (N, 2, H, W); SpatialTransformer's loc is
// (N, 6).
// RT-LABEL: func @spatial
// INFER-LABEL: func @spatial
// INFER-SAME: tensor<2x6xf32>
func.func @spatial(%theta: tensor<2x6xf32>, %flow: tensor<1x2x3x4xf32>,
                   %x: tensor<2x3x5x5xf32>, %loc: tensor<*xf32>) {
  // RT: graph.grid_generator {{.*}} {target_shape = array<i64: 4, 5>, transform_type = #graph.grid_transform<affine>}
  // INFER: graph.grid_generator {{.*}} -> tensor<2x2x4x5xf32>
  %0 = graph.grid_generator %theta {transform_type = #graph.grid_transform<affine>,
                                    target_shape = array<i64: 4, 5>}
      : (tensor<2x6xf32>) -> tensor<*xf32>
  // INFER: graph.grid_generator {{.*}} -> tensor<1x2x3x4xf32>
  %1 = graph.grid_generator %flow {transform_type = #graph.grid_transform<warp>}
      : (tensor<1x2x3x4xf32>) -> tensor<*xf32>
  // INFER: graph.bilinear_sampler {{.*}} -> tensor<2x3x4x5xf32>
  %2 = graph.bilinear_sampler %x, %0 : (tensor<2x3x5x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  // RT: graph.spatial_transformer {{.*}} {sampler_type = #graph.sampler_type<bilinear>, target_shape = array<i64: 3, 4>, transform_type = #graph.grid_transform<affine>}
  // INFER: graph.spatial_transformer {{.*}} -> tensor<2x3x3x4xf32>
  %3 = graph.spatial_transformer %x, %loc {target_shape = array<i64: 3, 4>,
        transform_type = #graph.grid_transform<affine>,
        sampler_type = #graph.sampler_type<bilinear>}
      : (tensor<2x3x5x5xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// Correlation: (N, (2r + 1)², oh, ow), r = max_displacement / stride2,
// oh = ⌈(H + 2 pad − 2 (max_displacement + (k − 1) / 2)) / stride1⌉.
// RT-LABEL: func @correlation
// INFER-LABEL: func @correlation
// INFER-SAME: tensor<1x3x5x6xf32>
func.func @correlation(%a: tensor<1x3x5x6xf32>, %b: tensor<*xf32>) {
  // r = 1, g = 3: 9 channels; (5 + 4 − 6) / 2 → 2, (6 + 4 − 6) / 2 → 2.
  // RT: graph.correlation {{.*}} {is_multiply = false, kernel_size = 3 : i64, max_displacement = 2 : i64, pad_size = 2 : i64, stride1 = 2 : i64, stride2 = 2 : i64}
  // INFER: graph.correlation {{.*}} -> tensor<1x9x2x2xf32>
  %0 = graph.correlation %a, %b {kernel_size = 3 : i64, max_displacement = 2 : i64,
                                 stride1 = 2 : i64, stride2 = 2 : i64, pad_size = 2 : i64,
                                 is_multiply = false}
      : (tensor<1x3x5x6xf32>, tensor<*xf32>) -> tensor<*xf32>
  // Defaults: r = 1, (5 − 2) x (6 − 2).
  // INFER: graph.correlation {{.*}} -> tensor<1x9x3x4xf32>
  %1 = graph.correlation %a, %a : (tensor<1x3x5x6xf32>, tensor<1x3x5x6xf32>) -> tensor<*xf32>
  return
}

// -----

// The backward kernels take the forward's data for its shape.
// RT-LABEL: func @grads
// INFER-LABEL: func @grads
func.func @grads(%x: tensor<1x2x5x7xf32>, %dy: tensor<1x2x2x3xf32>,
                 %grid: tensor<1x2x2x3xf32>, %cy: tensor<1x9x3x5xf32>) {
  // INFER: graph.adaptive_avg_pooling2d_grad {{.*}} -> tensor<1x2x5x7xf32>
  %0 = graph.adaptive_avg_pooling2d_grad %x, %dy
      : (tensor<1x2x5x7xf32>, tensor<1x2x2x3xf32>) -> tensor<*xf32>
  // INFER: graph.bilinear_sampler_grad {{.*}} -> (tensor<1x2x5x7xf32>, tensor<1x2x2x3xf32>)
  %g:2 = graph.bilinear_sampler_grad %x, %grid, %dy
      : (tensor<1x2x5x7xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  // INFER: graph.correlation_grad {{.*}} -> (tensor<1x2x5x7xf32>, tensor<1x2x5x7xf32>)
  %c:2 = graph.correlation_grad %x, %x, %cy
      : (tensor<1x2x5x7xf32>, tensor<1x2x5x7xf32>, tensor<1x9x3x5xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  // RT: graph.bilinear_resize2d_grad {{.*}} {align_corners = false}
  // INFER: graph.bilinear_resize2d_grad {{.*}} -> tensor<1x2x5x7xf32>
  %1 = graph.bilinear_resize2d_grad %x, %dy {align_corners = false}
      : (tensor<1x2x5x7xf32>, tensor<1x2x2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// Core ops the NN family extended: MXNet's N-D dot, softmax's length.
// INFER-LABEL: func @core
// softmax along axis 0 of (4, 3): one length per column, (3).
// INFER-SAME: (%{{.*}}: tensor<2x3x4xf32>, %{{.*}}: tensor<4xf32>, %{{.*}}: tensor<2x5xf32>, %{{.*}}: tensor<4x3xf32>, %{{.*}}: tensor<3xf32>)
func.func @core(%a: tensor<2x3x4xf32>, %v: tensor<4xf32>, %m: tensor<2x5xf32>, %s: tensor<4x3xf32>,
                %len: tensor<*xf32>) {
  // (2, 3, 4) · (4) contracts the last axis: (2, 3).
  // INFER: graph.dot {{.*}} -> tensor<2x3xf32>
  %0 = graph.dot %a, %v : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  // Two vectors: (1).
  // INFER: graph.dot {{.*}} -> tensor<1xf32>
  %1 = graph.dot %v, %v : (tensor<4xf32>, tensor<4xf32>) -> tensor<*xf32>
  // transpose_a contracts lhs's first axis (2) with rhs's first: (3, 4, 5).
  // INFER: graph.dot {{.*}} -> tensor<3x4x5xf32>
  %2 = graph.dot %a, %m {transpose_a = true}
      : (tensor<2x3x4xf32>, tensor<2x5xf32>) -> tensor<*xf32>
  // INFER: graph.softmax {{.*}} : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %3 = graph.softmax %s, %len {axis = 0 : i64, use_length = true}
      : (tensor<4x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}
