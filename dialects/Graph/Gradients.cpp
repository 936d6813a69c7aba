//===- Gradients.cpp - Vector-Jacobian products of the graph ops -----------===//
//
// GradientOpInterface::buildGradient for every graph op: given the gradients
// flowing into an op's results, build graph ops computing the gradient of
// each differentiable operand. Rules use forward ops where that is natural
// (FullyConnected's gradients are dots, Convolution's data gradient is a
// Deconvolution) and the backward kernels of GraphGradOps.td where it is not.
// docs/autodiff.md lists every rule.
//
// Conventions shared by all rules:
// - The forward op has static shapes (kiln-autodiff infers shapes first);
//   rules read shapes from the forward operands and results only. The ops
//   they create get unranked result types, refined by shape inference when
//   the backward is complete, so a rule never restates a shape formula.
// - A null result gradient means "zero" (nobody uses that result); a null
//   operand gradient means the operand gets none (labels, indices, aux
//   states, comparisons).
// - Backward ops are named after the forward node: loc("fc1_backward").
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOpsImpl.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

using namespace mlir;
using namespace kiln::graph;

namespace {

/// Resizes `grads` to one (null) entry per operand of `op`.
void init(Operation *op, SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
}

ArrayRef<int64_t> shapeOf(Value v) { return staticShape(v); }

/// Spatial axes (2, 3, ...) plus the batch axis: what a bias gradient sums over.
SmallVector<int64_t> biasAxes(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> axes = {0};
  for (size_t d = 2; d < shape.size(); ++d)
    axes.push_back(d);
  return axes;
}

} // namespace

//===----------------------------------------------------------------------===//
// Neural-network layers
//===----------------------------------------------------------------------===//

LogicalResult FullyConnectedOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = shapeOf(getData()), ys = shapeOf(getOutput());
  int64_t n = getNumHidden();
  // Both layouts are a matrix product of [rows, K] by Wᵀ once the input is
  // seen as rows: flatten keeps axis 0, otherwise every axis but the last.
  int64_t rows = getFlatten() ? xs[0] : numElements(xs.drop_back());
  int64_t k = numElements(xs) / std::max<int64_t>(rows, 1);
  Value dy2 = g.reshape(dy, ys, {rows, n});
  Value x2 = g.reshape(getData(), xs, {rows, k});
  operandGrads[0] =
      g.reshape(g.make<DotOp>(dy2, getWeight(), false, false), ArrayRef<int64_t>{rows, k}, xs);
  operandGrads[1] = g.make<DotOp>(dy2, x2, /*transpose_a=*/true, false);
  if (getBias())
    operandGrads[2] = g.sum(dy2, {0}, false);
  return success();
}

LogicalResult ConvolutionOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                           SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = shapeOf(getData()), ys = shapeOf(getOutput());
  ArrayRef<int64_t> kernel = getKernel();
  SmallVector<int64_t> s = getStrides(), d = getDilations(), p = getPads();
  // dX is the transposed convolution of dY with the same weight. The
  // forward's floor drops up to s − 1 trailing input rows; adj gives them
  // back so the result has X's shape (they get zero gradient).
  SmallVector<int64_t> adj;
  for (size_t i = 0; i < kernel.size(); ++i)
    adj.push_back(xs[i + 2] + 2 * p[i] - d[i] * (kernel[i] - 1) - 1 - s[i] * (ys[i + 2] - 1));
  if (llvm::all_of(adj, [](int64_t a) { return a == 0; }))
    adj.clear();
  // The forward's own stride/dilate/pad attributes (empty = MXNet's default).
  operandGrads[0] =
      g.make<DeconvolutionOp>(dy, getWeight(), Value(), kernel, getStride(), getDilate(), getPad(),
                              adj, ArrayRef<int64_t>(), xs[1], getNumGroup());
  operandGrads[1] = g.make<ConvolutionWeightGradOp>(getData(), dy, kernel, getStride(), getDilate(),
                                                    getPad(), getNumGroup());
  if (getBias())
    operandGrads[2] = g.sum(dy, biasAxes(ys), false);
  return success();
}

