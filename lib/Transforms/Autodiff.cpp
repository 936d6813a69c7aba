//===- Autodiff.cpp - kiln-graph-training-mode and kiln-autodiff ----------===//
//
// Training mode rewrites the few ops whose behaviour changes in training
// (BatchNorm, Dropout, rrelu, and the ops of families that implement
// TrainingModeOpInterface) into ops that state it explicitly, so the
// result is an ordinary pure function: same inputs, same outputs, whichever
// engine runs it. Autodiff then appends the reverse-mode backward of that
// function by walking its ops in reverse and asking each op
// (GradientOpInterface, dialects/Graph/Gradients.cpp) for the gradients of
// its operands, summing the gradients that meet at a value.
//
//===----------------------------------------------------------------------===//

#include "Transforms/Autodiff.h"
#include "Graph/GraphOps.h"
#include "Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace kiln {
#define GEN_PASS_DEF_GRAPHTRAININGMODE
#define GEN_PASS_DEF_GRAPHAUTODIFF
#include "Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
namespace g = kiln::graph;

// The argument/result attributes of a model function (lib/Import writes
// them; spelled here so Transforms need not depend on Import).
static constexpr const char *kNameAttr = "graph.name";
static constexpr const char *kKindAttr = "graph.kind";

static StringRef argAttr(func::FuncOp func, unsigned i, StringRef name) {
  if (auto s = func.getArgAttrOfType<StringAttr>(i, name))
    return s.getValue();
  return "";
}

static StringRef resultAttr(func::FuncOp func, unsigned i, StringRef name) {
  if (auto s = func.getResultAttrOfType<StringAttr>(i, name))
    return s.getValue();
  return "";
}

static std::string argName(func::FuncOp func, unsigned i) {
  StringRef n = argAttr(func, i, kNameAttr);
  return n.empty() ? "arg" + std::to_string(i) : n.str();
}

/// `attrs` with `graph.kind` (and `graph.name` when given) set.
static DictionaryAttr withKind(MLIRContext *ctx, DictionaryAttr attrs, StringRef kind,
                               StringRef name = "") {
  NamedAttrList list(attrs);
  list.set(kKindAttr, StringAttr::get(ctx, kind));
  if (!name.empty())
    list.set(kNameAttr, StringAttr::get(ctx, name));
  return list.getDictionary(ctx);
}

/// loc("<node><suffix>") after a NameLoc, else the location itself.
static Location suffixedLoc(Location loc, StringRef suffix) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return NameLoc::get(StringAttr::get(loc.getContext(), name.getName().str() + suffix.str()),
                        name.getChildLoc());
  return loc;
}

static bool hasStaticShape(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape();
}

bool kiln::isLossHead(Operation *op) { return op && op->hasTrait<g::GraphLossHead>(); }

//===----------------------------------------------------------------------===//
// Training mode
//===----------------------------------------------------------------------===//

namespace {

class TrainingModeRewriter {
public:
  TrainingModeRewriter(func::FuncOp func, const TrainingModeOptions &options)
      : func(func), options(options), b(func.getContext()) {}

  LogicalResult run();

private:
  func::FuncOp func;
  const TrainingModeOptions &options;
  OpBuilder b;
  Value counter;
  uint64_t numRandomOps = 0;
  /// New value of each aux argument (by argument number).
  llvm::DenseMap<unsigned, Value> auxUpdates;

