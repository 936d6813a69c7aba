// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-tile-and-vectorize{vector-bits=512}))' | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-tile-and-vectorize{vector-bits=256}))' | FileCheck %s --check-prefix=AVX2
// RUN: kiln-opt %s --kiln-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// Matmul: forall over cache tiles, k blocks, an 8x32 (AVX-512) / 4x16
// (AVX2) register tile with the accumulator carried in registers.
// CHECK-LABEL: func.func @mm
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: iter_args({{.*}}) -> ({{.*}}vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// AVX2-LABEL: func.func @mm
// AVX2: iter_args({{.*}}) -> ({{.*}}vector<4x16xf32>)
// AVX2-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// The forall becomes a dispatch through the runtime hook.
// LLVM-DAG: llvm.func @kiln_parallel_for(i64, i64, !llvm.ptr, !llvm.ptr)
// LLVM-DAG: llvm.call @mm_par0(
// LLVM-DAG: llvm.func internal @mm_par0(
// LLVM-DAG: llvm.call @kiln_parallel_for(
// LLVM-DAG: llvm.func internal @mm_par0_body_tramp(
// LLVM-DAG: llvm.func @mm_packed(
func.func @mm(%a: tensor<128x64xf32>, %b: tensor<64x256xf32>) -> tensor<128x256xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x256xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<128x256xf32>) -> tensor<128x256xf32>
  %r = linalg.matmul ins(%a, %b : tensor<128x64xf32>, tensor<64x256xf32>)
                     outs(%f : tensor<128x256xf32>) -> tensor<128x256xf32>
  return %r : tensor<128x256xf32>
}

// Elementwise: collapsed to 1-D, 64 Ki-element parallel chunks, 16 lanes.
// CHECK-LABEL: func.func @eltwise
// CHECK: scf.forall
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// AVX2-LABEL: func.func @eltwise
// AVX2: vector<8xf32>
func.func @eltwise(%a: tensor<4x256x256xf32>) -> tensor<4x256x256xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x256x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<4x256x256xf32>) outs(%e : tensor<4x256x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %z : f32
    linalg.yield %m : f32
  } -> tensor<4x256x256xf32>
  return %r : tensor<4x256x256xf32>
}
