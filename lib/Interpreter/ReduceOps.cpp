//===- ReduceOps.cpp - Reference semantics: reductions and sorting -------------------===//
//
// The interpreter's kernels for GraphReduceOps.td, in double precision,
// following MXNet 1.9.1.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphReduceOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

bool interpretReduceOp(OpEnv &env, Operation *op) {
  (void)env;
  (void)op;
  return false;
}

} // namespace kiln::ref
