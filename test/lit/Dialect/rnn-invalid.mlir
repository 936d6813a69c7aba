// Verifier diagnostics of the RNN family (GraphRNNOps.td).
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @state_size(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op state_size must be positive, got 0}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 1 : i64, state_size = 0 : i64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @num_layers(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op num_layers must be positive, got 0}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 0 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dropout(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op p (the dropout rate between layers) must be in [0, 1), got 1}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 2 : i64, state_size = 2 : i64,
                             p = 1.0 : f32}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @projection_mode(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op projection_size is supported only for lstm, not gru}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 1 : i64, state_size = 2 : i64,
                             projection_size = 1 : i64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @projection_size(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>, %c: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op projection_size must be positive, got 0}}
  %y = graph.rnn %x, %w, %h, %c {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64,
                                 state_size = 2 : i64, projection_size = 0 : i64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @clip(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>, %c: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op lstm_state_clip_min/lstm_state_clip_max are not supported (MXNet 1.9.1 clips LSTM states only with cuDNN on a GPU; its CPU operator refuses them too)}}
  %y = graph.rnn %x, %w, %h, %c {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64,
                                 state_size = 2 : i64, lstm_state_clip_min = -1.0 : f64,
                                 lstm_state_clip_max = 1.0 : f64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @missing_cell(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op mode lstm without use_sequence_length takes 4 operands (data, parameters, state, state_cell) and a dropout_mask in training mode, got 3}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @missing_lengths(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op mode rnn_relu with use_sequence_length takes 4 operands (data, parameters, state, sequence_length) and a dropout_mask in training mode, got 3}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<rnn_relu>, num_layers = 1 : i64, state_size = 2 : i64,
                             use_sequence_length = true}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @results(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op mode gru with state_outputs has 2 results, got 1}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<gru>, num_layers = 1 : i64, state_size = 2 : i64,
                             state_outputs = true}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @data_rank(%x: tensor<3x2xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>) {
  // expected-error @+1 {{'graph.rnn' op data must have rank 3 (sequence length, batch, input size), got shape (3, 2)}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2xf32>, tensor<14xf32>, tensor<1x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @param_size(%x: tensor<3x2x3xf32>, %w: tensor<15xf32>, %h: tensor<1x2x2xf32>) {
  // expected-error @+1 {{'graph.rnn' op operand 'parameters' has shape (15) but the RNN's attributes and data shape give (14)}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<15xf32>, tensor<1x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @state_shape(%x: tensor<3x2x3xf32>, %w: tensor<28xf32>, %h: tensor<1x2x2xf32>) {
  // Two directions: one initial state each.
  // expected-error @+1 {{'graph.rnn' op operand 'state' has shape (1, 2, 2) but the RNN's attributes and data shape give (2, 2, 2)}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64,
                             bidirectional = true}
      : (tensor<3x2x3xf32>, tensor<28xf32>, tensor<1x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lengths_shape(%x: tensor<3x2x3xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>, %n: tensor<3xf32>) {
  // expected-error @+1 {{'graph.rnn' op operand 'sequence_length' has shape (3) but the RNN's attributes and data shape give (2)}}
  %y = graph.rnn %x, %w, %h, %n {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64,
                                 use_sequence_length = true}
      : (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @output_shape(%x: tensor<3x2x3xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>) {
  // expected-error @+1 {{'graph.rnn' op result 0 has shape (3, 2, 3) but the shape rule gives (3, 2, 2)}}
  %y = graph.rnn %x, %w, %h {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>) -> tensor<3x2x3xf32>
  return
}

// -----

func.func @grad_operands(%x: tensor<3x2x3xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>, %dy: tensor<3x2x2xf32>) {
  // expected-error @+1 {{'graph.rnn_grad' op mode rnn_tanh without use_sequence_length takes 5 operands and a dropout_mask in training mode, got 4}}
  %dx, %dw, %dh = graph.rnn_grad %x, %w, %h, %dy {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>, tensor<3x2x2xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @grad_results(%x: tensor<3x2x3xf32>, %w: tensor<56xf32>, %h: tensor<1x2x2xf32>, %dy: tensor<3x2x2xf32>) {
  // expected-error @+1 {{'graph.rnn_grad' op mode lstm has 4 results, got 3}}
  %dx, %dw, %dh = graph.rnn_grad %x, %w, %h, %h, %dy, %h, %h {mode = #graph.rnn_mode<lstm>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<56xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>, tensor<3x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @grad_out_shape(%x: tensor<3x2x3xf32>, %w: tensor<14xf32>, %h: tensor<1x2x2xf32>, %dy: tensor<3x2x3xf32>) {
  // expected-error @+1 {{'graph.rnn_grad' op operand 'output gradient' has shape (3, 2, 3) but the RNN's attributes and data shape give (3, 2, 2)}}
  %dx, %dw, %dh = graph.rnn_grad %x, %w, %h, %dy, %h {mode = #graph.rnn_mode<rnn_tanh>, num_layers = 1 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<14xf32>, tensor<1x2x2xf32>, tensor<3x2x3xf32>, tensor<1x2x2xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{'graph.rnn_param_concat' op needs at least one input}}
  %w = graph.rnn_param_concat {dim = 0 : i64} : () -> tensor<*xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  // expected-error @+1 {{'graph.rnn_param_concat' op operand 'inputs #1' has shape (3, 3), which does not match (2, 3) outside dim 1}}
  %w = graph.rnn_param_concat %a, %b : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_dim(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.rnn_param_concat' op dim 2 out of range for rank-2 input}}
  %w = graph.rnn_param_concat %a {dim = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// A negative dim counts from the end (the attribute's getter is unsigned).
func.func @concat_negative_dim(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'graph.rnn_param_concat' op dim -3 out of range for rank-2 input}}
  %w = graph.rnn_param_concat %a {dim = -3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mask_without_dropout(%x: tensor<3x2x3xf32>, %w: tensor<*xf32>, %h: tensor<*xf32>, %m: tensor<*xf32>) {
  // expected-error @+1 {{'graph.rnn' op has a dropout_mask operand but no dropout between layers (p = 0 or a single layer)}}
  %y = graph.rnn %x, %w, %h, %m {mode = #graph.rnn_mode<gru>, num_layers = 2 : i64, state_size = 2 : i64}
      : (tensor<3x2x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mask_shape(%x: tensor<3x2x3xf32>, %w: tensor<78xf32>, %h: tensor<2x2x2xf32>, %m: tensor<1x3x2x3xf32>) {
  // expected-error @+1 {{'graph.rnn' op operand 'dropout_mask' has shape (1, 3, 2, 3) but the RNN's attributes and data shape give (1, 3, 2, 2)}}
  %y = graph.rnn %x, %w, %h, %m {mode = #graph.rnn_mode<gru>, num_layers = 2 : i64, state_size = 2 : i64, p = 0.5 : f32}
      : (tensor<3x2x3xf32>, tensor<78xf32>, tensor<2x2x2xf32>, tensor<1x3x2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// The Sequence ops (SequenceMask, SequenceLast, SequenceReverse).
func.func @sequence_length_missing(%x: tensor<3x2x4xf32>) {
  // expected-error @+1 {{'graph.sequence_mask' op use_sequence_length needs the operand 'sequence_length'}}
  %y = graph.sequence_mask %x {use_sequence_length = true} : (tensor<3x2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sequence_length_unwanted(%x: tensor<3x2x4xf32>, %l: tensor<2xf32>) {
  // expected-error @+1 {{'graph.sequence_last' op takes the operand 'sequence_length' only with use_sequence_length}}
  %y = graph.sequence_last %x, %l : (tensor<3x2x4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sequence_axis(%x: tensor<3x2x4xf32>) {
  // expected-error @+1 {{'graph.sequence_mask' op axis must be 0 or 1 (MXNet 1.9.1 supports no other), got 2}}
  %y = graph.sequence_mask %x {axis = 2 : i64} : (tensor<3x2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sequence_reverse_axis(%x: tensor<3x2x4xf32>) {
  // expected-error @+1 {{'graph.sequence_reverse' op axis must be 0 (MXNet 1.9.1 supports only a leading time axis), got 1}}
  %y = graph.sequence_reverse %x {axis = 1 : i64} : (tensor<3x2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sequence_rank(%x: tensor<3xf32>) {
  // expected-error @+1 {{'graph.sequence_last' op expects data of rank 2 or greater (time and batch axes), got rank 1}}
  %y = graph.sequence_last %x : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

// sequence_length has one entry per batch element: 3 with axis 1.
func.func @sequence_length_shape(%x: tensor<3x2x4xf32>, %l: tensor<2xf32>) {
  // expected-error @+1 {{'graph.sequence_mask' op operand 'sequence_length' has shape (2) but the shape rule gives (3)}}
  %y = graph.sequence_mask %x, %l {use_sequence_length = true, axis = 1 : i64}
      : (tensor<3x2x4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sequence_last_result(%x: tensor<3x2x4xf32>) {
  // expected-error @+1 {{'graph.sequence_last' op result 0 has shape (3, 4) but the shape rule gives (2, 4)}}
  %y = graph.sequence_last %x : (tensor<3x2x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @sequence_last_grad_shape(%x: tensor<3x2x4xf32>, %dy: tensor<3x4xf32>) {
  // expected-error @+1 {{'graph.sequence_last_grad' op operand 'output_grad' has shape (3, 4) but the shape rule gives (2, 4)}}
  %dx = graph.sequence_last_grad %x, %dy : (tensor<3x2x4xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  return
}
