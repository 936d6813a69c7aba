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
#include "Transforms/Fusion.h"
#include "Transforms/MemoryPlan.h"
#include "Transforms/OutlineKernels.h"
#include "Transforms/Recompute.h"
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
static cl::opt<std::string> memoryTimeline(
    "memory-timeline",
    cl::desc("Write the arena's use step by step, for inference and for training, as CSV "
             "(phase,step,node,live_bytes,naive_bytes,arena_in_use_bytes,arena_bytes) to FILE; "
             "bench/plan_picture.py draws it"),
    cl::value_desc("FILE"), cl::cat(category));
static cl::opt<bool> trainFlag(
    "train",
    cl::desc("Compile the training function instead of inference: kiln-autodiff's forward "
             "(training mode) + backward, results = heads, parameter gradients, new aux "
             "states (--emit graph|linalg|llvm|obj)"),
    cl::cat(category));
static cl::opt<bool> recomputeFlag(
    "recompute",
    cl::desc("With --train or --memory-report: recompute cheap activations in the backward "
             "instead of keeping them from the forward (kiln-recompute, MXNet's mirror; "
             "docs/memory.md)"),
    cl::cat(category));
static cl::opt<bool> fuse("fuse",
                          cl::desc("Fuse elementwise chains and epilogues into their "
                                   "producer's kernel (default true; --fuse=false to inspect "
                                   "one kernel per op)"),
                          cl::init(true), cl::cat(category));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after PHASE and print the IR there (instead of --emit): graph (imported, "
             "shape-inferred; with --train the training function), fused (kiln-graph-fuse's "
             "fusion groups), outlined (the model function as a schedule of kernel calls, plus "
             "the kernels in the graph dialect), then the kernels as the JIT compiles them: "
             "linalg (on tensors), vectorized (tiled and vectorized, on tensors), bufferized "
             "(on memrefs, results as out-params), loops (scf/vector loops, before the LLVM "
             "conversion), llvm (the LLVM dialect, = --emit llvm)"),
    cl::value_desc("PHASE"), cl::cat(category));
