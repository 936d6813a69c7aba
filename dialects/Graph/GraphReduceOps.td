//===- GraphReduceOps.td - Graph dialect: reductions and sorting -*- tablegen -*-===//
//
// Reductions beyond sum/mean/max/min (GraphOps.td) and sorting: prod, nansum,
// nanprod, norm, argmax, argmin, topk, sort, argsort, and their backward ops.
// An op family of its own (GraphBase.td): its ops are declared in
// Graph/GraphReduceOps.h, defined in dialects/Graph/ReduceOps.cpp, run by
// lib/Interpreter/ReduceOps.cpp and lowered by
// lib/Conversion/GraphToLinalg/ReduceOps.cpp; GraphDialect.cpp registers them
// and their MXNet names.
//
// Sorting order, shared by topk, sort and argsort (and their kernels on
// every path): a stable sort, so equal values keep their index order, in
// which NaN is larger than every number. MXNet 1.9.1's CPU kernel sorts each
// row with std::sort (or std::partial_sort when 8k <= n), whose order among
// equal values is the insertion sort's (stable) for rows of at most 16
// elements and libstdc++'s introsort / heap order beyond; its GPU kernel is
// stable. Values that differ sort identically everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_REDUCE_OPS
#define KILN_GRAPH_REDUCE_OPS

include "Graph/GraphBase.td"

// An MXNet enum attribute whose default is None (an OptionalAttr).
class MXOptEnum<string name, string enumName>
    : MXAttr<name, "Enum", "", 1,
             "::kiln::graph::enumCodec<::kiln::graph::" # enumName # ", ::kiln::graph::" #
             enumName # "Attr, ::kiln::graph::getMaxEnumValFor" # enumName # "()>()">;

//===----------------------------------------------------------------------===//
// Reductions over an axis set
//===----------------------------------------------------------------------===//

