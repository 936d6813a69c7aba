// The training kernels through the CPU pipeline's fast paths. The TILE
// lines check kiln-cpu-tile-and-vectorize (AVX2 widths) after the graph →
// linalg lowering, the LLVM lines the whole pipeline (the host's vectors).
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-convert-graph-to-linalg,canonicalize,kiln-cpu-tile-and-vectorize{vector-bits=256}))' | FileCheck %s --check-prefix=TILE
// RUN: kiln-opt %s --split-input-file --kiln-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// dot with a transposed operand stays one matmul for the packed GEMM
// (kiln-cpu-lower-contractions reads the transposed layout while packing):
// no transpose is materialized, and the micro-kernel is vector FMAs.
// TILE-LABEL: func.func @dot_tn
// TILE-NOT: linalg.transpose
// TILE: linalg.matmul
// LLVM-LABEL: llvm.func @dot_tn
// LLVM: llvm.intr.{{fma|fmuladd}}({{.*}}) : (vector<{{[0-9]+}}xf32>
func.func @dot_tn(%a: tensor<96x64xf32>, %b: tensor<96x80xf32>) -> tensor<64x80xf32> {
  %0 = graph.dot %a, %b {transpose_a = true} : (tensor<96x64xf32>, tensor<96x80xf32>) -> tensor<64x80xf32>
  return %0 : tensor<64x80xf32>
}

// -----

// The convolution weight gradient is a contraction generic the GEMM lowering
// takes whole (its im2col folded into the packing).
// TILE-LABEL: func.func @wgrad
// TILE-NOT: scf.for
// TILE: linalg.generic {{.*}}"reduction", "reduction", "reduction"]
// LLVM-LABEL: llvm.func @wgrad
// LLVM: llvm.intr.{{fma|fmuladd}}({{.*}}) : (vector<{{[0-9]+}}xf32>
func.func @wgrad(%x: tensor<8x4x12x12xf32>, %dy: tensor<8x16x8x8xf32>) -> tensor<16x4x5x5xf32> {
  %0 = graph.convolution_weight_grad %x, %dy {kernel = array<i64: 5, 5>}
      : (tensor<8x4x12x12xf32>, tensor<8x16x8x8xf32>) -> tensor<16x4x5x5xf32>
  return %0 : tensor<16x4x5x5xf32>
}

// -----

// A per-channel sum (a bias gradient): first over the batch with C·H·W kept
// (folded into one run), vectorized with the batch loop outside and the
// vector loop inside (the input streams through memory, the partial stays
// in cache); every tile static, so no masks. (Too small for parallel
// chunks.)
// TILE-LABEL: func.func @bias_grad
// TILE: scf.for %{{.+}} = %c0 to %c8 step %c1
// TILE: scf.for %{{.+}} = %c0 to %c3136 step %c8
// TILE-NOT: vector.create_mask
// TILE: vector.transfer_read {{.*}} : tensor<1x8xf32>, vector<8xf32>
// TILE: arith.addf {{.*}} : vector<8xf32>
// TILE: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction"]
func.func @bias_grad(%g: tensor<8x16x14x14xf32>) -> tensor<16xf32> {
  %0 = graph.sum %g {axis = array<i64: 0, 2, 3>} : (tensor<8x16x14x14xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// Parallel chunks of an elementwise kernel divide the loop (1605632 =
// 28 · 57344, the largest such multiple of 8 up to 64 Ki), so tiles are
// static and no access is masked.
// TILE-LABEL: func.func @relu_grad
// TILE: scf.forall ({{.*}}) = (0) to (1605632) step (57344)
// TILE-NOT: vector.create_mask
// TILE: vector.transfer_read
func.func @relu_grad(%dy: tensor<32x64x28x28xf32>, %y: tensor<32x64x28x28xf32>) -> tensor<32x64x28x28xf32> {
  %0 = graph.activation_grad %dy, %y {act_type = #graph.act_type<relu>}
      : (tensor<32x64x28x28xf32>, tensor<32x64x28x28xf32>) -> tensor<32x64x28x28xf32>
  return %0 : tensor<32x64x28x28xf32>
}

// -----

// Max pooling's gradient with stride 2: the taps update a stride-2 slice,
// which vectorizing would turn into lane-by-lane masked accesses, so the tap
// generic stays a scalar loop.
// TILE-LABEL: func.func @maxpool_grad
// TILE: scf.for
// TILE: scf.for
// TILE: tensor.extract_slice %{{.+}}[0, 0, %{{.+}}, %{{.+}}] [8, 16, 6, 6] [1, 1, 2, 2]
// TILE-NEXT: linalg.generic
func.func @maxpool_grad(%x: tensor<8x16x12x12xf32>, %dy: tensor<8x16x6x6xf32>) -> tensor<8x16x12x12xf32> {
  %0 = graph.pooling_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
      : (tensor<8x16x12x12xf32>, tensor<8x16x6x6xf32>) -> tensor<8x16x12x12xf32>
  return %0 : tensor<8x16x12x12xf32>
}
