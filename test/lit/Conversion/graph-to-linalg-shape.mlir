// The shape and indexing family on tensors (lib/Conversion/GraphToLinalg/ShapeOps.cpp):
// which building block each op becomes. Values are checked against MXNet by
// test/conformance on every execution path.
// RUN: kiln-opt %s --split-input-file --kiln-convert-graph-to-linalg | FileCheck %s

// A strided slice with positive steps is one extract_slice: rows 1, 3 of
// axis 0 (begin 1, step 2), all of axis 1.
// CHECK-LABEL: func.func @slice_positive
// CHECK: tensor.extract_slice %{{.+}}[1, 0] [2, 5] [2, 1] : tensor<4x5xf32> to tensor<2x5xf32>
// CHECK-NOT: graph.
func.func @slice_positive(%x: tensor<4x5xf32>) -> tensor<2x5xf32> {
  %0 = graph.slice %x {begin = array<i64: 1>, end = array<i64: 4>, step = array<i64: 2>}
      : (tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// A negative step reads begin + k·step through the indexing map: axis 0
// from 3 down by 1, axis 1 from 4 down by 2.
// CHECK-DAG: #[[$NEG:.+]] = affine_map<(d0, d1) -> (-d0 + 3, d1 * -2 + 4)>
// CHECK-LABEL: func.func @slice_negative
// CHECK: linalg.generic {indexing_maps = [#[[$NEG]], {{.*}}]
func.func @slice_negative(%x: tensor<4x5xf32>) -> tensor<4x2xf32> {
  %0 = graph.slice %x {begin = array<i64: 3, 4>, end = array<i64: -9223372036854775808, 0>,
                       step = array<i64: -1, -2>} : (tensor<4x5xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// tile (2, 3) by (2, 1): a broadcast into (rep, 2, 3), then a collapse.
// CHECK-DAG: #[[$TILE:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @tile
// CHECK: linalg.generic {indexing_maps = [#[[$TILE]], {{.*}}]{{.*}} outs(%{{.+}} : tensor<2x2x3xf32>)
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : tensor<2x2x3xf32> into tensor<4x3xf32>
func.func @tile(%x: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %0 = graph.tile %x {reps = array<i64: 2, 1>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// take reads the picked row with tensor.extract at a clamped position.
// CHECK-LABEL: func.func @take
// CHECK: linalg.generic
// CHECK: arith.fptosi
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}] : tensor<5x3xf32>
func.func @take(%a: tensor<5x3xf32>, %i: tensor<4xf32>) -> tensor<4x3xf32> {
  %0 = graph.take %a, %i : (tensor<5x3xf32>, tensor<4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Ops without operands: arange is a constant of its values (rounded to
// the dtype), full a fill with its value.
// CHECK-LABEL: func.func @creation
// CHECK: arith.constant dense<[0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
// CHECK: %[[V:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: linalg.fill ins(%[[V]] : f32) outs(%{{.+}} : tensor<2x2xf32>)
func.func @creation() -> (tensor<4xf32>, tensor<2x2xf32>) {
  %0 = graph.arange {start = 0.5 : f64, stop = 2.5 : f64, repeat = 2 : i64,
                     dtype = #graph.dtype<int32>} : () -> tensor<4xf32>
  %1 = graph.full {shape = array<i64: 2, 2>, value = 2.7 : f64, dtype = #graph.dtype<int32>}
      : () -> tensor<2x2xf32>
  return %0, %1 : tensor<4xf32>, tensor<2x2xf32>
}
