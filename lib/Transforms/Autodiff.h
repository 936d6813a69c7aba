//===- Autodiff.h - Training mode and automatic differentiation -*- C++ -*-===//
//
// C++ entry points of kiln-graph-training-mode and kiln-autodiff, for code
// that transforms a model function without a pass manager (the Executor,
// kiln-run --train/--backward, kiln-compile --train). docs/autodiff.md
// describes both rewrites, the function layout they produce and every
// gradient rule.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_AUTODIFF_H
#define KILN_TRANSFORMS_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// Function attribute (unit) set by applyTrainingMode: the function is in
/// training mode, so a second application is a no-op.
inline constexpr const char *kTrainingModeAttr = "graph.training";
/// Function attribute (unit) set by differentiate.
inline constexpr const char *kDifferentiatedAttr = "graph.differentiated";
/// `graph.kind` of the arguments and results the rewrites add.
inline constexpr const char *kRngCounterKind = "rng_counter";
inline constexpr const char *kHeadGradKind = "head_grad";
inline constexpr const char *kGradKind = "grad";
inline constexpr const char *kOutputKind = "output";
inline constexpr const char *kAuxKind = "aux";

struct TrainingModeOptions {
  /// Base seed of the random ops: the k-th Dropout / rrelu of the function
  /// (in program order, from 0) gets seed + k.
  uint64_t seed = 0;
};

/// Rewrites `func` (a model function: inputs, params, aux states → heads)
/// to training mode, in place:
/// - batch_norm without use_global_stats → batch_norm_train, and the moving
///   statistics m·moving + (1 − m)·batch become extra results;
/// - Dropout (mode training or always, p > 0) → x · dropout_mask(counter);
/// - LeakyReLU rrelu → max(x, 0) + a·min(x, 0), a = random_uniform(counter)
///   in [lower_bound, upper_bound);
/// - when a random op was created, a `tensor<1xf32>` argument
///   {graph.name = "rng_counter", graph.kind = "rng_counter"} is appended
///   (the iteration number; one run draws one set of random numbers);
/// - heads get `graph.kind = "output"`, and one result per aux argument is
///   appended, in aux-argument order, {graph.kind = "aux", graph.name =
///   <name>}: its updated value, or the argument unchanged when nothing
///   updates it.
/// Sets kTrainingModeAttr; a function that has it is left alone. Fails (with
/// an op error) when a Dropout or rrelu input has no static shape.
mlir::LogicalResult applyTrainingMode(mlir::func::FuncOp func,
                                      const TrainingModeOptions &options = {});

struct AutodiffOptions {
  /// `graph.name`s of the arguments to differentiate with respect to, any
  /// order (results follow argument order). Empty: every argument of kind
  /// "param". Inputs may be named; aux states, the RNG counter and unknown
  /// names are errors.
  std::vector<std::string> wrt;
  /// Passed on to applyTrainingMode.
  uint64_t seed = 0;
};

/// Turns the model function `func` into its forward+backward function, in
/// place. Applies training mode first (unless already applied) and infers
/// shapes (every shape must be known). The results become, in order:
/// - the original heads (`graph.kind = "output"`);
/// - the gradient of every differentiated argument, in argument order
///   (`graph.kind = "grad"`, `graph.name = <argument name>`); one nothing
///   depends on is zeros;
/// - the updated aux states of training mode (`graph.kind = "aux"`).
/// Loss heads (isLossHead) use their built-in gradient. Every other head
/// takes its gradient from a new argument appended at the end, of the head's
/// type, {graph.name = "<head name>_grad", graph.kind = "head_grad"}, in
/// head order. Gradients reaching a value along several uses are summed.
/// Fails with a diagnostic naming the op or argument at fault.
mlir::LogicalResult differentiate(mlir::func::FuncOp func, const AutodiffOptions &options = {});

/// Ops with Graph_LossHeadTrait (SoftmaxOutput, the regression outputs,
/// MakeLoss): heads whose backward ignores the head gradient.
bool isLossHead(mlir::Operation *op);

} // namespace kiln

#endif // KILN_TRANSFORMS_AUTODIFF_H
