//===- MemoryPlan.h - Static memory planning of intermediates ---*- C++ -*-===//
//
// DESIGN.md: "Memory planning happens once, in the compiler". Given a
// function in schedule (program) order, every intermediate tensor (neither a
// function argument, nor a constant, nor a returned value: those live in
// caller-owned or constant buffers) gets a storage block and a byte offset in
// one arena, with real dtype sizes and 64-byte aligned offsets. Four
// strategies, as in the MXNet paper (Fig. 7) and MXNet's plan_memory.cc
// (shared/notes/mxnet-research.md §7):
//
//   naive    every intermediate its own block
//   inplace  a result takes an operand's block when the op allows it
//            (InPlaceOpInterface, or a kernel's `kiln.inplace`), the operand
//            dies at this op, has the same size, and is itself in the arena
//   coshare  a block released after its last reader is reused by a later
//            tensor: size-matched best fit from a free pool
//   both     inplace + coshare
//
// The planner core works on an MLIR-free Problem so properties can be tested
// on thousands of random DAGs; planFunctionMemory() builds the Problem from a
// func.func. The numbers kiln-compile --memory-report prints and the arena
// the runtime allocates come from the same planFunctionMemory() call.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_MEMORYPLAN_H
#define KILN_TRANSFORMS_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

enum class MemoryStrategy { Naive, InPlace, CoShare, Both };

/// "naive", "inplace", "coshare", "both".
const char *memoryStrategyName(MemoryStrategy s);
std::optional<MemoryStrategy> parseMemoryStrategy(const std::string &name);

struct MemoryPlanOptions {
  MemoryStrategy strategy = MemoryStrategy::Both;
  /// Arena offsets and block sizes are multiples of this (a power of two).
  int64_t alignment = 64;
  /// MXNet's NNVM_EXEC_MATCH_RANGE: a request of S bytes may take a free
  /// block in [S, S·range) or grow one in [S/range, S).
  int64_t matchRange = 16;
  /// MXNet's NNVM_AUTO_SEARCH_MATCH_RANGE: try ranges 1, 2, 4, …, matchRange
  /// and keep the smallest arena.
  bool autoSearchMatchRange = true;
};

namespace memplan {

/// A scheduled graph, reduced to what planning needs.
struct Problem {
  struct Tensor {
    int64_t bytes = 0;
    /// Lives outside the arena: a function argument, a constant or a
    /// returned value.
    bool external = false;
  };
  struct Step {
    std::vector<unsigned> operands; ///< tensor ids, in operand order
    std::vector<unsigned> results;  ///< tensor ids; each defined by one step
    /// Per result: the operand position whose storage it may take, or -1.
    std::vector<int> inPlace;
  };
  std::vector<Tensor> tensors;
  std::vector<Step> steps;
};

/// The planner's answer. Vectors indexed by tensor id hold -1 for tensors
/// outside the arena.
struct Assignment {
  MemoryStrategy strategy = MemoryStrategy::Both;
  int64_t matchRange = 0; ///< the range that produced this plan (0 when unused)
  bool usedInPlace = false;
  std::vector<int64_t> storage;   ///< block id per tensor
  std::vector<int64_t> offset;    ///< arena byte offset per tensor
  std::vector<int> inPlaceOf;     ///< the tensor whose block this one took
  std::vector<int> defStep;       ///< step defining the tensor (-1: external input)
  std::vector<int> lastUseStep;   ///< last step reading it (defStep if unused)
  std::vector<int64_t> blockBytes;  ///< per block, aligned
  std::vector<int64_t> blockOffset; ///< per block
  int64_t arenaBytes = 0;
};

/// Plans `problem` with one strategy (searching match ranges as the options
/// say). Deterministic. Throws nothing; expects a well-formed problem (each
/// tensor defined at most once, operands defined before use).
Assignment solve(const Problem &problem, const MemoryPlanOptions &options);

/// Arena use during one step of a plan (what docs/memory.md draws).
struct StepMemory {
  /// Bytes of the arena tensors alive during the step (defined at or before
  /// it, read at or after it): the least any plan could hold then.
  int64_t liveBytes = 0;
  /// Bytes the naive plan has allocated by the end of the step (every
  /// intermediate defined so far, aligned).
  int64_t naiveBytes = 0;
  /// The end of the highest block of `assignment` in use during the step.
  int64_t arenaInUse = 0;
};

/// One entry per step of `problem`, for the plan `assignment` of it.
std::vector<StepMemory> memoryTimeline(const Problem &problem, const Assignment &assignment,
                                       int64_t alignment = 64);

} // namespace memplan

/// Intermediate bytes under each strategy (SPEC §1.3 --memory-report): each
/// is the arena the runtime would allocate with that strategy, i.e. the sum
/// of the aligned block sizes. `naive` is therefore the sum of every
/// intermediate's size rounded up to the alignment.
struct MemoryReport {
  int64_t naive = 0, inplace = 0, coshare = 0, both = 0;
};

/// A function's memory plan plus the mapping back to its IR.
struct FunctionMemoryPlan {
  memplan::Problem problem;
  memplan::Assignment assignment;
  std::vector<mlir::Operation *> steps; ///< problem.steps[i] is steps[i]
  std::vector<mlir::Value> values;      ///< tensor id -> value
  llvm::DenseMap<mlir::Value, unsigned> tensorIds;

  /// Storage block and offset of `v`, or -1 when it is not in the arena.
  int64_t storageOf(mlir::Value v) const;
  int64_t offsetOf(mlir::Value v) const;
};

/// Plans `func` (one block, ops in schedule order; every tensor statically
/// shaped). Steps are all ops but func.return and constants. An op's
/// in-place permission comes from graph::InPlaceOpInterface, or for a
/// func.call from the callee's `kiln.inplace` attribute (one entry per
/// result: kernel argument index or -1). Emits an error and fails on a
/// dynamic shape or a non-tensor value.
mlir::FailureOr<FunctionMemoryPlan> planFunctionMemory(mlir::func::FuncOp func,
                                                        const MemoryPlanOptions &options = {});

/// Arena bytes under all four strategies (other options as given).
mlir::FailureOr<MemoryReport> computeMemoryReport(mlir::func::FuncOp func,
                                                  const MemoryPlanOptions &options = {});

/// Bytes of a statically shaped tensor type with real element sizes
/// (f16/bf16: 2, f32: 4, f64: 8, iN: ⌈N/8⌉), or std::nullopt.
std::optional<int64_t> tensorBytes(mlir::Type type);

} // namespace kiln

#endif // KILN_TRANSFORMS_MEMORYPLAN_H
