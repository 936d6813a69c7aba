//===- ShapeOps.cpp - Graph dialect: shape and indexing ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphShapeOps.td, and the
// family's shared rules (slice boxes, index conversion; GraphShapeOps.h).
// Shape rules follow MXNet 1.9.1's FInferShape of each operator; the checks
// MXNet makes in its kernels (offsets inside the data, index ranges that
// are known statically) are made here too, so bad input fails at import.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphShapeOps.h"
#include "Graph/GraphOpsImpl.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace kiln::graph;

//===----------------------------------------------------------------------===//
// Shared rules
//===----------------------------------------------------------------------===//

std::string kiln::graph::resolveSlice(ArrayRef<int64_t> shape, ArrayRef<int64_t> begin,
                                      ArrayRef<int64_t> end, ArrayRef<int64_t> step,
                                      SliceBox &box) {
  auto str = [](int64_t v) { return v == kNoneIndex ? std::string("None") : std::to_string(v); };
  if (begin.size() != end.size())
    return "begin has " + std::to_string(begin.size()) + " entries but end has " +
           std::to_string(end.size());
  if (!step.empty() && step.size() != begin.size())
    return "step has " + std::to_string(step.size()) + " entries but begin has " +
           std::to_string(begin.size());
  if (begin.size() > shape.size())
    return "begin has " + std::to_string(begin.size()) + " entries for data of rank " +
           std::to_string(shape.size());
  box = SliceBox();
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t len = shape[i];
    if (i >= begin.size()) {
      box.begin.push_back(0);
      box.step.push_back(1);
      box.size.push_back(len);
      continue;
    }
    int64_t s = step.empty() || step[i] == kNoneIndex ? 1 : step[i];
    if (s == 0)
      return "step[" + std::to_string(i) + "] is 0";
    // MXNet's GetIndexRange, then SetSliceOpOutputDimSize.
    int64_t b = begin[i] != kNoneIndex ? begin[i] : (s < 0 ? len - 1 : 0);
    int64_t e = end[i] != kNoneIndex ? end[i] : (s < 0 ? -1 : len);
    if (b < 0)
      b += len;
    if (e < 0 && end[i] != kNoneIndex)
      e += len;
    if (b < 0 && s > 0)
      b = 0;
    if (b > len - 1 && s < 0)
      b = len - 1;
    if (b < 0 || b > len - 1)
      b = -1;
    e = std::clamp<int64_t>(e, -1, len);
    int64_t n = 0;
    if (b >= 0 && e != b)
      n = s > 0 ? (e > b ? (e - b - 1) / s + 1 : 0) : (e < b ? (b - e - 1) / (-s) + 1 : 0);
    if (n == 0)
      return "the slice [" + str(begin[i]) + ", " + str(end[i]) + ") with step " +
             std::to_string(s) + " of axis " + std::to_string(i) + " (size " +
             std::to_string(len) + ") is empty (Kiln has no zero-size tensors)";
    box.begin.push_back(b);
    box.step.push_back(s);
    box.size.push_back(n);
  }
  return "";
}

int64_t kiln::graph::clipIndex(double v, int64_t n) {
  // trunc(v) ≤ 0 exactly when v < 1; NaN fails both comparisons.
  if (v >= static_cast<double>(n))
    return n - 1;
  if (v >= 1)
    return static_cast<int64_t>(v);
  return 0;
}

int64_t kiln::graph::wrapIndex(double v, int64_t n) {
  if (std::isnan(v))
    return 0;
  double r = std::fmod(std::trunc(v), static_cast<double>(n));
  if (r < 0)
    r += static_cast<double>(n);
  return static_cast<int64_t>(r);
}

SmallVector<int64_t> kiln::graph::DiagGeometry::resultShape(ArrayRef<int64_t> data) const {
  SmallVector<int64_t> out;
  for (int64_t d = 0; d < static_cast<int64_t>(data.size()); ++d)
    if (d != axis1 && d != axis2)
      out.push_back(data[d]);
  out.push_back(length);
  return out;
}

std::string kiln::graph::diagGeometry(ArrayRef<int64_t> data, int64_t k, int64_t axis1,
                                      int64_t axis2, DiagGeometry &geometry) {
  int64_t rank = data.size();
  auto norm = [&](int64_t a) { return a < 0 ? a + rank : a; };
  for (int64_t a : {axis1, axis2})
    if (norm(a) < 0 || norm(a) >= rank)
      return "axis " + std::to_string(a) + " out of range for rank-" + std::to_string(rank) +
             " input";
  geometry.axis1 = norm(axis1);
  geometry.axis2 = norm(axis2);
  if (geometry.axis1 == geometry.axis2)
    return "axis1 and axis2 both refer to axis " + std::to_string(geometry.axis1);
  geometry.start1 = std::max<int64_t>(-k, 0);
  geometry.start2 = std::max<int64_t>(k, 0);
  geometry.length = std::min(data[geometry.axis1] - geometry.start1,
                             data[geometry.axis2] - geometry.start2);
  if (geometry.length <= 0)
    return "diagonal k = " + std::to_string(k) + " does not exist in a " +
           std::to_string(data[geometry.axis1]) + "x" + std::to_string(data[geometry.axis2]) +
           " matrix";
  return "";
}

namespace {

LogicalResult checkPositive(Operation *op, StringRef name, int64_t v) {
  if (v <= 0)
    return op->emitOpError() << name << " must be positive, got " << v;
  return success();
}

/// The static shape of an op without operands: not empty (MXNet's legacy
/// shape () is unknown), every entry positive.
LogicalResult checkCreationShape(Operation *op, ArrayRef<int64_t> shape) {
  if (shape.empty())
    return op->emitOpError() << "shape must not be empty (MXNet's shape () is unknown)";
  // 0 is MXNet's unknown dimension, inferred from the consumer.
  for (int64_t d : shape)
    if (d < 0)
      return op->emitOpError() << "shape entries must be non-negative, got "
                               << formatShape(shape);
  return success();
}

/// Ops whose result is the operand's data under another shape.
LogicalResult viewGradient(Operation *op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                           SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, op);
  grads[0] = g.reshape(resultGrads[0], staticShape(op->getResult(0)),
                       staticShape(op->getOperand(0)));
  return success();
}

