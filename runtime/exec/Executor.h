//===- exec/Executor.h - Runs a Plan with compiled kernels -------*- C++ -*-===//
//
// The runtime half of an Executable: a validated Plan plus one kernel
// function per Plan::kernelNames entry. The arena is allocated once, at
// exactly Plan::arenaBytes, touched once, and reused by every run: page
// faults on first touch cost far more than the kernels of a small model, so
// nothing is allocated per run.
//
// Each run pushes every step to the dependency engine (runtime/engine) with
// one engine variable per storage block: tensors that share a block (in
// place or co-shared) are ordered by that variable, exactly how MXNet keeps
// its memory plan safe under a parallel engine without extra edges. A kernel
// that throws fails the run with the op name, node name and shapes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_EXEC_EXECUTOR_H
#define KILN_RUNTIME_EXEC_EXECUTOR_H

#include "runtime/exec/Plan.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace kiln::rt {
class Engine;
namespace detail {
struct Var;
}
} // namespace kiln::rt

namespace kiln::exec {

/// A kernel's packed entry: buffers[i] is the base pointer of its i-th
/// argument, inputs first, then outputs; all dense row-major. An output may
/// be the same pointer as an input when the plan put it in place (the
/// kernel's `kiln.inplace` allowed it).
using KernelFn = void (*)(void **buffers);

class PlanExecutor {
public:
  /// `kernels[i]` runs `plan.kernelNames[i]`. Validates the plan (throws
  /// kiln::Error on an invalid plan, a missing kernel or a count mismatch).
  /// `engine` defaults to the process-wide rt::Engine::get().
  PlanExecutor(Plan plan, std::vector<KernelFn> kernels, rt::Engine *engine = nullptr);
  ~PlanExecutor();
  PlanExecutor(const PlanExecutor &) = delete;
  PlanExecutor &operator=(const PlanExecutor &) = delete;

  /// Runs every step and waits for them. Buffers follow Plan::inputSlots,
  /// paramSlots and outputSlots (dense row-major, each slot's bytes). Throws
  /// kiln::Error on wrong counts or null buffers, and for a failing kernel
  /// with its op name, node name and argument shapes. Concurrent calls on
  /// one executor are serialized (they share the arena).
  void run(const std::vector<const void *> &inputs, const std::vector<const void *> &params,
           const std::vector<void *> &outputs);

  /// The same work on the calling thread, step after step, without the
  /// engine: for callers that have already ordered this run against
  /// everything else (an eager call or an Executor call pushed as one engine
  /// op). The arrays hold one buffer per input, parameter and output slot.
  /// Must not overlap another run of this executor.
  void runOnThisThread(const void *const *inputs, const void *const *params,
                       void *const *outputs);

  /// Called right after each step, on the thread that ran it, with the
  /// index (into Plan::outputSlots) of every output the step wrote: that
  /// output holds its final value for this run. For callers that start work
  /// on a result while the rest of the plan runs (a gradient's reduction
  /// during the backward). It may push engine ops but must not wait for
  /// any. Set it between runs; an empty function removes it.
  void setOutputHook(std::function<void(uint32_t output)> hook) { outputHook = std::move(hook); }

  /// Bytes of the arena allocated at construction: always plan().arenaBytes.
  int64_t arenaBytes() const { return arenaSize; }
  /// The arena's base (stable for the executor's life; null when empty).
  const void *arenaData() const { return arena; }
  const Plan &plan() const { return thePlan; }

private:
  struct StepState;

  void *storagePointer(uint32_t storage) const;

  Plan thePlan;
  std::vector<KernelFn> kernels;
  rt::Engine *engine;
  void *arena = nullptr;
  int64_t arenaSize = 0;
  void *constantBlock = nullptr;
  std::vector<int64_t> constantOffsets;
  std::vector<rt::detail::Var *> vars; // one per storage
  std::vector<std::unique_ptr<StepState>> steps;
  /// Storage ids written by some step: waiting on them waits for every step.
  std::vector<uint32_t> writtenStorages;
  std::mutex runMutex;
  std::function<void(uint32_t)> outputHook;
  /// Runs so far, for the KILN_PROFILE report printed on destruction.
  int64_t numRuns = 0;
  void printProfile() const;
};

} // namespace kiln::exec

#endif // KILN_RUNTIME_EXEC_EXECUTOR_H
