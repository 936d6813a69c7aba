//===- GraphGradOps.td - Training and gradient ops ----------*- tablegen -*-===//
//
// Ops that kiln-autodiff (and the training-mode rewrite) produce: the
// training-mode forms of layers whose behaviour changes in training, and the
// backward kernels that are not expressible (or not efficiently expressible)
// with the forward ops. They are ordinary graph ops: they fuse, plan and lower
// like the forward ones, and the reference interpreter runs them.
// Included from GraphOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAD_OPS
#define KILN_GRAPH_GRAD_OPS

//===----------------------------------------------------------------------===//
// Linear algebra and slicing (also plain MXNet operators)
//===----------------------------------------------------------------------===//

def Graph_DotOp : Graph_Op<"dot"> {
  let summary = "MXNet dot: op(lhs) · op(rhs), contracting lhs's last and rhs's first axis";
  let description = [{
    MXNet's dot of N-D arrays: without transposes it contracts the last axis
    of `lhs` with the first axis of `rhs`, and the result's shape is lhs's
    other axes followed by rhs's: (2, 3, 4) · (4, 5) → (2, 3, 5). Both
    operands are matrices seen that way: lhs as [product of all but its last
    axis, last axis], rhs as [first axis, product of the others]; with
    `transpose_a` lhs is [first axis, product of the others], transposed
    (its first axis is contracted and the result keeps its other axes),
    and with `transpose_b` rhs is [product of all but its last axis, last
    axis], transposed. A vector (rank 1) contributes no result axis: lhs is
    a row and rhs a column, whatever the transposes; the dot of two
    vectors, which MXNet does not let be transposed, has shape (1).
    Autodiff uses it for the FullyConnected gradients (dX = dY·W,
    dW = dYᵀ·X).

    Example:
    ```mlir
    %dw = graph.dot %dy, %x {transpose_a = true}
        : (tensor<8x10xf32>, tensor<8x784xf32>) -> tensor<10x784xf32>
    %y = graph.dot %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    /// The matrices MXNet multiplies (before the transposes): lhs as
    /// [a0, a1] and rhs as [b0, b1].
    static ::kiln::graph::Shape lhsMatrix(::llvm::ArrayRef<int64_t> lhs, bool transposeA);
    static ::kiln::graph::Shape rhsMatrix(::llvm::ArrayRef<int64_t> rhs, bool transposeB);
  }];
  let mxnetName = "dot";
  let mxnetAttrs = [MXDef<"transpose_a", "Bool", "False">, MXDef<"transpose_b", "Bool", "False">];
  let mxnetKeys = [MXKey<"forward_stype", "MustBeNone">];
  let mxnetInputs = ["lhs", "rhs"];
}

def Graph_SliceAxisOp : Graph_Op<"slice_axis"> {
  let summary = "MXNet slice_axis: elements [begin, end) along `axis`";
  let description = [{
    Negative `axis`, `begin` and `end` count from the back, as in MXNet; an
    absent `end` (MXNet's None) is the end of the axis. After normalization
    0 ≤ begin < end ≤ dim. As in MXNet, a node must write the key `end`
    (None being one of its values). Autodiff uses the op for the gradient
    of Concat.

    Example:
    ```mlir
    %y = graph.slice_axis %x {axis = 1 : i64, begin = 2 : i64, end = 5 : i64}
        : (tensor<2x8xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$axis, I64Attr:$begin,
                   OptionalAttr<I64Attr>:$end);
  let mxnetName = "slice_axis";
  let mxnetAttrs = [MXReq<"axis", "Int">, MXReq<"begin", "Int">, MXReqOrNone<"end", "Int">];
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    /// [begin, end) along an axis of size `dim`, negative values and an
    /// absent end resolved as MXNet does (not range-checked).
    std::pair<int64_t, int64_t> getRange(int64_t dim) {
      int64_t begin = static_cast<int64_t>(getBegin());
      std::optional<uint64_t> end = getEnd();
      int64_t e = end ? static_cast<int64_t>(*end) : dim;
      return {begin < 0 ? begin + dim : begin, end && e < 0 ? e + dim : e};
    }
  }];
}

