//===- GraphElementwise.td - Elementwise ops from formulas -*- tablegen -*-===//
//
// Every elementwise MXNet operator is a formula here, written once in the
// formula language of dialects/Graph/Formula.h: the same text is the
// reference interpreter's kernel (on doubles), the lowering's loop body (on
// MLIR scalars) and, for the derivative, the gradient rule (on graph values:
// the backward is made of these same ops). Shape rules, in-place hints,
// verifiers and MXNet registry entries come from the family classes, so an
// elementwise op is one `def`.
//
//  - Unary ops: `formula` in x; `derivative` in x, y (the result) and dy
//    (its gradient), "" when MXNet's gradient is zero (floor, sign, ...).
//  - Binary functions (Graph_BinaryFn) in a and b with one derivative per
//    operand; each becomes up to four ops: same-shape (MXNet `_mod`),
//    broadcasting (`broadcast_mod`), with a scalar on the right (`_mod_scalar`)
//    and on the left (`_rmod_scalar`).
// Comparisons and logical ops give 1 where true and 0 elsewhere, as MXNet's
// float-valued operators do.
// Included from GraphOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_ELEMENTWISE
#define KILN_GRAPH_ELEMENTWISE

//===----------------------------------------------------------------------===//
// Family classes
//===----------------------------------------------------------------------===//

class Graph_UnaryMathOp<string mnemonic, code fwd, code grad, list<Trait> traits = []>
    : Graph_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultShape, Graph_ElementwiseTrait,
                                              DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>])> {
  code formula = fwd;
  code derivative = grad;
  let summary = "MXNet " # mnemonic # ": " # fwd # ", elementwise";
  let description = "Computes `" # fwd # "` for every element x of `data`" #
      !if(!empty(grad), "; its gradient is zero, as in MXNet.",
          " (gradient: `" # grad # "`, y being the result and dy its gradient).") # [{

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = mnemonic;
  let mxnetHasGradient = !not(!empty(grad));
  let inPlaceOperand = 0;
  let shapeRule = "inferSameShape(*this, state, {\"data\"})";
  let gradientRule = !if(!empty(grad), "noGradient(*this, operandGrads)",
                         "unaryGradient(*this, builder, resultGrads, operandGrads)");
  let familyDecl = "static constexpr int kFormulaOperands = 1;\n"
      "template <typename T> T apply(T x) {\n"
      "  using namespace ::kiln::graph::fn;\n  return " # fwd # ";\n}\n"
      "::kiln::graph::GExpr derivative(::kiln::graph::GExpr x, ::kiln::graph::GExpr y,\n"
      "                                ::kiln::graph::GExpr dy);\n";
  let familyDef = "::kiln::graph::GExpr $cppClass::derivative(::kiln::graph::GExpr x, "
      "::kiln::graph::GExpr y, ::kiln::graph::GExpr dy) {\n"
      "  using namespace ::kiln::graph::fn;\n  (void)x; (void)y;\n  return " #
      !if(!empty(grad), "::kiln::graph::GExpr()", grad) # ";\n}\n";
}

// A function of two operands with the derivative with respect to each
// ("" where MXNet's gradient is zero).
class Graph_BinaryFn<code fwd, code lhsGrad = "", code rhsGrad = ""> {
  code formula = fwd;
  code lhsDerivative = lhsGrad;
  code rhsDerivative = rhsGrad;
  bit hasGradient = !not(!and(!empty(lhsGrad), !empty(rhsGrad)));
}

// The members every binary op shares: apply(a, b) and the two derivatives.
class Graph_BinaryDecl<Graph_BinaryFn fn> {
  code decl = "static constexpr int kFormulaOperands = 2;\n"
      "template <typename A, typename B> auto apply(A a, B b) {\n"
      "  using namespace ::kiln::graph::fn;\n  return " # fn.formula # ";\n}\n"
      "::kiln::graph::GExpr lhsDerivative(::kiln::graph::GExpr a, ::kiln::graph::GExpr b,\n"
      "    ::kiln::graph::GExpr y, ::kiln::graph::GExpr dy);\n"
      "::kiln::graph::GExpr rhsDerivative(::kiln::graph::GExpr a, ::kiln::graph::GExpr b,\n"
      "    ::kiln::graph::GExpr y, ::kiln::graph::GExpr dy);\n";
  code defs = "::kiln::graph::GExpr $cppClass::lhsDerivative(::kiln::graph::GExpr a, "
      "::kiln::graph::GExpr b, ::kiln::graph::GExpr y, ::kiln::graph::GExpr dy) {\n"
      "  using namespace ::kiln::graph::fn;\n  (void)a; (void)b; (void)y;\n  return " #
      !if(!empty(fn.lhsDerivative), "::kiln::graph::GExpr()", fn.lhsDerivative) # ";\n}\n"
      "::kiln::graph::GExpr $cppClass::rhsDerivative(::kiln::graph::GExpr a, "
      "::kiln::graph::GExpr b, ::kiln::graph::GExpr y, ::kiln::graph::GExpr dy) {\n"
      "  using namespace ::kiln::graph::fn;\n  (void)a; (void)b; (void)y;\n  return " #
      !if(!empty(fn.rhsDerivative), "::kiln::graph::GExpr()", fn.rhsDerivative) # ";\n}\n";
}

// Operands of one shape (MXNet's Symbol semantics of elemwise_add, _mod, ...).
class Graph_ElemwiseBinaryOp<string mnemonic, Graph_BinaryFn fn, list<Trait> traits = []>
    : Graph_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultShape, Graph_ElementwiseTrait,
                                              DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>])> {
  let summary = "MXNet _" # mnemonic # ": " # fn.formula # " on equal shapes";
  let description = "Computes `" # fn.formula # "` for every pair of elements a of `lhs` "
      "and b of `rhs`, which must have the same shape (MXNet's Symbol semantics; the "
      "broadcast_ ops broadcast)." # [{

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_" # mnemonic;
  let mxnetInputs = ["lhs", "rhs"];
  let mxnetHasGradient = fn.hasGradient;
  let inPlaceOperand = 0;
  let shapeRule = "inferSameShape(*this, state, {\"lhs\", \"rhs\"})";
  let gradientRule = !if(fn.hasGradient, "binaryGradient(*this, builder, resultGrads, operandGrads)",
                         "noGradient(*this, operandGrads)");
  let familyDecl = Graph_BinaryDecl<fn>.decl;
  let familyDef = Graph_BinaryDecl<fn>.defs;
}

