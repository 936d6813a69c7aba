// Verifier diagnostics of the detection heads (GraphDetectionOps.td).
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @nms_format(%x: tensor<6x6xf32>) {
  // expected-error @+1 {{'graph.box_nms' op in_format must be 'corner' or 'center', got 'xywh'}}
  %0 = graph.box_nms %x {in_format = "xywh"} : (tensor<6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @nms_width(%x: tensor<6x5xf32>) {
  // expected-error @+1 {{'graph.box_nms' op rows must have at least 6 elements (score, 4 coordinates, id), got 5}}
  %0 = graph.box_nms %x {id_index = 0 : i64} : (tensor<6x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @nms_score_overlaps(%x: tensor<6x6xf32>) {
  // expected-error @+1 {{'graph.box_nms' op score_index 3 overlaps the coordinates [2, 5]}}
  %0 = graph.box_nms %x {score_index = 3 : i64} : (tensor<6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @nms_coords_range(%x: tensor<6x6xf32>) {
  // expected-error @+1 {{'graph.box_nms' op coordinates [3, 6] are out of range [0, 6)}}
  %0 = graph.box_nms %x {coord_start = 3 : i64, score_index = 0 : i64} : (tensor<6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @nms_id_is_score(%x: tensor<6x6xf32>) {
  // expected-error @+1 {{'graph.box_nms' op id_index and score_index are both 1}}
  %0 = graph.box_nms %x {id_index = 1 : i64} : (tensor<6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @nms_rank(%x: tensor<6xf32>) {
  // expected-error @+1 {{'graph.box_nms' op expects data of rank at least 2 (..., num_box, width), got rank 1}}
  %0 = graph.box_nms %x : (tensor<6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @iou_not_boxes(%a: tensor<4x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{'graph.box_iou' op lhs must be (..., 4) boxes of rank at least 2, got (4, 3)}}
  %0 = graph.box_iou %a, %b : (tensor<4x3xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @prior_steps(%x: tensor<1x2x3x3xf32>) {
  // expected-error @+1 {{'graph.multibox_prior' op steps must have 2 entries (step_y, step_x), got 1}}
  %0 = graph.multibox_prior %x {steps = array<f64: 0.1>} : (tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @prior_offsets(%x: tensor<1x2x3x3xf32>) {
  // expected-error @+1 {{'graph.multibox_prior' op offsets must be in [0, 1], got 1.5}}
  %0 = graph.multibox_prior %x {offsets = array<f64: 0.5, 1.5>} : (tensor<1x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @prior_rank(%x: tensor<2x3x3xf32>) {
  // expected-error @+1 {{'graph.multibox_prior' op expects data (N, C, H, W), got rank 3}}
  %0 = graph.multibox_prior %x : (tensor<2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @detection_variances(%c: tensor<1x3x5xf32>, %l: tensor<1x20xf32>, %a: tensor<1x5x4xf32>) {
  // expected-error @+1 {{'graph.multibox_detection' op variances must have 4 entries, got 2}}
  %0 = graph.multibox_detection %c, %l, %a {variances = array<f64: 0.1, 0.2>}
      : (tensor<1x3x5xf32>, tensor<1x20xf32>, tensor<1x5x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @detection_anchors(%c: tensor<1x3x5xf32>, %l: tensor<1x20xf32>, %a: tensor<1x4x4xf32>) {
  // expected-error @+1 {{'graph.multibox_detection' op cls_prob has 5 anchors but anchor has 4}}
  %0 = graph.multibox_detection %c, %l, %a : (tensor<1x3x5xf32>, tensor<1x20xf32>, tensor<1x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @detection_loc(%c: tensor<1x3x5xf32>, %l: tensor<1x16xf32>, %a: tensor<1x5x4xf32>) {
  // expected-error @+1 {{'graph.multibox_detection' op loc_pred has 16 values per image, expected 4·5}}
  %0 = graph.multibox_detection %c, %l, %a : (tensor<1x3x5xf32>, tensor<1x16xf32>, tensor<1x5x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @roi_pooled_size(%x: tensor<1x2x6x6xf32>, %r: tensor<3x5xf32>) {
  // expected-error @+1 {{'graph.roi_pooling' op pooled_size must have 2 entries (height, width), got 1}}
  %0 = graph.roi_pooling %x, %r {pooled_size = array<i64: 2>, spatial_scale = 1.0 : f32}
      : (tensor<1x2x6x6xf32>, tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @roi_scale(%x: tensor<1x2x6x6xf32>, %r: tensor<3x5xf32>) {
  // expected-error @+1 {{'graph.roi_pooling' op spatial_scale must be in [0, 1], got 2}}
  %0 = graph.roi_pooling %x, %r {pooled_size = array<i64: 2, 2>, spatial_scale = 2.0 : f32}
      : (tensor<1x2x6x6xf32>, tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @roi_rois(%x: tensor<1x2x6x6xf32>, %r: tensor<3x4xf32>) {
  // expected-error @+1 {{'graph.roi_pooling' op expects rois (R, 5) rows [batch, x1, y1, x2, y2], got (3, 4)}}
  %0 = graph.roi_pooling %x, %r {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32}
      : (tensor<1x2x6x6xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @roi_align_ps(%x: tensor<1x6x6x6xf32>, %r: tensor<3x5xf32>) {
  // expected-error @+1 {{'graph.roi_align' op position_sensitive needs the channels (6) to be a multiple of pooled_size[0]·pooled_size[1] (4)}}
  %0 = graph.roi_align %x, %r {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32, position_sensitive = true}
      : (tensor<1x6x6x6xf32>, tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @roi_align_grad_shape(%x: tensor<1x2x6x6xf32>, %r: tensor<3x5xf32>, %dy: tensor<3x2x3x3xf32>) {
  // expected-error @+1 {{'graph.roi_align_grad' op operand 'out_grad' has shape (3, 2, 3, 3) but the shape rule gives (3, 2, 2, 2)}}
  %0 = graph.roi_align_grad %x, %r, %dy {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32}
      : (tensor<1x2x6x6xf32>, tensor<3x5xf32>, tensor<3x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @proposal_results(%c: tensor<1x2x3x3xf32>, %b: tensor<1x4x3x3xf32>, %i: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.proposal' op has 1 results but output_score = true gives 2}}
  %0 = graph.proposal %c, %b, %i {output_score = true, scales = array<f64: 2.0>, ratios = array<f64: 1.0>}
      : (tensor<1x2x3x3xf32>, tensor<1x4x3x3xf32>, tensor<1x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @proposal_batch(%c: tensor<2x2x3x3xf32>, %b: tensor<2x4x3x3xf32>, %i: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.proposal' op supports batch size 1 only (as MXNet), got 2}}
  %0 = graph.proposal %c, %b, %i {scales = array<f64: 2.0>, ratios = array<f64: 1.0>}
      : (tensor<2x2x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @proposal_anchors(%c: tensor<1x4x3x3xf32>, %b: tensor<1x8x3x3xf32>, %i: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.proposal' op cls_prob has 4 channels but 3 ratios × 4 scales need 2·12}}
  %0 = graph.proposal %c, %b, %i : (tensor<1x4x3x3xf32>, tensor<1x8x3x3xf32>, tensor<1x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @proposal_bbox(%c: tensor<1x2x3x3xf32>, %b: tensor<1x8x3x3xf32>, %i: tensor<1x3xf32>) {
  // expected-error @+1 {{'graph.proposal' op operand 'bbox_pred' has shape (1, 8, 3, 3) but the shape rule gives (1, 4, 3, 3)}}
  %0 = graph.proposal %c, %b, %i {scales = array<f64: 2.0>, ratios = array<f64: 1.0>}
      : (tensor<1x2x3x3xf32>, tensor<1x8x3x3xf32>, tensor<1x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @decode_anchors(%x: tensor<1x5x4xf32>, %a: tensor<1x3x4xf32>) {
  // expected-error @+1 {{'graph.box_decode' op anchors hold 3 boxes but data has 5}}
  %0 = graph.box_decode %x, %a : (tensor<1x5x4xf32>, tensor<1x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @psroi_channels(%x: tensor<1x7x6x6xf32>, %r: tensor<3x5xf32>) {
  // expected-error @+1 {{'graph.psroi_pooling' op needs at least output_dim * group_size^2 = 8 channels, got 7}}
  %0 = graph.psroi_pooling %x, %r {spatial_scale = 1.0 : f32, output_dim = 2 : i64, pooled_size = 2 : i64}
      : (tensor<1x7x6x6xf32>, tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @psroi_output_dim(%x: tensor<*xf32>, %r: tensor<*xf32>) {
  // expected-error @+1 {{'graph.psroi_pooling' op output_dim must be positive, got 0}}
  %0 = graph.psroi_pooling %x, %r {spatial_scale = 1.0 : f32, output_dim = 0 : i64, pooled_size = 2 : i64}
      : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @psroi_group_size(%x: tensor<*xf32>, %r: tensor<*xf32>) {
  // expected-error @+1 {{'graph.psroi_pooling' op group_size must not be negative, got -1}}
  %0 = graph.psroi_pooling %x, %r {spatial_scale = 1.0 : f32, output_dim = 1 : i64, pooled_size = 2 : i64, group_size = -1 : i64}
      : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @psroi_pooled_size(%x: tensor<*xf32>, %r: tensor<*xf32>) {
  // expected-error @+1 {{'graph.psroi_pooling' op pooled_size entries must be positive, got (0, 0)}}
  %0 = graph.psroi_pooling %x, %r {spatial_scale = 1.0 : f32, output_dim = 1 : i64, pooled_size = 0 : i64}
      : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @box_encode_anchors(%s: tensor<1x3xf32>, %a: tensor<1x3x5xf32>, %r: tensor<1x2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'graph.box_encode' op expects anchors (B, N, 4), got (1, 3, 5)}}
  %0:2 = graph.box_encode %s, %s, %a, %r, %v, %v : (tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3x5xf32>, tensor<1x2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @box_encode_refs(%s: tensor<1x3xf32>, %a: tensor<1x3x4xf32>, %r: tensor<2x2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'graph.box_encode' op expects refs (1, M, 4), got (2, 2, 4)}}
  %0:2 = graph.box_encode %s, %s, %a, %r, %v, %v : (tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3x4xf32>, tensor<2x2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @box_encode_samples(%s: tensor<1x2xf32>, %a: tensor<1x3x4xf32>, %r: tensor<1x2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{operand 'samples' has shape (1, 2) but the shape rule gives (1, 3)}}
  %0:2 = graph.box_encode %s, %s, %a, %r, %v, %v : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x3x4xf32>, tensor<1x2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}
