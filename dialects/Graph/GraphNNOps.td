//===- GraphNNOps.td - Graph dialect: neural-network layers -*- tablegen -*-===//
//
// Layers beyond the core ones: normalizations (LayerNorm, InstanceNorm, GroupNorm,
// L2Normalization), resizing and adaptive pooling, batch_dot, MakeLoss.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphNNOps.h, defined in dialects/Graph/NNOps.cpp, run by
// lib/Interpreter/NNOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/NNOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_NN_OPS
#define KILN_GRAPH_NN_OPS

include "Graph/GraphBase.td"

#endif // KILN_GRAPH_NN_OPS
