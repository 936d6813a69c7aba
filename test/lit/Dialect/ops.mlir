// Round trip of every graph op with non-default attributes. Every type below
// was computed by hand from MXNet's shape rules; the verifier re-derives them,
// so a wrong rule fails here before FileCheck runs.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s

// CHECK-LABEL: func @layers
func.func @layers(%x3: tensor<2x3x4xf32>, %wfc: tensor<5x4xf32>, %bfc: tensor<5xf32>,
                  %img: tensor<1x4x9x9xf32>, %wc: tensor<6x2x3x3xf32>, %b6: tensor<6xf32>,
                  %small: tensor<1x4x3x3xf32>, %wd: tensor<4x3x3x3xf32>,
                  %p8: tensor<1x2x8x8xf32>) {
  // flatten = false applies to the last axis: K = 4.
  // CHECK: graph.fully_connected %{{.*}}, %{{.*}}, %{{.*}} {flatten = false, num_hidden = 5 : i64} : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  %0 = graph.fully_connected %x3, %wfc, %bfc {num_hidden = 5 : i64, flatten = false}
      : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  // (9 + 2·1 − 2·(3−1) − 1)/2 + 1 = 4; weight [6, 4/2, 3, 3].
  // CHECK: graph.convolution {{.*}}dilate = array<i64: 2, 2>, kernel = array<i64: 3, 3>, num_filter = 6 : i64, num_group = 2 : i64, pad = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  %1 = graph.convolution %img, %wc, %b6 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                                        dilate = array<i64: 2, 2>, pad = array<i64: 1, 1>,
                                        num_filter = 6 : i64, num_group = 2 : i64}
      : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  // 2·(3−1) + (3−1) + 1 − 2·1 + 1 = 6; weight [4, 6/2, 3, 3].
  // CHECK: graph.deconvolution {{.*}}adj = array<i64: 1, 1>{{.*}} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>, tensor<6xf32>) -> tensor<1x6x6x6xf32>
  %2 = graph.deconvolution %small, %wd, %b6 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                                            pad = array<i64: 1, 1>, adj = array<i64: 1, 1>,
                                            num_filter = 6 : i64, num_group = 2 : i64}
      : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>, tensor<6xf32>) -> tensor<1x6x6x6xf32>
  // full: 1 + ⌈(8 − 3)/2⌉ = 4 (valid would give 3).
  // CHECK: graph.pooling {{.*}}count_include_pad = false, kernel = array<i64: 3, 3>, pool_type = #graph.pool_type<avg>, pooling_convention = #graph.pooling_convention<full>, stride = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  %3 = graph.pooling %p8 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                          pool_type = #graph.pool_type<avg>,
                          pooling_convention = #graph.pooling_convention<full>,
                          count_include_pad = false}
      : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  // CHECK: graph.pooling {{.*}}global_pool = true, p_value = 3 : i64, pool_type = #graph.pool_type<lp>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x1x1xf32>
  %4 = graph.pooling %p8 {global_pool = true, pool_type = #graph.pool_type<lp>, p_value = 3 : i64}
      : (tensor<1x2x8x8xf32>) -> tensor<1x2x1x1xf32>
  return
}

