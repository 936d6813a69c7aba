//===- GraphReduceOps.td - Graph dialect: reductions and sorting -*- tablegen -*-===//
//
// Reductions beyond sum/mean/max/min (GraphOps.td) and sorting: prod, nansum, norm,
// argmax, argmin, topk, sort, argsort.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphReduceOps.h, defined in dialects/Graph/ReduceOps.cpp, run by
// lib/Interpreter/ReduceOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/ReduceOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_REDUCE_OPS
#define KILN_GRAPH_REDUCE_OPS

include "Graph/GraphBase.td"

#endif // KILN_GRAPH_REDUCE_OPS
