//===- NNOps.cpp - Graph dialect: neural-network layers ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphNNOps.td. Shapes follow
// MXNet 1.9.1's FInferShape of each operator; gradients are built from
// forward graph ops where MXNet's backward is a composition of them (the
// normalizations, nearest upsampling, batch_dot, MakeLoss) and from the
// family's backward kernels otherwise (resizing, adaptive pooling).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "Graph/GraphOpsImpl.h"

#include <algorithm>

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphNNOps.cpp.inc"

namespace {

/// Checks that `data` is NCHW, naming the operand.
LogicalResult checkRank4(ShapeRule &r, ArrayRef<int64_t> data, StringRef name) {
  if (data.size() != 4)
    return r.error() << "expects operand '" << name
                     << "' of rank 4 (N, C, H, W), got shape " << formatShape(data);
  return success();
}

/// The normalization layers: the data's shape is the result's, and gamma and
/// beta are both `[channels]`.
LogicalResult inferNorm(ShapeRule &r, ArrayRef<int64_t> data, int64_t channels) {
  if (failed(r.assign(1, "gamma", {channels})) || failed(r.assign(2, "beta", {channels})))
    return failure();
  return r.result(data);
}

/// InstanceNorm and GroupNorm read (N, C, spatial...).
LogicalResult checkChannelFirst(ShapeRule &r, ArrayRef<int64_t> data) {
  if (data.size() < 3)
    return r.error() << "expects an input of rank at least 3 (N, C, spatial...), got shape "
                     << formatShape(data);
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::verify() { return verifyShapes(*this); }

NormView LayerNormOp::getNormView(ArrayRef<int64_t> data) {
  auto rank = static_cast<int64_t>(data.size());
  auto axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += rank;
  axis = std::clamp<int64_t>(axis, 0, std::max<int64_t>(rank - 1, 0));
  return {{numElements(data.take_front(axis)), rank ? data[axis] : 1,
           numElements(data.drop_front(std::min<int64_t>(axis + 1, rank)))},
          1};
}

LogicalResult LayerNormOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis(static_cast<int64_t>(getAxis()), data->size());
  if (failed(axis))
    return failure();
  return inferNorm(r, *data, (*data)[*axis]);
}

LogicalResult InstanceNormOp::verify() { return verifyShapes(*this); }

NormView InstanceNormOp::getNormView(ArrayRef<int64_t> data) {
  if (data.size() < 2)
    return {{1, numElements(data), 1}, 2};
  return {{data[0], data[1], numElements(data.drop_front(2))}, 2};
}

LogicalResult InstanceNormOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkChannelFirst(r, *data)))
    return failure();
  return inferNorm(r, *data, (*data)[1]);
}

LogicalResult GroupNormOp::verify() {
  if (static_cast<int64_t>(getNumGroups()) <= 0)
    return emitOpError() << "num_groups must be positive, got "
                         << static_cast<int64_t>(getNumGroups());
  return verifyShapes(*this);
}

NormView GroupNormOp::getNormView(ArrayRef<int64_t> data) {
  int64_t g = std::max<int64_t>(static_cast<int64_t>(getNumGroups()), 1);
  return {{data.empty() ? 1 : data[0], g, numElements(data.drop_front()) / g}, 2};
}

LogicalResult GroupNormOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkChannelFirst(r, *data)))
    return failure();
  auto g = static_cast<int64_t>(getNumGroups());
  int64_t c = (*data)[1];
  if (g <= 0 || c % g != 0)
    return r.error() << "num_groups (" << g << ") must divide the channels (" << c << ")";
  // MXNet 1.9.1: one gamma and beta per group.
  return inferNorm(r, *data, g);
}

LogicalResult L2NormalizationOp::verify() { return verifyShapes(*this); }

NormView L2NormalizationOp::getNormView(ArrayRef<int64_t> data) {
  if (data.empty())
    return {{1, 1, 1}, 1};
  if (getMode() == L2NormMode::instance || data.size() < 3)
    return {{data[0], numElements(data.drop_front()), 1}, 1};
  return {{data[0], data[1], numElements(data.drop_front(2))},
          getMode() == L2NormMode::channel ? 1u : 2u};
}

LogicalResult L2NormalizationOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->empty())
    return r.error() << "expects an input of rank at least 1";
  if (getMode() != L2NormMode::instance && data->size() < 3)
    return r.error() << "mode " << stringifyL2NormMode(getMode())
                     << " expects an input of rank at least 3, got shape "
                     << formatShape(*data);
  return r.result(*data);
}

//===----------------------------------------------------------------------===//
// Resizing and adaptive pooling
//===----------------------------------------------------------------------===//

LogicalResult UpSamplingOp::verify() {
  auto scale = static_cast<int64_t>(getScale()), numArgs = static_cast<int64_t>(getNumArgs());
  if (scale < 1)
    return emitOpError() << "scale must be at least 1, got " << scale;
  if (numArgs < 1)
    return emitOpError() << "num_args must be at least 1, got " << numArgs;
  size_t n = getInputs().size();
  if (getSampleType() == UpSamplingType::nearest) {
    if (n != static_cast<size_t>(numArgs))
      return emitOpError() << "has " << n << " operands but num_args is " << numArgs;
  } else if (n != 2) {
    return emitOpError() << "bilinear mode takes two operands (data, weight), got " << n;
  }
  return verifyShapes(*this);
}

