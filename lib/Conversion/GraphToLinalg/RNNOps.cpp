//===- RNNOps.cpp - Lowering of recurrent layers to linalg ----------------===//
//
// GraphRNNOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/RNNOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphRNNOps.h"
#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

std::optional<Results> lowerRNNOp(Ctx &cx, Operation *op) {
  (void)cx;
  (void)op;
  return std::nullopt;
}

} // namespace kiln::lowering
