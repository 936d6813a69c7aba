//===- GraphInterfaces.td - Graph dialect op interfaces ---*- tablegen -*-===//
//
// Interfaces that Kiln's passes query on graph ops: shape inference (used by
// the verifier and by kiln-graph-infer-shapes), in-place hints (memory
// planning) and vector-Jacobian products (autodiff).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_INTERFACES
#define KILN_GRAPH_INTERFACES

include "mlir/IR/OpBase.td"

def Graph_ShapeInferenceOpInterface : OpInterface<"ShapeInferenceOpInterface"> {
  let cppNamespace = "::kiln::graph";
  let description = [{
    MXNet-style bidirectional shape inference. `state.operands[i]` holds the
    shape of operand `i` when it is known. The op fills `state.results` with
    the shape of every result and may fill unknown operand shapes that its
    attributes imply (e.g. a FullyConnected weight is `[num_hidden, K]`), the
    way MXNet infers parameter shapes from the data shape. It must fail with an
    `emitOpError` that names the broken constraint when the known shapes are
    inconsistent. The verifier runs the same function on fully ranked ops, so
    there is one source of truth for every shape rule.
  }];
  let methods = [
    InterfaceMethod<
      "Infers result shapes (and implied operand shapes) from known shapes.",
      "::llvm::LogicalResult", "inferShapes",
      (ins "::kiln::graph::ShapeInferenceState &":$state)>,
  ];
}

def Graph_InPlaceOpInterface : OpInterface<"InPlaceOpInterface"> {
  let cppNamespace = "::kiln::graph";
  let description = [{
    Tells the memory planner which operand's buffer a result may overwrite
    (MXNet's FInplaceOption). Returning std::nullopt means the result needs its
    own storage. The hint is a permission, not an obligation: the planner only
    uses it when the operand dies at this op.
  }];
  let methods = [
    InterfaceMethod<
      "Returns the operand index whose storage result `resultIndex` may reuse.",
      "std::optional<unsigned>", "getInPlaceOperand",
      (ins "unsigned":$resultIndex)>,
  ];
}

def Graph_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::kiln::graph";
  let description = [{
    The op's vector-Jacobian product, expressed in the graph dialect: given
    the gradients flowing into each result (null for results nobody uses,
    i.e. zero), build graph ops at the builder's insertion point that
    compute the gradient of every differentiable operand, and set
    `operandGrads` to one entry per operand (null where there is none, e.g.
    labels, indices, aux states). Loss heads (SoftmaxOutput and the
    regression outputs) ignore `resultGrads` and use their built-in
    gradient, as in MXNet. The forward op has static shapes; the ops a rule
    creates may have unranked result types (kiln-autodiff infers them).
    Backward kernels fail with "not differentiable" (no second order).
    Every graph op implements it (dialects/Graph/Gradients.cpp); the
    kiln-autodiff pass composes them (docs/autodiff.md).
  }];
  let methods = [
    InterfaceMethod<
      "Builds the operand gradients for the given result gradients.",
      "::llvm::LogicalResult", "buildGradient",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

def Graph_TrainingModeOpInterface : OpInterface<"TrainingModeOpInterface"> {
  let cppNamespace = "::kiln::graph";
  let description = [{
    An op of a family whose behaviour changes in training mode, which
    kiln-graph-training-mode (lib/Transforms/Autodiff.cpp) asks to make that
    explicit, as the pass does itself for BatchNorm, Dropout and rrelu. The
    op rewrites itself with new ops at the builder's insertion point (just
    before it), drawing random numbers only through the counter-based ops
    (graph.dropout_mask, graph.random_uniform) fed by `counter()` (the
    function's rng_counter argument, created on first use) with seeds from
    `nextSeed()`, so that every engine computes the same function. It may
    update itself in place; it must not erase itself.
  }];
  let methods = [
    InterfaceMethod<
      "Makes the op's training-mode behaviour explicit.",
      "::llvm::LogicalResult", "rewriteForTraining",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::function_ref<::mlir::Value()>":$counter,
           "::llvm::function_ref<uint64_t()>":$nextSeed)>,
  ];
}

#endif // KILN_GRAPH_INTERFACES