static cl::opt<bool> printIRAfterAll(
    "print-ir-after-all",
    cl::desc("Print the IR after every pass to stderr (--emit linalg|llvm, --compile-to)"),
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
/// training mode, then the backward), as kiln::Executor compiles it; with
/// --recompute also kiln-recompute, whose statistics go to `stats`.
static void differentiateMain(mlir::ModuleOp module, RecomputeStats *stats = nullptr) {
  DiagnosticCollector diagnostics(module->getContext());
  auto main = module.lookupSymbol<mlir::func::FuncOp>("main");
  if (mlir::failed(differentiate(main)))
    diagnostics.fail("automatic differentiation failed");
  if (!recomputeFlag)
    return;
  mlir::FailureOr<RecomputeStats> recomputed = recompute(main);
  if (mlir::failed(recomputed))
    diagnostics.fail("recompute failed");
  if (stats)
    *stats = *recomputed;
}

/// A copy of `model` outlined into kernels as the JIT path runs it: the
/// inference function, or the training function (with --recompute's
/// statistics in `stats` and the estimated FLOPs of the whole training
/// function, clones included, in `flops`).
static mlir::OwningOpRef<mlir::ModuleOp> outlinedCopy(mlir::ModuleOp model, bool training,
                                                      RecomputeStats *stats = nullptr,
                                                      double *flops = nullptr) {
  mlir::OwningOpRef<mlir::ModuleOp> clone = llvm::cast<mlir::ModuleOp>(model->clone());
  if (training) {
    differentiateMain(*clone, stats);
    if (flops)
      clone->lookupSymbol<mlir::func::FuncOp>("main").walk(
          [&](mlir::Operation *op) { *flops += estimateFlops(op); });
  }
  ExecutableOptions options;
  options.fuse = fuse;
  (void)buildExecutable(*clone, options);
  return clone;
}

/// The report of the plan the runtime really uses: the model outlined into
/// kernels as the JIT path does, then planned under each strategy; for
/// inference and for the training function (forward + backward).
static std::string formatMemoryReport(mlir::ModuleOp model, bool json) {
  RecomputeStats recomputed;
  double trainingFlops = 0;
  auto planOf = [&](bool training) {
    mlir::OwningOpRef<mlir::ModuleOp> outlined =
        outlinedCopy(model, training, &recomputed, recomputeFlag ? &trainingFlops : nullptr);
    auto report = computeMemoryReport(outlined->lookupSymbol<mlir::func::FuncOp>("main"));
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
  if (!recomputeFlag)
    return text;
  // The training column is the plan with recompute; say what it costs.
  std::string out = text;
  if (json) {
    std::snprintf(text, sizeof(text),
                  ",\"training_recompute\":{\"values\":%u,\"ops\":%u,\"bytes\":%lld,"
                  "\"flops\":%.0f,\"training_flops\":%.0f}}\n",
                  recomputed.values, recomputed.ops, ll(recomputed.bytes), recomputed.flops,
                  trainingFlops);
    out.erase(out.size() - 2); // "}\n"
  } else {
    std::snprintf(text, sizeof(text),
                  "training with --recompute: %u values (%lld bytes) recomputed by %u ops in "
                  "the backward, %.3g GFLOP (%.2f%% of the %.3g GFLOP step)\n",
                  recomputed.values, ll(recomputed.bytes), recomputed.ops, recomputed.flops / 1e9,
                  trainingFlops > 0 ? 100 * recomputed.flops / trainingFlops : 0.0,
                  trainingFlops / 1e9);
  }
  return out + text;
}

/// --compile-to PHASE: the model taken as far as PHASE, as kiln-run and the
/// JIT would compile it, printed to `os`.
static void compileToPhase(LoadedModel &model, llvm::StringRef phase, llvm::raw_ostream &os) {
  llvm::ArrayRef<llvm::StringRef> kernelPhases = cpu::cpuPipelinePhases();
  bool kernelPhase = llvm::is_contained(kernelPhases, phase);
  if (phase != "graph" && phase != "fused" && phase != "outlined" && !kernelPhase) {
    std::string known = "graph, fused, outlined";
    for (llvm::StringRef p : kernelPhases)
      known += ", " + p.str();
    throw Error("--compile-to " + phase.str() + ": unknown phase; the phases are " + known);
  }
  if (phase == "graph") {
    model.module->print(os);
    return;
  }
  if (phase == "fused") {
    if (fuse)
      (void)fuseGraph(model.mainFunc());
    model.module->print(os);
    return;
  }
  ExecutableOptions options;
  options.fuse = fuse;
  CompiledModel compiled = buildExecutable(*model.module, options);
  if (phase == "outlined") {
    model.module->print(os);
    return;
  }
  cpu::JitOptions jitOptions;
  jitOptions.stopAfter = phase == "llvm" ? "" : phase.str();
  jitOptions.printIRAfterAll = printIRAfterAll;
  std::string diagnostics;
  if (mlir::failed(cpu::CPUJit::lowerToLLVMDialect(*compiled.kernels, jitOptions, &diagnostics)))
    throw Error("lowering the kernels failed: " + diagnostics);
  compiled.kernels->print(os);
}

/// --memory-timeline: per step of the plan the runtime uses (strategy
/// `both`), the bytes of live intermediates, the naive plan's allocation so
/// far and the highest arena byte in use; inference then training.
static void writeMemoryTimeline(mlir::ModuleOp model, const std::string &path) {
  std::string csv = "phase,step,node,live_bytes,naive_bytes,arena_in_use_bytes,arena_bytes\n";
  for (bool training : {false, true}) {
    mlir::OwningOpRef<mlir::ModuleOp> outlined = outlinedCopy(model, training);
    auto plan = planFunctionMemory(outlined->lookupSymbol<mlir::func::FuncOp>("main"));
    if (mlir::failed(plan))
      throw Error("cannot plan the model's memory");
    std::vector<memplan::StepMemory> timeline =
        memplan::memoryTimeline(plan->problem, plan->assignment);
    for (size_t s = 0; s < timeline.size(); ++s) {
      std::string node = nodeNameOf(plan->steps[s]->getLoc());
      std::replace(node.begin(), node.end(), ',', ';');
      csv += std::string(training ? "training," : "inference,") + std::to_string(s) + "," +
             node + "," + std::to_string(timeline[s].liveBytes) + "," +
             std::to_string(timeline[s].naiveBytes) + "," +
             std::to_string(timeline[s].arenaInUse) + "," +
             std::to_string(plan->assignment.arenaBytes) + "\n";
    }
  }
  writeFileAtomically(path, csv);
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
  if (recomputeFlag && !trainFlag && !memoryReport.getNumOccurrences())
    throw Error("--recompute changes the training function: use it with --train or "
                "--memory-report");
  if (compileTo.getNumOccurrences() && emitKind.getNumOccurrences())
    throw Error("--compile-to and --emit both say what to produce; give one");
  if (!memoryTimeline.empty() && (compileTo.getNumOccurrences() || emitKind.getNumOccurrences()))
    throw Error("--memory-timeline writes a CSV file instead of emitting; drop --emit / "
                "--compile-to (it combines with --memory-report)");
  if (compileTo.getNumOccurrences() && memoryReport.getNumOccurrences())
    throw Error("--compile-to prints IR, --memory-report a report; give one");

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
  if (!memoryTimeline.empty()) {
    writeMemoryTimeline(*model.module, memoryTimeline);
    if (!memoryReport.getNumOccurrences())
      return 0;
  }
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
  } else if (compileTo.getNumOccurrences()) {
    compileToPhase(model, compileTo, os);
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
    compileToPhase(model, "llvm", os);
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
