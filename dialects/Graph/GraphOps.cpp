//===- GraphOps.cpp - Kiln graph dialect op definitions -------------------===//
//
// Op verifiers, attribute helpers and in-place hints. Shape rules live in
// ShapeInference.cpp and are shared by the verifier and the inference pass:
// each verifier checks the attribute constraints that need no shapes, then
// calls verifyShapes, which runs the op's shape rule once every operand has a
// static shape.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOpsImpl.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Expands an MXNet tuple attribute that is either empty (the default in
/// every dimension) or one entry per kernel dimension. Sizes are checked by
/// the verifier; a wrongly sized tuple still yields `n` entries so shape rules
/// called on unverified IR cannot read out of bounds.
static SmallVector<int64_t> expand(ArrayRef<int64_t> values, size_t n, int64_t dflt) {
  SmallVector<int64_t> out(n, dflt);
  if (values.size() == n)
    llvm::copy(values, out.begin());
  return out;
}

/// Checks that `values` is empty or has one entry per kernel dimension, each
/// at least `min`.
static LogicalResult checkTuple(Operation *op, StringRef name, ArrayRef<int64_t> values,
                                size_t kernelRank, int64_t min) {
  if (!values.empty() && values.size() != kernelRank)
    return op->emitOpError() << name << " has " << values.size()
                             << " entries but kernel has " << kernelRank;
  for (int64_t v : values)
    if (v < min)
      return op->emitOpError() << name << " entries must be "
                               << (min == 0 ? "non-negative" : "positive") << ", got "
                               << v;
  return success();
}

static LogicalResult checkKernel(Operation *op, ArrayRef<int64_t> kernel) {
  if (kernel.empty() || kernel.size() > 3)
    return op->emitOpError() << "kernel must have 1, 2 or 3 entries, got "
                             << kernel.size();
  for (int64_t k : kernel)
    if (k <= 0)
      return op->emitOpError() << "kernel entries must be positive, got " << k;
  return success();
}

static LogicalResult checkPositive(Operation *op, StringRef name, int64_t v) {
  if (v <= 0)
    return op->emitOpError() << name << " must be positive, got " << v;
  return success();
}

