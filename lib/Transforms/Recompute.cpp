//===- Recompute.cpp - kiln-recompute (MXNet's backward mirror) ----------===//
//
// MXNet's MXNET_BACKWARD_DO_MIRROR on Kiln's forward+backward function: a
// forward value that the backward reads is normally alive from the forward
// until its last backward use, so the activations of every layer are alive
// together at the turn from forward to backward. When the value is cheap to
// recompute from values that are alive then anyway, cloning its producing
// chain just before its first backward use lets the forward value die in the
// forward, for the price of recomputing it.
//
// Which ops are forward: the ones the heads and the aux results depend on
// (autodiff's result kinds "output" and "aux"). Everything else only feeds
// parameter gradients and is backward. This needs no tag from autodiff and
// stays true after this pass (the clones only feed gradients).
//
// Values are decided in program order, so when a chain reaches a value
// defined earlier, whether that value stays alive into the backward ("kept")
// is already known. A chain may only end at values that cost nothing extra
// to keep until its clone runs: function arguments, returned values, kept
// forward values, or values much smaller than the one recomputed (batch
// statistics). Otherwise recomputing would only trade one live tensor for
// another (a relu right after a convolution would keep the convolution's
// output instead of the relu's), so such a value is left alone.
//
// Recomputed values are bit-identical: the clones are the same ops on the
// same inputs, the random ops (dropout_mask, random_uniform) are pure
// functions of their seed and the RNG counter argument, and the clone of a
// batch_norm_train computes the same statistics from the same input with
// the same kernel. Its statistics results stay unused: the moving-average
// updates and batch_norm_grad keep reading the forward's, so nothing is
// updated twice.
//
//===----------------------------------------------------------------------===//

#include "Transforms/Recompute.h"
#include "Graph/GraphOps.h"
#include "Transforms/Autodiff.h"
#include "Transforms/MemoryPlan.h"
#include "Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_GRAPHRECOMPUTE
#include "Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
namespace g = kiln::graph;

static constexpr const char *kKindAttr = "graph.kind";
/// Set by kiln-graph-fuse; a clone must not join the original's group.
static constexpr const char *kFusionGroupAttr = "kiln.fusion_group";

static int64_t numElements(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t.getNumElements() : 0;
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

static ArrayRef<int64_t> shapeOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t.getShape() : ArrayRef<int64_t>();
}

double kiln::estimateFlops(Operation *op) {
  if (op->getNumResults() == 0)
    return 0;
  double out = static_cast<double>(numElements(op->getResult(0)));
  // Products: 2 per multiply-accumulate. A convolution-like op does, per
  // element of its output-channel side, one MAC per weight element of the
  // other channel side times the window (the weight's trailing dims).
  auto weightTail = [](Value w) {
    ArrayRef<int64_t> s = shapeOf(w);
    return s.size() > 1 ? static_cast<double>(product(s.drop_front())) : 0.0;
  };
  if (auto c = dyn_cast<g::ConvolutionOp>(op))
    return 2 * out * weightTail(c.getWeight());
  if (auto d = dyn_cast<g::DeconvolutionOp>(op))
    return 2 * static_cast<double>(numElements(d.getData())) * weightTail(d.getWeight());
  if (auto wg = dyn_cast<g::ConvolutionWeightGradOp>(op))
    return 2 * static_cast<double>(numElements(wg.getOutGrad())) * weightTail(wg.getOutput());
  if (auto fc = dyn_cast<g::FullyConnectedOp>(op)) {
    ArrayRef<int64_t> w = shapeOf(fc.getWeight());
    return w.size() == 2 ? 2 * out * w[1] : 0;
  }
  if (auto dot = dyn_cast<g::DotOp>(op)) {
    ArrayRef<int64_t> a = shapeOf(dot.getLhs());
    if (a.size() != 2)
      return 0;
    return 2 * out * (dot.getTransposeA() ? a[0] : a[1]);
  }
  auto window = [](bool global, ArrayRef<int64_t> kernel, Value data, Value outV) {
    if (global) // every input element once
      return static_cast<double>(numElements(data));
    return static_cast<double>(numElements(outV)) * static_cast<double>(product(kernel));
  };
  if (auto p = dyn_cast<g::PoolingOp>(op))
    return window(p.getGlobalPool(), p.getKernel(), p.getData(), p.getOutput());
  if (auto p = dyn_cast<g::PoolingGradOp>(op))
    return window(p.getGlobalPool(), p.getKernel(), p.getData(), p.getOutGrad());
  if (isa<g::BatchNormTrainOp>(op))
    return 7 * out; // Σx, Σ(x − mean)², (x − mean)·scale + beta
  if (isa<g::BatchNormGradOp>(op))
    return 8 * out;
  if (isa<g::BatchNormOp>(op))
    return 3 * out;
  if (isa<g::FlattenOp, g::ReshapeOp, g::IdentityOp, g::TransposeOp, g::ZerosOp>(op))
    return 0;
  if (auto add = dyn_cast<g::AddNOp>(op))
    return out * std::max<int64_t>(1, add->getNumOperands() - 1);
  return out;
}

