//===- kiln-run.cpp - Run a model on .npy inputs --------------------------===//
//
// kiln-run MODEL [--params P] --input NAME=FILE.npy ... [--output-dir DIR]
//          [--train] [--backward [--grad-inputs]] [--head-grad NAME=FILE.npy]
//          [--target cpu|cuda] [--bench N] [--random-params SEED]
//          [--engine compiled|reference] [--recompute]
//
// Contract: shared/SPEC.md §1.2. Writes DIR/out<i>.npy per head; with
// --train also DIR/aux_<name>.npy per aux state (the updated moving
// statistics); with --backward also DIR/grad_<name>.npy per learnable
// argument (and, with --grad-inputs, per --input). --train runs the
// kiln-graph-training-mode rewrite of the model, --backward its kiln-autodiff
// rewrite (docs/autodiff.md), on either engine; --recompute adds
// kiln-recompute (MXNet's mirror, docs/memory.md) after it.
//
//===----------------------------------------------------------------------===//

#include "Compiler/JitModel.h"
#include "Compiler/Driver.h"
#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "Import/Import.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/Autodiff.h"
#include "Transforms/Recompute.h"
#include "kiln/Error.h"
#include "runtime/io/Npy.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

using namespace kiln;
namespace cl = llvm::cl;

static cl::OptionCategory category("kiln-run options");
static cl::opt<std::string> modelArg(cl::Positional, cl::Required,
                                     cl::desc("<MODEL-symbol.json | zoo:NAME>"),
                                     cl::cat(category));
static cl::opt<std::string> paramsArg("params", cl::desc("MXNet .params file"),
                                      cl::value_desc("FILE"), cl::cat(category));
static cl::list<std::string> inputArgs("input", cl::desc("Input array (repeatable)"),
                                       cl::value_desc("NAME=FILE.npy"), cl::cat(category));
static cl::opt<std::string> outputDir("output-dir", cl::desc("Where out<i>.npy go"),
                                      cl::value_desc("DIR"), cl::init("."),
                                      cl::cat(category));
static cl::opt<bool> trainMode("train", cl::desc("Training mode (batch statistics, dropout)"),
                               cl::cat(category));
static cl::opt<bool> backward(
    "backward",
    cl::desc("Also compute the gradient of every learnable argument (implies --train)"),
    cl::cat(category));
static cl::opt<bool> gradInputs(
    "grad-inputs",
    cl::desc("With --backward, also write grad_<input>.npy for every --input (saliency maps, "
             "adversarial examples; a label input gets zeros, as in MXNet)"),
    cl::cat(category));
static cl::list<std::string> headGrads(
    "head-grad",
    cl::desc("Gradient of a head that is not a loss head, by output name (with --backward; "
             "default: ones)"),
    cl::value_desc("NAME=FILE.npy"), cl::cat(category));
static cl::opt<std::string> target("target", cl::desc("cpu (default) or cuda"),
                                   cl::init("cpu"), cl::cat(category));
static cl::opt<unsigned> benchIters("bench", cl::desc("Time N iterations after warm-up"),
                                    cl::value_desc("N"), cl::init(0), cl::cat(category));
static cl::opt<long long> randomParams(
    "random-params", cl::desc("Fill parameters missing from --params with seeded values"),
    cl::value_desc("SEED"), cl::init(-1), cl::cat(category));
static cl::opt<std::string> saveCheckpointPrefix(
    "save-checkpoint",
    cl::desc("Also write the model and the parameters it ran with as an MXNet checkpoint "
             "PREFIX-symbol.json + PREFIX-0000.params"),
    cl::value_desc("PREFIX"), cl::cat(category));
static cl::opt<std::string> engine(
    "engine",
    cl::desc("compiled (default): JIT-compiled kernels on the runtime engine; "
             "reference: the reference interpreter"),
    cl::init("compiled"), cl::cat(category));
static cl::opt<bool> recomputeFlag(
    "recompute",
    cl::desc("With --backward: recompute cheap activations in the backward instead of keeping "
             "them from the forward (kiln-recompute, MXNet's mirror), as kiln-train --recompute "
             "does"),
    cl::cat(category));

/// Runs `transform` on the model function; a failure becomes one kiln::Error
/// carrying the MLIR diagnostics (which name the op or argument at fault).
static void transformModel(mlir::MLIRContext &context, const std::string &fileName,
                           const char *what, const std::function<mlir::LogicalResult()> &transform) {
  std::string messages;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (!messages.empty())
      messages += "; ";
    llvm::raw_string_ostream os(messages);
    if (auto name = llvm::dyn_cast<mlir::NameLoc>(d.getLocation()))
      os << "node '" << name.getName().getValue() << "': ";
    os << d.str();
    return mlir::success();
  });
  if (mlir::failed(transform()))
    throw Error(fileName + ": " + what + " failed: " + messages);
}

