//===- GraphDetectionOps.td - Graph dialect: detection heads -*- tablegen -*-===//
//
// Detection heads as GluonCV exports them: box_nms, box_iou, box_decode,
// MultiBoxPrior, MultiBoxDetection, ROIPooling, ROIAlign, Proposal.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphDetectionOps.h, defined in dialects/Graph/DetectionOps.cpp, run by
// lib/Interpreter/DetectionOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/DetectionOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
// MXNet computes these ops with sequential loops (sorting, greedy
// suppression); each description states the kernel's exact behaviour,
// including the places where it is surprising, because models depend on it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_DETECTION_OPS
#define KILN_GRAPH_DETECTION_OPS

include "Graph/GraphBase.td"

// Every op of the family checks its attributes itself (verify()), then runs
// its shape rule through verifyShapes.
class Graph_DetectionOp<string mnemonic, list<Trait> traits = []>
    : Graph_Op<mnemonic, traits> {
  let customVerifier = 1;
}

// A forward op whose MXNet backward writes zeros to every input: no operand
// gets a gradient.
class Graph_ZeroGradDetectionOp<string mnemonic> : Graph_DetectionOp<mnemonic> {
  let gradientRule = "noGradient(*this, operandGrads)";
  let mxnetHasGradient = 0;
}

//===----------------------------------------------------------------------===//
// Box utilities
//===----------------------------------------------------------------------===//

