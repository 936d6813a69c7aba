//===- Fusion.cpp - kiln-graph-fuse ---------------------------------------===//
//
// Greedy, program-order grouping: each graph op not yet in a group that can
// produce (see isProducer) starts a chain; the chain's last value is followed
// while it has exactly one user and that user is an epilogue op reading it
// elementwise (see epilogueReason). Nothing is recomputed, so a value with
// several users always ends its chain.
//
//===----------------------------------------------------------------------===//

#include "Transforms/Fusion.h"
#include "Graph/GraphOps.h"
#include "Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <map>

namespace kiln {
#define GEN_PASS_DEF_GRAPHFUSE
#include "Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
namespace g = kiln::graph;

static bool isGraphOp(Operation *op) {
  return op->getDialect() && isa<g::GraphDialect>(op->getDialect());
}

/// Ops that read every operand elementwise (same index as the output) and
/// write one result of the data operand's shape: Graph_ElementwiseTrait, and
/// LeakyReLU (whose prelu gamma is per channel; see epilogueReason).
static bool isElementwise(Operation *op) {
  return op->hasTrait<g::GraphElementwise>() || isa<g::LeakyReLUOp, g::LeakyReLUGradOp>(op);
}

static bool isBroadcastBinary(Operation *op) {
  return op->hasTrait<g::GraphBroadcastElementwise>();
}

/// Producers with several results (training BatchNorm and its gradient):
/// the chain follows result 0 (the normalized data / the data gradient); the
/// other results (batch statistics, parameter gradients) leave the kernel as
/// extra outputs.
static bool isMultiResultProducer(Operation *op) {
  return isa<g::BatchNormTrainOp, g::BatchNormGradOp>(op);
}

static bool isView(Operation *op) { return isa<g::FlattenOp, g::ReshapeOp, g::IdentityOp>(op); }

/// Dropout is the identity at inference; `mode = always` draws random
/// numbers (the lowering rejects it), so it is left alone.
static bool isInferenceDropout(Operation *op) {
  auto d = dyn_cast<g::DropoutOp>(op);
  return d && d.getMode() != g::DropoutMode::always;
}

/// Ops that may start a group.
static bool isProducer(Operation *op) {
  return isa<g::ConvolutionOp, g::FullyConnectedOp, g::DeconvolutionOp, g::BatchNormOp,
             g::PoolingOp, g::DotOp, g::PoolingGradOp>(op) ||
         isMultiResultProducer(op) || isElementwise(op) || isBroadcastBinary(op) || isView(op) ||
         isInferenceDropout(op);
}

/// Null if `user` may be appended to a chain whose last value is `v` (as far
/// as the op kind and operand position go), else why not.
static const char *epilogueReason(Operation *user, Value v) {
  if (user->getNumResults() != 1)
    return "has several results";
  Value out = user->getResult(0);
  // Every operand is read at the output's index (equal shapes).
  if (user->hasTrait<g::GraphElementwise>())
    return nullptr;
  if (isa<g::LeakyReLUOp, g::FlattenOp, g::ReshapeOp>(user) || isInferenceDropout(user))
    return user->getOperand(0) == v ? nullptr : "reads the value as a parameter, not as data";
  if (auto lg = dyn_cast<g::LeakyReLUGradOp>(user))
    return lg.getGamma() == v ? "reads the value as prelu's per-channel gamma" : nullptr;
  if (isa<g::BatchNormOp>(user)) {
    // Inference BatchNorm is a per-channel affine map of its data.
    for (unsigned i = 1; i < user->getNumOperands(); ++i)
      if (user->getOperand(i) == v)
        return "reads the value as a parameter, not as data";
    return nullptr;
  }
  if (isBroadcastBinary(user))
    // The chain value must be the full-size operand; the other one (a bias,
    // a per-channel scale) broadcasts into it.
    return out.getType() == v.getType() ? nullptr
                                        : "would broadcast the fused value (it is not the "
                                          "full-size operand)";
  if (isa<g::DropoutOp>(user))
    return "is a dropout with mode=always (random)";
  if (isa<g::SoftmaxOp, g::LogSoftmaxOp, g::SoftmaxActivationOp, g::SoftmaxOutputOp>(user))
    return "is a softmax (reads a whole axis), not an elementwise epilogue";
  if (isa<g::SumOp, g::MeanOp, g::MaxOp, g::MinOp>(user))
    return "is a reduction, not an elementwise epilogue";
  if (isa<g::PoolingOp, g::PoolingGradOp>(user))
    return "is a pooling (reads a window), not an elementwise epilogue";
  if (isa<g::SoftmaxGradOp, g::BatchNormGradOp, g::BatchNormTrainOp>(user))
    return "reduces over the value (softmax_grad, batch statistics), not an elementwise epilogue";
  return "is not an elementwise epilogue";
}

namespace {
/// Block positions, so "before" and "depends on" are cheap.
struct BlockOrder {
  llvm::DenseMap<Operation *, unsigned> pos;
  explicit BlockOrder(Block &block) {
    unsigned i = 0;
    for (Operation &op : block)
      pos[&op] = i++;
  }
  unsigned of(Operation *op) const { return pos.lookup(op); }
};
} // namespace

/// Whether `v` is computed (transitively) from an op of `group`. Only ops at
/// or after the group's first op can be; the walk stops before it.
static bool dependsOnGroup(Value v, const llvm::SmallPtrSetImpl<Operation *> &group,
                           unsigned firstPos, const BlockOrder &order) {
  SmallVector<Operation *> work;
  llvm::SmallPtrSet<Operation *, 16> seen;
  auto push = [&](Value x) {
    Operation *d = x.getDefiningOp();
    if (d && order.pos.count(d) && order.of(d) >= firstPos && seen.insert(d).second)
      work.push_back(d);
  };
  push(v);
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (group.contains(op))
      return true;
    for (Value o : op->getOperands())
      push(o);
  }
  return false;
}

