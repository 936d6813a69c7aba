//===- GraphShapeOps.td - Graph dialect: shape and indexing -*- tablegen -*-===//
//
// Views, data movement and indexing: expand_dims, squeeze, swapaxes, flip, tile, repeat,
// broadcast_like, reshape_like, slice, slice_like, take, pick, gather_nd, one_hot, stack,
// _arange/_ones/_full, Pad, Crop, space_to_depth, depth_to_space, shape_array, size_array, where.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphShapeOps.h, defined in dialects/Graph/ShapeOps.cpp, run by
// lib/Interpreter/ShapeOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/ShapeOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
// Every op follows MXNet 1.9.1's kernel (src/operator/tensor/matrix_op-inl.h,
// indexing_op.h, init_op.h, broadcast_reduce_op.h, control_flow_op.h,
// src/operator/pad*, crop-inl.h, swapaxis-inl.h); where MXNet's behaviour is
// surprising the description says so. Indices (take, pick, gather_nd,
// one_hot) are floats, as everywhere in Kiln, truncated toward zero like
// MXNet's static_cast; a NaN index reads as 0.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_SHAPE_OPS
#define KILN_GRAPH_SHAPE_OPS

include "Graph/GraphBase.td"

//===----------------------------------------------------------------------===//
// Views: the data in row-major order, another shape
//===----------------------------------------------------------------------===//

// A result that is the operand's data under another shape: it may share the
// operand's buffer, and its gradient is the head gradient reshaped back.
class Graph_ViewOp<string mnemonic>
    : Graph_Op<mnemonic, [DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  let results = (outs Graph_Tensor:$output);
  let inPlaceOperand = 0;
  let gradientRule = "viewGradient(*this, builder, resultGrads, operandGrads)";
}