//===----------------------------------------------------------------------===//
// Ops the gradient rules build from (also plain MXNet operators)
//===----------------------------------------------------------------------===//

def Graph_ZerosOp : Graph_Op<"zeros"> {
  let summary = "MXNet _zeros: a tensor of zeros of the static `shape`";
  let description = [{
    No operands; the result has shape `shape` (not empty, entries ≥ 0) and
    the element type its type names. MXNet's `dtype` is accepted and
    dropped: zero is the same value in every dtype. Autodiff returns the op
    as the gradient of a differentiated argument nothing depends on, and
    pads slice_axis gradients with it.
    A 0 entry is MXNet's legacy unknown dimension: the result's shape stays
    unknown until a consumer's shape rule implies it (Gluon's RNN layers
    export their begin states as `_zeros` of shape (layers·directions, 0,
    hidden), the batch size left to the RNN op), and shape inference then
    writes the whole shape into `shape`.

    Example:
    ```mlir
    %z = graph.zeros {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$shape);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_zeros";
  let mxnetAttrs = [MXDef<"shape", "Tuple", "()">];
  let mxnetKeys = [MXKey<"ctx">, MXKey<"dtype">];
  let mxnetInputs = [];
  let mxnetHasGradient = 0;
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Training-mode forward ops
//===----------------------------------------------------------------------===//

def Graph_BatchNormTrainOp : Graph_Op<"batch_norm_train"> {
  let summary = "BatchNorm in training mode: normalize with the batch statistics";
  let description = [{
    Normalizes `data` with the mean and the biased variance of the batch over
    every axis but `axis`: y = gamma·(x − mean)/sqrt(var + eps) + beta
    (gamma taken as 1 with `fix_gamma`). Returns y and the batch `mean` and
    `var` (each `[C]`): the backward needs them, and the moving statistics are
    updated from them with ordinary elementwise ops
    (m·moving + (1 − m)·batch), which the training rewrite emits as extra
    function results.

    Example:
    ```mlir
    %y, %mean, %var = graph.batch_norm_train %x, %g, %b {eps = 1.0e-05 : f64}
        : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
        -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$beta,
                   DefaultValuedAttr<F64Attr, "1e-3">:$eps,
                   DefaultValuedAttr<BoolAttr, "true">:$fix_gamma,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Graph_Tensor:$output, Graph_Tensor:$mean, Graph_Tensor:$var);
  let customVerifier = 1;
}

