//===- ReduceOps.cpp - Graph dialect: reductions and sorting ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphReduceOps.td.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphReduceOps.h"
#include "Graph/GraphOpsImpl.h"

using namespace mlir;
using namespace kiln::graph;

namespace kiln::graph {
namespace {

/// The shape of operand `idx`, or an error naming it when unknown (the
/// shape rules' convention, see ShapeInference.cpp).
FailureOr<Shape> need(Operation *op, ShapeInferenceState &state, unsigned idx, StringRef name) {
  if (idx < state.operands.size() && state.operands[idx])
    return *state.operands[idx];
  op->emitOpError() << "cannot infer the shape of operand '" << name << "'";
  return failure();
}

/// Prepares `state` for a rule (one entry per operand, no results yet).
void reset(Operation *op, ShapeInferenceState &state) {
  state.operands.resize(op->getNumOperands());
  state.results.clear();
}

/// MXNet's CheckAxis: `axis` normalized against `rank`.
FailureOr<int64_t> checkAxis(Operation *op, int64_t axis, int64_t rank) {
  int64_t n = axis < 0 ? axis + rank : axis;
  if (n < 0 || n >= rank) {
    op->emitOpError() << "axis " << axis << " out of range for rank-" << rank << " input";
    return failure();
  }
  return n;
}

/// The index types topk and argsort's `dtype` may name (MXNet's list).
LogicalResult checkIndexDType(Operation *op, DType dtype) {
  switch (dtype) {
  case DType::uint8:
  case DType::int32:
  case DType::int64:
  case DType::float16:
  case DType::float32:
  case DType::float64:
    return success();
  default:
    return op->emitOpError() << "dtype " << stringifyDType(dtype)
                             << " is not one of MXNet's index types (uint8, int32, int64, "
                                "float16, float32, float64)";
  }
}

//===----------------------------------------------------------------------===//
// Shape rules
//===----------------------------------------------------------------------===//

/// argmax / argmin: MXNet's ReduceAxisShapeImpl.
LogicalResult inferSearch(Operation *op, ShapeInferenceState &state,
                          std::optional<int64_t> axis, bool keepdims) {
  reset(op, state);
  auto data = need(op, state, 0, "data");
  if (failed(data))
    return failure();
  int64_t rank = data->size();
  if (rank == 0)
    return op->emitOpError() << "needs data of rank 1 or more";
  if (axis && failed(checkAxis(op, *axis, rank)))
    return failure();
  if (!axis || rank == 1) {
    state.results.push_back(keepdims ? Shape(rank, 1) : Shape{1});
    return success();
  }
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  Shape out;
  for (int64_t d = 0; d < rank; ++d)
    if (d != a)
      out.push_back((*data)[d]);
    else if (keepdims)
      out.push_back(1);
  state.results.push_back(out);
  return success();
}

/// topk, sort and argsort: MXNet's ParseTopKParam / TopKShapeImpl. `k` ≤ 0
/// keeps the whole axis.
LogicalResult inferSorting(Operation *op, ShapeInferenceState &state,
                           std::optional<int64_t> axis, int64_t k, TopKRetTyp retTyp) {
  reset(op, state);
  auto data = need(op, state, 0, "data");
  if (failed(data))
    return failure();
  int64_t rank = data->size();
  if (rank == 0)
    return op->emitOpError() << "needs data of rank 1 or more";
  int64_t n = numElements(*data);
  std::optional<int64_t> a;
  if (axis) {
    auto norm = checkAxis(op, *axis, rank);
    if (failed(norm))
      return failure();
    a = *norm;
    n = (*data)[*a];
  }
  if (k <= 0)
    k = n;
  if (k > n)
    return op->emitOpError() << "k = " << k << " exceeds the " << n << " elements "
                             << (a ? "along the axis" : "of the flattened data");
  Shape value = *data;
  if (!a)
    value = Shape{k};
  else
    value[*a] = k;
  switch (retTyp) {
  case TopKRetTyp::mask:
    state.results.push_back(*data);
    break;
  case TopKRetTyp::value:
  case TopKRetTyp::indices:
    state.results.push_back(value);
    break;
  case TopKRetTyp::both:
    state.results.push_back(value);
    state.results.push_back(value);
    break;
  }
  return success();
}

/// The reductions' backward ops: data's shape, with out_grad and output of
/// data's rank broadcasting to it.
LogicalResult inferReduceGrad(Operation *op, ShapeInferenceState &state) {
  reset(op, state);
  auto data = need(op, state, 0, "data");
  if (failed(data))
    return failure();
  static const StringRef names[] = {"out_grad", "output"};
  for (auto [idx, name] : llvm::enumerate(names)) {
    const std::optional<Shape> &s = state.operands[idx + 1];
    if (!s)
      continue;
    bool ok = s->size() == data->size();
    for (size_t d = 0; ok && d < s->size(); ++d)
      ok = (*s)[d] == 1 || (*s)[d] == (*data)[d];
    if (!ok)
      return op->emitOpError() << "operand '" << name << "' of shape " << formatShape(*s)
                               << " does not broadcast to the data's shape "
                               << formatShape(*data);
  }
  state.results.push_back(*data);
  return success();
}

/// topk_grad: `shape`, with out_grad and indices of the forward's value
/// shape (k along the axis, or (k) for the flattened data).
LogicalResult inferTopKGrad(TopKGradOp op, ShapeInferenceState &state) {
  reset(op, state);
  Shape data(op.getShape().begin(), op.getShape().end());
  if (data.empty() || llvm::any_of(data, [](int64_t d) { return d < 0; }))
    return op.emitOpError() << "shape " << formatShape(data) << " is not a data shape";
  std::optional<int64_t> axis;
  int64_t n = numElements(data);
  if (std::optional<int64_t> a = op.getAxis()) {
    auto norm = checkAxis(op, *a, data.size());
    if (failed(norm))
      return failure();
    axis = *norm;
    n = data[*axis];
  }
  std::optional<Shape> known = state.operands[0] ? state.operands[0] : state.operands[1];
  if (!known) {
    (void)need(op, state, 0, "out_grad");
    return failure();
  }
  Shape value = axis ? data : Shape{0};
  size_t kPos = axis ? *axis : 0;
  int64_t k = known->size() == value.size() ? (*known)[kPos] : -1;
  value[kPos] = k;
  if (k < 0 || k > n || *known != value)
    return op.emitOpError() << "operands of shape " << formatShape(*known)
                            << " are not the topk values of data of shape " << formatShape(data);
  static const StringRef names[] = {"out_grad", "indices"};
  for (auto [idx, name] : llvm::enumerate(names)) {
    if (state.operands[idx] && *state.operands[idx] != value)
      return op.emitOpError() << "operand '" << name << "' has shape "
                              << formatShape(*state.operands[idx])
                              << " but the shape rule gives " << formatShape(value);
    state.operands[idx] = value;
  }
  state.results.push_back(data);
  return success();
}

//===----------------------------------------------------------------------===//
// Gradient rules
//===----------------------------------------------------------------------===//

/// The result gradient and result of a reduction reshaped to the data's
/// rank, reduced axes of size 1 (what the backward ops broadcast).
struct KeptValues {
  Value dy, y;
};
KeptValues keptValues(GradBuilder &g, Value data, Value output, Value dy,
                      ArrayRef<int64_t> reduced) {
  ArrayRef<int64_t> xs = staticShape(data), ys = staticShape(output);
  SmallVector<int64_t> kept(xs);
  for (int64_t a : reduced)
    kept[a] = 1;
  return {g.reshape(dy, ys, kept), g.reshape(output, ys, kept)};
}

/// The gradient of a reduction whose backward op reads x, dy and y with the
/// reduced axes kept: `makeGrad(g, x, kept)` builds it.
template <typename ReduceOp, typename MakeGrad>
LogicalResult keptAxesGradient(ReduceOp op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &grads, MakeGrad makeGrad) {
  grads.assign(op->getNumOperands(), Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, op);
  Value x = op.getData();
  grads[0] = makeGrad(g, x,
                      keptValues(g, x, op.getOutput(), resultGrads[0],
                                 op.getReducedAxes(staticShape(x).size())));
  return success();
}

template <typename ReduceOp>
LogicalResult reduceFamilyGradient(ReduceOp op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  return keptAxesGradient(op, builder, resultGrads, grads,
                          [](GradBuilder &g, Value x, const KeptValues &k) {
                            if constexpr (std::is_same_v<ReduceOp, ProdOp>)
                              return g.make<ProdGradOp>(x, k.dy, k.y);
                            else if constexpr (std::is_same_v<ReduceOp, NanprodOp>)
                              return g.make<NanprodGradOp>(x, k.dy, k.y);
                            else
                              return g.make<NansumGradOp>(x, k.dy, k.y);
                          });
}

LogicalResult normGradient(NormOp op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                           SmallVectorImpl<Value> &grads) {
  return keptAxesGradient(op, builder, resultGrads, grads,
                          [&](GradBuilder &g, Value x, const KeptValues &k) {
                            return g.make<NormGradOp>(x, k.dy, k.y, op.getOrd());
                          });
}

/// The scatter of the value gradient to the positions `indices` name.
Value scatterBack(GradBuilder &g, Value dy, Value indices, std::optional<int64_t> axis,
                  Value data) {
  return g.make<TopKGradOp>(dy, indices,
                            axis ? g.b.getI64IntegerAttr(*axis) : IntegerAttr(),
                            g.array(staticShape(data)));
}

LogicalResult topkGradient(TopKOp op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                           SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
  TopKRetTyp retTyp = op.getRetTyp();
  // Indices and masks are piecewise constant; so is the indices result of
  // `both`, whose gradient MXNet ignores.
  if (retTyp == TopKRetTyp::indices || retTyp == TopKRetTyp::mask || !resultGrads[0])
    return success();
  GradBuilder g(builder, op);
  Value indices;
  if (retTyp == TopKRetTyp::both) {
    indices = op.getOutputs()[1];
  } else {
    // MXNet's topk computes the indices as a hidden second output; Kiln
    // recomputes them (float32: exact for any axis Kiln can hold).
    indices = TopKOp::create(builder, g.loc, TypeRange{g.type}, op.getData(), op.getAxisAttr(),
                             op.getKAttr(),
                             TopKRetTypAttr::get(builder.getContext(), TopKRetTyp::indices),
                             op.getIsAscendAttr(),
                             DTypeAttr::get(builder.getContext(), DType::float32))
                  .getResult(0);
  }
  grads[0] = scatterBack(g, resultGrads[0], indices, op.getAxis(), op.getData());
  return success();
}

LogicalResult sortGradient(SortOp op, OpBuilder &builder, ArrayRef<Value> resultGrads,
                           SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, op);
  Value indices = g.make<ArgsortOp>(op.getData(), op.getAxisAttr(), op.getIsAscendAttr(),
                                    DTypeAttr::get(builder.getContext(), DType::float32));
  grads[0] = scatterBack(g, resultGrads[0], indices, op.getAxis(), op.getData());
  return success();
}

} // namespace
} // namespace kiln::graph

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult NormOp::verify() {
  if (getOrd() != 1 && getOrd() != 2)
    return emitOpError() << "ord must be 1 or 2 (MXNet's norm supports no other), got "
                         << getOrd();
  if (std::optional<DType> t = getOutDtype();
      t && *t != DType::float32 && *t != DType::float64)
    return emitOpError() << "out_dtype " << stringifyDType(*t)
                         << " is not supported: MXNet 1.9.1's norm fails for an out_dtype other "
                            "than the data's type (float32 or float64)";
  return verifyShapes(*this);
}

