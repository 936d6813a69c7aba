//===- RNNOps.cpp - Graph dialect: recurrent layers ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphRNNOps.td, and
// RNNLayout, MXNet's packing of the RNN parameter vector.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphRNNOps.h"
#include "Graph/GraphOpsImpl.h"

#include <type_traits>

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphRNNOps.cpp.inc"

//===----------------------------------------------------------------------===//
// RNNLayout
//===----------------------------------------------------------------------===//

int64_t RNNLayout::gates() const {
  switch (mode) {
  case RNNMode::rnn_relu:
  case RNNMode::rnn_tanh:
    return 1;
  case RNNMode::gru:
    return 3;
  case RNNMode::lstm:
    return 4;
  }
  llvm_unreachable("RNN mode");
}

// MXNet's order (rnn_impl.h): every layer's and direction's [Wx, Wh, Whr]
// back to back, then every [bx, bh] in the same order.
RNNLayout::Blocks RNNLayout::blocks(int64_t layer, int64_t dir) const {
  int64_t rows = gateRows();
  int64_t weights = 0;
  auto weightSize = [&](int64_t l) {
    return rows * (layerInput(l) + recurrent()) + projection * hidden;
  };
  for (int64_t l = 0; l < layer; ++l)
    weights += dirs * weightSize(l);
  weights += dir * weightSize(layer);
  int64_t allWeights = 0;
  for (int64_t l = 0; l < layers; ++l)
    allWeights += dirs * weightSize(l);
  Blocks b;
  b.wx = weights;
  b.wh = b.wx + rows * layerInput(layer);
  b.whr = b.wh + rows * recurrent();
  b.bx = allWeights + (layer * dirs + dir) * 2 * rows;
  b.bh = b.bx + rows;
  return b;
}

int64_t RNNLayout::paramSize() const {
  int64_t size = 0;
  for (int64_t l = 0; l < layers; ++l)
    size += dirs * (gateRows() * (layerInput(l) + recurrent() + 2) + projection * hidden);
  return size;
}

//===----------------------------------------------------------------------===//
// Operand accessors
//===----------------------------------------------------------------------===//

namespace {

/// Where the optional operands of the RNN ops lie in `extra`: state_cell
/// (lstm) first, then sequence_length, then the training-mode dropout mask,
/// then (rnn_grad) the result gradients. Whether the mask is there follows
/// from the operand count.
struct ExtraOperands {
  bool lstm, withLength;
  bool mask = false;
  unsigned cell() const { return 0; }
  unsigned length() const { return lstm ? 1 : 0; }
  /// MXNet's operands after the first three.
  unsigned mxnetCount() const { return (lstm ? 1 : 0) + (withLength ? 1 : 0); }
  unsigned maskIndex() const { return mxnetCount(); }
  unsigned firstGrad() const { return mxnetCount() + (mask ? 1 : 0); }
  /// dy, dhy and (lstm) dcy.
  unsigned gradCount() const { return lstm ? 3 : 2; }
};

template <typename OpT> ExtraOperands extraOf(OpT op) {
  ExtraOperands e{op.getMode() == RNNMode::lstm, op.getUseSequenceLength()};
  unsigned grads = std::is_same_v<OpT, RNNGradOp> ? e.gradCount() : 0;
  e.mask = op.getExtra().size() == e.mxnetCount() + 1 + grads;
  return e;
}

Value extraAt(OperandRange extra, unsigned i) {
  return i < extra.size() ? extra[i] : Value();
}

} // namespace

Value RNNOp::getStateCell() {
  ExtraOperands e = extraOf(*this);
  return e.lstm ? extraAt(getExtra(), e.cell()) : Value();
}
Value RNNOp::getSequenceLength() {
  ExtraOperands e = extraOf(*this);
  return e.withLength ? extraAt(getExtra(), e.length()) : Value();
}
Value RNNOp::getDropoutMask() {
  ExtraOperands e = extraOf(*this);
  return e.mask ? extraAt(getExtra(), e.maskIndex()) : Value();
}
Value RNNOp::getStateOutput() { return getStates().empty() ? Value() : getStates()[0]; }
Value RNNOp::getStateCellOutput() {
  return getStates().size() > 1 ? getStates()[1] : Value();
}