def Graph_DropoutMaskOp : Graph_Op<"dropout_mask"> {
  let summary = "The training-mode Dropout mask: a pure function of seed, counter and index";
  let description = [{
    `counter` is a `tensor<1xf32>` holding the iteration number (training
    mode adds it as a function argument of `graph.kind = "rng_counter"`; a
    run supplies a new value per step so every step draws a fresh mask).
    The result has shape `shape` (the Dropout input's) and holds

      mask[i] = u(j) ≥ p ? 1/(1 − p) : 0

    where j is the row-major flat index of i's multi-index after setting
    every axis listed in `axes` to 0 (so the mask is shared along those
    axes, MXNet's `axes`; negative axes count from the back), 0 ≤ p < 1, and
    u is Kiln's counter-based uniform, a pure function of (seed, counter,
    index) so that the interpreter and compiled code draw the same numbers:

      splitmix64(z): z ← z + 0x9E3779B97F4A7C15;
                     z ← (z ⊕ (z ≫ 30)) · 0xBF58476D1CE4E5B9;
                     z ← (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB;
                     return z ⊕ (z ≫ 31)       (unsigned 64-bit, wrapping)
      c    = counter[0] converted to an unsigned 64-bit integer, truncated
             toward zero (negative or NaN: 0; exact up to 2²⁴ in f32)
      u(i) = (splitmix64(splitmix64(splitmix64(seed) ⊕ c) ⊕ i) ≫ 40) · 2⁻²⁴

    with `seed` the attribute's 64 bits (two's complement) and i an unsigned
    64-bit index. u(i) is one of the 2²⁴ values k·2⁻²⁴ in [0, 1), exact in
    f32 and f64 alike, so the comparison with the f32 `p` has the same
    answer in every precision. Dropout in training is
    `elemwise_mul(x, mask)`; its gradient is `elemwise_mul(dy, mask)`.

    Example:
    ```mlir
    %m = graph.dropout_mask %counter {p = 5.000000e-01 : f32, seed = 3 : i64,
                                      shape = array<i64: 4, 8>}
        : (tensor<1xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$counter,
                   DefaultValuedAttr<F32Attr, "0.5f">:$p,
                   DefaultValuedAttr<I64Attr, "0">:$seed,
                   DenseI64ArrayAttr:$shape,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes);
  let results = (outs Graph_Tensor:$output);
  let customVerifier = 1;
}

def Graph_RandomUniformOp : Graph_Op<"random_uniform"> {
  let summary = "Counter-based uniform random numbers in [low, high)";
  let description = [{
    out[i] = low + (high − low) · u(i) for every row-major flat index i of
    the static `shape`, with u(i) and `counter` exactly as for
    `graph.dropout_mask` (same hash of seed, counter and index). Training mode draws rrelu's per-element slopes
    with it (low = lower_bound, high = upper_bound).

    Example:
    ```mlir
    %a = graph.random_uniform %counter {low = 1.250000e-01 : f32, high = 3.340000e-01 : f32,
                                        seed = 1 : i64, shape = array<i64: 2, 3>}
        : (tensor<1xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$counter,
                   DefaultValuedAttr<F32Attr, "0.0f">:$low,
                   DefaultValuedAttr<F32Attr, "1.0f">:$high,
                   DefaultValuedAttr<I64Attr, "0">:$seed,
                   DenseI64ArrayAttr:$shape);
  let results = (outs Graph_Tensor:$output);
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Backward kernels
//===----------------------------------------------------------------------===//

def Graph_ConvolutionWeightGradOp : Graph_Op<"convolution_weight_grad"> {
  let summary = "Gradient of a convolution with respect to its weight";
  let description = [{
    For a Convolution y = conv(data, w) with these `kernel`, `stride`,
    `dilate`, `pad` and `num_group`, and `out_grad` = ∂L/∂y, computes ∂L/∂w:
    dw[f, c, k…] = Σₙ Σₒ out_grad[n, f, o…] · data[n, g·C/g + c, o·s + k·d − p]
    (f in group g). The result is `[F, C/num_group, *kernel]` with F the
    channels of `out_grad` and C those of `data`. With the roles swapped
    (data = ∂L/∂y of a Deconvolution, out_grad = its input) it is the
    Deconvolution's weight gradient.

    Example:
    ```mlir
    %dw = graph.convolution_weight_grad %x, %dy {kernel = array<i64: 5, 5>}
        : (tensor<64x1x28x28xf32>, tensor<64x20x24x24xf32>) -> tensor<20x1x5x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad,
                   DenseI64ArrayAttr:$kernel,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$stride,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$dilate,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pad,
                   DefaultValuedAttr<I64Attr, "1">:$num_group);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<int64_t> getDilations();
    ::llvm::SmallVector<int64_t> getPads();
  }];
  let customVerifier = 1;
}

def Graph_PoolingGradOp : Graph_Op<"pooling_grad"> {
  let summary = "Gradient of Pooling with respect to its input";
  let description = [{
    Takes the forward op's `data` and `out_grad` (the gradient of its result)
    and every Pooling attribute, and returns ∂L/∂data (data's shape). The
    windows are the forward's (SPEC §2.3: start o·s − p, clipped to the
    padded input, then to the real input for the elements they touch).
    Per pool type, for each output position o with gradient g = out_grad[o]:
    - max: g goes to the first element of the window, in row-major window
      order, that holds the window's maximum (recomputed from `data`: the
      first element greater than every earlier one, starting from the
      lowest float that stands for the padding), MXNet's rule; ties do not
      split the gradient and padding never receives any;
    - avg: every real element of the window receives g / n, n being the
      forward's divisor (the window's size within the padded input with
      `count_include_pad`, else its count of real elements);
    - sum: every real element of the window receives g;
    - lp: every real element x receives g · x^(p−1) · out^(1−p), with
      out = (Σ x^p)^(1/p) recomputed over the window (MXNet's lp_grad;
      like the forward it sums x^p, not |x|^p); p = 1 gives g.
    Contributions of overlapping windows add up.

    Example:
    ```mlir
    %dx = graph.pooling_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>,
                                      pool_type = #graph.pool_type<max>}
        : (tensor<1x8x8x8xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x8x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$kernel,
                   DefaultValuedAttr<Graph_PoolTypeAttr, "PoolType::max">:$pool_type,
                   DefaultValuedAttr<BoolAttr, "false">:$global_pool,
                   DefaultValuedAttr<Graph_PoolingConventionAttr,
                                     "PoolingConvention::valid">:$pooling_convention,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$stride,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pad,
                   DefaultValuedAttr<I64Attr, "2">:$p_value,
                   DefaultValuedAttr<BoolAttr, "true">:$count_include_pad);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<int64_t> getPads();
  }];
  let customVerifier = 1;
}

def Graph_ActivationGradOp : Graph_Op<"activation_grad",
    [SameOperandsAndResultShape, Graph_ElementwiseTrait,
     DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "Gradient of Activation: out_grad · f′";
  let description = [{
    `saved` is the forward op's output for relu, sigmoid and tanh (f′ is a
    function of y: y > 0, y(1 − y), 1 − y²) and its input for softrelu and
    softsign (f′ = sigmoid(x), 1/(1 + |x|)²), as MXNet's backward does, so
    the forward input of relu/sigmoid/tanh need not stay alive.

    Example:
    ```mlir
    %dx = graph.activation_grad %dy, %y {act_type = #graph.act_type<relu>}
        : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$out_grad, Graph_Tensor:$saved,
                   Graph_ActTypeAttr:$act_type);
  let results = (outs Graph_Tensor:$output);
  let inPlaceOperand = 0;
}

def Graph_BatchNormGradOp : Graph_Op<"batch_norm_grad"> {
  let summary = "Gradients of BatchNorm: data, gamma and beta";
  let description = [{
    `mean` and `var` are the statistics the forward normalized with: the
    batch statistics of `graph.batch_norm_train`, or the moving statistics
    when `use_global_stats` (then they are constants). Per channel c (the
    index along `axis`), with g = gamma[c] (1 with `fix_gamma`),
    inv = 1/sqrt(var[c] + eps), x̂ = (x − mean[c])·inv, m the elements per
    channel and the sums running over every axis but `axis`:
    - data_grad = g·inv·(dy − Σdy/m − x̂·Σ(dy·x̂)/m), or g·inv·dy with
      `use_global_stats`;
    - gamma_grad = Σ dy·x̂ (zero with `fix_gamma`, as MXNet);
    - beta_grad = Σ dy.

    Example:
    ```mlir
    %dx, %dg, %db = graph.batch_norm_grad %x, %g, %mean, %var, %dy {fix_gamma = false}
        : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
           tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$mean,
                   Graph_Tensor:$var, Graph_Tensor:$out_grad,
                   DefaultValuedAttr<F64Attr, "1e-3">:$eps,
                   DefaultValuedAttr<BoolAttr, "true">:$fix_gamma,
                   DefaultValuedAttr<BoolAttr, "false">:$use_global_stats,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Graph_Tensor:$data_grad, Graph_Tensor:$gamma_grad,
                      Graph_Tensor:$beta_grad);
  let customVerifier = 1;
}

def Graph_SoftmaxOutputGradOp : Graph_Op<"softmax_output_grad",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "SoftmaxOutput's built-in gradient (ignores head gradients)";
  let description = [{
    From the forward op's `output` p (the probabilities) and `label`; the
    attributes are the forward op's (SPEC §2.3), and the result has p's
    shape. MXNet's SoftmaxOutput backward, exactly:
    - Probability labels (label shape = output shape):
      (p − label) · grad_scale, nothing else.
    - Class labels: p is viewed as rows of K classes like the forward
      (default: (N, size/N); `preserve_shape`: rows = all leading axes,
      K = last axis; `multi_output`: (N, K, S) with S the spatial size and
      one label per (n, s)). Without `multi_output` the rows take the first
      labels in row-major order (MXNet's label of shape data.shape[:-1]
      holds more than the N rows of the default view; the others are not
      read). Each label is cast to int (truncated) as k;
      the row's gradient is p − t with t = onehot(k) (a k outside [0, K)
      matches no class); with `smooth_alpha` = a > 0 (not with
      `multi_output`, which MXNet does not smooth) t is 1 − a at k and
      a/(K − 1) elsewhere. With `use_ignore`, rows whose int label equals
      int(ignore_label) are zero. Everything is then scaled by
      grad_scale / cnt, cnt being 1 (`null`), the number of labels
      (`batch`; with `multi_output` N), or the count of labels whose int
      value differs from int(ignore_label), at least 1 (`valid`, with or
      without `use_ignore`), all labels counted even those not read; with
      `multi_output` cnt is further multiplied by S unless `valid`.

    Example:
    ```mlir
    %dx = graph.softmax_output_grad %p, %l : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$output, Graph_Tensor:$label,
                   DefaultValuedAttr<F32Attr, "1.0f">:$grad_scale,
                   DefaultValuedAttr<F32Attr, "-1.0f">:$ignore_label,
                   DefaultValuedAttr<BoolAttr, "false">:$multi_output,
                   DefaultValuedAttr<BoolAttr, "false">:$use_ignore,
                   DefaultValuedAttr<BoolAttr, "false">:$preserve_shape,
                   DefaultValuedAttr<Graph_NormalizationAttr, "Normalization::null">:$normalization,
                   DefaultValuedAttr<F32Attr, "0.0f">:$smooth_alpha);
  let results = (outs Graph_Tensor:$data_grad);
  let customVerifier = 1;
  let inPlaceOperand = 0;
}

def Graph_RegressionOutputGradOp : Graph_Op<"regression_output_grad",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "Built-in gradient of the regression loss heads";
  let description = [{
    From the forward op's `output` and `label` (same element count, read in
    row-major order as the output's shape): linear and logistic give
    (output − label) (for logistic, output is already the sigmoid), mae gives
    sign(output − label) (0 where equal), each scaled by
    grad_scale / (elements per sample = output size / N), as MXNet's
    RegressionOutput backward.

    Example:
    ```mlir
    %dx = graph.regression_output_grad %y, %l {kind = #graph.regression_kind<linear>}
        : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$output, Graph_Tensor:$label,
                   Graph_RegressionKindAttr:$kind,
                   DefaultValuedAttr<F32Attr, "1.0f">:$grad_scale);
  let results = (outs Graph_Tensor:$data_grad);
  let inPlaceOperand = 0;
}

def Graph_SoftmaxGradOp : Graph_Op<"softmax_grad", [SameOperandsAndResultShape]> {
  let summary = "Gradient of softmax / log_softmax along `axis`";
  let description = [{
    From the forward `output` y and `out_grad` dy: softmax gives
    y · (dy − Σ dy·y), log_softmax (`log`) gives dy − exp(y) · Σ dy, the
    sums running along `axis`; both are divided by `temperature` when set.

    Example:
    ```mlir
    %dx = graph.softmax_grad %y, %dy {axis = -1 : i64}
        : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$output, Graph_Tensor:$out_grad,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   OptionalAttr<F64Attr>:$temperature,
                   DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs Graph_Tensor:$output_grad);
  let customVerifier = 1;
}

def Graph_LeakyReLUGradOp : Graph_Op<"leaky_relu_grad",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "Gradient of LeakyReLU with respect to its input";
  let description = [{
    out_grad · f′(data), with `data` the forward op's input and the forward's
    attributes; `gamma` is given exactly for `prelu`:
    - leaky: data > 0 ? 1 : slope;
    - prelu: data > 0 ? 1 : gamma[c], c the index along axis 1 (0 for a 1-D
      input; a 1-element gamma is shared by every channel);
    - elu: data > 0 ? 1 : slope·exp(data);
    - selu: λ·(data > 0 ? 1 : α + y), y = λα·(exp(data) − 1) the forward's
      output, λ = 1.0507009873554804934193349852946,
      α = 1.6732632423543772848170429916717 (the forward's constants). This
      is MXNet 1.9.1's selu_grad (not the derivative λα·exp(data) = y + λα),
      which Kiln matches;
    - gelu: Φ(x) + x·φ(x) with Φ(x) = (1 + erf(x/√2))/2, φ(x) = exp(−x²/2)/√(2π);
    - rrelu: the inference form, data > 0 ? 1 : (lower_bound + upper_bound)/2
      (training mode rewrites rrelu into elementwise ops with random slopes).
    The gradient of prelu's gamma is built from forward ops
    (Σ out_grad · min(data, 0) over every axis but 1).

    Example:
    ```mlir
    %dx = graph.leaky_relu_grad %dy, %x {act_type = #graph.leaky_act_type<elu>}
        : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$out_grad, Graph_Tensor:$data,
                   Optional<Graph_Tensor>:$gamma,
                   DefaultValuedAttr<Graph_LeakyActTypeAttr, "LeakyActType::leaky">:$act_type,
                   DefaultValuedAttr<F32Attr, "0.25f">:$slope,
                   DefaultValuedAttr<F32Attr, "0.125f">:$lower_bound,
                   DefaultValuedAttr<F32Attr, "0.334f">:$upper_bound);
  let results = (outs Graph_Tensor:$output);
  let customVerifier = 1;
  let inPlaceOperand = 0;
}

def Graph_LRNGradOp : Graph_Op<"lrn_grad"> {
  let summary = "Gradient of LRN with respect to its input";
  let description = [{
    From the forward input `data` (x) and `out_grad` (dy), with the forward's
    attributes. Along axis 1 (C channels), per position, let W(c) be the
    `nsize` channels centred on c clipped to [0, C) and
    S_c = knorm + (alpha/nsize)·Σ_{j∈W(c)} x_j², so that the forward is
    y_c = x_c·S_c^(−beta). The result is

      dx_j = dy_j·S_j^(−beta) − (2·alpha·beta/nsize)·x_j·Σ_{c∈W(j)} dy_c·x_c·S_c^(−beta−1)

    (W is symmetric: j ∈ W(c) exactly when c ∈ W(j)).

    Example:
    ```mlir
    %dx = graph.lrn_grad %x, %dy {nsize = 5 : i64}
        : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad, I64Attr:$nsize,
                   DefaultValuedAttr<F32Attr, "1e-4f">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.75f">:$beta,
                   DefaultValuedAttr<F32Attr, "2.0f">:$knorm);
  let results = (outs Graph_Tensor:$output);
  let customVerifier = 1;
}

def Graph_EmbeddingGradOp : Graph_Op<"embedding_grad"> {
  let summary = "Gradient of Embedding with respect to its weight (dense scatter-add)";
  let description = [{
    `data` holds the forward's (float) indices, `out_grad` has data's shape
    with `output_dim` appended. The result is `[input_dim, output_dim]`:
    row r is the sum of the out_grad rows of every index whose forward row
    is r, and zero when none is. The forward row of an index v is the
    Embedding op's: v truncated toward zero, clipped to [0, input_dim − 1],
    NaN giving 0.

    Example:
    ```mlir
    %dw = graph.embedding_grad %i, %dy {input_dim = 100 : i64, output_dim = 8 : i64}
        : (tensor<4x5xf32>, tensor<4x5x8xf32>) -> tensor<100x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad,
                   I64Attr:$input_dim, I64Attr:$output_dim);
  let results = (outs Graph_Tensor:$output);
  let customVerifier = 1;
}

#endif // KILN_GRAPH_GRAD_OPS
