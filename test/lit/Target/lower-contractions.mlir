// RUN: kiln-opt %s --kiln-cpu-lower-contractions="vector-bits=256" | FileCheck %s
// RUN: kiln-opt %s --kiln-cpu-lower-contractions="vector-bits=512" | FileCheck %s --check-prefix=AVX512
// RUN: kiln-opt %s --kiln-cpu-lower-contractions="vector-bits=256" --kiln-cpu-outline-parallel | FileCheck %s --check-prefix=OUTLINE

// Contractions on memrefs (as bufferization leaves them) become packed GEMM
// loops: A packed once, a parallel task loop that packs B panels, and a
// register tile carried through the k loop in vector registers.

// The convolution's offset tables (below): K = (c, kh, kw) into the image.
// CHECK: memref.global "private" constant @__kiln_gemm_offsets{{.*}} : memref<64xi32> = dense<[0, 1, 2, 10, 11, 12, 20, 21, 22, 100,

// A plain matmul. A (128x64) is packed once into an aligned buffer; 8 tasks
// of 64 columns each pack their B panel (64 x 64); the AVX2 micro-kernel is
// 6 rows x 16 columns = 12 ymm accumulators, 12 FMAs per k step; 128 = 21*6
// + 2 leaves a 2-row panel (4 accumulators).
// CHECK-LABEL: func.func @mm
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<8192xf32>
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<4096xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-12: vector.fma {{.*}} : vector<8xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: return
// AVX512-LABEL: func.func @mm
// AVX512: iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// AVX512-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// The task loop becomes a kiln_parallel_for dispatch.
// OUTLINE-LABEL: func.func @mm
// OUTLINE: call @mm_par0(
// OUTLINE: func.func private @mm_par0_body(
func.func @mm(%a: memref<128x64xf32>, %b: memref<64x512xf32>, %c: memref<128x512xf32>) {
  linalg.matmul ins(%a, %b : memref<128x64xf32>, memref<64x512xf32>)
                outs(%c : memref<128x512xf32>)
  return
}

// FullyConnected with its bias and tanh: W is read transposed, so its full
// panels are packed from 8x8 blocks loaded along k and transposed in
// registers (unpack/shufps/perm2f128 shuffles), the partial last panel
// (500 = 31 x 16 + 4) is gathered (column stride 800); the bias broadcast
// (prologue) becomes the accumulators' start in the first of the 4 k blocks
// (800 = 4 x 200) and tanh (epilogue) is applied to the tile of the last
// one, in registers. With 500 columns, the activations (A) are read in
// place, not packed (packing would cost about as much as using them).
// CHECK-LABEL: func.func @fc
// CHECK-NOT: linalg.
// CHECK-NOT: memref.alloc() {alignment = 64 : i64} : memref<51200xf32>
// CHECK: arith.constant dense<[0, 800, 1600, 2400, 3200, 4000, 4800, 5600]> : vector<8xi32>
// CHECK: vector.shuffle {{.*}} [0, 8, 1, 9, 4, 12, 5, 13] : vector<8xf32>, vector<8xf32>
// CHECK: vector.shuffle {{.*}} [4, 5, 6, 7, 12, 13, 14, 15] : vector<8xf32>, vector<8xf32>
// CHECK: vector.gather {{.*}} : memref<400000xf32, strided<[1]>>, vector<8xi32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK: scf.if
// CHECK: vector.load %{{.*}} : memref<500xf32, strided<[1]>>, vector<8xf32>
// CHECK: math.tanh {{.*}} : vector<8xf32>
// CHECK-NOT: linalg.
// CHECK: return
func.func @fc(%x: memref<64x800xf32>, %w: memref<500x800xf32>, %bias: memref<500xf32>,
              %y: memref<64x500xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<500xf32>) outs(%y : memref<64x500xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                 affine_map<(d0, d1, d2) -> (d1, d2)>,
                                 affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%x, %w : memref<64x800xf32>, memref<500x800xf32>) outs(%y : memref<64x500xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<64x500xf32>) outs(%y : memref<64x500xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  }
  return
}

// Convolution: no im2col buffer. The filter is A (8 x 27); per image (an
// outer dimension: 2 tasks) the B panel is packed straight from the image
// through a constant table of the K = (c, kh, kw) offsets, and the N = (oh,
// ow) offsets (each run of 8 columns is contiguous in the image, so 8-wide
// loads). The zero fill is folded into the first k block.
// CHECK-LABEL: func.func @conv
// CHECK-NOT: linalg.
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: memref.get_global @__kiln_gemm_offsets
// CHECK: vector.fma
// CHECK-NOT: linalg.
// CHECK: return
func.func @conv(%x: memref<2x3x10x10xf32>, %w: memref<8x3x3x3xf32>, %y: memref<2x8x8x8xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%y : memref<2x8x8x8xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<2x3x10x10xf32>, memref<8x3x3x3xf32>) outs(%y : memref<2x8x8x8xf32>)
  return
}

// A contraction that does not qualify (grouped-convolution style input
// index `d3 floordiv 2`, not linear) is left to the loop lowering.
// CHECK-LABEL: func.func @not_linear
// CHECK: linalg.generic
func.func @not_linear(%a: memref<4x8xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2 floordiv 2)>,
                                   affine_map<(d0, d1, d2) -> (d2, d1)>,
                                   affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}