LogicalResult DeconvolutionOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                             SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = shapeOf(getData()), ys = shapeOf(getOutput());
  ArrayRef<int64_t> kernel = getKernel();
  // The converse of Convolution: dX is the convolution of dY with the same
  // weight (its output is exactly X's size since adj < stride), and the
  // weight gradient is convolution_weight_grad with data and out_grad
  // swapped. The padding is the effective one (target_shape may imply it).
  SmallVector<int64_t> p = getPads(xs.drop_front(2));
  if (getTargetShape().empty())
    p.assign(getPad().begin(), getPad().end());
  operandGrads[0] = g.make<ConvolutionOp>(dy, getWeight(), Value(), kernel, getStride(),
                                          getDilate(), p, xs[1], getNumGroup());
  operandGrads[1] = g.make<ConvolutionWeightGradOp>(dy, getData(), kernel, getStride(), getDilate(),
                                                    p, getNumGroup());
  if (getBias())
    operandGrads[2] = g.sum(dy, biasAxes(ys), false);
  return success();
}

LogicalResult PoolingOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.makeLike<PoolingGradOp>({getData(), resultGrads[0]}, *this);
  return success();
}

LogicalResult ActivationOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                          SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  // relu, sigmoid and tanh differentiate from their output, so their input
  // need not stay alive (MXNet does the same).
  bool fromOutput = getActType() == ActType::relu || getActType() == ActType::sigmoid ||
                    getActType() == ActType::tanh;
  operandGrads[0] =
      g.make<ActivationGradOp>(resultGrads[0], fromOutput ? getOutput() : getData(), getActType());
  return success();
}

LogicalResult LeakyReLUOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  SmallVector<Value> operands = {dy, getData()};
  if (getGamma())
    operands.push_back(getGamma());
  operandGrads[0] = g.makeLike<LeakyReLUGradOp>(operands, *this);
  if (getGamma()) {
    // ∂y/∂gamma = min(x, 0) elementwise, summed over every axis but 1 (over
    // all of them for a gamma of one element shared by the channels).
    ArrayRef<int64_t> xs = shapeOf(getData());
    bool perChannel = xs.size() >= 2 && shapeOf(getGamma()) != ArrayRef<int64_t>{1};
    SmallVector<int64_t> axes;
    for (size_t d = 0; d < xs.size(); ++d)
      if (d != 1)
        axes.push_back(d);
    Value neg = g.make<MinimumScalarOp>(getData(), g.f64(0));
    Value prod = g.mul(dy, neg);
    operandGrads[1] = perChannel ? g.sum(prod, axes, false) : g.sum(prod, {}, false);
  }
  return success();
}

/// Shared by BatchNorm (constant statistics) and batch_norm_train (batch
/// statistics).
static Value batchNormGrad(GradBuilder &g, Value data, Value gamma, Value mean, Value var, Value dy,
                           double eps, bool fixGamma, bool useGlobalStats, int64_t axis,
                           SmallVectorImpl<Value> &operandGrads) {
  auto op =
      BatchNormGradOp::create(g.b, g.loc, TypeRange{g.type, g.type, g.type}, data, gamma, mean, var,
                              dy, g.b.getF64FloatAttr(eps), g.b.getBoolAttr(fixGamma),
                              g.b.getBoolAttr(useGlobalStats), g.b.getI64IntegerAttr(axis));
  operandGrads[0] = op.getDataGrad();
  operandGrads[1] = op.getGammaGrad();
  operandGrads[2] = op.getBetaGrad();
  return op.getDataGrad();
}

/// BatchNorm's and SyncBatchNorm's rule.
template <typename BatchNormLike>
static LogicalResult movingStatsGradient(BatchNormLike op, OpBuilder &builder,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  init(op, operandGrads);
  if (!resultGrads[0])
    return success();
  // A batch_norm left in a differentiated function normalizes with its
  // moving statistics (use_global_stats, or an inference-mode function):
  // they are constants, and the aux states get no gradient.
  GradBuilder g(builder, op);
  batchNormGrad(g, op.getData(), op.getGamma(), op.getMovingMean(), op.getMovingVar(),
                resultGrads[0], op.getEps().convertToDouble(), op.getFixGamma(),
                /*useGlobalStats=*/true, op.getAxis(), operandGrads);
  return success();
}

