//===- MemoryPlan.cpp - Static memory planning (kiln-plan-memory) ---------===//
//
// MXNet's plan_memory.cc rebuilt on a scheduled func.func, with real dtype
// sizes and an arena: see MemoryPlan.h and docs/execution-plan.md.
//
//===----------------------------------------------------------------------===//

#include "Transforms/MemoryPlan.h"

#include <climits>
#include "Transforms/Passes.h"
#include "Graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

#include <algorithm>
#include <climits>
#include <map>

namespace kiln {
#define GEN_PASS_DEF_PLANMEMORY
#include "Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::memplan;

const char *kiln::memoryStrategyName(MemoryStrategy s) {
  switch (s) {
  case MemoryStrategy::Naive: return "naive";
  case MemoryStrategy::InPlace: return "inplace";
  case MemoryStrategy::CoShare: return "coshare";
  case MemoryStrategy::Both: return "both";
  }
  return "?";
}

std::optional<MemoryStrategy> kiln::parseMemoryStrategy(const std::string &name) {
  for (MemoryStrategy s : {MemoryStrategy::Naive, MemoryStrategy::InPlace,
                           MemoryStrategy::CoShare, MemoryStrategy::Both})
    if (name == memoryStrategyName(s))
      return s;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Planner core
//===----------------------------------------------------------------------===//

static int64_t alignUp(int64_t n, int64_t a) { return (n + a - 1) / a * a; }

namespace {
/// One simulation of the schedule with fixed switches, MXNet's order per
/// step: in-place decisions, then fresh requests for the other results, then
/// release of operands that die here, then of results nobody reads. Releasing
/// operands only after the step's requests is what keeps a kernel's output
/// from landing on an input it is still reading (only in-place may alias).
class Simulation {
public:
  Simulation(const Problem &p, int64_t alignment, bool inPlace, bool coShare, int64_t range)
      : p(p), alignment(alignment), inPlace(inPlace), coShare(coShare), range(range) {}

  Assignment run() {
    size_t n = p.tensors.size();
    Assignment a;
    a.storage.assign(n, -1);
    a.offset.assign(n, -1);
    a.inPlaceOf.assign(n, -1);
    a.defStep.assign(n, -1);
    a.lastUseStep.assign(n, -1);
    for (size_t s = 0; s < p.steps.size(); ++s) {
      for (unsigned r : p.steps[s].results)
        a.defStep[r] = a.lastUseStep[r] = (int)s;
      for (unsigned o : p.steps[s].operands)
        a.lastUseStep[o] = std::max(a.lastUseStep[o], (int)s);
    }

    for (size_t s = 0; s < p.steps.size(); ++s) {
      const Problem::Step &step = p.steps[s];
      std::vector<int64_t> taken; // blocks handed to a result in place here
      if (inPlace) {
        for (size_t ri = 0; ri < step.results.size(); ++ri) {
          int pos = ri < step.inPlace.size() ? step.inPlace[ri] : -1;
          if (pos < 0 || pos >= (int)step.operands.size())
            continue;
          unsigned r = step.results[ri], o = step.operands[pos];
          if (p.tensors[r].external || p.tensors[o].external || a.storage[o] < 0)
            continue;
          if (a.lastUseStep[o] != (int)s || p.tensors[o].bytes != p.tensors[r].bytes)
            continue;
          if (std::find(taken.begin(), taken.end(), a.storage[o]) != taken.end())
            continue;
          a.storage[r] = a.storage[o];
          a.inPlaceOf[r] = (int)o;
          taken.push_back(a.storage[o]);
          a.usedInPlace = true;
        }
      }
      for (unsigned r : step.results)
        if (!p.tensors[r].external && a.storage[r] < 0)
          a.storage[r] = request(a, alignUp(p.tensors[r].bytes, alignment));
      // Distinct operands dying here, in operand order (deterministic pool).
      std::vector<unsigned> seen;
      for (unsigned o : step.operands) {
        if (p.tensors[o].external || a.lastUseStep[o] != (int)s)
          continue;
        if (std::find(seen.begin(), seen.end(), o) != seen.end())
          continue;
        seen.push_back(o);
        if (std::find(taken.begin(), taken.end(), a.storage[o]) == taken.end())
          release(a.storage[o]);
      }
      for (unsigned r : step.results)
        if (!p.tensors[r].external && a.lastUseStep[r] == (int)s)
          release(a.storage[r]);
    }

    a.blockBytes = blockBytes;
    int64_t offset = 0;
    for (int64_t b : blockBytes) {
      a.blockOffset.push_back(offset);
      offset += b;
    }
    a.arenaBytes = offset;
    for (size_t t = 0; t < n; ++t)
      if (a.storage[t] >= 0)
        a.offset[t] = a.blockOffset[a.storage[t]];
    a.matchRange = coShare ? range : 0;
    return a;
  }

private:
  /// MXNetGraphAllocator::Request: the smallest free block in
  /// [size, size·range), else the largest in [size/range, size), grown to
  /// `size`; else a new block.
  int64_t request(Assignment &, int64_t size) {
    if (coShare) {
      auto mid = freeBlocks.lower_bound(size);
      auto end = freeBlocks.upper_bound(size * range);
      if (mid != end) {
        int64_t id = mid->second;
        freeBlocks.erase(mid);
        return id;
      }
      auto begin = freeBlocks.lower_bound(size / range);
      if (mid != begin) {
        auto it = std::prev(mid);
        int64_t id = it->second;
        freeBlocks.erase(it);
        blockBytes[id] = std::max(blockBytes[id], size);
        return id;
      }
    }
    blockBytes.push_back(size);
    return (int64_t)blockBytes.size() - 1;
  }

  void release(int64_t block) {
    if (coShare)
      freeBlocks.emplace(blockBytes[block], block);
  }

  const Problem &p;
  int64_t alignment;
  bool inPlace, coShare;
  int64_t range;
  std::vector<int64_t> blockBytes;
  std::multimap<int64_t, int64_t> freeBlocks;
};
} // namespace

Assignment kiln::memplan::solve(const Problem &problem, const MemoryPlanOptions &options) {
  int64_t align = std::max<int64_t>(1, options.alignment);
  int64_t maxRange = std::max<int64_t>(1, options.matchRange);
  std::vector<int64_t> ranges;
  if (options.autoSearchMatchRange)
    for (int64_t r = 1; r <= maxRange; r *= 2)
      ranges.push_back(r);
  if (ranges.empty() || ranges.back() != maxRange)
    ranges.push_back(maxRange);

  // Candidates in preference order; the first smallest wins. `both` may end
  // up with co-sharing alone: turning in-place off is one of its choices,
  // and keeping the better plan makes both ≤ coshare hold by construction
  // (greedy best fit is not monotone in the in-place decisions).
  std::vector<std::pair<bool, bool>> switches; // (inPlace, coShare)
  switch (options.strategy) {
  case MemoryStrategy::Naive: switches = {{false, false}}; break;
  case MemoryStrategy::InPlace: switches = {{true, false}}; break;
  case MemoryStrategy::CoShare: switches = {{false, true}}; break;
  case MemoryStrategy::Both: switches = {{true, true}, {false, true}}; break;
  }
  std::optional<Assignment> best;
  for (auto [ip, cs] : switches) {
    for (int64_t r : cs ? ranges : std::vector<int64_t>{0}) {
      Assignment a = Simulation(problem, align, ip, cs, r).run();
      if (!best || a.arenaBytes < best->arenaBytes)
        best = std::move(a);
    }
  }
  best->strategy = options.strategy;
  return std::move(*best);
}

//===----------------------------------------------------------------------===//
// From a func.func
//===----------------------------------------------------------------------===//

std::optional<int64_t> kiln::tensorBytes(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked || !ranked.hasStaticShape())
    return std::nullopt;
  Type elem = ranked.getElementType();
  if (!elem.isIntOrFloat())
    return std::nullopt;
  int64_t elemBytes = (elem.getIntOrFloatBitWidth() + 7) / 8;
  return ranked.getNumElements() * elemBytes;
}

int64_t FunctionMemoryPlan::storageOf(Value v) const {
  auto it = tensorIds.find(v);
  return it == tensorIds.end() ? -1 : assignment.storage[it->second];
}

int64_t FunctionMemoryPlan::offsetOf(Value v) const {
  auto it = tensorIds.find(v);
  return it == tensorIds.end() ? -1 : assignment.offset[it->second];
}

/// Per result, the operand index it may overwrite, or -1.
static std::vector<int> inPlaceHints(Operation *op) {
  std::vector<int> hints(op->getNumResults(), -1);
  if (auto iface = dyn_cast<graph::InPlaceOpInterface>(op)) {
    for (unsigned i = 0; i < op->getNumResults(); ++i)
      if (std::optional<unsigned> k = iface.getInPlaceOperand(i))
        hints[i] = (int)*k;
    return hints;
  }
  if (auto call = dyn_cast<func::CallOp>(op)) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(op, call.getCalleeAttr());
    if (!callee)
      return hints;
    if (auto attr = callee->getAttrOfType<DenseI64ArrayAttr>("kiln.inplace"))
      for (unsigned i = 0; i < hints.size() && i < attr.size(); ++i)
        hints[i] = attr[i] >= 0 ? (int)attr[i] : -1;
  }
  return hints;
}

