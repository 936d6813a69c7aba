// kiln-autodiff errors.
// RUN: kiln-opt %s --kiln-autodiff -split-input-file -verify-diagnostics
// wrt names an unknown argument, or one that has no gradient (an aux state):
// RUN: not kiln-opt %s --kiln-autodiff='wrt=nosuch' -split-input-file 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: wrt: the function has no argument named 'nosuch'
// RUN: not kiln-opt %s --kiln-autodiff='wrt=bn_moving_mean' -split-input-file 2>&1 \
// RUN:   | FileCheck %s --check-prefix=AUX
// AUX: error: wrt: argument 'bn_moving_mean' is of kind 'aux', which has no gradient

// A backward op has no gradient: Kiln does not do second order.
func.func @second_order(%x: tensor<2x3xf32> {graph.kind = "param", graph.name = "x"})
    -> (tensor<2x3xf32> {graph.name = "out"}) {
  // expected-error @+1 {{'graph.activation_grad' op is not differentiable (Kiln has no second-order gradients)}}
  %0 = graph.activation_grad %x, %x {act_type = #graph.act_type<relu>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// expected-error @+1 {{is already differentiated}}
func.func @twice(%x: tensor<2xf32> {graph.kind = "param", graph.name = "x"})
    -> (tensor<2xf32> {graph.kind = "output", graph.name = "out"}) attributes {graph.differentiated} {
  return %x : tensor<2xf32>
}

// -----

// An unused parameter whose shape nothing implies cannot get zeros.
// expected-error @+1 {{argument 'w' is unused and has no static shape to give its (zero) gradient}}
func.func @unused_unranked(%x: tensor<2xf32> {graph.kind = "param", graph.name = "x"},
                           %w: tensor<*xf32> {graph.kind = "param", graph.name = "w"})
    -> (tensor<2xf32> {graph.name = "out"}) {
  %0 = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Differentiable (no error with the default options).
func.func @bn(%x: tensor<2x3xf32> {graph.kind = "input", graph.name = "data"},
              %g: tensor<3xf32> {graph.kind = "param", graph.name = "bn_gamma"},
              %b: tensor<3xf32> {graph.kind = "param", graph.name = "bn_beta"},
              %mm: tensor<3xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
              %mv: tensor<3xf32> {graph.kind = "aux", graph.name = "bn_moving_var"})
    -> (tensor<2x3xf32> {graph.name = "out"}) {
  %0 = graph.batch_norm %x, %g, %b, %mm, %mv
      : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