/// Pad's and pad_grad's checks of pad_width against data of `rank`.
LogicalResult checkPadWidth(Operation *op, ArrayRef<int64_t> pw) {
  for (int64_t p : pw)
    if (p < 0)
      return op->emitOpError() << "pad_width entries must be non-negative, got "
                               << formatShape(pw);
  if (pw.size() != 8 && pw.size() != 10)
    return op->emitOpError() << "pad_width has " << pw.size()
                             << " entries; MXNet pads 4-D or 5-D data (8 or 10 entries)";
  if (pw[0] || pw[1] || pw[2] || pw[3])
    return op->emitOpError() << "pad_width " << formatShape(pw)
                             << " pads the first two axes, which MXNet does not";
  return success();
}

} // namespace

#define GET_OP_CLASSES
#include "Graph/GraphShapeOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

LogicalResult ExpandDimsOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  int64_t rank = data->size(), axis = static_cast<int64_t>(getAxis());
  if (axis < -rank - 1 || axis > rank)
    return r.error() << "axis " << axis << " out of range [" << -rank - 1 << ", " << rank
                     << "] for a rank-" << rank << " input";
  Shape out = *data;
  out.insert(out.begin() + (axis < 0 ? axis + rank + 1 : axis), 1);
  return r.result(out);
}

LogicalResult SqueezeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  int64_t rank = data->size();
  SmallVector<bool> removed(rank, false);
  if (std::optional<ArrayRef<int64_t>> axes = getAxis()) {
    for (int64_t a : *axes) {
      auto n = r.axis(a, rank);
      if (failed(n))
        return failure();
      if ((*data)[*n] != 1)
        return r.error() << "cannot squeeze axis " << a << " of size " << (*data)[*n]
                         << " (only size-1 axes)";
      if (removed[*n])
        return r.error() << "axis " << a << " is listed twice";
      removed[*n] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      removed[i] = (*data)[i] == 1;
  }
  Shape out;
  for (int64_t i = 0; i < rank; ++i)
    if (!removed[i])
      out.push_back((*data)[i]);
  if (out.empty())
    out.push_back(1);
  return r.result(out);
}

LogicalResult ReshapeLikeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto lhs = r.need(0, "lhs");
  if (failed(lhs))
    return failure();
  auto rhs = r.need(1, "rhs");
  if (failed(rhs))
    return failure();
  // MXNet's ReshapeLikeRangeCanonicalize.
  auto range = [&](StringRef side, int64_t rank, std::optional<uint64_t> b,
                   std::optional<uint64_t> e) -> FailureOr<std::pair<int64_t, int64_t>> {
    int64_t begin = b ? static_cast<int64_t>(*b) : 0;
    int64_t end = e ? static_cast<int64_t>(*e) : rank;
    if (begin < 0)
      begin += rank;
    if (end < 0)
      end += rank;
    if (begin < 0 || end > rank || begin >= end) {
      r.error() << side << "_begin/" << side << "_end give the empty or invalid range ["
                << begin << ", " << end << ") of a rank-" << rank << " shape";
      return failure();
    }
    return std::make_pair(begin, end);
  };
  auto lr = range("lhs", lhs->size(), getLhsBegin(), getLhsEnd());
  if (failed(lr))
    return failure();
  auto rr = range("rhs", rhs->size(), getRhsBegin(), getRhsEnd());
  if (failed(rr))
    return failure();
  Shape out(lhs->begin(), lhs->begin() + lr->first);
  out.append(rhs->begin() + rr->first, rhs->begin() + rr->second);
  out.append(lhs->begin() + lr->second, lhs->end());
  if (numElements(out) != numElements(*lhs))
    return r.error() << "cannot reshape lhs " << formatShape(*lhs) << " to "
                     << formatShape(out) << ": the sizes differ";
  return r.result(out);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult SwapAxisOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto a = r.axis(static_cast<int64_t>(getDim1()), data->size(), "dim1");
  if (failed(a))
    return failure();
  auto b = r.axis(static_cast<int64_t>(getDim2()), data->size(), "dim2");
  if (failed(b))
    return failure();
  Shape out = *data;
  std::swap(out[*a], out[*b]);
  return r.result(out);
}

LogicalResult SwapAxisOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<SwapAxisOp>(resultGrads[0], getDim1(), getDim2());
  return success();
}

LogicalResult ReverseOp::verify() {
  for (int64_t a : getAxis())
    if (a < 0)
      return emitOpError() << "axis entries must be non-negative (MXNet 1.9.1's reverse takes "
                              "no negative axis), got "
                           << formatShape(getAxis());
  return verifyShapes(*this);
}

SmallVector<bool> ReverseOp::getReversedAxes(int64_t rank) {
  SmallVector<bool> reversed(rank, false);
  for (int64_t a : getAxis())
    if (a >= 0 && a < rank)
      reversed[a] = !reversed[a];
  return reversed;
}

LogicalResult ReverseOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  for (int64_t a : getAxis())
    if (a >= (int64_t)data->size())
      return r.error() << "axis " << a << " out of range for rank-" << data->size() << " input";
  return r.result(*data);
}

LogicalResult ReverseOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<ReverseOp>(resultGrads[0], getAxis());
  return success();
}

LogicalResult TileOp::verify() {
  for (int64_t v : getReps())
    if (v <= 0)
      return emitOpError() << "reps entries must be positive, got " << formatShape(getReps());
  return verifyShapes(*this);
}

/// tile's shape and reps, both padded with leading 1s to the result's rank.
static std::pair<Shape, Shape> tileOperands(ArrayRef<int64_t> data, ArrayRef<int64_t> reps) {
  size_t rank = std::max(data.size(), reps.size());
  Shape s(rank - data.size(), 1), rp(rank - reps.size(), 1);
  s.append(data.begin(), data.end());
  rp.append(reps.begin(), reps.end());
  return {s, rp};
}

LogicalResult TileOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto [s, rp] = tileOperands(*data, getReps());
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    out.push_back(s[i] * rp[i]);
  return r.result(out);
}

