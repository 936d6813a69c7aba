// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-tile-and-vectorize{vector-bits=512 leave-gemms=0}))' | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-tile-and-vectorize{vector-bits=256 leave-gemms=0}))' | FileCheck %s --check-prefix=AVX2
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-tile-and-vectorize{vector-bits=256}))' | FileCheck %s --check-prefix=LEAVE
// RUN: kiln-opt %s --kiln-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// By default (leave-gemms) contractions that kiln-cpu-lower-contractions
// turns into packed GEMMs after bufferization are left alone, and so are a
// GEMM's bias broadcast and its activation (it fuses them into the register
// tile); everything else is tiled and vectorized here.
// LEAVE-LABEL: func.func @mm
// LEAVE-NOT: scf.forall
// LEAVE: linalg.matmul
// LEAVE-LABEL: func.func @conv_bias_tanh
// LEAVE-NOT: scf.forall
// LEAVE: linalg.generic {{.*}} ins(%arg2 : tensor<8xf32>)
// LEAVE: linalg.conv_2d_nchw_fchw
// LEAVE: math.tanh %{{.*}} : f32
// LEAVE-LABEL: func.func @eltwise
// LEAVE: scf.forall
// LEAVE: vector<8xf32>

// With leave-gemms=0 (the older path, JitOptions::lowerContractions =
// false), matmul: forall over cache tiles, k blocks, an 8x32 (AVX-512) / 4x16
// (AVX2) register tile with the accumulator carried in registers.
// CHECK-LABEL: func.func @mm
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: iter_args({{.*}}) -> ({{.*}}vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// AVX2-LABEL: func.func @mm
// AVX2: iter_args({{.*}}) -> ({{.*}}vector<4x16xf32>)
// AVX2-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// The GEMM's task loop becomes a dispatch through the runtime hook.
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

func.func @conv_bias_tanh(%x: tensor<2x3x10x10xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>)
    -> tensor<2x8x8x8xf32> {
  %e = tensor.empty() : tensor<2x8x8x8xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>,
                                           affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<8xf32>) outs(%e : tensor<2x8x8x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  } -> tensor<2x8x8x8xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>) outs(%init : tensor<2x8x8x8xf32>)
      -> tensor<2x8x8x8xf32>
  %e2 = tensor.empty() : tensor<2x8x8x8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                        affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<2x8x8x8xf32>) outs(%e2 : tensor<2x8x8x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<2x8x8x8xf32>
  return %y : tensor<2x8x8x8xf32>
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