class Graph_ReduceFamilyOp<string mnemonic, string what, string semantics>
    : Graph_ReduceOp<mnemonic, what> {
  let description = [{
    Reduces over the listed axes (all axes when `axis` is absent, MXNet's
    None, or empty), or over every other axis with `exclude`. `keepdims`
    keeps reduced axes as size 1; a reduction to nothing has shape (1).
    }] # semantics # [{

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %x {axis = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
    ```
  }];
  let gradientRule = "reduceFamilyGradient(*this, builder, resultGrads, operandGrads)";
}

def Graph_ProdOp : Graph_ReduceFamilyOp<"prod", "the product", [{
    The gradient is MXNet's: out_grad · y / x for every element (y the
    product), so an element that is 0 gets NaN (0/0) or ±inf, not the product
    of the others.
  }]>;
def Graph_NansumOp : Graph_ReduceFamilyOp<"nansum", "the sum, NaN counting as 0", [{
    NaN elements count as 0 (a reduction of NaNs only is 0). The gradient is
    out_grad where the element is a number and 0 where it is NaN.
  }]>;
def Graph_NanprodOp : Graph_ReduceFamilyOp<"nanprod", "the product, NaN counting as 1", [{
    NaN elements count as 1 (a reduction of NaNs only is 1). The gradient is
    MXNet's: out_grad · y / x where the element is a number (NaN or ±inf at
    a zero, as for prod), 0 where it is NaN.
  }]>;

def Graph_NormOp : Graph_Op<"norm"> {
  let summary = "MXNet norm: the L1 or L2 norm over `axis`";
  let description = [{
    `ord` 1 sums |x|, `ord` 2 (the default) is √Σx², over the listed axes
    (all axes when `axis` is absent, MXNet's None); MXNet supports no other
    order. Several axes are reduced together (a 2-tuple gives the entrywise
    norm of each matrix, as MXNet computes it, not an induced matrix norm).
    `keepdims` keeps reduced axes as size 1. The L2 norm is computed without
    overflow or underflow of the squares (scaled by the largest |x|, as
    MXNet's nrm2 reducer is), so float32 data near 1e20 or 1e-30 has a
    finite, nonzero norm.

    `out_dtype` may be None, float32 or float64: MXNet 1.9.1's CPU kernel
    fails for any type other than the data's, and Kiln stores every tensor as
    float, so the verifier rejects the others.

    Gradient (MXNet's): out_grad · sign(x) for `ord` 1 (0 at 0), and
    out_grad · x / y for `ord` 2, which is NaN everywhere in a group whose
    norm is 0 (0/0), as in MXNet.

    Example:
    ```mlir
    %y = graph.norm %x {axis = array<i64: 1>, ord = 1 : i64}
        : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   DefaultValuedAttr<I64Attr, "2">:$ord,
                   OptionalAttr<DenseI64ArrayAttr>:$axis,
                   OptionalAttr<Graph_DTypeAttr>:$out_dtype,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "norm";
  let mxnetAttrs = [MXDef<"ord", "Int", "2">, MXOpt<"axis", "Tuple">,
                    MXOptEnum<"out_dtype", "DType">, MXDef<"keepdims", "Bool", "False">];
  let customVerifier = 1;
  let shapeRule = "inferReduce(*this, state, getAxis(), getKeepdims(), /*exclude=*/false)";
  let gradientRule = "normGradient(*this, builder, resultGrads, operandGrads)";
  let opDecl = [{
    /// The reduced axes, normalized to [0, rank) and sorted, for an input of `rank`.
    ::llvm::SmallVector<int64_t> getReducedAxes(int64_t rank) {
      return ::kiln::graph::reducedAxes(getAxis(), /*exclude=*/false, rank);
    }
  }];
}

def Graph_MomentsOp : Graph_Op<"moments"> {
  let summary = "MXNet moments: the mean and the (biased) variance over `axes`";
  let description = [{
    Two results of the same shape: the mean of the data over the listed
    axes and the mean of the squared deviations from it (divided by the
    element count, not count − 1). `keepdims` keeps the reduced axes as
    size 1; reducing every axis without it gives shape (1). MXNet rejects
    a missing or empty `axes` (global moments need every axis listed), so
    does Kiln's verifier. Gradient (MXNet's): d_mean / N + d_var · 2(x −
    mean) / N, N the number of elements reduced into each result.

    Example:
    ```mlir
    %m, %v = graph.moments %x {axes = array<i64: 0, 2>}
        : (tensor<2x3x4xf32>) -> (tensor<3xf32>, tensor<3xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   OptionalAttr<DenseI64ArrayAttr>:$axes,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs Graph_Tensor:$mean, Graph_Tensor:$var);
  let mxnetName = "moments";
  let mxnetAttrs = [MXOpt<"axes", "Tuple">, MXDef<"keepdims", "Bool", "False">];
  let customVerifier = 1;
  let opDecl = [{
    /// The reduced axes, normalized to [0, rank) and sorted, for an input of `rank`.
    ::llvm::SmallVector<int64_t> getReducedAxes(int64_t rank) {
      return ::kiln::graph::reducedAxes(getAxes(), /*exclude=*/false, rank);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Searching and sorting
//===----------------------------------------------------------------------===//

class Graph_SearchOp<string mnemonic, string what, string init>
    : Graph_Op<mnemonic> {
  let summary = "MXNet " # mnemonic # ": the index of the " # what # " along `axis`";
  let description = [{
    The index (as a float, like every Kiln tensor and like MXNet's result,
    which has the data's type) of the first }] # what # [{ along `axis`, or
    in the flattened array when `axis` is absent (MXNet's None). MXNet scans
    from index 0 keeping the running }] # what # [{ (starting from }] # init #
    [{), replacing it by a strictly better value, so ties give the first
    occurrence; a NaN is sticky, so the result is the first NaN when there is
    one. The shape is the data's without `axis` (size 1 with `keepdims`);
    with no `axis`, or for rank-1 data, it is (1) (all ones with `keepdims`).
    No gradient (MXNet's is zero).

    Example:
    ```mlir
    %i = graph.}] # mnemonic # [{ %x {axis = 1 : i64} : (tensor<3x4xf32>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   OptionalAttr<I64Attr>:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = mnemonic;
  let mxnetAttrs = [MXOpt<"axis", "Int">, MXDef<"keepdims", "Bool", "False">];
  let mxnetHasGradient = 0;
  let shapeRule = "inferSearch(*this, state, getAxis(), getKeepdims())";
  let gradientRule = "noGradient(*this, operandGrads)";
}
def Graph_ArgmaxOp : Graph_SearchOp<"argmax", "maximum", "−inf">;
def Graph_ArgminOp : Graph_SearchOp<"argmin", "minimum", "+inf">;