LogicalResult TileOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData()), ys = staticShape(getOutput());
  auto [s, rp] = tileOperands(xs, getReps());
  // Each tiled axis seen as (repetition, element): the sum over the
  // repetitions is the data's gradient.
  Shape split, kept;
  SmallVector<int64_t> axes;
  for (size_t i = 0; i < s.size(); ++i) {
    if (rp[i] > 1) {
      axes.push_back(split.size());
      split.push_back(rp[i]);
    }
    split.push_back(s[i]);
    kept.push_back(s[i]);
  }
  Value v = g.reshape(dy, ys, split);
  if (!axes.empty())
    v = g.sum(v, axes, false);
  operandGrads[0] = g.reshape(v, kept, xs);
  return success();
}

LogicalResult RepeatOp::verify() {
  if (failed(checkPositive(*this, "repeats", static_cast<int64_t>(getRepeats()))))
    return failure();
  return verifyShapes(*this);
}

LogicalResult RepeatOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  int64_t reps = static_cast<int64_t>(getRepeats());
  if (!getAxis())
    return r.result({numElements(*data) * reps});
  auto axis = r.axis(static_cast<int64_t>(*getAxis()), data->size());
  if (failed(axis))
    return failure();
  Shape out = *data;
  out[*axis] *= reps;
  return r.result(out);
}

LogicalResult RepeatOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData()), ys = staticShape(getOutput());
  int64_t reps = static_cast<int64_t>(getRepeats());
  // The repeated axis seen as (element, repetition), summed over the
  // repetitions; without an axis, the flattened data's.
  Shape split, kept;
  int64_t axis;
  if (getAxis()) {
    axis = static_cast<int64_t>(*getAxis());
    if (axis < 0)
      axis += xs.size();
    kept.assign(xs.begin(), xs.end());
  } else {
    axis = 0;
    kept.push_back(numElements(xs));
  }
  split = kept;
  split.insert(split.begin() + axis + 1, reps);
  Value v = g.sum(g.reshape(dy, ys, split), {axis + 1}, false);
  operandGrads[0] = g.reshape(v, kept, xs);
  return success();
}

LogicalResult BroadcastLikeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto lhs = r.need(0, "lhs");
  if (failed(lhs))
    return failure();
  auto rhs = r.need(1, "rhs");
  if (failed(rhs))
    return failure();
  // MXNet uses the axes only when both are given.
  if (!getLhsAxes() || !getRhsAxes()) {
    bool ok = lhs->size() == rhs->size();
    for (size_t i = 0; ok && i < lhs->size(); ++i)
      ok = (*lhs)[i] == (*rhs)[i] || (*lhs)[i] == 1;
    if (!ok)
      return r.error() << "lhs " << formatShape(*lhs) << " cannot be broadcast to rhs "
                       << formatShape(*rhs);
    return r.result(*rhs);
  }
  ArrayRef<int64_t> la = *getLhsAxes(), ra = *getRhsAxes();
  if (la.size() != ra.size())
    return r.error() << "lhs_axes has " << la.size() << " entries but rhs_axes has "
                     << ra.size();
  if (la.empty())
    return r.error() << "lhs_axes and rhs_axes must not be empty";
  Shape out = *lhs;
  for (size_t i = 0; i < la.size(); ++i) {
    auto from = r.axis(la[i], lhs->size(), "lhs_axes entry");
    if (failed(from))
      return failure();
    auto to = r.axis(ra[i], rhs->size(), "rhs_axes entry");
    if (failed(to))
      return failure();
    if ((*lhs)[*from] != 1)
      return r.error() << "lhs axis " << la[i] << " has size " << (*lhs)[*from]
                       << "; only size-1 axes are broadcast";
    out[*from] = (*rhs)[*to];
  }
  return r.result(out);
}

LogicalResult BroadcastLikeOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                             SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] =
      g.sumToShape(resultGrads[0], staticShape(getOutput()), staticShape(getLhs()));
  return success();
}

LogicalResult BroadcastAxisOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> axes = getAxis(), sizes = getSize();
  if (axes.size() != sizes.size())
    return r.error() << "axis has " << axes.size() << " entries but size has " << sizes.size();
  Shape out = *data;
  for (auto [a, n] : llvm::zip(axes, sizes)) {
    if (a < 0 || a >= static_cast<int64_t>(out.size()))
      return r.error() << "axis " << a << " is outside [0, " << out.size() << ") for data "
                       << formatShape(*data);
    if ((*data)[a] != 1)
      return r.error() << "broadcasting axis " << a << " of " << formatShape(*data)
                       << " must have size 1";
    if (n <= 0)
      return r.error() << "size " << n << " for axis " << a
                       << " must be positive (Kiln has no zero-size tensors)";
    out[a] = n;
  }
  return r.result(out);
}

LogicalResult BroadcastAxisOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                             SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] =
      g.sumToShape(resultGrads[0], staticShape(getOutput()), staticShape(getData()));
  return success();
}

LogicalResult StackOp::verify() {
  if (getData().empty())
    return emitOpError() << "stack needs at least one input";
  return verifyShapes(*this);
}

LogicalResult StackOp::inferShapes(ShapeInferenceState &state) {
  if (getNumOperands() == 0)
    return emitOpError() << "stack needs at least one input";
  if (failed(inferSameShape(*this, state, {"data"})))
    return failure();
  ShapeRule r(*this, state);
  Shape in = *state.operands[0];
  int64_t rank = in.size(), axis = static_cast<int64_t>(getAxis());
  if (axis < -rank - 1 || axis > rank)
    return r.error() << "axis " << axis << " out of range [" << -rank - 1 << ", " << rank
                     << "] for rank-" << rank << " inputs";
  in.insert(in.begin() + (axis < 0 ? axis + rank + 1 : axis), getNumOperands());
  return r.result(in);
}