/// Ops cheap enough to run again in the backward: one pass over their
/// operands, no contraction or window, and deterministic (the random ops
/// are pure functions of the counter). Deliberately excluded, as in MXNet:
/// convolution, deconvolution, fully_connected, dot, pooling, concat,
/// softmax and the loss heads, reductions, lrn, embedding and every
/// backward kernel.
static bool isCheapOp(Operation *op, const RecomputeOptions &options) {
  if (isa<g::BatchNormTrainOp>(op))
    return options.batchNorm;
  return isa<g::ActivationOp, g::LeakyReLUOp, g::ElemwiseAddOp, g::ElemwiseSubOp,
             g::ElemwiseMulOp, g::ElemwiseDivOp, g::AddNOp, g::PlusScalarOp, g::MinusScalarOp,
             g::RMinusScalarOp, g::MulScalarOp, g::DivScalarOp, g::RDivScalarOp,
             g::PowerScalarOp, g::RPowerScalarOp, g::MaximumScalarOp, g::MinimumScalarOp,
             g::LogOp, g::GreaterEqualScalarOp, g::LesserEqualScalarOp, g::BroadcastAddOp,
             g::BroadcastSubOp, g::BroadcastMulOp, g::BroadcastDivOp, g::BroadcastMaximumOp,
             g::BroadcastMinimumOp, g::BroadcastPowerOp, g::BroadcastEqualOp,
             g::BroadcastGreaterEqualOp, g::BroadcastLesserEqualOp, g::BroadcastToOp,
             g::FlattenOp, g::ReshapeOp, g::IdentityOp, g::TransposeOp, g::BatchNormOp,
             g::DropoutMaskOp, g::RandomUniformOp, g::ZerosOp>(op);
}

namespace {

class Recomputer {
public:
  Recomputer(func::FuncOp func, const RecomputeOptions &options)
      : func(func), options(options) {}

  FailureOr<RecomputeStats> run();

private:
  func::FuncOp func;
  const RecomputeOptions &options;
  Operation *ret = nullptr;
  RecomputeStats stats;
  /// Ops the heads and aux results depend on.
  llvm::DenseSet<Operation *> forward;
  /// Forward values whose backward uses were moved to a clone.
  llvm::DenseSet<Value> recomputed;
  /// Latest clone of each forward op (reused when it comes early enough).
  llvm::DenseMap<Operation *, Operation *> clones;

