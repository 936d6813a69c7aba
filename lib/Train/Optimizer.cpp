//===- Optimizer.cpp - Weight updates as one compiled graph function ------===//
//
// update() runs one JIT-compiled graph-dialect function:
//
//   func @main(%w0..%wN, %g0..%gN, %s.., %lr: tensor<1xf32>) -> (%w0'..%wN', %s'..)
//
// Everything constant for the optimizer's life (rescale_grad, clipping,
// momentum, β1, β2, ε, each parameter's wd and lr_mult) is an op attribute;
// only the learning rate of the step changes, so it is the one runtime
// scalar, broadcast with graph.broadcast_mul. Adam's bias correction
// sqrt(1−β2ᵗ)/(1−β1ᵗ) is a per-step factor of the same kind and is folded
// into that scalar, as MXNet folds it into `lr`.
//
//===----------------------------------------------------------------------===//

#include "kiln/Optimizer.h"

#include "Compiler/JitModel.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace kiln {

//===----------------------------------------------------------------------===//
// Learning-rate schedulers (python/mxnet/lr_scheduler.py)
//===----------------------------------------------------------------------===//

LRScheduler::~LRScheduler() = default;

FactorScheduler::FactorScheduler(int64_t step, double factor, double stopFactorLR)
    : step(step), factor(factor), stopFactorLR(stopFactorLR) {
  if (step < 1)
    throw Error("FactorScheduler: step must be at least 1, got " + std::to_string(step));
  if (factor > 1.0)
    throw Error("FactorScheduler: factor must be at most 1 (it reduces the learning rate), got " +
                std::to_string(factor));
}

double FactorScheduler::operator()(int64_t numUpdate) {
  // A loop, not a closed form: resuming at a large num_update walks every
  // reduction, with the stop_factor_lr floor applied at each, as MXNet does.
  while (numUpdate > count + step) {
    count += step;
    baseLR *= factor;
    if (baseLR < stopFactorLR)
      baseLR = stopFactorLR;
  }
  return baseLR;
}

MultiFactorScheduler::MultiFactorScheduler(std::vector<int64_t> stepsArg, double factor)
    : steps(std::move(stepsArg)), factor(factor) {
  if (steps.empty())
    throw Error("MultiFactorScheduler: needs at least one step");
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < 1)
      throw Error("MultiFactorScheduler: every step must be at least 1, got " +
                  std::to_string(steps[i]));
    if (i && steps[i] <= steps[i - 1])
      throw Error("MultiFactorScheduler: steps must increase, got " + std::to_string(steps[i - 1]) +
                  " then " + std::to_string(steps[i]));
  }
  if (factor > 1.0)
    throw Error("MultiFactorScheduler: factor must be at most 1, got " + std::to_string(factor));
}

double MultiFactorScheduler::operator()(int64_t numUpdate) {
  while (next < steps.size() && numUpdate > steps[next]) {
    ++next;
    baseLR *= factor;
  }
  return baseLR;
}

//===----------------------------------------------------------------------===//
// Update rules
//===----------------------------------------------------------------------===//

namespace {

/// Emits graph ops whose results have the shape of their first operand.
class Emitter {
public:
  explicit Emitter(ImplicitLocOpBuilder &b) : b(b) {}