LogicalResult StackOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  unsigned n = getNumOperands();
  operandGrads.assign(n, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> ys = staticShape(getOutput());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += ys.size();
  if (n == 1) {
    operandGrads[0] = g.reshape(dy, ys, staticShape(getData()[0]));
    return success();
  }
  // The split along the stacked axis, squeezed, gives each input's part.
  auto split = SplitOp::create(builder, g.loc, SmallVector<Type>(n, g.type), dy, n, axis,
                               /*squeeze_axis=*/true);
  for (unsigned i = 0; i < n; ++i)
    operandGrads[i] = split.getResult(i);
  return success();
}

int64_t SplitV2Op::getNumParts() {
  return getSections() > 0 ? static_cast<int64_t>(getSections())
                           : static_cast<int64_t>(getIndices().size());
}

SmallVector<int64_t> SplitV2Op::getPartBounds(int64_t size) {
  SmallVector<int64_t> bounds;
  int64_t sections = static_cast<int64_t>(getSections());
  if (sections > 0) {
    // MXNet's GetSplitIndices: the first size % sections parts one longer.
    bounds.push_back(0);
    for (int64_t i = 0; i < sections; ++i)
      bounds.push_back(bounds.back() + size / sections + (i < size % sections ? 1 : 0));
    return bounds;
  }
  bounds.assign(getIndices().begin(), getIndices().end());
  bounds.push_back(size);
  return bounds;
}

LogicalResult SplitV2Op::verify() {
  int64_t sections = static_cast<int64_t>(getSections());
  if (sections < 0)
    return emitOpError() << "sections must not be negative, got " << sections;
  if (sections == 0) {
    ArrayRef<int64_t> idx = getIndices();
    if (idx.empty())
      return emitOpError() << "needs split indices or a positive sections";
    if (idx[0] != 0)
      return emitOpError() << "indices " << formatShape(idx)
                           << " must start at 0 (MXNet's kernel reads out of bounds otherwise)";
    for (size_t i = 1; i < idx.size(); ++i)
      if (idx[i] <= idx[i - 1])
        return emitOpError() << "indices " << formatShape(idx)
                             << " must increase strictly (Kiln has no zero-size tensors)";
  }
  if (static_cast<int64_t>(getNumResults()) != getNumParts())
    return emitOpError() << "has " << getNumResults() << " results but the attributes make "
                         << getNumParts() << " parts";
  return verifyShapes(*this);
}

LogicalResult SplitV2Op::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis(getAxis(), data->size());
  if (failed(axis))
    return failure();
  int64_t size = (*data)[*axis];
  if (getSections() > 0 && static_cast<int64_t>(getSections()) > size)
    return r.error() << "sections " << getSections() << " exceeds the axis size " << size
                     << " (Kiln has no zero-size tensors)";
  SmallVector<int64_t> bounds = getPartBounds(size);
  if (bounds[bounds.size() - 2] >= size)
    return r.error() << "split index " << bounds[bounds.size() - 2]
                     << " is not inside the axis of size " << size;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    Shape part = *data;
    int64_t n = bounds[i + 1] - bounds[i];
    if (getSqueezeAxis()) {
      if (n != 1)
        return r.error() << "squeeze_axis needs parts of size 1, but part " << i << " has size "
                         << n;
      part.erase(part.begin() + *axis);
    } else {
      part[*axis] = n;
    }
    (void)r.result(part);
  }
  return success();
}

LogicalResult SplitV2Op::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> xs = staticShape(getData());
  int64_t axis = (int64_t)getAxis() < 0 ? (int64_t)getAxis() + (int64_t)xs.size() : getAxis();
  return splitGradient(*this, builder, resultGrads, axis, getPartBounds(xs[axis]),
                       operandGrads);
}

/// space_to_depth and depth_to_space: NCHW data and a positive block.
static LogicalResult checkBlockData(ShapeRule &r, ArrayRef<int64_t> data) {
  if (data.size() != 4)
    return r.error() << "expects NCHW data (rank 4), got rank " << data.size();
  return success();
}

LogicalResult SpaceToDepthOp::verify() {
  if (failed(checkPositive(*this, "block_size", static_cast<int64_t>(getBlockSize()))))
    return failure();
  return verifyShapes(*this);
}

LogicalResult SpaceToDepthOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkBlockData(r, *data)))
    return failure();
  int64_t b = static_cast<int64_t>(getBlockSize());
  if (b <= 0 || (*data)[2] % b || (*data)[3] % b)
    return r.error() << "H and W of " << formatShape(*data) << " must be multiples of block_size "
                     << b;
  return r.result({(*data)[0], (*data)[1] * b * b, (*data)[2] / b, (*data)[3] / b});
}

LogicalResult SpaceToDepthOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<DepthToSpaceOp>(resultGrads[0], getBlockSize());
  return success();
}

LogicalResult DepthToSpaceOp::verify() {
  if (failed(checkPositive(*this, "block_size", static_cast<int64_t>(getBlockSize()))))
    return failure();
  return verifyShapes(*this);
}

LogicalResult DepthToSpaceOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) || failed(checkBlockData(r, *data)))
    return failure();
  int64_t b = static_cast<int64_t>(getBlockSize());
  if (b <= 0 || (*data)[1] % (b * b))
    return r.error() << "the channels of " << formatShape(*data)
                     << " must be a multiple of block_size² = " << b * b;
  return r.result({(*data)[0], (*data)[1] / (b * b), (*data)[2] * b, (*data)[3] * b});
}

LogicalResult DepthToSpaceOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<SpaceToDepthOp>(resultGrads[0], getBlockSize());
  return success();
}

LogicalResult DiagOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  int64_t k = static_cast<int64_t>(getK());
  if (data->size() == 1) {
    int64_t n = (*data)[0] + std::abs(k);
    return r.result({n, n});
  }
  DiagGeometry geo;
  if (std::string err = diagGeometry(*data, k, static_cast<int64_t>(getAxis1()),
                                     static_cast<int64_t>(getAxis2()), geo);
      !err.empty())
    return r.error() << err;
  return r.result(geo.resultShape(*data));
}

