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

// The attributes graph.rnn and graph.rnn_grad share (MXNet's RNNParam, less
// state_outputs and the state clipping, which only the forward op carries).
defvar RNN_CommonAttrs = (ins I64Attr:$state_size, I64Attr:$num_layers,
                          DefaultValuedAttr<BoolAttr, "false">:$bidirectional,
                          Graph_RNNModeAttr:$mode,
                          DefaultValuedAttr<F32Attr, "0.0f">:$p,
                          OptionalAttr<I64Attr>:$projection_size,
                          DefaultValuedAttr<BoolAttr, "false">:$use_sequence_length);

def Graph_RNNOp : Graph_Op<"rnn",
    [DeclareOpInterfaceMethods<Graph_TrainingModeOpInterface>]> {
  let summary = "MXNet RNN: fused multi-layer, optionally bidirectional rnn_relu, rnn_tanh, lstm or gru";
  let description = [{
    MXNet 1.9.1's `RNN` (src/operator/rnn-inl.h, rnn_impl.h). Operands, in
    MXNet's order:
    - `data` `(T, N, I)`: sequence length, batch, input size (layout TNC);
    - `parameters`: MXNet's packed 1-D vector. First every weight, layer by
      layer and within a layer direction by direction (forward, then
      backward): `Wx (G·H, in)` then `Wh (G·H, R)` (and, with
      `projection_size` P, `Whr (P, H)`); then every bias in the same order:
      `bx (G·H)` then `bh (G·H)`. G is 1 (rnn_relu, rnn_tanh), 4 (lstm, gate
      rows i, f, g, o) or 3 (gru, rows r, z, n); H is `state_size`, R the
      recurrent size (P with a projection, else H), `in` is I for layer 0
      and D·R above it (D = 2 when `bidirectional`);
    - `state` `(L·D, N, R)`: the initial hidden state of each layer and
      direction (index l·D + d);
    - `state_cell` `(L·D, N, H)`: lstm only;
    - `sequence_length` `(N)`: only with `use_sequence_length`;
    - `dropout_mask` `(L − 1, T, N, D·R)`: not MXNet's; training mode
      (kiln-graph-training-mode) adds it when p > 0 and L > 1, a
      graph.dropout_mask with rate p (one per element).

    Per layer and direction, at each time step (t from 0 up, or from T − 1
    down for the backward direction), with x the layer's input at t and h, c
    the running states:
    - rnn_relu / rnn_tanh: h = act(Wx·x + bx + Wh·h + bh);
    - lstm: i, f, o = σ(·), g = tanh(·) of the gate rows of
      Wx·x + bx + Wh·h + bh; c = f·c + i·g; h = o·tanh(c); with a
      projection the recurrent state (and the output) is r = Whr·h;
    - gru (MXNet's and cuDNN's variant, not the paper's):
      r = σ(Wx_r·x + bx_r + Wh_r·h + bh_r), z likewise,
      n = tanh(Wx_n·x + bx_n + r·(Wh_n·h + bh_n)), h = (1 − z)·n + z·h.
    A layer's output `(T, N, D·R)` holds the forward direction's states in
    columns [0, R) and the backward direction's in [R, 2R); it is the next
    layer's input. Results: `output` (the last layer's), and with
    `state_outputs` the final states `(L·D, N, R)` and, for lstm, the final
    cells `(L·D, N, H)`.

    `p` is MXNet's dropout between layers (on every layer's output but the
    last's, the next layer's input; not on the final states): the identity
    at inference. In training the output of layer l < L − 1 is multiplied by
    `dropout_mask[l]` (0 or 1/(1 − p) per element, as MXNet's kernel); MXNet
    draws its masks from its own std::mt19937 stream, Kiln from its
    counter-based one, so the two agree in distribution only. Without the
    mask operand (a function not in training mode) there is no dropout; the
    interpreter refuses a training-mode run of such an op with p > 0 and
    more than one layer.

    `projection_size` (lstm only) is supported for the forward; MXNet 1.9.1
    has no CPU gradient for it and neither has Kiln.
    `lstm_state_clip_min`/`_max` are refused: MXNet 1.9.1 clips only with
    cuDNN and its CPU operator refuses them (`lstm_state_clip_nan` alone is
    ignored, as MXNet ignores it without a range).

    rnn_relu in MXNet's float64 kernel rounds every state to float32 (its
    relu helper returns a float); the interpreter does the same.

    `use_sequence_length` (cuDNN's padded layout; MXNet 1.9.1's CPU operator
    refuses it): batch element n runs ⌊sequence_length[n]⌋ steps (clamped to
    [0, T]), the backward direction starting at its last valid step; its
    outputs past the length are 0 and its final states are those of its last
    valid step.

    Example:
    ```mlir
    %y, %hy, %cy = graph.rnn %x, %w, %h0, %c0
        {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64, state_size = 2 : i64,
         state_outputs = true}
        : (tensor<3x2x3xf32>, tensor<56xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
        -> (tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
    ```
  }];
  let arguments = !con((ins Graph_Tensor:$data, Graph_Tensor:$parameters, Graph_Tensor:$state,
                            Variadic<Graph_Tensor>:$extra),
                       RNN_CommonAttrs,
                       (ins DefaultValuedAttr<BoolAttr, "false">:$state_outputs,
                            OptionalAttr<F64Attr>:$lstm_state_clip_min,
                            OptionalAttr<F64Attr>:$lstm_state_clip_max,
                            DefaultValuedAttr<BoolAttr, "false">:$lstm_state_clip_nan));
  let results = (outs Graph_Tensor:$output, Variadic<Graph_Tensor>:$states);
  let mxnetName = "RNN";
  let mxnetAliases = ["_npx_rnn"];
  let mxnetAttrs = [MXReq<"state_size", "Int">, MXReq<"num_layers", "Int">,
                    MXDef<"bidirectional", "Bool", "False">, MXEnum<"mode", "RNNMode">,
                    MXDef<"p", "F32", "0">, MXDef<"state_outputs", "Bool", "False">,
                    MXOpt<"projection_size", "Int">, MXOpt<"lstm_state_clip_min", "F64">,
                    MXOpt<"lstm_state_clip_max", "F64">,
                    MXDef<"lstm_state_clip_nan", "Bool", "False">,
                    MXDef<"use_sequence_length", "Bool", "False">];
  let mxnetInputs = ["data", "parameters", "state", "state_cell", "sequence_length"];
  let mxnetInputRule = "RNN";
  let customVerifier = 1;
  let opDecl = [{
    /// The lstm cell state operand, or null.
    ::mlir::Value getStateCell();
    /// The sequence_length operand, or null.
    ::mlir::Value getSequenceLength();
    /// The training-mode dropout masks, or null.
    ::mlir::Value getDropoutMask();
    /// The final states (null without state_outputs) and cells (lstm).
    ::mlir::Value getStateOutput();
    ::mlir::Value getStateCellOutput();
  }];
}