FailureOr<FunctionMemoryPlan> kiln::planFunctionMemory(func::FuncOp func,
                                                        const MemoryPlanOptions &options) {
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return func.emitError("memory planning needs a function with one block");
  FunctionMemoryPlan plan;
  Block &body = func.getBody().front();

  auto addTensor = [&](Value v, bool external, Operation *where) -> LogicalResult {
    std::optional<int64_t> bytes = tensorBytes(v.getType());
    if (!bytes)
      return where->emitError() << "memory planning needs statically shaped tensors, got "
                                << v.getType() << " (run kiln-graph-infer-shapes first)";
    plan.tensorIds[v] = plan.problem.tensors.size();
    plan.problem.tensors.push_back({*bytes, external});
    plan.values.push_back(v);
    return success();
  };
  auto isReturned = [](Value v) {
    return llvm::any_of(v.getUsers(), [](Operation *u) { return isa<func::ReturnOp>(u); });
  };

  for (BlockArgument arg : body.getArguments())
    if (failed(addTensor(arg, /*external=*/true, func)))
      return failure();
  for (Operation &op : body) {
    if (isa<func::ReturnOp>(op))
      continue;
    // Constants are data of the executable, not storage to plan.
    if (op.hasTrait<OpTrait::ConstantLike>()) {
      for (Value r : op.getResults())
        if (failed(addTensor(r, /*external=*/true, &op)))
          return failure();
      continue;
    }
    Problem::Step step;
    for (Value operand : op.getOperands()) {
      auto it = plan.tensorIds.find(operand);
      if (it == plan.tensorIds.end())
        return op.emitError("memory planning: operand is not a tensor defined in the function body");
      step.operands.push_back(it->second);
    }
    for (Value r : op.getResults()) {
      step.results.push_back(plan.problem.tensors.size());
      if (failed(addTensor(r, isReturned(r), &op)))
        return failure();
    }
    step.inPlace = inPlaceHints(&op);
    plan.problem.steps.push_back(std::move(step));
    plan.steps.push_back(&op);
  }
  plan.assignment = solve(plan.problem, options);
  return plan;
}