LogicalResult UpSamplingOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto s = static_cast<int64_t>(getScale());
  if (getSampleType() == UpSamplingType::bilinear) {
    auto data = r.need(0, "data");
    if (failed(data) || failed(checkRank4(r, *data, "data")))
      return failure();
    int64_t c = (*data)[1], k = getBilinearKernel();
    if (static_cast<int64_t>(getNumFilter()) != c)
      return r.error() << "bilinear mode needs num_filter equal to the channels (" << c
                       << "), got " << static_cast<int64_t>(getNumFilter());
    if (failed(r.assign(1, "weight", {c, 1, k, k})))
      return failure();
    return r.result({(*data)[0], c, (*data)[2] * s, (*data)[3] * s});
  }
  unsigned n = getNumOperands();
  if (n == 0)
    return r.error() << "needs at least one operand";
  auto first = r.need(0, "arg0");
  if (failed(first) || failed(checkRank4(r, *first, "arg0")))
    return failure();
  int64_t oh = (*first)[2] * s, ow = (*first)[3] * s;
  bool sum = getMultiInputMode() == MultiInputMode::sum;
  int64_t channels = sum ? (*first)[1] : 0;
  for (unsigned i = 0; i < n; ++i) {
    std::string name = "arg" + std::to_string(i);
    auto in = r.need(i, name);
    if (failed(in) || failed(checkRank4(r, *in, name)))
      return failure();
    int64_t h = (*in)[2], w = (*in)[3];
    // MXNet upsamples operand i by oh / h and writes it into the (oh, ow)
    // output: both ratios must be whole and equal.
    if (h <= 0 || w <= 0 || oh % h != 0 || ow % w != 0 || oh / h != ow / w)
      return r.error() << "operand '" << name << "' of shape " << formatShape(*in)
                       << " does not upsample to the output's " << oh << " x " << ow
                       << " by one whole factor";
    if ((*in)[0] != (*first)[0])
      return r.error() << "operand '" << name << "' has batch size " << (*in)[0]
                       << " but arg0 has " << (*first)[0];
    if (sum && (*in)[1] != channels)
      return r.error() << "multi_input_mode sum needs equal channels, but operand '" << name
                       << "' has " << (*in)[1] << " and arg0 " << channels;
    if (!sum)
      channels += (*in)[1];
  }
  return r.result({(*first)[0], channels, oh, ow});
}

LogicalResult BilinearResize2DOp::verify() {
  auto height = static_cast<int64_t>(getHeight()), width = static_cast<int64_t>(getWidth());
  if (height < 1 || width < 1)
    return emitOpError() << "height and width must be at least 1, got " << height << " and "
                         << width;
  bool like = getMode() == ResizeMode::like;
  if (like != bool(getLike()))
    return emitOpError() << (like ? "mode like needs the operand 'like'"
                                  : "takes the operand 'like' only in mode like");
  if (getMode() == ResizeMode::odd_scale && (!getScaleHeight() || !getScaleWidth()))
    return emitOpError() << "mode odd_scale needs scale_height and scale_width";
  // MXNet reads scale_width whenever scale_height is set (and ignores it
  // otherwise).
  if (getMode() == ResizeMode::size && getScaleHeight() && !getScaleWidth())
    return emitOpError() << "scale_height needs scale_width (MXNet reads both)";
  return verifyShapes(*this);
}

LogicalResult BilinearResize2DOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkRank4(r, *data, "data")))
    return failure();
  int64_t h = (*data)[2], w = (*data)[3], oh = 0, ow = 0;
  // The products are float ones truncated to int, as MXNet's shape function.
  auto scaled = [](std::optional<APFloat> scale, int64_t x) {
    return static_cast<int64_t>(scale->convertToFloat() * static_cast<float>(x));
  };
  switch (getMode()) {
  case ResizeMode::size:
    if (getScaleHeight()) {
      oh = scaled(getScaleHeight(), h);
      ow = scaled(getScaleWidth(), w);
    } else {
      oh = static_cast<int64_t>(getHeight());
      ow = static_cast<int64_t>(getWidth());
    }
    break;
  case ResizeMode::odd_scale:
    oh = h % 2 == 0 ? scaled(getScaleHeight(), h) : scaled(getScaleHeight(), h - 1) + 1;
    ow = w % 2 == 0 ? scaled(getScaleWidth(), w) : scaled(getScaleWidth(), w - 1) + 1;
    break;
  case ResizeMode::like: {
    auto like = r.need(1, "like");
    if (failed(like) || failed(checkRank4(r, *like, "like")))
      return failure();
    oh = (*like)[2];
    ow = (*like)[3];
    break;
  }
  case ResizeMode::to_even_down:
    oh = h % 2 == 0 ? h : h - 1;
    ow = w % 2 == 0 ? w : w - 1;
    break;
  case ResizeMode::to_even_up:
    oh = h % 2 == 0 ? h : h + 1;
    ow = w % 2 == 0 ? w : w + 1;
    break;
  case ResizeMode::to_odd_down:
    oh = h % 2 == 1 ? h : h - 1;
    ow = w % 2 == 1 ? w : w - 1;
    break;
  case ResizeMode::to_odd_up:
    oh = h % 2 == 1 ? h : h + 1;
    ow = w % 2 == 1 ? w : w + 1;
    break;
  }
  if (oh < 1 || ow < 1)
    return r.error() << "resizes " << formatShape(*data) << " to an empty " << oh << " x "
                     << ow << " image";
  return r.result({(*data)[0], (*data)[1], oh, ow});
}

LogicalResult AdaptiveAvgPooling2DOp::verify() {
  ArrayRef<int64_t> size = getOutputSize();
  if (size.size() > 2)
    return emitOpError() << "output_size has " << size.size()
                         << " entries; it takes at most 2 (height, width)";
  for (int64_t v : size)
    if (v < 1)
      return emitOpError() << "output_size entries must be positive, got " << v;
  return verifyShapes(*this);
}