  Value getCounter();
  uint64_t nextSeed() { return options.seed + numRandomOps++; }
  /// BatchNorm and SyncBatchNorm.
  template <typename BatchNormLike> LogicalResult rewriteBatchNorm(BatchNormLike op);
  LogicalResult rewrite(g::DropoutOp op);
  LogicalResult rewrite(g::LeakyReLUOp op);
};

Value TrainingModeRewriter::getCounter() {
  if (counter)
    return counter;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (argAttr(func, i, kKindAttr) == kRngCounterKind)
      return counter = func.getArgument(i);
  MLIRContext *ctx = func.getContext();
  auto type = RankedTensorType::get({1}, Float32Type::get(ctx));
  NamedAttrList attrs;
  attrs.set(kNameAttr, StringAttr::get(ctx, "rng_counter"));
  attrs.set(kKindAttr, StringAttr::get(ctx, kRngCounterKind));
  unsigned index = func.getNumArguments();
  (void)func.insertArgument(index, type, attrs.getDictionary(ctx),
                            NameLoc::get(StringAttr::get(ctx, "rng_counter")));
  return counter = func.getArgument(index);
}

template <typename BatchNormLike>
LogicalResult TrainingModeRewriter::rewriteBatchNorm(BatchNormLike op) {
  if (op.getUseGlobalStats())
    return success(); // normalizes with the moving statistics in training too
  // BatchNorm implied the shapes of its moving statistics; batch_norm_train
  // no longer reads them, so give unranked aux arguments those shapes now.
  graph::ShapeInferenceState state;
  if (succeeded(graph::inferShapes(op, state)))
    for (unsigned i : {3u, 4u}) {
      auto arg = dyn_cast<BlockArgument>(op->getOperand(i));
      if (arg && arg.getOwner() == &func.getBody().front() && state.operands[i] &&
          !hasStaticShape(arg))
        arg.setType(RankedTensorType::get(*state.operands[i],
                                          cast<TensorType>(arg.getType()).getElementType()));
    }
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  Type statType = op.getMovingMean().getType();
  auto train = g::BatchNormTrainOp::create(b, loc, TypeRange{op.getType(), statType, statType},
                                           op.getData(), op.getGamma(), op.getBeta(),
                                           b.getF64FloatAttr(op.getEps().convertToDouble()),
                                           op.getFixGammaAttr(), b.getI64IntegerAttr(op.getAxis()));
  op.getOutput().replaceAllUsesWith(train.getOutput());
  // m·moving + (1 − m)·batch, recorded for the aux argument it replaces.
  double m = op.getMomentum().convertToDouble();
  auto update = [&](Value moving, Value batch, StringRef what) {
    auto arg = dyn_cast<BlockArgument>(moving);
    if (!arg || arg.getOwner() != &func.getBody().front() ||
        argAttr(func, arg.getArgNumber(), kKindAttr) != kAuxKind)
      return; // computed statistics: nothing to write back
    Location l = suffixedLoc(loc, what);
    Value a = g::MulScalarOp::create(b, l, moving.getType(), moving, b.getF64FloatAttr(m));
    Value c = g::MulScalarOp::create(b, l, moving.getType(), batch, b.getF64FloatAttr(1 - m));
    auxUpdates[arg.getArgNumber()] = g::ElemwiseAddOp::create(b, l, moving.getType(), a, c);
  };
  update(op.getMovingMean(), train.getMean(), "_moving_mean");
  update(op.getMovingVar(), train.getVar(), "_moving_var");
  op.erase();
  return success();
}

LogicalResult TrainingModeRewriter::rewrite(g::DropoutOp op) {
  if (op.getP().isZero()) {
    op.getOutput().replaceAllUsesWith(op.getData());
    op.erase();
    return success();
  }
  if (!hasStaticShape(op.getData()))
    return op.emitOpError() << "needs a static input shape in training mode (its mask is drawn "
                               "per element); run kiln-graph-infer-shapes first";
  b.setInsertionPoint(op);
  Value mask = g::DropoutMaskOp::create(
      b, op.getLoc(), op.getType(), getCounter(), op.getPAttr(),
      b.getI64IntegerAttr(static_cast<int64_t>(nextSeed())),
      b.getDenseI64ArrayAttr(cast<RankedTensorType>(op.getData().getType()).getShape()),
      op.getAxesAttr());
  Value y = g::ElemwiseMulOp::create(b, op.getLoc(), op.getType(), op.getData(), mask);
  op.getOutput().replaceAllUsesWith(y);
  op.erase();
  return success();
}

LogicalResult TrainingModeRewriter::rewrite(g::LeakyReLUOp op) {
  if (op.getActType() != g::LeakyActType::rrelu)
    return success();
  if (!hasStaticShape(op.getData()))
    return op.emitOpError() << "needs a static input shape in training mode (rrelu draws a "
                               "slope per element); run kiln-graph-infer-shapes first";
  // MXNet's training rrelu: one slope a ~ U[lower, upper) per element,
  // y = x > 0 ? x : a·x, written as max(x, 0) + a·min(x, 0) so the ordinary
  // gradient rules differentiate it.
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  Type type = op.getType();
  Value a = g::RandomUniformOp::create(
      b, loc, type, getCounter(), op.getLowerBoundAttr(), op.getUpperBoundAttr(),
      b.getI64IntegerAttr(static_cast<int64_t>(nextSeed())),
      b.getDenseI64ArrayAttr(cast<RankedTensorType>(op.getData().getType()).getShape()));
  Value pos = g::MaximumScalarOp::create(b, loc, type, op.getData(), b.getF64FloatAttr(0));
  Value neg = g::MinimumScalarOp::create(b, loc, type, op.getData(), b.getF64FloatAttr(0));
  Value scaled = g::ElemwiseMulOp::create(b, loc, type, a, neg);
  Value y = g::ElemwiseAddOp::create(b, loc, type, pos, scaled);
  op.getOutput().replaceAllUsesWith(y);
  op.erase();
  return success();
}

LogicalResult TrainingModeRewriter::run() {
  if (func.isExternal() || func->hasAttr(kTrainingModeAttr))
    return success();
  Block &body = func.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!ret)
    return func.emitError() << "a model function must end in func.return";
  // Rewrites erase ops, so visit a snapshot.
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  for (Operation *op : ops) {
    LogicalResult r = success();
    if (auto bn = dyn_cast<g::BatchNormOp>(op))
      r = rewriteBatchNorm(bn);
    else if (auto sbn = dyn_cast<g::SyncBatchNormOp>(op))
      r = rewriteBatchNorm(sbn);
    else if (auto d = dyn_cast<g::DropoutOp>(op))
      r = rewrite(d);
    else if (auto l = dyn_cast<g::LeakyReLUOp>(op))
      r = rewrite(l);
    else if (auto t = dyn_cast<g::TrainingModeOpInterface>(op)) {
      // Op families' own training-mode rewrites (RNN's dropout masks).
      b.setInsertionPoint(op);
      r = t.rewriteForTraining(b, [&] { return getCounter(); }, [&] { return nextSeed(); });
    }
    if (failed(r))
      return failure();
  }