def Graph_RNNGradOp : Graph_Op<"rnn_grad"> {
  let summary = "Gradients of graph.rnn: data, parameters, state and state_cell";
  let description = [{
    Operands: the forward's `data`, `parameters`, `state`, then `extra`: its
    `state_cell` (lstm), its `sequence_length` (with `use_sequence_length`),
    its `dropout_mask` (when it has one), the gradient of its `output`, of
    its final states and, for lstm, of its final cells (zeros where the
    forward has no such result or nobody uses it). The attributes are the
    forward's. Results: the gradients of `data`, `parameters`, `state` and,
    for lstm, `state_cell`.

    The kernel recomputes the forward, keeping every gate, then runs
    back-propagation through time layer by layer from the last, exactly the
    derivative of graph.rnn's formulas, the dropout masks included (MXNet's
    RNNBackward computes the same). A projection has no gradient.

    Example:
    ```mlir
    %dx, %dw, %dh = graph.rnn_grad %x, %w, %h0, %dy, %dhy
        {mode = #graph.rnn_mode<gru>, num_layers = 1 : i64, state_size = 2 : i64}
        : (tensor<3x2x3xf32>, tensor<42xf32>, tensor<1x2x2xf32>, tensor<3x2x2xf32>,
           tensor<1x2x2xf32>) -> (tensor<3x2x3xf32>, tensor<42xf32>, tensor<1x2x2xf32>)
    ```
  }];
  let arguments = !con((ins Graph_Tensor:$data, Graph_Tensor:$parameters, Graph_Tensor:$state,
                            Variadic<Graph_Tensor>:$extra),
                       RNN_CommonAttrs);
  let results = (outs Graph_Tensor:$data_grad, Graph_Tensor:$parameters_grad,
                      Graph_Tensor:$state_grad, Variadic<Graph_Tensor>:$state_cell_grad);
  let customVerifier = 1;
  let opDecl = [{
    ::mlir::Value getStateCell();
    ::mlir::Value getSequenceLength();
    ::mlir::Value getDropoutMask();
    ::mlir::Value getOutputGrad();
    ::mlir::Value getStateOutputGrad();
    /// Null unless lstm.
    ::mlir::Value getStateCellOutputGrad();
  }];
}

def Graph_RNNParamConcatOp : Graph_Op<"rnn_param_concat"> {
  let summary = "MXNet _rnn_param_concat: Concat of the weights Gluon packs for RNN";
  let description = [{
    Gluon's recurrent layers (gluon.rnn.LSTM, GRU, RNN) flatten every weight
    and bias (`Reshape(shape=(-1,))`) and join them with this op, in the
    order of graph.rnn's `parameters`. It is MXNet's Concat (all inputs
    agree outside `dim`, default 1); MXNet's shape inference may also fill
    one unknown input from a known output, which Kiln does not need because
    the weights' shapes come from the .params file.

    Example:
    ```mlir
    %w = graph.rnn_param_concat %a, %b {dim = 0 : i64}
        : (tensor<24xf32>, tensor<16xf32>) -> tensor<40xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs,
                   DefaultValuedAttr<I64Attr, "1">:$dim);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_rnn_param_concat";
  let mxnetAliases = ["_npi_rnn_param_concat"];
  let mxnetAttrs = [MXDef<"dim", "Int", "1">];
  let mxnetInputRule = "Variadic";
  let customVerifier = 1;
}

#endif // KILN_GRAPH_RNN_OPS