LogicalResult BatchNormOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  return movingStatsGradient(*this, builder, resultGrads, operandGrads);
}

LogicalResult SyncBatchNormOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                             SmallVectorImpl<Value> &operandGrads) {
  return movingStatsGradient(*this, builder, resultGrads, operandGrads);
}

LogicalResult LRNOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.makeLike<LRNGradOp>({getData(), resultGrads[0]}, *this);
  return success();
}

LogicalResult DropoutOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  // Training mode replaces every active Dropout by dropout_mask + multiply;
  // one still here is the inference identity, unless it is `always` (its
  // mask would come from the interpreter's sequential stream, which no
  // compiled code reproduces).
  if (getMode() == DropoutMode::always && !getP().isZero())
    return emitOpError() << "with mode 'always' must be rewritten by kiln-graph-training-mode "
                            "before it is differentiated";
  operandGrads[0] = resultGrads[0];
  return success();
}

LogicalResult EmbeddingOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  // Indices are not differentiable; the weight gets a dense scatter-add.
  GradBuilder g(builder, *this);
  operandGrads[1] = g.makeLike<EmbeddingGradOp>({getData(), resultGrads[0]}, *this);
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOutputOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                             SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  GradBuilder g(builder, *this);
  // A loss head: its built-in gradient ignores the head gradient. With
  // out_grad = true MXNet 1.9.1 multiplies it by "the output gradient",
  // which its backward node wires to the softmax output itself.
  Value dx = g.makeLike<SoftmaxOutputGradOp>({getOutput(), getLabel()}, *this);
  if (getOutGrad())
    dx = g.mul(dx, getOutput());
  operandGrads[0] = dx;
  return success();
}

template <typename RegressionOp>
static LogicalResult regressionGradient(RegressionOp op, OpBuilder &builder, RegressionKind kind,
                                        SmallVectorImpl<Value> &operandGrads) {
  init(op, operandGrads);
  GradBuilder g(builder, op);
  operandGrads[0] =
      g.make<RegressionOutputGradOp>(op.getOutput(), op.getLabel(), kind, op.getGradScale());
  return success();
}

LogicalResult LinearRegressionOutputOp::buildGradient(OpBuilder &builder, ArrayRef<Value>,
                                                      SmallVectorImpl<Value> &operandGrads) {
  return regressionGradient(*this, builder, RegressionKind::linear, operandGrads);
}
LogicalResult LogisticRegressionOutputOp::buildGradient(OpBuilder &builder, ArrayRef<Value>,
                                                        SmallVectorImpl<Value> &operandGrads) {
  return regressionGradient(*this, builder, RegressionKind::logistic, operandGrads);
}
LogicalResult MAERegressionOutputOp::buildGradient(OpBuilder &builder, ArrayRef<Value>,
                                                   SmallVectorImpl<Value> &operandGrads) {
  return regressionGradient(*this, builder, RegressionKind::mae, operandGrads);
}

template <typename SoftmaxLikeOp>
static LogicalResult softmaxGradient(SoftmaxLikeOp op, OpBuilder &builder, Value dy, int64_t axis,
                                     FloatAttr temperature, bool log,
                                     SmallVectorImpl<Value> &operandGrads) {
  init(op, operandGrads);
  if (!dy)
    return success();
  GradBuilder g(builder, op);
  operandGrads[0] =
      SoftmaxGradOp::create(builder, g.loc, g.type, op.getOutput(), dy,
                            builder.getI64IntegerAttr(axis), temperature, builder.getBoolAttr(log))
          .getResult();
  return success();
}

