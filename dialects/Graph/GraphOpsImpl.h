//===- GraphOpsImpl.h - Shared pieces of the op definitions -----*- C++ -*-===//
//
// Private to the graph dialect's sources: the shape rules and gradient rules
// that op families share (GraphBase.td's shapeRule / gradientRule name
// them), and GradBuilder, with which gradient rules build their backward
// ops. A family's op definitions include this before their .cpp.inc.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHOPSIMPL_H
#define KILN_GRAPH_GRAPHOPSIMPL_H

#include "Graph/GraphOps.h"

#include "mlir/IR/Builders.h"

namespace kiln::graph {

//===----------------------------------------------------------------------===//
// Shape rules
//===----------------------------------------------------------------------===//

/// Access to one op's inference state with MXNet's SHAPE_ASSIGN_CHECK
/// semantics: an implied operand shape is either recorded (unknown operand) or
/// checked against the known one. The shape rules of every family use it.
class ShapeRule {
public:
  ShapeRule(mlir::Operation *op, ShapeInferenceState &state) : op(op), state(state) {
    // Callers may hand in a state sized for a different op; the rules index
    // operands by position, so normalize it once here.
    state.operands.resize(op->getNumOperands());
    state.results.clear();
  }

  /// The shape of operand `idx`, or an error naming it when still unknown.
  mlir::FailureOr<Shape> need(unsigned idx, llvm::StringRef name) {
    if (idx < state.operands.size() && state.operands[idx])
      return *state.operands[idx];
    op->emitOpError() << "cannot infer the shape of operand '" << name << "'";
    return mlir::failure();
  }

  bool known(unsigned idx) const {
    return idx < state.operands.size() && state.operands[idx].has_value();
  }

  /// Records the implied shape of operand `idx` or checks it against the
  /// known one.
  mlir::LogicalResult assign(unsigned idx, llvm::StringRef name, llvm::ArrayRef<int64_t> shape) {
    auto &slot = state.operands[idx];
    if (!slot) {
      slot = Shape(shape.begin(), shape.end());
      return mlir::success();
    }
    if (llvm::ArrayRef<int64_t>(*slot) == shape)
      return mlir::success();
    return op->emitOpError() << "operand '" << name << "' has shape " << formatShape(*slot)
                             << " but the shape rule gives " << formatShape(shape);
  }

  mlir::LogicalResult result(llvm::ArrayRef<int64_t> shape) {
    state.results.emplace_back(shape.begin(), shape.end());
    return mlir::success();
  }

  mlir::InFlightDiagnostic error() { return op->emitOpError(); }

  /// Normalizes a possibly negative axis against `rank`, MXNet's CheckAxis.
  mlir::FailureOr<int64_t> axis(int64_t a, int64_t rank, llvm::StringRef what = "axis") {
    int64_t n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) {
      error() << what << " " << a << " out of range for rank-" << rank << " input";
      return mlir::failure();
    }
    return n;
  }

private:
  mlir::Operation *op;
  ShapeInferenceState &state;
};

/// Ops whose operands and result all share one shape: any known operand
/// determines the others (MXNet's ElemwiseShape). `names` has one entry per
/// operand, or one for a variadic list ("inputs #i").
mlir::LogicalResult inferSameShape(mlir::Operation *op, ShapeInferenceState &state,
                                   llvm::ArrayRef<llvm::StringRef> names);
/// NumPy broadcasting of operands `lhs` and `rhs`.
mlir::LogicalResult inferBroadcast(mlir::Operation *op, ShapeInferenceState &state);
/// MXNet's ReduceAxesShapeImpl.
mlir::LogicalResult inferReduce(mlir::Operation *op, ShapeInferenceState &state,
                                std::optional<llvm::ArrayRef<int64_t>> axis, bool keepdims,
                                bool exclude);
/// The regression loss heads: label of the data's shape, or (N) for (N, 1).
mlir::LogicalResult inferRegression(mlir::Operation *op, ShapeInferenceState &state);
/// softmax / log_softmax: the data's shape, `axis` in range.
mlir::LogicalResult inferSoftmaxLike(mlir::Operation *op, ShapeInferenceState &state,
                                     int64_t axis);

//===----------------------------------------------------------------------===//
// Gradient rules
//===----------------------------------------------------------------------===//

/// Creates the backward ops of one forward op at the builder's insertion
/// point: named after the forward node (loc("<node>_backward")), with
/// unranked result types that kiln-autodiff's shape inference refines.
class GradBuilder {
public:
  GradBuilder(mlir::OpBuilder &b, mlir::Operation *op);

  /// Builds `OpTy` with one unranked result (typed later by shape inference).
  template <typename OpTy, typename... Args> mlir::Value make(Args &&...args) {
    return OpTy::create(b, loc, type, std::forward<Args>(args)...).getResult();
  }

  /// Builds `OpTy` with the attributes of `from` that OpTy also has (the
  /// backward kernels take their forward op's attributes by name).
  template <typename OpTy>
  mlir::Value makeLike(mlir::ValueRange operands, mlir::Operation *from,
                       llvm::ArrayRef<mlir::NamedAttribute> extra = {}) {
    llvm::SmallVector<mlir::NamedAttribute> attrs;
    llvm::ArrayRef<llvm::StringRef> names = OpTy::getAttributeNames();
    for (mlir::NamedAttribute a : from->getAttrs())
      if (llvm::is_contained(names, a.getName().getValue()) &&
          !llvm::any_of(extra, [&](mlir::NamedAttribute e) { return e.getName() == a.getName(); }))
        attrs.push_back(a);
    attrs.append(extra.begin(), extra.end());
    return OpTy::create(b, loc, mlir::TypeRange{type}, operands, attrs)->getResult(0);
  }