Value RNNGradOp::getStateCell() {
  ExtraOperands e = extraOf(*this);
  return e.lstm ? extraAt(getExtra(), e.cell()) : Value();
}
Value RNNGradOp::getSequenceLength() {
  ExtraOperands e = extraOf(*this);
  return e.withLength ? extraAt(getExtra(), e.length()) : Value();
}
Value RNNGradOp::getDropoutMask() {
  ExtraOperands e = extraOf(*this);
  return e.mask ? extraAt(getExtra(), e.maskIndex()) : Value();
}
Value RNNGradOp::getOutputGrad() { return extraAt(getExtra(), extraOf(*this).firstGrad()); }
Value RNNGradOp::getStateOutputGrad() {
  return extraAt(getExtra(), extraOf(*this).firstGrad() + 1);
}
Value RNNGradOp::getStateCellOutputGrad() {
  ExtraOperands e = extraOf(*this);
  return e.lstm ? extraAt(getExtra(), e.firstGrad() + 2) : Value();
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

namespace {

const char *modeName(RNNMode m) { return stringifyRNNMode(m).data(); }

/// The attribute checks both RNN ops share.
template <typename OpT> LogicalResult verifyCommonAttrs(OpT op) {
  auto stateSize = static_cast<int64_t>(op.getStateSize());
  auto numLayers = static_cast<int64_t>(op.getNumLayers());
  if (stateSize <= 0)
    return op.emitOpError() << "state_size must be positive, got " << stateSize;
  if (numLayers <= 0)
    return op.emitOpError() << "num_layers must be positive, got " << numLayers;
  double p = op.getP().convertToDouble();
  if (!(p >= 0 && p < 1))
    return op.emitOpError() << "p (the dropout rate between layers) must be in [0, 1), got "
                            << p;
  if (std::optional<uint64_t> proj = op.getProjectionSize()) {
    if (op.getMode() != RNNMode::lstm)
      return op.emitOpError() << "projection_size is supported only for lstm, not "
                              << modeName(op.getMode());
    if (static_cast<int64_t>(*proj) <= 0)
      return op.emitOpError() << "projection_size must be positive, got "
                              << static_cast<int64_t>(*proj);
  }
  return success();
}

/// A dropout mask belongs to a dropout between layers.
template <typename OpT> LogicalResult verifyMask(OpT op, const ExtraOperands &e) {
  if (e.mask && (op.getP().isZero() || op.getNumLayers() < 2))
    return op.emitOpError() << "has a dropout_mask operand but no dropout between layers "
                               "(p = 0 or a single layer)";
  return success();
}

} // namespace

LogicalResult RNNOp::verify() {
  if (failed(verifyCommonAttrs(*this)))
    return failure();
  if (getLstmStateClipMin() || getLstmStateClipMax())
    return emitOpError() << "lstm_state_clip_min/lstm_state_clip_max are not supported "
                            "(MXNet 1.9.1 clips LSTM states only with cuDNN on a GPU; its CPU "
                            "operator refuses them too)";
  ExtraOperands e = extraOf(*this);
  if (getExtra().size() != e.mxnetCount() && !e.mask)
    return emitOpError() << "mode " << modeName(getMode())
                         << (getUseSequenceLength() ? " with" : " without")
                         << " use_sequence_length takes " << 3 + e.mxnetCount()
                         << " operands (data, parameters, state"
                         << (e.lstm ? ", state_cell" : "")
                         << (e.withLength ? ", sequence_length" : "")
                         << ") and a dropout_mask in training mode, got " << getNumOperands();
  if (failed(verifyMask(*this, e)))
    return failure();
  unsigned results = 1 + (getStateOutputs() ? (e.lstm ? 2 : 1) : 0);
  if (getNumResults() != results)
    return emitOpError() << "mode " << modeName(getMode())
                         << (getStateOutputs() ? " with" : " without") << " state_outputs has "
                         << results << " result" << (results == 1 ? "" : "s") << ", got "
                         << getNumResults();
  return verifyShapes(*this);
}

LogicalResult RNNGradOp::verify() {
  if (failed(verifyCommonAttrs(*this)))
    return failure();
  ExtraOperands e = extraOf(*this);
  unsigned want = e.mxnetCount() + e.gradCount();
  if (getExtra().size() != want && !e.mask)
    return emitOpError() << "mode " << modeName(getMode())
                         << (getUseSequenceLength() ? " with" : " without")
                         << " use_sequence_length takes " << 3 + want
                         << " operands and a dropout_mask in training mode, got "
                         << getNumOperands();
  if (failed(verifyMask(*this, e)))
    return failure();
  unsigned results = e.lstm ? 4 : 3;
  if (getNumResults() != results)
    return emitOpError() << "mode " << modeName(getMode()) << " has " << results
                         << " results, got " << getNumResults();
  return verifyShapes(*this);
}

LogicalResult RNNParamConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  return verifyShapes(*this);
}