LogicalResult MomentsOp::verify() {
  if (!getAxes() || getAxes()->empty())
    return emitOpError() << "axes must list at least one axis (MXNet rejects moments without "
                            "axes; list every axis for global moments)";
  return verifyShapes(*this);
}

LogicalResult MomentsOp::inferShapes(ShapeInferenceState &state) {
  if (failed(inferReduce(*this, state, getAxes(), getKeepdims(), /*exclude=*/false)))
    return failure();
  // The variance has the mean's shape.
  Shape mean = state.results[0];
  state.results.push_back(mean);
  return success();
}

LogicalResult MomentsOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, Value());
  Value dMean = resultGrads[0], dVar = resultGrads[1];
  if (!dMean && !dVar)
    return success();
  GradBuilder g(builder, *this);
  ArrayRef<int64_t> xs = staticShape(getData()), ys = staticShape(getMean());
  SmallVector<int64_t, 4> kept(xs.begin(), xs.end());
  int64_t n = 1;
  for (int64_t a : getReducedAxes(xs.size())) {
    n *= xs[a];
    kept[a] = 1;
  }
  auto keptExpr = [&](Value v) { return GExpr{&g, g.reshape(v, ys, kept), kept}; };
  // MXNet's MomentsBackward: d_mean / N broadcast, plus d_var · 2(x − mean) / N.
  std::optional<GExpr> dx;
  if (dVar)
    dx = keptExpr(dVar) * (g.expr(getData()) - keptExpr(getMean())) * (2.0 / double(n));
  if (dMean) {
    GExpr spread = keptExpr(dMean) / double(n);
    dx = dx ? *dx + spread : GExpr{&g, g.make<BroadcastToOp>(spread.value, xs), kept};
  }
  operandGrads[0] = dx->value;
  return success();
}

LogicalResult TopKOp::verify() {
  if (failed(checkIndexDType(*this, getDtype())))
    return failure();
  unsigned want = getRetTyp() == TopKRetTyp::both ? 2 : 1;
  if (getNumResults() != want)
    return emitOpError() << "with ret_typ " << stringifyTopKRetTyp(getRetTyp()) << " has "
                         << want << " result" << (want == 1 ? "" : "s") << ", not "
                         << getNumResults();
  return verifyShapes(*this);
}

LogicalResult ArgsortOp::verify() {
  if (failed(checkIndexDType(*this, getDtype())))
    return failure();
  return verifyShapes(*this);
}

#define GET_OP_CLASSES
#include "Graph/GraphReduceOps.cpp.inc"
