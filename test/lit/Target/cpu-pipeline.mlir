// RUN: kiln-opt %s --kiln-cpu-pipeline | FileCheck %s
// RUN: kiln-opt %s --kiln-cpu-pipeline="pack-kernel-args=false" | FileCheck %s --check-prefix=NOPACK

// Two kernels: each becomes a bare-pointer llvm.func (inputs, then one
// out-param per result) plus a `<name>_packed(void **)` entry.

// CHECK-NOT: graph.
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// CHECK-LABEL: llvm.func @kiln_kernel_0(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK-NOT: llvm.return %
// CHECK-LABEL: llvm.func @kiln_kernel_0_packed(
// CHECK-SAME: %[[ARGS:.+]]: !llvm.ptr)
// CHECK: %[[S0:.+]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[A0:.+]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S1:.+]] = llvm.getelementptr %[[ARGS]][1]
// CHECK: %[[A1:.+]] = llvm.load %[[S1]]
// CHECK: %[[S2:.+]] = llvm.getelementptr %[[ARGS]][2]
// CHECK: %[[A2:.+]] = llvm.load %[[S2]]
// CHECK: %[[S3:.+]] = llvm.getelementptr %[[ARGS]][3]
// CHECK: %[[A3:.+]] = llvm.load %[[S3]]
// CHECK: llvm.call @kiln_kernel_0(%[[A0]], %[[A1]], %[[A2]], %[[A3]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT: llvm.return
// CHECK-LABEL: llvm.func @kiln_kernel_1(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK: llvm.call @erff
// CHECK-LABEL: llvm.func @kiln_kernel_1_packed

// NOPACK-NOT: _packed
func.func @kiln_kernel_0(%x: tensor<2x3x4x4xf32>, %w: tensor<4x3x3x3xf32>)
    -> (tensor<2x4x2x2xf32>, tensor<2x4xf32>) {
  %0 = graph.convolution %x, %w {kernel = array<i64: 3, 3>, num_filter = 4 : i64, pad = array<i64: 1, 1>}
      : (tensor<2x3x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32>
  %1 = graph.activation %0 {act_type = #graph.act_type<relu>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %2 = graph.pooling %1 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
      : (tensor<2x4x4x4xf32>) -> tensor<2x4x2x2xf32>
  %3 = graph.sum %2 {axis = array<i64: 2, 3>} : (tensor<2x4x2x2xf32>) -> tensor<2x4xf32>
  return %2, %3 : tensor<2x4x2x2xf32>, tensor<2x4xf32>
}

func.func @kiln_kernel_1(%x: tensor<16xf32>) -> tensor<16xf32> {
  %0 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<gelu>} : (tensor<16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}
