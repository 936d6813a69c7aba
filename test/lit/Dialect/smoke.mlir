// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func @relu
// CHECK: graph.activation %{{.*}} {act_type = #graph.act_type<relu>}
func.func @relu(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
