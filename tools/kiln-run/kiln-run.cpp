//===- kiln-run.cpp - Run a model on .npy inputs --------------------------===//
//
// kiln-run MODEL [--params P] --input NAME=FILE.npy ... [--output-dir DIR]
//          [--train] [--backward] [--head-grad NAME=FILE.npy]
//          [--target cpu|cuda] [--bench N] [--random-params SEED]
//          [--engine compiled|reference]
//
// Contract: shared/SPEC.md §1.2. Writes DIR/out<i>.npy per head.
//
//===----------------------------------------------------------------------===//

#include "Compiler/JitModel.h"
#include "Compiler/Driver.h"
#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "kiln/Error.h"
#include "runtime/io/Npy.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

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
static cl::opt<bool> backward("backward",
                              cl::desc("Also compute gradients (needs autodiff; not yet)"),
                              cl::cat(category));
static cl::list<std::string> headGrads("head-grad", cl::desc("Head gradient (with --backward)"),
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

static int runTool() {
  if (engine != "reference" && engine != "compiled")
    throw Error("--engine must be 'compiled' or 'reference', got '" + engine + "'");
  bool compiled = engine == "compiled";
  if (compiled && trainMode) {
    // Training-mode kernels (batch statistics, dropout masks) arrive with
    // the training issue; until then the oracle runs them.
    std::fprintf(stderr, "kiln-run: note: --train runs on the reference engine in this build\n");
    compiled = false;
  }
  if (target != "cpu")
    throw Error("--target=" + target + " is not available yet; this build runs on cpu");
  if (backward || !headGrads.empty())
    throw Error("--backward needs the autodiff pass, which this build does not have yet");

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

  std::vector<Tensor> referenceOutputs;
  const std::vector<Tensor> *outputsPtr = &referenceOutputs;
  std::map<unsigned, Tensor> updatedAux;
  std::function<void()> runOnce;
  std::unique_ptr<JitModel> compiledModel;
  std::vector<ref::Array> refArgs;
  ref::Options options;
  if (compiled) {
    compiledModel = JitModel::compile(*model.module);
    std::fprintf(stderr, "kiln-run: compiled %zu kernels in %.3f s (arena %lld bytes)\n",
                 compiledModel->numKernels(), compiledModel->compileSeconds(),
                 (long long)compiledModel->arenaBytes());
    runOnce = [&]() { outputsPtr = &compiledModel->run(argValues); };
  } else {
    refArgs = ref::fromTensors(argValues);
    options.training = trainMode;
    runOnce = [&]() {
      ref::Result result = ref::run(model.mainFunc(), refArgs, options);
      referenceOutputs = ref::toTensors(result.outputs);
      for (auto &[argIndex, value] : result.updatedArgs)
        updatedAux[argIndex] = ref::toTensor(value);
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
  const std::vector<Tensor> &outputs = *outputsPtr;
  for (size_t i = 0; i < outputs.size(); ++i)
    writeNpy(outputDir + "/out" + std::to_string(i) + ".npy", outputs[i]);
  for (auto &[argIndex, value] : updatedAux)
    writeNpy(outputDir + "/aux_" + model.args[argIndex].name + ".npy", value);
  return 0;
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln-run: run an MXNet model (symbol file or zoo:NAME) on "
                              ".npy inputs\n");
  return driver::guardedMain("kiln-run", runTool);
}
