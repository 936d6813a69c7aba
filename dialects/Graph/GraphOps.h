//===- GraphOps.h - Kiln graph dialect ops ----------------------*- C++ -*-===//
//
// The graph dialect: one op per MXNet operator on builtin tensors.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHOPS_H
#define KILN_GRAPH_GRAPHOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>
#include <string>

namespace kiln::graph {

/// A tensor shape, each dimension static.
using Shape = llvm::SmallVector<int64_t, 4>;

/// In/out state of ShapeInferenceOpInterface::inferShapes.
struct ShapeInferenceState {
  /// One entry per operand: its shape when known. An op may fill entries that
  /// are unknown but implied by its attributes (parameter shapes).
  llvm::SmallVector<std::optional<Shape>, 4> operands;
  /// Filled by the op: one entry per result.
  llvm::SmallVector<Shape, 1> results;
};

} // namespace kiln::graph

#include "Graph/GraphDialect.h.inc"
#include "Graph/GraphEnums.h.inc"
#define GET_ATTRDEF_CLASSES
#include "Graph/GraphAttrs.h.inc"
#include "Graph/GraphInterfaces.h.inc"
#define GET_OP_CLASSES
#include "Graph/GraphOps.h.inc"

namespace kiln::graph {

/// Runs shape inference on `op` from its current operand types. On success,
/// `state` holds the inferred operand and result shapes.
llvm::LogicalResult inferShapes(mlir::Operation *op, ShapeInferenceState &state);

/// Verifier shared by every graph op: when all operands are ranked, the
/// inferred operand and result shapes must equal the declared ones.
llvm::LogicalResult verifyShapes(mlir::Operation *op);

/// Checks the op's declared result types against `state.results` (the count,
/// and every dimension of a ranked result that is static), emitting
/// "result 0 has shape (2, 9) but the shape rule gives (2, 10)" otherwise.
llvm::LogicalResult checkResultShapes(mlir::Operation *op,
                                      const ShapeInferenceState &state);

/// Formats a shape the way diagnostics print it: "(2, 3)", "?" for dynamic.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace kiln::graph

#endif // KILN_GRAPH_GRAPHOPS_H