std::vector<memplan::StepMemory> memplan::memoryTimeline(const Problem &problem,
                                                        const Assignment &assignment,
                                                        int64_t alignment) {
  size_t n = problem.steps.size();
  std::vector<StepMemory> timeline(n);
  // Difference arrays: a tensor (or block) adds its bytes from the step that
  // defines it to the last step that reads it.
  std::vector<int64_t> liveDelta(n + 1, 0), naiveDelta(n + 1, 0);
  std::vector<int> blockFirst(assignment.blockBytes.size(), INT_MAX),
      blockLast(assignment.blockBytes.size(), -1);
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    if (problem.tensors[t].external || assignment.storage[t] < 0 || assignment.defStep[t] < 0)
      continue;
    int def = assignment.defStep[t], last = std::max(def, assignment.lastUseStep[t]);
    int64_t bytes = llvm::alignTo(problem.tensors[t].bytes, alignment);
    liveDelta[def] += bytes;
    liveDelta[last + 1] -= bytes;
    naiveDelta[def] += bytes;
    int64_t block = assignment.storage[t];
    blockFirst[block] = std::min(blockFirst[block], def);
    blockLast[block] = std::max(blockLast[block], last);
  }
  int64_t live = 0, naive = 0;
  for (size_t s = 0; s < n; ++s) {
    live += liveDelta[s];
    naive += naiveDelta[s];
    timeline[s].liveBytes = live;
    timeline[s].naiveBytes = naive;
  }
  for (size_t b = 0; b < assignment.blockBytes.size(); ++b)
    for (int s = std::max(blockFirst[b], 0); s <= blockLast[b] && s < int(n); ++s)
      timeline[s].arenaInUse = std::max(timeline[s].arenaInUse,
                                        assignment.blockOffset[b] + assignment.blockBytes[b]);
  return timeline;
}

