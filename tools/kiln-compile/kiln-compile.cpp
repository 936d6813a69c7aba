//===- kiln-compile.cpp - Compile a model ---------------------------------===//
//
// kiln-compile MODEL [--params P] --input-shape NAME=DIMS ... --emit KIND -o OUT
//
// Contract: shared/SPEC.md §1.3. Emits the imported, shape-inferred graph
// (`graph`), the model lowered to linalg (`linalg`), the kernels in the LLVM
// dialect (`llvm`) or as object code (`obj`), a stand-alone inference
// executable (`exe`) or a shared library with a C header (`lib`); the last
// two are built in Aot.cpp (docs/aot.md).
//
//===----------------------------------------------------------------------===//

#include "Aot.h"
#include "Compiler/Diagnostics.h"
#include "Compiler/Driver.h"
#include "Compiler/Executable.h"
#include "Target/CPU/JIT.h"
#include "Target/CPU/Pipeline.h"
#include "Transforms/Autodiff.h"
#include "Transforms/MemoryPlan.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/Model.h"
#include "kiln/Error.h"
#include "runtime/io/File.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace kiln;
namespace cl = llvm::cl;

static cl::OptionCategory category("kiln-compile options");
static cl::opt<std::string> modelArg(cl::Positional, cl::Required,
                                     cl::desc("<MODEL-symbol.json | zoo:NAME>"),
                                     cl::cat(category));
static cl::opt<std::string> paramsArg("params", cl::desc("MXNet .params file"),
                                      cl::value_desc("FILE"), cl::cat(category));
static cl::list<std::string> inputShapeArgs("input-shape",
                                            cl::desc("Shape of an input (repeatable)"),
                                            cl::value_desc("NAME=D0,D1,..."), cl::cat(category));
static cl::opt<std::string> emitKind(
    "emit",
    cl::desc("What to produce: graph (imported, shape-inferred graph dialect), linalg (the "
             "model lowered to linalg on tensors), llvm (the outlined kernels in the LLVM "
             "dialect, as the JIT compiles them), obj (the kernels' object code only), exe (a "
             "stand-alone inference executable taking kiln-run's --input/--output-dir/--bench; "
             "needs only libc/libstdc++/libm), lib (a shared library plus a C header, "
             "include/kiln/aot.h's API); exe and lib embed the plan and the weights, link with "
             "$KILN_CXX (default c++) and run on CPUs like this one (docs/aot.md); ptx is not "
             "built yet"),
    cl::value_desc("KIND"), cl::init("graph"), cl::cat(category));
static cl::opt<std::string> memoryReport(
    "memory-report", cl::ValueOptional,
    cl::desc("Print the bytes of intermediate storage under the four planning strategies "
             "(=json for machine-readable output) instead of emitting"),
    cl::value_desc("json"), cl::cat(category));
static cl::opt<bool> trainFlag(
    "train",
    cl::desc("Compile the training function instead of inference: kiln-autodiff's forward "
             "(training mode) + backward, results = heads, parameter gradients, new aux "
             "states (--emit graph|linalg|llvm|obj)"),
    cl::cat(category));
static cl::opt<bool> fuse("fuse",
                          cl::desc("Fuse elementwise chains and epilogues into their "
                                   "producer's kernel (default true; --fuse=false to inspect "
                                   "one kernel per op)"),
                          cl::init(true), cl::cat(category));
static cl::opt<bool> printIRAfterAll("print-ir-after-all",
                                     cl::desc("Print the IR after every pass (--emit linalg)"),
                                     cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("OUT"), cl::init("-"), cl::cat(category));
static cl::opt<std::string> target("target", cl::desc("cpu (default) or nvptx"),
                                   cl::init("cpu"), cl::cat(category));
static cl::opt<long long> randomParams(
    "random-params",
    cl::desc("--emit exe|lib: fill parameters missing from --params with seeded values, as "
             "kiln-run --random-params does"),
    cl::value_desc("SEED"), cl::init(-1), cl::cat(category));
static cl::opt<bool> externalParams(
    "external-params",
    cl::desc("--emit exe|lib: do not embed the weights; the executable takes --params "
             "FILE.params at run time, the library kiln_model_create(\"FILE.params\", ...)"),
    cl::cat(category));
static cl::opt<std::string> headerPath(
    "header", cl::desc("--emit lib: where the C header goes (default: NAME.h next to libNAME.so)"),
    cl::value_desc("PATH"), cl::cat(category));

/// Replaces @main by its training function (kiln-autodiff: the forward in
/// training mode, then the backward), as kiln::Executor compiles it.
static void differentiateMain(mlir::ModuleOp module) {
  DiagnosticCollector diagnostics(module->getContext());
  if (mlir::failed(differentiate(module.lookupSymbol<mlir::func::FuncOp>("main"))))
    diagnostics.fail("automatic differentiation failed");
}