LogicalResult SoftmaxOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  return softmaxGradient(*this, builder, resultGrads[0], getAxis(), getTemperatureAttr(), false,
                         operandGrads);
}
LogicalResult LogSoftmaxOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                          SmallVectorImpl<Value> &operandGrads) {
  return softmaxGradient(*this, builder, resultGrads[0], getAxis(), getTemperatureAttr(), true,
                         operandGrads);
}
// softmin is softmax with the temperature negated (see the op).
LogicalResult SoftminOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  double t = getTemperature() ? getTemperature()->convertToDouble() : 1.0;
  return softmaxGradient(*this, builder, resultGrads[0], getAxis(), builder.getF64FloatAttr(-t),
                         false, operandGrads);
}
/// MXNet's make_loss backward: ones_like(data), whatever the head gradient.
LogicalResult LegacyMakeLossOp::buildGradient(OpBuilder &builder, ArrayRef<Value>,
                                              SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<OnesLikeOp>(getData());
  return success();
}
LogicalResult SoftmaxActivationOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                                 SmallVectorImpl<Value> &operandGrads) {
  int64_t axis = getMode() == SoftmaxMode::channel ? 1 : -1;
  return softmaxGradient(*this, builder, resultGrads[0], axis, FloatAttr(), false, operandGrads);
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

/// Views: the gradient is the result gradient with the input's shape.
static LogicalResult viewGradient(Operation *op, OpBuilder &builder, Value dy,
                                  SmallVectorImpl<Value> &operandGrads) {
  init(op, operandGrads);
  if (!dy)
    return success();
  GradBuilder g(builder, op);
  operandGrads[0] = g.reshape(dy, shapeOf(op->getResult(0)), shapeOf(op->getOperand(0)));
  return success();
}

LogicalResult FlattenOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  return viewGradient(*this, builder, resultGrads[0], operandGrads);
}
LogicalResult ReshapeOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  return viewGradient(*this, builder, resultGrads[0], operandGrads);
}
LogicalResult IdentityOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  operandGrads[0] = resultGrads[0];
  return success();
}

LogicalResult TransposeOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  // The inverse permutation; an empty `axes` (reverse) is its own inverse.
  ArrayRef<int64_t> axes = getAxes();
  SmallVector<int64_t> inverse(axes.size());
  for (auto [d, a] : llvm::enumerate(axes))
    inverse[a] = d;
  operandGrads[0] = g.make<TransposeOp>(resultGrads[0], ArrayRef<int64_t>(inverse));
  return success();
}

void kiln::graph::concatGradient(Operation *op, OpBuilder &builder, Value dy, int64_t dim,
                                 SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(op->getNumOperands(), Value());
  if (!dy)
    return;
  GradBuilder g(builder, op);
  int64_t rank = staticShape(op->getResult(0)).size();
  if (dim < 0)
    dim += rank;
  int64_t offset = 0;
  for (auto [i, in] : llvm::enumerate(op->getOperands())) {
    int64_t n = staticShape(in)[dim];
    operandGrads[i] =
        op->getNumOperands() == 1 ? dy : g.sliceAxis(dy, dim, offset, offset + n);
    offset += n;
  }
}

LogicalResult ConcatOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  concatGradient(*this, builder, resultGrads[0], static_cast<int64_t>(getDim()), operandGrads);
  return success();
}

LogicalResult kiln::graph::splitGradient(Operation *op, OpBuilder &builder,
                                         ArrayRef<Value> resultGrads, int64_t axis,
                                         ArrayRef<int64_t> bounds,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(op->getNumOperands(), Value());
  if (llvm::all_of(resultGrads, [](Value v) { return !v; }))
    return success();
  GradBuilder g(builder, op);
  ArrayRef<int64_t> xs = shapeOf(op->getOperand(0));
  // Each part unsqueezed (squeeze_axis removed a size-1 axis), the unused
  // parts as zeros, concatenated back along the axis.
  SmallVector<Value> parts;
  for (auto [i, dy] : llvm::enumerate(resultGrads)) {
    SmallVector<int64_t> part(xs);
    part[axis] = bounds[i + 1] - bounds[i];
    parts.push_back(dy ? g.reshape(dy, shapeOf(op->getResult(i)), part) : g.zeros(part));
  }
  operandGrads[0] = parts.size() == 1 ? parts[0] : g.make<ConcatOp>(parts, axis);
  return success();
}

