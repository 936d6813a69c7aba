//===- ShapeOps.cpp - Graph dialect: shape and indexing ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphShapeOps.td.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphShapeOps.h"
#include "Graph/GraphOpsImpl.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphShapeOps.cpp.inc"
