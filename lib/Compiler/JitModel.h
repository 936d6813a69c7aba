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

#include "Transforms/MemoryPlan.h"
#include "kiln/Tensor.h"

#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <vector>

namespace kiln {
namespace exec {
class PlanExecutor;
}
namespace cpu {
class CompiledModule;
}

class JitModel {
public:
  /// Compiles the `main` function of `model` (left untouched: the work is
  /// done on a clone). Throws kiln::Error naming the op at fault.
  static std::unique_ptr<JitModel> compile(mlir::ModuleOp model,
                                                MemoryStrategy strategy = MemoryStrategy::Both);
  ~JitModel();

  /// Runs the model. `args` holds one tensor per function argument, in
  /// argument order (inputs, parameters, aux states), each of the
  /// argument's shape; returns one tensor per function result. The results
  /// live in the model and are overwritten by the next run: allocating them
  /// once avoids the first-touch page faults of fresh buffers on every run.
  const std::vector<Tensor> &run(const std::vector<Tensor> &args);

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
  double seconds = 0;
};

} // namespace kiln

#endif // KILN_COMPILER_JITMODEL_H