LogicalResult SplitOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> xs = shapeOf(getData());
  int64_t rank = xs.size();
  int64_t axis = (int64_t)getAxis() < 0 ? (int64_t)getAxis() + rank : (int64_t)getAxis();
  int64_t n = xs[axis] / (int64_t)getNumOutputs();
  SmallVector<int64_t> bounds;
  for (int64_t i = 0; i <= (int64_t)getNumOutputs(); ++i)
    bounds.push_back(i * n);
  return splitGradient(*this, builder, resultGrads, axis, bounds, operandGrads);
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

LogicalResult AddNOp::buildGradient(OpBuilder &, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  for (Value &v : operandGrads)
    v = resultGrads[0];
  return success();
}

LogicalResult BroadcastToOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                           SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.sumToShape(resultGrads[0], shapeOf(getOutput()), shapeOf(getData()));
  return success();
}

/// The reductions: the result gradient, with the reduced axes kept as 1,
/// broadcast back over them; `mask` (max/min) selects the elements that
/// produced the result.
template <typename ReduceOp>
static LogicalResult reduceGradient(ReduceOp op, OpBuilder &builder, Value dy,
                                    SmallVectorImpl<Value> &operandGrads, bool mean, bool mask) {
  init(op, operandGrads);
  if (!dy)
    return success();
  GradBuilder g(builder, op);
  ArrayRef<int64_t> xs = shapeOf(op.getData()), ys = shapeOf(op.getOutput());
  SmallVector<int64_t> kept(xs);
  int64_t count = 1;
  for (int64_t a : op.getReducedAxes(xs.size())) {
    count *= xs[a];
    kept[a] = 1;
  }
  Value dyk = g.reshape(dy, ys, kept);
  if (mean)
    dyk = g.make<DivScalarOp>(dyk, g.f64(count));
  if (!mask) {
    operandGrads[0] = g.make<BroadcastToOp>(dyk, xs);
    return success();
  }
  // MXNet's rule: every element equal to the extreme gets the gradient.
  Value eq = g.make<BroadcastEqualOp>(op.getData(), g.reshape(op.getOutput(), ys, kept));
  operandGrads[0] = g.make<BroadcastMulOp>(eq, dyk);
  return success();
}

LogicalResult SumOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  return reduceGradient(*this, builder, resultGrads[0], operandGrads, false, false);
}
LogicalResult MeanOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  return reduceGradient(*this, builder, resultGrads[0], operandGrads, true, false);
}
LogicalResult MaxOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  return reduceGradient(*this, builder, resultGrads[0], operandGrads, false, true);
}
LogicalResult MinOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  return reduceGradient(*this, builder, resultGrads[0], operandGrads, false, true);
}

//===----------------------------------------------------------------------===//
// Training and gradient ops (GraphGradOps.td)
//===----------------------------------------------------------------------===//

LogicalResult DotOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  Value dc = resultGrads[0];
  if (!dc)
    return success();
  GradBuilder g(builder, *this);
  bool ta = getTransposeA(), tb = getTransposeB();
  // On the matrices MXNet multiplies (N-D operands and vectors reshaped):
  // C = op(A)·op(B): ∂A = dC·op(B)ᵀ (transposed back when A was), ∂B
  // likewise; each case is one dot with the right flags.
  ArrayRef<int64_t> as = shapeOf(getLhs()), bs = shapeOf(getRhs()), cs = shapeOf(getOutput());
  Shape a2 = lhsMatrix(as, ta), b2 = rhsMatrix(bs, tb);
  Shape c2{a2[ta ? 1 : 0], b2[tb ? 0 : 1]};
  Value a = g.reshape(getLhs(), as, a2), b = g.reshape(getRhs(), bs, b2);
  dc = g.reshape(dc, cs, c2);
  Value da, db;
  if (!ta && !tb) {
    da = g.make<DotOp>(dc, b, false, true);
    db = g.make<DotOp>(a, dc, true, false);
  } else if (ta && !tb) {
    da = g.make<DotOp>(b, dc, false, true);
    db = g.make<DotOp>(a, dc, false, false);
  } else if (!ta && tb) {
    da = g.make<DotOp>(dc, b, false, false);
    db = g.make<DotOp>(dc, a, true, false);
  } else {
    da = g.make<DotOp>(b, dc, true, true);
    db = g.make<DotOp>(dc, a, true, true);
  }
  operandGrads[0] = g.reshape(da, a2, as);
  operandGrads[1] = g.reshape(db, b2, bs);
  return success();
}