/// The report of the plan the runtime really uses: the model outlined into
/// kernels as the JIT path does, then planned under each strategy; for
/// inference and for the training function (forward + backward).
static std::string formatMemoryReport(mlir::ModuleOp model, bool json) {
  auto planOf = [&](bool training) {
    mlir::OwningOpRef<mlir::ModuleOp> clone = llvm::cast<mlir::ModuleOp>(model->clone());
    if (training)
      differentiateMain(*clone);
    ExecutableOptions options;
    options.fuse = fuse;
    (void)buildExecutable(*clone, options);
    auto report = computeMemoryReport(clone->lookupSymbol<mlir::func::FuncOp>("main"));
    if (mlir::failed(report))
      throw Error(std::string("cannot plan the model's memory for ") +
                  (training ? "training" : "inference"));
    return *report;
  };
  MemoryReport inference = planOf(false), training = planOf(true);
  auto ll = [](int64_t v) { return static_cast<long long>(v); };
  char text[1024];
  if (json)
    std::snprintf(text, sizeof(text),
                  "{\"inference\":{\"naive\":%lld,\"inplace\":%lld,\"coshare\":%lld,"
                  "\"both\":%lld},\"training\":{\"naive\":%lld,\"inplace\":%lld,"
                  "\"coshare\":%lld,\"both\":%lld}}\n",
                  ll(inference.naive), ll(inference.inplace), ll(inference.coshare),
                  ll(inference.both), ll(training.naive), ll(training.inplace),
                  ll(training.coshare), ll(training.both));
  else
    std::snprintf(text, sizeof(text),
                  "intermediate storage (bytes)   inference        training\n"
                  "  naive                   %15lld %15lld\n"
                  "  inplace                 %15lld %15lld\n"
                  "  coshare                 %15lld %15lld\n"
                  "  both (what runs)        %15lld %15lld\n",
                  ll(inference.naive), ll(training.naive), ll(inference.inplace),
                  ll(training.inplace), ll(inference.coshare), ll(training.coshare),
                  ll(inference.both), ll(training.both));
  return text;
}

