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

def Graph_RegressionKind : Graph_Enum<"RegressionKind", "regression loss head", [
  I32EnumAttrCase<"linear", 0>, I32EnumAttrCase<"logistic", 1>, I32EnumAttrCase<"mae", 2>]>;
def Graph_RegressionKindAttr : Graph_EnumAttr<Graph_RegressionKind, "regression_kind">;

//===----------------------------------------------------------------------===//
// Linear algebra and slicing (also plain MXNet operators)
//===----------------------------------------------------------------------===//

def Graph_DotOp : Graph_Op<"dot"> {
  let summary = "MXNet dot on matrices: op(lhs) · op(rhs)";
  let description = [{
    Both operands are rank 2. `transpose_a` / `transpose_b` transpose the
    operand before the product, so the result is `[M, N]` with
    op(lhs) `[M, K]` and op(rhs) `[K, N]`. Autodiff uses it for the
    FullyConnected gradients (dX = dY·W, dW = dYᵀ·X).

    Example:
    ```mlir
    %dw = graph.dot %dy, %x {transpose_a = true}
        : (tensor<8x10xf32>, tensor<8x784xf32>) -> tensor<10x784xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs Graph_Tensor:$output);
}

def Graph_SliceAxisOp : Graph_Op<"slice_axis"> {
  let summary = "MXNet slice_axis: elements [begin, end) along `axis`";
  let description = [{
    Negative `axis`, `begin` and `end` count from the back, as in MXNet;
    after normalization 0 ≤ begin < end ≤ dim. Autodiff uses it for the
    gradient of Concat.

    Example:
    ```mlir
    %y = graph.slice_axis %x {axis = 1 : i64, begin = 2 : i64, end = 5 : i64}
        : (tensor<2x8xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$axis, I64Attr:$begin, I64Attr:$end);
  let results = (outs Graph_Tensor:$output);
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
  let extraClassDeclaration = [{
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<int64_t> getDilations();
    ::llvm::SmallVector<int64_t> getPads();
  }];
}

def Graph_PoolingGradOp : Graph_Op<"pooling_grad"> {
  let summary = "Gradient of Pooling with respect to its input";
  let description = [{
    Takes the forward op's `data` and `out_grad` (the gradient of its result)
    and every Pooling attribute, and returns ∂L/∂data (data's shape). Max
    pooling routes each window's gradient to the first maximal element of the
    window (MXNet's rule), recomputed from `data`; average pooling spreads it
    evenly over the window (divided as the forward divides); sum pooling
    copies it; lp pooling uses out = (Σ|x|ᵖ)^(1/p) recomputed from `data`.

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
  let extraClassDeclaration = [{
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<int64_t> getPads();
  }];
}

def Graph_ActivationGradOp : Graph_Op<"activation_grad",
    [SameOperandsAndResultShape, DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
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
}

def Graph_BatchNormGradOp : Graph_Op<"batch_norm_grad"> {
  let summary = "Gradients of BatchNorm: data, gamma and beta";
  let description = [{
    `mean` and `var` are the statistics the forward normalized with: the
    batch statistics of `graph.batch_norm_train`, or the moving statistics
    when `use_global_stats` (then they are constants and
    dx = out_grad · gamma / sqrt(var + eps)). Otherwise, with x̂ the
    normalized input and m the elements per channel:
    dx = gamma/sqrt(var + eps) · (dy − mean(dy) − x̂ · mean(dy · x̂)).
    gamma_grad = Σ dy · x̂ (zero with `fix_gamma`, as MXNet), beta_grad = Σ dy,
    summed over every axis but `axis`.

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
}

def Graph_SoftmaxOutputGradOp : Graph_Op<"softmax_output_grad"> {
  let summary = "SoftmaxOutput's built-in gradient (ignores head gradients)";
  let description = [{
    From the forward op's `output` p (the probabilities) and `label`:
    (p − onehot(label)) · grad_scale / cnt for class-id labels, with
    `ignore_label` rows zeroed under `use_ignore`, cnt from `normalization`
    (null: 1, batch: N, valid: the rows not ignored), `smooth_alpha` label
    smoothing; (p − label) · grad_scale for probability labels (label shape =
    output shape). The attributes are the forward op's (SPEC §2.3).

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
}

def Graph_RegressionOutputGradOp : Graph_Op<"regression_output_grad"> {
  let summary = "Built-in gradient of the regression loss heads";
  let description = [{
    From the forward op's `output` and `label` (reshaped to the output's
    shape): linear and logistic give (output − label), mae gives
    sign(output − label), each scaled by grad_scale / (elements per sample),
    as MXNet's RegressionOutput backward.

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
}

#endif // KILN_GRAPH_GRAD_OPS