  Value mulScalar(Value x, double s) {
    return graph::MulScalarOp::create(b, x.getType(), x, b.getF64FloatAttr(s));
  }
  Value plusScalar(Value x, double s) {
    return graph::PlusScalarOp::create(b, x.getType(), x, b.getF64FloatAttr(s));
  }
  Value powerScalar(Value x, double s) {
    return graph::PowerScalarOp::create(b, x.getType(), x, b.getF64FloatAttr(s));
  }
  /// MXNet's clip::Map: x above `bound` becomes bound, below −bound −bound.
  Value clip(Value x, double bound) {
    Value lo = graph::MaximumScalarOp::create(b, x.getType(), x, b.getF64FloatAttr(-bound));
    return graph::MinimumScalarOp::create(b, x.getType(), lo, b.getF64FloatAttr(bound));
  }
  Value add(Value x, Value y) { return graph::ElemwiseAddOp::create(b, x.getType(), x, y); }
  Value sub(Value x, Value y) { return graph::ElemwiseSubOp::create(b, x.getType(), x, y); }
  Value mul(Value x, Value y) { return graph::ElemwiseMulOp::create(b, x.getType(), x, y); }
  Value div(Value x, Value y) { return graph::ElemwiseDivOp::create(b, x.getType(), x, y); }
  /// x · s for the 1-element step scalar s.
  Value scale(Value x, Value s) { return graph::BroadcastMulOp::create(b, x.getType(), x, s); }

private:
  ImplicitLocOpBuilder &b;
};

/// MXNet's kernels take their scalar parameters as float and compute e.g.
/// 1.f − β1 in float; doing the same keeps the compiled update within an
/// ulp or so of MXNet's.
double asFloat(double v) { return static_cast<double>(static_cast<float>(v)); }

struct ParamUpdate {
  Value weight, grad;
  ValueRange states;
  Value stepScalar;
  double lrMult, wd;
};

class Rule {
public:
  virtual ~Rule() = default;
  virtual const char *name() const = 0;
  virtual double defaultLR() const = 0;
  /// Suffixes of each parameter's states ("momentum"; "mean", "var").
  virtual std::vector<std::string> stateSuffixes() const = 0;
  /// The step scalar for step `t` (t ≥ 1) at scheduled rate `lr`.
  virtual double stepScalar(double lr, int64_t t) const { return lr; }
  /// Emits the update of one parameter; returns the new weight, then the new
  /// states in stateSuffixes() order.
  virtual SmallVector<Value> build(Emitter &e, const ParamUpdate &p) const = 0;
};

/// rescale_grad·grad, clipped when clipGradient > 0.
Value rescaleAndClip(Emitter &e, Value g, const OptimizerOptions &o) {
  if (o.rescaleGrad != 1.0)
    g = e.mulScalar(g, asFloat(o.rescaleGrad));
  if (o.clipGradient > 0)
    g = e.clip(g, asFloat(o.clipGradient));
  return g;
}

class SGDRule : public Rule {
public:
  explicit SGDRule(const OptimizerOptions &o) : o(o) {}
  const char *name() const override { return "sgd"; }
  double defaultLR() const override { return 0.01; }
  std::vector<std::string> stateSuffixes() const override {
    if (o.momentum > 0)
      return {"momentum"};
    return {};
  }
  SmallVector<Value> build(Emitter &e, const ParamUpdate &p) const override {
    // sgd_update / sgd_mom_update: wd joins after clipping.
    Value g = rescaleAndClip(e, p.grad, o);
    if (p.wd != 0)
      g = e.add(g, e.mulScalar(p.weight, asFloat(p.wd)));
    Value step = e.scale(g, p.stepScalar);
    if (p.lrMult != 1.0)
      step = e.mulScalar(step, p.lrMult);
    if (o.momentum > 0) {
      Value mom = e.sub(e.mulScalar(p.states[0], asFloat(o.momentum)), step);
      return {e.add(p.weight, mom), mom};
    }
    return {e.sub(p.weight, step)};
  }

private:
  OptimizerOptions o;
};

class AdamRule : public Rule {
public:
  explicit AdamRule(const OptimizerOptions &o) : o(o) {}
  const char *name() const override { return "adam"; }
  double defaultLR() const override { return 0.001; }
  std::vector<std::string> stateSuffixes() const override { return {"mean", "var"}; }
  double stepScalar(double lr, int64_t t) const override {
    double coef1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
    double coef2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
    return lr * std::sqrt(coef2) / coef1;
  }
  SmallVector<Value> build(Emitter &e, const ParamUpdate &p) const override {
    // adam_update: wd joins before clipping.
    Value g = p.grad;
    if (o.rescaleGrad != 1.0)
      g = e.mulScalar(g, asFloat(o.rescaleGrad));
    if (p.wd != 0)
      g = e.add(g, e.mulScalar(p.weight, asFloat(p.wd)));
    if (o.clipGradient > 0)
      g = e.clip(g, asFloat(o.clipGradient));
    float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
    Value mean = e.add(e.mulScalar(p.states[0], b1), e.mulScalar(g, 1.0f - b1));
    Value var = e.add(e.mulScalar(p.states[1], b2), e.mulScalar(e.mul(g, g), 1.0f - b2));
    Value denom = e.plusScalar(e.powerScalar(var, 0.5), asFloat(o.epsilon));
    Value step = e.scale(e.div(mean, denom), p.stepScalar);
    if (p.lrMult != 1.0)
      step = e.mulScalar(step, p.lrMult);
    return {e.sub(p.weight, step), mean, var};
  }

private:
  OptimizerOptions o;
};

/// Swaps tensors' buffers into the update's argument slots and back again
/// on every exit path, so weights and states reach the compiled function
/// without a copy.
class SwapIn {
public:
  void add(Tensor &a, Tensor &b) {
    a.values.swap(b.values);
    pairs.emplace_back(&a, &b);
  }
  ~SwapIn() {
    for (auto it = pairs.rbegin(); it != pairs.rend(); ++it)
      it->first->values.swap(it->second->values);
  }

private:
  std::vector<std::pair<Tensor *, Tensor *>> pairs;
};

} // namespace

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

