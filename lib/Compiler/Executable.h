//===- Executable.h - Kernels + plan + constants ----------------*- C++ -*-===//
//
// DESIGN.md: "The plan is data". After kiln-outline-kernels the model
// function is a schedule of calls to kernel functions; this file turns it
// into the runtime's exec::Plan (slots, storage blocks from the memory
// planner, steps with read/write sets, constants) and into the module of
// kernel functions the JIT (or AOT) compiles. The only thing that joins the
// two halves is a kernel lookup by name: makePlanExecutor().
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EXECUTABLE_H
#define KILN_COMPILER_EXECUTABLE_H

#include "Transforms/MemoryPlan.h"
#include "runtime/exec/Executor.h"
#include "runtime/exec/Plan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <memory>
#include <string>

namespace kiln {

struct ExecutableOptions {
  /// The model function.
  std::string entry = "main";
  /// Strategy and knobs of the memory plan the runtime will use.
  MemoryPlanOptions memory;
  /// Run kiln-graph-fuse before outlining, so each fusion group becomes one
  /// kernel (skipped when the entry function is already outlined).
  bool fuse = true;
};

/// Builds the plan of `module`'s entry function, which must already be
/// outlined (only constants, calls to `kiln.kernel` functions and the
/// return; every output produced by its own call). Intermediates go to the
/// arena as planFunctionMemory() places them; function arguments become
/// input slots (`graph.kind` "input" or none) or param slots ("param",
/// "aux"), in argument order within each kind; returned values become
/// output slots; constants are copied into the plan. Throws kiln::Error
/// naming the op or node at fault.
exec::Plan buildExecutablePlan(mlir::ModuleOp module, const ExecutableOptions &options = {});

/// A new module with a copy of every kernel function of `module`, made
/// public so the lowering keeps and exports them: what the JIT compiles.
mlir::OwningOpRef<mlir::ModuleOp> extractKernelModule(mlir::ModuleOp module);

/// The compile-side product: the plan plus the kernels still in MLIR.
struct CompiledModel {
  exec::Plan plan;
  mlir::OwningOpRef<mlir::ModuleOp> kernels;
};

/// Fuses (unless disabled) and outlines `module`'s entry function (in place;
/// skipped when it already calls kernels only), plans it and extracts the kernels. Throws
/// kiln::Error with the diagnostics on failure.
CompiledModel buildExecutable(mlir::ModuleOp module, const ExecutableOptions &options = {});

using KernelFn = exec::KernelFn;
/// Given a kernel function's symbol (e.g. "kiln_kernel_3"), returns its
/// packed entry (the JIT's `kiln_kernel_3_packed`), or null if it has none.
using KernelLookup = std::function<KernelFn(const std::string &kernelName)>;

/// The integration point with the JIT: resolves every kernel of `plan`
/// through `lookup` and builds the executor (arena allocated once). Throws
/// kiln::Error naming the first kernel `lookup` cannot provide.
std::unique_ptr<exec::PlanExecutor> makePlanExecutor(exec::Plan plan, const KernelLookup &lookup,
                                                     rt::Engine *engine = nullptr);

} // namespace kiln

#endif // KILN_COMPILER_EXECUTABLE_H
