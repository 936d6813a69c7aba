//===- GraphReduceOps.h - Graph dialect: reductions and sorting -*- C++ -*-===//
//
// The ops of GraphReduceOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHREDUCEOPS_H
#define KILN_GRAPH_GRAPHREDUCEOPS_H

#include "Graph/GraphOps.h"

#define GET_OP_CLASSES
#include "Graph/GraphReduceOps.h.inc"

#endif // KILN_GRAPH_GRAPHREDUCEOPS_H