LogicalResult AdaptiveAvgPooling2DOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkRank4(r, *data, "data")))
    return failure();
  ArrayRef<int64_t> size = getOutputSize();
  int64_t oh = size.empty() ? 1 : size[0];
  int64_t ow = size.empty() ? 1 : size.back();
  return r.result({(*data)[0], (*data)[1], oh, ow});
}

/// The backward kernels of the resizing ops: data (for its shape) and an
/// NCHW out_grad of the same batch and channels.
static LogicalResult inferResampleGrad(Operation *op, ShapeInferenceState &state) {
  ShapeRule r(op, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkRank4(r, *data, "data")))
    return failure();
  auto dy = r.need(1, "out_grad");
  if (failed(dy) || failed(checkRank4(r, *dy, "out_grad")))
    return failure();
  if ((*dy)[0] != (*data)[0] || (*dy)[1] != (*data)[1])
    return r.error() << "out_grad " << formatShape(*dy) << " and data " << formatShape(*data)
                     << " disagree on batch size or channels";
  return r.result(*data);
}

LogicalResult AdaptiveAvgPooling2DGradOp::inferShapes(ShapeInferenceState &state) {
  return inferResampleGrad(*this, state);
}
LogicalResult BilinearResize2DGradOp::inferShapes(ShapeInferenceState &state) {
  return inferResampleGrad(*this, state);
}

//===----------------------------------------------------------------------===//
// Spatial transformers
//===----------------------------------------------------------------------===//

namespace {

/// GridGenerator's and SpatialTransformer's target_shape: two entries, both
/// positive when `needed` (affine).
LogicalResult verifyTargetShape(Operation *op, ArrayRef<int64_t> target, bool needed) {
  if (target.size() != 2)
    return op->emitOpError() << "target_shape must have 2 entries (height, width), got "
                             << target.size();
  if (needed && (target[0] < 1 || target[1] < 1))
    return op->emitOpError() << "target_shape must be positive for an affine transform, got ("
                             << target[0] << ", " << target[1] << ")";
  return success();
}

/// An affine transform operand: (N, 6).
LogicalResult checkAffine(ShapeRule &r, ArrayRef<int64_t> s, StringRef name) {
  if (s.size() != 2 || s[1] != 6)
    return r.error() << "expects operand '" << name
                     << "' of shape (batch, 6) (an affine matrix per sample), got "
                     << formatShape(s);
  return success();
}

/// BilinearSampler's grid (N, 2, Ho, Wo) for data (N, C, H, W).
LogicalResult checkGrid(ShapeRule &r, ArrayRef<int64_t> data, ArrayRef<int64_t> grid) {
  if (grid.size() != 4 || grid[1] != 2 || grid[0] != data[0])
    return r.error() << "expects operand 'grid' of shape (" << data[0]
                     << ", 2, height, width) for data " << formatShape(data) << ", got "
                     << formatShape(grid);
  return success();
}

} // namespace

LogicalResult GridGeneratorOp::verify() {
  if (failed(verifyTargetShape(*this, getTargetShape(),
                               getTransformType() == GridTransformType::affine)))
    return failure();
  return verifyShapes(*this);
}

LogicalResult GridGeneratorOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (getTransformType() == GridTransformType::affine) {
    if (failed(checkAffine(r, *data, "data")))
      return failure();
    ArrayRef<int64_t> t = getTargetShape();
    return r.result({(*data)[0], 2, t[0], t[1]});
  }
  if (data->size() != 4 || (*data)[1] != 2)
    return r.error() << "transform_type warp expects a flow of shape (batch, 2, height, width), "
                     << "got " << formatShape(*data);
  return r.result(*data);
}

LogicalResult BilinearSamplerOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkRank4(r, *data, "data")))
    return failure();
  auto grid = r.need(1, "grid");
  if (failed(grid) || failed(checkGrid(r, *data, *grid)))
    return failure();
  return r.result({(*data)[0], (*data)[1], (*grid)[2], (*grid)[3]});
}

LogicalResult BilinearSamplerGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkRank4(r, *data, "data")))
    return failure();
  auto grid = r.need(1, "grid");
  if (failed(grid) || failed(checkGrid(r, *data, *grid)))
    return failure();
  if (failed(r.assign(2, "out_grad", {(*data)[0], (*data)[1], (*grid)[2], (*grid)[3]})))
    return failure();
  if (failed(r.result(*data)))
    return failure();
  return r.result(*grid);
}

LogicalResult SpatialTransformerOp::verify() {
  if (getTransformType() != GridTransformType::affine)
    return emitOpError() << "transform_type must be affine (MXNet 1.9.1's only one)";
  if (failed(verifyTargetShape(*this, getTargetShape(), true)))
    return failure();
  return verifyShapes(*this);
}

LogicalResult SpatialTransformerOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkRank4(r, *data, "data")))
    return failure();
  if (failed(r.assign(1, "localization", {(*data)[0], 6})))
    return failure();
  ArrayRef<int64_t> t = getTargetShape();
  return r.result({(*data)[0], (*data)[1], t[0], t[1]});
}

//===----------------------------------------------------------------------===//
// Correlation
//===----------------------------------------------------------------------===//