def Graph_ExpandDimsOp : Graph_ViewOp<"expand_dims"> {
  let summary = "MXNet expand_dims: a size-1 axis inserted at `axis`";
  let description = [{
    The result has rank r + 1 with a 1 at `axis`, which is in [−r − 1, r];
    a negative `axis` counts from the back of the result (−1 appends).

    Example:
    ```mlir
    %y = graph.expand_dims %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$axis);
  let mxnetName = "expand_dims";
  let mxnetAttrs = [MXReq<"axis", "Int">];
}

def Graph_SqueezeOp : Graph_ViewOp<"squeeze"> {
  let summary = "MXNet squeeze: size-1 axes removed";
  let description = [{
    Removes the listed axes, each of size 1 (negative axes count from the
    back, no axis twice), or every size-1 axis when `axis` is absent
    (MXNet's None). As in MXNet, squeezing every axis of an all-ones shape
    leaves shape (1), not a scalar.

    Example:
    ```mlir
    %y = graph.squeeze %x {axis = array<i64: 0>} : (tensor<1x3x1xf32>) -> tensor<3x1xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, OptionalAttr<DenseI64ArrayAttr>:$axis);
  let mxnetName = "squeeze";
  let mxnetAttrs = [MXOpt<"axis", "Tuple">];
}

def Graph_ReshapeLikeOp : Graph_ViewOp<"reshape_like"> {
  let summary = "MXNet reshape_like: lhs's data in (part of) rhs's shape";
  let description = [{
    The dimensions [lhs_begin, lhs_end) of `lhs` are replaced by the
    dimensions [rhs_begin, rhs_end) of `rhs`; absent bounds (MXNet's None)
    are the start and end of the shape, negative ones count from the back.
    With no bounds the result has rhs's shape. The element count must not
    change. `rhs` is read for its shape only and gets no gradient.

    Example:
    ```mlir
    %y = graph.reshape_like %a, %b {lhs_begin = 1 : i64, rhs_begin = 1 : i64}
        : (tensor<2x6xf32>, tensor<5x3x2xf32>) -> tensor<2x3x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                   OptionalAttr<I64Attr>:$lhs_begin, OptionalAttr<I64Attr>:$lhs_end,
                   OptionalAttr<I64Attr>:$rhs_begin, OptionalAttr<I64Attr>:$rhs_end);
  let mxnetName = "reshape_like";
  let mxnetAttrs = [MXOpt<"lhs_begin", "Int">, MXOpt<"lhs_end", "Int">,
                    MXOpt<"rhs_begin", "Int">, MXOpt<"rhs_end", "Int">];
  let mxnetInputs = ["lhs", "rhs"];
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Graph_SwapAxisOp : Graph_Op<"swap_axis"> {
  let summary = "MXNet SwapAxis (swapaxes): two axes exchanged";
  let description = [{
    `dim1` and `dim2` (default 0, negative counting from the back) are
    exchanged; equal axes give the input unchanged.

    Example:
    ```mlir
    %y = graph.swap_axis %x {dim1 = 0 : i64, dim2 = 2 : i64}
        : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<I64Attr, "0">:$dim1,
                   DefaultValuedAttr<I64Attr, "0">:$dim2);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "SwapAxis";
  let mxnetAliases = ["swapaxes"];
  let mxnetAttrs = [MXDef<"dim1", "Int", "0">, MXDef<"dim2", "Int", "0">];
}

def Graph_ReverseOp : Graph_Op<"reverse"> {
  let summary = "MXNet reverse (flip): the order of elements along `axis` reversed";
  let description = [{
    Each listed axis is reversed in turn, as MXNet's kernel does, so an axis
    listed twice is restored. Entries must be in [0, rank): MXNet 1.9.1's
    reverse does not take negative axes.

    Example:
    ```mlir
    %y = graph.reverse %x {axis = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DenseI64ArrayAttr:$axis);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "reverse";
  let mxnetAliases = ["flip"];
  let mxnetAttrs = [MXReq<"axis", "Tuple">];
  let customVerifier = 1;
  let opDecl = [{
    /// Per axis of a rank-`rank` input: reversed an odd number of times.
    ::llvm::SmallVector<bool> getReversedAxes(int64_t rank);
  }];
}

def Graph_TileOp : Graph_Op<"tile"> {
  let summary = "MXNet tile: the input repeated `reps` times along each axis";
  let description = [{
    With d = len(reps) and r the input's rank, the result has rank max(d, r):
    the shorter of the shape and `reps` is padded with leading 1s, and each
    dimension is multiplied by its repetition count. Empty `reps` gives the
    input. Counts must be positive (MXNet's 0 would make an empty array).

    Example:
    ```mlir
    %y = graph.tile %x {reps = array<i64: 2, 1, 2>} : (tensor<2x3xf32>) -> tensor<2x2x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DenseI64ArrayAttr:$reps);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "tile";
  let mxnetAttrs = [MXReq<"reps", "Tuple">];
  let customVerifier = 1;
}

def Graph_RepeatOp : Graph_Op<"repeat"> {
  let summary = "MXNet repeat: each element repeated `repeats` times";
  let description = [{
    Along `axis` (negative counts from the back) each element is repeated
    `repeats` times in place (1 2 → 1 1 2 2); without `axis` (MXNet's None)
    the input is flattened first and the result is 1-D. `repeats` must be
    positive (MXNet's 0 gives an empty array).

    Example:
    ```mlir
    %y = graph.repeat %x {repeats = 2 : i64, axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$repeats, OptionalAttr<I64Attr>:$axis);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "repeat";
  let mxnetAttrs = [MXReq<"repeats", "Int">, MXOpt<"axis", "Int">];
  let customVerifier = 1;
}

def Graph_BroadcastLikeOp : Graph_Op<"broadcast_like"> {
  let summary = "MXNet broadcast_like: lhs broadcast to rhs's shape";
  let description = [{
    Without axes, `lhs` has rhs's rank and each of its dimensions equals
    rhs's or is 1 (broadcast); the result has rhs's shape. With `lhs_axes`
    and `rhs_axes` (the same number of entries, negative counting from the
    back), only those dimensions of lhs are replaced by the corresponding
    dimensions of rhs, each listed lhs dimension being 1 or already equal;
    the result has lhs's rank. `rhs` gets no gradient; lhs's gradient is
    the head gradient summed over the broadcast dimensions.

    Example:
    ```mlir
    %y = graph.broadcast_like %a, %b {lhs_axes = array<i64: 0>, rhs_axes = array<i64: 2>}
        : (tensor<1x3xf32>, tensor<3x2x4xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs,
                   OptionalAttr<DenseI64ArrayAttr>:$lhs_axes,
                   OptionalAttr<DenseI64ArrayAttr>:$rhs_axes);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "broadcast_like";
  let mxnetAttrs = [MXOpt<"lhs_axes", "Tuple">, MXOpt<"rhs_axes", "Tuple">];
  let mxnetInputs = ["lhs", "rhs"];
}

def Graph_BroadcastAxisOp : Graph_Op<"broadcast_axis"> {
  let summary = "MXNet broadcast_axis: size-1 dimensions of data repeated to `size`";
  let description = [{
    Dimension `axis[i]` of `data`, which must be 1, becomes `size[i]`; the
    other dimensions are kept. `axis` and `size` have the same number of
    entries; as in MXNet 1.9.1 the axes are non-negative (MXNet's shape
    function indexes the shape with them directly) and an empty `axis`
    leaves the data unchanged. The gradient sums the head gradient over the
    broadcast dimensions.

    Example:
    ```mlir
    %y = graph.broadcast_axis %x {axis = array<i64: 0, 2>, size = array<i64: 4, 5>}
        : (tensor<1x3x1xf32>) -> tensor<4x3x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axis,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$size);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "broadcast_axis";
  let mxnetAliases = ["broadcast_axes"];
  let mxnetAttrs = [MXDef<"axis", "Tuple", "()">, MXDef<"size", "Tuple", "()">];
}

def Graph_StackOp : Graph_Op<"stack"> {
  let summary = "MXNet stack: equally shaped inputs joined along a new axis";
  let description = [{
    The result has a new axis at `axis` (in [−r − 1, r] for rank-r inputs;
    negative counts from the back of the result) whose size is the number of
    inputs, MXNet's `num_args`.

    Example:
    ```mlir
    %y = graph.stack %a, %b {axis = 1 : i64}
        : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2x3xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$data, DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "stack";
  let mxnetAttrs = [MXDef<"axis", "Int", "0">];
  let mxnetInputRule = "Variadic";
  let customVerifier = 1;
}

def Graph_SplitV2Op : Graph_Op<"split_v2"> {
  let summary = "MXNet _split_v2 (split_v2): parts between split points along `axis`";
  let description = [{
    With `sections` = 0 (the default) the parts begin at the `indices`
    (the first 0, then strictly increasing, all inside the axis) and each
    ends where the next begins, the last at the end of the axis: one part
    per entry. With `sections` = n > 0, `indices` is ignored and the axis is
    cut into n parts whose sizes differ by at most 1, the larger ones first
    (MXNet's GetSplitIndices). `squeeze_axis` removes the axis from parts of
    size 1 (every part must have size 1 then). MXNet's `split_v2` (Python)
    writes the leading 0 itself; MXNet does not check that `indices` starts
    at 0, and its kernel reads out of bounds when it does not, so Kiln
    rejects such indices. The gradient is the head gradients concatenated
    back (zeros for unused outputs), SliceChannel's.

    Example:
    ```mlir
    %a, %b = graph.split_v2 %x {indices = array<i64: 0, 1>}
        : (tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<2x2xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DenseI64ArrayAttr:$indices,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$squeeze_axis,
                   DefaultValuedAttr<I64Attr, "0">:$sections);
  let results = (outs Variadic<Graph_Tensor>:$outputs);
  let mxnetName = "_split_v2";
  let mxnetAttrs = [MXReq<"indices", "Tuple">, MXDef<"axis", "Int", "1">,
                    MXDef<"squeeze_axis", "Bool", "False">, MXDef<"sections", "Int", "0">];
  let customVerifier = 1;
  let opDecl = [{
    /// The number of parts the attributes ask for (MXNet's SplitNumOutputs).
    int64_t getNumParts();
    /// The parts' bounds along an axis of `size`: part i is
    /// [bounds[i], bounds[i + 1]), so there is one more entry than parts.
    ::llvm::SmallVector<int64_t> getPartBounds(int64_t size);
  }];
}

def Graph_DiagOp : Graph_Op<"diag"> {
  let summary = "MXNet diag: a diagonal of the data, or a matrix with a 1-D data on a diagonal";
  let description = [{
    For data of rank ≥ 2, the `k`-th diagonal (above the main one for
    k > 0, below for k < 0) of the matrices spanned by `axis1` and `axis2`
    (distinct, negative counting from the back): the result drops both axes
    and appends the diagonal, element t being data at t + max(−k, 0) along
    axis1 and t + max(k, 0) along axis2. A diagonal outside the matrix is
    an error (MXNet's "Diagonal does not exist"). For 1-D data of size n
    the result is the (n + |k|)² matrix with the data on diagonal k and 0
    elsewhere (the axes are ignored). Gradient: MXNet's backward, the head
    gradient written back on the diagonal (graph.diag_grad), or for 1-D data
    the k-th diagonal of the head gradient.

    Example:
    ```mlir
    %d = graph.diag %x {k = 1 : i64} : (tensor<3x4xf32>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<I64Attr, "0">:$k,
                   DefaultValuedAttr<I64Attr, "0">:$axis1,
                   DefaultValuedAttr<I64Attr, "1">:$axis2);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "diag";
  let mxnetAttrs = [MXDef<"k", "Int", "0">, MXDef<"axis1", "Int", "0">,
                    MXDef<"axis2", "Int", "1">];
}

def Graph_SpaceToDepthOp : Graph_Op<"space_to_depth"> {
  let summary = "MXNet space_to_depth: block_size² spatial blocks moved into channels";
  let description = [{
    On NCHW data with H and W multiples of b = `block_size`:
    out[n, (i·b + j)·C + c, h, w] = in[n, c, h·b + i, w·b + j], the result
    being [N, C·b², H/b, W/b] (MXNet's order: the block offset is the outer
    part of the channel index).

    Example:
    ```mlir
    %y = graph.space_to_depth %x {block_size = 2 : i64}
        : (tensor<1x2x4x4xf32>) -> tensor<1x8x2x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$block_size);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "space_to_depth";
  let mxnetAttrs = [MXReq<"block_size", "Int">];
  let customVerifier = 1;
}

def Graph_DepthToSpaceOp : Graph_Op<"depth_to_space"> {
  let summary = "MXNet depth_to_space: channels moved into block_size² spatial blocks";
  let description = [{
    The inverse of space_to_depth on NCHW data with C a multiple of b²
    (b = `block_size`): out[n, c, h·b + i, w·b + j] = in[n, (i·b + j)·C′ + c, h, w]
    with C′ = C/b², the result being [N, C′, H·b, W·b].

    Example:
    ```mlir
    %y = graph.depth_to_space %x {block_size = 2 : i64}
        : (tensor<1x8x2x2xf32>) -> tensor<1x2x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, I64Attr:$block_size);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "depth_to_space";
  let mxnetAttrs = [MXReq<"block_size", "Int">];
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Slicing and padding
//===----------------------------------------------------------------------===//

def Graph_SliceOp : Graph_Op<"slice"> {
  let summary = "MXNet slice (crop): a strided box of the input";
  let description = [{
    `begin`, `end` and `step` have one entry per leading axis (at most the
    rank; `step` may be empty, meaning 1); later axes are taken whole. An
    entry may be None, which is printed as −2⁶³ (MXNet's None: begin 0 or,
    for a negative step, the last element; end the end of the axis or, for
    a negative step, before the first element; step 1). Otherwise MXNet's
    rules: negative begin/end count from the back; with a positive step a
    begin still below 0 becomes 0; with a negative step a begin past the end
    becomes the last element; end is clipped to [−1, dim]; the axis then has
    ⌈(end − begin)/step⌉ elements. A step must not be 0, and an empty result
    (which MXNet allows) is rejected: Kiln has no zero-size tensors.

    Example:
    ```mlir
    %y = graph.slice %x {begin = array<i64: 3, 4>, end = array<i64: -9223372036854775808, 0>,
                         step = array<i64: -1, -2>}
        : (tensor<4x5xf32>) -> tensor<4x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DenseI64ArrayAttr:$begin, DenseI64ArrayAttr:$end,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$step);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "slice";
  let mxnetAliases = ["crop"];
  let mxnetAttrs = [MXReq<"begin", "OptTuple">, MXReq<"end", "OptTuple">,
                    MXDef<"step", "OptTuple", "()">];
  let customVerifier = 1;
}

def Graph_SliceLikeOp : Graph_Op<"slice_like"> {
  let summary = "MXNet slice_like: the leading box of data in shape_like's size";
  let description = [{
    On each listed axis (all axes when `axes` is empty; negative axes count
    from the back) the result keeps the first shape_like.shape[axis]
    elements of data, which must not exceed data's; without `axes` the two
    inputs have the same rank. `shape_like` gets no gradient.

    Example:
    ```mlir
    %y = graph.slice_like %x, %s {axes = array<i64: 0>}
        : (tensor<3x4xf32>, tensor<2x2xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$shape_like,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "slice_like";
  let mxnetAttrs = [MXDef<"axes", "Tuple", "()">];
  let mxnetInputs = ["data", "shape_like"];
}

def Graph_CropOp : Graph_Op<"crop"> {
  let summary = "MXNet Crop (legacy): an H×W window of NCHW data";
  let description = [{
    The window's size is `h_w` with one input (MXNet's num_args = 1), or the
    H and W of the rank-4 `crop_like` with two. It starts at `offset` (y, x),
    or with `center_crop` at ((H − h)/2, (W − w)/2) rounded down, and must
    lie inside the input. `crop_like` gets no gradient. MXNet 1.9.1 accepts
    num_args = 3 but computes nothing with it; Kiln rejects it.

    Example:
    ```mlir
    %y = graph.crop %x {h_w = array<i64: 3, 2>, offset = array<i64: 1, 2>}
        : (tensor<1x2x5x6xf32>) -> tensor<1x2x3x2xf32>
    ```
  }];
  // MXNet's num_args inputs: data, then crop_like when there are two.
  let arguments = (ins Variadic<Graph_Tensor>:$inputs,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$offset,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$h_w,
                   DefaultValuedAttr<BoolAttr, "false">:$center_crop);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Crop";
  let mxnetAttrs = [MXDef<"offset", "Tuple", "(0, 0)">, MXDef<"h_w", "Tuple", "(0, 0)">,
                    MXDef<"center_crop", "Bool", "False">];
  let mxnetInputRule = "Variadic";
  let customVerifier = 1;
  let opDecl = [{
    ::mlir::Value getData() { return getInputs()[0]; }
    /// The second input, or null with one.
    ::mlir::Value getCropLike() {
      return getInputs().size() > 1 ? getInputs()[1] : ::mlir::Value();
    }
    /// The window's top-left corner (y, x) in data of shape `data`, for a
    /// result of shape `out`.
    std::pair<int64_t, int64_t> getCorner(::llvm::ArrayRef<int64_t> data,
                                          ::llvm::ArrayRef<int64_t> out);
  }];
}

def Graph_PadOp : Graph_Op<"pad"> {
  let summary = "MXNet Pad: constant, edge or reflect padding of 4-D/5-D data";
  let description = [{
    `pad_width` is (before₀, after₀, before₁, after₁, …), two entries per
    axis; as in MXNet the data is 4-D or 5-D and the first two axes (N, C)
    are not padded. `constant` fills with `constant_value`, `edge` repeats
    the border element, `reflect` mirrors without repeating it (NumPy's
    reflect), which needs every pad smaller than its axis. The gradient sums
    the head gradient of every position that read an element.

    Example:
    ```mlir
    %y = graph.pad %x {mode = #graph.pad_mode<edge>,
                       pad_width = array<i64: 0, 0, 0, 0, 1, 2, 2, 1>}
        : (tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_PadModeAttr:$mode,
                   DenseI64ArrayAttr:$pad_width,
                   DefaultValuedAttr<F64Attr, "0.0">:$constant_value);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "Pad";
  let mxnetAliases = ["pad"];
  let mxnetAttrs = [MXEnum<"mode", "PadMode">, MXReq<"pad_width", "Tuple">,
                    MXDef<"constant_value", "F64", "0">];
  let customVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

def Graph_TakeOp : Graph_Op<"take"> {
  let summary = "MXNet take: slices of `a` along `axis` picked by indices";
  let description = [{
    The result is a.shape[:axis] + indices.shape + a.shape[axis+1:], entry
    i of the indices selecting slice k = trunc(indices[i]) of `a` along
    `axis` (negative counts from the back). `clip` (the default) clamps k to
    [0, dim − 1]; `wrap` takes k modulo dim; `raise` is an error for an
    index outside [0, dim − 1] in the reference interpreter (as in MXNet),
    while compiled code, which cannot stop on a bad value, clamps as `clip`.
    The indices get no gradient; `a` gets the head gradient added at every
    picked slice.

    Example:
    ```mlir
    %y = graph.take %a, %i {axis = 1 : i64} : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$a, Graph_Tensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<Graph_TakeModeAttr, "TakeMode::clip">:$mode);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "take";
  let mxnetAttrs = [MXDef<"axis", "Int", "0">, MXEnum<"mode", "TakeMode", "clip">];
  let mxnetInputs = ["a", "indices"];
}

def Graph_PickOp : Graph_Op<"pick"> {
  let summary = "MXNet pick (choose_element_0index): one element per position along `axis`";
  let description = [{
    For every position of data with `axis` removed, the element at
    k = trunc(index) along `axis`, clamped to [0, dim − 1] (`clip`, the
    default) or taken modulo dim (`wrap`). `index` has data's shape with
    `axis` removed, or with it kept as 1; the result has it removed, or kept
    as 1 with `keepdims`. A 1-D data gives a (1)-shaped result. MXNet's
    axis None (pick over the flattened data) is rejected by MXNet 1.9.1
    itself; Kiln reads a None axis as the default −1. The index gets no
    gradient.

    Example:
    ```mlir
    %y = graph.pick %x, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$index,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims,
                   DefaultValuedAttr<Graph_PickModeAttr, "PickMode::clip">:$mode);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "pick";
  let mxnetAliases = ["choose_element_0index"];
  let mxnetAttrs = [MXDef<"axis", "Int", "-1">, MXDef<"keepdims", "Bool", "False">,
                    MXEnum<"mode", "PickMode", "clip">];
  let mxnetInputs = ["data", "index"];
}

def Graph_BatchTakeOp : Graph_Op<"batch_take"> {
  let summary = "MXNet batch_take: one element of each row of a matrix";
  let description = [{
    For `a` of shape (d0, d1) and indices holding d0 values (any shape,
    which is the result's), element i of the result is a[i, k] with
    k = trunc(indices[i]) clamped to [0, d1 − 1] (a NaN index reads 0).
    MXNet's shape rule accepts data of higher rank, but its kernel then
    reads past the data, so Kiln requires a matrix. MXNet (which deprecates
    batch_take for pick) defines no gradient; neither does Kiln.

    Example:
    ```mlir
    %y = graph.batch_take %a, %i : (tensor<3x2xf32>, tensor<3xf32>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$a, Graph_Tensor:$indices);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "batch_take";
  let mxnetInputs = ["a", "indices"];
  let mxnetHasGradient = 0;
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_GatherNDOp : Graph_Op<"gather_nd"> {
  let summary = "MXNet gather_nd: elements or slices of data at index tuples";
  let description = [{
    `indices` is [M, Y…] (rank ≥ 2, M ≤ rank of data): column y holds an
    index into the first M axes of data, and the result is
    [Y…, data.shape[M:]…]. Each index v along an axis of size d reads
    position trunc(v + d) mod d, so −d ≤ v < 0 counts from the back as in
    MXNet. MXNet rejects an index outside [−d, d − 1]: so does the reference
    interpreter, while compiled code wraps it. The gradient adds the head
    gradient at the positions read (MXNet's backward would not wrap a
    negative index; Kiln does, as its forward).

    Example:
    ```mlir
    %y = graph.gather_nd %x, %i : (tensor<3x4x2xf32>, tensor<2x5xf32>) -> tensor<5x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$indices);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "gather_nd";
  let mxnetInputs = ["data", "indices"];
}

def Graph_ScatterNDOp : Graph_Op<"scatter_nd"> {
  let summary = "MXNet scatter_nd: data written into zeros of `shape` at index tuples";
  let description = [{
    The inverse of gather_nd: `indices` is [M, Y…] (rank ≥ 2, M ≤ the rank
    of `shape`) and `data` is [Y…, shape[M:]…]; the result has `shape`, 0
    everywhere except the slices the index columns address, which get the
    data's slices. Positions are computed as gather_nd's (trunc(v + d) mod
    d, so −d ≤ v < 0 counts from the back, where MXNet's kernel reads out
    of bounds); an index outside [−d, d − 1] is an error in the reference
    interpreter and wraps in compiled code (MXNet does not check it). When two columns address the same slice the
    later one wins (MXNet's CPU kernel may write them in any order). The
    gradient of `data` is gather_nd of the head gradient, as in MXNet; the
    indices get none.

    Example:
    ```mlir
    %y = graph.scatter_nd %d, %i {shape = array<i64: 3, 4, 2>}
        : (tensor<5x2xf32>, tensor<2x5xf32>) -> tensor<3x4x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$indices, DenseI64ArrayAttr:$shape);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "scatter_nd";
  let mxnetAttrs = [MXReq<"shape", "Tuple">];
  let mxnetInputs = ["data", "indices"];
}

def Graph_OneHotOp : Graph_Op<"one_hot"> {
  let summary = "MXNet one_hot: one row of `depth` values per index";
  let description = [{
    The result is indices.shape + (depth): `on_value` at position
    k = trunc(index) and `off_value` elsewhere; an index whose k is outside
    [0, depth) gives a row of `off_value`. Both values are rounded as MXNet
    stores them in `dtype` (2.5 becomes 2 in int32), the result staying
    float. No gradient.

    Example:
    ```mlir
    %y = graph.one_hot %i {depth = 4 : i64} : (tensor<3xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$indices, I64Attr:$depth,
                   DefaultValuedAttr<F64Attr, "1.0">:$on_value,
                   DefaultValuedAttr<F64Attr, "0.0">:$off_value,
                   DefaultValuedAttr<Graph_DTypeAttr, "DType::float32">:$dtype);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "one_hot";
  let mxnetAttrs = [MXReq<"depth", "Int">, MXDef<"on_value", "F64", "1">,
                    MXDef<"off_value", "F64", "0">, MXEnum<"dtype", "DType", "float32">];
  let mxnetInputs = ["indices"];
  let mxnetHasGradient = 0;
  let customVerifier = 1;
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_WhereOp : Graph_Op<"where"> {
  let summary = "MXNet where: x where condition ≠ 0, else y";
  let description = [{
    `x` and `y` have one shape; `condition` has it too, or is 1-D with one
    entry per row (axis 0) of x, selecting whole rows. NaN counts as
    nonzero. The condition gets no gradient; x gets the head gradient where
    the condition is nonzero, y where it is zero.

    Example:
    ```mlir
    %r = graph.where %c, %x, %y : (tensor<3xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$condition, Graph_Tensor:$x, Graph_Tensor:$y);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "where";
  let mxnetInputs = ["condition", "x", "y"];
}

//===----------------------------------------------------------------------===//
// Shapes and constants
//===----------------------------------------------------------------------===//

def Graph_ShapeArrayOp : Graph_Op<"shape_array"> {
  let summary = "MXNet shape_array: the input's shape as a 1-D array";
  let description = [{
    MXNet returns int64 values; Kiln stores them as floats (exact up to 2²⁴
    in float32). No gradient.

    Example:
    ```mlir
    %s = graph.shape_array %x : (tensor<2x3xf32>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "shape_array";
  let mxnetHasGradient = 0;
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_SizeArrayOp : Graph_Op<"size_array"> {
  let summary = "MXNet size_array: the input's element count as a (1)-shaped array";
  let description = [{
    MXNet returns an int64 value; Kiln stores it as a float (exact up to
    2²⁴ in float32). No gradient.

    Example:
    ```mlir
    %s = graph.size_array %x : (tensor<2x3xf32>) -> tensor<1xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "size_array";
  let mxnetHasGradient = 0;
  let gradientRule = "noGradient(*this, operandGrads)";
}

// Ops without tensor operands: constants of the function, computed by a
// kernel of their own in compiled code.
// Index computations whose MXNet backward writes zeros: no gradient.
class Graph_IndexComputationOp<string mnemonic> : Graph_Op<mnemonic> {
  let results = (outs Graph_Tensor:$output);
  let mxnetHasGradient = 0;
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_IndexArrayOp : Graph_IndexComputationOp<"index_array"> {
  let summary = "MXNet _contrib_index_array: every position's multi-index";
  let description = [{
    For data of shape (d_1, …, d_n) the result is (d_1, …, d_n, m): at
    position (i_1, …, i_n) the indices i_axes[0], …, i_axes[m−1], or all n
    indices when `axes` is absent (MXNet's None). An entry a of `axes` names
    axis ((a mod n) + n) mod n, as MXNet wraps it; an empty `axes` would
    give a zero-size result, which Kiln rejects. MXNet's values are int64;
    Kiln's are floats. No gradient (MXNet's is zero).

    Example:
    ```mlir
    %i = graph.index_array %x {axes = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, OptionalAttr<DenseI64ArrayAttr>:$axes);
  let mxnetName = "_contrib_index_array";
  let mxnetAttrs = [MXOpt<"axes", "Tuple">];
  let opDecl = [{
    /// The axes the result lists, wrapped into [0, rank) as MXNet does.
    ::llvm::SmallVector<int64_t> getListedAxes(int64_t rank);
  }];
}

def Graph_RavelMultiIndexOp : Graph_IndexComputationOp<"ravel_multi_index"> {
  let summary = "MXNet _ravel_multi_index: flat indices of multi-indices into `shape`";
  let description = [{
    `data` is (n, N), n = the rank of `shape`: column i is a multi-index and
    result element i is its row-major flat index, computed as MXNet does,
    r = trunc(r · shape[j] + data[j, i]) for j = 0 … n − 1 (no range
    check). `shape` is required and non-empty (MXNet's default None fails
    its shape rule). No gradient (MXNet's is zero).

    Example:
    ```mlir
    %f = graph.ravel_multi_index %i {shape = array<i64: 3, 4>} : (tensor<2x5xf32>) -> tensor<5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, OptionalAttr<DenseI64ArrayAttr>:$shape);
  let mxnetName = "_ravel_multi_index";
  let mxnetAliases = ["ravel_multi_index"];
  let mxnetAttrs = [MXOpt<"shape", "Tuple">];
  let customVerifier = 1;
}

def Graph_UnravelIndexOp : Graph_IndexComputationOp<"unravel_index"> {
  let summary = "MXNet _unravel_index: multi-indices into `shape` of flat indices";
  let description = [{
    `data` is (N) flat indices; the result is (n, N), n = the rank of
    `shape`, column i the multi-index of trunc(data[i]) computed as MXNet
    does: from the last axis, the remainder of a truncating division by
    shape[j], the first axis taking the final quotient whole (no range
    check). `shape` is required and non-empty (MXNet's default None fails
    its shape rule). No gradient (MXNet's is zero).

    Example:
    ```mlir
    %i = graph.unravel_index %f {shape = array<i64: 3, 4>} : (tensor<5xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, OptionalAttr<DenseI64ArrayAttr>:$shape);
  let mxnetName = "_unravel_index";
  let mxnetAliases = ["unravel_index"];
  let mxnetAttrs = [MXOpt<"shape", "Tuple">];
  let customVerifier = 1;
}

class Graph_CreationOp<string mnemonic> : Graph_Op<mnemonic> {
  let results = (outs Graph_Tensor:$output);
  let mxnetInputs = [];
  let mxnetHasGradient = 0;
  let customVerifier = 1;
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_ArangeOp : Graph_CreationOp<"arange"> {
  let summary = "MXNet _arange (arange): evenly spaced values";
  let description = [{
    start, start + step, … below `stop` (above it for a negative step), each
    value repeated `repeat` times: ⌈(stop − start)/step⌉·repeat values. With
    no `stop` (MXNet's None) the range is [0, start). Each value is
    start + ⌊i/repeat⌋·step rounded as `dtype` holds it; for an integer
    dtype start and step are truncated first, as MXNet's kernel casts them.
    `step` must not be 0, `repeat` must be positive and the range must not
    be empty. `infer_range` (take the size from the consumer) needs shape
    inference backward from a result, which Kiln does not do: with no
    `stop` it is an error, with one it changes nothing. MXNet's `ctx` is
    accepted and dropped.

    Example:
    ```mlir
    %r = graph.arange {start = 1.5 : f64, stop = 4.0 : f64, step = 0.5 : f64} : () -> tensor<5xf32>
    ```
  }];
  let arguments = (ins F64Attr:$start, OptionalAttr<F64Attr>:$stop,
                   DefaultValuedAttr<F64Attr, "1.0">:$step,
                   DefaultValuedAttr<I64Attr, "1">:$repeat,
                   DefaultValuedAttr<BoolAttr, "false">:$infer_range,
                   DefaultValuedAttr<Graph_DTypeAttr, "DType::float32">:$dtype);
  let mxnetName = "_arange";
  let mxnetAttrs = [MXReq<"start", "F64">, MXOpt<"stop", "F64">, MXDef<"step", "F64", "1">,
                    MXDef<"repeat", "Int", "1">, MXDef<"infer_range", "Bool", "False">,
                    MXEnum<"dtype", "DType", "float32">];
  let mxnetKeys = [MXKey<"ctx">];
  let opDecl = [{
    /// The values, in order (the shape rule checks the attributes first).
    ::llvm::SmallVector<double> getValues();
  }];
}

def Graph_OnesOp : Graph_CreationOp<"ones"> {
  let summary = "MXNet _ones (ones): a tensor of ones of the static `shape`";
  let description = [{
    `shape` is not empty (MXNet's legacy shape () is unknown) and has
    non-negative entries. MXNet's `dtype` and `ctx` are accepted and
    dropped: one is the same value in every dtype.
    A 0 entry is MXNet's legacy unknown dimension: the result's shape stays
    unknown until a consumer's shape rule implies it (Gluon's RNN layers
    export their begin states as `_zeros` of shape (layers·directions, 0,
    hidden), the batch size left to the RNN op), and shape inference then
    writes the whole shape into `shape`.

    Example:
    ```mlir
    %o = graph.ones {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$shape);
  let mxnetName = "_ones";
  let mxnetAttrs = [MXDef<"shape", "Tuple", "()">];
  let mxnetKeys = [MXKey<"ctx">, MXKey<"dtype">];
}

def Graph_FullOp : Graph_CreationOp<"full"> {
  let summary = "MXNet _full (full): a tensor filled with `value`";
  let description = [{
    `shape` is not empty (MXNet's legacy shape () is unknown) and has
    non-negative entries. The value is rounded as MXNet stores it in `dtype`
    (2.5 becomes 2 in int32), the result staying float. MXNet's `ctx` is
    accepted and dropped.
    A 0 entry is MXNet's legacy unknown dimension: the result's shape stays
    unknown until a consumer's shape rule implies it (Gluon's RNN layers
    export their begin states as `_zeros` of shape (layers·directions, 0,
    hidden), the batch size left to the RNN op), and shape inference then
    writes the whole shape into `shape`.

    Example:
    ```mlir
    %f = graph.full {shape = array<i64: 2, 3>, value = 2.5 : f64} : () -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$shape, F64Attr:$value,
                   DefaultValuedAttr<Graph_DTypeAttr, "DType::float32">:$dtype);
  let mxnetName = "_full";
  let mxnetAttrs = [MXDef<"shape", "Tuple", "()">, MXReq<"value", "F64">,
                    MXEnum<"dtype", "DType", "float32">];
  let mxnetKeys = [MXKey<"ctx">];
}

def Graph_ZerosWithoutDtypeOp : Graph_CreationOp<"zeros_without_dtype"> {
  let summary = "MXNet _zeros_without_dtype: a tensor of zeros of the static `shape`";
  let description = [{
    MXNet's zeros whose dtype (an integer type code, -1 by default) comes
    from the graph: graph.zeros under its other MXNet name. `shape` is not
    empty (MXNet's default None is unknown) and has positive entries; the
    dtype and `ctx` are accepted and dropped (zero is the same value in
    every dtype).

    Example:
    ```mlir
    %z = graph.zeros_without_dtype {shape = array<i64: 2, 3>} : () -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$shape);
  let mxnetName = "_zeros_without_dtype";
  let mxnetAttrs = [MXDef<"shape", "Tuple", "()">];
  let mxnetKeys = [MXKey<"ctx">, MXKey<"dtype">];
}

def Graph_AmpMulticastOp : Graph_Op<"amp_multicast"> {
  let summary = "MXNet amp_multicast: every input cast to the widest float type among them";
  let description = [{
    MXNet casts float32/float16/bfloat16 inputs to the widest of their
    types (with `cast_narrow`, the narrowest), leaving other types alone,
    and casts each gradient back to its input's type. Kiln's data is all
    float32, so the widest and the narrowest type are float32 and every
    result is its input unchanged, as is every gradient. `num_outputs` is
    the number of inputs and of results (MXNet names the inputs data_0,
    data_1, ...).

    Example:
    ```mlir
    %a, %b = graph.amp_multicast %x, %y {num_outputs = 2 : i64}
        : (tensor<2x3xf32>, tensor<4xf32>) -> (tensor<2x3xf32>, tensor<4xf32>)
    ```
  }];
  let arguments = (ins Variadic<Graph_Tensor>:$inputs, I64Attr:$num_outputs,
                   DefaultValuedAttr<BoolAttr, "false">:$cast_narrow);
  let results = (outs Variadic<Graph_Tensor>:$outputs);
  let mxnetName = "amp_multicast";
  let mxnetAttrs = [MXReq<"num_outputs", "Int">, MXDef<"cast_narrow", "Bool", "False">];
  let mxnetInputRule = "NumOutputs";
  let mxnetSplitResults = 1;
  let customVerifier = 1;
}

def Graph_EyeOp : Graph_CreationOp<"eye"> {
  let summary = "MXNet _eye (eye): ones on the k-th diagonal of an N×M matrix";
  let description = [{
    An N×M matrix (M = 0, the default, means M = N) with ones where
    column − row = k and zeros elsewhere; k > 0 is above the main diagonal,
    k < 0 below. N must be positive and M not negative. One and zero are
    the same in every dtype: `dtype` and `ctx` are accepted and dropped.

    Example:
    ```mlir
    %e = graph.eye {N = 3 : i64, M = 4 : i64, k = 1 : i64} : () -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins I64Attr:$N, DefaultValuedAttr<I64Attr, "0">:$M,
                   DefaultValuedAttr<I64Attr, "0">:$k);
  let mxnetName = "_eye";
  let mxnetAttrs = [MXReq<"N", "Int">, MXDef<"M", "Int", "0">, MXDef<"k", "Int", "0">];
  let mxnetKeys = [MXKey<"ctx">, MXKey<"dtype">];
  let opDecl = [{
    /// The number of columns (M, or N when M is 0).
    int64_t getColumns() { return getM() != 0 ? getM() : getN(); }
    /// The values, row-major.
    ::llvm::SmallVector<double> getValues();
  }];
}

def Graph_ArangeLikeOp : Graph_Op<"arange_like"> {
  let summary = "MXNet _contrib_arange_like: evenly spaced values shaped like the input";
  let description = [{
    start + ⌊i/repeat⌋·step for the flat index i of a result shaped like
    `data` (whose values are not read), or, with `axis`, a 1-D result as
    long as that axis of `data` (negative axes count from the back). MXNet
    computes the values in data's type; Kiln in double, rounded once. No
    gradient reaches `data` (MXNet's is zero). `repeat` must be positive;
    MXNet's `ctx` is accepted and dropped.

    Example:
    ```mlir
    %r = graph.arange_like %x {start = 1.000000e+00 : f64, axis = -1 : i64}
        : (tensor<3x4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<F64Attr, "0.0">:$start,
                   DefaultValuedAttr<F64Attr, "1.0">:$step,
                   DefaultValuedAttr<I64Attr, "1">:$repeat, OptionalAttr<I64Attr>:$axis);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_contrib_arange_like";
  let mxnetAliases = ["_npx_arange_like"];
  let mxnetAttrs = [MXDef<"start", "F64", "0">, MXDef<"step", "F64", "1">,
                    MXDef<"repeat", "Int", "1">, MXOpt<"axis", "Int">];
  let mxnetKeys = [MXKey<"ctx">];
  let mxnetHasGradient = 0;
  let customVerifier = 1;
  let gradientRule = "noGradient(*this, operandGrads)";
  let opDecl = [{
    /// The values of a result of `count` elements, in order.
    ::llvm::SmallVector<double> getValues(int64_t count);
  }];
}

//===----------------------------------------------------------------------===//
// Backward kernels (internal)
//===----------------------------------------------------------------------===//

class Graph_ShapeGradOp<string mnemonic> : Graph_Op<mnemonic> {
  let results = (outs Graph_Tensor:$output);
  let gradientRule = "notDifferentiable(*this)";
}

def Graph_SliceGradOp : Graph_ShapeGradOp<"slice_grad"> {
  let summary = "Gradient of a strided slice: out_grad scattered into zeros";
  let description = [{
    The result has shape `shape`; along each axis d, element k of out_grad
    lands at begin[d] + k·step[d] (steps nonzero, possibly negative; every
    position inside the result), everything else is 0. `begin` and `step`
    have one entry per axis, already resolved (no None, no negative begin):
    the gradient of slice, slice_like and Crop.

    Example:
    ```mlir
    %dx = graph.slice_grad %dy {begin = array<i64: 3, 0>, step = array<i64: -1, 2>,
                                shape = array<i64: 4, 5>}
        : (tensor<4x3xf32>) -> tensor<4x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$out_grad, DenseI64ArrayAttr:$begin,
                   DenseI64ArrayAttr:$step, DenseI64ArrayAttr:$shape);
}

def Graph_TakeGradOp : Graph_ShapeGradOp<"take_grad"> {
  let summary = "Gradient of take with respect to `a` (scatter-add)";
  let description = [{
    `out_grad` has take's result shape; the result has `shape` (a's) and
    holds, at every slice along `axis` (normalized), the sum of the
    out_grad slices of the indices that picked it with `mode` (`raise`
    picking as `clip`).

    Example:
    ```mlir
    %da = graph.take_grad %i, %dy {axis = 0 : i64, shape = array<i64: 5, 3>}
        : (tensor<4xf32>, tensor<4x3xf32>) -> tensor<5x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$indices, Graph_Tensor:$out_grad, I64Attr:$axis,
                   DefaultValuedAttr<Graph_TakeModeAttr, "TakeMode::clip">:$mode,
                   DenseI64ArrayAttr:$shape);
}

def Graph_PickGradOp : Graph_ShapeGradOp<"pick_grad"> {
  let summary = "Gradient of pick with respect to its data";
  let description = [{
    The result has `shape` (data's): out_grad's value at the element each
    index picked along `axis` (normalized) with `mode`, 0 elsewhere.
    `index` and `out_grad` have data's shape with the axis removed or kept
    as 1.

    Example:
    ```mlir
    %dx = graph.pick_grad %i, %dy {axis = 1 : i64, shape = array<i64: 3, 4>}
        : (tensor<3xf32>, tensor<3xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$index, Graph_Tensor:$out_grad, I64Attr:$axis,
                   DefaultValuedAttr<Graph_PickModeAttr, "PickMode::clip">:$mode,
                   DenseI64ArrayAttr:$shape);
}

def Graph_GatherNDGradOp : Graph_ShapeGradOp<"gather_nd_grad"> {
  let summary = "Gradient of gather_nd with respect to its data (scatter-add)";
  let description = [{
    The result has `shape` (data's) and holds the sum of the out_grad
    slices gathered from each position, positions computed as gather_nd
    does (trunc(v + d) mod d).

    Example:
    ```mlir
    %dx = graph.gather_nd_grad %i, %dy {shape = array<i64: 3, 4, 2>}
        : (tensor<2x5xf32>, tensor<5x2xf32>) -> tensor<3x4x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$indices, Graph_Tensor:$out_grad,
                   DenseI64ArrayAttr:$shape);
}

def Graph_DiagGradOp : Graph_ShapeGradOp<"diag_grad"> {
  let summary = "Gradient of diag (data of rank ≥ 2) with respect to its data";
  let description = [{
    The result has `shape` (diag's data, rank ≥ 2): out_grad's values on
    the `k`-th diagonal of the matrices spanned by `axis1` and `axis2`
    (as diag reads them), 0 elsewhere.

    Example:
    ```mlir
    %dx = graph.diag_grad %dy {k = 1 : i64, shape = array<i64: 3, 4>}
        : (tensor<3xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$out_grad, DefaultValuedAttr<I64Attr, "0">:$k,
                   DefaultValuedAttr<I64Attr, "0">:$axis1,
                   DefaultValuedAttr<I64Attr, "1">:$axis2, DenseI64ArrayAttr:$shape);
}

def Graph_PadGradOp : Graph_ShapeGradOp<"pad_grad"> {
  let summary = "Gradient of an edge or reflect Pad with respect to its data";
  let description = [{
    `out_grad` has the padded shape; the result has it less the padding:
    every element receives the sum of out_grad over the positions whose
    value it supplied (itself, and for `edge` the border runs, for
    `reflect` its mirror images). `constant` padding's gradient is a slice
    and does not use this op.

    Example:
    ```mlir
    %dx = graph.pad_grad %dy {mode = #graph.pad_mode<reflect>,
                              pad_width = array<i64: 0, 0, 0, 0, 1, 1, 1, 1>}
        : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$out_grad, Graph_PadModeAttr:$mode,
                   DenseI64ArrayAttr:$pad_width);
  let customVerifier = 1;
}

#endif // KILN_GRAPH_SHAPE_OPS
