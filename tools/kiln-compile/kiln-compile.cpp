//===- kiln-compile.cpp - Compile a model ---------------------------------===//
//
// kiln-compile MODEL [--params P] --input-shape NAME=DIMS ... --emit KIND -o OUT
//
// Contract: shared/SPEC.md §1.3. This build emits `graph`: the imported,
// shape-inferred graph-dialect module.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Driver.h"
#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "kiln/Error.h"
#include "runtime/io/File.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
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
    "emit", cl::desc("What to produce: graph (linalg|llvm|ptx|obj|lib|exe: coming)"),
    cl::value_desc("KIND"), cl::init("graph"), cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("OUT"), cl::init("-"), cl::cat(category));
static cl::opt<std::string> target("target", cl::desc("cpu (default) or nvptx"),
                                   cl::init("cpu"), cl::cat(category));

static int compileTool() {
  if (emitKind != "graph")
    throw Error("--emit " + emitKind +
                " is not available in this build yet; it emits 'graph' only");
  if (target != "cpu")
    throw Error("--target " + target + " is not available in this build yet");

  std::map<std::string, std::vector<int64_t>> inputShapes;
  for (const std::string &spec : inputShapeArgs) {
    auto [name, dims] = driver::parseShapeSpec(spec, "--input-shape");
    if (!inputShapes.emplace(name, dims).second)
      throw Error("--input-shape " + name + " given twice");
  }

  mlir::MLIRContext context;
  LoadedModel model = loadModel(context, modelArg, paramsArg, inputShapes);

  std::string text;
  llvm::raw_string_ostream os(text);
  model.module->print(os);
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
