//===- DetectionOps.cpp - Lowering of detection heads to linalg ----------------===//
//
// GraphDetectionOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/DetectionOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

std::optional<Results> lowerDetectionOp(Ctx &cx, Operation *op) {
  (void)cx;
  (void)op;
  return std::nullopt;
}

} // namespace kiln::lowering