class Graph_BroadcastBinaryOp<string mnemonic, Graph_BinaryFn fn>
    : Graph_Op<mnemonic, [Graph_BroadcastElementwiseTrait]> {
  let summary = "MXNet " # mnemonic # ": " # fn.formula # " with NumPy broadcasting";
  let description = "Computes `" # fn.formula # "` (a from `lhs`, b from `rhs`) with NumPy "
      "broadcasting: shapes are aligned from the right; each pair of dimensions must be "
      "equal or one of them 1, and the result takes the larger. Each operand's gradient "
      "is summed over the axes it was broadcast along." # [{

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %a, %b : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$lhs, Graph_Tensor:$rhs);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = mnemonic;
  let mxnetInputs = ["lhs", "rhs"];
  let mxnetHasGradient = fn.hasGradient;
  let shapeRule = "inferBroadcast(*this, state)";
  let gradientRule = !if(fn.hasGradient, "binaryGradient(*this, builder, resultGrads, operandGrads)",
                         "noGradient(*this, operandGrads)");
  let familyDecl = Graph_BinaryDecl<fn>.decl;
  let familyDef = Graph_BinaryDecl<fn>.defs;
}

// x OP scalar, or scalar OP x when `reversed` (MXNet's `_r*_scalar`).
class Graph_ScalarOp<string mnemonic, Graph_BinaryFn fn, bit reversed = 0>
    : Graph_Op<mnemonic, [SameOperandsAndResultShape, Graph_ElementwiseTrait,
                          DeclareOpInterfaceMethods<Graph_InPlaceOpInterface>]> {
  defvar operands = !if(reversed, "auto a = s(); auto b = x;", "auto a = x; auto b = s();");
  defvar grad = !if(reversed, fn.rhsDerivative, fn.lhsDerivative);
  let summary = "MXNet _" # mnemonic # ": " # fn.formula # " with " #
                !if(reversed, "a = scalar, b = x", "a = x, b = scalar");
  let description = "Computes `" # fn.formula # "` for every element x of `data` with " #
      !if(reversed, "a = `scalar` and b = x", "a = x and b = `scalar`") # "." # [{

    Example:
    ```mlir
    %y = graph.}] # mnemonic # [{ %x {scalar = 2.000000e+00 : f64}
        : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<F64Attr, "1.0">:$scalar);
  let results = (outs Graph_Tensor:$output);
  let mxnetName = "_" # mnemonic;
  let mxnetAttrs = [MXDef<"scalar", "F64", "1">];
  // MXNet 2.0's numpy-era scalar ops add `is_int`, which only matters for
  // integer tensors.
  let mxnetKeys = [MXKey<"is_int">];
  let mxnetHasGradient = !not(!empty(grad));
  let inPlaceOperand = 0;
  let shapeRule = "inferSameShape(*this, state, {\"data\"})";
  let gradientRule = !if(!empty(grad), "noGradient(*this, operandGrads)",
                         "unaryGradient(*this, builder, resultGrads, operandGrads)");
  let familyDecl = "static constexpr int kFormulaOperands = 1;\n"
      "double s() { return getScalar().convertToDouble(); }\n"
      "template <typename T> T apply(T x) {\n"
      "  using namespace ::kiln::graph::fn;\n  " # operands # "\n  return " # fn.formula #
      ";\n}\n"
      "::kiln::graph::GExpr derivative(::kiln::graph::GExpr x, ::kiln::graph::GExpr y,\n"
      "                                ::kiln::graph::GExpr dy);\n";
  let familyDef = "::kiln::graph::GExpr $cppClass::derivative(::kiln::graph::GExpr x, "
      "::kiln::graph::GExpr y, ::kiln::graph::GExpr dy) {\n"
      "  using namespace ::kiln::graph::fn;\n  " # operands # "\n  (void)a; (void)b; (void)y;\n"
      "  return " # !if(!empty(grad), "::kiln::graph::GExpr()", grad) # ";\n}\n";
}

//===----------------------------------------------------------------------===//
// Binary functions
//===----------------------------------------------------------------------===//

def Graph_AddFn : Graph_BinaryFn<"a + b", "dy", "dy">;
def Graph_SubFn : Graph_BinaryFn<"a - b", "dy", "-dy">;
def Graph_MulFn : Graph_BinaryFn<"a * b", "dy * b", "dy * a">;
def Graph_DivFn : Graph_BinaryFn<"a / b", "dy / b", "-(dy * y) / b">;
// MXNet's mod: the remainder takes the divisor's sign (Python's %), and 0
// for a zero divisor; gradients 1 and −⌊a/b⌋.
def Graph_ModFn : Graph_BinaryFn<"mod(a, b)", "dy", "-dy * floor(a / b)">;
// b·a^(b−1) (not b·y/a, which fails at a = 0) and y·log(a).
def Graph_PowerFn : Graph_BinaryFn<"pow(a, b)", "dy * b * pow(a, b - 1.0)", "dy * y * log(a)">;
// MXNet's masks: lhs where a ≥ b (a ≤ b for minimum), rhs elsewhere.
def Graph_MaximumFn : Graph_BinaryFn<"maximum(a, b)", "dy * ge(a, b)", "dy * lt(a, b)">;
def Graph_MinimumFn : Graph_BinaryFn<"minimum(a, b)", "dy * le(a, b)", "dy * gt(a, b)">;
def Graph_HypotFn : Graph_BinaryFn<"hypot(a, b)", "dy * a / y", "dy * b / y">;
def Graph_EqualFn : Graph_BinaryFn<"eq(a, b)">;
def Graph_NotEqualFn : Graph_BinaryFn<"ne(a, b)">;
def Graph_GreaterFn : Graph_BinaryFn<"gt(a, b)">;
def Graph_GreaterEqualFn : Graph_BinaryFn<"ge(a, b)">;
def Graph_LesserFn : Graph_BinaryFn<"lt(a, b)">;
def Graph_LesserEqualFn : Graph_BinaryFn<"le(a, b)">;
def Graph_LogicalAndFn : Graph_BinaryFn<"logical_and(a, b)">;
def Graph_LogicalOrFn : Graph_BinaryFn<"logical_or(a, b)">;
def Graph_LogicalXorFn : Graph_BinaryFn<"logical_xor(a, b)">;

//===----------------------------------------------------------------------===//
// Same-shape binary ops
//===----------------------------------------------------------------------===//

def Graph_ElemwiseAddOp : Graph_ElemwiseBinaryOp<"elemwise_add", Graph_AddFn> {
  let mxnetName = "elemwise_add";
  // `_grad_add` is MXNet's separate op for gradient accumulation: the same sum.
  let mxnetAliases = ["_add", "_plus", "_Plus", "_grad_add"];
}
def Graph_ElemwiseSubOp : Graph_ElemwiseBinaryOp<"elemwise_sub", Graph_SubFn> {
  let mxnetName = "elemwise_sub";
  let mxnetAliases = ["_sub", "_minus", "_Minus"];
}
def Graph_ElemwiseMulOp : Graph_ElemwiseBinaryOp<"elemwise_mul", Graph_MulFn> {
  let mxnetName = "elemwise_mul";
  let mxnetAliases = ["_mul", "_Mul"];
}
def Graph_ElemwiseDivOp : Graph_ElemwiseBinaryOp<"elemwise_div", Graph_DivFn> {
  let mxnetName = "elemwise_div";
  let mxnetAliases = ["_div", "_Div"];
}
def Graph_ModOp : Graph_ElemwiseBinaryOp<"mod", Graph_ModFn> { let mxnetAliases = ["_Mod"]; }
def Graph_PowerOp : Graph_ElemwiseBinaryOp<"power", Graph_PowerFn> {
  let mxnetAliases = ["_Power"];
}
def Graph_MaximumOp : Graph_ElemwiseBinaryOp<"maximum", Graph_MaximumFn> {
  let mxnetAliases = ["_Maximum"];
}
def Graph_MinimumOp : Graph_ElemwiseBinaryOp<"minimum", Graph_MinimumFn> {
  let mxnetAliases = ["_Minimum"];
}
def Graph_HypotOp : Graph_ElemwiseBinaryOp<"hypot", Graph_HypotFn> {
  let mxnetAliases = ["_Hypot"];
}
def Graph_EqualOp : Graph_ElemwiseBinaryOp<"equal", Graph_EqualFn> {
  let mxnetAliases = ["_Equal"];
}
def Graph_NotEqualOp : Graph_ElemwiseBinaryOp<"not_equal", Graph_NotEqualFn> {
  let mxnetAliases = ["_Not_Equal"];
}
def Graph_GreaterOp : Graph_ElemwiseBinaryOp<"greater", Graph_GreaterFn> {
  let mxnetAliases = ["_Greater"];
}
def Graph_GreaterEqualOp : Graph_ElemwiseBinaryOp<"greater_equal", Graph_GreaterEqualFn> {
  let mxnetAliases = ["_Greater_Equal"];
}
def Graph_LesserOp : Graph_ElemwiseBinaryOp<"lesser", Graph_LesserFn> {
  let mxnetAliases = ["_Lesser"];
}
def Graph_LesserEqualOp : Graph_ElemwiseBinaryOp<"lesser_equal", Graph_LesserEqualFn> {
  let mxnetAliases = ["_Lesser_Equal"];
}
def Graph_LogicalAndOp : Graph_ElemwiseBinaryOp<"logical_and", Graph_LogicalAndFn> {
  let mxnetAliases = ["_Logical_And"];
}
def Graph_LogicalOrOp : Graph_ElemwiseBinaryOp<"logical_or", Graph_LogicalOrFn> {
  let mxnetAliases = ["_Logical_Or"];
}
def Graph_LogicalXorOp : Graph_ElemwiseBinaryOp<"logical_xor", Graph_LogicalXorFn> {
  let mxnetAliases = ["_Logical_Xor"];
}

//===----------------------------------------------------------------------===//
// Broadcasting binary ops
//===----------------------------------------------------------------------===//

def Graph_BroadcastAddOp : Graph_BroadcastBinaryOp<"broadcast_add", Graph_AddFn> {
  let mxnetAliases = ["broadcast_plus"];
}
def Graph_BroadcastSubOp : Graph_BroadcastBinaryOp<"broadcast_sub", Graph_SubFn> {
  let mxnetAliases = ["broadcast_minus"];
}
def Graph_BroadcastMulOp : Graph_BroadcastBinaryOp<"broadcast_mul", Graph_MulFn>;
def Graph_BroadcastDivOp : Graph_BroadcastBinaryOp<"broadcast_div", Graph_DivFn>;
def Graph_BroadcastModOp : Graph_BroadcastBinaryOp<"broadcast_mod", Graph_ModFn>;
def Graph_BroadcastPowerOp : Graph_BroadcastBinaryOp<"broadcast_power", Graph_PowerFn>;
def Graph_BroadcastMaximumOp : Graph_BroadcastBinaryOp<"broadcast_maximum", Graph_MaximumFn>;
def Graph_BroadcastMinimumOp : Graph_BroadcastBinaryOp<"broadcast_minimum", Graph_MinimumFn>;
def Graph_BroadcastHypotOp : Graph_BroadcastBinaryOp<"broadcast_hypot", Graph_HypotFn>;
def Graph_BroadcastEqualOp : Graph_BroadcastBinaryOp<"broadcast_equal", Graph_EqualFn>;
def Graph_BroadcastNotEqualOp : Graph_BroadcastBinaryOp<"broadcast_not_equal", Graph_NotEqualFn>;
def Graph_BroadcastGreaterOp : Graph_BroadcastBinaryOp<"broadcast_greater", Graph_GreaterFn>;
def Graph_BroadcastGreaterEqualOp
    : Graph_BroadcastBinaryOp<"broadcast_greater_equal", Graph_GreaterEqualFn>;
def Graph_BroadcastLesserOp : Graph_BroadcastBinaryOp<"broadcast_lesser", Graph_LesserFn>;
def Graph_BroadcastLesserEqualOp
    : Graph_BroadcastBinaryOp<"broadcast_lesser_equal", Graph_LesserEqualFn>;
def Graph_BroadcastLogicalAndOp
    : Graph_BroadcastBinaryOp<"broadcast_logical_and", Graph_LogicalAndFn>;
def Graph_BroadcastLogicalOrOp : Graph_BroadcastBinaryOp<"broadcast_logical_or", Graph_LogicalOrFn>;
def Graph_BroadcastLogicalXorOp
    : Graph_BroadcastBinaryOp<"broadcast_logical_xor", Graph_LogicalXorFn>;

//===----------------------------------------------------------------------===//
// Scalar ops
//===----------------------------------------------------------------------===//

def Graph_PlusScalarOp : Graph_ScalarOp<"plus_scalar", Graph_AddFn> {
  let mxnetAliases = ["_PlusScalar"];
}
def Graph_MinusScalarOp : Graph_ScalarOp<"minus_scalar", Graph_SubFn> {
  let mxnetAliases = ["_MinusScalar"];
}
def Graph_RMinusScalarOp : Graph_ScalarOp<"rminus_scalar", Graph_SubFn, 1> {
  let mxnetAliases = ["_RMinusScalar"];
}
def Graph_MulScalarOp : Graph_ScalarOp<"mul_scalar", Graph_MulFn> {
  let mxnetAliases = ["_MulScalar"];
}
def Graph_DivScalarOp : Graph_ScalarOp<"div_scalar", Graph_DivFn> {
  let mxnetAliases = ["_DivScalar"];
}
def Graph_RDivScalarOp : Graph_ScalarOp<"rdiv_scalar", Graph_DivFn, 1> {
  let mxnetAliases = ["_RDivScalar"];
}
def Graph_ModScalarOp : Graph_ScalarOp<"mod_scalar", Graph_ModFn> {
  let mxnetAliases = ["_ModScalar"];
}
def Graph_RModScalarOp : Graph_ScalarOp<"rmod_scalar", Graph_ModFn, 1> {
  let mxnetAliases = ["_RModScalar"];
}
def Graph_PowerScalarOp : Graph_ScalarOp<"power_scalar", Graph_PowerFn> {
  let mxnetAliases = ["_PowerScalar"];
}
def Graph_RPowerScalarOp : Graph_ScalarOp<"rpower_scalar", Graph_PowerFn, 1> {
  let mxnetAliases = ["_RPowerScalar"];
}
def Graph_MaximumScalarOp : Graph_ScalarOp<"maximum_scalar", Graph_MaximumFn> {
  let mxnetAliases = ["_MaximumScalar"];
}
def Graph_MinimumScalarOp : Graph_ScalarOp<"minimum_scalar", Graph_MinimumFn> {
  let mxnetAliases = ["_MinimumScalar"];
}
// MXNet's smooth_l1 (sigma = `scalar`); its gradient is 1 / −1 beyond
// ±1/σ² and σ²·x inside, as MXNet's smooth_l1_gradient.
def Graph_SmoothL1Fn
    : Graph_BinaryFn<"smooth_l1(a, b)",
                     "dy * (gt(a, 1.0 / (b * b)) - lt(a, -1.0 / (b * b)) + "
                     "le(a, 1.0 / (b * b)) * ge(a, -1.0 / (b * b)) * (b * b) * a)">;
def Graph_SmoothL1Op : Graph_ScalarOp<"smooth_l1", Graph_SmoothL1Fn> {
  let mxnetName = "smooth_l1";
  let mxnetAliases = ["_npx_smooth_l1"];
}
def Graph_HypotScalarOp : Graph_ScalarOp<"hypot_scalar", Graph_HypotFn> {
  let mxnetAliases = ["_HypotScalar"];
}
def Graph_EqualScalarOp : Graph_ScalarOp<"equal_scalar", Graph_EqualFn> {
  let mxnetAliases = ["_EqualScalar"];
}
def Graph_NotEqualScalarOp : Graph_ScalarOp<"not_equal_scalar", Graph_NotEqualFn> {
  let mxnetAliases = ["_NotEqualScalar"];
}
def Graph_GreaterScalarOp : Graph_ScalarOp<"greater_scalar", Graph_GreaterFn> {
  let mxnetAliases = ["_GreaterScalar"];
}
def Graph_GreaterEqualScalarOp : Graph_ScalarOp<"greater_equal_scalar", Graph_GreaterEqualFn> {
  let mxnetAliases = ["_GreaterEqualScalar"];
}
def Graph_LesserScalarOp : Graph_ScalarOp<"lesser_scalar", Graph_LesserFn> {
  let mxnetAliases = ["_LesserScalar"];
}
def Graph_LesserEqualScalarOp : Graph_ScalarOp<"lesser_equal_scalar", Graph_LesserEqualFn> {
  let mxnetAliases = ["_LesserEqualScalar"];
}
def Graph_LogicalAndScalarOp : Graph_ScalarOp<"logical_and_scalar", Graph_LogicalAndFn> {
  let mxnetAliases = ["_LogicalAndScalar"];
}
def Graph_LogicalOrScalarOp : Graph_ScalarOp<"logical_or_scalar", Graph_LogicalOrFn> {
  let mxnetAliases = ["_LogicalOrScalar"];
}
def Graph_LogicalXorScalarOp : Graph_ScalarOp<"logical_xor_scalar", Graph_LogicalXorFn> {
  let mxnetAliases = ["_LogicalXorScalar"];
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

def Graph_ReluOp : Graph_UnaryMathOp<"relu", "relu(x)", "dy * gt(y, 0.0)">;
def Graph_SigmoidOp : Graph_UnaryMathOp<"sigmoid", "sigmoid(x)", "dy * y * (1.0 - y)">;
def Graph_TanhOp : Graph_UnaryMathOp<"tanh", "tanh(x)", "dy * (1.0 - y * y)">;
def Graph_SoftsignOp : Graph_UnaryMathOp<"softsign", "softsign(x)",
                                         "dy / square(1.0 + abs(x))">;
def Graph_ExpOp : Graph_UnaryMathOp<"exp", "exp(x)", "dy * y">;
def Graph_LogOp : Graph_UnaryMathOp<"log", "log(x)", "dy / x">;
def Graph_Log1pOp : Graph_UnaryMathOp<"log1p", "log1p(x)", "dy / (1.0 + x)">;
def Graph_Expm1Op : Graph_UnaryMathOp<"expm1", "expm1(x)", "dy * (y + 1.0)">;
def Graph_Log2Op : Graph_UnaryMathOp<"log2", "log2(x)", "dy / (x * 0.69314718055994530942)">;
def Graph_Log10Op : Graph_UnaryMathOp<"log10", "log10(x)", "dy / (x * 2.30258509299404568402)">;
def Graph_SqrtOp : Graph_UnaryMathOp<"sqrt", "sqrt(x)", "dy * 0.5 / y">;
def Graph_RsqrtOp : Graph_UnaryMathOp<"rsqrt", "rsqrt(x)", "dy * -0.5 * y / x">;
def Graph_CbrtOp : Graph_UnaryMathOp<"cbrt", "cbrt(x)", "dy / (3.0 * y * y)">;
def Graph_RcbrtOp : Graph_UnaryMathOp<"rcbrt", "1.0 / cbrt(x)", "dy * (-1.0 / 3.0) * y / x">;
def Graph_SquareOp : Graph_UnaryMathOp<"square", "square(x)", "dy * 2.0 * x">;
def Graph_AbsOp : Graph_UnaryMathOp<"abs", "abs(x)", "dy * sign(x)">;
def Graph_SignOp : Graph_UnaryMathOp<"sign", "sign(x)", "">;
def Graph_NegativeOp : Graph_UnaryMathOp<"negative", "-x", "-dy">;
def Graph_ReciprocalOp : Graph_UnaryMathOp<"reciprocal", "1.0 / x", "-dy * y * y">;
def Graph_FloorOp : Graph_UnaryMathOp<"floor", "floor(x)", "">;
def Graph_CeilOp : Graph_UnaryMathOp<"ceil", "ceil(x)", "">;
// MXNet's round goes half away from zero; rint to the nearest even.
def Graph_RoundOp : Graph_UnaryMathOp<"round", "round(x)", "">;
def Graph_RintOp : Graph_UnaryMathOp<"rint", "rint(x)", "">;
def Graph_FixOp : Graph_UnaryMathOp<"fix", "trunc(x)", "">;
def Graph_TruncOp : Graph_UnaryMathOp<"trunc", "trunc(x)", "">;
def Graph_ErfOp : Graph_UnaryMathOp<"erf", "erf(x)",
                                    "dy * 1.12837916709551257390 * exp(-(x * x))">;
// MXNet's erfinv is Cephes' ndtri in double; its gradient is √π/2·exp(y²)
// (from the result, as MXNet's _backward_erfinv).
def Graph_ErfinvOp : Graph_UnaryMathOp<"erfinv", "erfinv(x)",
                                       "dy * 0.88622692545275801365 * exp(y * y)"> {
  let mxnetAliases = ["_npx_erfinv"];
}
// Γ and ln|Γ|: C's tgamma and lgamma on the interpreter, Lanczos'
// approximation in double in the lowering; the gradients Γ(x)·ψ(x) and ψ(x)
// with Cephes' digamma ψ, as MXNet's gamma_grad and gammaln_grad.
def Graph_GammaOp : Graph_UnaryMathOp<"gamma", "tgamma(x)", "dy * y * digamma(x)"> {
  let mxnetAliases = ["_npx_gamma", "_sparse_gamma"];
}
def Graph_GammalnOp : Graph_UnaryMathOp<"gammaln", "lgamma(x)", "dy * digamma(x)"> {
  let mxnetAliases = ["_npx_gammaln", "_sparse_gammaln"];
}
def Graph_DigammaOp : Graph_UnaryMathOp<"digamma", "digamma(x)", ""> {
  let summary = "ψ(x), the derivative of ln Γ (Kiln's, for the gradients of gamma and gammaln)";
  let description = [{
    Cephes' digamma (psi) as MXNet computes it for the gradients of gamma
    and gammaln (special_functions-inl.h): the reflection
    ψ(x) = ψ(1 − x) − π·cot(πx) below 1, the recurrence ψ(x) = ψ(x + 1) − 1/x
    up to 10 and the asymptotic series. At its poles (0, −1, −2, ...) it is
    +inf (MXNet returns DBL_MAX, which is inf in float32). MXNet's double
    version takes logf of the shifted argument, so its float64 results carry
    float32 rounding; Kiln takes the double log. No MXNet operator: autodiff
    builds it.

    Example:
    ```mlir
    %y = graph.digamma %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let mxnetName = "";
}
def Graph_SinOp : Graph_UnaryMathOp<"sin", "sin(x)", "dy * cos(x)">;
def Graph_CosOp : Graph_UnaryMathOp<"cos", "cos(x)", "-dy * sin(x)">;
def Graph_TanOp : Graph_UnaryMathOp<"tan", "tan(x)", "dy * (1.0 + y * y)">;
def Graph_ArcsinOp : Graph_UnaryMathOp<"arcsin", "asin(x)", "dy / sqrt(1.0 - x * x)">;
def Graph_ArccosOp : Graph_UnaryMathOp<"arccos", "acos(x)", "-dy / sqrt(1.0 - x * x)">;
def Graph_ArctanOp : Graph_UnaryMathOp<"arctan", "atan(x)", "dy / (1.0 + x * x)">;
def Graph_SinhOp : Graph_UnaryMathOp<"sinh", "sinh(x)", "dy * cosh(x)">;
def Graph_CoshOp : Graph_UnaryMathOp<"cosh", "cosh(x)", "dy * sinh(x)">;
def Graph_ArcsinhOp : Graph_UnaryMathOp<"arcsinh", "asinh(x)", "dy / sqrt(x * x + 1.0)">;
def Graph_ArccoshOp : Graph_UnaryMathOp<"arccosh", "acosh(x)", "dy / sqrt(x * x - 1.0)">;
def Graph_ArctanhOp : Graph_UnaryMathOp<"arctanh", "atanh(x)", "dy / (1.0 - x * x)">;
def Graph_DegreesOp : Graph_UnaryMathOp<"degrees", "x * 57.2957795130823208768",
                                        "dy * 57.2957795130823208768">;