def Graph_ArgmaxChannelOp : Graph_Op<"argmax_channel"> {
  let summary = "MXNet argmax_channel: argmax along axis 1";
  let description = [{
    graph.argmax with `axis` = 1 and no `keepdims`, which is how MXNet
    registers it (it takes no attributes): the index of the first maximum
    along axis 1, a NaN being sticky; data of rank ≥ 2. No gradient.

    Example:
    ```mlir
    %i = graph.argmax_channel %x : (tensor<2x3xf32>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "argmax_channel";
  let mxnetHasGradient = 0;
  let shapeRule = "inferSearch(*this, state, 1, /*keepdims=*/false)";
  let gradientRule = "noGradient(*this, operandGrads)";
}

def Graph_TopKOp : Graph_Op<"topk"> {
  let summary = "MXNet topk: the k largest (or smallest) elements along `axis`";
  let description = [{
    Sorts each row along `axis` (the flattened array when `axis` is absent:
    MXNet's None; note that MXNet's default is -1, which the importer writes
    explicitly) in descending order, ascending with `is_ascend`, and keeps
    the first `k` (all of them when `k` ≤ 0; more than the axis holds is an
    error). The order is the family's stable order (GraphReduceOps.td): NaN
    is the largest value, equal values keep their index order. `ret_typ`:
    - `indices` (default): the positions along the axis, converted to
      `dtype` as MXNet's cast would (uint8 wraps modulo 256, float16
      rounds), stored as float; the data's shape with `k` along the axis,
      or (k) when flattened;
    - `value`: the values, same shape;
    - `both`: two results, the values and the indices;
    - `mask`: the data's shape, 1 at the selected elements and 0 elsewhere.

    The gradient of the values (`value`, `both`) goes to the selected
    elements (MXNet's _backward_topk: with `both`, through the `indices`
    result as `dtype` holds it); the indices and the mask have none.
    Cost per row of n on the CPU: for k ≤ 8 (and k < n) one selection pass
    keeping the best k in registers, O(n·k); otherwise a stable merge sort,
    O(n log n).

    Example:
    ```mlir
    %v, %i = graph.topk %x {axis = -1 : i64, k = 2 : i64, ret_typ = #graph.topk_ret_typ<both>}
        : (tensor<3x5xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>)
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   OptionalAttr<I64Attr>:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$k,
                   DefaultValuedAttr<Graph_TopKRetTypAttr, "TopKRetTyp::indices">:$ret_typ,
                   DefaultValuedAttr<BoolAttr, "false">:$is_ascend,
                   DefaultValuedAttr<Graph_DTypeAttr, "DType::float32">:$dtype);
  let results = (outs Variadic<Graph_Tensor>:$outputs);
  let mxnetName = "topk";
  let mxnetAliases = ["_npx_topk"];
  let mxnetAttrs = [MXOptDef<"axis", "Int", "-1">, MXDef<"k", "Int", "1">,
                    MXEnum<"ret_typ", "TopKRetTyp", "indices">,
                    MXDef<"is_ascend", "Bool", "False">, MXEnum<"dtype", "DType", "float32">];
  let customVerifier = 1;
  let shapeRule = "inferSorting(*this, state, getAxis(), getK(), getRetTyp())";
  let gradientRule = "topkGradient(*this, builder, resultGrads, operandGrads)";
}

def Graph_SortOp : Graph_Op<"sort"> {
  let summary = "MXNet sort: the values sorted along `axis`";
  let description = [{
    Each row along `axis` sorted ascending (descending without `is_ascend`),
    or the flattened array when `axis` is absent (MXNet's None; MXNet's
    default, -1, is written explicitly by the importer), in the family's
    stable order with NaN largest (GraphReduceOps.td). The result has the
    data's shape, or (n) when flattened. The gradient sends each result
    gradient back to the element it came from (the scatter MXNet's
    _backward_topk does; MXNet 1.9.1's own sort gradient fails to build).
    Cost: a stable merge sort per row, O(n log n).

    Example:
    ```mlir
    %y = graph.sort %x {axis = -1 : i64, is_ascend = false} : (tensor<3x5xf32>) -> tensor<3x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   OptionalAttr<I64Attr>:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$is_ascend);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "sort";
  let mxnetAliases = ["_npi_sort"];
  let mxnetAttrs = [MXOptDef<"axis", "Int", "-1">, MXDef<"is_ascend", "Bool", "True">];
  let shapeRule = "inferSorting(*this, state, getAxis(), 0, TopKRetTyp::value)";
  let gradientRule = "sortGradient(*this, builder, resultGrads, operandGrads)";
}

def Graph_ArgsortOp : Graph_Op<"argsort"> {
  let summary = "MXNet argsort: the positions that sort each row along `axis`";
  let description = [{
    The indices along `axis` (of the flattened array when `axis` is absent:
    MXNet's None; MXNet's default, -1, is written explicitly by the
    importer) in the order `sort` puts the elements, stable with NaN largest
    (GraphReduceOps.td), converted to `dtype` as MXNet's cast would and
    stored as float. No gradient (MXNet's is zero). Cost: a stable merge
    sort per row, O(n log n).

    Example:
    ```mlir
    %i = graph.argsort %x {axis = 0 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data,
                   OptionalAttr<I64Attr>:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$is_ascend,
                   DefaultValuedAttr<Graph_DTypeAttr, "DType::float32">:$dtype);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "argsort";
  let mxnetAliases = ["_npi_argsort"];
  let mxnetAttrs = [MXOptDef<"axis", "Int", "-1">, MXDef<"is_ascend", "Bool", "True">,
                    MXEnum<"dtype", "DType", "float32">];
  let mxnetHasGradient = 0;
  let customVerifier = 1;
  let shapeRule = "inferSorting(*this, state, getAxis(), 0, TopKRetTyp::indices)";
  let gradientRule = "noGradient(*this, operandGrads)";
}

//===----------------------------------------------------------------------===//
// Backward ops (internal: built by the gradient rules above)
//===----------------------------------------------------------------------===//

class Graph_ReduceGradOp<string mnemonic, string forward, string formula>
    : Graph_Op<mnemonic> {
  let summary = "Gradient of " # forward # " with respect to its input";
  let description = [{
    ∂L/∂data = }] # formula # [{ elementwise, with `out_grad` and `output`
    (the forward's result gradient and result, reshaped to the data's rank
    with the reduced axes of size 1) broadcast to the data's shape: MXNet's
    ReduceAxesBackwardUseInOut. The result has the data's shape.

    Example:
    ```mlir
    %dx = graph.}] # mnemonic # [{ %x, %dy, %y
        : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad, Graph_Tensor:$output);
  let results = (outs Graph_Tensor:$data_grad);
  let shapeRule = "inferReduceGrad(*this, state)";
  let gradientRule = "notDifferentiable(*this)";
}
def Graph_ProdGradOp : Graph_ReduceGradOp<"prod_grad", "prod", "out_grad · output / data">;
def Graph_NanprodGradOp : Graph_ReduceGradOp<"nanprod_grad", "nanprod",
    "(data is NaN ? 0 : out_grad · output / data)">;
def Graph_NansumGradOp : Graph_ReduceGradOp<"nansum_grad", "nansum",
    "(data is NaN ? 0 : out_grad) (`output` is not read)">;
def Graph_NormGradOp : Graph_ReduceGradOp<"norm_grad", "norm",
    "out_grad · sign(data) for `ord` 1 (`output` not read), out_grad · data / output for "
    "`ord` 2"> {
  let arguments = (ins Graph_Tensor:$data, Graph_Tensor:$out_grad, Graph_Tensor:$output,
                   DefaultValuedAttr<I64Attr, "2">:$ord);
}

def Graph_TopKGradOp : Graph_Op<"topk_grad"> {
  let summary = "Gradient of topk's values (and of sort) with respect to its input";
  let description = [{
    Zeros of `shape` (the forward data's), with each `out_grad` element
    written at the position its `indices` element names along `axis` (in the
    flattened array when `axis` is absent): MXNet's _backward_topk. Both
    operands have the forward's value shape (k along the axis, or (k)).
    Indices are truncated to integers and clamped to the axis (a float16 or
    uint8 index can only name a position the conversion left it at).

    Example:
    ```mlir
    %dx = graph.topk_grad %dy, %i {axis = 1 : i64, shape = array<i64: 3, 5>}
        : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x5xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$out_grad, Graph_Tensor:$indices,
                   OptionalAttr<I64Attr>:$axis, DenseI64ArrayAttr:$shape);
  let results = (outs Graph_Tensor:$data_grad);
  let shapeRule = "inferTopKGrad(*this, state)";
  let gradientRule = "notDifferentiable(*this)";
}

#endif // KILN_GRAPH_REDUCE_OPS
