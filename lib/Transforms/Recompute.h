//===- Recompute.h - MXNet's "mirror": recompute cheap activations -*- C++ -*-===//
//
// C++ entry point of kiln-recompute, for code that builds a training
// function without a pass manager (the Executor, kiln-compile --train
// --recompute). docs/memory.md ("Recompute (mirror)") describes the rewrite,
// what it recomputes and what it costs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_RECOMPUTE_H
#define KILN_TRANSFORMS_RECOMPUTE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>

namespace kiln {

/// Function attribute (unit) set by recompute(): a second application is a
/// no-op.
inline constexpr const char *kRecomputedAttr = "graph.recomputed";

struct RecomputeOptions {
  /// Longest chain of ops cloned to recompute one value (counting the
  /// value's own op). A chain that would need more is not recomputed: the
  /// value stays alive from the forward instead.
  unsigned maxDepth = 4;
  /// Whether `batch_norm_train` may be part of a chain (its normalized
  /// output only; the clone recomputes the batch statistics from the same
  /// input, and the aux updates keep reading the forward's). Without it,
  /// BN → relu → conv keeps the relu output, as MXNet's mirror does.
  bool batchNorm = true;
};

struct RecomputeStats {
  /// Forward values whose backward uses now read a recomputed copy.
  unsigned values = 0;
  /// Ops cloned into the backward.
  unsigned ops = 0;
  /// Bytes of those forward values (what no longer has to stay alive from
  /// the forward into the backward, before the planner reuses anything).
  int64_t bytes = 0;
  /// estimateFlops() summed over the cloned ops.
  double flops = 0;
};

/// Rewrites the forward+backward function `func` (kiln-autodiff's result,
/// marked graph.differentiated, in the graph dialect, before fusion) in
/// place. Forward ops are those the heads and the aux results (result
/// `graph.kind` "output" / "aux") depend on; every other op is backward.
/// A forward value that a backward op reads, produced by a cheap op
/// (elementwise, activation, scalar, broadcast, view, dropout mask,
/// batch_norm_train's output), is recomputed: its producing chain is cloned
/// right before its first backward use and every backward use reads the
/// clone, so the forward value dies in the forward. A chain ends at values
/// that stay alive anyway (arguments, returned values, forward values read
/// by a backward op and not recomputed: convolution / fully_connected /
/// pooling outputs, …) or at small values (≤ 1/16 of the recomputed one);
/// values whose chain would end elsewhere, or be longer than
/// options.maxDepth, are not recomputed. Fails (with an error on the
/// function) when `func` is not differentiated.
mlir::FailureOr<RecomputeStats> recompute(mlir::func::FuncOp func,
                                          const RecomputeOptions &options = {});

/// Approximate floating-point operations of one graph op with static
/// shapes: 2·MACs for convolution, deconvolution, convolution_weight_grad,
/// fully_connected and dot; the window size per output element for pooling;
/// 7 per element for batch_norm_train (statistics and normalization), 8 for
/// batch_norm_grad, 3 for batch_norm; one per result element otherwise
/// (views and copies count 0). Used to report recompute's compute cost.
double estimateFlops(mlir::Operation *op);

} // namespace kiln

#endif // KILN_TRANSFORMS_RECOMPUTE_H
