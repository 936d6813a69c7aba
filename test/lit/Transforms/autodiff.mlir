// kiln-autodiff: what a few ops become, the function layout (results,
// result attributes, head-gradient arguments), gradients summed over several
// uses, zeros for an unused parameter, and dead backward ops removed.
// RUN: kiln-opt %s --kiln-autodiff --split-input-file | FileCheck %s
// (autodiff-wrt.mlir: the wrt option.)

// The loss head (softmax_output) uses its built-in gradient; the second
// head, feat_output, gets a head_grad argument appended at the end.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x1x2x2xf32> {graph.kind = "input", graph.name = "data"}
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x1x2x2xf32> {graph.kind = "param", graph.name = "conv_weight"}
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<3xf32> {graph.kind = "param", graph.name = "conv_bias"}
// CHECK-SAME: %[[FW:[a-z0-9]+]]: tensor<4x3xf32> {graph.kind = "param", graph.name = "fc_weight"}
// CHECK-SAME: %[[UNUSED:[a-z0-9]+]]: tensor<5xf32> {graph.kind = "param", graph.name = "unused_weight"}
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "input", graph.name = "softmax_label"}
// CHECK-SAME: %[[HG:[a-z0-9]+]]: tensor<2x3xf32> {graph.kind = "head_grad", graph.name = "feat_output_grad"})
// Heads first, then one gradient per param in argument order.
// CHECK-SAME: -> (tensor<2x4xf32> {graph.kind = "output", graph.name = "softmax_output"},
// CHECK-SAME: tensor<2x3xf32> {graph.kind = "output", graph.name = "feat_output"},
// CHECK-SAME: tensor<3x1x2x2xf32> {graph.kind = "grad", graph.name = "conv_weight"},
// CHECK-SAME: tensor<3xf32> {graph.kind = "grad", graph.name = "conv_bias"},
// CHECK-SAME: tensor<4x3xf32> {graph.kind = "grad", graph.name = "fc_weight"},
// CHECK-SAME: tensor<5xf32> {graph.kind = "grad", graph.name = "unused_weight"})
// CHECK-SAME: attributes {graph.differentiated, graph.training}
// CHECK: %[[P:.*]] = graph.softmax_output
// CHECK: %[[DS:.*]] = graph.softmax_output_grad %[[P]], %[[L]] : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
// FullyConnected: dX = dY·W, dW = dYᵀ·X.
// CHECK: %[[DFLAT:.*]] = graph.dot %[[DS]], %[[FW]] : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[DFW:.*]] = graph.dot %[[DS]], %[[FLAT:.*]] {transpose_a = true} : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
// The flatten output is used twice (a head and the fc): the sum.
// CHECK: %[[SUM:.*]] = graph.elemwise_add %[[HG]], %[[DFLAT]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[UNFLAT:.*]] = graph.reshape %[[SUM]] {shape = array<i64: 2, 3, 1, 1>}
// tanh differentiates from its output.
// CHECK: %[[DT:.*]] = graph.activation_grad %[[UNFLAT]], %[[TANH:.*]] {act_type = #graph.act_type<tanh>}
// Convolution: weight and bias gradients; no data gradient (data is not
// differentiated, so the deconvolution is removed).
// CHECK-NOT: graph.deconvolution
// CHECK: %[[DW:.*]] = graph.convolution_weight_grad %[[X]], %[[DT]] {kernel = array<i64: 2, 2>} : (tensor<2x1x2x2xf32>, tensor<2x3x1x1xf32>) -> tensor<3x1x2x2xf32>
// CHECK: %[[DB:.*]] = graph.sum %[[DT]] {axis = array<i64: 0, 2, 3>} : (tensor<2x3x1x1xf32>) -> tensor<3xf32>
// CHECK: %[[Z:.*]] = graph.zeros {shape = array<i64: 5>} : () -> tensor<5xf32>
// CHECK: return %[[P]], %[[FLAT]], %[[DW]], %[[DB]], %[[DFW]], %[[Z]]
func.func @main(%x: tensor<2x1x2x2xf32> {graph.kind = "input", graph.name = "data"},
                %w: tensor<3x1x2x2xf32> {graph.kind = "param", graph.name = "conv_weight"},
                %b: tensor<3xf32> {graph.kind = "param", graph.name = "conv_bias"},
                %fw: tensor<4x3xf32> {graph.kind = "param", graph.name = "fc_weight"},
                %unused: tensor<5xf32> {graph.kind = "param", graph.name = "unused_weight"},
                %l: tensor<2xf32> {graph.kind = "input", graph.name = "softmax_label"})
    -> (tensor<2x4xf32> {graph.name = "softmax_output"}, tensor<2x3xf32> {graph.name = "feat_output"}) {
  %0 = graph.convolution %x, %w, %b {kernel = array<i64: 2, 2>, num_filter = 3 : i64}
      : (tensor<2x1x2x2xf32>, tensor<3x1x2x2xf32>, tensor<3xf32>) -> tensor<2x3x1x1xf32> loc("conv")
  %1 = graph.activation %0 {act_type = #graph.act_type<tanh>} : (tensor<2x3x1x1xf32>) -> tensor<2x3x1x1xf32> loc("tanh")
  %2 = graph.flatten %1 : (tensor<2x3x1x1xf32>) -> tensor<2x3xf32> loc("flat")
  %3 = graph.fully_connected %2, %fw {num_hidden = 4 : i64}
      : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32> loc("fc")
  %4 = graph.softmax_output %3, %l : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4xf32> loc("softmax")
  return %4, %2 : tensor<2x4xf32>, tensor<2x3xf32>
}

// -----

// Three uses of one value: add_n. A BatchNorm in training mode: its
// gradient op, the aux results after the gradients, and unranked
// parameters typed by shape inference first.
// CHECK-LABEL: func.func @bn(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32> {graph.kind = "param", graph.name = "x"}
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<3xf32> {graph.kind = "param", graph.name = "bn_gamma"}
// CHECK-SAME: %[[HG:[a-z0-9]+]]: tensor<2x3xf32> {graph.kind = "head_grad", graph.name = "out_grad"})
// CHECK-SAME: -> (tensor<2x3xf32> {graph.kind = "output", graph.name = "out"},
// CHECK-SAME: tensor<2x3xf32> {graph.kind = "grad", graph.name = "x"},
// CHECK-SAME: tensor<3xf32> {graph.kind = "grad", graph.name = "bn_gamma"},
// CHECK-SAME: tensor<3xf32> {graph.kind = "grad", graph.name = "bn_beta"},
// CHECK-SAME: tensor<3xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
// CHECK-SAME: tensor<3xf32> {graph.kind = "aux", graph.name = "bn_moving_var"})
// CHECK: %[[Y:.*]], %[[MEAN:.*]], %[[VAR:.*]] = graph.batch_norm_train %[[X]], %[[G]]
// CHECK: %[[DX:.*]], %[[DG:.*]], %[[DB:.*]] = graph.batch_norm_grad %[[X]], %[[G]], %[[MEAN]], %[[VAR]], %{{.*}} {fix_gamma = false}
// CHECK: %[[SUM:.*]] = graph.add_n %{{.*}}, %{{.*}}, %[[DX]] : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: return %{{.*}}, %[[SUM]], %[[DG]], %[[DB]]
func.func @bn(%x: tensor<2x3xf32> {graph.kind = "param", graph.name = "x"},
              %g: tensor<*xf32> {graph.kind = "param", graph.name = "bn_gamma"},
              %b: tensor<*xf32> {graph.kind = "param", graph.name = "bn_beta"},
              %mm: tensor<*xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
              %mv: tensor<*xf32> {graph.kind = "aux", graph.name = "bn_moving_var"})
    -> (tensor<*xf32> {graph.name = "out"}) {
  %0 = graph.batch_norm %x, %g, %b, %mm, %mv {fix_gamma = false}
      : (tensor<2x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = graph.elemwise_mul %0, %x : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  %2 = graph.elemwise_add %1, %x : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}

// -----

// Dropout in training: the same mask multiplies the gradient.
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4xf32> {graph.kind = "param", graph.name = "x"}
// CHECK-SAME: %[[CTR:[a-z0-9]+]]: tensor<1xf32> {graph.kind = "rng_counter", graph.name = "rng_counter"}
// CHECK-SAME: %[[HG:[a-z0-9]+]]: tensor<4xf32> {graph.kind = "head_grad", graph.name = "out_grad"})
// CHECK: %[[M:.*]] = graph.dropout_mask %[[CTR]]
// CHECK: %[[Y:.*]] = graph.elemwise_mul %[[X]], %[[M]]
// CHECK: %[[DX:.*]] = graph.elemwise_mul %[[HG]], %[[M]]
// CHECK: return %[[Y]], %[[DX]]
func.func @dropout(%x: tensor<4xf32> {graph.kind = "param", graph.name = "x"})
    -> (tensor<4xf32> {graph.name = "out"}) {
  %0 = graph.dropout %x {p = 0.5 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
