//===- DetectionOps.cpp - Reference semantics: detection heads -------------------===//
//
// The interpreter's kernels for GraphDetectionOps.td, in double precision,
// following MXNet 1.9.1.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

bool interpretDetectionOp(OpEnv &env, Operation *op) {
  (void)env;
  (void)op;
  return false;
}

} // namespace kiln::ref