struct Optimizer::Impl {
  std::unique_ptr<Rule> rule;
  OptimizerOptions opts;
  std::string kind;
  double lr = 0;
  int64_t numUpdate = 0;

  // Fixed by the first update.
  bool ready = false;
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<double> lrMults, wdMults;
  std::vector<Tensor> states;
  size_t statesPerParam = 0;

  /// The compiled update and its graph-dialect text. The MLIR context is
  /// dropped once the update is compiled: the JIT's kernels and the plan do
  /// not refer to it, and a live context keeps a thread pool around.
  std::unique_ptr<JitModel> jit;
  std::string ir;
  /// Argument slots: weights (swapped in), grads (copied in), states
  /// (swapped in), the step scalar.
  std::vector<Tensor> args;

  void setup(const std::vector<Tensor *> &weights);
  void buildUpdate();
  double scheduledLR() const { return opts.lrScheduler ? (*opts.lrScheduler)(numUpdate) : lr; }
};

void Optimizer::Impl::setup(const std::vector<Tensor *> &weights) {
  size_t n = weights.size();
  // A failed setup (say, a compile error) may be retried by the next update.
  names.clear();
  shapes.clear();
  lrMults.clear();
  wdMults.clear();
  states.clear();
  args.clear();
  if (!opts.paramNames.empty() && opts.paramNames.size() != n)
    throw Error(kind + " optimizer: it was given " + std::to_string(opts.paramNames.size()) +
                " parameter names but update() got " + std::to_string(n) + " weights");
  for (size_t i = 0; i < n; ++i) {
    std::string name = opts.paramNames.empty() ? "param" + std::to_string(i) : opts.paramNames[i];
    // MXNet's set_wd_mult: with names known, only *_weight and *_gamma decay.
    double wdMult = 1.0;
    if (!opts.paramNames.empty() && !llvm::StringRef(name).ends_with("_weight") &&
        !llvm::StringRef(name).ends_with("_gamma"))
      wdMult = 0.0;
    if (auto it = opts.wdMult.find(name); it != opts.wdMult.end())
      wdMult = it->second;
    double lrMult = 1.0;
    if (auto it = opts.lrMult.find(name); it != opts.lrMult.end())
      lrMult = it->second;
    names.push_back(name);
    shapes.push_back(weights[i]->shape);
    lrMults.push_back(lrMult);
    wdMults.push_back(wdMult);
  }
  statesPerParam = rule->stateSuffixes().size();
  for (size_t i = 0; i < n; ++i)
    for (size_t s = 0; s < statesPerParam; ++s)
      states.emplace_back(shapes[i]);
  buildUpdate();

  for (size_t i = 0; i < n; ++i) // weights: buffers arrive by swap
    args.emplace_back(std::vector<int64_t>(shapes[i]), std::vector<float>());
  for (size_t i = 0; i < n; ++i) // grads: copied into these
    args.emplace_back(shapes[i]);
  for (const Tensor &s : states) // states: buffers arrive by swap
    args.emplace_back(std::vector<int64_t>(s.shape), std::vector<float>());
  args.emplace_back(std::vector<int64_t>{1});
  ready = true;
}