def Graph_RadiansOp : Graph_UnaryMathOp<"radians", "x * 0.01745329251994329577",
                                        "dy * 0.01745329251994329577">;
def Graph_LogicalNotOp : Graph_UnaryMathOp<"logical_not", "logical_not(x)", "">;
// zeros_like / ones_like read only the shape of `data`.
def Graph_ZerosLikeOp : Graph_UnaryMathOp<"zeros_like", "constant(x, 0.0)", "">;
def Graph_OnesLikeOp : Graph_UnaryMathOp<"ones_like", "constant(x, 1.0)", "">;
def Graph_BlockGradOp : Graph_UnaryMathOp<"block_grad", "x", ""> {
  let summary = "MXNet BlockGrad (stop_gradient): the input, with no gradient";
  let mxnetName = "BlockGrad";
  let mxnetAliases = ["stop_gradient"];
}

// MXNet's straight-through estimators (contrib/stes_op.cc): round (half away
// from zero) and sign forward, the head gradient passed through unchanged.
def Graph_RoundSteOp : Graph_UnaryMathOp<"round_ste", "round(x)", "dy"> {
  let summary = "MXNet _contrib_round_ste: round(x), with the identity as its gradient";
  let mxnetName = "_contrib_round_ste";
  let mxnetAliases = ["_sparse__contrib_round_ste"];
}
def Graph_SignSteOp : Graph_UnaryMathOp<"sign_ste", "sign(x)", "dy"> {
  let summary = "MXNet _contrib_sign_ste: sign(x), with the identity as its gradient";
  let mxnetName = "_contrib_sign_ste";
  let mxnetAliases = ["_sparse__contrib_sign_ste"];
}

