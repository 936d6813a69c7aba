// kiln-outline-kernels: one private kernel per graph op, the op replaced by
// a call that keeps its node name; kernel attributes for the plan builder;
// outputs that are arguments or returned twice get their own graph.identity.
// RUN: kiln-opt %s -split-input-file -kiln-outline-kernels | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-outline-kernels -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32> {graph.kind = "input", graph.name = "data"}, %[[W:.*]]: tensor<4x3xf32> {graph.kind = "param", graph.name = "fc_weight"})
// CHECK-NEXT: %[[A:.*]] = call @kiln_kernel_0(%[[X]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// A value used twice by one op is one kernel argument.
// CHECK-NEXT: %[[B:.*]] = call @kiln_kernel_1(%[[A]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[C:.*]] = call @kiln_kernel_2(%[[B]], %[[W]]) : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// The returned argument and the second copy of %c get an identity each.
// CHECK-NEXT: %[[XC:.*]] = call @kiln_kernel_3(%[[X]])
// CHECK-NEXT: %[[CC:.*]] = call @kiln_kernel_4(%[[C]])
// CHECK-NEXT: return %[[C]], %[[XC]], %[[CC]]

// CHECK: func.func private @kiln_kernel_0(%[[ARG:.*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-SAME: attributes {kiln.inplace = array<i64: 0>, kiln.kernel, kiln.node_name = "relu0", kiln.op_name = "graph.activation"}
// CHECK-NEXT: %[[R:.*]] = graph.activation %[[ARG]] {act_type = #graph.act_type<relu>}
// CHECK-NEXT: return %[[R]]
// CHECK: func.func private @kiln_kernel_1(%[[ARG:.*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-SAME: kiln.inplace = array<i64: 0>, kiln.kernel, kiln.node_name = "add0", kiln.op_name = "graph.elemwise_add"
// CHECK-NEXT: graph.elemwise_add %[[ARG]], %[[ARG]]
// FullyConnected may not overwrite its input.
// CHECK: func.func private @kiln_kernel_2(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK-SAME: kiln.inplace = array<i64: -1>, kiln.kernel, kiln.node_name = "fc1", kiln.op_name = "graph.fully_connected"
// CHECK: func.func private @kiln_kernel_3
// CHECK-SAME: kiln.node_name = "output1", kiln.op_name = "graph.identity"
// CHECK: func.func private @kiln_kernel_4
// CHECK-SAME: kiln.node_name = "twice", kiln.op_name = "graph.identity"

// The call keeps the node's location; an inserted identity is named after
// the output (graph.name, else "output<i>").
// LOC-DAG: #[[RELU:loc[0-9]+]] = loc("relu0")
// LOC-DAG: #[[FC:loc[0-9]+]] = loc("fc1")
// LOC-DAG: #[[OUT1:loc[0-9]+]] = loc("output1"(
// LOC: call @kiln_kernel_0({{.*}} loc(#[[RELU]])
// LOC: call @kiln_kernel_2({{.*}} loc(#[[FC]])
// LOC: call @kiln_kernel_3({{.*}} loc(#[[OUT1]])
func.func @main(%x: tensor<2x3xf32> {graph.name = "data", graph.kind = "input"},
                %w: tensor<4x3xf32> {graph.name = "fc_weight", graph.kind = "param"})
    -> (tensor<2x4xf32> {graph.name = "out"}, tensor<2x3xf32>, tensor<2x4xf32> {graph.name = "twice"}) {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("relu0")
  %b = graph.elemwise_add %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32> loc("add0")
  %c = graph.fully_connected %b, %w {num_hidden = 4 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32> loc("fc1")
  return %c, %x, %c : tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>
}

// -----

// Several results: both are kernel results, in order; other functions and
// existing kernel names are left alone (numbering skips a taken name).
// CHECK-LABEL: func.func @main
// CHECK: %[[S:.*]]:2 = call @kiln_kernel_1(%{{.*}}) : (tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK: call @kiln_kernel_2(%[[S]]#0, %[[S]]#1)
// CHECK: func.func @kiln_kernel_0
// CHECK: func.func @helper
// CHECK-NEXT: graph.activation
// CHECK: func.func private @kiln_kernel_1(%{{.*}}: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK-SAME: kiln.inplace = array<i64: -1, -1>
// CHECK-NEXT: %[[P:.*]]:2 = graph.split
// CHECK-NEXT: return %[[P]]#0, %[[P]]#1
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %a, %b = graph.split %x {num_outputs = 2 : i64} : (tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) loc("split0")
  %c = graph.elemwise_mul %a, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32> loc("mul0")
  return %c : tensor<2x2xf32>
}
func.func @kiln_kernel_0() {
  return
}
func.func @helper(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  return %a : tensor<2x2xf32>
}
