// kiln-graph-training-mode: BatchNorm uses batch statistics and returns its
// moving-statistics updates; Dropout and rrelu draw from the counter-based
// random ops through an appended rng_counter argument.
// RUN: kiln-opt %s --kiln-graph-training-mode='seed=10' --split-input-file | FileCheck %s
// Running it twice changes nothing.
// RUN: kiln-opt %s --kiln-graph-training-mode='seed=10' --split-input-file \
// RUN:   | kiln-opt --kiln-graph-training-mode --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x2x3xf32> {graph.kind = "input", graph.name = "data"}
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "param", graph.name = "bn_gamma"}
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "param", graph.name = "bn_beta"}
// CHECK-SAME: %[[MM:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"}
// CHECK-SAME: %[[MV:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_var"}
// CHECK-SAME: %[[MM2:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "aux", graph.name = "bn2_moving_mean"}
// CHECK-SAME: %[[MV2:[a-z0-9]+]]: tensor<2xf32> {graph.kind = "aux", graph.name = "bn2_moving_var"}
// CHECK-SAME: %[[CTR:[a-z0-9]+]]: tensor<1xf32> {graph.kind = "rng_counter", graph.name = "rng_counter"})
// One result per aux argument, in argument order, after the heads.
// CHECK-SAME: -> (tensor<4x2x3xf32> {graph.kind = "output", graph.name = "act_output"},
// CHECK-SAME: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
// CHECK-SAME: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_var"},
// CHECK-SAME: tensor<2xf32> {graph.kind = "aux", graph.name = "bn2_moving_mean"},
// CHECK-SAME: tensor<2xf32> {graph.kind = "aux", graph.name = "bn2_moving_var"})
// CHECK-SAME: attributes {graph.training}
//
// CHECK: %[[Y:.*]], %[[MEAN:.*]], %[[VAR:.*]] = graph.batch_norm_train %[[X]], %[[G]], %[[B]] :
// m·moving + (1 − m)·batch with m = 0.75.
// CHECK: %[[A0:.*]] = graph.mul_scalar %[[MM]] {scalar = 7.500000e-01 : f64}
// CHECK: %[[A1:.*]] = graph.mul_scalar %[[MEAN]] {scalar = 2.500000e-01 : f64}
// CHECK: %[[NEWMM:.*]] = graph.elemwise_add %[[A0]], %[[A1]]
// CHECK: %[[V0:.*]] = graph.mul_scalar %[[MV]] {scalar = 7.500000e-01 : f64}
// CHECK: %[[V1:.*]] = graph.mul_scalar %[[VAR]] {scalar = 2.500000e-01 : f64}
// CHECK: %[[NEWMV:.*]] = graph.elemwise_add %[[V0]], %[[V1]]
// use_global_stats: left as is, and its aux states come back unchanged.
// CHECK: %[[BN2:.*]] = graph.batch_norm %[[Y]], %[[G]], %[[B]], %[[MM2]], %[[MV2]] {use_global_stats = true}
// The first random op gets the base seed, the next seed + 1.
// CHECK: %[[MASK:.*]] = graph.dropout_mask %[[CTR]] {axes = array<i64: 2>, p = 2.500000e-01 : f32, seed = 10 : i64, shape = array<i64: 4, 2, 3>} : (tensor<1xf32>) -> tensor<4x2x3xf32>
// CHECK: %[[D:.*]] = graph.elemwise_mul %[[BN2]], %[[MASK]]
// rrelu: max(x, 0) + a·min(x, 0), a ~ U[lower_bound, upper_bound).
// CHECK: %[[SLOPE:.*]] = graph.random_uniform %[[CTR]] {high = 3.340000e-01 : f32, low = 1.250000e-01 : f32, seed = 11 : i64, shape = array<i64: 4, 2, 3>}
// CHECK: %[[POS:.*]] = graph.maximum_scalar %[[D]] {scalar = 0.000000e+00 : f64}
// CHECK: %[[NEG:.*]] = graph.minimum_scalar %[[D]] {scalar = 0.000000e+00 : f64}
// CHECK: %[[SCALED:.*]] = graph.elemwise_mul %[[SLOPE]], %[[NEG]]
// CHECK: %[[OUT:.*]] = graph.elemwise_add %[[POS]], %[[SCALED]]
// Dropout with p = 0 is the identity.
// CHECK-NOT: graph.dropout
// CHECK: return %[[OUT]], %[[NEWMM]], %[[NEWMV]], %[[MM2]], %[[MV2]]
func.func @main(%x: tensor<4x2x3xf32> {graph.kind = "input", graph.name = "data"},
                %g: tensor<2xf32> {graph.kind = "param", graph.name = "bn_gamma"},
                %b: tensor<2xf32> {graph.kind = "param", graph.name = "bn_beta"},
                %mm: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
                %mv: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_var"},
                %mm2: tensor<2xf32> {graph.kind = "aux", graph.name = "bn2_moving_mean"},
                %mv2: tensor<2xf32> {graph.kind = "aux", graph.name = "bn2_moving_var"})
    -> (tensor<4x2x3xf32> {graph.name = "act_output"}) {
  %0 = graph.batch_norm %x, %g, %b, %mm, %mv {momentum = 0.75 : f32}
      : (tensor<4x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2x3xf32> loc("bn")
  %1 = graph.batch_norm %0, %g, %b, %mm2, %mv2 {use_global_stats = true}
      : (tensor<4x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2x3xf32> loc("bn2")
  %2 = graph.dropout %1 {p = 0.25 : f32, axes = array<i64: 2>} : (tensor<4x2x3xf32>) -> tensor<4x2x3xf32> loc("drop")
  %3 = graph.leaky_relu %2 {act_type = #graph.leaky_act_type<rrelu>} : (tensor<4x2x3xf32>) -> tensor<4x2x3xf32> loc("act")
  %4 = graph.dropout %3 {p = 0.0 : f32} : (tensor<4x2x3xf32>) -> tensor<4x2x3xf32> loc("drop0")
  return %4 : tensor<4x2x3xf32>
}

// -----

// Nothing random, no aux states: no counter, no extra results; heads are
// marked as outputs.
// CHECK-LABEL: func.func @plain(
// CHECK-SAME: %{{.*}}: tensor<2x3xf32> {graph.kind = "input", graph.name = "data"})
// CHECK-SAME: -> (tensor<2x3xf32> {graph.kind = "output", graph.name = "out"})
// CHECK: graph.activation
// CHECK-NEXT: return
func.func @plain(%x: tensor<2x3xf32> {graph.kind = "input", graph.name = "data"})
    -> (tensor<2x3xf32> {graph.name = "out"}) {
  %0 = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// mode = always is rewritten too (p defaults to 0.5).
// CHECK-LABEL: func.func @always(
// CHECK-SAME: %[[CTR:[a-z0-9]+]]: tensor<1xf32> {graph.kind = "rng_counter", graph.name = "rng_counter"})
// CHECK: %[[M:.*]] = graph.dropout_mask %[[CTR]] {seed = 10 : i64, shape = array<i64: 2, 3>}
// CHECK: graph.elemwise_mul %{{.*}}, %[[M]]
func.func @always(%x: tensor<2x3xf32> {graph.kind = "input", graph.name = "data"})
    -> (tensor<2x3xf32> {graph.name = "out"}) {
  %0 = graph.dropout %x {mode = #graph.dropout_mode<always>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
