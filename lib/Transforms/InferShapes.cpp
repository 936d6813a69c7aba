//===- InferShapes.cpp - kiln-graph-infer-shapes --------------------------===//
//
// MXNet-style shape inference over a model function: each graph op, visited
// in program order, infers its results from its operands and may pin down
// the shapes of function arguments it consumes (parameters, labels), the way
// MXNet's InferShape derives weight shapes from the data shape, and of
// creation ops whose `shape` has MXNet's unknown dimension 0 (Gluon's RNN
// begin states).
//
//===----------------------------------------------------------------------===//

#include "Transforms/Passes.h"
#include "Graph/GraphOps.h"

#include "mlir/IR/BuiltinTypes.h"

namespace kiln {
#define GEN_PASS_DEF_GRAPHINFERSHAPES
#include "Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln::graph;

/// The declared type allows `shape`: unranked, or the same rank with every
/// static dimension equal.
static bool isCompatible(Type type, ArrayRef<int64_t> shape) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return true;
  if (ranked.getRank() != (int64_t)shape.size())
    return false;
  for (auto [d, s] : llvm::zip(ranked.getShape(), shape))
    if (!ShapedType::isDynamic(d) && d != s)
      return false;
  return true;
}

static Type elementTypeOf(Value v) { return cast<TensorType>(v.getType()).getElementType(); }

/// The `shape` of a creation op (_zeros, _ones, _full: no operands, a
/// `shape` attribute) that has MXNet's unknown dimension 0; its result waits
/// for a consumer to imply it.
static std::optional<ArrayRef<int64_t>> unknownCreationShape(Operation *op) {
  if (!op || op->getNumOperands() != 0 || op->getNumResults() != 1)
    return std::nullopt;
  auto shape = op->getAttrOfType<DenseI64ArrayAttr>("shape");
  if (!shape || !llvm::is_contained(shape.asArrayRef(), 0))
    return std::nullopt;
  return shape.asArrayRef();
}

/// Gives the creation op `producer` (with an unknown dimension) the shape its
/// consumer `user` implies: the known dimensions must agree.
static LogicalResult settleCreationShape(Operation *producer, ArrayRef<int64_t> declared,
                                         ArrayRef<int64_t> implied, Operation *user,
                                         unsigned operand) {
  bool ok = declared.size() == implied.size();
  for (size_t i = 0; ok && i < declared.size(); ++i)
    ok = declared[i] == 0 || declared[i] == implied[i];
  if (!ok)
    return user->emitOpError() << "operand " << operand << " needs shape " << formatShape(implied)
                               << " but its producer '" << producer->getName()
                               << "' has shape " << formatShape(declared)
                               << " (0: unknown)";
  producer->setAttr("shape", DenseI64ArrayAttr::get(producer->getContext(), implied));
  Value res = producer->getResult(0);
  res.setType(RankedTensorType::get(implied, elementTypeOf(res)));
  return success();
}

static LogicalResult inferOp(Operation *op, func::FuncOp func) {
  // Attribute constraints first: shape rules assume verified attributes
  // (e.g. a positive stride), and the importer may hand us unverified IR.
  if (failed(op->getName().verifyInvariants(op)))
    return failure();
  ShapeInferenceState state;
  if (failed(kiln::graph::inferShapes(op, state))) {
    // Say why an operand from a creation op of unknown shape stayed unknown.
    for (Value operand : op->getOperands())
      if (auto declared = unknownCreationShape(operand.getDefiningOp()))
        operand.getDefiningOp()->emitRemark()
            << "shape " << formatShape(*declared)
            << " has MXNet's unknown dimension 0, which Kiln takes only from a consumer whose "
               "shape rule implies it (an RNN state, an operand of an elementwise op), not "
               "backward through other ops (export the Gluon block called with explicit begin states)";
    return failure();
  }
  if (failed(checkResultShapes(op, state)))
    return failure();

  Block &entry = func.getBody().front();
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    if (!state.operands[i])
      continue;
    ArrayRef<int64_t> shape = *state.operands[i];
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (type && type.hasStaticShape())
      continue; // the rule already checked it against the implied shape
    if (!isCompatible(operand.getType(), shape))
      return op->emitOpError() << "operand " << i << " of type " << operand.getType()
                               << " cannot take the inferred shape " << formatShape(shape);
    // Only function arguments and creation ops of unknown shape are refined
    // here: any other producer is an earlier op whose results were already
    // inferred, or a foreign op whose types are not ours to change.
    if (auto declared = unknownCreationShape(operand.getDefiningOp())) {
      if (failed(settleCreationShape(operand.getDefiningOp(), *declared, shape, op, i)))
        return failure();
      continue;
    }
    auto arg = dyn_cast<BlockArgument>(operand);
    if (!arg || arg.getOwner() != &entry)
      continue;
    arg.setType(RankedTensorType::get(shape, elementTypeOf(arg)));
  }

  Type elementType = op->getNumOperands() ? elementTypeOf(op->getOperand(0))
                                          : elementTypeOf(op->getResult(0));
  for (auto [res, shape] : llvm::zip(op->getResults(), state.results))
    res.setType(RankedTensorType::get(shape, elementType));
  return success();
}

mlir::LogicalResult kiln::inferFunctionShapes(func::FuncOp func) {
  if (func.isExternal())
    return success();
  WalkResult walk = func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!isa<ShapeInferenceOpInterface>(op) || unknownCreationShape(op))
      return WalkResult::advance();
    return failed(inferOp(op, func)) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  SmallVector<Type> results(func.getResultTypes());
  if (auto ret = dyn_cast<func::ReturnOp>(func.getBody().back().getTerminator()))
    results.assign(ret.getOperandTypes().begin(), ret.getOperandTypes().end());
  func.setFunctionType(FunctionType::get(
      func.getContext(), func.getBody().front().getArgumentTypes(), results));
  return success();
}

namespace {
struct GraphInferShapesPass
    : kiln::impl::GraphInferShapesBase<GraphInferShapesPass> {
  void runOnOperation() override {
    if (failed(kiln::inferFunctionShapes(getOperation())))
      signalPassFailure();
  }
};
} // namespace