static std::string stringAttr(mlir::DictionaryAttr attrs, const char *name) {
  if (attrs)
    if (auto s = attrs.getAs<mlir::StringAttr>(name))
      return s.str();
  return "";
}

static int runTool() {
  if (engine != "reference" && engine != "compiled")
    throw Error("--engine must be 'compiled' or 'reference', got '" + engine + "'");
  bool compiled = engine == "compiled";
  if (target != "cpu")
    throw Error("--target=" + target + " is not available yet; this build runs on cpu");
  if (!headGrads.empty() && !backward)
    throw Error("--head-grad needs --backward");
  if (gradInputs && !backward)
    throw Error("--grad-inputs needs --backward");
  if (recomputeFlag && !backward)
    throw Error("--recompute changes the backward: use it with --backward");
  // --backward implies --train (SPEC §1.2).
  bool training = trainMode || backward;

  // Inputs first: their shapes drive shape inference.
  std::map<std::string, Tensor> inputs;
  std::map<std::string, std::vector<int64_t>> inputShapes;
  for (const std::string &spec : inputArgs) {
    auto [name, path] = driver::parseNamedPath(spec, "--input");
    std::string note;
    Tensor t = readNpy(path, &note);
    if (!note.empty())
      std::fprintf(stderr, "kiln-run: note: %s: %s\n", path.c_str(), note.c_str());
    if (inputs.count(name))
      throw Error("--input " + name + " given twice");
    inputShapes[name] = t.shape;
    inputs[name] = std::move(t);
  }

  mlir::MLIRContext context;
  LoadedModel model = loadModel(context, modelArg, paramsArg, inputShapes);
  std::optional<uint64_t> seed;
  if (randomParams >= 0)
    seed = uint64_t(randomParams);
  std::vector<Tensor> argValues = driver::bindParameters(model, seed);

  for (auto &[name, t] : inputs) {
    auto it = std::find_if(model.args.begin(), model.args.end(),
                           [&](const ModelArg &a) { return a.name == name; });
    if (it == model.args.end())
      throw Error("--input " + name + ": the model has no input named '" + name + "'");
    if (it->kind != ModelArg::Input)
      throw Error("--input " + name + ": '" + name + "' is a " +
                  (it->kind == ModelArg::Param ? "parameter" : "auxiliary state") +
                  " of the model, not an input");
    argValues[it - model.args.begin()] = std::move(t);
  }
  for (size_t i = 0; i < model.args.size(); ++i) {
    const ModelArg &arg = model.args[i];
    if (arg.kind != ModelArg::Input || inputs.count(arg.name))
      continue;
    // Labels are inputs the forward pass does not read; zeros are harmless.
    std::fprintf(stderr, "kiln-run: note: input '%s' not given; using zeros of shape %s\n",
                 arg.name.c_str(), formatShape(arg.shape).c_str());
    argValues[i] = Tensor(arg.shape);
  }

  // Training mode and the backward are rewrites of the model function;
  // both engines then run an ordinary function whose extra arguments and
  // results are told apart by their graph.kind.
  // The rewrites work on a copy: --save-checkpoint exports the model itself.
  mlir::OwningOpRef<mlir::ModuleOp> runModule = mlir::cast<mlir::ModuleOp>(model.module->clone());
  auto mainFunc = runModule->lookupSymbol<mlir::func::FuncOp>("main");
  if (backward) {
    // Learnable: every argument neither given by --input nor an aux state;
    // with --grad-inputs the given inputs too.
    AutodiffOptions options;
    for (const ModelArg &arg : model.args)
      if (arg.kind != ModelArg::Aux && (gradInputs || !inputs.count(arg.name)))
        options.wrt.push_back(arg.name);
    transformModel(context, model.fileName, "automatic differentiation",
                   [&] { return differentiate(mainFunc, options); });
    if (recomputeFlag)
      transformModel(context, model.fileName, "recompute",
                     [&] { return mlir::LogicalResult(recompute(mainFunc)); });
  } else if (training) {
    transformModel(context, model.fileName, "the training-mode rewrite",
                   [&] { return applyTrainingMode(mainFunc); });
  }

  // The arguments the rewrites appended: the RNG counter (0: one fixed set
  // of dropout masks per invocation) and one head gradient per head that is
  // not a loss head (ones unless --head-grad gives it).
  std::map<std::string, Tensor> givenHeadGrads;
  for (const std::string &spec : headGrads) {
    auto [name, path] = driver::parseNamedPath(spec, "--head-grad");
    if (givenHeadGrads.count(name))
      throw Error("--head-grad " + name + " given twice");
    std::string note;
    givenHeadGrads[name] = readNpy(path, &note);
    if (!note.empty())
      std::fprintf(stderr, "kiln-run: note: %s: %s\n", path.c_str(), note.c_str());
  }
  std::set<std::string> headGradNames;
  for (unsigned i = argValues.size(); i < mainFunc.getNumArguments(); ++i) {
    std::string kind = stringAttr(mainFunc.getArgAttrDict(i), kGraphKindAttr);
    std::string name = stringAttr(mainFunc.getArgAttrDict(i), kGraphNameAttr);
    auto type = mlir::cast<mlir::RankedTensorType>(mainFunc.getArgumentTypes()[i]);
    Tensor value(std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
    if (kind == kHeadGradKind) {
      std::string head = name.substr(0, name.size() - 5); // "<head>_grad"
      headGradNames.insert(head);
      auto given = givenHeadGrads.find(head);
      if (given == givenHeadGrads.end()) {
        std::fill(value.values.begin(), value.values.end(), 1.0f);
      } else if (given->second.shape != value.shape) {
        throw Error("--head-grad " + head + ": has shape " + formatShape(given->second.shape) +
                    " but the head has shape " + formatShape(value.shape));
      } else {
        value = given->second;
      }
    } else if (kind != kRngCounterKind) {
      throw Error(model.fileName + ": the transformed model has an argument '" + name +
                  "' of unexpected kind '" + kind + "'");
    }
    argValues.push_back(std::move(value));
  }
  for (auto &[name, t] : givenHeadGrads) {
    if (headGradNames.count(name))
      continue;
    if (std::find(model.outputNames.begin(), model.outputNames.end(), name) ==
        model.outputNames.end()) {
      std::string heads;
      for (const std::string &h : model.outputNames)
        heads += (heads.empty() ? "" : ", ") + h;
      throw Error("--head-grad " + name + ": the model has no head named '" + name +
                  "' (heads: " + heads + ")");
    }
    std::fprintf(stderr,
                 "kiln-run: note: --head-grad %s ignored: a loss head uses its own gradient\n",
                 name.c_str());
  }

  std::vector<Tensor> referenceOutputs;
  const std::vector<Tensor> *outputsPtr = &referenceOutputs;
  std::function<void()> runOnce;
  std::unique_ptr<JitModel> compiledModel;
  std::vector<ref::Array> refArgs;
  if (compiled) {
    compiledModel = JitModel::compile(*runModule);
    std::fprintf(stderr, "kiln-run: compiled %zu kernels in %.3f s (arena %lld bytes)\n",
                 compiledModel->numKernels(), compiledModel->compileSeconds(),
                 (long long)compiledModel->arenaBytes());
    runOnce = [&]() { outputsPtr = &compiledModel->run(argValues); };
  } else {
    refArgs = ref::fromTensors(argValues);
    runOnce = [&]() {
      ref::Result result = ref::run(mainFunc, refArgs);
      referenceOutputs = ref::toTensors(result.outputs);
    };
  }
  runOnce();

  if (benchIters > 0) {
    std::vector<double> ms;
    for (unsigned i = 0; i < benchIters; ++i) {
      auto start = std::chrono::steady_clock::now();
      runOnce();
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("bench: iters=%u min_ms=%.3f median_ms=%.3f\n", unsigned(benchIters), ms.front(),
                ms[ms.size() / 2]);
  }

  if (!saveCheckpointPrefix.empty()) {
    std::map<std::string, Tensor> values;
    for (size_t i = 0; i < model.args.size(); ++i)
      if (model.args[i].kind != ModelArg::Input)
        values[model.args[i].name] = argValues[i];
    saveCheckpoint(saveCheckpointPrefix, 0, model.mainFunc(), values);
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    throw Error("cannot create --output-dir '" + outputDir + "': " + ec.message());
  // Heads in order as out<i>.npy; the rewrites' extra results by kind.
  const std::vector<Tensor> &outputs = *outputsPtr;
  unsigned head = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    mlir::DictionaryAttr attrs = mainFunc.getResultAttrDict(i);
    std::string kind = stringAttr(attrs, kGraphKindAttr);
    std::string name = stringAttr(attrs, kGraphNameAttr);
    std::string file = kind == kGradKind ? "grad_" + name
                       : kind == kAuxKind ? "aux_" + name
                                          : "out" + std::to_string(head++);
    writeNpy(outputDir + "/" + file + ".npy", outputs[i]);
  }
  return 0;
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln-run: run an MXNet model (symbol file or zoo:NAME) on "
                              ".npy inputs\n");
  return driver::guardedMain("kiln-run", runTool);
}