static void runPipeline(mlir::ModuleOp module, const std::function<void(mlir::PassManager &)> &build) {
  mlir::PassManager pm(module->getContext());
  if (printIRAfterAll) {
    module->getContext()->disableMultithreading();
    pm.enableIRPrinting();
  }
  build(pm);
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  mlir::ScopedDiagnosticHandler handler(module->getContext(), [&](mlir::Diagnostic &d) {
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  if (mlir::failed(pm.run(module)))
    throw Error("lowering failed: " + os.str());
}

/// Inputs that inference never reads: unused, or every use is the `label`
/// operand of a loss head (MXNet's *_label variables). The artifacts let a
/// caller leave them out, as kiln-run does, and require every other input.
static std::vector<std::string> optionalInputs(mlir::func::FuncOp main) {
  std::vector<std::string> names;
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    if (argKind(main, i) != ArgKind::Input)
      continue;
    mlir::Value arg = main.getArgument(i);
    bool labelOnly = true;
    for (mlir::OpOperand &use : arg.getUses()) {
      llvm::StringRef op = use.getOwner()->getName().getStringRef();
      labelOnly &= use.getOperandNumber() == 1 &&
                   (op == "graph.softmax_output" || op == "graph.linear_regression_output" ||
                    op == "graph.logistic_regression_output" ||
                    op == "graph.mae_regression_output");
    }
    if (labelOnly)
      names.push_back(argName(main, i));
  }
  return names;
}

/// --emit exe|lib: outline, plan, bind the parameters (unless external) in
/// the plan's parameter order and hand everything to the AOT builder.
static void emitArtifact(LoadedModel &model, const char *argv0) {
  aot::BuildOptions options;
  options.sharedLibrary = emitKind == "lib";
  options.outputPath = outputPath;
  options.headerPath = headerPath;
  options.modelName = modelArg;
  options.externalParams = externalParams;
  options.optionalInputs = optionalInputs(model.mainFunc());
  options.toolArgv0 = argv0;

  // Bound before compiling, so a missing parameter fails fast.
  std::vector<Tensor> argValues;
  if (!externalParams) {
    std::optional<uint64_t> seed;
    if (randomParams >= 0)
      seed = uint64_t(randomParams);
    argValues = driver::bindParameters(model, seed);
  }

  ExecutableOptions execOptions;
  execOptions.fuse = fuse;
  CompiledModel compiled = buildExecutable(*model.module, execOptions);
  std::vector<const Tensor *> params;
  if (!externalParams) {
    // Plan::paramSlots follow the param/aux arguments in argument order,
    // which is LoadedModel::args' order; the names must agree.
    size_t next = 0;
    for (size_t i = 0; i < model.args.size(); ++i) {
      if (model.args[i].kind == ModelArg::Input)
        continue;
      if (next >= compiled.plan.paramSlots.size() ||
          compiled.plan.slots[compiled.plan.paramSlots[next]].name != model.args[i].name)
        throw Error("internal error: the plan's parameters do not follow the model's "
                    "arguments at '" + model.args[i].name + "'");
      params.push_back(&argValues[i]);
      ++next;
    }
  }
  std::string header = aot::buildArtifact(compiled, params, options);
  std::fprintf(stderr, "kiln-compile: wrote %s (%s, %zu kernels, %zu steps, arena %lld bytes, "
                       "weights %s)%s%s\n",
               outputPath.c_str(), options.sharedLibrary ? "shared library" : "executable",
               compiled.plan.kernelNames.size(), compiled.plan.steps.size(),
               (long long)compiled.plan.arenaBytes, externalParams ? "external" : "embedded",
               header.empty() ? "" : " and ", header.c_str());
}

static int compileTool(const char *argv0) {
  if (emitKind != "graph" && emitKind != "linalg" && emitKind != "llvm" && emitKind != "obj" &&
      emitKind != "exe" && emitKind != "lib")
    throw Error("--emit " + emitKind + " is not available in this build yet; it emits graph, "
                "linalg, llvm, obj, exe and lib");
  bool artifact = emitKind == "exe" || emitKind == "lib";
  if ((emitKind == "obj" || artifact) && outputPath == "-")
    throw Error("--emit " + emitKind + " needs -o FILE");
  if (!artifact && (randomParams >= 0 || externalParams))
    throw Error(std::string(externalParams ? "--external-params" : "--random-params") +
                " only applies to --emit exe|lib");
  if (!headerPath.empty() && emitKind != "lib")
    throw Error("--header only applies to --emit lib");
  if (externalParams && randomParams >= 0)
    throw Error("--random-params has no effect with --external-params (the weights are read at "
                "run time); save random parameters with kiln-run --random-params SEED "
                "--save-checkpoint PREFIX");
  if (target != "cpu")
    throw Error("--target " + target + " is not available in this build yet");

  std::map<std::string, std::vector<int64_t>> inputShapes;
  for (const std::string &spec : inputShapeArgs) {
    auto [name, dims] = driver::parseShapeSpec(spec, "--input-shape");
    if (!inputShapes.emplace(name, dims).second)
      throw Error("--input-shape " + name + " given twice");
  }

  mlir::DialectRegistry registry;
  cpu::registerCPUPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  LoadedModel model = loadModel(context, modelArg, paramsArg, inputShapes);

  std::string text;
  llvm::raw_string_ostream os(text);
  if (trainFlag && !memoryReport.getNumOccurrences()) {
    if (artifact)
      throw Error("--train: AOT executables and libraries are inference-only; use --emit "
                  "graph|linalg|llvm|obj for the training function");
    differentiateMain(*model.module);
  }
  if (memoryReport.getNumOccurrences()) {
    if (!memoryReport.empty() && memoryReport != "json")
      throw Error("--memory-report takes no value or =json, got '" + memoryReport + "'");
    text = formatMemoryReport(*model.module, memoryReport == "json");
  } else if (artifact) {
    emitArtifact(model, argv0);
    return 0;
  } else if (emitKind == "graph") {
    model.module->print(os);
  } else if (emitKind == "linalg") {
    runPipeline(*model.module, [](mlir::PassManager &pm) { cpu::buildGraphToLinalgPipeline(pm); });
    model.module->print(os);
  } else if (emitKind == "obj") {
    ExecutableOptions options;
    options.fuse = fuse;
    CompiledModel compiled = buildExecutable(*model.module, options);
    cpu::JitOptions jitOptions;
    jitOptions.keepObject = true;
    auto kernels = cpu::CPUJit::compile(*compiled.kernels, jitOptions);
    if (!kernels)
      throw Error("compiling the kernels failed: " + llvm::toString(kernels.takeError()));
    (*kernels)->writeObjectFile(outputPath);
    std::fprintf(stderr, "kiln-compile: %zu kernels compiled in %.3f s (MLIR %.3f s, LLVM %.3f s)\n",
                 (*kernels)->kernels().size(), (*kernels)->compileSeconds(),
                 (*kernels)->pipelineSeconds(), (*kernels)->codegenSeconds());
    return 0;
  } else {
    ExecutableOptions options;
    options.fuse = fuse;
    CompiledModel compiled = buildExecutable(*model.module, options);
    std::string diagnostics;
    if (mlir::failed(cpu::CPUJit::lowerToLLVMDialect(*compiled.kernels, cpu::JitOptions(),
                                                     &diagnostics)))
      throw Error("lowering the kernels failed: " + diagnostics);
    compiled.kernels->print(os);
  }
  os.flush();
  if (outputPath == "-")
    std::fwrite(text.data(), 1, text.size(), stdout);
  else
    writeFileAtomically(outputPath, text);
  return 0;
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln-compile: compile an MXNet model (symbol file or "
                              "zoo:NAME)\n");
  return driver::guardedMain("kiln-compile", [&] { return compileTool(argv[0]); });
}
