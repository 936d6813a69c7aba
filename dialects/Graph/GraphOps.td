//===- GraphOps.td - Kiln graph dialect ---------------------*- tablegen -*-===//
//
// One op per MXNet operator, on builtin tensors. Attribute names, meanings and
// defaults follow MXNet 1.x (see shared/SPEC.md §2.3); every default below is
// MXNet's. Tensors may be unranked before kiln-graph-infer-shapes runs; the
// verifier checks shapes exactly once every operand is ranked.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_OPS
#define KILN_GRAPH_OPS

include "Graph/GraphBase.td"

//===----------------------------------------------------------------------===//
// Neural-network layers
//===----------------------------------------------------------------------===//

def Graph_FullyConnectedOp : Graph_Op<"fully_connected"> {
  let summary = "MXNet FullyConnected: y = x·Wᵀ + b";
  let description = [{
    `weight` is `[num_hidden, K]`, `bias` (absent when MXNet's `no_bias` is
    true) is `[num_hidden]`. With `flatten` (default) every dimension after the
    first is collapsed, so K is their product and the result is
    `[N, num_hidden]`; without it the op applies to the last axis.

    Example:
    ```mlir
    %y = graph.fully_connected %x, %w, %b {num_hidden = 10 : i64}
        : (tensor<2x4xf32>, tensor<10x4xf32>, tensor<10xf32>) -> tensor<2x10xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$weight,
                   Optional<Graph_Tensor>:$bias,
                   I64Attr:$num_hidden,
                   DefaultValuedAttr<BoolAttr, "true">:$flatten);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "FullyConnected";
  let mxnetAttrs = [MXReq<"num_hidden", "Int">, MXDef<"flatten", "Bool", "True">];
  let mxnetInputs = ["data", "weight", "bias"];
  let mxnetInputRule = "Bias";
  let customVerifier = 1;
}

def Graph_ConvolutionOp : Graph_Op<"convolution"> {
  let summary = "MXNet Convolution (NCHW / NCW / NCDHW)";
  let description = [{
    `weight` is `[num_filter, C/num_group, *kernel]`, `bias` (absent when
    `no_bias`) is `[num_filter]`. `stride`, `dilate` and `pad` are either empty
    (MXNet's default: 1, 1 and 0 in every spatial dimension) or have one entry
    per kernel dimension. Each output size is
    ⌊(x + 2p − d(k−1) − 1)/s⌋ + 1.

    Example:
    ```mlir
    %y = graph.convolution %x, %w, %b {kernel = array<i64: 3, 3>, num_filter = 8 : i64,
                                      pad = array<i64: 1, 1>}
        : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$weight,
                   Optional<Graph_Tensor>:$bias,
                   DenseI64ArrayAttr:$kernel,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$stride,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$dilate,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pad,
                   I64Attr:$num_filter,
                   DefaultValuedAttr<I64Attr, "1">:$num_group);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    /// Attributes expanded to one entry per spatial dimension.
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<int64_t> getDilations();
    ::llvm::SmallVector<int64_t> getPads();
  }];
  let mxnetName = "Convolution";
  let mxnetAttrs = [MXReq<"kernel", "Tuple">, MXDef<"stride", "Tuple", "()">,
                    MXDef<"dilate", "Tuple", "()">, MXDef<"pad", "Tuple", "()">,
                    MXReq<"num_filter", "Int">, MXDef<"num_group", "Int", "1">];
  let mxnetKeys = [MXKeyWorkspace, MXKeyCudnnTune, MXKeyCudnnOff, MXKeyLayout];
  let mxnetInputs = ["data", "weight", "bias"];
  let mxnetInputRule = "Bias";
  let customVerifier = 1;
}

