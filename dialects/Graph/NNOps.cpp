//===- NNOps.cpp - Graph dialect: neural-network layers ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphNNOps.td.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "Graph/GraphOpsImpl.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphNNOps.cpp.inc"
