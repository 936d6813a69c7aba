//===- GraphShapeOps.h - Graph dialect: shape and indexing -*- C++ -*-===//
//
// The ops of GraphShapeOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHSHAPEOPS_H
#define KILN_GRAPH_GRAPHSHAPEOPS_H

#include "Graph/GraphOps.h"

#define GET_OP_CLASSES
#include "Graph/GraphShapeOps.h.inc"

#endif // KILN_GRAPH_GRAPHSHAPEOPS_H
