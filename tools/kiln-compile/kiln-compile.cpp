//===- kiln-compile.cpp - Compile a model ---------------------------------===//
//
// kiln-compile MODEL [--params P] --input-shape NAME=DIMS ... --emit KIND -o OUT
//
// Contract: shared/SPEC.md §1.3. This build emits `graph`: the imported,
// shape-inferred graph-dialect module.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Driver.h"
#include "Compiler/Executable.h"
#include "Target/CPU/JIT.h"
#include "Target/CPU/Pipeline.h"
#include "Transforms/MemoryPlan.h"
#include "Graph/GraphOps.h"
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
             "dialect, as the JIT compiles them), obj (the kernels' object code; the plan and "
             "weights are not embedded yet); lib|exe|ptx are not built yet"),
    cl::value_desc("KIND"), cl::init("graph"), cl::cat(category));
static cl::opt<std::string> memoryReport(
    "memory-report", cl::ValueOptional,
    cl::desc("Print the bytes of intermediate storage under the four planning strategies "
             "(=json for machine-readable output) instead of emitting"),
    cl::value_desc("json"), cl::cat(category));
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

/// The report of the plan the runtime really uses: the model outlined into
/// kernels as the JIT path does, then planned under each strategy.
static std::string formatMemoryReport(mlir::ModuleOp model, bool json) {
  mlir::OwningOpRef<mlir::ModuleOp> clone = llvm::cast<mlir::ModuleOp>(model->clone());
  ExecutableOptions options;
  options.fuse = fuse;
  (void)buildExecutable(*clone, options);
  auto report = computeMemoryReport(clone->lookupSymbol<mlir::func::FuncOp>("main"));
  if (mlir::failed(report))
    throw Error("cannot plan the model's memory");
  char text[512];
  if (json)
    std::snprintf(text, sizeof(text),
                  "{\"inference\":{\"naive\":%lld,\"inplace\":%lld,\"coshare\":%lld,"
                  "\"both\":%lld}}\n",
                  (long long)report->naive, (long long)report->inplace,
                  (long long)report->coshare, (long long)report->both);
  else
    std::snprintf(text, sizeof(text),
                  "inference intermediate storage (bytes)\n  naive   %lld\n  inplace %lld\n"
                  "  coshare %lld\n  both    %lld (the plan the runtime allocates)\n",
                  (long long)report->naive, (long long)report->inplace,
                  (long long)report->coshare, (long long)report->both);
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

static int compileTool() {
  if (emitKind != "graph" && emitKind != "linalg" && emitKind != "llvm" && emitKind != "obj")
    throw Error("--emit " + emitKind +
                " is not available in this build yet; it emits graph, linalg, llvm and obj");
  if (emitKind == "obj" && outputPath == "-")
    throw Error("--emit obj needs -o FILE");
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
  if (memoryReport.getNumOccurrences()) {
    if (!memoryReport.empty() && memoryReport != "json")
      throw Error("--memory-report takes no value or =json, got '" + memoryReport + "'");
    text = formatMemoryReport(*model.module, memoryReport == "json");
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
  return driver::guardedMain("kiln-compile", compileTool);
}
