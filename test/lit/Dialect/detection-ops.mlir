// Round trip and shape inference of the detection heads (GraphDetectionOps.td).
// Result types of @round_trip were computed by hand from MXNet's shape rules;
// the verifier re-derives them. @infer leaves them unranked for
// kiln-graph-infer-shapes.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --kiln-graph-infer-shapes | FileCheck %s --check-prefix=INFER

// CHECK-LABEL: func @round_trip
func.func @round_trip(%nms: tensor<2x5x6xf32>, %a: tensor<4x4xf32>, %b: tensor<2x3x4xf32>,
                      %fm: tensor<1x8x2x3xf32>, %cls: tensor<1x3x5xf32>, %loc: tensor<1x20xf32>,
                      %anchors: tensor<1x5x4xf32>, %x: tensor<1x8x6x6xf32>,
                      %rois: tensor<3x5xf32>, %rcls: tensor<1x12x3x3xf32>,
                      %rbox: tensor<1x24x3x3xf32>, %info: tensor<1x3xf32>,
                      %off: tensor<2x5x4xf32>) {
  // CHECK: graph.box_nms {{.*}}id_index = 0{{.*}} -> tensor<2x5x6xf32>
  %0 = graph.box_nms %nms {id_index = 0 : i64, topk = 3 : i64, in_format = "center"}
      : (tensor<2x5x6xf32>) -> tensor<2x5x6xf32>
  // (4,) + (2, 3)
  // CHECK: graph.box_iou {{.*}} -> tensor<4x2x3xf32>
  %1 = graph.box_iou %a, %b : (tensor<4x4xf32>, tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // 2·3 positions × (2 sizes + 3 ratios − 1) anchors.
  // CHECK: graph.multibox_prior {{.*}} -> tensor<1x24x4xf32>
  %2 = graph.multibox_prior %fm {sizes = array<f64: 0.5, 0.25>, ratios = array<f64: 1.0, 2.0, 0.5>}
      : (tensor<1x8x2x3xf32>) -> tensor<1x24x4xf32>
  // CHECK: graph.multibox_detection {{.*}} -> tensor<1x5x6xf32>
  %3 = graph.multibox_detection %cls, %loc, %anchors {nms_topk = 2 : i64}
      : (tensor<1x3x5xf32>, tensor<1x20xf32>, tensor<1x5x4xf32>) -> tensor<1x5x6xf32>
  // CHECK: graph.roi_pooling {{.*}} -> tensor<3x8x2x3xf32>
  %4 = graph.roi_pooling %x, %rois {pooled_size = array<i64: 2, 3>, spatial_scale = 5.000000e-01 : f32}
      : (tensor<1x8x6x6xf32>, tensor<3x5xf32>) -> tensor<3x8x2x3xf32>
  // position_sensitive: 8 channels / (2·2) bins.
  // CHECK: graph.roi_align {{.*}}position_sensitive = true{{.*}} -> tensor<3x2x2x2xf32>
  %5 = graph.roi_align %x, %rois {pooled_size = array<i64: 2, 2>, spatial_scale = 1.000000e+00 : f32,
                                  position_sensitive = true}
      : (tensor<1x8x6x6xf32>, tensor<3x5xf32>) -> tensor<3x2x2x2xf32>
  // 3 ratios × 2 scales = 6 anchors; output_score adds a second result.
  // CHECK: graph.proposal {{.*}} -> (tensor<7x5xf32>, tensor<7x1xf32>)
  %6:2 = graph.proposal %rcls, %rbox, %info {rpn_post_nms_top_n = 7 : i64, scales = array<f64: 2.0, 4.0>,
                                             output_score = true}
      : (tensor<1x12x3x3xf32>, tensor<1x24x3x3xf32>, tensor<1x3xf32>) -> (tensor<7x5xf32>, tensor<7x1xf32>)
  // CHECK: graph.box_decode {{.*}} -> tensor<2x5x4xf32>
  %7 = graph.box_decode %off, %anchors {format = "corner"}
      : (tensor<2x5x4xf32>, tensor<1x5x4xf32>) -> tensor<2x5x4xf32>
  // Backward ops.
  // CHECK: graph.box_nms_grad {{.*}} -> tensor<2x5x6xf32>
  %8 = graph.box_nms_grad %nms, %0 : (tensor<2x5x6xf32>, tensor<2x5x6xf32>) -> tensor<2x5x6xf32>
  // CHECK: graph.roi_pooling_grad {{.*}} -> tensor<1x8x6x6xf32>
  %9 = graph.roi_pooling_grad %x, %rois, %4 {pooled_size = array<i64: 2, 3>, spatial_scale = 5.000000e-01 : f32}
      : (tensor<1x8x6x6xf32>, tensor<3x5xf32>, tensor<3x8x2x3xf32>) -> tensor<1x8x6x6xf32>
  // 8 channels = output_dim 2 · group_size 2²; pooled_size 3.
  // CHECK: graph.psroi_pooling {{.*}} -> tensor<3x2x3x3xf32>
  %11 = graph.psroi_pooling %x, %rois {spatial_scale = 5.000000e-01 : f32, output_dim = 2 : i64,
                                       pooled_size = 3 : i64, group_size = 2 : i64}
      : (tensor<1x8x6x6xf32>, tensor<3x5xf32>) -> tensor<3x2x3x3xf32>
  // CHECK: graph.psroi_pooling_grad {{.*}} -> tensor<1x8x6x6xf32>
  %12 = graph.psroi_pooling_grad %x, %rois, %11 {spatial_scale = 5.000000e-01 : f32, output_dim = 2 : i64,
                                                 pooled_size = 3 : i64, group_size = 2 : i64}
      : (tensor<1x8x6x6xf32>, tensor<3x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x8x6x6xf32>
  // CHECK: graph.roi_align_grad {{.*}} -> tensor<1x8x6x6xf32>
  %10 = graph.roi_align_grad %x, %rois, %5 {pooled_size = array<i64: 2, 2>, spatial_scale = 1.000000e+00 : f32,
                                            position_sensitive = true}
      : (tensor<1x8x6x6xf32>, tensor<3x5xf32>, tensor<3x2x2x2xf32>) -> tensor<1x8x6x6xf32>
  return
}

// INFER-LABEL: func @infer
func.func @infer(%fm: tensor<1x8x2x3xf32>, %rcls: tensor<1x6x4x5xf32>, %info: tensor<1x3xf32>,
                 %bbox: tensor<*xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // Defaults: one size, one ratio → one anchor per position.
  // INFER: graph.multibox_prior {{.*}} -> tensor<1x6x4xf32>
  %0 = graph.multibox_prior %fm : (tensor<1x8x2x3xf32>) -> tensor<*xf32>
  // bbox_pred's shape follows from cls_prob's: (1, 2·6, 4, 5).
  // INFER: graph.proposal {{.*}} : (tensor<1x6x4x5xf32>, tensor<1x12x4x5xf32>, tensor<1x3xf32>) -> tensor<300x5xf32>
  %1 = graph.proposal %rcls, %bbox, %info {scales = array<f64: 8.0>} : (tensor<1x6x4x5xf32>, tensor<*xf32>, tensor<1x3xf32>) -> tensor<*xf32>
  // (1, 6) + (1, 6)
  // INFER: graph.box_iou {{.*}} -> tensor<1x6x1x6xf32>
  %2 = graph.box_iou %0, %0 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
