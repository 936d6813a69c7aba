//===- GraphRNNOps.td - Graph dialect: recurrent layers -*- tablegen -*-===//
//
// MXNet's fused RNN operator (lstm, gru, rnn_relu, rnn_tanh; layers, directions, its packed
// parameter vector).
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphRNNOps.h, defined in dialects/Graph/RNNOps.cpp, run by
// lib/Interpreter/RNNOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/RNNOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_RNN_OPS
#define KILN_GRAPH_RNN_OPS

include "Graph/GraphBase.td"

#endif // KILN_GRAPH_RNN_OPS