def Graph_GradientMultiplierOp
    : Graph_UnaryMathOp<"gradient_multiplier", "x", "dy * multiplier()"> {
  let summary = "MXNet _contrib_gradientmultiplier: x forward, dy·scalar backward";
  let description = [{
    The identity forward; the gradient is the head gradient times `scalar`
    (a negative scalar reverses it: the gradient reversal layer of domain
    adaptation). MXNet's `is_int` only matters for integer tensors and is
    accepted and dropped.

    Example:
    ```mlir
    %y = graph.gradient_multiplier %x {scalar = -1.000000e+00 : f64}
        : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<F64Attr, "1.0">:$scalar);
  let mxnetName = "_contrib_gradientmultiplier";
  let mxnetAttrs = [MXDef<"scalar", "F64", "1">];
  let mxnetKeys = [MXKey<"is_int">];
  let opDecl = [{
    double multiplier() { return getScalar().convertToDouble(); }
  }];
}

def Graph_QuadraticOp
    : Graph_UnaryMathOp<"quadratic", "x * (coefA() * x + coefB()) + coefC()",
                        "dy * (2.0 * coefA() * x + coefB())"> {
  let summary = "MXNet _contrib_quadratic: a·x² + b·x + c";
  let description = [{
    Computes x·(a·x + b) + c for every element, as MXNet's kernel groups it,
    with float32 coefficients (MXNet parses them as float); the gradient is
    dy·(2a·x + b).

    Example:
    ```mlir
    %y = graph.quadratic %x {a = 1.000000e+00 : f32, b = 2.000000e+00 : f32, c = 3.000000e+00 : f32}
        : (tensor<2x2xf32>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<F32Attr, "0.0f">:$a,
                   DefaultValuedAttr<F32Attr, "0.0f">:$b, DefaultValuedAttr<F32Attr, "0.0f">:$c);
  let mxnetName = "_contrib_quadratic";
  let mxnetAttrs = [MXDef<"a", "F32", "0">, MXDef<"b", "F32", "0">, MXDef<"c", "F32", "0">];
  let opDecl = [{
    double coefA() { return getA().convertToDouble(); }
    double coefB() { return getB().convertToDouble(); }
    double coefC() { return getC().convertToDouble(); }
  }];
}

def Graph_LegacyMakeLossOp : Graph_UnaryMathOp<"legacy_make_loss", "x", "", [Graph_LossHeadTrait]> {
  let summary = "MXNet make_loss: identity forward, a gradient of ones (a loss head)";
  let description = [{
    MXNet's older make_loss, an operator of its own beside MakeLoss: the
    result is `data`, and the backward is ones_like(data) whatever the head
    gradient (MXNet builds a ones_like node), so it ends a graph as a loss.

    Example:
    ```mlir
    %y = graph.legacy_make_loss %x : (tensor<4x2xf32>) -> tensor<4x2xf32>
    ```
  }];
  let mxnetName = "make_loss";
  let mxnetAliases = ["_sparse_make_loss"];
  let mxnetHasGradient = 1;
  let gradientRule = "";
}

def Graph_DivSqrtDimOp : Graph_UnaryMathOp<"div_sqrt_dim", "x / sqrt_dim()", "dy / sqrt_dim()"> {
  let summary = "MXNet _contrib_div_sqrt_dim: x / sqrt(the size of the last axis)";
  let description = [{
    Divides every element by the square root of the last dimension's size
    (the scaling of attention scores in GluonNLP's BERT and Transformer
    exports). As in MXNet, the square root is taken in double and converted
    to the element type before dividing; the gradient is dy divided the
    same way.

    Example:
    ```mlir
    %y = graph.div_sqrt_dim %x : (tensor<2x4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let mxnetName = "_contrib_div_sqrt_dim";
  let opDecl = [{
    double sqrt_dim() {
      return std::sqrt(static_cast<double>(
          ::llvm::cast<::mlir::RankedTensorType>(getData().getType()).getShape().back()));
    }
  }];
}

def Graph_HardSigmoidOp
    : Graph_UnaryMathOp<"hard_sigmoid", "hard_sigmoid(x, slope(), offset())",
                        "dy * slope() * gt(slope() * x + offset(), 0.0) * "
                        "lt(slope() * x + offset(), 1.0)"> {
  let summary = "MXNet hard_sigmoid: max(0, min(1, alpha·x + beta))";
  let arguments = (ins Graph_Tensor:$data, DefaultValuedAttr<F32Attr, "0.2f">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.5f">:$beta);
  let mxnetAttrs = [MXDef<"alpha", "F32", "0.2">, MXDef<"beta", "F32", "0.5">];
  let opDecl = [{
    double slope() { return getAlpha().convertToDouble(); }
    double offset() { return getBeta().convertToDouble(); }
  }];
}

def Graph_ClipOp
    : Graph_UnaryMathOp<"clip", "minimum(maximum(x, lo()), hi())",
                        "dy * ge(x, lo()) * le(x, hi())"> {
  let summary = "MXNet clip: x limited to [a_min, a_max]";
  let description = [{
    min(max(x, a_min), a_max) elementwise. The gradient passes where
    a_min ≤ x ≤ a_max and is 0 outside, as MXNet's clip_grad. The bounds are
    float32 attributes, as MXNet parses them.

    Example:
    ```mlir
    %y = graph.clip %x {a_min = 0.000000e+00 : f32, a_max = 6.000000e+00 : f32}
        : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, F32Attr:$a_min, F32Attr:$a_max);
  let mxnetAttrs = [MXReq<"a_min", "F32">, MXReq<"a_max", "F32">];
  let opDecl = [{
    double lo() { return getAMin().convertToDouble(); }
    double hi() { return getAMax().convertToDouble(); }
  }];
}

def Graph_CastOp : Graph_UnaryMathOp<"cast", "cast(x, getDtype())", "cast(dy, getDtype())"> {
  let summary = "MXNet Cast: values converted to `dtype` (stored as float)";
  let description = [{
    Kiln computes in float32: Cast keeps the storage type and rounds each
    value as the conversion to `dtype` would, so later ops see what MXNet's
    would: float16/bfloat16 round to nearest even (overflow to ±inf),
    integer types truncate toward zero and wrap modulo 2^bits (as C's
    conversion on x86 does for MXNet's kernels), bool gives x ≠ 0, float32
    and float64 keep the value. The gradient is the head gradient as a
    `dtype` array would hold it (rounded the same way), cast back, as in MXNet.

    Example:
    ```mlir
    %y = graph.cast %x {dtype = #graph.dtype<int32>} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_DTypeAttr:$dtype);
  let mxnetName = "Cast";
  let mxnetAliases = ["cast"];
  let mxnetAttrs = [MXEnum<"dtype", "DType">];
}

def Graph_AmpCastOp : Graph_UnaryMathOp<"amp_cast", "ampCast(x)", "cast(dy, getDtype())"> {
  let summary = "MXNet amp_cast: Cast as automatic mixed precision inserts it";
  let description = [{
    What AMP-converted models contain between float32 and float16 parts.
    MXNet converts only float32, float16 and bfloat16 data (other types pass
    through unchanged); Kiln's data is float32, so each value is converted
    to `dtype`, the storage staying float32. Float types round as
    graph.cast does. Integer types differ from Cast: MXNet's CPU amp_cast
    (its MKL-DNN reorder) rounds to the nearest integer, ties to even, and
    saturates at the type's bounds, so Kiln does the same for int8, uint8
    and int32 (int32 saturating at −2³¹ and 2147483520, the largest float32
    below 2³¹; MXNet gives that in its vector lanes and −2³¹ in others, so
    its result beyond int32's range depends on the position); MXNet 1.9.1
    fails for
    int64 and float64 results ("unknown type for MKLDNN"), which Kiln
    converts as Cast does. The gradient is the head gradient as a `dtype`
    array holds it, cast back, as for Cast.

    Example:
    ```mlir
    %y = graph.amp_cast %x {dtype = #graph.dtype<float16>} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Graph_Tensor:$data, Graph_DTypeAttr:$dtype);
  let mxnetName = "amp_cast";
  let mxnetAttrs = [MXEnum<"dtype", "DType">];
  let opDecl = [{
    /// MXNet's conversion (see the description), on any formula value type.
    template <typename T> T ampCast(T x) {
      using namespace ::kiln::graph::fn;
      switch (getDtype()) {
      case ::kiln::graph::DType::int8:
        return minimum(maximum(rint(x), -128.0), 127.0);
      case ::kiln::graph::DType::uint8:
        return minimum(maximum(rint(x), 0.0), 255.0);
      case ::kiln::graph::DType::int32:
        return minimum(maximum(rint(x), -2147483648.0), 2147483520.0);
      default:
        return cast(x, getDtype());
      }
    }
  }];
}

#endif // KILN_GRAPH_ELEMENTWISE