namespace {

/// Correlation's attribute constraints (forward and backward).
template <typename OpT> LogicalResult verifyCorrelation(OpT op) {
  auto k = static_cast<int64_t>(op.getKernelSize());
  if (k < 1 || k % 2 == 0)
    return op.emitOpError() << "kernel_size must be odd and positive, got " << k
                            << " (MXNet's CPU kernel reads outside its buffers otherwise)";
  if (static_cast<int64_t>(op.getStride1()) < 1 || static_cast<int64_t>(op.getStride2()) < 1)
    return op.emitOpError() << "stride1 and stride2 must be positive, got "
                            << static_cast<int64_t>(op.getStride1()) << " and "
                            << static_cast<int64_t>(op.getStride2());
  if (static_cast<int64_t>(op.getMaxDisplacement()) < 0 ||
      static_cast<int64_t>(op.getPadSize()) < 0)
    return op.emitOpError() << "max_displacement and pad_size must not be negative";
  return verifyShapes(op);
}

/// Both inputs' shape (checked equal) and the forward's result shape.
template <typename OpT>
FailureOr<std::pair<Shape, Shape>> correlationShapes(OpT op, ShapeRule &r) {
  auto a = r.need(0, "data1");
  if (failed(a) || failed(checkRank4(r, *a, "data1")))
    return failure();
  if (failed(r.assign(1, "data2", *a)))
    return failure();
  CorrelationGeometry geo = correlationGeometry(
      (*a)[2], (*a)[3], op.getKernelSize(), op.getMaxDisplacement(), op.getStride1(),
      op.getStride2(), op.getPadSize());
  if (geo.outH < 1 || geo.outW < 1) {
    r.error() << "the neighbourhood and kernel do not fit in data " << formatShape(*a)
              << " padded by " << static_cast<int64_t>(op.getPadSize()) << " (output "
              << geo.outH << " x " << geo.outW << ")";
    return failure();
  }
  Shape out{(*a)[0], geo.gridWidth * geo.gridWidth, geo.outH, geo.outW};
  return std::make_pair(*a, out);
}

} // namespace

LogicalResult CorrelationOp::verify() { return verifyCorrelation(*this); }
LogicalResult CorrelationGradOp::verify() { return verifyCorrelation(*this); }

LogicalResult CorrelationOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto shapes = correlationShapes(*this, r);
  if (failed(shapes))
    return failure();
  return r.result(shapes->second);
}

LogicalResult CorrelationGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto shapes = correlationShapes(*this, r);
  if (failed(shapes) || failed(r.assign(2, "out_grad", shapes->second)))
    return failure();
  if (failed(r.result(shapes->first)))
    return failure();
  return r.result(shapes->first);
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

/// softmax_cross_entropy's operands: data (N, C), label (N).
static LogicalResult inferCrossEntropyOperands(ShapeRule &r) {
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->size() != 2)
    return r.error() << "data must be (N, C), got " << formatShape(*data);
  return r.assign(1, "label", {(*data)[0]});
}

LogicalResult SoftmaxCrossEntropyOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  if (failed(inferCrossEntropyOperands(r)))
    return failure();
  return r.result({1});
}

LogicalResult SoftmaxCrossEntropyOp::buildGradient(OpBuilder &builder,
                                                   ArrayRef<Value> resultGrads,
                                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<SoftmaxCrossEntropyGradOp>(getData(), getLabel(), resultGrads[0]);
  return success();
}

LogicalResult SoftmaxCrossEntropyGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  if (failed(inferCrossEntropyOperands(r)) || failed(r.assign(2, "out_grad", {1})))
    return failure();
  return r.result(*state.operands[0]);
}

/// SVMOutput and its gradient: label = data's shape without the last axis.
static LogicalResult inferSVMOutput(Operation *op, ShapeInferenceState &state) {
  ShapeRule r(op, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->size() < 2)
    return r.error() << "data must have rank at least 2 (rows of classes), got "
                     << formatShape(*data);
  if (failed(r.assign(1, "label", ArrayRef<int64_t>(*data).drop_back())))
    return failure();
  return r.result(*data);
}

LogicalResult SVMOutputOp::inferShapes(ShapeInferenceState &state) {
  return inferSVMOutput(*this, state);
}
LogicalResult SVMOutputGradOp::inferShapes(ShapeInferenceState &state) {
  return inferSVMOutput(*this, state);
}

/// MXNet's SVMOutput backward ignores the head gradient.
LogicalResult SVMOutputOp::buildGradient(OpBuilder &builder, ArrayRef<Value>,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  GradBuilder g(builder, *this);
  operandGrads[0] = g.makeLike<SVMOutputGradOp>({getOutput(), getLabel()}, *this);
  return success();
}

LogicalResult KhatriRaoOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "khatri_rao needs at least one input";
  return verifyShapes(*this);
}

LogicalResult KhatriRaoOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  int64_t rows = 1, cols = -1;
  for (unsigned i = 0; i < getNumOperands(); ++i) {
    std::string name = "inputs #" + std::to_string(i);
    auto s = r.need(i, name);
    if (failed(s))
      return failure();
    if (s->size() != 2)
      return r.error() << "operand '" << name << "' must be a matrix, got " << formatShape(*s);
    if (cols >= 0 && (*s)[1] != cols)
      return r.error() << "operand '" << name << "' has " << (*s)[1] << " columns, not " << cols
                       << " as the first";
    cols = (*s)[1];
    rows *= (*s)[0];
  }
  return r.result({rows, cols});
}

LogicalResult BatchDotOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto lhs = r.need(0, "lhs");
  if (failed(lhs))
    return failure();
  auto rhs = r.need(1, "rhs");
  if (failed(rhs))
    return failure();
  size_t rank = lhs->size();
  if (rank < 3 || rhs->size() != rank)
    return r.error() << "expects operands of one rank, at least 3, got " << formatShape(*lhs)
                     << " and " << formatShape(*rhs);
  for (size_t i = 0; i + 2 < rank; ++i)
    if ((*lhs)[i] != (*rhs)[i])
      return r.error() << "batch axes differ: " << formatShape(*lhs) << " and "
                       << formatShape(*rhs);
  bool ta = getTransposeA(), tb = getTransposeB();
  int64_t m = (*lhs)[rank - (ta ? 1 : 2)], k = (*lhs)[rank - (ta ? 2 : 1)];
  int64_t k2 = (*rhs)[rank - (tb ? 1 : 2)], n = (*rhs)[rank - (tb ? 2 : 1)];
  if (k != k2)
    return r.error() << "contraction sizes differ: " << k << " (lhs " << formatShape(*lhs)
                     << ") and " << k2 << " (rhs " << formatShape(*rhs) << ")";
  Shape out(lhs->begin(), lhs->end() - 2);
  out.append({m, n});
  return r.result(out);
}