  mlir::DenseI64ArrayAttr array(llvm::ArrayRef<int64_t> v) { return b.getDenseI64ArrayAttr(v); }
  mlir::FloatAttr f64(double v) { return b.getF64FloatAttr(v); }

  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);
  mlir::Value neg(mlir::Value v);
  mlir::Value mul(mlir::Value a, mlir::Value c);
  mlir::Value zeros(llvm::ArrayRef<int64_t> shape);
  /// Elements [begin, end) of `v` along `axis` (slice_axis).
  mlir::Value sliceAxis(mlir::Value v, int64_t axis, int64_t begin, int64_t end);
  mlir::Value sum(mlir::Value v, llvm::ArrayRef<int64_t> axes, bool keepdims);
  /// Sums a gradient of shape `from` (a broadcast result) down to the shape
  /// `to` of the operand that was broadcast: over the leading axes `to`
  /// lacks and over the axes where `to` has 1 and `from` does not.
  mlir::Value sumToShape(mlir::Value v, llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);

  /// `v`, which has (or will have) the static shape of `like`, as a value of
  /// a derivative formula.
  GExpr expr(mlir::Value v, mlir::Value like);
  GExpr expr(mlir::Value v) { return expr(v, v); }

  mlir::OpBuilder &b;
  mlir::Operation *op;
  mlir::Location loc;
  mlir::Type type;
};

/// The static shape of a ranked value.
llvm::ArrayRef<int64_t> staticShape(mlir::Value v);
/// The gradient of a concatenation along `dim` (graph.concat,
/// graph.rnn_param_concat): `dy` sliced back into the operands' parts.
void concatGradient(mlir::Operation *op, mlir::OpBuilder &builder, mlir::Value dy, int64_t dim,
                    llvm::SmallVectorImpl<mlir::Value> &operandGrads);
/// The gradient of a split along `axis` (normalized) into the parts
/// [bounds[i], bounds[i + 1]) (SliceChannel, _split_v2): the result
/// gradients, unsqueezed where squeeze_axis removed the axis, zeros for
/// unused results, concatenated back.
mlir::LogicalResult splitGradient(mlir::Operation *op, mlir::OpBuilder &builder,
                                  llvm::ArrayRef<mlir::Value> resultGrads, int64_t axis,
                                  llvm::ArrayRef<int64_t> bounds,
                                  llvm::SmallVectorImpl<mlir::Value> &operandGrads);
/// The number of elements of a static shape.
int64_t numElements(llvm::ArrayRef<int64_t> shape);

/// The rule of the backward kernels: no second-order gradients.
mlir::LogicalResult notDifferentiable(mlir::Operation *op);

/// Operands of piecewise-constant ops (comparisons, floor, random numbers)
/// get no gradient.
mlir::LogicalResult noGradient(mlir::Operation *op, llvm::SmallVectorImpl<mlir::Value> &grads);

/// One-operand elementwise ops: dx = op.derivative(x, y, dy).
template <typename OpT>
mlir::LogicalResult unaryGradient(OpT op, mlir::OpBuilder &builder,
                                  llvm::ArrayRef<mlir::Value> resultGrads,
                                  llvm::SmallVectorImpl<mlir::Value> &grads) {
  grads.assign(op->getNumOperands(), mlir::Value());
  if (!resultGrads[0])
    return mlir::success();
  GradBuilder g(builder, op);
  mlir::Value x = op->getOperand(0), y = op->getResult(0);
  grads[0] = op.derivative(g.expr(x), g.expr(y), g.expr(resultGrads[0], y)).value;
  return mlir::success();
}

/// Two-operand elementwise ops: each operand's derivative at the result's
/// shape, summed over the axes the operand was broadcast along.
template <typename OpT>
mlir::LogicalResult binaryGradient(OpT op, mlir::OpBuilder &builder,
                                   llvm::ArrayRef<mlir::Value> resultGrads,
                                   llvm::SmallVectorImpl<mlir::Value> &grads) {
  grads.assign(op->getNumOperands(), mlir::Value());
  if (!resultGrads[0])
    return mlir::success();
  GradBuilder g(builder, op);
  mlir::Value y = op->getResult(0);
  GExpr a = g.expr(op.getLhs()), b = g.expr(op.getRhs()), ye = g.expr(y),
        dy = g.expr(resultGrads[0], y);
  llvm::ArrayRef<int64_t> ys = staticShape(y);
  if (GExpr l = op.lhsDerivative(a, b, ye, dy))
    grads[0] = g.sumToShape(l.value, l.shape, staticShape(op.getLhs()));
  if (GExpr r = op.rhsDerivative(a, b, ye, dy))
    grads[1] = g.sumToShape(r.value, r.shape, staticShape(op.getRhs()));
  (void)ys;
  return mlir::success();
}

} // namespace kiln::graph

#endif // KILN_GRAPH_GRAPHOPSIMPL_H
