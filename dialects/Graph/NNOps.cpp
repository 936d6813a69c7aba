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