//===----------------------------------------------------------------------===//
// Shape rules
//===----------------------------------------------------------------------===//

namespace {

/// MXNet's SHAPE_ASSIGN_CHECK on operand `idx`: record the implied shape of
/// an unknown operand, or check a known one.
LogicalResult assignOperand(Operation *op, ShapeInferenceState &state, unsigned idx,
                            StringRef name, ArrayRef<int64_t> shape) {
  std::optional<Shape> &slot = state.operands[idx];
  if (!slot) {
    slot = Shape(shape.begin(), shape.end());
    return success();
  }
  if (ArrayRef<int64_t>(*slot) == shape)
    return success();
  return op->emitOpError() << "operand '" << name << "' has shape " << formatShape(*slot)
                           << " but the RNN's attributes and data shape give "
                           << formatShape(shape);
}

/// MXNet's RNNShape, shared by graph.rnn and graph.rnn_grad (whose extra
/// operands also hold the result gradients, shaped like the results).
template <typename OpT>
FailureOr<RNNLayout> inferRNNOperands(OpT op, ShapeInferenceState &state) {
  Operation *o = op.getOperation();
  state.operands.resize(o->getNumOperands());
  state.results.clear();
  if (!state.operands[0])
    return o->emitOpError() << "cannot infer the shape of operand 'data'", failure();
  const Shape &data = *state.operands[0];
  if (data.size() != 3)
    return o->emitOpError() << "data must have rank 3 (sequence length, batch, input size), "
                               "got shape "
                            << formatShape(data),
           failure();
  RNNLayout l = rnnLayout(op, data);
  int64_t ld = l.layers * l.dirs;
  if (failed(assignOperand(o, state, 1, "parameters", {l.paramSize()})) ||
      failed(assignOperand(o, state, 2, "state", {ld, l.batch, l.recurrent()})))
    return failure();
  ExtraOperands e = extraOf(op);
  unsigned base = 3;
  if (e.lstm && o->getNumOperands() > base + e.cell() &&
      failed(assignOperand(o, state, base + e.cell(), "state_cell", {ld, l.batch, l.hidden})))
    return failure();
  if (e.withLength && o->getNumOperands() > base + e.length() &&
      failed(assignOperand(o, state, base + e.length(), "sequence_length", {l.batch})))
    return failure();
  if (e.mask && failed(assignOperand(o, state, base + e.maskIndex(), "dropout_mask",
                                     {l.layers - 1, l.seqLen, l.batch, l.dirs * l.recurrent()})))
    return failure();
  return l;
}

} // namespace

