//===- JitModel.h - A model compiled for the CPU and ready to run ----*- C++ -*-===//
//
// The JIT path end to end: a graph-dialect model function is outlined into
// kernels and planned (Executable.h), the kernels are compiled by the CPU JIT
// (Target/CPU/JIT.h), and the plan runs on the dependency engine
// (runtime/exec/Executor.h) with an arena allocated once.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_JITMODEL_H
#define KILN_COMPILER_JITMODEL_H

#include "Target/CPU/JIT.h"
#include "Transforms/MemoryPlan.h"
#include "kiln/Tensor.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace kiln {
namespace exec {
class PlanExecutor;
struct Plan;
using KernelFn = void (*)(void **buffers);
}

class JitModel {
public:
  /// Compiles the `main` function of `model` (left untouched: the work is
  /// done on a clone). Throws kiln::Error naming the op at fault.
  /// `jit` picks the CPU pipeline's options (the default: tiled,
  /// vectorized, packed GEMMs).
  static std::unique_ptr<JitModel> compile(mlir::ModuleOp model,
                                           MemoryStrategy strategy = MemoryStrategy::Both,
                                           const cpu::JitOptions &jit = cpu::JitOptions());
  ~JitModel();

  /// Runs the model. `args` holds one tensor per function argument, in
  /// argument order (inputs, parameters, aux states), each of the
  /// argument's shape; returns one tensor per function result. The results
  /// live in the model and are overwritten by the next run: allocating them
  /// once avoids the first-touch page faults of fresh buffers on every run.
  const std::vector<Tensor> &run(const std::vector<Tensor> &args);

  /// run() with argument buffers in function-argument order (no Tensors,
  /// so callers need not copy into them); results as run()'s.
  const std::vector<Tensor> &run(const std::vector<const void *> &args);

  /// The model's own result buffers (run() writes them), for callers that
  /// pass some of them to runOnThisThread.
  std::vector<Tensor> &resultTensors() { return outputs; }

  /// run() on raw buffers and on the calling thread, without the engine and
  /// without copies: args[i] is function argument i's buffer, results[j]
  /// receives result j. For callers that order their runs themselves (eager
  /// calls and asynchronous Executor calls are one engine op each); runs of
  /// one model from several threads take turns.
  void runOnThisThread(const void *const *args, void *const *results);

  const std::vector<std::vector<int64_t>> &argumentShapes() const { return argShapes; }
  /// The plan, and the function argument behind its i-th input / param
  /// slot, and its kernels: for callers that run a one-step plan directly.
  const exec::Plan &plan() const;
  unsigned inputArgument(size_t i) const { return inputArgs[i]; }
  unsigned paramArgument(size_t i) const { return paramArgs[i]; }
  exec::KernelFn kernelFunction(size_t i) const;
  const std::vector<std::vector<int64_t>> &resultShapes() const { return outputShapes; }

  /// See exec::PlanExecutor::setOutputHook: `hook(j)` runs once result j
  /// is final during a run (on the engine thread that computed it).
  void setResultHook(std::function<void(uint32_t result)> hook);

  double compileSeconds() const { return seconds; }
  int64_t arenaBytes() const;
  size_t numKernels() const;

private:
  JitModel() = default;

  std::shared_ptr<const cpu::CompiledModule> kernels;
  std::unique_ptr<exec::PlanExecutor> executor;
  /// Function-argument index of each plan input and param slot, in order.
  std::vector<unsigned> inputArgs, paramArgs;
  std::vector<std::vector<int64_t>> argShapes, outputShapes;
  std::vector<Tensor> outputs;
  /// runOnThisThread's inputs and params in plan order (reused, no allocation).
  std::vector<const void *> inputScratch, paramScratch;
  std::mutex scratchMutex;
  double seconds = 0;
};

} // namespace kiln

#endif // KILN_COMPILER_JITMODEL_H