LogicalResult SliceAxisOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = shapeOf(getData());
  int64_t rank = xs.size();
  int64_t axis = (int64_t)getAxis() < 0 ? (int64_t)getAxis() + rank : (int64_t)getAxis();
  int64_t dim = xs[axis];
  auto [begin, end] = getRange(dim);
  // Zeros around the slice's gradient.
  SmallVector<Value> parts;
  SmallVector<int64_t> pad(xs);
  if (begin > 0) {
    pad[axis] = begin;
    parts.push_back(g.zeros(pad));
  }
  parts.push_back(resultGrads[0]);
  if (end < dim) {
    pad[axis] = dim - end;
    parts.push_back(g.zeros(pad));
  }
  operandGrads[0] = parts.size() == 1 ? parts[0] : g.make<ConcatOp>(parts, axis);
  return success();
}

LogicalResult ZerosOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                     SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  return success();
}

// Random numbers are piecewise constant in their counter: no gradient.
LogicalResult DropoutMaskOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                           SmallVectorImpl<Value> &operandGrads) {
  return noGradient(*this, operandGrads);
}
LogicalResult RandomUniformOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                             SmallVectorImpl<Value> &operandGrads) {
  return noGradient(*this, operandGrads);
}

LogicalResult BatchNormTrainOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &operandGrads) {
  init(*this, operandGrads);
  // The batch statistics feed the moving-statistics updates, which are not
  // differentiated; a loss that reads them would need their own gradient.
  if (resultGrads[1] || resultGrads[2])
    return emitOpError() << "gradient through the batch mean or variance is not supported";
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  batchNormGrad(g, getData(), getGamma(), getMean(), getVar(), resultGrads[0],
                getEps().convertToDouble(), getFixGamma(), /*useGlobalStats=*/false, getAxis(),
                operandGrads);
  return success();
}

#define KILN_NOT_DIFFERENTIABLE(OP)                                                                \
  LogicalResult OP::buildGradient(OpBuilder &, ArrayRef<Value>, SmallVectorImpl<Value> &) {        \
    return notDifferentiable(*this);                                                               \
  }
KILN_NOT_DIFFERENTIABLE(ConvolutionWeightGradOp)
KILN_NOT_DIFFERENTIABLE(PoolingGradOp)
KILN_NOT_DIFFERENTIABLE(ActivationGradOp)
KILN_NOT_DIFFERENTIABLE(BatchNormGradOp)
KILN_NOT_DIFFERENTIABLE(SoftmaxOutputGradOp)
KILN_NOT_DIFFERENTIABLE(RegressionOutputGradOp)
KILN_NOT_DIFFERENTIABLE(SoftmaxGradOp)
KILN_NOT_DIFFERENTIABLE(LeakyReLUGradOp)
KILN_NOT_DIFFERENTIABLE(LRNGradOp)
KILN_NOT_DIFFERENTIABLE(EmbeddingGradOp)
#undef KILN_NOT_DIFFERENTIABLE

//===----------------------------------------------------------------------===//
// GradBuilder and the derivative formulas' graph values
//===----------------------------------------------------------------------===//

LogicalResult kiln::graph::notDifferentiable(Operation *op) {
  return op->emitOpError() << "is not differentiable (Kiln has no second-order gradients)";
}