//===----------------------------------------------------------------------===//
// Interleaved attention products
//===----------------------------------------------------------------------===//

namespace {

/// Checks that `heads` is positive.
LogicalResult verifyHeads(Operation *op, int64_t heads) {
  if (heads < 1)
    return op->emitOpError() << "heads must be positive, got " << heads;
  return success();
}

/// An interleaved projection (S, B, heads · parts · D): its shape, or an
/// error naming the operand. `headDim` receives D.
FailureOr<Shape> needProjection(ShapeRule &r, unsigned idx, StringRef name, int64_t heads,
                                int64_t parts, int64_t &headDim) {
  auto s = r.need(idx, name);
  if (failed(s))
    return failure();
  if (s->size() != 3) {
    r.error() << "expects operand '" << name << "' of rank 3 (seq, batch, heads * " << parts
              << " * head_dim), got shape " << formatShape(*s);
    return failure();
  }
  if ((*s)[2] % (heads * parts) != 0) {
    r.error() << "operand '" << name << "' of shape " << formatShape(*s)
              << ": its last axis does not split into " << heads << " heads of " << parts
              << " equal parts";
    return failure();
  }
  headDim = (*s)[2] / (heads * parts);
  return s;
}

} // namespace

LogicalResult InterleavedMatMulSelfAttQKOp::verify() {
  if (failed(verifyHeads(*this, getHeads())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult InterleavedMatMulSelfAttQKOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  int64_t heads = getHeads(), d = 0;
  auto qkv = needProjection(r, 0, "queries_keys_values", heads, 3, d);
  if (failed(qkv))
    return failure();
  return r.result({(*qkv)[1] * heads, (*qkv)[0], (*qkv)[0]});
}

LogicalResult InterleavedMatMulSelfAttValAttOp::verify() {
  if (failed(verifyHeads(*this, getHeads())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult InterleavedMatMulSelfAttValAttOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  int64_t heads = getHeads(), d = 0;
  auto qkv = needProjection(r, 0, "queries_keys_values", heads, 3, d);
  if (failed(qkv))
    return failure();
  int64_t s = (*qkv)[0], b = (*qkv)[1];
  if (failed(r.assign(1, "attention", {b * heads, s, s})))
    return failure();
  return r.result({s, b, heads * d});
}

LogicalResult InterleavedMatMulEncDecQKOp::verify() {
  if (failed(verifyHeads(*this, getHeads())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult InterleavedMatMulEncDecQKOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  int64_t heads = getHeads(), d = 0, kvd = 0;
  auto q = needProjection(r, 0, "queries", heads, 1, d);
  if (failed(q))
    return failure();
  auto kv = needProjection(r, 1, "keys_values", heads, 2, kvd);
  if (failed(kv))
    return failure();
  if ((*kv)[1] != (*q)[1] || kvd != d)
    return r.error() << "keys_values " << formatShape(*kv) << " does not match queries "
                     << formatShape(*q) << " (same batch, last axis twice as long)";
  return r.result({(*q)[1] * heads, (*q)[0], (*kv)[0]});
}

LogicalResult InterleavedMatMulEncDecValAttOp::verify() {
  if (failed(verifyHeads(*this, getHeads())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult InterleavedMatMulEncDecValAttOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  int64_t heads = getHeads(), d = 0;
  auto kv = needProjection(r, 0, "keys_values", heads, 2, d);
  if (failed(kv))
    return failure();
  auto att = r.need(1, "attention");
  if (failed(att))
    return failure();
  int64_t sk = (*kv)[0], b = (*kv)[1];
  if (att->size() != 3 || (*att)[0] != b * heads || (*att)[2] != sk)
    return r.error() << "expects operand 'attention' of shape (" << b * heads << ", q_seq, "
                     << sk << ") (batch * heads, q_seq, kv_seq), got " << formatShape(*att);
  return r.result({(*att)[1], b, heads * d});
}

//===----------------------------------------------------------------------===//
// Gradient rules
//===----------------------------------------------------------------------===//

namespace {

/// A graph value of the rule being built and its static shape.
GExpr value(GradBuilder &g, Value v, ArrayRef<int64_t> shape) {
  return GExpr{&g, v, SmallVector<int64_t, 4>(shape.begin(), shape.end())};
}

/// Σ or mean of `e` over one axis, the axis kept (size 1).
GExpr reduceAxis(GExpr e, int64_t axis, bool mean) {
  GradBuilder &g = *e.g;
  SmallVector<int64_t, 4> kept(e.shape);
  kept[axis] = 1;
  Value v = mean ? g.make<MeanOp>(e.value, g.array({axis}), true, false)
                 : g.make<SumOp>(e.value, g.array({axis}), true, false);
  return value(g, v, kept);
}

/// The gradients of LayerNorm, InstanceNorm and GroupNorm on their view
/// (MXNet's LayerNormGradComputeGeneral, which InstanceNorm's backward
/// equals): with x̂ = (x − μ)·ρ, ρ = 1/sqrt(σ² + eps) and w = dy·gamma,
///   dx = ρ·(w − mean(w) − x̂·mean(w·x̂)),  dgamma = Σ dy·x̂,  dbeta = Σ dy,
/// the means along the statistic axis and the sums over the view's axes 0
/// and 2. The statistics are recomputed from the data.
LogicalResult normGradient(Operation *op, OpBuilder &builder, NormView view, double eps,
                           ArrayRef<Value> resultGrads, SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, op);
  Value data = op->getOperand(0), gamma = op->getOperand(1);
  ArrayRef<int64_t> xs = staticShape(data);
  SmallVector<int64_t> vs(view.shape.begin(), view.shape.end());
  int64_t axis = view.reduceAxis, c = vs[1];
  GExpr x = value(g, g.reshape(data, xs, vs), vs);
  GExpr dyv = value(g, g.reshape(dy, xs, vs), vs);
  GExpr gammaView = value(g, g.reshape(gamma, {c}, {1, c, 1}), {1, c, 1});
  GExpr centered = x - reduceAxis(x, axis, true);
  GExpr rho = 1.0 / sqrt(reduceAxis(square(centered), axis, true) + eps);
  GExpr xhat = centered * rho;
  GExpr w = dyv * gammaView;
  GExpr dx = rho * (w - reduceAxis(w, axis, true) - xhat * reduceAxis(w * xhat, axis, true));
  grads[0] = g.reshape(dx.value, vs, xs);
  grads[1] = g.sum((dyv * xhat).value, {0, 2}, false);
  grads[2] = g.sum(dyv.value, {0, 2}, false);
  return success();
}

} // namespace

LogicalResult LayerNormOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  return normGradient(*this, builder, getNormView(staticShape(getData())),
                      getEps().convertToDouble(), resultGrads, operandGrads);
}
LogicalResult InstanceNormOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  return normGradient(*this, builder, getNormView(staticShape(getData())),
                      getEps().convertToDouble(), resultGrads, operandGrads);
}
LogicalResult GroupNormOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  return normGradient(*this, builder, getNormView(staticShape(getData())),
                      getEps().convertToDouble(), resultGrads, operandGrads);
}

/// MXNet's L2Normalization backward: with n = sqrt(Σx² + eps) and y = x/n,
/// dx = (dy − y·Σ(dy·y)) / n, the sums along the view's statistic axis.
LogicalResult L2NormalizationOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  NormView view = getNormView(xs);
  SmallVector<int64_t> vs(view.shape.begin(), view.shape.end());
  int64_t axis = view.reduceAxis;
  GExpr x = value(g, g.reshape(getData(), xs, vs), vs);
  GExpr dyv = value(g, g.reshape(dy, xs, vs), vs);
  GExpr norm = sqrt(reduceAxis(square(x), axis, false) + getEps().convertToDouble());
  GExpr y = x / norm;
  GExpr dx = (dyv - y * reduceAxis(dyv * y, axis, false)) / norm;
  operandGrads[0] = g.reshape(dx.value, vs, xs);
  return success();
}

LogicalResult UpSamplingOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                          SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> ys = staticShape(getOutput());
  if (getSampleType() == UpSamplingType::bilinear) {
    // The gradients of MXNet's equivalent depthwise Deconvolution (see
    // DeconvolutionOp::buildGradient): a convolution of dy with the same
    // weight, and the weight gradient with data and out_grad swapped.
    Value data = getInputs()[0], weight = getInputs()[1];
    int64_t c = staticShape(data)[1], k = getBilinearKernel(),
            s = static_cast<int64_t>(getScale()), p = getBilinearPad();
    SmallVector<int64_t> kernel{k, k}, stride{s, s}, pad{p, p};
    operandGrads[0] = g.make<ConvolutionOp>(dy, weight, Value(), kernel, stride,
                                            ArrayRef<int64_t>(), pad, c, c);
    operandGrads[1] = g.make<ConvolutionWeightGradOp>(dy, data, kernel, stride,
                                                      ArrayRef<int64_t>(), pad, c);
    return success();
  }
  // Nearest: operand i's gradient sums dy (its channel slice with concat)
  // over the s × s blocks it was repeated into (MXNet's sum pooling).
  bool concat = getMultiInputMode() == MultiInputMode::concat;
  int64_t begin = 0;
  for (auto [i, in] : llvm::enumerate(getInputs())) {
    ArrayRef<int64_t> xs = staticShape(in);
    int64_t s = ys[2] / xs[2];
    Value part = dy;
    SmallVector<int64_t> partShape(ys);
    if (concat && getNumOperands() > 1) {
      part = g.sliceAxis(dy, 1, begin, begin + xs[1]);
      partShape[1] = xs[1];
    }
    begin += xs[1];
    Value blocks = g.reshape(part, partShape, {xs[0], xs[1], xs[2], s, xs[3], s});
    operandGrads[i] = g.sum(blocks, {3, 5}, false);
  }
  return success();
}

LogicalResult BilinearResize2DOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                                SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] =
      g.make<BilinearResize2DGradOp>(getData(), resultGrads[0], getAlignCorners());
  // MXNet's backward writes zeros for `like`.
  if (Value like = getLike())
    operandGrads[1] = g.zeros(staticShape(like));
  return success();
}