LogicalResult RNNOp::inferShapes(ShapeInferenceState &state) {
  FailureOr<RNNLayout> l = inferRNNOperands(*this, state);
  if (failed(l))
    return failure();
  int64_t ld = l->layers * l->dirs;
  state.results.push_back({l->seqLen, l->batch, l->dirs * l->recurrent()});
  if (getStateOutputs()) {
    state.results.push_back({ld, l->batch, l->recurrent()});
    if (getMode() == RNNMode::lstm)
      state.results.push_back({ld, l->batch, l->hidden});
  }
  return success();
}

LogicalResult RNNGradOp::inferShapes(ShapeInferenceState &state) {
  FailureOr<RNNLayout> l = inferRNNOperands(*this, state);
  if (failed(l))
    return failure();
  int64_t ld = l->layers * l->dirs;
  ExtraOperands e = extraOf(*this);
  unsigned g = 3 + e.firstGrad();
  Operation *o = getOperation();
  auto grad = [&](unsigned k, StringRef name, ArrayRef<int64_t> shape) {
    return o->getNumOperands() <= g + k ? success()
                                        : assignOperand(o, state, g + k, name, shape);
  };
  if (failed(grad(0, "output gradient", {l->seqLen, l->batch, l->dirs * l->recurrent()})) ||
      failed(grad(1, "state output gradient", {ld, l->batch, l->recurrent()})) ||
      (e.lstm && failed(grad(2, "state cell output gradient", {ld, l->batch, l->hidden}))))
    return failure();
  state.results.push_back({l->seqLen, l->batch, l->input});
  state.results.push_back({l->paramSize()});
  state.results.push_back({ld, l->batch, l->recurrent()});
  if (e.lstm)
    state.results.push_back({ld, l->batch, l->hidden});
  return success();
}

// Concat's rule (MXNet's RNNParamConcatShape agrees whenever every input is
// known, which Kiln requires).
LogicalResult RNNParamConcatOp::inferShapes(ShapeInferenceState &state) {
  unsigned n = getNumOperands();
  state.operands.resize(n);
  state.results.clear();
  if (n == 0)
    return emitOpError() << "needs at least one input";
  for (unsigned i = 0; i < n; ++i)
    if (!state.operands[i])
      return emitOpError() << "cannot infer the shape of operand 'inputs #" << i << "'";
  const Shape &first = *state.operands[0];
  int64_t rank = first.size();
  int64_t dim = static_cast<int64_t>(getDim());
  if (dim < 0)
    dim += rank;
  if (dim < 0 || dim >= rank)
    return emitOpError() << "dim " << static_cast<int64_t>(getDim()) << " out of range for rank-" << rank << " input";
  Shape out = first;
  for (unsigned i = 1; i < n; ++i) {
    const Shape &s = *state.operands[i];
    bool ok = (int64_t)s.size() == rank;
    for (int64_t j = 0; ok && j < rank; ++j)
      ok = j == dim || s[j] == out[j];
    if (!ok)
      return emitOpError() << "operand 'inputs #" << i << "' has shape " << formatShape(s)
                           << ", which does not match " << formatShape(first) << " outside dim "
                           << dim;
    out[dim] += s[dim];
  }
  state.results.push_back(out);
  return success();
}

//===----------------------------------------------------------------------===//
// Gradient rules
//===----------------------------------------------------------------------===//