int64_t kiln::graph::numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

ArrayRef<int64_t> kiln::graph::staticShape(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

LogicalResult kiln::graph::noGradient(Operation *op, SmallVectorImpl<Value> &grads) {
  init(op, grads);
  return success();
}

/// loc("<node>_backward") for a forward op named by a NameLoc, so interpreter
/// and lowering errors in the backward still name the MXNet node.
static Location backwardLoc(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return NameLoc::get(StringAttr::get(op->getContext(), name.getName().str() + "_backward"),
                        name.getChildLoc());
  return op->getLoc();
}

GradBuilder::GradBuilder(OpBuilder &b, Operation *op)
    : b(b), op(op), loc(backwardLoc(op)),
      type(UnrankedTensorType::get(
          cast<TensorType>((op->getNumOperands() ? op->getOperand(0) : op->getResult(0)).getType())
              .getElementType())) {}

Value GradBuilder::reshape(Value v, ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from == to)
    return v;
  return make<ReshapeOp>(v, to, false);
}
Value GradBuilder::neg(Value v) { return make<MulScalarOp>(v, f64(-1)); }
Value GradBuilder::mul(Value a, Value c) { return make<ElemwiseMulOp>(a, c); }
Value GradBuilder::zeros(ArrayRef<int64_t> shape) { return make<ZerosOp>(shape); }
Value GradBuilder::sliceAxis(Value v, int64_t axis, int64_t begin, int64_t end) {
  return make<SliceAxisOp>(v, axis, begin, b.getI64IntegerAttr(end));
}
Value GradBuilder::sum(Value v, ArrayRef<int64_t> axes, bool keepdims) {
  return make<SumOp>(v, array(axes), keepdims, false);
}

Value GradBuilder::sumToShape(Value v, ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  size_t lead = from.size() - to.size();
  SmallVector<int64_t> axes;
  for (size_t d = 0; d < from.size(); ++d)
    if (d < lead || (to[d - lead] == 1 && from[d] != 1))
      axes.push_back(d);
  if (axes.empty())
    return reshape(v, from, to);
  SmallVector<int64_t> kept(from);
  for (int64_t a : axes)
    kept[a] = 1;
  return reshape(sum(v, axes, /*keepdims=*/true), kept, to);
}

GExpr GradBuilder::expr(Value v, Value like) {
  ArrayRef<int64_t> s = staticShape(like);
  return GExpr{this, v, SmallVector<int64_t, 4>(s.begin(), s.end())};
}

namespace kiln::graph::gexpr {
namespace {

SmallVector<int64_t, 4> broadcastShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t, 4> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    int64_t r = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    out[i] = l == 1 ? r : l;
  }
  return out;
}

/// A binary op of two graph values: the same-shape op when the shapes agree,
/// the broadcasting one otherwise.
template <typename SameShapeOp, typename BroadcastOp>
GExpr binary(const GExpr &a, const GExpr &b) {
  GradBuilder *g = a.g;
  if (a.shape == b.shape)
    return {g, g->make<SameShapeOp>(a.value, b.value), a.shape};
  return {g, g->make<BroadcastOp>(a.value, b.value), broadcastShape(a.shape, b.shape)};
}

template <typename ScalarOp> GExpr withScalar(const GExpr &a, double s) {
  return {a.g, a.g->make<ScalarOp>(a.value, a.g->f64(s)), a.shape};
}

template <typename UnaryOp> GExpr unary(const GExpr &x) {
  return {x.g, x.g->make<UnaryOp>(x.value), x.shape};
}

} // namespace

