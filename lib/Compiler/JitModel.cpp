//===- JitModel.cpp - A model compiled for the CPU and ready to run --===//

#include "Compiler/JitModel.h"

#include "Compiler/Executable.h"
#include "Import/Import.h"
#include "Target/CPU/JIT.h"
#include "kiln/Error.h"
#include "runtime/exec/Executor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include <chrono>

using namespace mlir;

namespace kiln {

JitModel::~JitModel() = default;

std::unique_ptr<JitModel> JitModel::compile(ModuleOp model, MemoryStrategy strategy,
                                           const cpu::JitOptions &jit) {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<JitModel> result(new JitModel());
  OwningOpRef<ModuleOp> module = cast<ModuleOp>(model->clone());
  auto main = module->lookupSymbol<func::FuncOp>("main");
  if (!main)
    throw Error("the model module has no function @main");
  for (unsigned i = 0, e = main.getNumArguments(); i < e; ++i) {
    (argKind(main, i) == ArgKind::Input ? result->inputArgs : result->paramArgs).push_back(i);
    auto type = cast<RankedTensorType>(main.getArgumentTypes()[i]);
    result->argShapes.emplace_back(type.getShape().begin(), type.getShape().end());
  }
  for (Type t : main.getResultTypes()) {
    auto type = cast<RankedTensorType>(t);
    result->outputShapes.emplace_back(type.getShape().begin(), type.getShape().end());
  }

  ExecutableOptions options;
  options.memory.strategy = strategy;
  auto compiled = buildExecutable(*module, options);
  auto kernels = cpu::CPUJit::compile(*compiled.kernels, jit);
  if (!kernels)
    throw Error("compiling the model's kernels failed: " + llvm::toString(kernels.takeError()));
  result->kernels = *kernels;
  result->executor = makePlanExecutor(std::move(compiled.plan), [&](const std::string &name) {
    return result->kernels->lookup(name);
  });
  for (const auto &shape : result->outputShapes)
    result->outputs.emplace_back(shape);
  result->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

const std::vector<Tensor> &JitModel::run(const std::vector<Tensor> &args) {
  if (args.size() != argShapes.size())
    throw Error("the compiled model takes " + std::to_string(argShapes.size()) +
                " arguments, got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].shape != argShapes[i])
      throw Error("argument " + std::to_string(i) + " has shape " + formatShape(args[i].shape) +
                  " but the compiled model needs " + formatShape(argShapes[i]));
  std::vector<const void *> buffers;
  for (const Tensor &t : args)
    buffers.push_back(t.values.data());
  return run(buffers);
}

const std::vector<Tensor> &JitModel::run(const std::vector<const void *> &args) {
  if (args.size() != argShapes.size())
    throw Error("the compiled model takes " + std::to_string(argShapes.size()) +
                " arguments, got " + std::to_string(args.size()));
  std::vector<const void *> inputs, params;
  for (unsigned i : inputArgs)
    inputs.push_back(args[i]);
  for (unsigned i : paramArgs)
    params.push_back(args[i]);
  std::vector<void *> outs;
  for (Tensor &t : outputs)
    outs.push_back(t.values.data());
  executor->run(inputs, params, outs);
  return outputs;
}

void JitModel::runOnThisThread(const void *const *args, void *const *results) {
  std::lock_guard<std::mutex> lock(scratchMutex);
  inputScratch.resize(inputArgs.size());
  paramScratch.resize(paramArgs.size());
  for (size_t i = 0; i < inputArgs.size(); ++i)
    inputScratch[i] = args[inputArgs[i]];
  for (size_t i = 0; i < paramArgs.size(); ++i)
    paramScratch[i] = args[paramArgs[i]];
  executor->runOnThisThread(inputScratch.data(), paramScratch.data(), results);
}

void JitModel::setResultHook(std::function<void(uint32_t)> hook) {
  executor->setOutputHook(std::move(hook));
}

const exec::Plan &JitModel::plan() const { return executor->plan(); }

exec::KernelFn JitModel::kernelFunction(size_t i) const {
  return kernels->lookup(executor->plan().kernelNames[i]);
}

int64_t JitModel::arenaBytes() const { return executor->arenaBytes(); }
size_t JitModel::numKernels() const { return kernels->kernels().size(); }

} // namespace kiln