LogicalResult DiagOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  int64_t k = static_cast<int64_t>(getK());
  // 1-D data: its elements are the k-th diagonal of the result.
  if (xs.size() == 1) {
    operandGrads[0] = g.make<DiagOp>(resultGrads[0], k, 0, 1);
    return success();
  }
  DiagGeometry geo;
  if (std::string err = diagGeometry(xs, k, static_cast<int64_t>(getAxis1()),
                                     static_cast<int64_t>(getAxis2()), geo);
      !err.empty())
    return emitOpError() << err;
  operandGrads[0] = g.make<DiagGradOp>(resultGrads[0], k, geo.axis1, geo.axis2, xs);
  return success();
}

//===----------------------------------------------------------------------===//
// Slicing and padding
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::verify() {
  if (getBegin().size() != getEnd().size())
    return emitOpError() << "begin has " << getBegin().size() << " entries but end has "
                         << getEnd().size();
  if (!getStep().empty() && getStep().size() != getBegin().size())
    return emitOpError() << "step has " << getStep().size() << " entries but begin has "
                         << getBegin().size();
  for (int64_t s : getStep())
    if (s == 0)
      return emitOpError() << "step entries must not be 0";
  return verifyShapes(*this);
}

LogicalResult SliceOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  SliceBox box;
  std::string err = resolveSlice(*data, getBegin(), getEnd(), getStep(), box);
  if (!err.empty())
    return r.error() << err;
  return r.result(box.size);
}

LogicalResult SliceOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  SliceBox box;
  if (std::string err = resolveSlice(xs, getBegin(), getEnd(), getStep(), box); !err.empty())
    return emitOpError() << err;
  operandGrads[0] = g.make<SliceGradOp>(resultGrads[0], box.begin, box.step, xs);
  return success();
}

LogicalResult SliceLikeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto like = r.need(1, "shape_like");
  if (failed(like))
    return failure();
  Shape out = *data;
  auto take = [&](int64_t axis) -> LogicalResult {
    if ((*like)[axis] > (*data)[axis])
      return r.error() << "axis " << axis << " of shape_like " << formatShape(*like)
                       << " exceeds data " << formatShape(*data);
    out[axis] = (*like)[axis];
    return success();
  };
  if (getAxes().empty()) {
    if (like->size() != data->size())
      return r.error() << "without axes, data " << formatShape(*data) << " and shape_like "
                       << formatShape(*like) << " must have the same rank";
    for (size_t i = 0; i < data->size(); ++i)
      if (failed(take(i)))
        return failure();
    return r.result(out);
  }
  for (int64_t a : getAxes()) {
    auto axis = r.axis(a, data->size(), "axes entry");
    if (failed(axis))
      return failure();
    if (*axis >= (int64_t)like->size())
      return r.error() << "axes entry " << a << " exceeds the rank of shape_like "
                       << formatShape(*like);
    if (failed(take(*axis)))
      return failure();
  }
  return r.result(out);
}

LogicalResult SliceLikeOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  operandGrads[0] = g.make<SliceGradOp>(resultGrads[0], SmallVector<int64_t>(xs.size(), 0),
                                        SmallVector<int64_t>(xs.size(), 1), xs);
  return success();
}

LogicalResult CropOp::verify() {
  if (getInputs().empty() || getInputs().size() > 2)
    return emitOpError() << "takes 1 or 2 inputs (MXNet's num_args), got " << getInputs().size()
                         << " (MXNet 1.9.1 accepts 3 but computes nothing with them)";
  if (getOffset().size() != 2 || getHW().size() != 2)
    return emitOpError() << "offset and h_w must have two entries (y, x), got "
                         << formatShape(getOffset()) << " and " << formatShape(getHW());
  if (getOffset()[0] < 0 || getOffset()[1] < 0)
    return emitOpError() << "offset entries must be non-negative, got "
                         << formatShape(getOffset());
  if (!getCropLike() && (getHW()[0] < 1 || getHW()[1] < 1))
    return emitOpError() << "with one input, h_w must be positive, got "
                         << formatShape(getHW());
  return verifyShapes(*this);
}

std::pair<int64_t, int64_t> CropOp::getCorner(ArrayRef<int64_t> data, ArrayRef<int64_t> out) {
  if (getCenterCrop())
    return {(data[2] - out[2]) / 2, (data[3] - out[3]) / 2};
  return {getOffset()[0], getOffset()[1]};
}

LogicalResult CropOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->size() != 4)
    return r.error() << "expects NCHW data (rank 4), got " << formatShape(*data);
  Shape out = *data;
  if (getCropLike()) {
    auto like = r.need(1, "crop_like");
    if (failed(like))
      return failure();
    if (like->size() != 4)
      return r.error() << "expects a rank-4 crop_like, got " << formatShape(*like);
    out[2] = (*like)[2];
    out[3] = (*like)[3];
  } else {
    out[2] = getHW()[0];
    out[3] = getHW()[1];
  }
  if (out[2] > (*data)[2] || out[3] > (*data)[3])
    return r.error() << "the crop " << out[2] << "×" << out[3] << " exceeds the data "
                     << formatShape(*data);
  auto [y, x] = getCorner(*data, out);
  if (y + out[2] > (*data)[2] || x + out[3] > (*data)[3])
    return r.error() << "the crop " << out[2] << "×" << out[3] << " at offset (" << y << ", "
                     << x << ") does not fit in the data " << formatShape(*data);
  return r.result(out);
}

LogicalResult CropOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  auto [y, x] = getCorner(xs, staticShape(getOutput()));
  operandGrads[0] = g.make<SliceGradOp>(resultGrads[0], SmallVector<int64_t>{0, 0, y, x},
                                        SmallVector<int64_t>(4, 1), xs);
  return success();
}

LogicalResult PadOp::verify() {
  if (failed(checkPadWidth(*this, getPadWidth())))
    return failure();
  return verifyShapes(*this);
}

/// The padded shape of `data` (`grow`) or the unpadded one of out_grad.
static FailureOr<Shape> padShape(ShapeRule &r, ArrayRef<int64_t> shape, ArrayRef<int64_t> pw,
                                 bool grow) {
  if (pw.size() != 2 * shape.size())
    return r.error() << "pad_width has " << pw.size() << " entries for rank-" << shape.size()
                     << " data (two per axis)",
           failure();
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t n = grow ? shape[i] + pw[2 * i] + pw[2 * i + 1] : shape[i] - pw[2 * i] - pw[2 * i + 1];
    if (n <= 0)
      return r.error() << "out_grad " << formatShape(shape) << " is not larger than pad_width "
                       << formatShape(pw),
             failure();
    out.push_back(n);
  }
  return out;
}

