//===- Executor.cpp - kiln::Executor: bind, forward, backward -------------===//
//
// The executor keeps one argument array per function argument and compiles
// two functions on demand: the inference function as imported, and the
// training function kiln-autodiff derives (heads, then parameter gradients,
// then new aux states; head-gradient and RNG-counter arguments appended).
// Results are read in place from the compiled model's own output buffers.
//
//===----------------------------------------------------------------------===//

#include "kiln/Executor.h"

#include "API/NDArrayInternal.h"
#include "API/SymbolInternal.h"
#include "Compiler/Diagnostics.h"
#include "Compiler/JitModel.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/Autodiff.h"
#include "Transforms/Recompute.h"
#include "kiln/Error.h"
#include "kiln/Symbol.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <cstdio>

using namespace mlir;

namespace kiln {

namespace {

std::string stringAttr(DictionaryAttr attrs, const char *name) {
  if (!attrs)
    return "";
  if (auto s = attrs.getAs<StringAttr>(name))
    return s.str();
  return "";
}

/// One compiled (or interpreted) function and where its results go.
struct Function {
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<JitModel> jit;
  /// Reference engine: the results of the last run.
  std::vector<Tensor> refResults;
  /// Per result: its kind ("output", "grad", "aux") and name.
  std::vector<std::string> resultKinds, resultNames;

  func::FuncOp main() { return module->lookupSymbol<func::FuncOp>("main"); }

  const std::vector<Tensor> &run(const std::vector<Tensor> &args, ExecutorOptions::Engine engine) {
    if (engine == ExecutorOptions::Engine::Compiled)
      return jit->run(args);
    ref::Result r = ref::run(main(), ref::fromTensors(args));
    refResults = ref::toTensors(r.outputs);
    return refResults;
  }
};

} // namespace

struct Executor::Impl {
  std::unique_ptr<MLIRContext> context;
  LoadedModel model;
  ExecutorOptions options;

  std::vector<std::string> inputNames, paramNames, auxNames, outputNames;
  /// One array per argument of the model function, in argument order.
  std::vector<Tensor> args;
  std::map<std::string, size_t> argIndex;

  Function inference, training;
  /// Training function arguments: the model's, then head gradients (one per
  /// non-loss head, by result index) and the RNG counter, if any.
  std::vector<Tensor> trainArgs;
  std::vector<unsigned> headGradOutputs; // output index of each head_grad arg
  int rngCounterArg = -1;
  int64_t step = 0;

  /// The results of the last forward.
  const std::vector<Tensor> *lastResults = nullptr;
  bool lastWasTraining = false;
  std::vector<Tensor> outputsCopy; // outputs() view: the first results
  std::vector<size_t> gradResult, auxResult; // result index per param / aux
  /// Aux values before the last training step, to re-run it in backward().
  std::vector<Tensor> auxBefore;
  double compileSec = 0;

  /// Orders the NDArray calls (forward on NDArrays, argArray, gradArray)
  /// with everything else that touches the executor's memory.
  rt::VarHandle stateVar = detail::engine().newVariable();
  std::function<void(size_t)> gradientHook;
  void installGradientHook();

  /// An NDArray call was pushed since the last sync().
  bool asyncPending = false;
  /// The latest forward returned its outputs as NDArrays: outputs() has none.
  bool outputsAsArrays = false;

  ~Impl() {
    if (!detail::engineAlive())
      return;
    try {
      sync();
    } catch (const std::exception &e) {
      std::fprintf(stderr, "kiln::Executor: a pending call failed: %s\n", e.what());
    }
    detail::engine().deleteVariable(stateVar);
  }
  /// An NDArray over the executor's own tensor `t`, ordered by stateVar.
  NDArray viewOf(Tensor &t) {
    return NDArray(detail::viewOf(detail::Chunk::borrow(t.values.data(), t.size(), stateVar), 0,
                                  t.shape));
  }
  /// Waits for pushed NDArray calls (the Tensor API reads memory they write).
  void sync() {
    if (!asyncPending)
      return;
    asyncPending = false;
    detail::engine().waitForVar(stateVar);
  }

