// kiln-recompute (MXNet's mirror) on kiln-autodiff's output: which forward
// values are recomputed in the backward and which deliberately are not.
// RUN: kiln-opt %s --kiln-autodiff --kiln-recompute --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-autodiff --kiln-recompute='batch-norm=false' --split-input-file | FileCheck %s --check-prefix=NOBN
// RUN: kiln-opt %s --kiln-autodiff --kiln-recompute --kiln-recompute --split-input-file | FileCheck %s

// BatchNorm → relu → convolution: conv2's weight gradient and the relu's
// gradient read the relu output. It is recomputed from conv1's output,
// which batch_norm_grad reads anyway: a clone of batch_norm_train (whose
// statistics results stay unused; the moving averages and batch_norm_grad
// keep the forward's) and of the relu, right before the first backward use.
// The convolutions are not recomputed.
// CHECK-LABEL: func.func @bn_relu_conv(
// CHECK-SAME: attributes {graph.differentiated, graph.recomputed, graph.training}
// CHECK: %[[C1:.*]] = graph.convolution %arg0, %arg1
// CHECK: %[[Y:[a-z0-9_]+]], %[[MEAN:[a-z0-9_]+]], %[[VAR:[a-z0-9_]+]] = graph.batch_norm_train %[[C1]], %arg2, %arg3
// CHECK: graph.mul_scalar %[[MEAN]]
// CHECK: graph.mul_scalar %[[VAR]]
// CHECK: %[[R:.*]] = graph.activation %[[Y]] {act_type = #graph.act_type<relu>}
// CHECK: graph.convolution %[[R]], %arg6
// CHECK: graph.softmax_output_grad
// CHECK-NOT: %[[R]]
// CHECK: graph.deconvolution
// CHECK-NOT: %[[R]]
// CHECK: %[[Y2:[a-z0-9_]+]], %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} = graph.batch_norm_train %[[C1]], %arg2, %arg3
// CHECK-NEXT: %[[R2:.*]] = graph.activation %[[Y2]] {act_type = #graph.act_type<relu>}
// CHECK-NEXT: graph.convolution_weight_grad %[[R2]]
// CHECK-NEXT: graph.activation_grad %{{.*}}, %[[R2]]
// CHECK-NEXT: graph.batch_norm_grad %[[C1]], %arg2, %[[MEAN]], %[[VAR]]
// No convolution is cloned (graph.convolution_weight_grad does not match).
// CHECK-NOT: graph.convolution %
// CHECK-NOT: %[[R]]
// CHECK: return
// With batch-norm=false (MXNet's set) the relu's input is not recomputable
// and not alive in the backward, so the relu output stays.
// NOBN-LABEL: func.func @bn_relu_conv(
// NOBN: %[[R:.*]] = graph.activation
// NOBN-NOT: graph.batch_norm_train
// NOBN: graph.convolution_weight_grad %[[R]]
// NOBN: graph.activation_grad %{{.*}}, %[[R]]
func.func @bn_relu_conv(%x: tensor<2x3x4x4xf32> {graph.kind = "input", graph.name = "data"},
                        %w1: tensor<4x3x1x1xf32> {graph.kind = "param", graph.name = "conv1_weight"},
                        %g: tensor<4xf32> {graph.kind = "param", graph.name = "bn_gamma"},
                        %b: tensor<4xf32> {graph.kind = "param", graph.name = "bn_beta"},
                        %mm: tensor<4xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
                        %mv: tensor<4xf32> {graph.kind = "aux", graph.name = "bn_moving_var"},
                        %w2: tensor<5x4x1x1xf32> {graph.kind = "param", graph.name = "conv2_weight"},
                        %fw: tensor<3x80xf32> {graph.kind = "param", graph.name = "fc_weight"},
                        %l: tensor<2xf32> {graph.kind = "input", graph.name = "softmax_label"})
    -> (tensor<2x3xf32> {graph.name = "softmax_output"}) {
  %0 = graph.convolution %x, %w1 {kernel = array<i64: 1, 1>, num_filter = 4 : i64}
      : (tensor<2x3x4x4xf32>, tensor<4x3x1x1xf32>) -> tensor<2x4x4x4xf32> loc("conv1")
  %1 = graph.batch_norm %0, %g, %b, %mm, %mv {fix_gamma = false}
      : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> tensor<2x4x4x4xf32> loc("bn")
  %2 = graph.activation %1 {act_type = #graph.act_type<relu>}
      : (tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32> loc("relu")
  %3 = graph.convolution %2, %w2 {kernel = array<i64: 1, 1>, num_filter = 5 : i64}
      : (tensor<2x4x4x4xf32>, tensor<5x4x1x1xf32>) -> tensor<2x5x4x4xf32> loc("conv2")
  %4 = graph.flatten %3 : (tensor<2x5x4x4xf32>) -> tensor<2x80xf32> loc("flat")
  %5 = graph.fully_connected %4, %fw {num_hidden = 3 : i64}
      : (tensor<2x80xf32>, tensor<3x80xf32>) -> tensor<2x3xf32> loc("fc")
  %6 = graph.softmax_output %5, %l : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32> loc("softmax")
  return %6 : tensor<2x3xf32>
}

// -----

// Convolution → relu: the relu output is not recomputed, since that would
// keep conv1's output (which the backward does not read) alive instead: the
// same memory, plus the work. Nor is the flatten of conv2's output. Nothing
// is cloned; the backward reads the forward values.
// CHECK-LABEL: func.func @conv_relu(
// CHECK: %[[R:.*]] = graph.activation
// CHECK: %[[F:.*]] = graph.flatten
// CHECK: graph.softmax_output_grad
// CHECK-NOT: graph.activation %
// CHECK-NOT: graph.flatten
// CHECK: graph.dot %{{.*}}, %[[F]] {transpose_a = true}
// CHECK-NOT: graph.activation %
// CHECK: graph.convolution_weight_grad %[[R]]
// CHECK-NEXT: graph.activation_grad %{{.*}}, %[[R]]
// CHECK-NOT: graph.convolution %
// CHECK: return
func.func @conv_relu(%x: tensor<2x3x4x4xf32> {graph.kind = "input", graph.name = "data"},
                     %w1: tensor<4x3x1x1xf32> {graph.kind = "param", graph.name = "conv1_weight"},
                     %b1: tensor<4xf32> {graph.kind = "param", graph.name = "conv1_bias"},
                     %w2: tensor<5x4x1x1xf32> {graph.kind = "param", graph.name = "conv2_weight"},
                     %fw: tensor<3x80xf32> {graph.kind = "param", graph.name = "fc_weight"},
                     %l: tensor<2xf32> {graph.kind = "input", graph.name = "softmax_label"})
    -> (tensor<2x3xf32> {graph.name = "softmax_output"}) {
  %0 = graph.convolution %x, %w1, %b1 {kernel = array<i64: 1, 1>, num_filter = 4 : i64}
      : (tensor<2x3x4x4xf32>, tensor<4x3x1x1xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32> loc("conv1")
  %1 = graph.activation %0 {act_type = #graph.act_type<relu>}
      : (tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32> loc("relu")
  %2 = graph.convolution %1, %w2 {kernel = array<i64: 1, 1>, num_filter = 5 : i64}
      : (tensor<2x4x4x4xf32>, tensor<5x4x1x1xf32>) -> tensor<2x5x4x4xf32> loc("conv2")
  %3 = graph.flatten %2 : (tensor<2x5x4x4xf32>) -> tensor<2x80xf32> loc("flat")
  %4 = graph.fully_connected %3, %fw {num_hidden = 3 : i64}
      : (tensor<2x80xf32>, tensor<3x80xf32>) -> tensor<2x3xf32> loc("fc")
  %5 = graph.softmax_output %4, %l : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32> loc("softmax")
  return %5 : tensor<2x3xf32>
}

// -----

// Dropout: the mask is a pure function of the RNG counter, so it is drawn
// again in the backward (once, shared by fc2's weight gradient and the
// dropout's gradient), and the dropped-out product is recomputed from the
// relu output, which the relu's gradient reads anyway.
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME: %[[CTR:[a-z0-9]+]]: tensor<1xf32> {graph.kind = "rng_counter"
// CHECK: %[[R:.*]] = graph.activation
// CHECK: %[[M:.*]] = graph.dropout_mask %[[CTR]]
// CHECK: %[[Y:.*]] = graph.elemwise_mul %[[R]], %[[M]]
// CHECK: graph.fully_connected %[[Y]]
// CHECK: graph.softmax_output_grad
// CHECK-NOT: %[[M]]
// CHECK-NOT: %[[Y]]
// CHECK: %[[M2:.*]] = graph.dropout_mask %[[CTR]]
// CHECK-NOT: graph.dropout_mask
// CHECK: %[[Y2:.*]] = graph.elemwise_mul %[[R]], %[[M2]]
// CHECK-NEXT: graph.dot %{{.*}}, %[[Y2]] {transpose_a = true}
// CHECK-NEXT: graph.elemwise_mul %{{.*}}, %[[M2]]
// CHECK-NEXT: graph.activation_grad %{{.*}}, %[[R]]
// CHECK-NOT: graph.dropout_mask
// CHECK: return
func.func @dropout(%x: tensor<2x6xf32> {graph.kind = "input", graph.name = "data"},
                   %w1: tensor<8x6xf32> {graph.kind = "param", graph.name = "fc1_weight"},
                   %w2: tensor<3x8xf32> {graph.kind = "param", graph.name = "fc2_weight"},
                   %l: tensor<2xf32> {graph.kind = "input", graph.name = "softmax_label"})
    -> (tensor<2x3xf32> {graph.name = "softmax_output"}) {
  %0 = graph.fully_connected %x, %w1 {num_hidden = 8 : i64}
      : (tensor<2x6xf32>, tensor<8x6xf32>) -> tensor<2x8xf32> loc("fc1")
  %1 = graph.activation %0 {act_type = #graph.act_type<relu>} : (tensor<2x8xf32>) -> tensor<2x8xf32> loc("relu")
  %2 = graph.dropout %1 {p = 0.5 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf32> loc("drop")
  %3 = graph.fully_connected %2, %w2 {num_hidden = 3 : i64}
      : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32> loc("fc2")
  %4 = graph.softmax_output %3, %l : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32> loc("softmax")
  return %4 : tensor<2x3xf32>
}