/// reflect needs every pad smaller than its axis (MXNet checks H and W).
static LogicalResult checkReflect(ShapeRule &r, PadMode mode, ArrayRef<int64_t> data,
                                  ArrayRef<int64_t> pw) {
  if (mode != PadMode::reflect)
    return success();
  for (size_t i = 2; i < data.size(); ++i)
    if (pw[2 * i] >= data[i] || pw[2 * i + 1] >= data[i])
      return r.error() << "reflect padding must be smaller than the axis it pads: pad_width "
                       << formatShape(pw) << " for data " << formatShape(data);
  return success();
}

LogicalResult PadOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto out = padShape(r, *data, getPadWidth(), true);
  if (failed(out) || failed(checkReflect(r, getMode(), *data, getPadWidth())))
    return failure();
  return r.result(*out);
}

LogicalResult PadOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData()), pw = getPadWidth();
  if (getMode() != PadMode::constant) {
    operandGrads[0] = g.make<PadGradOp>(dy, getMode(), pw);
    return success();
  }
  // The padding is a constant: the data's gradient is the interior.
  SmallVector<int64_t> begin, end;
  for (size_t i = 0; i < xs.size(); ++i) {
    begin.push_back(pw[2 * i]);
    end.push_back(pw[2 * i] + xs[i]);
  }
  operandGrads[0] = g.make<SliceOp>(dy, begin, end, ArrayRef<int64_t>());
  return success();
}

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

LogicalResult TakeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto a = r.need(0, "a");
  if (failed(a))
    return failure();
  auto idx = r.need(1, "indices");
  if (failed(idx))
    return failure();
  auto axis = r.axis(static_cast<int64_t>(getAxis()), a->size());
  if (failed(axis))
    return failure();
  Shape out(a->begin(), a->begin() + *axis);
  out.append(idx->begin(), idx->end());
  out.append(a->begin() + *axis + 1, a->end());
  return r.result(out);
}

LogicalResult TakeOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> as = staticShape(getA());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += as.size();
  operandGrads[0] = g.make<TakeGradOp>(getIndices(), resultGrads[0], axis, getMode(), as);
  return success();
}

/// pick's result (`keepdims`) or index shape for data of shape `data`:
/// MXNet's ReduceAxisShapeImpl.
static Shape pickShape(ArrayRef<int64_t> data, int64_t axis, bool keepdims) {
  if (data.size() == 1)
    return Shape{1};
  Shape out(data.begin(), data.end());
  if (keepdims)
    out[axis] = 1;
  else
    out.erase(out.begin() + axis);
  return out;
}

LogicalResult PickOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis(static_cast<int64_t>(getAxis()), data->size());
  if (failed(axis))
    return failure();
  // The index has the result's shape with the axis dropped, or kept as 1.
  if (r.known(1) && state.operands[1]->size() == data->size()) {
    if (failed(r.assign(1, "index", pickShape(*data, *axis, true))))
      return failure();
  } else if (failed(r.assign(1, "index", pickShape(*data, *axis, false)))) {
    return failure();
  }
  return r.result(pickShape(*data, *axis, getKeepdims()));
}

LogicalResult PickOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += xs.size();
  operandGrads[0] = g.make<PickGradOp>(getIndex(), resultGrads[0], axis, getMode(), xs);
  return success();
}

LogicalResult BatchTakeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto a = r.need(0, "a");
  if (failed(a))
    return failure();
  auto idx = r.need(1, "indices");
  if (failed(idx))
    return failure();
  if (a->size() != 2)
    return r.error() << "a must be a matrix, got " << formatShape(*a)
                     << " (MXNet's kernel reads past data of higher rank)";
  if (numElements(*idx) != (*a)[0])
    return r.error() << "indices " << formatShape(*idx) << " must hold one index per row of a "
                     << formatShape(*a);
  return r.result(*idx);
}

/// gather_nd's result shape for data and indices: MXNet's GatherNDShape.
static FailureOr<Shape> gatherShape(ShapeRule &r, ArrayRef<int64_t> data, ArrayRef<int64_t> idx) {
  if (idx.size() < 2)
    return r.error() << "indices must have rank at least 2, got " << formatShape(idx), failure();
  if (idx[0] > (int64_t)data.size())
    return r.error() << "indices " << formatShape(idx) << " index " << idx[0]
                     << " axes of data " << formatShape(data),
           failure();
  Shape out(idx.begin() + 1, idx.end());
  out.append(data.begin() + idx[0], data.end());
  return out;
}

LogicalResult GatherNDOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto idx = r.need(1, "indices");
  if (failed(idx))
    return failure();
  auto out = gatherShape(r, *data, *idx);
  if (failed(out))
    return failure();
  return r.result(*out);
}

LogicalResult GatherNDOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] =
      g.make<GatherNDGradOp>(getIndices(), resultGrads[0], staticShape(getData()));
  return success();
}

SmallVector<int64_t> IndexArrayOp::getListedAxes(int64_t rank) {
  if (!getAxes())
    return llvm::to_vector(llvm::seq<int64_t>(0, rank));
  // A copy: iterating over *getAxes() would outlive the optional.
  ArrayRef<int64_t> listed = *getAxes();
  SmallVector<int64_t> axes;
  for (int64_t a : listed)
    axes.push_back(((a % rank) + rank) % rank);
  return axes;
}

LogicalResult IndexArrayOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (getAxes() && getAxes()->empty())
    return r.error() << "axes is empty: the result would have size 0 (Kiln has no zero-size "
                        "tensors)";
  Shape out = *data;
  out.push_back(getListedAxes(data->size()).size());
  return r.result(out);
}

/// ravel_multi_index and unravel_index: MXNet's "Empty shape parameter".
static LogicalResult verifyRavelShape(Operation *op, std::optional<ArrayRef<int64_t>> shape) {
  if (!shape || shape->empty())
    return op->emitOpError() << "needs a non-empty shape";
  return verifyShapes(op);
}