  void initFromModel();
  void compileInference();
  void compileTraining();
  void runTraining(const std::map<std::string, Tensor> &headGrads);
  /// The training function's extra arguments for step `stepNumber`: head
  /// gradients (given, else ones) and the RNG counter.
  void setExtraArgs(int64_t stepNumber, const std::map<std::string, Tensor> &headGrads);
  /// Copies the training results' new aux values into the aux arguments.
  void storeAuxUpdates(const std::vector<Tensor> &results);
  size_t indexOf(const std::string &name, const char *what) const;
};

void Executor::Impl::initFromModel() {
  func::FuncOp f = model.mainFunc();
  for (size_t i = 0; i < model.args.size(); ++i) {
    const ModelArg &a = model.args[i];
    (a.kind == ModelArg::Input ? inputNames
     : a.kind == ModelArg::Param ? paramNames
                                 : auxNames)
        .push_back(a.name);
    argIndex[a.name] = i;
    Tensor t(a.shape);
    auto given = model.params.find(a.name);
    if (given != model.params.end()) {
      if (given->second.shape != a.shape)
        throw Error(model.fileName + ": value for '" + a.name + "' has shape " +
                    formatShape(given->second.shape) + " but the model needs " +
                    formatShape(a.shape));
      t = given->second;
    }
    args.push_back(std::move(t));
  }
  outputNames = model.outputNames;
  (void)f;
}

size_t Executor::Impl::indexOf(const std::string &name, const char *what) const {
  auto it = argIndex.find(name);
  if (it == argIndex.end())
    throw Error(model.fileName + ": the network has no " + what + " named '" + name + "'");
  return it->second;
}

void Executor::Impl::compileInference() {
  if (inference.module)
    return;
  inference.module = cast<ModuleOp>(model.module->clone());
  if (options.engine == ExecutorOptions::Engine::Compiled) {
    inference.jit = JitModel::compile(*inference.module);
    compileSec += inference.jit->compileSeconds();
  }
}

void Executor::Impl::compileTraining() {
  if (training.module)
    return;
  training.module = cast<ModuleOp>(model.module->clone());
  func::FuncOp f = training.main();
  AutodiffOptions autodiff;
  autodiff.seed = options.seed;
  DiagnosticCollector diagnostics(context.get());
  if (failed(differentiate(f, autodiff)))
    diagnostics.fail(model.fileName + ": automatic differentiation failed");
  if (options.recompute && failed(recompute(f)))
    diagnostics.fail(model.fileName + ": recompute failed");
  // Classify the new arguments and the results by their graph.kind.
  trainArgs = args;
  for (unsigned i = args.size(); i < f.getNumArguments(); ++i) {
    std::string kind = stringAttr(f.getArgAttrDict(i), kGraphKindAttr);
    std::string name = stringAttr(f.getArgAttrDict(i), kGraphNameAttr);
    auto type = cast<RankedTensorType>(f.getArgumentTypes()[i]);
    Tensor t(std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
    if (kind == kHeadGradKind) {
      // "<head>_grad": the head gradient of a non-loss head, ones by default.
      std::string head = name.size() > 5 ? name.substr(0, name.size() - 5) : name;
      auto it = std::find(outputNames.begin(), outputNames.end(), head);
      if (it == outputNames.end())
        throw Error(model.fileName + ": autodiff added a head gradient '" + name +
                    "' for an unknown head");
      headGradOutputs.push_back(it - outputNames.begin());
      std::fill(t.values.begin(), t.values.end(), 1.0f);
    } else if (kind == kRngCounterKind) {
      rngCounterArg = i;
      headGradOutputs.push_back(~0u);
    } else {
      throw Error(model.fileName + ": the training function has an argument of unknown kind '" +
                  kind + "'");
    }
    trainArgs.push_back(std::move(t));
  }
  gradResult.assign(paramNames.size(), ~size_t(0));
  auxResult.assign(auxNames.size(), ~size_t(0));
  for (unsigned i = 0; i < f.getNumResults(); ++i) {
    std::string kind = stringAttr(f.getResultAttrDict(i), kGraphKindAttr);
    std::string name = stringAttr(f.getResultAttrDict(i), kGraphNameAttr);
    training.resultKinds.push_back(kind);
    training.resultNames.push_back(name);
    if (kind == kGradKind) {
      auto it = std::find(paramNames.begin(), paramNames.end(), name);
      if (it != paramNames.end())
        gradResult[it - paramNames.begin()] = i;
    } else if (kind == kAuxKind) {
      auto it = std::find(auxNames.begin(), auxNames.end(), name);
      if (it != auxNames.end())
        auxResult[it - auxNames.begin()] = i;
    }
  }
  for (size_t p = 0; p < paramNames.size(); ++p)
    if (gradResult[p] == ~size_t(0))
      throw Error(model.fileName + ": the training function has no gradient for '" +
                  paramNames[p] + "'");
  if (options.engine == ExecutorOptions::Engine::Compiled) {
    training.jit = JitModel::compile(*training.module);
    compileSec += training.jit->compileSeconds();
    installGradientHook();
  }
}

void Executor::Impl::installGradientHook() {
  if (!training.jit)
    return;
  if (!gradientHook) {
    training.jit->setResultHook(nullptr);
    return;
  }
  std::vector<size_t> paramOfResult(training.resultKinds.size(), ~size_t(0));
  for (size_t p = 0; p < gradResult.size(); ++p)
    paramOfResult[gradResult[p]] = p;
  training.jit->setResultHook([hook = gradientHook, paramOfResult](uint32_t result) {
    if (result < paramOfResult.size() && paramOfResult[result] != ~size_t(0))
      hook(paramOfResult[result]);
  });
}

void Executor::Impl::setExtraArgs(int64_t stepNumber,
                                  const std::map<std::string, Tensor> &headGrads) {
  for (size_t j = 0; j < headGradOutputs.size(); ++j) {
    size_t argNo = args.size() + j;
    if ((int)argNo == rngCounterArg) {
      trainArgs[argNo].values[0] = static_cast<float>(stepNumber);
      continue;
    }
    const std::string &head = outputNames[headGradOutputs[j]];
    auto given = headGrads.find(head);
    Tensor &t = trainArgs[argNo];
    if (given == headGrads.end()) {
      std::fill(t.values.begin(), t.values.end(), 1.0f);
    } else {
      if (given->second.shape != t.shape)
        throw Error("head gradient for '" + head + "' has shape " +
                    formatShape(given->second.shape) + " but the head has shape " +
                    formatShape(t.shape));
      t.values = given->second.values;
    }
  }
}

void Executor::Impl::storeAuxUpdates(const std::vector<Tensor> &results) {
  // One training step (forward(true), whose plan includes the backward)
  // updates the moving statistics once, as one MXNet forward + backward does.
  for (size_t a = 0; a < auxNames.size(); ++a)
    if (auxResult[a] != ~size_t(0)) {
      Tensor &dst = args[argIndex.at(auxNames[a])];
      const Tensor &src = results[auxResult[a]];
      std::copy(src.values.begin(), src.values.end(), dst.values.begin());
    }
}

void Executor::Impl::runTraining(const std::map<std::string, Tensor> &headGrads) {
  // The training function takes the model's arguments (read in place)
  // followed by its own extra ones (trainArgs beyond args.size()).
  setExtraArgs(step, headGrads);
  if (options.engine == ExecutorOptions::Engine::Compiled) {
    std::vector<const void *> buffers;
    for (size_t i = 0; i < trainArgs.size(); ++i)
      buffers.push_back(i < args.size() ? args[i].values.data() : trainArgs[i].values.data());
    lastResults = &training.jit->run(buffers);
  } else {
    for (size_t i = 0; i < args.size(); ++i)
      trainArgs[i] = args[i];
    lastResults = &training.run(trainArgs, options.engine);
  }
  lastWasTraining = true;
  outputsAsArrays = false;
  storeAuxUpdates(*lastResults);
}

Executor::Executor(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Executor::~Executor() = default;

static std::unique_ptr<MLIRContext> makeContext() {
  auto ctx = std::make_unique<MLIRContext>();
  ctx->loadDialect<graph::GraphDialect, func::FuncDialect>();
  return ctx;
}

std::unique_ptr<Executor> Executor::bind(const Symbol &net, const ShapeMap &inputShapes,
                                         const ExecutorOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->context = makeContext();
  impl->model = loadModel(*impl->context, detail::graphOf(net), "<symbol>", "", inputShapes);
  impl->initFromModel();
  return std::unique_ptr<Executor>(new Executor(std::move(impl)));
}

std::unique_ptr<Executor> Executor::load(const std::string &model, const std::string &paramsPath,
                                         const ShapeMap &inputShapes,
                                         const ExecutorOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->context = makeContext();
  impl->model = loadModel(*impl->context, model, paramsPath, inputShapes);
  impl->initFromModel();
  return std::unique_ptr<Executor>(new Executor(std::move(impl)));
}

const std::vector<std::string> &Executor::inputNames() const { return impl->inputNames; }
const std::vector<std::string> &Executor::paramNames() const { return impl->paramNames; }
const std::vector<std::string> &Executor::auxNames() const { return impl->auxNames; }
const std::vector<std::string> &Executor::outputNames() const { return impl->outputNames; }

Tensor &Executor::arg(const std::string &name) {
  impl->sync();
  return impl->args[impl->indexOf(name, "argument")];
}

std::vector<Tensor *> Executor::params() {
  impl->sync();
  std::vector<Tensor *> out;
  for (const std::string &n : impl->paramNames)
    out.push_back(&impl->args[impl->argIndex.at(n)]);
  return out;
}

std::vector<const Tensor *> Executor::grads() const {
  impl->sync();
  const std::vector<Tensor> *results = impl->lastWasTraining ? impl->lastResults : nullptr;
  // Compiled: the training function's own result arrays, stable from
  // prepare(true) on.
  if (!results && impl->training.jit)
    results = &impl->training.jit->resultTensors();
  if (!results)
    throw Error("gradients are available after forward(true) or prepare(true)");
  std::vector<const Tensor *> out;
  for (size_t r : impl->gradResult)
    out.push_back(&(*results)[r]);
  return out;
}

void Executor::prepare(bool isTrain) {
  impl->sync();
  isTrain ? impl->compileTraining() : impl->compileInference();
}

const Tensor &Executor::grad(const std::string &paramName) const {
  auto it = std::find(impl->paramNames.begin(), impl->paramNames.end(), paramName);
  if (it == impl->paramNames.end())
    throw Error("the network has no parameter named '" + paramName + "'");
  return *grads()[it - impl->paramNames.begin()];
}

Tensor &Executor::aux(const std::string &name) {
  impl->sync();
  if (std::find(impl->auxNames.begin(), impl->auxNames.end(), name) == impl->auxNames.end())
    throw Error("the network has no aux state named '" + name + "'");
  return impl->args[impl->argIndex.at(name)];
}

void Executor::forward(bool isTrain) {
  impl->sync();
  if (!isTrain) {
    impl->compileInference();
    impl->lastResults = &impl->inference.run(impl->args, impl->options.engine);
    impl->lastWasTraining = false;
    impl->outputsAsArrays = false;
    return;
  }
  impl->compileTraining();
  impl->auxBefore.clear();
  for (const std::string &n : impl->auxNames)
    impl->auxBefore.push_back(impl->args[impl->argIndex.at(n)]);
  ++impl->step;
  impl->runTraining({});
}

void Executor::backward(const std::map<std::string, Tensor> &headGrads) {
  impl->sync();
  if (!impl->lastWasTraining)
    throw Error("backward() needs a forward(true) first");
  for (const auto &[name, t] : headGrads)
    if (std::find(impl->outputNames.begin(), impl->outputNames.end(), name) ==
        impl->outputNames.end())
      throw Error("head gradient given for '" + name + "', which is not an output of the network");
  bool needsRerun = false;
  for (unsigned o : impl->headGradOutputs)
    if (o != ~0u && headGrads.count(impl->outputNames[o]))
      needsRerun = true;
  if (!needsRerun)
    return;
  // Re-run the step from the aux values it started with.
  for (size_t a = 0; a < impl->auxNames.size(); ++a)
    impl->args[impl->argIndex.at(impl->auxNames[a])] = impl->auxBefore[a];
  impl->runTraining(headGrads);
}

const std::vector<Tensor> &Executor::outputs() const {
  impl->sync();
  if (impl->outputsAsArrays)
    throw Error("the latest forward returned its outputs as NDArrays; outputs() holds those "
                "of a forward(isTrain) without arrays");
  if (!impl->lastResults)
    throw Error("outputs are available after forward()");
  size_t n = impl->outputNames.size();
  if (!impl->lastWasTraining)
    return *impl->lastResults;
  // The training function returns more than the heads: hand out a view of
  // the first results (copied; heads are small next to gradients).
  impl->outputsCopy.assign(impl->lastResults->begin(), impl->lastResults->begin() + n);
  return impl->outputsCopy;
}

std::vector<NDArray> Executor::forward(const std::map<std::string, NDArray> &inputs,
                                       bool isTrain) {
  Impl &m = *impl;
  // Compiling reads the executor's arrays: let pending calls finish first.
  if (!(isTrain ? m.training.module : m.inference.module)) {
    m.sync();
    isTrain ? m.compileTraining() : m.compileInference();
  }
  for (const auto &[name, array] : inputs) {
    if (std::find(m.inputNames.begin(), m.inputNames.end(), name) == m.inputNames.end())
      throw Error(m.model.fileName + ": '" + name +
                  "' is not a data input or label of the network; parameters and aux "
                  "states are the executor's own (argArray)");
    detail::checkUsable(array, "input '" + name + "'");
    const Tensor &own = m.args[m.argIndex.at(name)];
    if (array.shape() != own.shape)
      throw Error(m.model.fileName + ": input '" + name + "' has shape " +
                  formatShape(array.shape()) + " but the executor was bound to " +
                  formatShape(own.shape));
  }
  if (m.options.engine == ExecutorOptions::Engine::Reference) {
    // The oracle runs synchronously on copies.
    for (const auto &[name, array] : inputs)
      m.args[m.argIndex.at(name)] = array.toTensor();
    forward(isTrain);
    std::vector<NDArray> out;
    for (size_t o = 0; o < m.outputNames.size(); ++o)
      out.emplace_back((*m.lastResults)[o]);
    m.outputsAsArrays = true;
    return out;
  }

  Function &fn = isTrain ? m.training : m.inference;
  JitModel *jit = fn.jit.get();
  struct Call {
    std::vector<std::shared_ptr<detail::Chunk>> keep;
    std::vector<const void *> args;
    std::vector<void *> results;
  };
  auto call = std::make_shared<Call>();
  std::vector<rt::VarHandle> reads, writes{m.stateVar};
  size_t numArgs = isTrain ? m.trainArgs.size() : m.args.size();
  for (size_t i = 0; i < numArgs; ++i) {
    const Tensor &own = i < m.args.size() ? m.args[i] : m.trainArgs[i];
    call->args.push_back(own.values.data());
  }
  for (const auto &[name, array] : inputs) {
    const auto &a = array.implPtr();
    call->args[m.argIndex.at(name)] = a->data();
    call->keep.push_back(a->chunk);
    reads.push_back(a->var());
  }
  std::vector<NDArray> outputs;
  std::vector<Tensor> &own = jit->resultTensors();
  for (size_t r = 0; r < own.size(); ++r) {
    if (r >= m.outputNames.size()) {
      call->results.push_back(own[r].values.data());
      continue;
    }
    NDArray out(detail::newArray(own[r].shape));
    call->results.push_back(out.implPtr()->data());
    call->keep.push_back(out.implPtr()->chunk);
    writes.push_back(out.implPtr()->var());
    outputs.push_back(std::move(out));
  }
  int64_t step = isTrain ? ++m.step : m.step;
  Impl *self = impl.get();
  detail::engine().push(
      [self, call, jit, isTrain, step](const rt::RunContext &) {
        if (isTrain)
          self->setExtraArgs(step, {}); // ones for every head gradient
        jit->runOnThisThread(call->args.data(), call->results.data());
        if (isTrain) {
          self->lastResults = &jit->resultTensors();
          self->lastWasTraining = true;
          self->storeAuxUpdates(*self->lastResults);
        }
      },
      std::move(reads), std::move(writes), rt::Device::cpu(), 0,
      {isTrain ? "Executor::forward(train)" : "Executor::forward", m.model.fileName, ""});
  m.asyncPending = true;
  m.outputsAsArrays = true;
  return outputs;
}

void Executor::setGradientHook(std::function<void(size_t)> hook) {
  if (hook && impl->options.engine != ExecutorOptions::Engine::Compiled)
    throw Error("setGradientHook needs the compiled engine");
  impl->sync();
  impl->gradientHook = std::move(hook);
  impl->installGradientHook();
}

NDArray Executor::argArray(const std::string &name) {
  return impl->viewOf(impl->args[impl->indexOf(name, "argument")]);
}

NDArray Executor::gradArray(const std::string &paramName) {
  auto it = std::find(impl->paramNames.begin(), impl->paramNames.end(), paramName);
  if (it == impl->paramNames.end())
    throw Error(impl->model.fileName + ": the network has no parameter named '" + paramName +
                "'");
  if (impl->options.engine != ExecutorOptions::Engine::Compiled)
    throw Error("gradArray needs the compiled engine (the reference engine's results move)");
  if (!impl->training.module) {
    impl->sync();
    impl->compileTraining();
  }
  return impl->viewOf(
      impl->training.jit->resultTensors()[impl->gradResult[it - impl->paramNames.begin()]]);
}

std::map<std::string, Tensor> Executor::paramValues() const {
  impl->sync();
  std::map<std::string, Tensor> out;
  for (const auto &n : impl->paramNames)
    out[n] = impl->args[impl->argIndex.at(n)];
  for (const auto &n : impl->auxNames)
    out[n] = impl->args[impl->argIndex.at(n)];
  return out;
}

void Executor::saveCheckpoint(const std::string &prefix, int epoch) const {
  kiln::saveCheckpoint(prefix, epoch, impl->model.mainFunc(), paramValues());
}

double Executor::compileSeconds() const { return impl->compileSec; }

int64_t Executor::trainingArenaBytes() const {
  return impl->training.jit ? impl->training.jit->arenaBytes() : 0;
}

} // namespace kiln
