//===- GraphNNOps.td - Graph dialect: neural-network layers -*- tablegen -*-===//
//
// Layers beyond the core ones: normalizations (LayerNorm, InstanceNorm, GroupNorm,
// L2Normalization), resizing and adaptive pooling, batch_dot, MakeLoss.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphNNOps.h, defined in dialects/Graph/NNOps.cpp, run by
// lib/Interpreter/NNOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/NNOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
// Every op follows MXNet 1.9.1's kernel (src/operator/nn, contrib, tensor);
// where MXNet does something surprising the op's description says so.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_NN_OPS
#define KILN_GRAPH_NN_OPS

include "Graph/GraphBase.td"

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

// The normalization layers see their input as a 3-D view (outer, channels,
// inner) whose axis 1 indexes gamma and beta, and take their statistics over
// one axis of it (NormView in GraphNNOps.h).
class Graph_NormOp<string mnemonic> : Graph_Op<mnemonic> {
  let familyDecl = [{
    /// The op's view of an input of shape `data`.
    ::kiln::graph::NormView getNormView(::llvm::ArrayRef<int64_t> data);
  }];
  let customVerifier = 1;
}

def Graph_LayerNormOp : Graph_NormOp<"layer_norm"> {
  let summary = "MXNet LayerNorm: normalize along `axis`, then scale and shift";
  let description = [{
    For every position of the other axes, with mean μ and biased variance σ²
    of the values along `axis` (default −1, the last):
    out = (x − μ) / sqrt(σ² + eps) · gamma + beta, `gamma` and `beta` being
    `[C]` with C the size of `axis`. `eps` is a float (MXNet's default
    1e-5f). MXNet's `output_mean_var` (extra mean/std results) is accepted
    only when false.

    Example:
    ```mlir
    %y = graph.layer_norm %x, %g, %b {axis = 1 : i64}
        : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$beta,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$eps);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "LayerNorm";
  let mxnetAliases = ["_npx_layer_norm"];
  let mxnetAttrs = [MXDef<"axis", "Int", "-1">, MXDef<"eps", "F32", "1e-05">];
  let mxnetKeys = [MXKey<"output_mean_var", "MustBeFalse">];
  let mxnetInputs = ["data", "gamma", "beta"];
}

def Graph_InstanceNormOp : Graph_NormOp<"instance_norm"> {
  let summary = "MXNet InstanceNorm: normalize each (sample, channel) plane";
  let description = [{
    `data` is `(N, C, d2, ...)` (rank at least 3). For every sample n and
    channel c, with mean μ and biased variance σ² over the spatial axes:
    out = (x − μ) / sqrt(σ² + eps) · gamma[c] + beta[c]. Note MXNet's `eps`
    default of 1e-3 (a float), larger than LayerNorm's and GroupNorm's.

    Example:
    ```mlir
    %y = graph.instance_norm %x, %g, %b
        : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$beta,
                   DefaultValuedAttr<F32Attr, "1e-3f">:$eps);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "InstanceNorm";
  let mxnetAttrs = [MXDef<"eps", "F32", "0.001">];
  let mxnetInputs = ["data", "gamma", "beta"];
}

def Graph_GroupNormOp : Graph_NormOp<"group_norm"> {
  let summary = "MXNet GroupNorm: normalize groups of channels";
  let description = [{
    `data` is `(N, C, d2, ...)` (rank at least 3) with C divisible by
    `num_groups` G. The channels split into G consecutive groups; for every
    sample and group, with mean μ and biased variance σ² over the group's
    channels and all spatial positions:
    out = (x − μ) / sqrt(σ² + eps) · gamma[g] + beta[g].

    As in MXNet 1.9.1, `gamma` and `beta` are `[num_groups]`, one scale and
    shift per group (not per channel as in the GroupNorm paper and other
    frameworks). MXNet's `output_mean_var` is accepted only when false.

    Example:
    ```mlir
    %y = graph.group_norm %x, %g, %b {num_groups = 2 : i64}
        : (tensor<2x4x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$gamma, Graph_Tensor:$beta,
                   DefaultValuedAttr<I64Attr, "1">:$num_groups,
                   DefaultValuedAttr<F32Attr, "1e-5f">:$eps);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "GroupNorm";
  let mxnetAttrs = [MXDef<"num_groups", "Int", "1">, MXDef<"eps", "F32", "1e-05">];
  let mxnetKeys = [MXKey<"output_mean_var", "MustBeFalse">];
  let mxnetInputs = ["data", "gamma", "beta"];
}

def Graph_L2NormalizationOp : Graph_NormOp<"l2_normalization"> {
  let summary = "MXNet L2Normalization: divide by the L2 norm (instance, channel, spatial)";
  let description = [{
    out = x / sqrt(Σ x² + eps), the sum running, for `mode`:
    - `instance` (default): over every axis but the first (one norm per
      sample; a rank-1 input normalizes each element by itself);
    - `channel`: over axis 1, at every (sample, spatial position);
    - `spatial`: over the axes after 1, for every (sample, channel).
    `channel` and `spatial` need a rank of at least 3. eps (a float, MXNet's
    default 1e-10f) is added inside the square root.

    Example:
    ```mlir
    %y = graph.l2_normalization %x {mode = #graph.l2norm_mode<channel>}
        : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<F32Attr, "1e-10f">:$eps,
                   DefaultValuedAttr<Graph_L2NormModeAttr, "L2NormMode::instance">:$mode);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "L2Normalization";
  let mxnetAttrs = [MXDef<"eps", "F32", "1e-10">, MXEnum<"mode", "L2NormMode", "instance">];
}

//===----------------------------------------------------------------------===//
// Resizing and adaptive pooling
//===----------------------------------------------------------------------===//

def Graph_UpSamplingOp : Graph_Op<"up_sampling"> {
  let summary = "MXNet UpSampling: nearest-neighbour or bilinear (deconvolution) upsampling";
  let description = [{
    Every tensor is NCHW (rank 4).

    `nearest`: the operands are the `num_args` images to upsample. The
    output is (N, C', H·scale, W·scale) with H, W those of the first
    operand; operand i is repeated s_i = H·scale / H_i times along both
    spatial axes (s_i must be a whole number and the same for H and W, as
    MXNet's kernel needs). With one operand s = scale. `multi_input_mode`
    `concat` (default) stacks the upsampled operands along the channels
    (C' = Σ C_i); `sum` adds them (every C_i equal).

    `bilinear`: two operands, `data` (N, C, H, W) and `weight`
    (C, 1, k, k) with k = 2·scale − scale mod 2; the result is MXNet's
    depthwise Deconvolution of data with weight (kernel k, stride scale,
    pad ⌈(scale − 1)/2⌉, num_group = num_filter = C, no bias): shape
    (N, C, H·scale, W·scale). MXNet's bilinear mode only works when
    `num_filter` equals C (its default 0 does not), and Kiln requires it.
    The weight is a learnable parameter (MXNet initializes it with a
    bilinear kernel); its gradient is the deconvolution's.

    `num_args` is MXNet's operand count for `nearest`; for `bilinear` MXNet
    ignores it (its documentation asks for 2).

    Example:
    ```mlir
    %y = graph.up_sampling %a, %b {num_args = 2 : i64, scale = 2 : i64,
                                   sample_type = #graph.sample_type<nearest>}
        : (tensor<1x2x2x2xf32>, tensor<1x1x4x4xf32>) -> tensor<1x3x4x4xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs,
                   I64Attr:$scale,
                   DefaultValuedAttr<I64Attr, "0">:$num_filter,
                   Graph_UpSamplingTypeAttr:$sample_type,
                   DefaultValuedAttr<Graph_MultiInputModeAttr,
                                     "MultiInputMode::concat">:$multi_input_mode,
                   I64Attr:$num_args);
  let results = (outs Graph_Tensor:$output);
  let opDecl = [{
    /// Bilinear mode: the kernel size, stride and padding of the equivalent
    /// Deconvolution.
    int64_t getBilinearKernel() {
      auto s = static_cast<int64_t>(getScale());
      return 2 * s - s % 2;
    }
    int64_t getBilinearPad() { return static_cast<int64_t>(getScale()) / 2; }
  }];
  let mxnetName = "UpSampling";
  let mxnetAttrs = [MXReq<"scale", "Int">, MXDef<"num_filter", "Int", "0">,
                    MXEnum<"sample_type", "UpSamplingType">,
                    MXEnum<"multi_input_mode", "MultiInputMode", "concat">,
                    MXReq<"num_args", "Int">];
  let mxnetKeys = [MXKeyWorkspace];
  let mxnetInputs = ["data", "weight"];
  let mxnetInputRule = "UpSampling";
  let customVerifier = 1;
}

def Graph_BilinearResize2DOp : Graph_Op<"bilinear_resize2d"> {
  let summary = "MXNet _contrib_BilinearResize2D: bilinear resizing of NCHW images";
  let description = [{
    `data` is (N, C, H, W); the result is (N, C, OH, OW) with, by `mode`:
    - `size` (default): OH = `height`, OW = `width`; with `scale_height`,
      OH = int(scale_height · H) and OW = int(scale_width · W) (products in
      float, truncated). As MXNet does, `scale_width` is used only when
      `scale_height` is set (and is then required);
    - `odd_scale`: an even H gives int(H · scale_height), an odd one
      int((H − 1) · scale_height) + 1; likewise W (both scales required);
    - `like`: the H and W of the second operand `like`, which only this mode
      takes (its gradient is zero);
    - `to_even_down` / `to_even_up` / `to_odd_down` / `to_odd_up`: H and W
      moved by one to the nearest even / odd size below / above, when not
      already even / odd.
    Output pixel (i, j) reads source row r = i · (H − 1)/(OH − 1) with
    `align_corners` (default), or r = max(0, (i + 0.5) · H/OH − 0.5)
    without (0 when OH = 1), and interpolates linearly between rows
    ⌊r⌋ and ⌊r⌋ + 1 (the last row reads itself twice); likewise columns.
    The scale, r and the interpolation weights are computed in float, as
    MXNet's CPU kernel does.

    Example:
    ```mlir
    %y = graph.bilinear_resize2d %x {height = 5 : i64, width = 7 : i64}
        : (tensor<1x2x3x4xf32>) -> tensor<1x2x5x7xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Optional<Graph_Tensor>:$like,
                   DefaultValuedAttr<I64Attr, "1">:$height,
                   DefaultValuedAttr<I64Attr, "1">:$width,
                   OptionalAttr<F32Attr>:$scale_height,
                   OptionalAttr<F32Attr>:$scale_width,
                   DefaultValuedAttr<Graph_ResizeModeAttr, "ResizeMode::size">:$mode,
                   DefaultValuedAttr<BoolAttr, "true">:$align_corners);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_BilinearResize2D";
  let mxnetAttrs = [MXDef<"height", "Int", "1">, MXDef<"width", "Int", "1">,
                    MXOpt<"scale_height", "F32">, MXOpt<"scale_width", "F32">,
                    MXEnum<"mode", "ResizeMode", "size">,
                    MXDef<"align_corners", "Bool", "True">];
  let mxnetInputs = ["data", "like"];
  let mxnetInputRule = "ResizeLike";
  let customVerifier = 1;
}

def Graph_AdaptiveAvgPooling2DOp : Graph_Op<"adaptive_avg_pooling2d"> {
  let summary = "MXNet _contrib_AdaptiveAvgPooling2D: average pooling to a fixed output size";
  let description = [{
    `data` is (N, C, H, W); the result is (N, C, OH, OW) with
    (OH, OW) = `output_size`: empty (MXNet's default) gives (1, 1), one
    entry a square. Output row i averages input rows
    [⌊i·H/OH⌋, ⌈(i + 1)·H/OH⌉) (quotients in float, as MXNet's
    START_IND/END_IND), likewise columns; windows may overlap, and repeat
    rows when OH > H.

    Example:
    ```mlir
    %y = graph.adaptive_avg_pooling2d %x {output_size = array<i64: 2, 3>}
        : (tensor<1x2x5x7xf32>) -> tensor<1x2x2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$output_size);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_AdaptiveAvgPooling2D";
  let mxnetAttrs = [MXDef<"output_size", "Tuple", "()">];
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Spatial transformers and optical flow
//===----------------------------------------------------------------------===//

def Graph_GridGeneratorOp : Graph_Op<"grid_generator"> {
  let summary = "MXNet GridGenerator: sampling grids from affine transforms or optical flow";
  let description = [{
    The result is a grid (N, 2, H, W) of source coordinates normalized to
    [−1, 1] (channel 0 x, channel 1 y), as BilinearSampler reads them.

    `affine`: `data` is (N, 6), the rows of a 2 × 3 matrix θ per sample, and
    (H, W) = `target_shape` (both positive). With the target's normalized
    coordinates x_j = −1 + j · (2 / (W − 1)) and y_i = −1 + i · (2 / (H − 1))
    (MXNet's kernel; a target axis of size 1 divides by zero and gives NaN),
    out[n, r, i, j] = θ[n, 3r] · x_j + θ[n, 3r + 1] · y_i + θ[n, 3r + 2].

    `warp`: `data` is an optical flow (N, 2, H, W) in pixels; `target_shape`
    is ignored. out[n, 0, i, j] = (data[n, 0, i, j] + j) / ((W − 1) / 2) − 1,
    out[n, 1, i, j] = (data[n, 1, i, j] + i) / ((H − 1) / 2) − 1.

    Example:
    ```mlir
    %g = graph.grid_generator %theta {transform_type = #graph.grid_transform<affine>,
                                      target_shape = array<i64: 4, 5>}
        : (tensor<2x6xf32>) -> tensor<2x2x4x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   Graph_GridTransformTypeAttr:$transform_type,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$target_shape);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "GridGenerator";
  let mxnetAttrs = [MXEnum<"transform_type", "GridTransformType">,
                    MXDef<"target_shape", "Tuple", "(0, 0)">];
  let customVerifier = 1;
}

def Graph_BilinearSamplerOp : Graph_Op<"bilinear_sampler"> {
  let summary = "MXNet BilinearSampler: bilinear sampling of NCHW data at grid positions";
  let description = [{
    `data` is (N, C, H, W) and `grid` (N, 2, Ho, Wo), normalized source
    coordinates (channel 0 x, channel 1 y). The result is (N, C, Ho, Wo):
    with x = (grid[n, 0, i, j] + 1) · (W − 1) / 2 and
    y = (grid[n, 1, i, j] + 1) · (H − 1) / 2, out[n, c, i, j] interpolates
    the four pixels around (y, x) bilinearly, a pixel outside the image
    reading as 0 (MXNet's CPU kernel: zero padding, not clamping). The
    gradient reaches both `data` and `grid` (MXNet's backward; the grid's
    is the derivative of the interpolation weights). MXNet's `cudnn_off` is
    accepted and ignored.

    Example:
    ```mlir
    %y = graph.bilinear_sampler %x, %grid
        : (tensor<1x3x4x5xf32>, tensor<1x2x6x7xf32>) -> tensor<1x3x6x7xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$grid);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "BilinearSampler";
  let mxnetKeys = [MXKeyCudnnOff];
  let mxnetInputs = ["data", "grid"];
}

def Graph_SpatialTransformerOp : Graph_Op<"spatial_transformer"> {
  let summary = "MXNet SpatialTransformer: an affine GridGenerator followed by BilinearSampler";
  let description = [{
    `data` is (N, C, H, W) and `localization` (MXNet's input `loc`)
    (N, 6), an affine transform per sample. The result is (N, C, th, tw) with (th, tw) = `target_shape`
    (both positive): BilinearSampler of `data` at the grid GridGenerator
    makes from `localization` (`affine`). MXNet 1.9.1 knows only `transform_type`
    affine and `sampler_type` bilinear, and requires both. The gradients
    are those of the composition. MXNet's `cudnn_off` is accepted and
    ignored.

    Example:
    ```mlir
    %y = graph.spatial_transformer %x, %loc {target_shape = array<i64: 3, 4>,
          transform_type = #graph.grid_transform<affine>,
          sampler_type = #graph.sampler_type<bilinear>}
        : (tensor<2x3x5x5xf32>, tensor<2x6xf32>) -> tensor<2x3x3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$localization,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$target_shape,
                   Graph_GridTransformTypeAttr:$transform_type,
                   Graph_SamplerTypeAttr:$sampler_type);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "SpatialTransformer";
  let mxnetAttrs = [MXDef<"target_shape", "Tuple", "(0, 0)">,
                    MXEnum<"transform_type", "GridTransformType">,
                    MXEnum<"sampler_type", "SamplerType">];
  let mxnetKeys = [MXKeyCudnnOff];
  let mxnetInputs = ["data", "loc"];
  let customVerifier = 1;
}

def Graph_CorrelationOp : Graph_Op<"correlation"> {
  let summary = "MXNet Correlation: FlowNet's patch comparison of two feature maps";
  let description = [{
    `data1` and `data2` are (N, C, H, W), both zero-padded by `pad_size` to
    (pH, pW). With r = max_displacement / stride2 (integer division),
    g = 2r + 1 and k = kernel_size (odd: MXNet's CPU kernel reads outside
    its buffers for an even one), the result is (N, g², oh, ow) with
    oh = ⌈(pH − 2·(max_displacement + (k − 1)/2)) / stride1⌉ (likewise ow;
    both must be at least 1). Output channel t compares the patch at
    (y1, x1) = (i·stride1 + max_displacement, j·stride1 + max_displacement)
    of data1 with the patch of data2 displaced by
    ((t / g − r)·stride2, (t mod g − r)·stride2):
    out[n, t, i, j] = Σ_{h, w < k} Σ_c f(p1[n, c, y1 + h, x1 + w],
    p2[n, c, y2 + h, x2 + w]) / (k² · C), f the product (`is_multiply`,
    default) or the absolute difference. As MXNet's CPU kernel, the patch
    starts at (y1, x1) rather than being centred on it. The gradient of the
    absolute difference takes +1 for data1 (−1 for data2) where
    p1 ≥ p2.

    Example:
    ```mlir
    %y = graph.correlation %a, %b {max_displacement = 2 : i64, pad_size = 2 : i64}
        : (tensor<1x3x5x5xf32>, tensor<1x3x5x5xf32>) -> tensor<1x25x5x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data1, Graph_Tensor:$data2,
                   DefaultValuedAttr<I64Attr, "1">:$kernel_size,
                   DefaultValuedAttr<I64Attr, "1">:$max_displacement,
                   DefaultValuedAttr<I64Attr, "1">:$stride1,
                   DefaultValuedAttr<I64Attr, "1">:$stride2,
                   DefaultValuedAttr<I64Attr, "0">:$pad_size,
                   DefaultValuedAttr<BoolAttr, "true">:$is_multiply);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Correlation";
  let mxnetAttrs = [MXDef<"kernel_size", "Int", "1">, MXDef<"max_displacement", "Int", "1">,
                    MXDef<"stride1", "Int", "1">, MXDef<"stride2", "Int", "1">,
                    MXDef<"pad_size", "Int", "0">, MXDef<"is_multiply", "Bool", "True">];
  let mxnetInputs = ["data1", "data2"];
  let customVerifier = 1;
  let opDecl = [{
    /// The neighbourhood radius r and width g = 2r + 1.
    int64_t getGridRadius() {
      return static_cast<int64_t>(getMaxDisplacement()) / static_cast<int64_t>(getStride2());
    }
    int64_t getGridWidth() { return 2 * getGridRadius() + 1; }
  }];
}

//===----------------------------------------------------------------------===//
// Products and loss heads
//===----------------------------------------------------------------------===//

def Graph_BatchDotOp : Graph_Op<"batch_dot"> {
  let summary = "MXNet batch_dot: matrix products over leading batch axes";
  let description = [{
    Both operands have the same rank r ≥ 3 and the same leading r − 2 axes;
    for every batch index b, out[b] = op(lhs[b]) · op(rhs[b]) with op the
    transpose when `transpose_a` / `transpose_b` is set, so op(lhs[b]) is
    [M, K], op(rhs[b]) is [K, N] and the result is [..., M, N].

    Example:
    ```mlir
    %y = graph.batch_dot %a, %b {transpose_b = true}
        : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x3x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "batch_dot";
  let mxnetAliases = ["_npx_batch_dot"];
  let mxnetAttrs = [MXDef<"transpose_a", "Bool", "False">, MXDef<"transpose_b", "Bool", "False">];
  let mxnetKeys = [MXKey<"forward_stype", "MustBeNone">];
  let mxnetInputs = ["lhs", "rhs"];
}

// The interleaved attention products of GluonNLP's BERT and Transformer
// (MXNet's src/operator/contrib/transformer.cc). Projections are
// (seq, batch, heads · P · head_dim) with the P parts of each head adjacent
// (reshaped (seq, batch, heads, P, head_dim)): queries, keys, values for
// self-attention (P = 3), keys, values for encoder-decoder attention
// (P = 2). Attention batch b·heads + h pairs batch element b with head h.
class Graph_InterleavedMatMulOp<string mnemonic> : Graph_Op<mnemonic> {
  let results = (outs Graph_Tensor:$output);
  let customVerifier = 1;
  let opDecl = [{
    /// MXNet's scale of the products of queries and keys, 1/sqrt(head_dim)
    /// computed in float.
    static double qkScale(int64_t headDim) {
      return static_cast<float>(1.0 / std::sqrt(static_cast<float>(headDim)));
    }
  }];
}

def Graph_InterleavedMatMulSelfAttQKOp
    : Graph_InterleavedMatMulOp<"interleaved_matmul_selfatt_qk"> {
  let summary = "MXNet _contrib_interleaved_matmul_selfatt_qk: scaled Q·Kᵀ of interleaved projections";
  let description = [{
    `queries_keys_values` is (S, B, heads · 3 · D), each head's queries,
    keys and values adjacent (reshaped (S, B, heads, 3, D)). The result is
    (B · heads, S, S): out[b·heads + h, s, t] = Σ_d q[s, b, h, d] ·
    k[t, b, h, d] / sqrt(D), the scale computed in float as MXNet does.
    The last axis must split into 3 · heads equal parts (MXNet truncates
    the divisions without checking). The values get a zero gradient.

    Example:
    ```mlir
    %y = graph.interleaved_matmul_selfatt_qk %qkv {heads = 2 : i64}
        : (tensor<5x3x24xf32>) -> tensor<6x5x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$queries_keys_values, I64Attr:$heads);
  let mxnetName = "_contrib_interleaved_matmul_selfatt_qk";
  let mxnetAttrs = [MXReq<"heads", "Int">];
  let mxnetInputs = ["queries_keys_values"];
}

def Graph_InterleavedMatMulSelfAttValAttOp
    : Graph_InterleavedMatMulOp<"interleaved_matmul_selfatt_valatt"> {
  let summary = "MXNet _contrib_interleaved_matmul_selfatt_valatt: attention · values of interleaved projections";
  let description = [{
    `queries_keys_values` is (S, B, heads · 3 · D) as for
    interleaved_matmul_selfatt_qk, `attention` (B · heads, S, S). The
    result is (S, B, heads · D): out[s, b, h·D + d] =
    Σ_t attention[b·heads + h, s, t] · v[t, b, h, d]. The queries and keys
    get a zero gradient.

    Example:
    ```mlir
    %y = graph.interleaved_matmul_selfatt_valatt %qkv, %att {heads = 2 : i64}
        : (tensor<5x3x24xf32>, tensor<6x5x5xf32>) -> tensor<5x3x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$queries_keys_values, Graph_Tensor:$attention,
                   I64Attr:$heads);
  let mxnetName = "_contrib_interleaved_matmul_selfatt_valatt";
  let mxnetAttrs = [MXReq<"heads", "Int">];
  let mxnetInputs = ["queries_keys_values", "attention"];
}

def Graph_InterleavedMatMulEncDecQKOp
    : Graph_InterleavedMatMulOp<"interleaved_matmul_encdec_qk"> {
  let summary = "MXNet _contrib_interleaved_matmul_encdec_qk: scaled Q·Kᵀ, keys interleaved with values";
  let description = [{
    `queries` is (Sq, B, heads · D) (reshaped (Sq, B, heads, D)),
    `keys_values` (Sk, B, heads · 2 · D), each head's keys then values
    (reshaped (Sk, B, heads, 2, D)). The result is (B · heads, Sq, Sk):
    out[b·heads + h, s, t] = Σ_d q[s, b, h, d] · k[t, b, h, d] / sqrt(D),
    the scale computed in float. The values get a zero gradient.

    Example:
    ```mlir
    %y = graph.interleaved_matmul_encdec_qk %q, %kv {heads = 2 : i64}
        : (tensor<4x3x8xf32>, tensor<5x3x16xf32>) -> tensor<6x4x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$queries, Graph_Tensor:$keys_values, I64Attr:$heads);
  let mxnetName = "_contrib_interleaved_matmul_encdec_qk";
  let mxnetAttrs = [MXReq<"heads", "Int">];
  let mxnetInputs = ["queries", "keys_values"];
}

def Graph_InterleavedMatMulEncDecValAttOp
    : Graph_InterleavedMatMulOp<"interleaved_matmul_encdec_valatt"> {
  let summary = "MXNet _contrib_interleaved_matmul_encdec_valatt: attention · values interleaved with keys";
  let description = [{
    `keys_values` is (Sk, B, heads · 2 · D) as for
    interleaved_matmul_encdec_qk, `attention` (B · heads, Sq, Sk). The
    result is (Sq, B, heads · D): out[s, b, h·D + d] =
    Σ_t attention[b·heads + h, s, t] · v[t, b, h, d]. The keys get a zero
    gradient.

    Example:
    ```mlir
    %y = graph.interleaved_matmul_encdec_valatt %kv, %att {heads = 2 : i64}
        : (tensor<5x3x16xf32>, tensor<6x4x5xf32>) -> tensor<4x3x8xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$keys_values, Graph_Tensor:$attention, I64Attr:$heads);
  let mxnetName = "_contrib_interleaved_matmul_encdec_valatt";
  let mxnetAttrs = [MXReq<"heads", "Int">];
  let mxnetInputs = ["keys_values", "attention"];
}

def Graph_KhatriRaoOp : Graph_Op<"khatri_rao"> {
  let summary = "MXNet khatri_rao: the column-wise Kronecker product of matrices";
  let description = [{
    The operands (MXNet's `num_args` of them) are matrices [M_i, N] with the
    same N; the result is [M_1 · … · M_n, N], column k the Kronecker product
    of the operands' columns k, the first operand's row index the most
    significant. MXNet defines no gradient; neither does Kiln.

    Example:
    ```mlir
    %y = graph.khatri_rao %a, %b : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "khatri_rao";
  let mxnetInputRule = "Variadic";
  let mxnetHasGradient = 0;
  let customVerifier = 1;
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_SoftmaxCrossEntropyOp : Graph_Op<"softmax_cross_entropy"> {
  let summary = "MXNet softmax_cross_entropy: the summed cross entropy of row softmaxes";
  let description = [{
    `data` is (N, C), `label` (N) class indices (truncated); the result (1)
    is Σ_n −log(max(softmax(data[n])[label[n]], 1e-8)) with MXNet's floor
    1e-8f. A label outside [0, C) is an error in the reference interpreter
    (MXNet reads out of bounds) and is clamped in compiled code. Gradient
    (MXNet's): out_grad · (softmax(data) − one_hot(label)) for data
    (graph.softmax_cross_entropy_grad); the label gets none.

    Example:
    ```mlir
    %l = graph.softmax_cross_entropy %x, %y : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<1xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$label);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "softmax_cross_entropy";
  let mxnetInputs = ["data", "label"];
}

def Graph_SoftmaxCrossEntropyGradOp : Graph_Op<"softmax_cross_entropy_grad"> {
  let summary = "Gradient of softmax_cross_entropy with respect to its data";
  let description = [{
    out_grad[0] · (softmax(data[n])[c] − [c = trunc(label[n])]), of the
    data's shape (N, C).

    Example:
    ```mlir
    %dx = graph.softmax_cross_entropy_grad %x, %y, %dl
        : (tensor<3x4xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$label, Graph_Tensor:$out_grad);
  let results = (outs Graph_Tensor:$output);
  let gradientRule = "notDifferentiable(*this)";
}

def Graph_SVMOutputOp : Graph_Op<"svm_output", [Graph_LossHeadTrait]> {
  let summary = "MXNet SVMOutput: identity forward, hinge-loss gradient (a loss head)";
  let description = [{
    The result is `data` (rank ≥ 2); `label` has data's shape without the
    last axis (class indices, truncated). The backward is MXNet's, which
    ignores the head gradient: data seen as rows (size / C, C), for row y
    with k = trunc(label[y]) and column x, `use_linear` (L1-SVM):
    −[margin > data[y][k]]·reg at x = k, [margin > −data[y][x]]·reg
    elsewhere; otherwise (L2-SVM): −2(margin − data[y][k])·reg at x = k when
    positive, 2(margin + data[y][x])·reg elsewhere when positive, 0 when
    not (reg = regularization_coefficient). A label outside [0, C) matches
    no column. The label gets no gradient.

    Example:
    ```mlir
    %y = graph.svm_output %x, %l {margin = 5.000000e-01 : f32}
        : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$label,
                   DefaultValuedAttr<F32Attr, "1.0f">:$margin,
                   DefaultValuedAttr<F32Attr, "1.0f">:$regularization_coefficient,
                   DefaultValuedAttr<BoolAttr, "false">:$use_linear);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "SVMOutput";
  let mxnetAttrs = [MXDef<"margin", "F32", "1">, MXDef<"regularization_coefficient", "F32", "1">,
                    MXDef<"use_linear", "Bool", "False">];
  let mxnetInputs = ["data", "label"];
}

def Graph_SVMOutputGradOp : Graph_Op<"svm_output_grad"> {
  let summary = "SVMOutput's backward (MXNet's L1_SVM / L2_SVM)";
  let description = [{
    The gradient SVMOutput's description gives, of data's shape, from
    SVMOutput's result `data` and its `label`.

    Example:
    ```mlir
    %dx = graph.svm_output_grad %y, %l : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$label,
                   DefaultValuedAttr<F32Attr, "1.0f">:$margin,
                   DefaultValuedAttr<F32Attr, "1.0f">:$regularization_coefficient,
                   DefaultValuedAttr<BoolAttr, "false">:$use_linear);
  let results = (outs Graph_Tensor:$output);
  let gradientRule = "notDifferentiable(*this)";
}

def Graph_MakeLossOp : Graph_Op<"make_loss",
    [SameOperandsAndResultShape, Graph_LossHeadTrait,
     DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let summary = "MXNet MakeLoss: identity forward, constant gradient (a loss head)";
  let description = [{
    The result is `data`. The backward ignores the head gradient and gives
    every element grad_scale / cnt, MXNet's rule:
    - `null` (default): cnt = 1;
    - `batch`: cnt = the product of every axis but the last (MXNet views the
      data as 2-D, (size / last, last), and divides by its rows: the batch
      size only for rank-2 data; 1 for rank 1);
    - `valid`: cnt = max(1, the number of elements greater than
      `valid_thresh`).

    Example:
    ```mlir
    %y = graph.make_loss %x {grad_scale = 5.000000e-01 : f32}
        : (tensor<4x2xf32>) -> tensor<4x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<F32Attr, "1.0f">:$grad_scale,
                   DefaultValuedAttr<F32Attr, "0.0f">:$valid_thresh,
                   DefaultValuedAttr<Graph_NormalizationAttr, "Normalization::null">:$normalization);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "MakeLoss";
  let mxnetAttrs = [MXDef<"grad_scale", "F32", "1">, MXDef<"valid_thresh", "F32", "0">,
                    MXEnum<"normalization", "Normalization", "null">];
  let inPlaceOperand = 0;
  let shapeRule = "inferSameShape(*this, state, {\"data\"})";
}

//===----------------------------------------------------------------------===//
// Backward kernels (internal)
//===----------------------------------------------------------------------===//

def Graph_AdaptiveAvgPooling2DGradOp : Graph_Op<"adaptive_avg_pooling2d_grad"> {
  let summary = "Gradient of AdaptiveAvgPooling2D with respect to its input";
  let description = [{
    From the forward's `data` (N, C, H, W), read for its shape only, and
    `out_grad` (N, C, OH, OW): every input element of the window of output
    (i, j) (the forward's windows) receives out_grad[i, j] / (window size);
    contributions of overlapping windows add up. The result has data's
    shape.

    Example:
    ```mlir
    %dx = graph.adaptive_avg_pooling2d_grad %x, %dy
        : (tensor<1x2x5x7xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x5x7xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad);
  let results = (outs Graph_Tensor:$output);
}

def Graph_BilinearResize2DGradOp : Graph_Op<"bilinear_resize2d_grad"> {
  let summary = "Gradient of BilinearResize2D with respect to its input";
  let description = [{
    From the forward's `data` (N, C, H, W), read for its shape only, and
    `out_grad` (N, C, OH, OW): each output pixel's gradient is added to the
    (up to four) input pixels it interpolated, times their weights (the
    forward's, for this `align_corners`). The result has data's shape.

    Example:
    ```mlir
    %dx = graph.bilinear_resize2d_grad %x, %dy
        : (tensor<1x2x3x4xf32>, tensor<1x2x5x7xf32>) -> tensor<1x2x3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad,
                   DefaultValuedAttr<BoolAttr, "true">:$align_corners);
  let results = (outs Graph_Tensor:$output);
}

def Graph_BilinearSamplerGradOp : Graph_Op<"bilinear_sampler_grad"> {
  let summary = "Gradients of BilinearSampler with respect to its data and grid";
  let description = [{
    From the forward's `data` (N, C, H, W), `grid` (N, 2, Ho, Wo) and
    `out_grad` (N, C, Ho, Wo): `data_grad` adds each output pixel's gradient
    to the (up to four) in-image pixels it interpolated, times their
    weights; `grid_grad` is MXNet's derivative of the interpolation with
    respect to the grid, Σ over channels, scaled by (W − 1) / 2 (x) and
    (H − 1) / 2 (y).

    Example:
    ```mlir
    %dx, %dg = graph.bilinear_sampler_grad %x, %grid, %dy
        : (tensor<1x3x4x5xf32>, tensor<1x2x6x7xf32>, tensor<1x3x6x7xf32>)
          -> (tensor<1x3x4x5xf32>, tensor<1x2x6x7xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$grid, Graph_Tensor:$out_grad);
  let results = (outs Graph_Tensor:$data_grad, Graph_Tensor:$grid_grad);
}

def Graph_CorrelationGradOp : Graph_Op<"correlation_grad"> {
  let summary = "Gradients of Correlation with respect to both inputs";
  let description = [{
    From the forward's `data1`, `data2` (N, C, H, W) and `out_grad` (the
    forward's result shape), with the forward's attributes: every term of
    every output sends out_grad / (k² · C) times the other patch's value
    (`is_multiply`) or ±1 (the absolute difference) to the two pixels it
    read, when they lie inside the unpadded images (MXNet's
    CorrelationBackward).

    Example:
    ```mlir
    %d1, %d2 = graph.correlation_grad %a, %b, %dy {max_displacement = 1 : i64}
        : (tensor<1x3x5x5xf32>, tensor<1x3x5x5xf32>, tensor<1x9x3x3xf32>)
          -> (tensor<1x3x5x5xf32>, tensor<1x3x5x5xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data1, Graph_Tensor:$data2, Graph_Tensor:$out_grad,
                   DefaultValuedAttr<I64Attr, "1">:$kernel_size,
                   DefaultValuedAttr<I64Attr, "1">:$max_displacement,
                   DefaultValuedAttr<I64Attr, "1">:$stride1,
                   DefaultValuedAttr<I64Attr, "1">:$stride2,
                   DefaultValuedAttr<I64Attr, "0">:$pad_size,
                   DefaultValuedAttr<BoolAttr, "true">:$is_multiply);
  let results = (outs Graph_Tensor:$data1_grad, Graph_Tensor:$data2_grad);
  let customVerifier = 1;
}

#endif // KILN_GRAPH_NN_OPS