LogicalResult RavelMultiIndexOp::verify() { return verifyRavelShape(*this, getShape()); }
LogicalResult UnravelIndexOp::verify() { return verifyRavelShape(*this, getShape()); }

LogicalResult RavelMultiIndexOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  int64_t n = getShape() ? getShape()->size() : 0;
  if (data->size() != 2 || (*data)[0] != n)
    return r.error() << "data " << formatShape(*data) << " must be (" << n
                     << ", N): one row per axis of shape";
  return r.result({(*data)[1]});
}

LogicalResult UnravelIndexOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->size() != 1)
    return r.error() << "data " << formatShape(*data) << " must be a vector of flat indices";
  int64_t n = getShape() ? getShape()->size() : 0;
  return r.result({n, (*data)[0]});
}

LogicalResult ScatterNDOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto idx = r.need(1, "indices");
  if (failed(idx))
    return failure();
  Shape shape(getShape().begin(), getShape().end());
  for (int64_t d : shape)
    if (d <= 0)
      return r.error() << "shape entries must be positive, got " << formatShape(shape);
  auto data = gatherShape(r, shape, *idx);
  if (failed(data))
    return failure();
  if (failed(r.assign(0, "data", *data)))
    return failure();
  return r.result(shape);
}

LogicalResult ScatterNDOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.make<GatherNDOp>(resultGrads[0], getIndices());
  return success();
}

LogicalResult OneHotOp::verify() {
  if (failed(checkPositive(*this, "depth", static_cast<int64_t>(getDepth()))))
    return failure();
  return verifyShapes(*this);
}

LogicalResult OneHotOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto idx = r.need(0, "indices");
  if (failed(idx))
    return failure();
  Shape out = *idx;
  out.push_back(static_cast<int64_t>(getDepth()));
  return r.result(out);
}

LogicalResult WhereOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  std::optional<Shape> shape = r.known(1) ? state.operands[1] : state.operands[2];
  if (!shape) {
    (void)r.need(1, "x");
    return failure();
  }
  if (failed(r.assign(1, "x", *shape)) || failed(r.assign(2, "y", *shape)))
    return failure();
  auto cond = r.need(0, "condition");
  if (failed(cond))
    return failure();
  if (*cond != *shape && !(cond->size() == 1 && !shape->empty() && (*cond)[0] == (*shape)[0]))
    return r.error() << "condition " << formatShape(*cond) << " must have x's shape "
                     << formatShape(*shape) << " or be 1-D with one entry per row";
  return r.result(*shape);
}

LogicalResult WhereOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(3, Value());
  Value dy = resultGrads[0];
  if (!dy)
    return success();
  GradBuilder g(builder, *this);
  Value zeros = g.zeros(staticShape(getX()));
  operandGrads[1] = g.make<WhereOp>(getCondition(), dy, zeros);
  operandGrads[2] = g.make<WhereOp>(getCondition(), zeros, dy);
  return success();
}

//===----------------------------------------------------------------------===//
// Shapes and constants
//===----------------------------------------------------------------------===//

LogicalResult ShapeArrayOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  return r.result({static_cast<int64_t>(data->size())});
}

LogicalResult SizeArrayOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  if (failed(r.need(0, "data")))
    return failure();
  return r.result({1});
}

LogicalResult ArangeOp::verify() {
  if (getStep().isZero())
    return emitOpError() << "step must not be 0";
  if (failed(checkPositive(*this, "repeat", static_cast<int64_t>(getRepeat()))))
    return failure();
  return verifyShapes(*this);
}

/// MXNet's RangeParamParser: without stop (and infer_range), [0, start).
static std::pair<double, double> arangeBounds(ArangeOp op) {
  double start = op.getStart().convertToDouble();
  if (std::optional<APFloat> stop = op.getStop())
    return {start, stop->convertToDouble()};
  return {0.0, start};
}

LogicalResult ArangeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  if (getInferRange() && !getStop())
    return r.error() << "infer_range without stop takes the size from the consumer, which "
                        "Kiln's forward shape inference cannot do";
  auto [start, stop] = arangeBounds(*this);
  double step = getStep().convertToDouble();
  auto range = [&] {
    char buf[128];
    std::snprintf(buf, sizeof buf, "the range [%g, %g) with step %g", start, stop, step);
    return std::string(buf);
  };
  if (step == 0 || (step > 0 ? !(start < stop) : !(start > stop)))
    return r.error() << range() << " is empty";
  double n = std::ceil((stop - start) / step) * static_cast<double>(getRepeat());
  if (!(n >= 1 && n < 9.0e15))
    return r.error() << range() << " has no representable size";
  return r.result({static_cast<int64_t>(n)});
}

SmallVector<double> ArangeOp::getValues() {
  auto [start, stop] = arangeBounds(*this);
  double step = getStep().convertToDouble();
  int64_t repeat = static_cast<int64_t>(getRepeat());
  int64_t n = static_cast<int64_t>(std::ceil((stop - start) / step)) * repeat;
  DType dtype = getDtype();
  // MXNet casts start and step to the dtype before its kernel computes
  // start + ⌊i/repeat⌋·step in it.
  bool integer = dtype != DType::float32 && dtype != DType::float64 &&
                 dtype != DType::float16 && dtype != DType::bfloat16;
  if (integer) {
    start = fn::cast(start, dtype);
    step = fn::cast(step, dtype);
  }
  SmallVector<double> values;
  values.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    values.push_back(fn::cast(start + static_cast<double>(i / repeat) * step, dtype));
  return values;
}