def Graph_DeconvolutionOp : Graph_Op<"deconvolution"> {
  let summary = "MXNet Deconvolution: the transpose (gradient) of Convolution";
  let description = [{
    `weight` is `[C, num_filter/num_group, *kernel]`; `bias` is absent unless
    `no_bias` was false (MXNet's default for Deconvolution is no bias). Each
    output size is s(x−1) + d(k−1) + 1 − 2p + adj, unless `target_shape` is
    given, in which case pad and adj are derived from it as MXNet does.

    Example:
    ```mlir
    %y = graph.deconvolution %x, %w {kernel = array<i64: 2, 2>, num_filter = 4 : i64,
                                     stride = array<i64: 2, 2>}
        : (tensor<1x8x4x4xf32>, tensor<8x4x2x2xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$weight,
                   Optional<Graph_Tensor>:$bias,
                   DenseI64ArrayAttr:$kernel,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$stride,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$dilate,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pad,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$adj,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$target_shape,
                   I64Attr:$num_filter,
                   DefaultValuedAttr<I64Attr, "1">:$num_group);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    ::llvm::SmallVector<int64_t> getStrides();
    ::llvm::SmallVector<int64_t> getDilations();
    /// Effective padding and output adjustment (derived from target_shape when set).
    ::llvm::SmallVector<int64_t> getPads(::llvm::ArrayRef<int64_t> inputSpatial);
    ::llvm::SmallVector<int64_t> getAdjs(::llvm::ArrayRef<int64_t> inputSpatial);
  }];
  let mxnetName = "Deconvolution";
  let mxnetAttrs = [MXReq<"kernel", "Tuple">, MXDef<"stride", "Tuple", "()">,
                    MXDef<"dilate", "Tuple", "()">, MXDef<"pad", "Tuple", "()">,
                    MXDef<"adj", "Tuple", "()">, MXDef<"target_shape", "Tuple", "()">,
                    MXReq<"num_filter", "Int">, MXDef<"num_group", "Int", "1">];
  let mxnetKeys = [MXKeyWorkspace, MXKeyCudnnTune, MXKeyCudnnOff, MXKeyLayout];
  let mxnetInputs = ["data", "weight", "bias"];
  let mxnetInputRule = "BiasOffByDefault";
  let customVerifier = 1;
}

def Graph_PoolingOp : Graph_Op<"pooling"> {
  let summary = "MXNet Pooling (max, avg, sum, lp)";
  let description = [{
    Windows start at o·s − p and are clipped to the padded input.
    `pooling_convention` chooses floor (`valid`), ceil (`full`) or `same`
    output sizes. Max pooling treats padding as the lowest float. Average
    pooling divides by the window size including padding when
    `count_include_pad` (the default). `global_pool` ignores `kernel` and
    pools each whole spatial plane. `stride`/`pad` are empty (1 and 0) or one
    entry per kernel dimension.

    Example:
    ```mlir
    %y = graph.pooling %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>,
                           pool_type = #graph.pool_type<max>}
        : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
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
  let mxnetName = "Pooling";
  let mxnetAttrs = [MXDef<"kernel", "Tuple", "()">, MXEnum<"pool_type", "PoolType", "max">,
                    MXDef<"global_pool", "Bool", "False">,
                    MXEnum<"pooling_convention", "PoolingConvention", "valid">,
                    MXDef<"stride", "Tuple", "()">, MXDef<"pad", "Tuple", "()">,
                    MXDef<"p_value", "Int", "2">, MXDef<"count_include_pad", "Bool", "True">];
  let mxnetKeys = [MXKeyCudnnOff, MXKeyLayout];
  let customVerifier = 1;
}

def Graph_ActivationOp : Graph_Op<"activation",
    [SameOperandsAndResultShape, Graph_ElementwiseTrait,
     DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet Activation: relu, sigmoid, tanh, softrelu, softsign";
  let description = [{
    Elementwise activation; `softrelu` is log(1 + exp(x)), `softsign` is
    x / (1 + |x|).

    Example:
    ```mlir
    %y = graph.activation %x {act_type = #graph.act_type<relu>}
        : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_ActTypeAttr:$act_type);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Activation";
  let mxnetAttrs = [MXEnum<"act_type", "ActType">];
  let inPlaceOperand = 0;
  let shapeRule = "inferSameShape(*this, state, {\"data\"})";
}

def Graph_LeakyReLUOp : Graph_Op<"leaky_relu",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet LeakyReLU: leaky, prelu, elu, selu, gelu, rrelu";
  let description = [{
    `leaky`: x > 0 ? x : slope·x. `prelu`: the same with a learned per-channel
    `gamma` (shape `[C]`, broadcast along axis 1, or `[1]`: one slope shared
    by every channel, Gluon PReLU's default), the only mode that takes a
    second operand. `elu`: x > 0 ? x : slope·(eˣ − 1). `selu` uses the fixed
    SELU constants, `gelu` the erf form. `rrelu` draws a slope in
    [lower_bound, upper_bound] in training and uses their mean at inference.
    The gradient is MXNet's: for selu that is λ·(α + y) at x ≤ 0 (y the
    output), not the derivative (graph.leaky_relu_grad).

    Example:
    ```mlir
    %y = graph.leaky_relu %x, %g {act_type = #graph.leaky_act_type<prelu>}
        : (tensor<1x4x5x5xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Optional<Graph_Tensor>:$gamma,
                   DefaultValuedAttr<Graph_LeakyActTypeAttr, "LeakyActType::leaky">:$act_type,
                   DefaultValuedAttr<F32Attr, "0.25f">:$slope,
                   DefaultValuedAttr<F32Attr, "0.125f">:$lower_bound,
                   DefaultValuedAttr<F32Attr, "0.334f">:$upper_bound);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "LeakyReLU";
  let mxnetAttrs = [MXEnum<"act_type", "LeakyActType", "leaky">, MXDef<"slope", "F32", "0.25">,
                    MXDef<"lower_bound", "F32", "0.125">, MXDef<"upper_bound", "F32", "0.334">];
  let mxnetInputs = ["data", "gamma"];
  let mxnetInputRule = "PreluGamma";
  let inPlaceOperand = 0;
  let customVerifier = 1;
}

def Graph_BatchNormOp : Graph_Op<"batch_norm",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet BatchNorm over `axis` (default 1)";
  let description = [{
    Operands are data, gamma, beta and the auxiliary states moving_mean and
    moving_var, each `[C]` with C the size of `axis`. Inference uses the moving
    statistics; training (and only when `use_global_stats` is false) uses the
    batch mean and biased variance and updates the moving statistics as
    m·moving + (1 − m)·batch. With `fix_gamma` (MXNet's default) gamma is
    treated as 1 and gets no gradient. Note MXNet's `eps` default of 1e-3.

    Example:
    ```mlir
    %y = graph.batch_norm %x, %g, %b, %mm, %mv {eps = 1.0e-05 : f64}
        : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
        -> tensor<2x4x3x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$beta,
                   Graph_Tensor:$moving_mean, Graph_Tensor:$moving_var,
                   DefaultValuedAttr<F64Attr, "1e-3">:$eps,
                   DefaultValuedAttr<F32Attr, "0.9f">:$momentum,
                   DefaultValuedAttr<BoolAttr, "true">:$fix_gamma,
                   DefaultValuedAttr<BoolAttr, "false">:$use_global_stats,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "BatchNorm";
  let mxnetAttrs = [MXDef<"eps", "F64", "0.001">, MXDef<"momentum", "F32", "0.9">,
                    MXDef<"fix_gamma", "Bool", "True">, MXDef<"use_global_stats", "Bool", "False">,
                    MXDef<"axis", "Int", "1">];
  let mxnetKeys = [MXKeyCudnnOff, MXKey<"output_mean_var", "MustBeFalse">,
                   MXKey<"min_calib_range", "MustBeNone">, MXKey<"max_calib_range", "MustBeNone">];
  let mxnetInputs = ["data", "gamma", "beta", "moving_mean", "moving_var"];
  let mxnetNumAux = 2;
  let inPlaceOperand = 0;
  let customVerifier = 1;
}

def Graph_SyncBatchNormOp : Graph_Op<"sync_batch_norm",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet _contrib_SyncBatchNorm: BatchNorm over axis 1, statistics of the local batch";
  let description = [{
    BatchNorm (graph.batch_norm) with the channel axis fixed at 1 (data of
    rank at least 2), sharing its verifier, shape rule, kernels, lowering,
    training rewrite and gradient. MXNet synchronizes the batch statistics
    of `ndev` devices under `key`; Kiln runs one process on one device, so
    the statistics are the local batch's whatever `ndev` and `key` say
    (they are kept for export). `eps` is a float, as in MXNet (1e-3f is
    0.0010000000474974513). MXNet computes the variance as E[x²] − E[x]²
    and updates the moving statistics in the backward pass; Kiln computes
    the same biased variance as BatchNorm does and updates them in the
    training forward, so a training forward without backward leaves MXNet's
    moving statistics alone but updates Kiln's.

    Example:
    ```mlir
    %y = graph.sync_batch_norm %x, %g, %b, %mm, %mv {key = "bn0"}
        : (tensor<2x4x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
        -> tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$beta,
                   Graph_Tensor:$moving_mean, Graph_Tensor:$moving_var,
                   DefaultValuedAttr<F32Attr, "1e-3f">:$eps,
                   DefaultValuedAttr<F32Attr, "0.9f">:$momentum,
                   DefaultValuedAttr<BoolAttr, "true">:$fix_gamma,
                   DefaultValuedAttr<BoolAttr, "false">:$use_global_stats,
                   DefaultValuedAttr<I64Attr, "1">:$ndev,
                   StrAttr:$key);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_SyncBatchNorm";
  let mxnetAttrs = [MXDef<"eps", "F32", "0.001">, MXDef<"momentum", "F32", "0.9">,
                    MXDef<"fix_gamma", "Bool", "True">, MXDef<"use_global_stats", "Bool", "False">,
                    MXDef<"ndev", "Int", "1">, MXReq<"key", "String">];
  let mxnetKeys = [MXKey<"output_mean_var", "MustBeFalse">];
  let mxnetInputs = ["data", "gamma", "beta", "moving_mean", "moving_var"];
  let mxnetNumAux = 2;
  let inPlaceOperand = 0;
  let customVerifier = 1;
  let opDecl = [{
    /// The channel axis, 1 (BatchNorm's `axis`; the shared code reads it).
    uint64_t getAxis() { return 1; }
  }];
}

def Graph_LRNOp : Graph_Op<"lrn", [SameOperandsAndResultShape]> {
  let summary = "MXNet LRN: local response normalization across channels";
  let description = [{
    out = x · (knorm + (alpha / nsize) · Σ x²)^(−beta), the sum running over
    the `nsize` channels centred on each channel (clipped at the edges).

    Example:
    ```mlir
    %y = graph.lrn %x {nsize = 5 : i64} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$nsize,
                   DefaultValuedAttr<F32Attr, "1e-4f">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.75f">:$beta,
                   DefaultValuedAttr<F32Attr, "2.0f">:$knorm);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "LRN";
  let mxnetAttrs = [MXReq<"nsize", "Int">, MXDef<"alpha", "F32", "0.0001">,
                    MXDef<"beta", "F32", "0.75">, MXDef<"knorm", "F32", "2">];
  let customVerifier = 1;
}

def Graph_DropoutOp : Graph_Op<"dropout",
    [SameOperandsAndResultShape, DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet Dropout (identity at inference unless mode = always)";
  let description = [{
    In training (or always, with `mode = always`) each element is zeroed with
    probability `p` and the survivors are scaled by 1/(1 − p); `axes` lists
    axes along which one mask value is shared.

    Example:
    ```mlir
    %y = graph.dropout %x {p = 2.000000e-01 : f32} : (tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<F32Attr, "0.5f">:$p,
                   DefaultValuedAttr<Graph_DropoutModeAttr, "DropoutMode::training">:$mode,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Dropout";
  let mxnetAttrs = [MXDef<"p", "F32", "0.5">, MXEnum<"mode", "DropoutMode", "training">,
                    MXDef<"axes", "Tuple", "()">];
  let mxnetKeys = [MXKeyCudnnOff];
  let inPlaceOperand = 0;
  let customVerifier = 1;
}

def Graph_EmbeddingOp : Graph_Op<"embedding"> {
  let summary = "MXNet Embedding: rows of `weight` picked by (float) indices";
  let description = [{
    `weight` is `[input_dim, output_dim]`; the result has the shape of `data`
    with `output_dim` appended. Indices are clipped to [0, input_dim − 1].

    Example:
    ```mlir
    %y = graph.embedding %i, %w {input_dim = 100 : i64, output_dim = 8 : i64}
        : (tensor<4x5xf32>, tensor<100x8xf32>) -> tensor<4x5x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$weight,
                   I64Attr:$input_dim, I64Attr:$output_dim);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Embedding";
  let mxnetAttrs = [MXReq<"input_dim", "Int">, MXReq<"output_dim", "Int">];
  let mxnetKeys = [MXKey<"dtype", "Float32OrNone">, MXKey<"sparse_grad">];
  let mxnetInputs = ["data", "weight"];
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

def Graph_SoftmaxOutputOp : Graph_Op<"softmax_output", [Graph_LossHeadTrait]> {
  let summary = "MXNet SoftmaxOutput (alias Softmax): softmax forward, cross-entropy gradient";
  let description = [{
    Forward: softmax over all non-batch dimensions flattened (shape
    `(N, size/N)`) by default; over axis 1 at every position with
    `multi_output`; over the last axis with `preserve_shape`. The result has
    the shape of `data`. `label` is either class ids or probabilities
    (data's shape). Class ids have, as MXNet requires, data's shape without
    the last axis (with `multi_output`: (N, spatial size), the spatial
    shape (N, d2, ...) or (N, 1, d2, ...)); Kiln also accepts (N) for
    data of rank 3 or more without `preserve_shape` (Kiln's former rule).
    By default MXNet reads only the first N of
    them, one per row of the flattened (N, size/N) softmax, but normalizes
    by all of them (see graph.softmax_output_grad). The backward ignores
    head gradients: (p − onehot(label)) · grad_scale / cnt (see SPEC §2.3).
    With `out_grad` MXNet 1.9.1 multiplies that by the softmax output p
    itself, not by the head gradient (its backward node reads the output
    where the head gradient would be), and so does Kiln.

    Example:
    ```mlir
    %p = graph.softmax_output %x, %l : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$label,
                   DefaultValuedAttr<F32Attr, "1.0f">:$grad_scale,
                   DefaultValuedAttr<F32Attr, "-1.0f">:$ignore_label,
                   DefaultValuedAttr<BoolAttr, "false">:$multi_output,
                   DefaultValuedAttr<BoolAttr, "false">:$use_ignore,
                   DefaultValuedAttr<BoolAttr, "false">:$preserve_shape,
                   DefaultValuedAttr<Graph_NormalizationAttr, "Normalization::null">:$normalization,
                   DefaultValuedAttr<BoolAttr, "false">:$out_grad,
                   DefaultValuedAttr<F32Attr, "0.0f">:$smooth_alpha);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "SoftmaxOutput";
  let mxnetAliases = ["Softmax"];
  let mxnetAttrs = [MXDef<"grad_scale", "F32", "1">, MXDef<"ignore_label", "F32", "-1">,
                    MXDef<"multi_output", "Bool", "False">, MXDef<"use_ignore", "Bool", "False">,
                    MXDef<"preserve_shape", "Bool", "False">,
                    MXEnum<"normalization", "Normalization", "null">,
                    MXDef<"out_grad", "Bool", "False">, MXDef<"smooth_alpha", "F32", "0">];
  let mxnetInputs = ["data", "label"];
  let customVerifier = 1;
}

class Graph_RegressionOutputOp<string mnemonic, string mxname, string fwd>
    : Graph_Op<mnemonic, [Graph_LossHeadTrait,
                          DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet " # mxname # ": " # fwd # " forward, built-in regression gradient";
  let description = [{
    A loss head. The forward result has the shape of `data`; `label` has the
    same number of elements. The backward ignores head gradients and yields
    the loss's own gradient scaled by `grad_scale` / (elements per sample).

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %x, %l : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$label,
                   DefaultValuedAttr<F32Attr, "1.0f">:$grad_scale);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = mxname;
  let mxnetAttrs = [MXDef<"grad_scale", "F32", "1">];
  let mxnetInputs = ["data", "label"];
  let inPlaceOperand = 0;
  let shapeRule = "inferRegression(*this, state)";
}
def Graph_LinearRegressionOutputOp
    : Graph_RegressionOutputOp<"linear_regression_output", "LinearRegressionOutput", "identity">;
def Graph_LogisticRegressionOutputOp
    : Graph_RegressionOutputOp<"logistic_regression_output", "LogisticRegressionOutput", "sigmoid">;
def Graph_MAERegressionOutputOp
    : Graph_RegressionOutputOp<"mae_regression_output", "MAERegressionOutput", "identity">;

class Graph_SoftmaxLikeOp<string mnemonic, string mxname, string formula,
                          list<Trait> traits = [SameOperandsAndResultShape]>
    : Graph_Op<mnemonic, traits> {
  let summary = "MXNet " # mxname # " along `axis` (default −1)";
  let description = [{
    Computes }] # formula # [{ along `axis`, dividing the input by
    `temperature` first when it is set.

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %x {axis = 1 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   OptionalAttr<F64Attr>:$temperature);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = mxname;
  let mxnetAttrs = [MXDef<"axis", "Int", "-1">, MXOpt<"temperature", "F64">];
  let mxnetKeys = [MXKey<"dtype", "Float32OrNone">, MXKey<"use_length", "MustBeFalse">];
  let customVerifier = 1;
  let shapeRule = "inferSoftmaxLike(*this, state, getAxis())";
}
def Graph_SoftmaxOp : Graph_SoftmaxLikeOp<"softmax", "softmax", "exp(x) / Σ exp(x)", []> {
  let description = [{
    Computes exp(x) / Σ exp(x) along `axis`, dividing the input by
    `temperature` first when it is set.

    With `use_length` the second operand `length` (data's shape without
    `axis`; (1) for rank-1 data) masks every row: row i takes only its first
    int(length[i]) elements (truncated, clipped to [0, size of axis]) into
    the softmax, and the other elements are 0, as MXNet's kernel writes
    them (a length of 0 gives a row of zeros). `length` gets no gradient.

    Example:
    ```mlir
    %y = graph.softmax %x, %len {use_length = true}
        : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Optional<Graph_Tensor>:$length,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   OptionalAttr<F64Attr>:$temperature,
                   DefaultValuedAttr<BoolAttr, "false">:$use_length);
  let mxnetAttrs = [MXDef<"axis", "Int", "-1">, MXOpt<"temperature", "F64">,
                    MXDef<"use_length", "Bool", "False">];
  let mxnetKeys = [MXKey<"dtype", "Float32OrNone">];
  let mxnetInputs = ["data", "length"];
  let mxnetInputRule = "SoftmaxLength";
  let shapeRule = "";
}
def Graph_LogSoftmaxOp : Graph_SoftmaxLikeOp<"log_softmax", "log_softmax", "x − log Σ exp(x)">;
def Graph_SoftminOp : Graph_SoftmaxLikeOp<"softmin", "softmin", "exp(−x) / Σ exp(−x)"> {
  let description = [{
    Computes exp(−x/T) / Σ exp(−x/T) along `axis` (T = `temperature`, 1
    when unset): MXNet's softmin, its softmax kernel on the negated input.
    It is softmax with temperature −T, which is how Kiln computes it and its
    gradient. MXNet 1.9.1 registers `use_length` for softmin but not the
    `length` input it would need: only use_length = false is accepted.

    Example:
    ```mlir
    %y = graph.softmin %x {axis = 1 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
    ```
  }];
}

def Graph_SoftmaxActivationOp : Graph_Op<"softmax_activation", [SameOperandsAndResultShape]> {
  let summary = "MXNet SoftmaxActivation (legacy)";
  let description = [{
    `instance` (default): softmax over the last axis, as MXNet's CPU kernel
    computes it. `channel`: softmax over axis 1 at every spatial position.

    Example:
    ```mlir
    %y = graph.softmax_activation %x {mode = #graph.softmax_mode<channel>}
        : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<Graph_SoftmaxModeAttr, "SoftmaxMode::instance">:$mode);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "SoftmaxActivation";
  let mxnetAttrs = [MXEnum<"mode", "SoftmaxMode", "instance">];
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Graph_FlattenOp : Graph_Op<"flatten",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet Flatten: (N, d1, d2, ...) → (N, d1·d2·...)";
  let description = [{
    Example:
    ```mlir
    %y = graph.flatten %x : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Flatten";
  let mxnetAliases = ["flatten"];
  let inPlaceOperand = 0;
}

def Graph_IdentityOp : Graph_Op<"identity",
    [SameOperandsAndResultShape, Graph_ElementwiseTrait,
     DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet identity / _copy: the input, unchanged";
  let description = [{
    MXNet writes `mx.sym.identity` as `_copy` (ResNet's scripts open with
    one). The result equals the input.

    Example:
    ```mlir
    %y = graph.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_copy";
  let mxnetAliases = ["identity"];
  let inPlaceOperand = 0;
}

def Graph_ReshapeOp : Graph_Op<"reshape",
    [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet Reshape with its special codes 0, −1, −2, −3, −4";
  let description = [{
    `shape` may use MXNet's codes: 0 copies a dimension, −1 infers one,
    −2 copies all remaining dimensions, −3 merges two consecutive dimensions,
    −4 splits one into the next two entries (one may be −1). With `reverse`
    the codes are matched from the right.

    Example:
    ```mlir
    %y = graph.reshape %x {shape = array<i64: 0, -1>} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DenseI64ArrayAttr:$shape,
                   DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Reshape";
  let mxnetAliases = ["reshape"];
  let mxnetAttrs = [MXReq<"shape", "Tuple">, MXDef<"reverse", "Bool", "False">];
  let mxnetLegacyReshape = 1;
  let inPlaceOperand = 0;
  let customVerifier = 1;
}

def Graph_TransposeOp : Graph_Op<"transpose"> {
  let summary = "MXNet transpose: permute axes (reverse them when `axes` is empty)";
  let description = [{
    Example:
    ```mlir
    %y = graph.transpose %x {axes = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "transpose";
  let mxnetAttrs = [MXDef<"axes", "Tuple", "()">];
  let customVerifier = 1;
}

def Graph_ConcatOp : Graph_Op<"concat"> {
  let summary = "MXNet Concat along `dim` (default 1)";
  let description = [{
    All inputs agree on every dimension but `dim`. MXNet's `num_args` is the
    number of operands.

    Example:
    ```mlir
    %y = graph.concat %a, %b {dim = 1 : i64}
        : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs,
                   DefaultValuedAttr<I64Attr, "1">:$dim);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Concat";
  let mxnetAliases = ["concat"];
  let mxnetAttrs = [MXDef<"dim", "Int", "1">];
  let mxnetInputRule = "Variadic";
  let customVerifier = 1;
}

def Graph_SplitOp : Graph_Op<"split"> {
  let summary = "MXNet SliceChannel / split: equal parts along `axis`";
  let description = [{
    Splits `data` into `num_outputs` equal parts along `axis` (default 1);
    with `squeeze_axis` (only when each part has size 1 there) the axis is
    removed.

    Example:
    ```mlir
    %a, %b = graph.split %x {num_outputs = 2 : i64}
        : (tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$num_outputs,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$squeeze_axis);
  let results = (outs Variadic<Graph_Tensor>:$outputs);
  let mxnetName = "SliceChannel";
  let mxnetAliases = ["split"];
  let mxnetAttrs = [MXReq<"num_outputs", "Int">, MXDef<"axis", "Int", "1">,
                    MXDef<"squeeze_axis", "Bool", "False">];
  let mxnetSplitResults = 1;
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

def Graph_AddNOp : Graph_Op<"add_n", [SameOperandsAndResultShape, Graph_ElementwiseTrait,
                                      DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet add_n (ElementWiseSum): the sum of equally shaped tensors";
  let description = [{
    Example:
    ```mlir
    %y = graph.add_n %a, %b, %c
        : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "add_n";
  let mxnetAliases = ["ElementWiseSum"];
  let mxnetInputRule = "Variadic";
  let inPlaceOperand = 0;
  let customVerifier = 1;
}

def Graph_BroadcastToOp : Graph_Op<"broadcast_to"> {
  let summary = "MXNet broadcast_to: expand size-1 dimensions to `shape` (0 keeps a dim)";
  let description = [{
    Example:
    ```mlir
    %y = graph.broadcast_to %x {shape = array<i64: 4, 0>} : (tensor<1x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DenseI64ArrayAttr:$shape);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "broadcast_to";
  let mxnetAttrs = [MXReq<"shape", "Tuple">];
  let customVerifier = 1;
}

def Graph_SumOp : Graph_ReduceOp<"sum", "the sum"> { let mxnetAliases = ["sum_axis"]; }
def Graph_MeanOp : Graph_ReduceOp<"mean", "the mean">;
def Graph_MaxOp : Graph_ReduceOp<"max", "the maximum"> { let mxnetAliases = ["max_axis"]; }
def Graph_MinOp : Graph_ReduceOp<"min", "the minimum"> { let mxnetAliases = ["min_axis"]; }

include "Graph/GraphElementwise.td"
include "Graph/GraphGradOps.td"

#endif // KILN_GRAPH_OPS
