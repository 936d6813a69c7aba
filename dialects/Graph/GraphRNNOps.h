//===- GraphRNNOps.h - Graph dialect: recurrent layers -*- C++ -*-===//
//
// The ops of GraphRNNOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHRNNOPS_H
#define KILN_GRAPH_GRAPHRNNOPS_H

#include "Graph/GraphOps.h"

#define GET_OP_CLASSES
#include "Graph/GraphRNNOps.h.inc"

#endif // KILN_GRAPH_GRAPHRNNOPS_H
