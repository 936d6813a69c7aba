//===- Passes.h - Kiln graph-level passes -----------------------*- C++ -*-===//

#ifndef KILN_TRANSFORMS_PASSES_H
#define KILN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace kiln::graph {
class GraphDialect;
}

namespace kiln {

#define GEN_PASS_DECL
#include "Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Transforms/Passes.h.inc"

/// Runs kiln-graph-infer-shapes on one function without a pass manager: infers
/// every graph op's result shapes in program order, gives unranked function
/// arguments the shapes their consumers imply (parameters, labels) and updates
/// the function type. Emits an op error and fails when a shape cannot be
/// inferred or contradicts a declared one.
mlir::LogicalResult inferFunctionShapes(mlir::func::FuncOp func);

/// Registers every Kiln pass (and pipeline) with the global registry.
inline void registerKilnPasses() { registerKilnTransformsPasses(); }

} // namespace kiln

#endif // KILN_TRANSFORMS_PASSES_H
