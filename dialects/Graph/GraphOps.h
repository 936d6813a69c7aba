//===- GraphOps.h - Kiln graph dialect ops ----------------------*- C++ -*-===//
//
// The graph dialect: one op per MXNet operator on builtin tensors.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_GRAPHOPS_H
#define KILN_GRAPH_GRAPHOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>
#include <string>

#include "Graph/Formula.h"
#include "Graph/MXNetOpDef.h"

namespace kiln::graph {

/// A tensor shape, each dimension static.
using Shape = llvm::SmallVector<int64_t, 4>;

/// In/out state of ShapeInferenceOpInterface::inferShapes.
struct ShapeInferenceState {
  /// One entry per operand: its shape when known. An op may fill entries that
  /// are unknown but implied by its attributes (parameter shapes).
  llvm::SmallVector<std::optional<Shape>, 4> operands;
  /// Filled by the op: one entry per result.
  llvm::SmallVector<Shape, 1> results;
};

/// Every tensor operand has the result's shape and is read at the result's
/// index (Graph_ElementwiseTrait).
template <typename ConcreteType>
class GraphElementwise : public mlir::OpTrait::TraitBase<ConcreteType, GraphElementwise> {};
/// NumPy-broadcasting binary ops (Graph_BroadcastElementwiseTrait).
template <typename ConcreteType>
class GraphBroadcastElementwise
    : public mlir::OpTrait::TraitBase<ConcreteType, GraphBroadcastElementwise> {};
/// Loss heads: the backward ignores the head gradient (Graph_LossHeadTrait).
template <typename ConcreteType>
class GraphLossHead : public mlir::OpTrait::TraitBase<ConcreteType, GraphLossHead> {};

/// The axes a reduction reduces for an input of `rank`, normalized and
/// sorted: MXNet's absent or empty `axis` means all axes (even with
/// exclude); otherwise the listed axes, or every other axis with `exclude`.
/// Out-of-range entries are dropped (the verifier rejects them once the rank
/// is known).
llvm::SmallVector<int64_t> reducedAxes(std::optional<llvm::ArrayRef<int64_t>> axis, bool exclude,
                                       int64_t rank);

} // namespace kiln::graph

#include "Graph/GraphDialect.h.inc"
#include "Graph/GraphEnums.h.inc"
#define GET_ATTRDEF_CLASSES
#include "Graph/GraphAttrs.h.inc"
#include "Graph/GraphInterfaces.h.inc"
#define GET_OP_CLASSES
#include "Graph/GraphOps.h.inc"

namespace kiln::graph {

/// The codec of a graph-dialect enum E (attribute A, largest value Max).
template <typename E, typename A, unsigned Max> const MXEnumCodec *enumCodec() {
  static const MXEnumCodec codec{
      [](mlir::MLIRContext *ctx, const std::string &s) -> mlir::Attribute {
        if (std::optional<E> v = symbolizeEnum<E>(s))
          return A::get(ctx, *v);
        return {};
      },
      [](mlir::Attribute a) { return stringifyEnum(llvm::cast<A>(a).getValue()).str(); },
      []() {
        std::string out;
        for (unsigned i = 0; i <= Max; ++i)
          if (llvm::StringRef c = stringifyEnum(static_cast<E>(i)); !c.empty())
            out += (out.empty() ? "" : ", ") + c.str();
        return out;
      }};
  return &codec;
}


/// Runs shape inference on `op` from its current operand types. On success,
/// `state` holds the inferred operand and result shapes.
llvm::LogicalResult inferShapes(mlir::Operation *op, ShapeInferenceState &state);

/// Verifier shared by every graph op: when all operands are ranked, the
/// inferred operand and result shapes must equal the declared ones.
llvm::LogicalResult verifyShapes(mlir::Operation *op);

/// Checks the op's declared result types against `state.results` (the count,
/// and every dimension of a ranked result that is static), emitting
/// "result 0 has shape (2, 9) but the shape rule gives (2, 10)" otherwise.
llvm::LogicalResult checkResultShapes(mlir::Operation *op,
                                      const ShapeInferenceState &state);

/// How many tensor operands an op's elementwise formula takes
/// (GraphElementwise.td): 1 for unary and scalar ops, 2 for binary ops, 0
/// for ops without a formula.
template <typename OpT, typename = void> struct FormulaOperands {
  static constexpr int value = 0;
};
template <typename OpT>
struct FormulaOperands<OpT, std::void_t<decltype(OpT::kFormulaOperands)>> {
  static constexpr int value = OpT::kFormulaOperands;
};

namespace detail {
template <typename OpT> struct OpTag {
  using type = OpT;
};
template <typename... Ops, typename Fn> bool visitFormulaOps(mlir::Operation *op, Fn &&fn) {
  bool found = false;
  auto one = [&](auto tag) {
    using OpT = typename decltype(tag)::type;
    if constexpr (FormulaOperands<OpT>::value != 0)
      if (!found && llvm::isa<OpT>(op)) {
        fn(llvm::cast<OpT>(op));
        found = true;
      }
  };
  (one(OpTag<Ops>{}), ...);
  return found;
}
} // namespace detail

/// Calls `fn(concreteOp)` when `op` is an elementwise op defined by a formula
/// (`fn` is a generic lambda; FormulaOperands tells the kind) and returns
/// whether it was one.
template <typename Fn> bool visitFormulaOp(mlir::Operation *op, Fn &&fn) {
  if (!op->hasTrait<GraphElementwise>() && !op->hasTrait<GraphBroadcastElementwise>())
    return false;
  return detail::visitFormulaOps<
#define GET_OP_LIST
#include "Graph/GraphOps.cpp.inc"
      >(op, std::forward<Fn>(fn));
}

/// Formats a shape the way diagnostics print it: "(2, 3)", "?" for dynamic.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace kiln::graph

#endif // KILN_GRAPH_GRAPHOPS_H