  // Heads are outputs; then one result per aux argument, in order.
  MLIRContext *ctx = func.getContext();
  unsigned numHeads = func.getNumResults();
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < numHeads; ++i)
    resultAttrs.push_back(withKind(ctx, func.getResultAttrDict(i), kOutputKind));
  SmallVector<Value> results(ret.getOperands());
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    if (argAttr(func, i, kKindAttr) != kAuxKind)
      continue;
    Value v = auxUpdates.lookup(i);
    results.push_back(v ? v : func.getArgument(i));
    resultAttrs.push_back(withKind(ctx, nullptr, kAuxKind, argName(func, i)));
  }
  ret->setOperands(results);
  func.setFunctionType(
      FunctionType::get(ctx, body.getArgumentTypes(), ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  func->setAttr(kTrainingModeAttr, UnitAttr::get(ctx));
  return success();
}

} // namespace

LogicalResult kiln::applyTrainingMode(func::FuncOp func, const TrainingModeOptions &options) {
  return TrainingModeRewriter(func, options).run();
}

//===----------------------------------------------------------------------===//
// Autodiff
//===----------------------------------------------------------------------===//

namespace {

class Differentiator {
public:
  Differentiator(func::FuncOp func, const AutodiffOptions &options)
      : func(func), options(options), ctx(func.getContext()), b(ctx) {}

