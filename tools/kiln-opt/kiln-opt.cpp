//===- kiln-opt.cpp - mlir-opt for Kiln's dialects and passes -------------===//
//
// The one translation unit that includes InitAll*: it registers every
// upstream dialect and pass so Kiln IR can be pushed through any of them.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"
#include "Target/CPU/Pipeline.h"
#include "Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  kiln::registerKilnPasses();
  kiln::cpu::registerCPUPasses();

  mlir::DialectRegistry registry;
  registry.insert<kiln::graph::GraphDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