std::vector<FusionGroup> kiln::computeFusionGroups(func::FuncOp func,
                                                   const FusionOptions &options) {
  std::vector<FusionGroup> groups;
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return groups;
  Block &body = func.getBody().front();
  BlockOrder order(body);
  llvm::SmallPtrSet<Operation *, 32> assigned;
  auto remark = [&](Operation *op, const Twine &why) {
    if (options.emitRemarks)
      op->emitRemark() << "not fused with its consumer: " << why;
  };

  for (Operation &first : body) {
    if (!isGraphOp(&first) || assigned.contains(&first) || !isProducer(&first))
      continue;
    FusionGroup group{&first};
    llvm::SmallPtrSet<Operation *, 8> inGroup{&first};
    unsigned firstPos = order.of(&first);
    Operation *tail = &first;
    // With a multi-result producer the other results are read by ops that
    // may sit between the producer and its epilogue (the moving-average
    // updates after batch_norm_train): fuseGraph moves the epilogues up next
    // to the producer, so each must depend on nothing defined after it.
    bool sideResults = first.getNumResults() > 1;
    while (true) {
      if (options.maxGroupSize && group.size() >= options.maxGroupSize)
        break;
      if (tail->getNumResults() != 1 && !(tail == &first && isMultiResultProducer(tail)))
        break;
      Value v = tail->getResult(0);
      if (v.use_empty())
        break;
      llvm::SmallPtrSet<Operation *, 4> users(v.getUsers().begin(), v.getUsers().end());
      bool returned = llvm::any_of(users, [](Operation *u) { return isa<func::ReturnOp>(u); });
      if (users.size() != 1) {
        // Fusing one consumer would leave the value needed elsewhere: it
        // would still have to be written out, or be recomputed (never done).
        std::string why = returned ? "the result is a graph output also read by another op"
                                   : "the result has " + std::to_string(users.size()) +
                                         " users (fusion never recomputes)";
        // A diamond: say so when a user also reads a value computed from
        // this chain, since fusing it would make the group depend on itself.
        bool diamond = false;
        for (Operation *u : users) {
          if (diamond || isa<func::ReturnOp>(u) || !isGraphOp(u) || epilogueReason(u, v))
            continue;
          for (Value o : u->getOperands())
            if (!diamond && o != v && dependsOnGroup(o, inGroup, firstPos, order)) {
              why += "; fusing '" + u->getName().getStringRef().str() +
                     "' would also need a value computed from this group (a cycle)";
              diamond = true;
            }
        }
        if (llvm::any_of(users, [](Operation *u) { return isGraphOp(u); }))
          remark(tail, why);
        break;
      }
      Operation *user = *users.begin();
      if (returned || !isGraphOp(user) || user->getBlock() != &body)
        break;
      if (assigned.contains(user))
        break;
      if (const char *why = epilogueReason(user, v)) {
        remark(tail, "'" + user->getName().getStringRef() + "' " + why);
        break;
      }
      // Every other operand must be ready without this group: a residual
      // add's other input computed before, a bias, a BatchNorm's params.
      bool cycle = false;
      for (Value o : user->getOperands())
        if (o != v && dependsOnGroup(o, inGroup, firstPos, order))
          cycle = true;
      if (cycle) {
        remark(tail, "'" + user->getName().getStringRef() +
                         "' also reads a value computed from this group (fusing would create a "
                         "cycle)");
        break;
      }
      if (sideResults && llvm::any_of(user->getOperands(), [&](Value o) {
            Operation *d = o.getDefiningOp();
            return o != v && d && d->getBlock() == &body && order.of(d) > firstPos;
          })) {
        remark(tail, "'" + user->getName().getStringRef() +
                         "' also reads a value computed after the multi-result producer (it "
                         "cannot move next to it)");
        break;
      }
      group.push_back(user);
      inGroup.insert(user);
      tail = user;
    }
    if (group.size() < 2)
      continue;
    for (Operation *op : group)
      assigned.insert(op);
    groups.push_back(std::move(group));
  }
  return groups;
}