  LogicalResult run();

private:
  func::FuncOp func;
  const AutodiffOptions &options;
  MLIRContext *ctx;
  OpBuilder b;
  /// Gradient contributions reaching each value, in the order they came.
  llvm::MapVector<Value, SmallVector<Value, 2>> grads;

  FailureOr<SmallVector<unsigned>> selectArguments();
  /// The sum of the contributions to `v` (null when none).
  Value gradientOf(Value v, Location loc);
};

FailureOr<SmallVector<unsigned>> Differentiator::selectArguments() {
  SmallVector<unsigned> wrt;
  if (options.wrt.empty()) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (argAttr(func, i, kKindAttr) == "param")
        wrt.push_back(i);
    return wrt;
  }
  llvm::SmallDenseSet<unsigned> chosen;
  for (const std::string &name : options.wrt) {
    std::optional<unsigned> found;
    for (unsigned i = 0; i < func.getNumArguments() && !found; ++i)
      if (argName(func, i) == name)
        found = i;
    if (!found)
      return func.emitError() << "wrt: the function has no argument named '" << name << "'",
             failure();
    StringRef kind = argAttr(func, *found, kKindAttr);
    if (kind == kAuxKind || kind == kRngCounterKind || kind == kHeadGradKind)
      return func.emitError() << "wrt: argument '" << name << "' is of kind '" << kind
                              << "', which has no gradient",
             failure();
    chosen.insert(*found);
  }
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (chosen.contains(i))
      wrt.push_back(i);
  return wrt;
}

Value Differentiator::gradientOf(Value v, Location loc) {
  auto it = grads.find(v);
  if (it == grads.end() || it->second.empty())
    return Value();
  SmallVector<Value, 2> &terms = it->second;
  if (terms.size() == 1)
    return terms[0];
  Type type = UnrankedTensorType::get(cast<TensorType>(v.getType()).getElementType());
  Value sum = terms.size() == 2 ? g::ElemwiseAddOp::create(b, loc, type, terms[0], terms[1])
                                : g::AddNOp::create(b, loc, type, terms).getResult();
  terms.assign(1, sum);
  return sum;
}

