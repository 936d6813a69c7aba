//===- NNOps.cpp - Lowering of neural-network layers to linalg ----------------===//
//
// GraphNNOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/NNOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

std::optional<Results> lowerNNOp(Ctx &cx, Operation *op) {
  (void)cx;
  (void)op;
  return std::nullopt;
}

} // namespace kiln::lowering
