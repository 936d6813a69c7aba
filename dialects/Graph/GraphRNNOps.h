//===- GraphRNNOps.h - Graph dialect: recurrent layers -*- C++ -*-===//
//
// The ops of GraphRNNOps.td. Only the sources of this family include this
// header: the rest of Kiln reaches the ops through the op registry and the
// family's entry points (interpreter, lowering).
//
// RNNLayout is the one description of MXNet's packed RNN parameter vector
// (where each layer's and direction's weights and biases lie) and of the
// sizes an RNN works with; the shape rule, the interpreter and the lowering
// all read it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHRNNOPS_H
#define KILN_GRAPH_GRAPHRNNOPS_H

#include "Graph/GraphOps.h"

#define GET_OP_CLASSES
#include "Graph/GraphRNNOps.h.inc"

namespace kiln::graph {

/// The sizes of one RNN and where MXNet packs its parameters.
struct RNNLayout {
  RNNMode mode = RNNMode::lstm;
  /// Sequence length, batch, input size, state size, projection size (0:
  /// none), layers, directions.
  int64_t seqLen = 0, batch = 0, input = 0, hidden = 0, projection = 0, layers = 0, dirs = 1;

  /// Offsets (elements) of one layer and direction's blocks in `parameters`.
  struct Blocks {
    int64_t wx, wh, whr, bx, bh;
  };

  /// Gates per step: 1 (rnn_relu, rnn_tanh), 3 (gru), 4 (lstm).
  int64_t gates() const;
  /// The recurrent state's size: the projection's, or the hidden size.
  int64_t recurrent() const { return projection ? projection : hidden; }
  /// The input size of `layer`: the data's for layer 0, D·R above it.
  int64_t layerInput(int64_t layer) const { return layer ? dirs * recurrent() : input; }
  /// Rows of Wx, Wh and the biases: G·H.
  int64_t gateRows() const { return gates() * hidden; }
  Blocks blocks(int64_t layer, int64_t dir) const;
  /// MXNet's GetRnnParamSize.
  int64_t paramSize() const;
};

/// The layout of an RNN op (graph.rnn or graph.rnn_grad) with `data` of
/// shape `dataShape` (T, N, I).
template <typename OpT> RNNLayout rnnLayout(OpT op, llvm::ArrayRef<int64_t> dataShape) {
  RNNLayout l;
  l.mode = op.getMode();
  l.seqLen = dataShape[0];
  l.batch = dataShape[1];
  l.input = dataShape[2];
  l.hidden = static_cast<int64_t>(op.getStateSize());
  l.projection = op.getProjectionSize() ? static_cast<int64_t>(*op.getProjectionSize()) : 0;
  l.layers = static_cast<int64_t>(op.getNumLayers());
  l.dirs = op.getBidirectional() ? 2 : 1;
  return l;
}

} // namespace kiln::graph

#endif // KILN_GRAPH_GRAPHRNNOPS_H
