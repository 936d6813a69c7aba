//===- InferShapes.cpp - kiln-graph-infer-shapes --------------------------===//
//
// MXNet-style shape inference over a model function: each graph op, visited
// in program order, infers its results from its operands and may pin down
// the shapes of function arguments it consumes (parameters, labels), the way
// MXNet's InferShape derives weight shapes from the data shape.
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

static LogicalResult inferOp(Operation *op, func::FuncOp func) {
  // Attribute constraints first: shape rules assume verified attributes
  // (e.g. a positive stride), and the importer may hand us unverified IR.
  if (failed(op->getName().verifyInvariants(op)))
    return failure();
  ShapeInferenceState state;
  if (failed(kiln::graph::inferShapes(op, state)))
    return failure();
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
    // Only function arguments are refined here: any other producer is an
    // earlier op whose results were already inferred, or a foreign op whose
    // types are not ours to change.
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
    if (!isa<ShapeInferenceOpInterface>(op))
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
