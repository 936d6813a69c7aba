//===- Aot.h - kiln-compile --emit exe|lib ----------------------*- C++ -*-===//
//
// Turns a CompiledModel (plan + kernels) and its bound parameters into a
// stand-alone inference executable or a shared library with a C header
// (SPEC §1.3, docs/aot.md):
//
//   kernels ──CPU pipeline──▶ LLVM IR ──O3, PIC, host CPU──▶ kernels.o
//   plan, weights, manifest, kernel table ──LLVM IR constants──▶ data.o
//   $KILN_CXX kernels.o data.o libKilnAotMain.a ──▶ OUT (temporary, renamed)
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_KILN_COMPILE_AOT_H
#define KILN_TOOLS_KILN_COMPILE_AOT_H

#include "Compiler/Executable.h"
#include "kiln/Tensor.h"

#include <string>
#include <vector>

namespace kiln::aot {

struct BuildOptions {
  /// Build a shared library (with header) instead of an executable.
  bool sharedLibrary = false;
  std::string outputPath;
  /// Shared library: where the C header goes; empty: NAME.h next to
  /// libNAME.so (or next to NAME.so).
  std::string headerPath;
  /// The model as named on the command line (messages, signature).
  std::string modelName;
  /// Weights are not embedded; the artifact reads a .params file.
  bool externalParams = false;
  /// Inputs inference never reads (loss-head labels): zeros when left out.
  std::vector<std::string> optionalInputs;
  /// argv[0] of kiln-compile: libKilnAotMain.a is found next to it.
  std::string toolArgv0;
};

/// Builds `options.outputPath` from `model`; returns the path of the C
/// header written next to a shared library (empty for an executable).
/// `params` holds one value per Plan::paramSlots entry (ignored with
/// externalParams). The kernels module is lowered in place. Throws
/// kiln::Error with the linker's message on failure; no output file is
/// left behind then.
std::string buildArtifact(CompiledModel &model, const std::vector<const Tensor *> &params,
                          const BuildOptions &options);

} // namespace kiln::aot

#endif // KILN_TOOLS_KILN_COMPILE_AOT_H