LogicalResult AdaptiveAvgPooling2DOp::buildGradient(OpBuilder &builder,
                                                    ArrayRef<Value> resultGrads,
                                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<AdaptiveAvgPooling2DGradOp>(getData(), resultGrads[0]);
  return success();
}

LogicalResult BatchDotOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  Value dc = resultGrads[0];
  if (!dc)
    return success();
  GradBuilder g(builder, *this);
  Value a = getLhs(), b = getRhs();
  bool ta = getTransposeA(), tb = getTransposeB();
  // C = op(A)·op(B) per batch; the same four cases as dot (MXNet's
  // batch_dot gradient is batch_dot with the flags below).
  if (!ta && !tb) {
    operandGrads[0] = g.make<BatchDotOp>(dc, b, false, true);
    operandGrads[1] = g.make<BatchDotOp>(a, dc, true, false);
  } else if (ta && !tb) {
    operandGrads[0] = g.make<BatchDotOp>(b, dc, false, true);
    operandGrads[1] = g.make<BatchDotOp>(a, dc, false, false);
  } else if (!ta && tb) {
    operandGrads[0] = g.make<BatchDotOp>(dc, b, false, false);
    operandGrads[1] = g.make<BatchDotOp>(dc, a, true, false);
  } else {
    operandGrads[0] = g.make<BatchDotOp>(b, dc, true, true);
    operandGrads[1] = g.make<BatchDotOp>(dc, a, true, true);
  }
  return success();
}