def Graph_BoxNMSOp : Graph_DetectionOp<"box_nms"> {
  let summary = "MXNet _contrib_box_nms: non-maximum suppression of scored boxes";
  let description = [{
    `data` is `(..., num_box, width)`: each row holds a score at
    `score_index`, four coordinates from `coord_start` (`in_format`: corner
    `[x1, y1, x2, y2]` or center `[x, y, w, h]`) and, when `id_index >= 0`, a
    class id. The batch dimensions are flattened. The result has `data`'s
    shape: per batch, the kept rows sorted by descending score (ties keep
    their input order), then rows of -1.

    As MXNet's kernel does:
    - a row is a candidate when its score is `> valid_thresh` and, with
      `id_index >= 0`, its id is not `background_id`;
    - candidates are sorted by score (stable), and only the first `topk` of a
      batch (all with `topk = -1`) take part: the others are dropped;
    - in that order, a row suppresses every later row whose IoU with it is
      `> overlap_thresh` (same class only, unless `force_suppress` or
      `id_index < 0`; ids compare as truncated integers). IoU is
      intersection / (area₁ + area₂ − intersection), negative widths or
      heights giving area 0;
    - kept rows are copied whole (every column), then their coordinates are
      converted to `out_format`, except rows whose first coordinate is
      negative (MXNet's converter skips them);
    - when no row of the whole input is a candidate, every element is -1;
    - `topk = 0` returns `data` unchanged (no sorting, no conversion).

    MXNet's hidden second output (the input row of every output row, for the
    backward) is not a result. The gradient copies each kept row's output
    gradient back to its input row (box_nms_grad); other rows get zero.

    Example:
    ```mlir
    %y = graph.box_nms %x {overlap_thresh = 5.000000e-01 : f32, id_index = 0 : i64}
        : (tensor<1x6x6xf32>) -> tensor<1x6x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<F32Attr, "0.5f">:$overlap_thresh,
                   DefaultValuedAttr<F32Attr, "0.0f">:$valid_thresh,
                   DefaultValuedAttr<I64Attr, "-1">:$topk,
                   DefaultValuedAttr<I64Attr, "2">:$coord_start,
                   DefaultValuedAttr<I64Attr, "1">:$score_index,
                   DefaultValuedAttr<I64Attr, "-1">:$id_index,
                   DefaultValuedAttr<I64Attr, "-1">:$background_id,
                   DefaultValuedAttr<BoolAttr, "false">:$force_suppress,
                   DefaultValuedAttr<StrAttr, "\"corner\"">:$in_format,
                   DefaultValuedAttr<StrAttr, "\"corner\"">:$out_format);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_box_nms";
  let mxnetAliases = ["_contrib_box_non_maximum_suppression"];
  let mxnetAttrs = [MXDef<"overlap_thresh", "F32", "0.5">, MXDef<"valid_thresh", "F32", "0">,
                    MXDef<"topk", "Int", "-1">, MXDef<"coord_start", "Int", "2">,
                    MXDef<"score_index", "Int", "1">, MXDef<"id_index", "Int", "-1">,
                    MXDef<"background_id", "Int", "-1">,
                    MXDef<"force_suppress", "Bool", "False">,
                    MXDef<"in_format", "String", "corner">,
                    MXDef<"out_format", "String", "corner">];
}

def Graph_BoxNMSGradOp : Graph_DetectionOp<"box_nms_grad"> {
  let summary = "Gradient of box_nms with respect to its data";
  let description = [{
    Recomputes which input row each output row of `box_nms(data)` came from
    and copies `out_grad`'s row there (MXNet's `_backward_contrib_box_nms`);
    input rows that were not kept get 0. Same attributes as box_nms.

    Example:
    ```mlir
    %dx = graph.box_nms_grad %x, %dy {overlap_thresh = 5.000000e-01 : f32}
        : (tensor<6x6xf32>, tensor<6x6xf32>) -> tensor<6x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad,
                   DefaultValuedAttr<F32Attr, "0.5f">:$overlap_thresh,
                   DefaultValuedAttr<F32Attr, "0.0f">:$valid_thresh,
                   DefaultValuedAttr<I64Attr, "-1">:$topk,
                   DefaultValuedAttr<I64Attr, "2">:$coord_start,
                   DefaultValuedAttr<I64Attr, "1">:$score_index,
                   DefaultValuedAttr<I64Attr, "-1">:$id_index,
                   DefaultValuedAttr<I64Attr, "-1">:$background_id,
                   DefaultValuedAttr<BoolAttr, "false">:$force_suppress,
                   DefaultValuedAttr<StrAttr, "\"corner\"">:$in_format,
                   DefaultValuedAttr<StrAttr, "\"corner\"">:$out_format);
  let results = (outs Graph_Tensor:$data_grad);
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_BoxIoUOp : Graph_ZeroGradDetectionOp<"box_iou"> {
  let summary = "MXNet _contrib_box_iou: pairwise intersection-over-union";
  let description = [{
    `lhs` is `(..., 4)`, `rhs` is `(..., 4)` (`format`: corner
    `[x1, y1, x2, y2]` or center `[x, y, w, h]`); the result is
    `lhs.shape[:-1] + rhs.shape[:-1]`, the IoU of every pair: 0 when the
    boxes do not overlap, otherwise intersection / (area₁ + area₂ −
    intersection), a negative width or height giving area 0. MXNet's
    backward writes zeros.

    Example:
    ```mlir
    %iou = graph.box_iou %a, %b : (tensor<4x4xf32>, tensor<3x4xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                   DefaultValuedAttr<StrAttr, "\"corner\"">:$format);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_box_iou";
  let mxnetAttrs = [MXDef<"format", "String", "corner">];
  let mxnetInputs = ["lhs", "rhs"];
}

//===----------------------------------------------------------------------===//
// SSD
//===----------------------------------------------------------------------===//

def Graph_BoxDecodeOp : Graph_ZeroGradDetectionOp<"box_decode"> {
  let summary = "MXNet _contrib_box_decode: box regression offsets to corner boxes";
  let description = [{
    `data` is `(B, N, 4)` offsets, `anchors` `(1, N, 4)` boxes in `format`
    (MXNet's default: center `[x, y, w, h]`; corner `[x1, y1, x2, y2]`);
    MXNet reads the first N rows of `anchors` whatever its leading shape.
    Each result row is the corner box centred at
    (dx·std0·w + x, dy·std1·h + y) with size (w·exp(dw·std2),
    h·exp(dh·std3)); with `clip > 0`, dw·std2 and dh·std3 are first capped
    at `clip`. MXNet's backward writes zeros.

    Example:
    ```mlir
    %b = graph.box_decode %offsets, %anchors {format = "corner"}
        : (tensor<1x5x4xf32>, tensor<1x5x4xf32>) -> tensor<1x5x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$anchors,
                   DefaultValuedAttr<F32Attr, "1.0f">:$std0,
                   DefaultValuedAttr<F32Attr, "1.0f">:$std1,
                   DefaultValuedAttr<F32Attr, "1.0f">:$std2,
                   DefaultValuedAttr<F32Attr, "1.0f">:$std3,
                   DefaultValuedAttr<F32Attr, "-1.0f">:$clip,
                   DefaultValuedAttr<StrAttr, "\"center\"">:$format);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_box_decode";
  let mxnetAttrs = [MXDef<"std0", "F32", "1">, MXDef<"std1", "F32", "1">,
                    MXDef<"std2", "F32", "1">, MXDef<"std3", "F32", "1">,
                    MXDef<"clip", "F32", "-1">, MXDef<"format", "String", "center">];
  let mxnetInputs = ["data", "anchors"];
}

def Graph_BoxEncodeOp : Graph_ZeroGradDetectionOp<"box_encode"> {
  let summary = "MXNet _contrib_box_encode: regression targets of anchors matched to boxes";
  let description = [{
    Operands: `samples` (B, N), positive where > 0.5; `matches` (B, N),
    the index (truncated) of each anchor's box in `refs`; `anchors`
    (B, N, 4) and `refs` (B, M, 4) corner boxes; `means` and `stds` (4).
    Results `targets` and `masks`, both (B, N, 4): for a positive sample,
    ((rx − ax)/aw − means[0])/stds[0], ((ry − ay)/ah − means[1])/stds[1],
    (log(rw/aw) − means[2])/stds[2], (log(rh/ah) − means[3])/stds[3] (x, y
    the box centres, w, h the sizes of the matched ref r and the anchor a)
    and a mask of 1s; otherwise 0s. MXNet's shape rule only bounds the
    ranks; Kiln requires exactly these shapes. A match outside [0, M) is
    an error in the reference interpreter (MXNet reads out of bounds) and
    is clamped in compiled code. MXNet's backward writes zeros.

    Example:
    ```mlir
    %t, %m = graph.box_encode %s, %i, %a, %r, %mean, %std
        : (tensor<1x3xf32>, tensor<1x3xf32>, tensor<1x3x4xf32>, tensor<1x2x4xf32>,
           tensor<4xf32>, tensor<4xf32>) -> (tensor<1x3x4xf32>, tensor<1x3x4xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$samples, Graph_Tensor:$matches, Graph_Tensor:$anchors,
                   Graph_Tensor:$refs, Graph_Tensor:$means, Graph_Tensor:$stds);
  let results = (outs Graph_Tensor:$targets, Graph_Tensor:$masks);
  let mxnetName = "_contrib_box_encode";
  let mxnetInputs = ["samples", "matches", "anchors", "refs", "means", "stds"];
}

def Graph_MultiBoxPriorOp : Graph_ZeroGradDetectionOp<"multibox_prior"> {
  let summary = "MXNet _contrib_MultiBoxPrior: SSD anchor boxes of a feature map";
  let description = [{
    For `data` `(N, C, H, W)` the result is `(1, H·W·(S + R − 1), 4)`
    corner boxes in units of the image (S sizes, R ratios): for each
    position (row-major), first every size with the first ratio, then the
    first size with every other ratio. A box of size s and ratio r is
    s·H/W·√r wide and s/√r high, centred at ((x + offsets[1])·steps[1],
    (y + offsets[0])·steps[0]); `steps` of -1 (the default) mean 1/H and
    1/W. `clip` clamps coordinates to [0, 1]. Only `data`'s shape is read;
    MXNet computes in float32, and its backward writes zeros.

    Example:
    ```mlir
    %a = graph.multibox_prior %x {sizes = array<f64: 0.5, 0.25>}
        : (tensor<1x8x2x3xf32>) -> tensor<1x12x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{1.0}">:$sizes,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{1.0}">:$ratios,
                   DefaultValuedAttr<BoolAttr, "false">:$clip,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{-1.0, -1.0}">:$steps,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{0.5, 0.5}">:$offsets);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    /// The anchors for a feature map of `height` × `width`, computed in
    /// float32 as MXNet does: 4 coordinates per anchor, in result order.
    std::vector<float> computeAnchors(int64_t height, int64_t width);
  }];
  let mxnetName = "_contrib_MultiBoxPrior";
  let mxnetAliases = ["_npx_multibox_prior"];
  let mxnetAttrs = [MXDef<"sizes", "FloatTuple", "(1,)">, MXDef<"ratios", "FloatTuple", "(1,)">,
                    MXDef<"clip", "Bool", "False">, MXDef<"steps", "FloatTuple", "(-1, -1)">,
                    MXDef<"offsets", "FloatTuple", "(0.5, 0.5)">];
}

def Graph_MultiBoxDetectionOp : Graph_ZeroGradDetectionOp<"multibox_detection"> {
  let summary = "MXNet _contrib_MultiBoxDetection: SSD box decoding and NMS";
  let description = [{
    `cls_prob` is `(N, K, A)` (class 0 is the background), `loc_pred`
    `(N, 4A)`, `anchor` `(1, A, 4)` corner boxes. The result is `(N, A, 6)`
    rows `[id, score, x1, y1, x2, y2]`. As MXNet 1.9.1's CPU kernel does:
    - each anchor's class is the argmax of classes 1..K−1 (the first on
      ties) and its id that class − 1; a score below `threshold` makes the
      id -1. Anchors with id ≥ 0 are decoded (centre += loc·variance·size,
      size ·= exp(loc·variance), clamped to [0, 1] with `clip`) and
      compacted to the front in anchor order; the remaining rows are all -1;
    - unless `nms_threshold` is outside (0, 1], the kept rows are sorted by
      descending score (stable); with `nms_topk > 0` only the first
      `nms_topk` are sorted into place: the rows after them keep their
      pre-sort contents with the id set to -1;
    - greedy NMS over the sorted rows: a row suppresses each later row of
      the same id (any id with `force_suppress`) whose IoU is
      `>= nms_threshold`, by setting that row's id to -1 (its other columns
      stay; rows are not compacted again).
    `background_id` is accepted but ignored: MXNet's kernel always treats
    class 0 as the background. MXNet computes in float32, and its backward
    writes zeros.

    Example:
    ```mlir
    %d = graph.multibox_detection %cls, %loc, %anchors
        : (tensor<1x3x5xf32>, tensor<1x20xf32>, tensor<1x5x4xf32>) -> tensor<1x5x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$cls_prob, Graph_Tensor:$loc_pred, Graph_Tensor:$anchor,
                   DefaultValuedAttr<BoolAttr, "true">:$clip,
                   DefaultValuedAttr<F32Attr, "0.01f">:$threshold,
                   DefaultValuedAttr<I64Attr, "0">:$background_id,
                   DefaultValuedAttr<F32Attr, "0.5f">:$nms_threshold,
                   DefaultValuedAttr<BoolAttr, "false">:$force_suppress,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{0.1, 0.1, 0.2, 0.2}">:$variances,
                   DefaultValuedAttr<I64Attr, "-1">:$nms_topk);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_MultiBoxDetection";
  let mxnetAliases = ["_npx_multibox_detection"];
  let mxnetAttrs = [MXDef<"clip", "Bool", "True">, MXDef<"threshold", "F32", "0.01">,
                    MXDef<"background_id", "Int", "0">, MXDef<"nms_threshold", "F32", "0.5">,
                    MXDef<"force_suppress", "Bool", "False">,
                    MXDef<"variances", "FloatTuple", "(0.1, 0.1, 0.2, 0.2)">,
                    MXDef<"nms_topk", "Int", "-1">];
  let mxnetInputs = ["cls_prob", "loc_pred", "anchor"];
}

//===----------------------------------------------------------------------===//
// Region features (Fast/Faster/Mask R-CNN)
//===----------------------------------------------------------------------===//

def Graph_ROIPoolingOp : Graph_DetectionOp<"roi_pooling"> {
  let summary = "MXNet ROIPooling: max pooling over regions of interest";
  let description = [{
    `data` is `(N, C, H, W)`, `rois` `(R, 5)` rows `[batch, x1, y1, x2, y2]`
    in image units; the result is `(R, C, pooled_size[0], pooled_size[1])`.
    The region is [round(x1·s), round(x2·s)] × [round(y1·s), round(y2·s)]
    (s = `spatial_scale`, rounding halves away from zero, at least 1×1); bin
    (i, j) covers rows ⌊i·h/ph⌋ .. ⌈(i+1)·h/ph⌉ − 1 of it, clipped to the
    map, and takes their maximum (the first one on ties). An empty bin or a
    batch index outside [0, N) gives 0; a bin whose values are all below
    −FLT_MAX gives −FLT_MAX (MXNet's initial value). The gradient adds each
    output gradient to the element that was the bin's maximum
    (roi_pooling_grad); `rois` get none.

    Example:
    ```mlir
    %y = graph.roi_pooling %x, %rois {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32}
        : (tensor<1x2x6x6xf32>, tensor<3x5xf32>) -> tensor<3x2x2x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$rois,
                   DenseI64ArrayAttr:$pooled_size, F32Attr:$spatial_scale);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "ROIPooling";
  let mxnetAliases = ["_npx_roi_pooling"];
  let mxnetAttrs = [MXReq<"pooled_size", "Tuple">, MXReq<"spatial_scale", "F32">];
  let mxnetInputs = ["data", "rois"];
}

def Graph_ROIPoolingGradOp : Graph_DetectionOp<"roi_pooling_grad"> {
  let summary = "Gradient of roi_pooling with respect to its data";
  let description = [{
    Each element of `out_grad` `(R, C, ph, pw)` is added to the element of
    `data` that was its bin's maximum in `roi_pooling(data, rois)` (empty
    bins and invalid batch indices add nothing). Result: `data`'s shape.

    Example:
    ```mlir
    %dx = graph.roi_pooling_grad %x, %rois, %dy
        {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32}
        : (tensor<1x2x6x6xf32>, tensor<3x5xf32>, tensor<3x2x2x2xf32>) -> tensor<1x2x6x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$rois, Graph_Tensor:$out_grad,
                   DenseI64ArrayAttr:$pooled_size, F32Attr:$spatial_scale);
  let results = (outs Graph_Tensor:$data_grad);
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_PSROIPoolingOp : Graph_DetectionOp<"psroi_pooling"> {
  let summary = "MXNet _contrib_PSROIPooling: position-sensitive average pooling over regions";
  let description = [{
    `data` is `(N, C, H, W)`, `rois` `(R, 5)` rows `[batch, x1, y1, x2, y2]`;
    the result is `(R, output_dim, pooled_size, pooled_size)`. With
    g = `group_size` (0, MXNet's default, means pooled_size) and
    s = `spatial_scale`, the region spans [round(x1)·s, (round(x2) + 1)·s)
    (rounding halves away from zero; at least 0.1 wide), likewise y; bin
    (i, j) covers rows ⌊i·bin_h + y_start⌋ .. ⌈(i + 1)·bin_h + y_start⌉ − 1
    clipped to the map, and averages input channel
    (c·g + gh)·g + gw with gh = ⌊i·g / pooled_size⌋ and gw = ⌊j·g /
    pooled_size⌋ (clamped to g − 1). An empty bin gives 0. C must be at
    least output_dim·g² (MXNet reads outside the data otherwise), and a
    batch index outside [0, N) gives 0 (MXNet reads outside the data). The
    gradient spreads each output gradient evenly over its bin
    (psroi_pooling_grad); `rois` get none.

    Example:
    ```mlir
    %y = graph.psroi_pooling %x, %rois {output_dim = 2 : i64, pooled_size = 3 : i64,
                                        spatial_scale = 5.000000e-01 : f32}
        : (tensor<1x18x6x6xf32>, tensor<4x5xf32>) -> tensor<4x2x3x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$rois, F32Attr:$spatial_scale,
                   I64Attr:$output_dim, I64Attr:$pooled_size,
                   DefaultValuedAttr<I64Attr, "0">:$group_size);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_PSROIPooling";
  let mxnetAttrs = [MXReq<"spatial_scale", "F32">, MXReq<"output_dim", "Int">,
                    MXReq<"pooled_size", "Int">, MXDef<"group_size", "Int", "0">];
  let mxnetInputs = ["data", "rois"];
  let opDecl = [{
    /// The channel groups per axis: group_size, or pooled_size when 0.
    int64_t getGroups() {
      auto g = static_cast<int64_t>(getGroupSize());
      return g == 0 ? static_cast<int64_t>(getPooledSize()) : g;
    }
  }];
}

def Graph_PSROIPoolingGradOp : Graph_DetectionOp<"psroi_pooling_grad"> {
  let summary = "Gradient of psroi_pooling with respect to its data";
  let description = [{
    Each element of `out_grad` `(R, output_dim, pooled_size, pooled_size)`
    divided by its bin's area is added to every element of that bin's input
    channel (empty bins and invalid batch indices add nothing). Result:
    `data`'s shape.

    Example:
    ```mlir
    %dx = graph.psroi_pooling_grad %x, %rois, %dy
        {output_dim = 2 : i64, pooled_size = 3 : i64, spatial_scale = 5.000000e-01 : f32}
        : (tensor<1x18x6x6xf32>, tensor<4x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x18x6x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$rois, Graph_Tensor:$out_grad,
                   F32Attr:$spatial_scale, I64Attr:$output_dim, I64Attr:$pooled_size,
                   DefaultValuedAttr<I64Attr, "0">:$group_size);
  let results = (outs Graph_Tensor:$data_grad);
  let gradientRule = "noGradient(*this, operandGrads)";
  let opDecl = [{
    int64_t getGroups() {
      auto g = static_cast<int64_t>(getGroupSize());
      return g == 0 ? static_cast<int64_t>(getPooledSize()) : g;
    }
  }];
}

def Graph_ROIAlignOp : Graph_DetectionOp<"roi_align"> {
  let summary = "MXNet _contrib_ROIAlign: bilinear average over regions of interest";
  let description = [{
    `data` is `(N, C, H, W)`, `rois` `(R, 5)` rows `[batch, x1, y1, x2, y2]`.
    The result is `(R, C', ph, pw)` with C' = C, or C/(ph·pw) with
    `position_sensitive` (output channel c of bin (i, j) reads input channel
    c·ph·pw + i·pw + j). The region starts at (x1·s, y1·s) (minus 0.5 with
    `aligned`) and is (x2 − x1)·s by (y2 − y1)·s, at least 1×1 unless
    `aligned`; each bin averages a `sample_ratio`² grid of bilinear samples
    (`sample_ratio <= 0`: ⌈bin size⌉ samples per axis). A sample beyond one
    pixel outside the map counts as 0; one just outside is clamped to the
    border. A negative batch index gives 0 for the whole region (MXNet's
    documented behaviour; its kernel only zeroes the region's first element),
    and an index ≥ N reads as 0 (MXNet reads out of bounds). With `aligned`,
    MXNet aborts on a region of non-positive width or height; Kiln's
    interpreter fails there and the compiled kernel gives NaN. The gradient
    scatters each output gradient back with the same bilinear weights
    (roi_align_grad); `rois` get none.

    Example:
    ```mlir
    %y = graph.roi_align %x, %rois {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32}
        : (tensor<1x2x6x6xf32>, tensor<3x5xf32>) -> tensor<3x2x2x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$rois,
                   DenseI64ArrayAttr:$pooled_size, F32Attr:$spatial_scale,
                   DefaultValuedAttr<I64Attr, "-1">:$sample_ratio,
                   DefaultValuedAttr<BoolAttr, "false">:$position_sensitive,
                   DefaultValuedAttr<BoolAttr, "false">:$aligned);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_ROIAlign";
  let mxnetAttrs = [MXReq<"pooled_size", "Tuple">, MXReq<"spatial_scale", "F32">,
                    MXDef<"sample_ratio", "Int", "-1">,
                    MXDef<"position_sensitive", "Bool", "False">,
                    MXDef<"aligned", "Bool", "False">];
  let mxnetInputs = ["data", "rois"];
}

def Graph_ROIAlignGradOp : Graph_DetectionOp<"roi_align_grad"> {
  let summary = "Gradient of roi_align with respect to its data";
  let description = [{
    Scatters `out_grad` `(R, C', ph, pw)` onto `data`'s shape with
    roi_align's bilinear weights divided by the sample count (MXNet's
    `_backward_ROIAlign`). `data` supplies only its shape.

    Example:
    ```mlir
    %dx = graph.roi_align_grad %x, %rois, %dy
        {pooled_size = array<i64: 2, 2>, spatial_scale = 1.0 : f32}
        : (tensor<1x2x6x6xf32>, tensor<3x5xf32>, tensor<3x2x2x2xf32>) -> tensor<1x2x6x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$rois, Graph_Tensor:$out_grad,
                   DenseI64ArrayAttr:$pooled_size, F32Attr:$spatial_scale,
                   DefaultValuedAttr<I64Attr, "-1">:$sample_ratio,
                   DefaultValuedAttr<BoolAttr, "false">:$position_sensitive,
                   DefaultValuedAttr<BoolAttr, "false">:$aligned);
  let results = (outs Graph_Tensor:$data_grad);
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_ProposalOp : Graph_ZeroGradDetectionOp<"proposal"> {
  let summary = "MXNet _contrib_Proposal: Faster R-CNN region proposals";
  let description = [{
    `cls_prob` is `(1, 2A, H, W)` (background scores, then foreground),
    `bbox_pred` `(1, 4A, H, W)`, `im_info` `(1, 3)` = [height, width, scale];
    A = |ratios|·|scales| anchors per position, made from a
    `feature_stride`² base box as py-faster-rcnn does (float32, rounded
    widths), ratio-major. The result is `(rpn_post_nms_top_n, 5)` rows
    `[0, x1, y1, x2, y2]`, and with `output_score` a second result
    `(rpn_post_nms_top_n, 1)` of scores. As MXNet's CPU kernel does:
    - boxes are decoded (`iou_loss`: corners += deltas; otherwise centre and
      size as in Faster R-CNN, with the +1 pixel convention), clamped to
      the image, and positions at or beyond im_info / feature_stride get
      score -1;
    - a box narrower or lower than `rpn_min_size`·scale is grown by half
      that on every side and gets score -1 (it is not dropped);
    - boxes are sorted by descending score (stable) and the first
      `rpn_pre_nms_top_n` (all when ≤ 0) go through greedy NMS (IoU with the
      +1 convention `> threshold` suppresses) until
      min(`rpn_post_nms_top_n`, pre) are kept;
    - when fewer are kept, the kept rows repeat cyclically to fill the
      result.
    Only batch size 1 is supported, as in MXNet. MXNet computes in float32,
    and its backward writes zeros.

    Example:
    ```mlir
    %rois = graph.proposal %cls, %bbox, %info
        {rpn_post_nms_top_n = 5 : i64, scales = array<f64: 2.0>, ratios = array<f64: 1.0>,
         feature_stride = 4 : i64}
        : (tensor<1x2x3x4xf32>, tensor<1x4x3x4xf32>, tensor<1x3xf32>) -> tensor<5x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$cls_prob, Graph_Tensor:$bbox_pred, Graph_Tensor:$im_info,
                   DefaultValuedAttr<I64Attr, "6000">:$rpn_pre_nms_top_n,
                   DefaultValuedAttr<I64Attr, "300">:$rpn_post_nms_top_n,
                   DefaultValuedAttr<F32Attr, "0.7f">:$threshold,
                   DefaultValuedAttr<I64Attr, "16">:$rpn_min_size,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{4.0, 8.0, 16.0, 32.0}">:$scales,
                   DefaultValuedAttr<DenseF64ArrayAttr, "{0.5, 1.0, 2.0}">:$ratios,
                   DefaultValuedAttr<I64Attr, "16">:$feature_stride,
                   DefaultValuedAttr<BoolAttr, "false">:$output_score,
                   DefaultValuedAttr<BoolAttr, "false">:$iou_loss);
  let results = (outs Variadic<Graph_Tensor>:$outputs);
  let opDecl = [{
    /// The A base anchors `[x1, y1, x2, y2]` at position (0, 0), computed in
    /// float32 as MXNet does (ratio-major).
    std::vector<float> computeBaseAnchors();
  }];
  let mxnetName = "_contrib_Proposal";
  let mxnetAttrs = [MXDef<"rpn_pre_nms_top_n", "Int", "6000">,
                    MXDef<"rpn_post_nms_top_n", "Int", "300">,
                    MXDef<"threshold", "F32", "0.7">, MXDef<"rpn_min_size", "Int", "16">,
                    MXDef<"scales", "FloatTuple", "(4, 8, 16, 32)">,
                    MXDef<"ratios", "FloatTuple", "(0.5, 1, 2)">,
                    MXDef<"feature_stride", "Int", "16">, MXDef<"output_score", "Bool", "False">,
                    MXDef<"iou_loss", "Bool", "False">];
  let mxnetInputs = ["cls_prob", "bbox_pred", "im_info"];
  let mxnetExtraResultIf = "output_score";
}

#endif // KILN_GRAPH_DETECTION_OPS
