//===- DetectionOps.cpp - Graph dialect: detection heads ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphDetectionOps.td.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "Graph/GraphOpsImpl.h"

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphDetectionOps.cpp.inc"