FusionStats kiln::fuseGraph(func::FuncOp func, const FusionOptions &options) {
  FusionStats stats;
  func.walk([](Operation *op) { op->removeAttr(kFusionGroupAttr); });
  std::vector<FusionGroup> groups = computeFusionGroups(func, options);
  OpBuilder b(func.getContext());
  for (auto [i, group] : llvm::enumerate(groups)) {
    // Make a multi-result producer's group contiguous (see
    // computeFusionGroups), so that its side results are read after the
    // kernel that replaces the group. Graph ops are pure and every moved op
    // depends only on values defined before the producer or in the group.
    if (group.front()->getNumResults() > 1)
      for (size_t k = 1; k < group.size(); ++k)
        group[k]->moveAfter(group[k - 1]);
    for (Operation *op : group)
      op->setAttr(kFusionGroupAttr, b.getI64IntegerAttr(i));
    ++stats.numGroups;
    stats.numFusedOps += group.size() - 1;
  }
  return stats;
}

FailureOr<std::vector<FusionGroup>> kiln::collectKernelGroups(func::FuncOp func) {
  std::vector<FusionGroup> kernels;
  std::map<int64_t, size_t> groupIndex;
  Block &body = func.getBody().front();
  for (Operation &op : body) {
    if (!isGraphOp(&op))
      continue;
    auto id = op.getAttrOfType<IntegerAttr>(kFusionGroupAttr);
    if (!id) {
      kernels.push_back({&op});
      continue;
    }
    auto [it, fresh] = groupIndex.emplace(id.getInt(), kernels.size());
    if (fresh)
      kernels.emplace_back();
    kernels[it->second].push_back(&op);
  }
  for (Operation &op : body)
    if (!isGraphOp(&op) && op.hasAttr(kFusionGroupAttr))
      return op.emitOpError() << "is in a fusion group but is not a graph op";
  BlockOrder order(body);
  // The kernel call replaces the group at its last op: every value the group
  // makes and someone outside reads must be read after that point.
  for (FusionGroup &k : kernels) {
    if (k.size() < 2)
      continue;
    llvm::SmallPtrSet<Operation *, 8> in(k.begin(), k.end());
    unsigned last = order.of(k.back());
    for (Operation *op : k)
      for (Operation *u : op->getUsers())
        if (!in.contains(u) && order.of(u) < last)
          return op->emitOpError()
                 << "fusion group " << op->getAttrOfType<IntegerAttr>(kFusionGroupAttr).getInt()
                 << " cannot become one kernel: its result is read by an op before the group's "
                    "last op";
  }
  llvm::stable_sort(kernels, [&](const FusionGroup &a, const FusionGroup &b) {
    return order.of(a.back()) < order.of(b.back());
  });
  return kernels;
}

namespace {
struct GraphFusePass : kiln::impl::GraphFuseBase<GraphFusePass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func->hasAttr("kiln.kernel"))
      return;
    FusionOptions opts;
    opts.emitRemarks = remarks;
    opts.maxGroupSize = maxGroupSize;
    FusionStats s = fuseGraph(func, opts);
    numGroups += s.numGroups;
    numFusedOps += s.numFusedOps;
  }
};
} // namespace
