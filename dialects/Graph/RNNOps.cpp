//===- RNNOps.cpp - Graph dialect: recurrent layers ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphRNNOps.td.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphRNNOps.h"
#include "Graph/GraphOpsImpl.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphRNNOps.cpp.inc"
