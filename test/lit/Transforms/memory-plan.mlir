// kiln-plan-memory on a chain and a diamond; every offset and total is
// worked out by hand in the comments (f32, 64-byte aligned blocks). The same
// graphs after kiln-outline-kernels must give the same plan: in-place then
// comes from the kernels' kiln.inplace.
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory | FileCheck %s --check-prefixes=BOTH,CHECK
// RUN: kiln-opt %s -split-input-file -kiln-outline-kernels -kiln-plan-memory | FileCheck %s --check-prefixes=BOTH,CHECK
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=strategy=naive | FileCheck %s --check-prefixes=NAIVE,CHECK
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=strategy=inplace | FileCheck %s --check-prefixes=INPLACE,CHECK
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=strategy=coshare | FileCheck %s --check-prefixes=COSHARE,CHECK
// RUN: not kiln-opt %s -split-input-file -kiln-plan-memory=strategy=best 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: unknown strategy 'best' (naive, inplace, coshare or both)

// Chain x → a → b → c → d → e. a, b: 8x8 f32 = 256 bytes; c, d: 8x4 f32 =
// 128 bytes; x is an argument and e the result (outside the arena).
// Activations may overwrite their input, the FC (c) may not.
//   naive:   a@0 b@256 c@512 d@640, 256+256+128+128 = 768
//   inplace: b over a (a dies at b), d over c: a,b@0 c,d@256; 384
//   coshare: a→B0, b→B1, a freed; c (128) reuses B0 (256, match range 2);
//            b freed; d reuses B1: a,c@0 b,d@256; 512
//   both:    as inplace (nothing is freed before a request could use it): 384
// CHECK-LABEL: func.func @main
// BOTH-SAME: kiln.arena_bytes = 384 : i64
// NAIVE-SAME: kiln.arena_bytes = 768 : i64
// INPLACE-SAME: kiln.arena_bytes = 384 : i64
// COSHARE-SAME: kiln.arena_bytes = 512 : i64
// CHECK-SAME: kiln.memory_report = {both = 384 : i64, coshare = 512 : i64, inplace = 384 : i64, naive = 768 : i64}
// BOTH: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// BOTH: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// BOTH: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// BOTH: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// BOTH: kiln.offset = array<i64: -1>, kiln.storage = array<i64: -1>
// NAIVE: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// NAIVE: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// NAIVE: kiln.offset = array<i64: 512>, kiln.storage = array<i64: 2>
// NAIVE: kiln.offset = array<i64: 640>, kiln.storage = array<i64: 3>
// INPLACE: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// INPLACE: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// INPLACE: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// INPLACE: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// COSHARE: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// COSHARE: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// COSHARE: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// COSHARE: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
func.func @main(%x: tensor<8x8xf32>, %w: tensor<4x8xf32>, %bias: tensor<4xf32>) -> tensor<8x4xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %b = graph.activation %a {act_type = #graph.act_type<tanh>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %c = graph.fully_connected %b, %w, %bias {num_hidden = 4 : i64}
      : (tensor<8x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  %d = graph.activation %c {act_type = #graph.act_type<sigmoid>} : (tensor<8x4xf32>) -> tensor<8x4xf32>
  %e = graph.activation %d {act_type = #graph.act_type<relu>} : (tensor<8x4xf32>) -> tensor<8x4xf32>
  return %e : tensor<8x4xf32>
}

// -----

// Diamond: a = f(x); b = g(a); c = a + b; out = h(c); all 8x8 f32 = 256.
// b may not overwrite a (c still reads a); c may overwrite a (operand 0,
// dies at c). a and b are freed only after c's request, so co-sharing finds
// nothing free.
//   naive 768 (a@0 b@256 c@512); inplace 512 (a,c@0 b@256);
//   coshare 768; both 512.
// CHECK-LABEL: func.func @main
// CHECK-SAME: kiln.memory_report = {both = 512 : i64, coshare = 768 : i64, inplace = 512 : i64, naive = 768 : i64}
// BOTH: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// BOTH: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// BOTH: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// BOTH: kiln.offset = array<i64: -1>, kiln.storage = array<i64: -1>
// COSHARE: kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>
// COSHARE: kiln.offset = array<i64: 256>, kiln.storage = array<i64: 1>
// COSHARE: kiln.offset = array<i64: 512>, kiln.storage = array<i64: 2>
func.func @main(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %b = graph.activation %a {act_type = #graph.act_type<tanh>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %c = graph.elemwise_add %a, %b : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %d = graph.activation %c {act_type = #graph.act_type<sigmoid>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  return %d : tensor<8x8xf32>
}

// -----

// Real dtype sizes: 3x5 f16 = 30 bytes and 3x5 f64 = 120 bytes round up to
// 64 and 128; the f64 value outlives the f16 one, nothing can share.
// CHECK-LABEL: func.func @main
// CHECK-SAME: kiln.memory_report = {both = 192 : i64, coshare = 192 : i64, inplace = 192 : i64, naive = 192 : i64}
func.func @main(%x: tensor<3x5xf16>, %y: tensor<3x5xf64>) -> (tensor<3x5xf16>, tensor<3x5xf64>) {
  %a = graph.activation %x {act_type = #graph.act_type<tanh>} : (tensor<3x5xf16>) -> tensor<3x5xf16>
  %b = graph.activation %y {act_type = #graph.act_type<tanh>} : (tensor<3x5xf64>) -> tensor<3x5xf64>
  %c = graph.activation %a {act_type = #graph.act_type<tanh>} : (tensor<3x5xf16>) -> tensor<3x5xf16>
  %d = graph.activation %b {act_type = #graph.act_type<tanh>} : (tensor<3x5xf64>) -> tensor<3x5xf64>
  return %c, %d : tensor<3x5xf16>, tensor<3x5xf64>
}
