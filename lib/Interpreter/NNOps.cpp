//===- NNOps.cpp - Reference semantics: neural-network layers -------------------===//
//
// The interpreter's kernels for GraphNNOps.td, in double precision,
// following MXNet 1.9.1.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

bool interpretNNOp(OpEnv &env, Operation *op) {
  (void)env;
  (void)op;
  return false;
}

} // namespace kiln::ref