LogicalResult Differentiator::run() {
  if (func.isExternal())
    return func.emitError() << "cannot differentiate a function without a body";
  if (func->hasAttr(kDifferentiatedAttr))
    return func.emitError() << "is already differentiated";
  // Shapes first: training mode needs static Dropout inputs, and the
  // gradient rules read every forward shape.
  if (failed(inferFunctionShapes(func)) || failed(applyTrainingMode(func, {options.seed})) ||
      failed(inferFunctionShapes(func)))
    return failure();
  FailureOr<SmallVector<unsigned>> wrt = selectArguments();
  if (failed(wrt))
    return failure();

  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator())
    forward.push_back(&op);

  // Values that depend on a differentiated argument: only they get
  // gradients, and only ops reading one are differentiated.
  llvm::DenseSet<Value> active;
  for (unsigned i : *wrt)
    active.insert(func.getArgument(i));
  for (Operation *op : forward)
    if (llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
      active.insert(op->result_begin(), op->result_end());

  // Seed the heads: loss heads use their own gradient; every other head
  // gets a head-gradient argument.
  SmallVector<unsigned> heads, auxResults;
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    (resultAttr(func, i, kKindAttr) == kAuxKind ? auxResults : heads).push_back(i);
  llvm::SmallPtrSet<Operation *, 4> lossRoots;
  for (unsigned i : heads) {
    Value v = ret.getOperand(i);
    if (isLossHead(v.getDefiningOp())) {
      lossRoots.insert(v.getDefiningOp());
      continue;
    }
    StringRef headName = resultAttr(func, i, kNameAttr);
    std::string name = (headName.empty() ? "output" + std::to_string(i) : headName.str()) + "_grad";
    NamedAttrList attrs;
    attrs.set(kNameAttr, StringAttr::get(ctx, name));
    attrs.set(kKindAttr, StringAttr::get(ctx, kHeadGradKind));
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(index, v.getType(), attrs.getDictionary(ctx),
                                   NameLoc::get(StringAttr::get(ctx, name)))))
      return failure();
    grads[v].push_back(func.getArgument(index));
  }

  // The backward, in reverse program order, before the return.
  b.setInsertionPoint(ret);
  for (Operation *op : llvm::reverse(forward)) {
    if (!llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
      continue;
    Location loc = suffixedLoc(op->getLoc(), "_backward");
    SmallVector<Value> resultGrads;
    for (Value r : op->getResults())
      resultGrads.push_back(gradientOf(r, loc));
    if (!lossRoots.contains(op) && llvm::all_of(resultGrads, [](Value v) { return !v; }))
      continue;
    auto iface = dyn_cast<g::GradientOpInterface>(op);
    if (!iface)
      return op->emitOpError() << "has no gradient rule; autodiff differentiates graph ops only";
    SmallVector<Value> operandGrads;
    if (failed(iface.buildGradient(b, resultGrads, operandGrads)))
      return failure();
    for (auto [operand, grad] : llvm::zip_equal(op->getOperands(), operandGrads))
      if (grad && active.contains(operand))
        grads[operand].push_back(grad);
  }

  // Results: heads, gradients in argument order, aux states.
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i : heads) {
    results.push_back(ret.getOperand(i));
    resultAttrs.push_back(withKind(ctx, func.getResultAttrDict(i), kOutputKind));
  }
  for (unsigned i : *wrt) {
    Value arg = func.getArgument(i);
    std::string name = argName(func, i);
    Value grad = gradientOf(arg, NameLoc::get(StringAttr::get(ctx, name + "_grad")));
    if (!grad) {
      // Nothing depends on it: its gradient is zero (MXNet writes zeros too).
      if (!hasStaticShape(arg))
        return func.emitError() << "argument '" << name
                                << "' is unused and has no static shape to give its "
                                   "(zero) gradient";
      grad = g::ZerosOp::create(b, NameLoc::get(StringAttr::get(ctx, name + "_grad")),
                                arg.getType(), cast<RankedTensorType>(arg.getType()).getShape());
    }
    results.push_back(grad);
    resultAttrs.push_back(withKind(ctx, nullptr, kGradKind, name));
  }
  for (unsigned i : auxResults) {
    results.push_back(ret.getOperand(i));
    resultAttrs.push_back(func.getResultAttrDict(i));
  }
  ret->setOperands(results);

  // Rules build the gradients of every operand; drop those nobody needs
  // (e.g. the data gradient of the first layer). Backward ops come after
  // the forward ones and users after producers, so one reverse sweep
  // removes whole dead chains.
  Operation *lastForward = forward.empty() ? nullptr : forward.back();
  for (Operation *op = ret->getPrevNode(); op && op != lastForward;) {
    Operation *prev = op->getPrevNode();
    if (op->use_empty() && isa<g::GradientOpInterface>(op))
      op->erase();
    op = prev;
  }

  func.setFunctionType(
      FunctionType::get(ctx, body.getArgumentTypes(), ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  func->setAttr(kDifferentiatedAttr, UnitAttr::get(ctx));
  // The backward ops were built untyped; give them their static shapes.
  return inferFunctionShapes(func);
}

} // namespace

LogicalResult kiln::differentiate(func::FuncOp func, const AutodiffOptions &options) {
  return Differentiator(func, options).run();
}

//===----------------------------------------------------------------------===//
// Passes
//===----------------------------------------------------------------------===//

namespace {

struct GraphTrainingModePass : kiln::impl::GraphTrainingModeBase<GraphTrainingModePass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || func->hasAttr("kiln.kernel"))
      return;
    if (failed(applyTrainingMode(func, {seed})))
      signalPassFailure();
  }
};

struct AutodiffPass : kiln::impl::GraphAutodiffBase<AutodiffPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || func->hasAttr("kiln.kernel"))
      return;
    AutodiffOptions options;
    options.wrt.assign(wrt.begin(), wrt.end());
    options.seed = seed;
    if (failed(differentiate(func, options)))
      signalPassFailure();
  }
};

} // namespace
