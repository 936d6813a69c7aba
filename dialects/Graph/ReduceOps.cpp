//===- ReduceOps.cpp - Graph dialect: reductions and sorting ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphReduceOps.td.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphReduceOps.h"
#include "Graph/GraphOpsImpl.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphReduceOps.cpp.inc"