FailureOr<MemoryReport> kiln::computeMemoryReport(func::FuncOp func,
                                                  const MemoryPlanOptions &options) {
  FailureOr<FunctionMemoryPlan> plan = planFunctionMemory(func, options);
  if (failed(plan))
    return failure();
  MemoryReport report;
  MemoryPlanOptions o = options;
  auto bytes = [&](MemoryStrategy s) {
    o.strategy = s;
    return solve(plan->problem, o).arenaBytes;
  };
  report.naive = bytes(MemoryStrategy::Naive);
  report.inplace = bytes(MemoryStrategy::InPlace);
  report.coshare = bytes(MemoryStrategy::CoShare);
  report.both = bytes(MemoryStrategy::Both);
  return report;
}

//===----------------------------------------------------------------------===//
// kiln-plan-memory
//===----------------------------------------------------------------------===//

namespace {
struct PlanMemoryPass : kiln::impl::PlanMemoryBase<PlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Kernel bodies are planned by their lowering, not here.
    if (func.isExternal() || func->hasAttr("kiln.kernel"))
      return;
    std::optional<MemoryStrategy> s = parseMemoryStrategy(strategy);
    if (!s) {
      func.emitError() << "kiln-plan-memory: unknown strategy '" << strategy
                       << "' (naive, inplace, coshare or both)";
      return signalPassFailure();
    }
    MemoryPlanOptions options;
    options.strategy = *s;
    FailureOr<FunctionMemoryPlan> plan = planFunctionMemory(func, options);
    if (failed(plan))
      return signalPassFailure();
    FailureOr<MemoryReport> report = computeMemoryReport(func, options);
    if (failed(report))
      return signalPassFailure();

    Builder b(func.getContext());
    for (Operation *op : plan->steps) {
      SmallVector<int64_t> storages, offsets;
      for (Value r : op->getResults()) {
        storages.push_back(plan->storageOf(r));
        offsets.push_back(plan->offsetOf(r));
      }
      op->setAttr("kiln.storage", b.getDenseI64ArrayAttr(storages));
      op->setAttr("kiln.offset", b.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr("kiln.arena_bytes", b.getI64IntegerAttr(plan->assignment.arenaBytes));
    func->setAttr("kiln.memory_report",
                  b.getDictionaryAttr({b.getNamedAttr("naive", b.getI64IntegerAttr(report->naive)),
                                       b.getNamedAttr("inplace", b.getI64IntegerAttr(report->inplace)),
                                       b.getNamedAttr("coshare", b.getI64IntegerAttr(report->coshare)),
                                       b.getNamedAttr("both", b.getI64IntegerAttr(report->both))}));
    numTensors += plan->problem.tensors.size();
    arenaBytes += plan->assignment.arenaBytes;
  }
};
} // namespace
