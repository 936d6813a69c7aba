//===- Fusion.h - Graph-level fusion groups (kiln-graph-fuse) ---*- C++ -*-===//
//
// The C++ side of kiln-graph-fuse. A fusion group is a producer (convolution,
// fully_connected, deconvolution, batch_norm, pooling or an elementwise op)
// followed by a chain of single-use elementwise / broadcast / view consumers
// (bias, activation, inference BatchNorm, residual add, scalar ops, dropout,
// flatten/reshape/identity). kiln-outline-kernels turns each group into one
// kernel, so the group's intermediates never reach the arena.
//
// Groups are recorded on the ops as `kiln.fusion_group = N : i64` (groups of
// two or more ops only; N counts from 0 per function in program order).
// docs/execution-plan.md ("Fusion") lists what fuses and what does not.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_FUSION_H
#define KILN_TRANSFORMS_FUSION_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace kiln {

/// The attribute naming an op's fusion group.
constexpr const char *kFusionGroupAttr = "kiln.fusion_group";

struct FusionOptions {
  /// Emit a remark on each op whose result ends a chain although a consumer
  /// exists, saying why the consumer was not fused (for lit tests/tuning).
  bool emitRemarks = false;
  /// Upper bound on the ops of one group (0: unbounded).
  unsigned maxGroupSize = 0;
};

using FusionGroup = llvm::SmallVector<mlir::Operation *, 4>;

/// The analysis: groups of two or more graph ops of `func`'s body (each in
/// program order; groups ordered by their first op). Does not modify IR
/// (except for remarks when asked).
std::vector<FusionGroup> computeFusionGroups(mlir::func::FuncOp func,
                                             const FusionOptions &options = {});

struct FusionStats {
  unsigned numGroups = 0;
  /// Ops that joined a producer's group (group size - 1, summed).
  unsigned numFusedOps = 0;
};

/// The pass without a pass manager: drops any old `kiln.fusion_group`
/// attributes of `func`, computes the groups and records them.
FusionStats fuseGraph(mlir::func::FuncOp func, const FusionOptions &options = {});

/// The kernels `func` should be outlined into: one per fusion group (ops with
/// the same `kiln.fusion_group`), one per other graph op; each in program
/// order, and the list ordered by each kernel's last op (where its call goes).
/// Fails with an error if a recorded group cannot become one kernel (its
/// results used before its last op, or ops in another block).
mlir::FailureOr<std::vector<FusionGroup>> collectKernelGroups(mlir::func::FuncOp func);

} // namespace kiln

#endif // KILN_TRANSFORMS_FUSION_H
