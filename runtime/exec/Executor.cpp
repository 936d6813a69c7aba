//===- exec/Executor.cpp - PlanExecutor -----------------------------------===//

#include "runtime/exec/Executor.h"

#include "kiln/Error.h"
#include "kiln/Tensor.h"
#include "runtime/engine/Engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace kiln;
using namespace kiln::exec;

/// What a step needs at run time, resolved once: arena and constant
/// pointers are fixed, caller buffers are patched in per run.
struct PlanExecutor::StepState {
  KernelFn fn = nullptr;
  std::vector<void *> buffers;
  struct External {
    uint32_t arg;
    SlotKind kind;
    int64_t index;
  };
  std::vector<External> externals;
  std::vector<rt::VarHandle> reads, writes;
  /// Plan::outputSlots indices of the outputs this step writes.
  std::vector<uint32_t> outputsWritten;
  rt::OpInfo info;
  /// KILN_PROFILE: wall time spent in this step's kernel, summed over runs.
  std::atomic<int64_t> nanoseconds{0};
};

/// KILN_PROFILE=1 makes every executor time its kernels and print where the
/// time went when it is destroyed (stderr): the cheapest way to find the
/// kernel worth optimizing without a JIT-aware profiler.
static bool profilingEnabled() {
  static const bool enabled = [] {
    const char *v = std::getenv("KILN_PROFILE");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

static std::string shapesOf(const Plan &p, const Step &s) {
  std::string out;
  for (size_t a = 0; a < s.args.size(); ++a) {
    if (a == s.numInputs)
      out += " ->";
    const Slot &sl = p.slots[s.args[a]];
    out += (a == 0 || a == s.numInputs ? " " : ", ") + sl.name + "=" + formatShape(sl.shape) +
           ":" + dtypeName(sl.dtype);
  }
  return out.empty() ? out : out.substr(1);
}

static void *alignedAlloc(int64_t alignment, int64_t bytes) {
  if (bytes == 0)
    return nullptr;
  size_t a = std::max<size_t>(alignment, alignof(std::max_align_t));
  size_t n = (bytes + a - 1) / a * a; // aligned_alloc wants a multiple
  void *p = std::aligned_alloc(a, n);
  if (!p)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for the plan");
  // Fault every page in now, once, instead of inside the first run.
  std::memset(p, 0, n);
  return p;
}

PlanExecutor::PlanExecutor(Plan plan, std::vector<KernelFn> kernelFns, rt::Engine *eng)
    : thePlan(std::move(plan)), kernels(std::move(kernelFns)),
      engine(eng ? eng : &rt::Engine::get()) {
  const Plan &p = thePlan;
  validatePlan(p);
  if (kernels.size() != p.kernelNames.size())
    throw Error("plan names " + std::to_string(p.kernelNames.size()) + " kernels but " +
                std::to_string(kernels.size()) + " kernel functions were given");
  for (size_t i = 0; i < kernels.size(); ++i)
    if (!kernels[i])
      throw Error("no kernel function for '" + p.kernelNames[i] + "'");

  arenaSize = p.arenaBytes;
  arena = alignedAlloc(p.alignment, arenaSize);
  int64_t constBytes = 0;
  for (const Constant &c : p.constants) {
    constantOffsets.push_back(constBytes);
    constBytes += ((int64_t)c.data.size() + p.alignment - 1) / p.alignment * p.alignment;
  }
  try {
    constantBlock = alignedAlloc(p.alignment, constBytes);
  } catch (...) {
    std::free(arena);
    throw;
  }
  for (size_t i = 0; i < p.constants.size(); ++i)
    if (!p.constants[i].data.empty())
      std::memcpy(static_cast<uint8_t *>(constantBlock) + constantOffsets[i],
                  p.constants[i].data.data(), p.constants[i].data.size());

  for (size_t i = 0; i < p.storages.size(); ++i)
    vars.push_back(engine->newVariable());

  std::vector<bool> written(p.storages.size(), false);
  for (const Step &s : p.steps) {
    auto st = std::make_unique<StepState>();
    st->fn = kernels[s.kernel];
    st->buffers.resize(s.args.size());
    for (size_t a = 0; a < s.args.size(); ++a) {
      uint32_t storage = p.slots[s.args[a]].storage;
      const Storage &sto = p.storages[storage];
      if (sto.kind == SlotKind::Arena || sto.kind == SlotKind::Constant)
        st->buffers[a] = storagePointer(storage);
      else
        st->externals.push_back({(uint32_t)a, sto.kind, sto.index});
    }
    for (size_t a = s.numInputs; a < s.args.size(); ++a) {
      const Storage &sto = p.storages[p.slots[s.args[a]].storage];
      if (sto.kind == SlotKind::Output)
        st->outputsWritten.push_back(static_cast<uint32_t>(sto.index));
    }
    for (uint32_t r : s.reads)
      st->reads.push_back(vars[r]);
    for (uint32_t w : s.writes) {
      st->writes.push_back(vars[w]);
      written[w] = true;
    }
    st->info.opName = s.opName + " [" + p.kernelNames[s.kernel] + "]";
    st->info.nodeName = s.nodeName;
    st->info.shapes = shapesOf(p, s);
    steps.push_back(std::move(st));
  }
  for (size_t i = 0; i < written.size(); ++i)
    if (written[i])
      writtenStorages.push_back((uint32_t)i);
}

PlanExecutor::~PlanExecutor() {
  if (profilingEnabled() && numRuns > 0)
    printProfile();
  // run() returns only after every step it pushed has finished (each step
  // writes a storage it waits on), so nothing can touch the arena now.
  for (rt::VarHandle v : vars)
    engine->deleteVariable(v);
  std::free(arena);
  std::free(constantBlock);
}

void *PlanExecutor::storagePointer(uint32_t storage) const {
  const Storage &s = thePlan.storages[storage];
  if (s.kind == SlotKind::Arena)
    return static_cast<uint8_t *>(arena) + s.index;
  return static_cast<uint8_t *>(constantBlock) + constantOffsets[s.index];
}

static void checkBuffers(const Plan &p, const std::vector<uint32_t> &slots, size_t given,
                         const char *what) {
  if (given == slots.size())
    return;
  std::string names;
  for (uint32_t s : slots)
    names += (names.empty() ? "'" : ", '") + p.slots[s].name + "'";
  throw Error("the model takes " + std::to_string(slots.size()) + " " + what +
              (names.empty() ? "" : " (" + names + ")") + " but " + std::to_string(given) +
              " were given");
}

void PlanExecutor::run(const std::vector<const void *> &inputs,
                       const std::vector<const void *> &params,
                       const std::vector<void *> &outputs) {
  const Plan &p = thePlan;
  checkBuffers(p, p.inputSlots, inputs.size(), "inputs");
  checkBuffers(p, p.paramSlots, params.size(), "parameters");
  checkBuffers(p, p.outputSlots, outputs.size(), "outputs");
  auto pointerFor = [&](SlotKind kind, int64_t i) -> void * {
    switch (kind) {
    case SlotKind::Input: return const_cast<void *>(inputs[i]);
    case SlotKind::Param: return const_cast<void *>(params[i]);
    case SlotKind::Output: return outputs[i];
    default: return nullptr;
    }
  };
  auto checkNull = [&](const std::vector<uint32_t> &slots, auto &bufs, const char *what) {
    for (size_t i = 0; i < slots.size(); ++i)
      if (!bufs[i] && p.slots[slots[i]].bytes > 0)
        throw Error(std::string(what) + " #" + std::to_string(i) + " ('" +
                    p.slots[slots[i]].name + "') is a null buffer");
  };
  checkNull(p.inputSlots, inputs, "input");
  checkNull(p.paramSlots, params, "parameter");
  checkNull(p.outputSlots, outputs, "output");

  std::lock_guard<std::mutex> lock(runMutex);
  ++numRuns;
  // The previous run has finished (run waits), so no step is reading these
  // pointer tables while they are patched.
  for (auto &st : steps)
    for (const StepState::External &e : st->externals)
      st->buffers[e.arg] = pointerFor(e.kind, e.index);
  const std::function<void(uint32_t)> *hook = outputHook ? &outputHook : nullptr;
  for (auto &st : steps) {
    StepState *s = st.get();
    if (profilingEnabled()) {
      engine->push(
          [s, hook](const rt::RunContext &) {
            auto t0 = std::chrono::steady_clock::now();
            s->fn(s->buffers.data());
            s->nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - t0)
                                  .count();
            if (hook)
              for (uint32_t o : s->outputsWritten)
                (*hook)(o);
          },
          s->reads, s->writes, rt::Device::cpu(), 0, s->info);
      continue;
    }
    engine->push(
        [s, hook](const rt::RunContext &) {
          s->fn(s->buffers.data());
          if (hook)
            for (uint32_t o : s->outputsWritten)
              (*hook)(o);
        },
        s->reads, s->writes, rt::Device::cpu(), 0, s->info);
  }
  // Every step writes some storage, so waiting for the writes of every
  // written storage waits for every step. Keep waiting after a failure so no
  // variable is left failed for the next run; report the first one.
  std::string firstError;
  for (uint32_t w : writtenStorages) {
    try {
      engine->waitForVar(vars[w]);
    } catch (const Error &e) {
      if (firstError.empty())
        firstError = e.what();
    }
  }
  if (!firstError.empty())
    throw Error(firstError);
}

void PlanExecutor::runOnThisThread(const void *const *inputs, const void *const *params,
                                   void *const *outputs) {
  std::lock_guard<std::mutex> lock(runMutex);
  ++numRuns;
  bool profile = profilingEnabled();
  for (auto &st : steps) {
    for (const StepState::External &e : st->externals)
      st->buffers[e.arg] = e.kind == SlotKind::Input   ? const_cast<void *>(inputs[e.index])
                           : e.kind == SlotKind::Param ? const_cast<void *>(params[e.index])
                                                       : outputs[e.index];
    auto t0 = std::chrono::steady_clock::now();
    st->fn(st->buffers.data());
    if (profile)
      st->nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count();
    if (outputHook)
      for (uint32_t o : st->outputsWritten)
        outputHook(o);
  }
}

/// Prints the steps' kernel times, most expensive first.
void PlanExecutor::printProfile() const {
  const Plan &p = thePlan;
  int64_t runs = numRuns;
  std::vector<size_t> order(steps.size());
  int64_t total = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    order[i] = i;
    total += steps[i]->nanoseconds;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return steps[a]->nanoseconds > steps[b]->nanoseconds;
  });
  std::fprintf(stderr, "kiln profile: %zu steps, %lld runs, %.3f ms of kernel time per run\n",
               steps.size(), (long long)runs, total / 1e6 / runs);
  for (size_t i : order) {
    const Step &s = p.steps[i];
    double ms = steps[i]->nanoseconds / 1e6 / runs;
    std::fprintf(stderr, "  %8.3f ms %5.1f%%  %s  %s  %s\n", ms,
                 total ? 100.0 * steps[i]->nanoseconds / total : 0.0, s.nodeName.c_str(),
                 s.opName.c_str(), shapesOf(p, s).c_str());
  }
}