GExpr operator+(const GExpr &a, const GExpr &b) {
  return binary<ElemwiseAddOp, BroadcastAddOp>(a, b);
}
GExpr operator-(const GExpr &a, const GExpr &b) {
  return binary<ElemwiseSubOp, BroadcastSubOp>(a, b);
}
GExpr operator*(const GExpr &a, const GExpr &b) {
  return binary<ElemwiseMulOp, BroadcastMulOp>(a, b);
}
GExpr operator/(const GExpr &a, const GExpr &b) {
  return binary<ElemwiseDivOp, BroadcastDivOp>(a, b);
}
GExpr operator+(const GExpr &a, double b) { return b == 0 ? a : withScalar<PlusScalarOp>(a, b); }
GExpr operator-(const GExpr &a, double b) { return b == 0 ? a : withScalar<MinusScalarOp>(a, b); }
GExpr operator*(const GExpr &a, double b) { return b == 1 ? a : withScalar<MulScalarOp>(a, b); }
GExpr operator/(const GExpr &a, double b) { return b == 1 ? a : withScalar<DivScalarOp>(a, b); }
GExpr operator+(double a, const GExpr &b) { return b + a; }
GExpr operator-(double a, const GExpr &b) { return withScalar<RMinusScalarOp>(b, a); }
GExpr operator*(double a, const GExpr &b) { return b * a; }
GExpr operator/(double a, const GExpr &b) { return withScalar<RDivScalarOp>(b, a); }
GExpr operator-(const GExpr &a) { return unary<NegativeOp>(a); }

GExpr exp(const GExpr &x) { return unary<ExpOp>(x); }
GExpr log(const GExpr &x) { return unary<LogOp>(x); }
GExpr sqrt(const GExpr &x) { return unary<SqrtOp>(x); }
GExpr square(const GExpr &x) { return unary<SquareOp>(x); }
GExpr abs(const GExpr &x) { return unary<AbsOp>(x); }
GExpr sign(const GExpr &x) { return unary<SignOp>(x); }
GExpr floor(const GExpr &x) { return unary<FloorOp>(x); }
GExpr sin(const GExpr &x) { return unary<SinOp>(x); }
GExpr cos(const GExpr &x) { return unary<CosOp>(x); }
GExpr sinh(const GExpr &x) { return unary<SinhOp>(x); }
GExpr cosh(const GExpr &x) { return unary<CoshOp>(x); }
GExpr digamma(const GExpr &x) { return unary<DigammaOp>(x); }
GExpr pow(const GExpr &a, const GExpr &b) { return binary<PowerOp, BroadcastPowerOp>(a, b); }
GExpr pow(const GExpr &a, double b) { return withScalar<PowerScalarOp>(a, b); }
GExpr pow(double a, const GExpr &b) { return withScalar<RPowerScalarOp>(b, a); }
GExpr gt(const GExpr &a, const GExpr &b) { return binary<GreaterOp, BroadcastGreaterOp>(a, b); }
GExpr ge(const GExpr &a, const GExpr &b) {
  return binary<GreaterEqualOp, BroadcastGreaterEqualOp>(a, b);
}
GExpr lt(const GExpr &a, const GExpr &b) { return binary<LesserOp, BroadcastLesserOp>(a, b); }
GExpr le(const GExpr &a, const GExpr &b) {
  return binary<LesserEqualOp, BroadcastLesserEqualOp>(a, b);
}
GExpr gt(const GExpr &a, double b) { return withScalar<GreaterScalarOp>(a, b); }
GExpr ge(const GExpr &a, double b) { return withScalar<GreaterEqualScalarOp>(a, b); }
GExpr lt(const GExpr &a, double b) { return withScalar<LesserScalarOp>(a, b); }
GExpr le(const GExpr &a, double b) { return withScalar<LesserEqualScalarOp>(a, b); }
GExpr gt(double a, const GExpr &b) { return lt(b, a); }
GExpr ge(double a, const GExpr &b) { return le(b, a); }
GExpr lt(double a, const GExpr &b) { return gt(b, a); }
GExpr le(double a, const GExpr &b) { return ge(b, a); }
GExpr cast(const GExpr &x, DType dtype) {
  if (dtype == DType::float32 || dtype == DType::float64)
    return x;
  return {x.g, x.g->make<CastOp>(x.value, dtype), x.shape};
}

} // namespace kiln::graph::gexpr
