//===- RNNOps.cpp - Reference semantics: recurrent layers -------------------===//
//
// The interpreter's kernels for GraphRNNOps.td, in double precision,
// following MXNet 1.9.1.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphRNNOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

bool interpretRNNOp(OpEnv &env, Operation *op) {
  (void)env;
  (void)op;
  return false;
}

} // namespace kiln::ref