void Optimizer::Impl::buildUpdate() {
  MLIRContext context;
  context.loadDialect<func::FuncDialect, graph::GraphDialect>();
  MLIRContext *ctx = &context;
  Location loc = NameLoc::get(StringAttr::get(ctx, kind + "_update"));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  ImplicitLocOpBuilder b(loc, ctx);
  b.setInsertionPointToEnd(module->getBody());

  auto f32 = Float32Type::get(ctx);
  size_t n = names.size();
  std::vector<std::string> suffixes = rule->stateSuffixes();
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (size_t i = 0; i < n; ++i) {
    argTypes.push_back(RankedTensorType::get(shapes[i], f32));
    argNames.push_back(names[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    argTypes.push_back(RankedTensorType::get(shapes[i], f32));
    argNames.push_back(names[i] + "_grad");
  }
  for (size_t i = 0; i < n; ++i)
    for (const std::string &s : suffixes) {
      argTypes.push_back(RankedTensorType::get(shapes[i], f32));
      argNames.push_back(names[i] + "_" + s);
    }
  argTypes.push_back(RankedTensorType::get({1}, f32));
  argNames.push_back("lr");

  auto func = func::FuncOp::create(b, "main", b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (unsigned i = 0; i < argTypes.size(); ++i)
    func.setArgAttr(i, kGraphNameAttr, b.getStringAttr(argNames[i]));
  b.setInsertionPointToEnd(entry);

  Emitter e(b);
  Value step = entry->getArgument(argTypes.size() - 1);
  SmallVector<Value> newWeights, newStates;
  SmallVector<std::string> resultNames;
  for (size_t i = 0; i < n; ++i) {
    // Each parameter's ops carry its name, so kernels and messages say
    // which update they belong to.
    b.setLoc(NameLoc::get(b.getStringAttr(names[i] + "_update")));
    ParamUpdate p;
    p.weight = entry->getArgument(i);
    p.grad = entry->getArgument(n + i);
    p.states = entry->getArguments().slice(2 * n + i * suffixes.size(), suffixes.size());
    p.stepScalar = step;
    p.lrMult = lrMults[i];
    p.wd = opts.wd * wdMults[i];
    SmallVector<Value> out = rule->build(e, p);
    newWeights.push_back(out[0]);
    newStates.append(out.begin() + 1, out.end());
  }
  SmallVector<Value> results(newWeights);
  results.append(newStates);
  b.setLoc(loc);
  func::ReturnOp::create(b, results);
  func.setFunctionType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (size_t i = 0; i < n; ++i)
    func.setResultAttr(i, kGraphNameAttr, b.getStringAttr(names[i]));
  for (size_t i = 0; i < n; ++i)
    for (size_t s = 0; s < suffixes.size(); ++s)
      func.setResultAttr(n + i * suffixes.size() + s, kGraphNameAttr,
                         b.getStringAttr(names[i] + "_" + suffixes[s]));

  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  {
    std::string diagnostics;
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    if (failed(verify(*module)))
      throw Error(kind + " optimizer: the update function does not verify: " + diagnostics +
                  text);
  }
  jit = JitModel::compile(*module);
  ir = std::move(text);
}

Optimizer::Optimizer(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Optimizer::~Optimizer() = default;

void Optimizer::update(const std::vector<Tensor *> &weights,
                       const std::vector<const Tensor *> &grads) {
  Impl &m = *impl;
  if (weights.size() != grads.size())
    throw Error(m.kind + " optimizer: " + std::to_string(weights.size()) + " weights but " +
                std::to_string(grads.size()) + " gradients");
  if (weights.empty())
    throw Error(m.kind + " optimizer: no parameters to update");
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!weights[i] || !grads[i])
      throw Error(m.kind + " optimizer: parameter " + std::to_string(i) +
                  " has a null weight or gradient");
    // Weights are swapped into the update's arguments: one tensor passed
    // twice would be updated from garbage.
    for (size_t j = 0; j < i; ++j)
      if (weights[j] == weights[i])
        throw Error(m.kind + " optimizer: parameters " + std::to_string(j) + " and " +
                    std::to_string(i) + " are the same weight tensor");
  }
  if (!m.ready)
    m.setup(weights);
  size_t n = m.names.size();
  if (weights.size() != n)
    throw Error(m.kind + " optimizer: the update was built for " + std::to_string(n) +
                " parameters, got " + std::to_string(weights.size()));
  for (size_t i = 0; i < n; ++i) {
    auto check = [&](const Tensor &t, const char *what) {
      if (t.shape != m.shapes[i] || static_cast<int64_t>(t.values.size()) != t.size())
        throw Error(m.kind + " optimizer: parameter '" + m.names[i] + "': " + what + " has shape " +
                    formatShape(t.shape) + " (" + std::to_string(t.values.size()) +
                    " values) but the update was built for " + formatShape(m.shapes[i]));
    };
    check(*weights[i], "the weight");
    check(*grads[i], "the gradient");
  }

  // MXNet's _update_count precedes _get_lr: step t reads the scheduler at t.
  int64_t t = m.numUpdate + 1;
  double lr = m.opts.lrScheduler ? (*m.opts.lrScheduler)(t) : m.lr;
  m.args.back().values[0] = static_cast<float>(m.rule->stepScalar(lr, t));
  for (size_t i = 0; i < n; ++i)
    std::memcpy(m.args[n + i].values.data(), grads[i]->values.data(),
                grads[i]->values.size() * sizeof(float));
  const std::vector<Tensor> *outputs;
  {
    SwapIn swapped;
    for (size_t i = 0; i < n; ++i)
      swapped.add(m.args[i], *weights[i]);
    for (size_t s = 0; s < m.states.size(); ++s)
      swapped.add(m.args[2 * n + s], m.states[s]);
    outputs = &m.jit->run(m.args);
  }
  for (size_t i = 0; i < n; ++i)
    std::memcpy(weights[i]->values.data(), (*outputs)[i].values.data(),
                weights[i]->values.size() * sizeof(float));
  for (size_t s = 0; s < m.states.size(); ++s)
    std::memcpy(m.states[s].values.data(), (*outputs)[n + s].values.data(),
                m.states[s].values.size() * sizeof(float));
  m.numUpdate = t;
}

int64_t Optimizer::numUpdates() const { return impl->numUpdate; }
double Optimizer::learningRate() const { return impl->scheduledLR(); }
const std::string &Optimizer::name() const { return impl->kind; }
const OptimizerOptions &Optimizer::options() const { return impl->opts; }

double Optimizer::lrMult(size_t param) const {
  if (param >= impl->lrMults.size())
    throw Error("optimizer: no parameter " + std::to_string(param) +
                (impl->ready ? "" : " (before the first update)"));
  return impl->lrMults[param];
}

double Optimizer::wdMult(size_t param) const {
  if (param >= impl->wdMults.size())
    throw Error("optimizer: no parameter " + std::to_string(param) +
                (impl->ready ? "" : " (before the first update)"));
  return impl->wdMults[param];
}

const std::vector<Tensor> &Optimizer::states() const { return impl->states; }

std::vector<std::string> Optimizer::stateNames() const {
  std::vector<std::string> out;
  if (!impl->ready)
    return out;
  for (const std::string &name : impl->names)
    for (const std::string &s : impl->rule->stateSuffixes())
      out.push_back(name + "_" + s);
  return out;
}

std::string Optimizer::updateIR() const { return impl->ir; }

std::unique_ptr<Optimizer> createOptimizer(const std::string &name,
                                           const OptimizerOptions &options) {
  auto impl = std::make_unique<Optimizer::Impl>();
  std::string kind = llvm::StringRef(name).lower();
  if (kind == "sgd")
    impl->rule = std::make_unique<SGDRule>(options);
  else if (kind == "adam")
    impl->rule = std::make_unique<AdamRule>(options);
  else
    throw Error("unknown optimizer '" + name + "' (known: sgd, adam)");
  impl->kind = kind;
  impl->opts = options;
  impl->lr = options.learningRate.value_or(impl->rule->defaultLR());

  auto bad = [&](const std::string &what) { return Error(kind + " optimizer: " + what); };
  auto finite = [](double v) { return std::isfinite(v); };
  if (!finite(impl->lr) || impl->lr < 0)
    throw bad("the learning rate must be a non-negative number, got " + std::to_string(impl->lr));
  if (!finite(options.wd))
    throw bad("wd must be finite");
  if (!finite(options.rescaleGrad))
    throw bad("rescale_grad must be finite");
  if (!finite(options.clipGradient))
    throw bad("clip_gradient must be finite");
  if (!finite(options.momentum) || options.momentum < 0 || options.momentum >= 1)
    throw bad("momentum must be in [0, 1), got " + std::to_string(options.momentum));
  if (kind == "adam") {
    if (!(options.beta1 >= 0 && options.beta1 < 1))
      throw bad("beta1 must be in [0, 1), got " + std::to_string(options.beta1));
    if (!(options.beta2 >= 0 && options.beta2 < 1))
      throw bad("beta2 must be in [0, 1), got " + std::to_string(options.beta2));
    if (!(options.epsilon > 0) || !finite(options.epsilon))
      throw bad("epsilon must be positive, got " + std::to_string(options.epsilon));
  }
  if (options.beginNumUpdate < 0)
    throw bad("begin_num_update must be non-negative");
  if (options.paramNames.empty() && (!options.lrMult.empty() || !options.wdMult.empty()))
    throw bad("lr_mult/wd_mult are given by parameter name, but no parameter names were given");
  for (const auto &m : {&options.lrMult, &options.wdMult})
    for (const auto &[param, value] : *m)
      if (!finite(value))
        throw bad("the multiplier of '" + param + "' must be finite");
  impl->numUpdate = options.beginNumUpdate;
  // MXNet's Optimizer.__init__: the scheduler starts from the optimizer's rate.
  if (options.lrScheduler)
    options.lrScheduler->baseLR = impl->lr;
  return std::make_unique<Optimizer>(std::move(impl));
}

} // namespace kiln
