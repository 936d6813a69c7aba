//===- GraphNNOps.h - Graph dialect: neural-network layers -*- C++ -*-===//
//
// The ops of GraphNNOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHNNOPS_H
#define KILN_GRAPH_GRAPHNNOPS_H

#include "Graph/GraphOps.h"

#include <array>
#include <cmath>
#include <utility>

namespace kiln::graph {

/// How a normalization layer (LayerNorm, InstanceNorm, GroupNorm,
/// L2Normalization) sees its input: a row-major 3-D view (outer, channels,
/// inner) of the data whose axis 1 indexes gamma and beta, and the axis of
/// the view (1 or 2) its statistics are taken over. The interpreter, the
/// lowering and the gradient rules all work on this view.
struct NormView {
  std::array<int64_t, 3> shape;
  unsigned reduceAxis;
  /// The number of elements each statistic is taken over.
  int64_t count() const { return shape[reduceAxis]; }
};

/// One output coordinate of MXNet's bilinear resize along one axis (input
/// size `in`, output size `out`): the source indices i0 ≤ i1 it interpolates
/// between and their weights. Computed as MXNet's CPU kernel does
/// (area_pixel_compute_scale / _source_index), in float: the last source
/// index interpolates with itself (i0 = i1).
struct BilinearTap {
  int64_t i0, i1;
  double w0, w1;
};
inline BilinearTap bilinearTap(int64_t in, int64_t out, int64_t dst, bool alignCorners) {
  float scale = 0.0f;
  if (out > 1)
    scale = alignCorners ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                         : static_cast<float>(in) / static_cast<float>(out);
  float src;
  if (alignCorners) {
    src = scale * static_cast<float>(dst);
  } else {
    // MXNet evaluates this in double and stores it in float.
    src = static_cast<float>(static_cast<double>(scale) * (static_cast<double>(dst) + 0.5) - 0.5);
    if (src < 0)
      src = 0;
  }
  auto i0 = static_cast<int64_t>(src);
  float w1 = src - static_cast<float>(i0);
  return {i0, i0 < in - 1 ? i0 + 1 : i0, 1.0 - static_cast<double>(w1),
          static_cast<double>(w1)};
}

/// The input window [begin, end) of output index `i` of adaptive average
/// pooling from `in` to `out` elements along one axis: MXNet's START_IND and
/// END_IND, which divide in float.
inline std::pair<int64_t, int64_t> adaptiveWindow(int64_t i, int64_t in, int64_t out) {
  auto begin = static_cast<int64_t>(
      std::floor(static_cast<float>(i * in) / static_cast<float>(out)));
  auto end = static_cast<int64_t>(
      std::ceil(static_cast<float>((i + 1) * in) / static_cast<float>(out)));
  return {begin, end};
}

/// Correlation's geometry (MXNet's CorrelationProp::InferShape): the
/// neighbourhood radius and width, and the output's height and width (may
/// be below 1: an error for the shape rule). The quotient is a float one,
/// rounded up.
struct CorrelationGeometry {
  int64_t radius, gridWidth, outH, outW;
};
inline CorrelationGeometry correlationGeometry(int64_t h, int64_t w, int64_t kernel,
                                               int64_t maxDisplacement, int64_t stride1,
                                               int64_t stride2, int64_t pad) {
  int64_t border = maxDisplacement + (kernel - 1) / 2;
  auto out = [&](int64_t size) {
    return static_cast<int64_t>(std::ceil(static_cast<float>(size + 2 * pad - 2 * border) /
                                          static_cast<float>(stride1)));
  };
  int64_t radius = maxDisplacement / stride2;
  return {radius, 2 * radius + 1, out(h), out(w)};
}

} // namespace kiln::graph

#define GET_OP_CLASSES
#include "Graph/GraphNNOps.h.inc"

#endif // KILN_GRAPH_GRAPHNNOPS_H