// CHECK-LABEL: func @activations
func.func @activations(%x: tensor<1x4x5x5xf32>, %g: tensor<4xf32>, %y: tensor<2x3x5xf32>,
                       %c: tensor<5xf32>, %z: tensor<1x8x4x4xf32>, %d: tensor<4x8xf32>) {
  // CHECK: graph.activation %{{.*}} {act_type = #graph.act_type<softsign>} : (tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %0 = graph.activation %x {act_type = #graph.act_type<softsign>} : (tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  // CHECK: graph.leaky_relu %{{.*}}, %{{.*}} {act_type = #graph.leaky_act_type<prelu>} : (tensor<1x4x5x5xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  %1 = graph.leaky_relu %x, %g {act_type = #graph.leaky_act_type<prelu>}
      : (tensor<1x4x5x5xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  // CHECK: graph.leaky_relu %{{.*}} {act_type = #graph.leaky_act_type<rrelu>, lower_bound = 1.000000e-01 : f32, slope = 5.000000e-01 : f32, upper_bound = 2.000000e-01 : f32}
  %2 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<rrelu>, slope = 0.5 : f32,
                            lower_bound = 0.1 : f32, upper_bound = 0.2 : f32}
      : (tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  // axis −1 of (2, 3, 5): C = 5.
  // CHECK: graph.batch_norm {{.*}} {axis = -1 : i64, eps = 1.000000e-05 : f64, fix_gamma = false, momentum = 8.000000e-01 : f32, use_global_stats = true} : (tensor<2x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  %3 = graph.batch_norm %y, %c, %c, %c, %c {eps = 1.0e-05 : f64, momentum = 0.8 : f32,
                                            fix_gamma = false, use_global_stats = true,
                                            axis = -1 : i64}
      : (tensor<2x3x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
      -> tensor<2x3x5xf32>
  // CHECK: graph.lrn %{{.*}} {alpha = 2.000000e-04 : f32, beta = 5.000000e-01 : f32, knorm = 1.000000e+00 : f32, nsize = 3 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %4 = graph.lrn %z {nsize = 3 : i64, alpha = 2.0e-4 : f32, beta = 0.5 : f32, knorm = 1.0 : f32}
      : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  // CHECK: graph.dropout %{{.*}} {axes = array<i64: 1>, mode = #graph.dropout_mode<always>, p = 3.000000e-01 : f32} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %5 = graph.dropout %d {p = 0.3 : f32, mode = #graph.dropout_mode<always>, axes = array<i64: 1>}
      : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// CHECK-LABEL: func @embedding_and_heads
func.func @embedding_and_heads(%i: tensor<2x3xf32>, %w: tensor<10x6xf32>,
                               %m: tensor<2x5x3x3xf32>, %ml: tensor<2x3x3xf32>,
                               %r: tensor<4x1xf32>, %rl: tensor<4xf32>,
                               %q: tensor<4x3xf32>, %s: tensor<2x5xf32>,
                               %ps: tensor<2x3x5xf32>, %psl: tensor<2x3xf32>,
                               %ch: tensor<1x2x3x3xf32>) {
  // (2, 3) with output_dim 6 appended.
  // CHECK: graph.embedding %{{.*}}, %{{.*}} {input_dim = 10 : i64, output_dim = 6 : i64} : (tensor<2x3xf32>, tensor<10x6xf32>) -> tensor<2x3x6xf32>
  %0 = graph.embedding %i, %w {input_dim = 10 : i64, output_dim = 6 : i64}
      : (tensor<2x3xf32>, tensor<10x6xf32>) -> tensor<2x3x6xf32>
  // multi_output: label is the data shape without axis 1.
  // CHECK: graph.softmax_output {{.*}}grad_scale = 2.000000e+00 : f32, ignore_label = 0.000000e+00 : f32, multi_output = true, normalization = #graph.normalization<valid>, smooth_alpha = 1.000000e-01 : f32, use_ignore = true} : (tensor<2x5x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x5x3x3xf32>
  %1 = graph.softmax_output %m, %ml {grad_scale = 2.0 : f32, ignore_label = 0.0 : f32,
                                     multi_output = true, use_ignore = true,
                                     normalization = #graph.normalization<valid>,
                                     smooth_alpha = 0.1 : f32}
      : (tensor<2x5x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x5x3x3xf32>
  // preserve_shape: label is the data shape without the last axis.
  // CHECK: graph.softmax_output {{.*}}out_grad = true, preserve_shape = true} : (tensor<2x3x5xf32>, tensor<2x3xf32>) -> tensor<2x3x5xf32>
  %2 = graph.softmax_output %ps, %psl {preserve_shape = true, out_grad = true}
      : (tensor<2x3x5xf32>, tensor<2x3xf32>) -> tensor<2x3x5xf32>
  // CHECK: graph.linear_regression_output %{{.*}}, %{{.*}} {grad_scale = 5.000000e-01 : f32} : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xf32>
  %3 = graph.linear_regression_output %r, %rl {grad_scale = 0.5 : f32}
      : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xf32>
  // CHECK: graph.logistic_regression_output %{{.*}}, %{{.*}} {grad_scale = 3.000000e+00 : f32} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %4 = graph.logistic_regression_output %q, %q {grad_scale = 3.0 : f32}
      : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  // CHECK: graph.mae_regression_output %{{.*}}, %{{.*}} {grad_scale = 2.500000e-01 : f32} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %5 = graph.mae_regression_output %q, %q {grad_scale = 0.25 : f32}
      : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  // CHECK: graph.softmax %{{.*}} {axis = 0 : i64, temperature = 2.000000e+00 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %6 = graph.softmax %s {axis = 0 : i64, temperature = 2.0 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  // CHECK: graph.log_softmax %{{.*}} {axis = -2 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %7 = graph.log_softmax %s {axis = -2 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  // CHECK: graph.softmax_activation %{{.*}} {mode = #graph.softmax_mode<channel>} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %8 = graph.softmax_activation %ch {mode = #graph.softmax_mode<channel>}
      : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<2x3x4xf32>, %x4: tensor<2x3x4x5xf32>, %a: tensor<2x3xf32>,
                  %b: tensor<2x5xf32>, %c: tensor<2x1xf32>, %s: tensor<3x4xf32>) {
  // CHECK: graph.identity %{{.*}} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %id = graph.identity %x : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: graph.flatten %{{.*}} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  %0 = graph.flatten %x : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  // −4 splits 2 into (1, 2), −3 merges 3·4, 0 copies 5.
  // CHECK: graph.reshape %{{.*}} {shape = array<i64: -4, 1, -1, -3, 0>} : (tensor<2x3x4x5xf32>) -> tensor<1x2x12x5xf32>
  %1 = graph.reshape %x4 {shape = array<i64: -4, 1, -1, -3, 0>}
      : (tensor<2x3x4x5xf32>) -> tensor<1x2x12x5xf32>
  // reverse matches from the right: 0 copies 5, −1 takes 2·3·4 = 24.
  // CHECK: graph.reshape %{{.*}} {reverse = true, shape = array<i64: -1, 0>} : (tensor<2x3x4x5xf32>) -> tensor<24x5xf32>
  %2 = graph.reshape %x4 {shape = array<i64: -1, 0>, reverse = true}
      : (tensor<2x3x4x5xf32>) -> tensor<24x5xf32>
  // CHECK: graph.transpose %{{.*}} {axes = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %3 = graph.transpose %x {axes = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  // CHECK: graph.concat {{.*}} {dim = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x1xf32>) -> tensor<2x9xf32>
  %4 = graph.concat %a, %b, %c {dim = -1 : i64}
      : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x1xf32>) -> tensor<2x9xf32>
  // CHECK: graph.split %{{.*}} {axis = 0 : i64, num_outputs = 3 : i64, squeeze_axis = true} : (tensor<3x4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %5:3 = graph.split %s {num_outputs = 3 : i64, axis = 0 : i64, squeeze_axis = true}
      : (tensor<3x4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// CHECK-LABEL: func @arithmetic
func.func @arithmetic(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %v: tensor<4xf32>,
                      %p: tensor<2x1x3xf32>, %q: tensor<4x1xf32>, %r: tensor<1x3xf32>) {
  // CHECK: graph.elemwise_add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %0 = graph.elemwise_add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.elemwise_sub
  %1 = graph.elemwise_sub %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.elemwise_mul
  %2 = graph.elemwise_mul %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.elemwise_div
  %3 = graph.elemwise_div %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.add_n %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = graph.add_n %v, %v, %v : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: graph.plus_scalar %{{.*}} {scalar = 1.500000e+00 : f64}
  %5 = graph.plus_scalar %a {scalar = 1.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.minus_scalar %{{.*}} {scalar = 1.275000e+02 : f64}
  %6 = graph.minus_scalar %a {scalar = 127.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // MXNet's default scalar, 1, is not printed.
  // CHECK: graph.rminus_scalar %{{[^ ]*}} : (tensor<2x3xf32>)
  %7 = graph.rminus_scalar %a {scalar = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.mul_scalar %{{.*}} {scalar = 7.812500e-03 : f64}
  %8 = graph.mul_scalar %a {scalar = 0.0078125 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.div_scalar %{{.*}} {scalar = 2.550000e+02 : f64}
  %9 = graph.div_scalar %a {scalar = 255.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.rdiv_scalar %{{.*}} {scalar = 2.000000e+00 : f64}
  %10 = graph.rdiv_scalar %a {scalar = 2.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.power_scalar %{{.*}} {scalar = 3.000000e+00 : f64}
  %11 = graph.power_scalar %a {scalar = 3.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.rpower_scalar %{{.*}} {scalar = 5.000000e-01 : f64}
  %12 = graph.rpower_scalar %a {scalar = 0.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.maximum_scalar %{{.*}} {scalar = 0.000000e+00 : f64}
  %13 = graph.maximum_scalar %a {scalar = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.minimum_scalar %{{.*}} {scalar = 6.000000e+00 : f64}
  %14 = graph.minimum_scalar %a {scalar = 6.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // (2, 1, 3) with (4, 1) aligned right: (2, 4, 3).
  // CHECK: graph.broadcast_add %{{.*}}, %{{.*}} : (tensor<2x1x3xf32>, tensor<4x1xf32>) -> tensor<2x4x3xf32>
  %15 = graph.broadcast_add %p, %q : (tensor<2x1x3xf32>, tensor<4x1xf32>) -> tensor<2x4x3xf32>
  // CHECK: graph.broadcast_sub %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %16 = graph.broadcast_sub %q, %r : (tensor<4x1xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  // CHECK: graph.broadcast_mul %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  %17 = graph.broadcast_mul %a, %r : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.broadcast_div %{{.*}}, %{{.*}} : (tensor<1x3xf32>, tensor<2x1x3xf32>) -> tensor<2x1x3xf32>
  %18 = graph.broadcast_div %r, %p : (tensor<1x3xf32>, tensor<2x1x3xf32>) -> tensor<2x1x3xf32>
  // CHECK: graph.broadcast_maximum %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %19 = graph.broadcast_maximum %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.broadcast_minimum %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<4x1xf32>) -> tensor<4x4xf32>
  %20 = graph.broadcast_minimum %v, %q : (tensor<4xf32>, tensor<4x1xf32>) -> tensor<4x4xf32>
  // CHECK: graph.broadcast_power %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  %21 = graph.broadcast_power %a, %r : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  // 0 keeps the input dimension.
  // CHECK: graph.broadcast_to %{{.*}} {shape = array<i64: 0, 5, 3>} : (tensor<2x1x3xf32>) -> tensor<2x5x3xf32>
  %22 = graph.broadcast_to %p {shape = array<i64: 0, 5, 3>} : (tensor<2x1x3xf32>) -> tensor<2x5x3xf32>
  return
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<2x3x4xf32>) {
  // CHECK: graph.sum %{{.*}} {axis = array<i64: 0, -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  %0 = graph.sum %x {axis = array<i64: 0, -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  // exclude keeps only the listed axis.
  // CHECK: graph.mean %{{.*}} {axis = array<i64: 1>, exclude = true} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %1 = graph.mean %x {axis = array<i64: 1>, exclude = true} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // No axis: everything, and MXNet returns shape (1).
  // CHECK: graph.max %{{.*}} : (tensor<2x3x4xf32>) -> tensor<1xf32>
  %2 = graph.max %x : (tensor<2x3x4xf32>) -> tensor<1xf32>
  // CHECK: graph.min %{{.*}} {axis = array<i64: 1>, exclude = true, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  %3 = graph.min %x {axis = array<i64: 1>, keepdims = true, exclude = true}
      : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  return
}

// Unranked values are accepted before shape inference.
// CHECK-LABEL: func @unranked
// CHECK: graph.fully_connected %{{.*}}, %{{.*}} {num_hidden = 3 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
func.func @unranked(%x: tensor<*xf32>, %w: tensor<*xf32>) -> tensor<*xf32> {
  %0 = graph.fully_connected %x, %w {num_hidden = 3 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
