//===- GraphDetectionOps.h - Graph dialect: detection heads -*- C++ -*-===//
//
// The ops of GraphDetectionOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHDETECTIONOPS_H
#define KILN_GRAPH_GRAPHDETECTIONOPS_H

#include "Graph/GraphOps.h"

#define GET_OP_CLASSES
#include "Graph/GraphDetectionOps.h.inc"

#endif // KILN_GRAPH_GRAPHDETECTIONOPS_H