/// MXNet's MakeLoss backward: grad_scale / cnt everywhere, whatever the head
/// gradient (see the op's description for cnt).
LogicalResult MakeLossOp::buildGradient(OpBuilder &builder, ArrayRef<Value>,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  float scale = getGradScale().convertToFloat();
  GExpr zeros = value(g, g.zeros(xs), xs);
  switch (getNormalization()) {
  case Normalization::null:
    operandGrads[0] = (zeros + scale).value;
    return success();
  case Normalization::batch: {
    // MXNet divides in float by the rows of its (size / last, last) view.
    auto rows = static_cast<float>(numElements(xs.drop_back()));
    operandGrads[0] = (zeros + static_cast<double>(scale / rows)).value;
    return success();
  }
  case Normalization::valid: {
    Value above =
        g.make<GreaterScalarOp>(getData(), g.f64(getValidThresh().convertToDouble()));
    Value count = g.make<SumOp>(above, DenseI64ArrayAttr(), false, false);
    Value atLeastOne = g.make<MaximumScalarOp>(count, g.f64(1.0));
    Value factor = g.make<RDivScalarOp>(atLeastOne, g.f64(scale));
    operandGrads[0] = (zeros + value(g, factor, {1})).value;
    return success();
  }
  }
  return success();
}

LogicalResult AdaptiveAvgPooling2DGradOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                                        SmallVectorImpl<Value> &) {
  return notDifferentiable(*this);
}
LogicalResult BilinearResize2DGradOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                                    SmallVectorImpl<Value> &) {
  return notDifferentiable(*this);
}

//===----------------------------------------------------------------------===//
// Gradients of the interleaved attention products
//===----------------------------------------------------------------------===//

namespace {

/// The graph-op view of an interleaved projection (S, B, heads · parts · D):
/// part `part` of every head as (B · heads, S, D), and back.
struct Interleaved {
  GradBuilder &g;
  int64_t s, b, heads, parts, d;

  Interleaved(GradBuilder &g, ArrayRef<int64_t> shape, int64_t heads, int64_t parts)
      : g(g), s(shape[0]), b(shape[1]), heads(heads), parts(parts),
        d(shape[2] / (heads * parts)) {}

  Value part(Value v, int64_t p) {
    Value split = g.reshape(v, {s, b, heads * parts * d}, {s, b * heads, parts, d});
    Value one = g.sliceAxis(split, 2, p, p + 1);
    Value flat = g.reshape(one, {s, b * heads, 1, d}, {s, b * heads, d});
    return g.make<TransposeOp>(flat, g.array({1, 0, 2}));
  }

  /// The projection whose parts are `grads` ((B · heads, S, D) each, null
  /// for zero).
  Value merge(ArrayRef<Value> grads) {
    SmallVector<Value> pieces;
    for (Value v : grads) {
      if (!v) {
        pieces.push_back(g.zeros({s, b * heads, 1, d}));
        continue;
      }
      Value t = g.make<TransposeOp>(v, g.array({1, 0, 2}));
      pieces.push_back(g.reshape(t, {s, b * heads, d}, {s, b * heads, 1, d}));
    }
    Value joined = pieces.size() == 1 ? pieces[0] : g.make<ConcatOp>(pieces, 2);
    return g.reshape(joined, {s, b * heads, parts, d}, {s, b, heads * parts * d});
  }
};

/// The gradients of out = scale · Q·Kᵀ per attention batch, Q and K
/// (B · heads, S, D): dQ = scale · dOut·K, dK = scale · dOutᵀ·Q.
std::pair<Value, Value> qkGradients(GradBuilder &g, Value dOut, Value q, Value k, double scale) {
  Value dq = g.make<BatchDotOp>(dOut, k, false, false);
  Value dk = g.make<BatchDotOp>(dOut, q, true, false);
  return {g.make<MulScalarOp>(dq, g.f64(scale)), g.make<MulScalarOp>(dk, g.f64(scale))};
}

/// The gradients of an attention product: `dOut` (S, B, heads · D) seen as
/// G (B · heads, S, D) with out = att·V: dV = attᵀ·G, datt = G·Vᵀ.
std::pair<Value, Value> valAttGradients(GradBuilder &g, Value dOut, Value att, Value v,
                                        int64_t sq, int64_t b, int64_t heads, int64_t d) {
  Value split = g.reshape(dOut, {sq, b, heads * d}, {sq, b * heads, d});
  Value grad = g.make<TransposeOp>(split, g.array({1, 0, 2}));
  return {g.make<BatchDotOp>(att, grad, true, false), g.make<BatchDotOp>(grad, v, false, true)};
}

} // namespace

LogicalResult InterleavedMatMulSelfAttQKOp::buildGradient(OpBuilder &builder,
                                                          ArrayRef<Value> resultGrads,
                                                          SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  Interleaved qkv(g, staticShape(getQueriesKeysValues()), getHeads(), 3);
  Value q = qkv.part(getQueriesKeysValues(), 0), k = qkv.part(getQueriesKeysValues(), 1);
  auto [dq, dk] = qkGradients(g, resultGrads[0], q, k, qkScale(qkv.d));
  operandGrads[0] = qkv.merge({dq, dk, Value()});
  return success();
}

