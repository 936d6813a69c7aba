//===- ReduceOps.cpp - Lowering of reductions and sorting to linalg ----------------===//
//
// GraphReduceOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/ReduceOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphReduceOps.h"
#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

std::optional<Results> lowerReduceOp(Ctx &cx, Operation *op) {
  (void)cx;
  (void)op;
  return std::nullopt;
}

} // namespace kiln::lowering