LogicalResult RNNOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  if (llvm::all_of(resultGrads, [](Value v) { return !v; }))
    return success();
  if (getProjectionSize())
    return emitOpError() << "with projection_size has no gradient (MXNet 1.9.1 has none on the "
                            "CPU either)";
  GradBuilder g(builder, *this);
  // A result nobody differentiates (or that the forward does not return:
  // state_outputs false) contributes a zero gradient.
  auto gradOr = [&](unsigned i, Value like) -> Value {
    if (i < resultGrads.size() && resultGrads[i])
      return resultGrads[i];
    return g.zeros(staticShape(like));
  };
  bool lstm = getMode() == RNNMode::lstm;
  SmallVector<Value> operands{getData(), getParameters(), getState()};
  if (Value c = getStateCell())
    operands.push_back(c);
  if (Value len = getSequenceLength())
    operands.push_back(len);
  // Without a mask (not in training mode) there is no dropout to undo.
  if (Value mask = getDropoutMask())
    operands.push_back(mask);
  operands.push_back(gradOr(0, getOutput()));
  operands.push_back(gradOr(1, getState()));
  if (lstm)
    operands.push_back(gradOr(2, getStateCell()));
  SmallVector<NamedAttribute> attrs;
  for (NamedAttribute a : (*this)->getAttrs())
    if (llvm::is_contained(RNNGradOp::getAttributeNames(), a.getName().getValue()))
      attrs.push_back(a);
  SmallVector<Type> types(lstm ? 4 : 3, g.type);
  auto grad = RNNGradOp::create(builder, g.loc, types, operands, attrs);
  operandGrads[0] = grad.getDataGrad();
  operandGrads[1] = grad.getParametersGrad();
  operandGrads[2] = grad.getStateGrad();
  if (lstm)
    operandGrads[3] = grad.getStateCellGrad()[0];
  // sequence_length holds integers and the mask is constant: no gradient.
  return success();
}

//===----------------------------------------------------------------------===//
// Training mode
//===----------------------------------------------------------------------===//

// Dropout between layers: one mask element per element of every layer's
// output but the last's, drawn like Dropout's (graph.dropout_mask).
LogicalResult RNNOp::rewriteForTraining(OpBuilder &builder, function_ref<Value()> counter,
                                        function_ref<uint64_t()> nextSeed) {
  if (getP().isZero() || getNumLayers() < 2 || getDropoutMask())
    return success();
  auto out = dyn_cast<RankedTensorType>(getOutput().getType());
  if (!out || !out.hasStaticShape())
    return emitOpError() << "needs a static output shape in training mode (its dropout masks "
                            "are drawn per element); run kiln-graph-infer-shapes first";
  SmallVector<int64_t> shape{static_cast<int64_t>(getNumLayers()) - 1};
  shape.append(out.getShape().begin(), out.getShape().end());
  Value mask = DropoutMaskOp::create(
      builder, getLoc(), RankedTensorType::get(shape, out.getElementType()), counter(),
      getPAttr(), builder.getI64IntegerAttr(static_cast<int64_t>(nextSeed())),
      builder.getDenseI64ArrayAttr(shape), builder.getDenseI64ArrayAttr({}));
  getOperation()->insertOperands(getNumOperands(), mask);
  return success();
}

LogicalResult RNNGradOp::buildGradient(OpBuilder &, ArrayRef<Value>, SmallVectorImpl<Value> &) {
  return emitOpError() << "is not differentiable (Kiln has no second-order gradients)";
}

LogicalResult RNNParamConcatOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                              SmallVectorImpl<Value> &operandGrads) {
  concatGradient(*this, builder, resultGrads[0], static_cast<int64_t>(getDim()), operandGrads);
  return success();
}

//===----------------------------------------------------------------------===//
// Sequence ops
//===----------------------------------------------------------------------===//