  bool isForwardValue(Value v) const {
    Operation *d = v.getDefiningOp();
    return d && forward.contains(d);
  }
  bool isReturned(Value v) const {
    return llvm::any_of(v.getUsers(), [&](Operation *u) { return u == ret; });
  }
  bool hasBackwardUse(Value v) const {
    return llvm::any_of(v.getUsers(), [&](Operation *u) {
      return u != ret && !forward.contains(u);
    });
  }
  /// Whether `v` may be recomputed by cloning its op (batch_norm_train: its
  /// normalized output only; the statistics are small and stay).
  bool isRecomputable(Value v) const {
    Operation *d = v.getDefiningOp();
    if (!d || !forward.contains(d) || !isCheapOp(d, options))
      return false;
    return !isa<g::BatchNormTrainOp>(d) || cast<OpResult>(v).getResultNumber() == 0;
  }
  /// Alive when the backward runs whatever this pass does.
  bool staysAlive(Value v) const {
    if (!isForwardValue(v))
      return true; // an argument (or a constant outside the body)
    return isReturned(v) || (hasBackwardUse(v) && !recomputed.contains(v));
  }
  /// Adds to `chain` (operands before users) the ops to clone so that `v`
  /// can be read in the backward, `depth` more ops deep at most. Fails when
  /// the chain would end at a value that does not stay alive and is not
  /// small next to `target`.
  bool collect(Value v, unsigned depth, int64_t targetBytes,
               llvm::SetVector<Operation *> &chain) const;
  void recomputeValue(Value v, ArrayRef<Operation *> chain);
};

bool Recomputer::collect(Value v, unsigned depth, int64_t targetBytes,
                         llvm::SetVector<Operation *> &chain) const {
  if (staysAlive(v))
    return true;
  Operation *d = v.getDefiningOp();
  if (chain.contains(d))
    return true;
  if (depth > 0 && isRecomputable(v)) {
    for (Value o : d->getOperands())
      if (!collect(o, depth - 1, targetBytes, chain))
        return false;
    chain.insert(d);
    return true;
  }
  // Keeping a small value (batch statistics, a per-channel scale) alive
  // into the backward costs little next to what recomputing saves.
  std::optional<int64_t> bytes = tensorBytes(v.getType());
  return bytes && *bytes * 16 <= targetBytes;
}

void Recomputer::recomputeValue(Value v, ArrayRef<Operation *> chain) {
  // Right before the first backward use, so the copy lives only while the
  // backward needs it.
  Operation *first = nullptr;
  for (Operation *u : v.getUsers())
    if (u != ret && !forward.contains(u) && (!first || u->isBeforeInBlock(first)))
      first = u;
  OpBuilder b(first);
  IRMapping mapping;
  for (Operation *op : chain) {
    // A clone made for an earlier value serves if it comes before `first`,
    // or can be moved there (its operands are ready by then): a dropout
    // mask read by both the mask's and the product's gradients is computed
    // once.
    auto it = clones.find(op);
    if (it != clones.end()) {
      Operation *c = it->second;
      bool ready = llvm::all_of(c->getOperands(), [&](Value o) {
        Operation *d = o.getDefiningOp();
        return !d || d->getBlock() != first->getBlock() || d->isBeforeInBlock(first);
      });
      if (!c->isBeforeInBlock(first) && ready)
        c->moveBefore(first);
      if (c->isBeforeInBlock(first)) {
        mapping.map(op->getResults(), c->getResults());
        continue;
      }
    }
    Operation *copy = b.clone(*op, mapping);
    copy->removeAttr(kFusionGroupAttr);
    if (auto name = dyn_cast<NameLoc>(op->getLoc()))
      copy->setLoc(NameLoc::get(StringAttr::get(op->getContext(), name.getName().str() +
                                                                     "_recompute"),
                                name.getChildLoc()));
    clones[op] = copy;
    ++stats.ops;
    stats.flops += estimateFlops(copy);
  }
  Value copy = mapping.lookup(v);
  v.replaceUsesWithIf(copy, [&](OpOperand &use) {
    Operation *u = use.getOwner();
    return u != ret && !forward.contains(u);
  });
  recomputed.insert(v);
  ++stats.values;
  stats.bytes += tensorBytes(v.getType()).value_or(0);
}

FailureOr<RecomputeStats> Recomputer::run() {
  if (func.isExternal() || !func->hasAttr(kDifferentiatedAttr))
    return func.emitError() << "kiln-recompute needs the forward+backward function of "
                               "kiln-autodiff (marked graph.differentiated)",
           failure();
  if (func->hasAttr(kRecomputedAttr))
    return stats;
  Block &body = func.getBody().front();
  auto terminator = cast<func::ReturnOp>(body.getTerminator());
  ret = terminator;

  // The forward: everything the heads and aux results depend on.
  SmallVector<Operation *> work;
  auto push = [&](Value v) {
    Operation *d = v.getDefiningOp();
    if (d && d->getBlock() == &body && forward.insert(d).second)
      work.push_back(d);
  };
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto kind = func.getResultAttrOfType<StringAttr>(i, kKindAttr);
    if (kind && (kind.getValue() == kOutputKind || kind.getValue() == kAuxKind))
      push(terminator.getOperand(i));
  }
  while (!work.empty())
    for (Value o : work.pop_back_val()->getOperands())
      push(o);

  // Program order: a chain only reaches values defined earlier, whose fate
  // is decided by then.
  SmallVector<Value> candidates;
  for (Operation &op : body.without_terminator())
    if (forward.contains(&op))
      for (Value r : op.getResults())
        if (hasBackwardUse(r) && !isReturned(r) && isRecomputable(r))
          candidates.push_back(r);
  for (Value v : candidates) {
    int64_t bytes = tensorBytes(v.getType()).value_or(0);
    Operation *d = v.getDefiningOp();
    if (options.maxDepth == 0)
      break;
    llvm::SetVector<Operation *> chain;
    bool ok = true;
    for (Value o : d->getOperands())
      ok = ok && collect(o, options.maxDepth - 1, bytes, chain);
    if (!ok)
      continue;
    chain.insert(d);
    recomputeValue(v, chain.getArrayRef());
  }
  func->setAttr(kRecomputedAttr, UnitAttr::get(func.getContext()));
  return stats;
}

} // namespace

FailureOr<RecomputeStats> kiln::recompute(func::FuncOp func, const RecomputeOptions &options) {
  return Recomputer(func, options).run();
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {

struct RecomputePass : kiln::impl::GraphRecomputeBase<RecomputePass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || func->hasAttr("kiln.kernel"))
      return;
    RecomputeOptions options;
    options.maxDepth = maxDepth;
    options.batchNorm = batchNorm;
    FailureOr<RecomputeStats> stats = recompute(func, options);
    if (failed(stats))
      return signalPassFailure();
    numValues += stats->values;
    numOps += stats->ops;
  }
};

} // namespace