/// Shared checks of Convolution and Deconvolution.
template <typename ConvOp>
static LogicalResult verifyConvAttrs(ConvOp op) {
  Operation *o = op.getOperation();
  ArrayRef<int64_t> kernel = op.getKernel();
  if (failed(checkKernel(o, kernel)) ||
      failed(checkTuple(o, "stride", op.getStride(), kernel.size(), 1)) ||
      failed(checkTuple(o, "dilate", op.getDilate(), kernel.size(), 1)) ||
      failed(checkTuple(o, "pad", op.getPad(), kernel.size(), 0)) ||
      failed(checkPositive(o, "num_filter", op.getNumFilter())) ||
      failed(checkPositive(o, "num_group", op.getNumGroup())))
    return failure();
  if (op.getNumFilter() % op.getNumGroup() != 0)
    return op.emitOpError() << "num_group (" << op.getNumGroup()
                            << ") must divide num_filter (" << op.getNumFilter() << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// Neural-network layers
//===----------------------------------------------------------------------===//

LogicalResult FullyConnectedOp::verify() {
  if (failed(checkPositive(*this, "num_hidden", getNumHidden())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ConvolutionOp::verify() {
  if (failed(verifyConvAttrs(*this)))
    return failure();
  return verifyShapes(*this);
}

SmallVector<int64_t> ConvolutionOp::getStrides() {
  return expand(getStride(), getKernel().size(), 1);
}
SmallVector<int64_t> ConvolutionOp::getDilations() {
  return expand(getDilate(), getKernel().size(), 1);
}
SmallVector<int64_t> ConvolutionOp::getPads() {
  return expand(getPad(), getKernel().size(), 0);
}

LogicalResult DeconvolutionOp::verify() {
  if (failed(verifyConvAttrs(*this)))
    return failure();
  size_t n = getKernel().size();
  if (failed(checkTuple(*this, "adj", getAdj(), n, 0)) ||
      failed(checkTuple(*this, "target_shape", getTargetShape(), n, 1)))
    return failure();
  // MXNet: an output adjustment of a whole stride would be another input row.
  SmallVector<int64_t> strides = getStrides();
  for (auto [i, a] : llvm::enumerate(getAdj()))
    if (a >= strides[i])
      return emitOpError() << "adj[" << i << "] (" << a << ") must be smaller than stride["
                           << i << "] (" << strides[i] << ")";
  return verifyShapes(*this);
}

SmallVector<int64_t> DeconvolutionOp::getStrides() {
  return expand(getStride(), getKernel().size(), 1);
}
SmallVector<int64_t> DeconvolutionOp::getDilations() {
  return expand(getDilate(), getKernel().size(), 1);
}

/// MXNet's DeconvolutionParam::InferPad: with target_shape, the total crop
/// s(x−1) + d(k−1) + 1 − target is split into pad = ⌈crop/2⌉ on both sides and
/// adj = crop mod 2, so the output is exactly target_shape.
static void deconvPadAdj(DeconvolutionOp op, ArrayRef<int64_t> input,
                         SmallVectorImpl<int64_t> &pads, SmallVectorImpl<int64_t> &adjs) {
  size_t n = op.getKernel().size();
  ArrayRef<int64_t> target = op.getTargetShape();
  if (target.size() != n || input.size() != n) {
    pads.assign(expand(op.getPad(), n, 0));
    adjs.assign(expand(op.getAdj(), n, 0));
    return;
  }
  SmallVector<int64_t> s = op.getStrides(), d = op.getDilations();
  ArrayRef<int64_t> k = op.getKernel();
  pads.clear();
  adjs.clear();
  for (size_t i = 0; i < n; ++i) {
    int64_t crop = s[i] * (input[i] - 1) + d[i] * (k[i] - 1) + 1 - target[i];
    adjs.push_back(crop % 2);
    pads.push_back((crop + 1) / 2);
  }
}

SmallVector<int64_t> DeconvolutionOp::getPads(ArrayRef<int64_t> inputSpatial) {
  SmallVector<int64_t> pads, adjs;
  deconvPadAdj(*this, inputSpatial, pads, adjs);
  return pads;
}
SmallVector<int64_t> DeconvolutionOp::getAdjs(ArrayRef<int64_t> inputSpatial) {
  SmallVector<int64_t> pads, adjs;
  deconvPadAdj(*this, inputSpatial, pads, adjs);
  return adjs;
}

LogicalResult PoolingOp::verify() {
  ArrayRef<int64_t> kernel = getKernel();
  if (kernel.empty() && !getGlobalPool())
    return emitOpError() << "kernel must be set unless global_pool";
  if (!kernel.empty() && failed(checkKernel(*this, kernel)))
    return failure();
  if (failed(checkTuple(*this, "stride", getStride(), kernel.size(), 1)) ||
      failed(checkTuple(*this, "pad", getPad(), kernel.size(), 0)))
    return failure();
  if (getPoolType() == PoolType::lp && (int64_t)getPValue() <= 0)
    return emitOpError() << "p_value must be positive, got " << (int64_t)getPValue();
  return verifyShapes(*this);
}

SmallVector<int64_t> PoolingOp::getStrides() {
  return expand(getStride(), getKernel().size(), 1);
}
SmallVector<int64_t> PoolingOp::getPads() { return expand(getPad(), getKernel().size(), 0); }


LogicalResult LeakyReLUOp::verify() {
  bool prelu = getActType() == LeakyActType::prelu;
  if (prelu && !getGamma())
    return emitOpError() << "act_type prelu needs a gamma operand";
  if (!prelu && getGamma())
    return emitOpError() << "gamma is only taken by act_type prelu";
  if (getActType() == LeakyActType::rrelu &&
      getLowerBound().convertToDouble() > getUpperBound().convertToDouble())
    return emitOpError() << "lower_bound must not exceed upper_bound";
  return verifyShapes(*this);
}

/// BatchNorm's and SyncBatchNorm's checks.
template <typename BatchNormLike> static LogicalResult verifyBatchNorm(BatchNormLike op) {
  if (!(op.getEps().convertToDouble() > 0))
    return op.emitOpError() << "eps must be positive";
  return verifyShapes(op);
}

LogicalResult BatchNormOp::verify() { return verifyBatchNorm(*this); }

LogicalResult SyncBatchNormOp::verify() {
  if (static_cast<int64_t>(getNdev()) < 1)
    return emitOpError() << "ndev must be positive, got " << static_cast<int64_t>(getNdev());
  return verifyBatchNorm(*this);
}

LogicalResult LRNOp::verify() {
  // I64Attr getters are unsigned; read the value as MXNet's signed int.
  int64_t nsize = getNsize();
  if (nsize <= 0 || nsize % 2 == 0)
    return emitOpError() << "nsize must be odd and positive, got " << nsize;
  return verifyShapes(*this);
}


LogicalResult DropoutOp::verify() {
  double p = getP().convertToDouble();
  // p = 1 would scale the survivors by 1/0.
  if (!(p >= 0 && p < 1))
    return emitOpError() << "p must be in [0, 1), got " << p;
  return verifyShapes(*this);
}

LogicalResult EmbeddingOp::verify() {
  if (failed(checkPositive(*this, "input_dim", getInputDim())) ||
      failed(checkPositive(*this, "output_dim", getOutputDim())))
    return failure();
  return verifyShapes(*this);
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOutputOp::verify() {
  double alpha = getSmoothAlpha().convertToDouble();
  if (!(alpha >= 0 && alpha < 1))
    return emitOpError() << "smooth_alpha must be in [0, 1), got " << alpha;
  return verifyShapes(*this);
}


template <typename SoftmaxLikeOp>
static LogicalResult verifySoftmaxLike(SoftmaxLikeOp op) {
  if (auto t = op.getTemperature(); t && t->isZero())
    return op.emitOpError() << "temperature must be nonzero";
  return verifyShapes(op);
}
LogicalResult SoftmaxOp::verify() {
  if (getUseLength() != bool(getLength()))
    return emitOpError() << (getUseLength() ? "use_length needs the operand 'length'"
                                            : "takes the operand 'length' only with use_length");
  return verifySoftmaxLike(*this);
}
LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxLike(*this); }
LogicalResult SoftminOp::verify() { return verifySoftmaxLike(*this); }

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//


LogicalResult ReshapeOp::verify() {
  ArrayRef<int64_t> shape = getShape();
  if (shape.empty())
    return emitOpError() << "reshape: shape must not be empty";
  int inferred = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t c = shape[i];
    if (c < -4)
      return emitOpError() << "reshape: invalid code " << c << " in shape";
    if (c == -1)
      ++inferred;
    if (c != -4)
      continue;
    if (i + 2 >= shape.size())
      return emitOpError() << "reshape: -4 must be followed by two dimensions";
    int64_t d1 = shape[i + 1], d2 = shape[i + 2];
    for (int64_t d : {d1, d2})
      if (d != -1 && d <= 0)
        return emitOpError() << "reshape: the dimensions after -4 must be positive or -1, got "
                             << d;
    if (d1 == -1 && d2 == -1)
      return emitOpError() << "reshape: split dims cannot both be -1";
    i += 2;
  }
  if (inferred > 1)
    return emitOpError() << "reshape: more than one -1 in shape";
  return verifyShapes(*this);
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> axes = getAxes();
  SmallVector<bool> seen(axes.size(), false);
  for (int64_t a : axes) {
    if (a < 0 || a >= (int64_t)axes.size() || seen[a])
      return emitOpError() << "transpose axes must be a permutation of [0, rank)";
    seen[a] = true;
  }
  return verifyShapes(*this);
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "concat needs at least one input";
  return verifyShapes(*this);
}

LogicalResult SplitOp::verify() {
  if (failed(checkPositive(*this, "num_outputs", getNumOutputs())))
    return failure();
  if ((int64_t)getNumResults() != getNumOutputs())
    return emitOpError() << "has " << getNumResults() << " results but num_outputs is "
                         << getNumOutputs();
  return verifyShapes(*this);
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//


LogicalResult AddNOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "add_n needs at least one input";
  return verifyShapes(*this);
}

LogicalResult BroadcastToOp::verify() {
  for (int64_t d : getShape())
    if (d < 0)
      return emitOpError() << "broadcast_to: shape entries must be non-negative, got " << d;
  return verifyShapes(*this);
}

SmallVector<int64_t> kiln::graph::reducedAxes(std::optional<ArrayRef<int64_t>> axis, bool exclude,
                                              int64_t rank) {
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  if (!axis || axis->empty())
    return all;
  SmallVector<bool> listed(rank, false);
  for (int64_t a : *axis) {
    int64_t n = a < 0 ? a + rank : a;
    if (n >= 0 && n < rank)
      listed[n] = true;
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < rank; ++i)
    if (listed[i] != exclude)
      out.push_back(i);
  return out;
}

//===----------------------------------------------------------------------===//
// Training and gradient ops (GraphGradOps.td)
//===----------------------------------------------------------------------===//


LogicalResult BatchNormTrainOp::verify() {
  if (!(getEps().convertToDouble() > 0))
    return emitOpError() << "eps must be positive";
  return verifyShapes(*this);
}

LogicalResult ConvolutionWeightGradOp::verify() {
  ArrayRef<int64_t> kernel = getKernel();
  if (failed(checkKernel(*this, kernel)) ||
      failed(checkTuple(*this, "stride", getStride(), kernel.size(), 1)) ||
      failed(checkTuple(*this, "dilate", getDilate(), kernel.size(), 1)) ||
      failed(checkTuple(*this, "pad", getPad(), kernel.size(), 0)) ||
      failed(checkPositive(*this, "num_group", getNumGroup())))
    return failure();
  return verifyShapes(*this);
}
SmallVector<int64_t> ConvolutionWeightGradOp::getStrides() {
  return expand(getStride(), getKernel().size(), 1);
}
SmallVector<int64_t> ConvolutionWeightGradOp::getDilations() {
  return expand(getDilate(), getKernel().size(), 1);
}
SmallVector<int64_t> ConvolutionWeightGradOp::getPads() {
  return expand(getPad(), getKernel().size(), 0);
}

LogicalResult PoolingGradOp::verify() {
  ArrayRef<int64_t> kernel = getKernel();
  if (kernel.empty() && !getGlobalPool())
    return emitOpError() << "kernel must be set unless global_pool";
  if (!kernel.empty() && failed(checkKernel(*this, kernel)))
    return failure();
  if (failed(checkTuple(*this, "stride", getStride(), kernel.size(), 1)) ||
      failed(checkTuple(*this, "pad", getPad(), kernel.size(), 0)))
    return failure();
  if (getPoolType() == PoolType::lp && (int64_t)getPValue() <= 0)
    return emitOpError() << "p_value must be positive, got " << (int64_t)getPValue();
  return verifyShapes(*this);
}
SmallVector<int64_t> PoolingGradOp::getStrides() {
  return expand(getStride(), getKernel().size(), 1);
}
SmallVector<int64_t> PoolingGradOp::getPads() { return expand(getPad(), getKernel().size(), 0); }


LogicalResult BatchNormGradOp::verify() {
  if (!(getEps().convertToDouble() > 0))
    return emitOpError() << "eps must be positive";
  return verifyShapes(*this);
}

LogicalResult SoftmaxOutputGradOp::verify() {
  double alpha = getSmoothAlpha().convertToDouble();
  if (!(alpha >= 0 && alpha < 1))
    return emitOpError() << "smooth_alpha must be in [0, 1), got " << alpha;
  return verifyShapes(*this);
}


LogicalResult SoftmaxGradOp::verify() {
  if (auto t = getTemperature(); t && t->isZero())
    return emitOpError() << "temperature must be nonzero";
  return verifyShapes(*this);
}

LogicalResult ZerosOp::verify() {
  // MXNet's legacy shape () is an unknown shape, not a scalar.
  if (getShape().empty())
    return emitOpError() << "shape must not be empty";
  for (int64_t d : getShape())
    if (d < 0)
      return emitOpError() << "shape entries must be non-negative, got " << d;
  return verifyShapes(*this);
}


/// The static `shape` of the random ops: non-negative entries.
static LogicalResult checkStaticShape(Operation *op, ArrayRef<int64_t> shape) {
  for (int64_t d : shape)
    if (d < 0)
      return op->emitOpError() << "shape entries must be non-negative, got " << d;
  return success();
}

LogicalResult DropoutMaskOp::verify() {
  double p = getP().convertToDouble();
  // p = 1 would scale the survivors by 1/0, as in Dropout.
  if (!(p >= 0 && p < 1))
    return emitOpError() << "p must be in [0, 1), got " << p;
  if (failed(checkStaticShape(*this, getShape())))
    return failure();
  int64_t rank = getShape().size();
  for (int64_t a : getAxes())
    if (a < -rank || a >= rank)
      return emitOpError() << "axes entry " << a << " out of range for shape "
                           << formatShape(getShape());
  return verifyShapes(*this);
}

LogicalResult RandomUniformOp::verify() {
  if (!(getLow().convertToDouble() <= getHigh().convertToDouble()))
    return emitOpError() << "low must not exceed high";
  if (failed(checkStaticShape(*this, getShape())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult LeakyReLUGradOp::verify() {
  bool prelu = getActType() == LeakyActType::prelu;
  if (prelu && !getGamma())
    return emitOpError() << "act_type prelu needs a gamma operand";
  if (!prelu && getGamma())
    return emitOpError() << "gamma is only taken by act_type prelu";
  return verifyShapes(*this);
}

LogicalResult LRNGradOp::verify() {
  int64_t nsize = getNsize();
  if (nsize <= 0 || nsize % 2 == 0)
    return emitOpError() << "nsize must be odd and positive, got " << nsize;
  return verifyShapes(*this);
}

LogicalResult EmbeddingGradOp::verify() {
  if (failed(checkPositive(*this, "input_dim", getInputDim())) ||
      failed(checkPositive(*this, "output_dim", getOutputDim())))
    return failure();
  return verifyShapes(*this);
}
