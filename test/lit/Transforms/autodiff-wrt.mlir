// kiln-autodiff with wrt: only the named arguments (inputs allowed), their
// gradients in argument order whatever the option's order.
// RUN: kiln-opt %s --kiln-autodiff='wrt=conv_weight,data' | FileCheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x1x3x3xf32> {graph.kind = "input", graph.name = "data"}
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x1x2x2xf32> {graph.kind = "param", graph.name = "conv_weight"}
// CHECK-SAME: %[[HG:[a-z0-9]+]]: tensor<2x3x1x1xf32> {graph.kind = "head_grad", graph.name = "conv_output_grad"})
// CHECK-SAME: -> (tensor<2x3x1x1xf32> {graph.kind = "output", graph.name = "conv_output"},
// CHECK-SAME: tensor<2x1x3x3xf32> {graph.kind = "grad", graph.name = "data"},
// CHECK-SAME: tensor<3x1x2x2xf32> {graph.kind = "grad", graph.name = "conv_weight"})
// The data gradient is a deconvolution with the same weight and stride;
// adj = 1 gives back the row the forward's floor dropped (3 → 1 → 3).
// CHECK: %[[DX:.*]] = graph.deconvolution %[[HG]], %[[W]] {adj = array<i64: 1, 1>, kernel = array<i64: 2, 2>, num_filter = 1 : i64, stride = array<i64: 2, 2>} : (tensor<2x3x1x1xf32>, tensor<3x1x2x2xf32>) -> tensor<2x1x3x3xf32>
// CHECK: %[[DW:.*]] = graph.convolution_weight_grad %[[X]], %[[HG]] {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
// No bias gradient: conv_bias is not in wrt.
// CHECK-NOT: graph.sum
// CHECK: return %{{.*}}, %[[DX]], %[[DW]]
func.func @main(%x: tensor<2x1x3x3xf32> {graph.kind = "input", graph.name = "data"},
                %w: tensor<3x1x2x2xf32> {graph.kind = "param", graph.name = "conv_weight"},
                %b: tensor<3xf32> {graph.kind = "param", graph.name = "conv_bias"})
    -> (tensor<2x3x1x1xf32> {graph.name = "conv_output"}) {
  %0 = graph.convolution %x, %w, %b {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, num_filter = 3 : i64}
      : (tensor<2x1x3x3xf32>, tensor<3x1x2x2xf32>, tensor<3xf32>) -> tensor<2x3x1x1xf32> loc("conv")
  return %0 : tensor<2x3x1x1xf32>
}
