//===- ShapeOps.cpp - Reference semantics: shape and indexing -------------------===//
//
// The interpreter's kernels for GraphShapeOps.td, in double precision,
// following MXNet 1.9.1.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphShapeOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

bool interpretShapeOp(OpEnv &env, Operation *op) {
  (void)env;
  (void)op;
  return false;
}

} // namespace kiln::ref