namespace {

/// What the Sequence ops check of their attributes: `sequence_length` present
/// exactly with use_sequence_length, and a time axis MXNet 1.9.1 accepts
/// (0 or 1; SequenceReverse only 0).
template <typename OpT> LogicalResult verifySequenceOp(OpT op, bool onlyAxisZero) {
  if (op.getUseSequenceLength() != bool(op.getSequenceLength()))
    return op.emitOpError() << (op.getUseSequenceLength()
                                    ? "use_sequence_length needs the operand 'sequence_length'"
                                    : "takes the operand 'sequence_length' only with "
                                      "use_sequence_length");
  int64_t axis = static_cast<int64_t>(op.getAxis());
  if (onlyAxisZero && axis != 0)
    return op.emitOpError() << "axis must be 0 (MXNet 1.9.1 supports only a leading time "
                               "axis), got "
                            << axis;
  if (axis != 0 && axis != 1)
    return op.emitOpError() << "axis must be 0 or 1 (MXNet 1.9.1 supports no other), got "
                            << axis;
  return verifyShapes(op);
}

/// MXNet's Sequence*Prop::InferShape: data of rank ≥ 2 and sequence_length
/// (N), N being the dim of 0 and 1 that is not `axis`. Returns data's shape.
template <typename OpT>
FailureOr<Shape> inferSequenceOperands(OpT op, ShapeRule &r, unsigned dataIdx,
                                       unsigned lengthIdx) {
  auto data = r.need(dataIdx, "data");
  if (failed(data))
    return failure();
  if (data->size() < 2) {
    r.error() << "expects data of rank 2 or greater (time and batch axes), got rank "
              << data->size();
    return failure();
  }
  int64_t batch = (*data)[op.getAxis() == 0 ? 1 : 0];
  if (op.getSequenceLength() && failed(r.assign(lengthIdx, "sequence_length", {batch})))
    return failure();
  return *data;
}

/// The result of graph.sequence_last for data of shape `data`: the time axis
/// dropped, the batch axis first.
Shape sequenceLastShape(ArrayRef<int64_t> data, int64_t axis) {
  Shape out{data[axis == 0 ? 1 : 0]};
  out.append(data.begin() + 2, data.end());
  return out;
}

} // namespace

LogicalResult SequenceMaskOp::verify() { return verifySequenceOp(*this, false); }
LogicalResult SequenceLastOp::verify() { return verifySequenceOp(*this, false); }
LogicalResult SequenceReverseOp::verify() { return verifySequenceOp(*this, true); }
LogicalResult SequenceLastGradOp::verify() { return verifySequenceOp(*this, false); }

LogicalResult SequenceMaskOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = inferSequenceOperands(*this, r, 0, 1);
  if (failed(data))
    return failure();
  return r.result(*data);
}

LogicalResult SequenceReverseOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = inferSequenceOperands(*this, r, 0, 1);
  if (failed(data))
    return failure();
  return r.result(*data);
}

LogicalResult SequenceLastOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = inferSequenceOperands(*this, r, 0, 1);
  if (failed(data))
    return failure();
  return r.result(sequenceLastShape(*data, static_cast<int64_t>(getAxis())));
}

LogicalResult SequenceLastGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = inferSequenceOperands(*this, r, 0, 2);
  if (failed(data))
    return failure();
  if (failed(r.assign(1, "output_grad", sequenceLastShape(*data, static_cast<int64_t>(getAxis())))))
    return failure();
  return r.result(*data);
}

// sequence_length holds integers: no gradient for it, in all three.
LogicalResult SequenceMaskOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  if (!getSequenceLength()) {
    operandGrads[0] = resultGrads[0];
    return success();
  }
  GradBuilder g(builder, *this);
  operandGrads[0] = g.makeLike<SequenceMaskOp>(ValueRange{resultGrads[0], getSequenceLength()},
                                               *this, {builder.getNamedAttr(
                                                          "value", builder.getF32FloatAttr(0))});
  return success();
}

LogicalResult SequenceReverseOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  GradBuilder g(builder, *this);
  SmallVector<Value> operands{resultGrads[0]};
  if (Value len = getSequenceLength())
    operands.push_back(len);
  operandGrads[0] = g.makeLike<SequenceReverseOp>(operands, *this);
  return success();
}

LogicalResult SequenceLastOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  GradBuilder g(builder, *this);
  SmallVector<Value> operands{getData(), resultGrads[0]};
  if (Value len = getSequenceLength())
    operands.push_back(len);
  operandGrads[0] = g.makeLike<SequenceLastGradOp>(operands, *this);
  return success();
}

LogicalResult SequenceLastGradOp::buildGradient(OpBuilder &, ArrayRef<Value>,
                                                SmallVectorImpl<Value> &) {
  return emitOpError() << "is not differentiable (Kiln has no second-order gradients)";
}
