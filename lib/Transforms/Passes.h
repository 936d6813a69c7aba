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

/// Registers every Kiln pass (and pipeline) with the global registry.
inline void registerKilnPasses() { registerKilnTransformsPasses(); }

} // namespace kiln

#endif // KILN_TRANSFORMS_PASSES_H