LogicalResult InterleavedMatMulSelfAttValAttOp::buildGradient(
    OpBuilder &builder, ArrayRef<Value> resultGrads, SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  Interleaved qkv(g, staticShape(getQueriesKeysValues()), getHeads(), 3);
  Value v = qkv.part(getQueriesKeysValues(), 2);
  auto [dv, datt] =
      valAttGradients(g, resultGrads[0], getAttention(), v, qkv.s, qkv.b, qkv.heads, qkv.d);
  operandGrads[0] = qkv.merge({Value(), Value(), dv});
  operandGrads[1] = datt;
  return success();
}

LogicalResult InterleavedMatMulEncDecQKOp::buildGradient(OpBuilder &builder,
                                                         ArrayRef<Value> resultGrads,
                                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  Interleaved queries(g, staticShape(getQueries()), getHeads(), 1);
  Interleaved kv(g, staticShape(getKeysValues()), getHeads(), 2);
  Value q = queries.part(getQueries(), 0), k = kv.part(getKeysValues(), 0);
  auto [dq, dk] = qkGradients(g, resultGrads[0], q, k, qkScale(queries.d));
  operandGrads[0] = queries.merge({dq});
  operandGrads[1] = kv.merge({dk, Value()});
  return success();
}

LogicalResult InterleavedMatMulEncDecValAttOp::buildGradient(
    OpBuilder &builder, ArrayRef<Value> resultGrads, SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  Interleaved kv(g, staticShape(getKeysValues()), getHeads(), 2);
  Value v = kv.part(getKeysValues(), 1);
  int64_t sq = staticShape(getAttention())[1];
  auto [dv, datt] = valAttGradients(g, resultGrads[0], getAttention(), v, sq, kv.b, kv.heads, kv.d);
  operandGrads[0] = kv.merge({Value(), dv});
  operandGrads[1] = datt;
  return success();
}

//===----------------------------------------------------------------------===//
// Gradients of the spatial transformers
//===----------------------------------------------------------------------===//

namespace {

/// The gradient of an affine GridGenerator with respect to θ (N, 6) from
/// the grid's gradient `dgrid` (N, 2, H, W): dθ[n, 3r + c] = Σ_ij
/// dgrid[n, r, i, j] · dst_c[i, j] with dst = (x_j, y_i, 1), MXNet's
/// gemm with grid_dst. The target coordinates are a warp GridGenerator of
/// a zero flow.
Value affineGridGradient(GradBuilder &g, Value dgrid, int64_t n, int64_t h, int64_t w) {
  Value dst = g.make<GridGeneratorOp>(g.zeros({1, 2, h, w}), GridTransformType::warp,
                                      ArrayRef<int64_t>{0, 0});
  SmallVector<Value> columns;
  for (int64_t c = 0; c < 3; ++c) {
    Value weighted = dgrid;
    if (c < 2)
      weighted = g.make<BroadcastMulOp>(dgrid, g.sliceAxis(dst, 1, c, c + 1));
    columns.push_back(g.reshape(g.sum(weighted, {2, 3}, false), {n, 2}, {n, 2, 1}));
  }
  return g.reshape(g.make<ConcatOp>(columns, 2), {n, 2, 3}, {n, 6});
}

} // namespace

LogicalResult GridGeneratorOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                             SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> ys = staticShape(getOutput());
  if (getTransformType() == GridTransformType::affine) {
    operandGrads[0] = affineGridGradient(g, dy, ys[0], ys[2], ys[3]);
    return success();
  }
  // Warp: each channel divided by MXNet's (size − 1) / 2.
  SmallVector<Value> channels;
  for (int64_t c = 0; c < 2; ++c) {
    double half = (static_cast<double>(ys[c == 0 ? 3 : 2]) - 1.0) / 2.0;
    channels.push_back(g.make<DivScalarOp>(g.sliceAxis(dy, 1, c, c + 1), g.f64(half)));
  }
  operandGrads[0] = g.make<ConcatOp>(channels, 1);
  return success();
}

LogicalResult BilinearSamplerOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  auto grad = BilinearSamplerGradOp::create(builder, getLoc(), TypeRange{g.type, g.type},
                                            getData(), getGrid(), resultGrads[0]);
  operandGrads[0] = grad.getDataGrad();
  operandGrads[1] = grad.getGridGrad();
  return success();
}

/// The composition's gradients: the sampler's at the generated grid, then
/// the affine generator's.
LogicalResult SpatialTransformerOp::buildGradient(OpBuilder &builder,
                                                  ArrayRef<Value> resultGrads,
                                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> t = getTargetShape();
  Value grid = g.make<GridGeneratorOp>(getLocalization(), GridTransformType::affine, t);
  auto grad = BilinearSamplerGradOp::create(builder, getLoc(), TypeRange{g.type, g.type},
                                            getData(), grid, resultGrads[0]);
  operandGrads[0] = grad.getDataGrad();
  operandGrads[1] =
      affineGridGradient(g, grad.getGridGrad(), staticShape(getData())[0], t[0], t[1]);
  return success();
}

LogicalResult BilinearSamplerGradOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                                   SmallVectorImpl<Value> &) {
  return notDifferentiable(*this);
}

LogicalResult CorrelationOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                           SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  auto grad = CorrelationGradOp::create(
      builder, getLoc(), TypeRange{g.type, g.type}, getData1(), getData2(), resultGrads[0],
      getKernelSize(), getMaxDisplacement(), getStride1(), getStride2(), getPadSize(),
      getIsMultiply());
  operandGrads[0] = grad.getData1Grad();
  operandGrads[1] = grad.getData2Grad();
  return success();
}

LogicalResult CorrelationGradOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                               SmallVectorImpl<Value> &) {
  return notDifferentiable(*this);
}
