//===- JIT.h - In-memory CPU compilation of kernel modules ------*- C++ -*-===//
//
// Compiles a module of kernel functions (graph ops on static tensors, see
// docs/lowering.md) through the CPU pipeline into an mlir::ExecutionEngine
// and hands out each kernel's packed entry as a plain function pointer, the
// only thing the runtime needs. Compiled modules are cached in memory by a
// hash of the module's printed text (and the options).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_CPU_JIT_H
#define KILN_TARGET_CPU_JIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace kiln::cpu {

/// A kernel's packed entry: `buffers[i]` is the base address of argument i
/// (inputs in order, then one buffer per result), each a dense row-major
/// array of the argument's static shape.
using KernelFn = void (*)(void **buffers);

struct JitOptions {
  /// LLVM optimization level of the generated code (0-3).
  unsigned optLevel = 3;
  /// linalg-fuse-elementwise-ops before bufferization.
  bool fuseElementwise = true;
  /// Tile, vectorize and parallelize matmuls, convolutions and elementwise
  /// ops (kiln-cpu-tile-and-vectorize); false = plain loops.
  bool tileAndVectorize = true;
  /// Threads the parallel loops are cut for (the kiln_parallel_for pool
  /// decides how many actually run them).
  unsigned numThreads = 2;
  /// Contractions (matmul, convolutions) as packed GEMM loops
  /// (kiln-cpu-lower-contractions); false = the older register tiling on
  /// tensors with im2col materialized. The environment variable
  /// KILN_CPU_GEMM=0 forces false (to bisect or compare from kiln-run).
  bool lowerContractions = true;
  /// Reuse an earlier compilation of identical module text and options.
  bool useCache = true;
  /// Keep the generated object code so writeObjectFile() can save it.
  bool keepObject = false;
  /// lowerToLLVMDialect only: stop after this phase of the pipeline (one of
  /// cpuPipelinePhases(); empty = to the LLVM dialect), to print the IR
  /// between stages (kiln-compile --compile-to).
  std::string stopAfter;
  /// lowerToLLVMDialect only: print the IR after every pass to stderr.
  bool printIRAfterAll = false;
};

class CompiledModule {
public:
  ~CompiledModule();
  /// The packed entry of kernel `name` (the func's symbol name, without the
  /// `_packed` suffix), or nullptr when the module has no such kernel.
  KernelFn lookup(llvm::StringRef name) const;
  /// Names of the kernels (public functions) the module defines.
  const std::vector<std::string> &kernels() const { return kernelNames; }
  /// Seconds spent in the MLIR pipeline and in LLVM optimization + codegen.
  double pipelineSeconds() const { return pipelineSec; }
  double codegenSeconds() const { return codegenSec; }
  double compileSeconds() const { return pipelineSec + codegenSec; }
  /// Writes the kernels' object code (ELF, host target, packed entries
  /// exported) to `path` atomically. Needs JitOptions::keepObject.
  void writeObjectFile(const std::string &path) const;

private:
  friend class CPUJit;
  CompiledModule() = default;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::vector<std::string> kernelNames;
  std::vector<KernelFn> entries;
  double pipelineSec = 0, codegenSec = 0;
};

class CPUJit {
public:
  /// Lowers a copy of `module` (left untouched) through the CPU pipeline and
  /// JIT-compiles it for the host CPU. Fails with the pipeline's diagnostics.
  /// Results are shared with the in-memory cache, hence shared_ptr.
  static llvm::Expected<std::shared_ptr<const CompiledModule>>
  compile(mlir::ModuleOp module, const JitOptions &options = JitOptions());

  /// Runs only the MLIR part (into the LLVM dialect) on `module` in place.
  static llvm::LogicalResult lowerToLLVMDialect(mlir::ModuleOp module,
                                                const JitOptions &options,
                                                std::string *diagnostics = nullptr);

  static void clearCache();
  static size_t cacheSize();
};

} // namespace kiln::cpu

#endif // KILN_TARGET_CPU_JIT_H