LogicalResult ZerosWithoutDtypeOp::verify() {
  if (failed(checkCreationShape(*this, getShape())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ZerosWithoutDtypeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  return r.result(getShape());
}

LogicalResult AmpMulticastOp::verify() {
  int64_t n = static_cast<int64_t>(getNumOutputs());
  if (n < 1)
    return emitOpError() << "num_outputs must be at least 1, got " << n;
  if (static_cast<int64_t>(getInputs().size()) != n || static_cast<int64_t>(getNumResults()) != n)
    return emitOpError() << "num_outputs is " << n << " but the op has " << getInputs().size()
                         << " operands and " << getNumResults() << " results";
  return verifyShapes(*this);
}

LogicalResult AmpMulticastOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  for (unsigned i = 0; i < getInputs().size(); ++i) {
    auto s = r.need(i, "data_" + std::to_string(i));
    if (failed(s))
      return failure();
    if (failed(r.result(*s)))
      return failure();
  }
  return success();
}

/// Each gradient passes through (cast back to float32, which it is).
LogicalResult AmpMulticastOp::buildGradient(OpBuilder &, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(resultGrads.begin(), resultGrads.end());
  return success();
}

LogicalResult EyeOp::verify() {
  if (failed(checkPositive(*this, "N", static_cast<int64_t>(getN()))))
    return failure();
  // I64Attr getters are unsigned.
  if (auto m = static_cast<int64_t>(getM()); m < 0)
    return emitOpError() << "M must not be negative, got " << m;
  return verifyShapes(*this);
}

LogicalResult EyeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  return r.result({static_cast<int64_t>(getN()), getColumns()});
}

SmallVector<double> EyeOp::getValues() {
  int64_t rows = static_cast<int64_t>(getN()), cols = getColumns();
  int64_t k = static_cast<int64_t>(getK());
  SmallVector<double> values(rows * cols, 0.0);
  for (int64_t i = 0; i < rows; ++i)
    if (int64_t j = i + k; j >= 0 && j < cols)
      values[i * cols + j] = 1.0;
  return values;
}

LogicalResult ArangeLikeOp::verify() {
  if (failed(checkPositive(*this, "repeat", static_cast<int64_t>(getRepeat()))))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ArangeLikeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  std::optional<int64_t> axis = getAxis();
  if (!axis)
    return r.result(*data);
  auto a = r.axis(*axis, data->size());
  if (failed(a))
    return failure();
  return r.result({(*data)[*a]});
}

SmallVector<double> ArangeLikeOp::getValues(int64_t count) {
  double start = getStart().convertToDouble(), step = getStep().convertToDouble();
  int64_t repeat = static_cast<int64_t>(getRepeat());
  SmallVector<double> values;
  values.reserve(count);
  for (int64_t i = 0; i < count; ++i)
    values.push_back(start + static_cast<double>(i / repeat) * step);
  return values;
}

LogicalResult OnesOp::verify() {
  if (failed(checkCreationShape(*this, getShape())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult OnesOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  return r.result(getShape());
}

LogicalResult FullOp::verify() {
  if (failed(checkCreationShape(*this, getShape())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult FullOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  return r.result(getShape());
}

//===----------------------------------------------------------------------===//
// Backward kernels
//===----------------------------------------------------------------------===//

LogicalResult SliceGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto dy = r.need(0, "out_grad");
  if (failed(dy))
    return failure();
  ArrayRef<int64_t> shape = getShape(), begin = getBegin(), step = getStep();
  if (dy->size() != shape.size() || begin.size() != shape.size() || step.size() != shape.size())
    return r.error() << "out_grad " << formatShape(*dy) << ", begin, step and shape "
                     << formatShape(shape) << " must have one entry per axis";
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t last = begin[i] + ((*dy)[i] - 1) * step[i];
    if (step[i] == 0 || begin[i] < 0 || begin[i] >= shape[i] || last < 0 || last >= shape[i])
      return r.error() << "axis " << i << ": " << (*dy)[i] << " elements from " << begin[i]
                       << " with step " << step[i] << " do not fit in " << shape[i];
  }
  return r.result(shape);
}

LogicalResult TakeGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto idx = r.need(0, "indices");
  if (failed(idx))
    return failure();
  ArrayRef<int64_t> as = getShape();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis >= (int64_t)as.size())
    return r.error() << "axis " << axis << " out of range for shape " << formatShape(as);
  Shape dy(as.begin(), as.begin() + axis);
  dy.append(idx->begin(), idx->end());
  dy.append(as.begin() + axis + 1, as.end());
  if (failed(r.assign(1, "out_grad", dy)))
    return failure();
  return r.result(as);
}

LogicalResult PickGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  ArrayRef<int64_t> xs = getShape();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis >= (int64_t)xs.size())
    return r.error() << "axis " << axis << " out of range for shape " << formatShape(xs);
  Shape dropped = pickShape(xs, axis, false), kept = pickShape(xs, axis, true);
  for (unsigned i = 0; i < 2; ++i) {
    StringRef name = i ? "out_grad" : "index";
    auto s = r.need(i, name);
    if (failed(s))
      return failure();
    if (*s != dropped && *s != kept)
      return r.error() << name << " " << formatShape(*s) << " is not the picked shape of "
                       << formatShape(xs);
  }
  return r.result(xs);
}

LogicalResult DiagGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  ArrayRef<int64_t> shape = getShape();
  if (shape.size() < 2)
    return r.error() << "shape " << formatShape(shape) << " must have rank at least 2";
  DiagGeometry geo;
  if (std::string err = diagGeometry(shape, static_cast<int64_t>(getK()),
                                     static_cast<int64_t>(getAxis1()),
                                     static_cast<int64_t>(getAxis2()), geo);
      !err.empty())
    return r.error() << err;
  if (failed(r.assign(0, "out_grad", geo.resultShape(shape))))
    return failure();
  return r.result(shape);
}

LogicalResult GatherNDGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto idx = r.need(0, "indices");
  if (failed(idx))
    return failure();
  auto dy = gatherShape(r, getShape(), *idx);
  if (failed(dy) || failed(r.assign(1, "out_grad", *dy)))
    return failure();
  return r.result(getShape());
}

LogicalResult PadGradOp::verify() {
  if (failed(checkPadWidth(*this, getPadWidth())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult PadGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto dy = r.need(0, "out_grad");
  if (failed(dy))
    return failure();
  auto out = padShape(r, *dy, getPadWidth(), false);
  if (failed(out) || failed(checkReflect(r, getMode(), *out, getPadWidth())))
    return failure();
  return r.result(*out);
}
