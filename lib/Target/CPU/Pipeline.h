//===- Pipeline.h - Kiln's CPU lowering pipeline ----------------*- C++ -*-===//
//
// graph dialect → linalg/tensor → one-shot bufferization → loops → LLVM
// dialect with the kernel ABI of docs/lowering.md. Registered as
// `kiln-opt --kiln-cpu-pipeline`; the stage builders let kiln-compile print
// the IR between stages (`--emit linalg|llvm`).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_CPU_PIPELINE_H
#define KILN_TARGET_CPU_PIPELINE_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace kiln::cpu {

struct CPUPipelineOptions : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse producer/consumer linalg.generic ops on tensors "
                     "(linalg-fuse-elementwise-ops) before bufferization"),
      llvm::cl::init(true)};
  Option<bool> tileAndVectorize{
      *this, "tile-and-vectorize",
      llvm::cl::desc("Tile matmuls/convolutions/elementwise generics for caches and "
                     "registers, vectorize them and run their outer tile loop through "
                     "kiln_parallel_for (kiln-cpu-tile-and-vectorize); off = plain loops"),
      llvm::cl::init(true)};
  Option<unsigned> numThreads{
      *this, "num-threads",
      llvm::cl::desc("Threads parallel loops are cut for (1: no parallel loops for "
                     "elementwise ops; matmul tiles still go through the hook)"),
      llvm::cl::init(2)};
  Option<bool> lowerContractions{
      *this, "lower-contractions",
      llvm::cl::desc("Lower matmuls/convolutions/contraction generics to packed GEMM loops "
                     "after bufferization (kiln-cpu-lower-contractions); off = register "
                     "tiles on tensors with im2col (the older path). Needs tile-and-vectorize"),
      llvm::cl::init(true)};
  Option<std::string> stopAfter{
      *this, "stop-after",
      llvm::cl::desc("Stop after a phase: linalg (graph lowered to linalg on tensors), "
                     "vectorized (tiled and vectorized, still on tensors), bufferized "
                     "(memrefs, results as out-params), loops (scf/vector loops and kernel "
                     "calls, before the LLVM conversion); empty = to the LLVM dialect. kiln-compile "
                     "--compile-to checks the name; here an unknown one runs the whole "
                     "pipeline"),
      llvm::cl::init("")};
  Option<bool> packKernelArgs{
      *this, "pack-kernel-args",
      llvm::cl::desc("Add the `void <name>_packed(void **)` entry of every kernel"),
      llvm::cl::init(true)};
};

/// The phases buildCPUPipeline can stop after, in pipeline order; "llvm"
/// (the last) is the whole pipeline.
llvm::ArrayRef<llvm::StringRef> cpuPipelinePhases();

/// Registers the dialects, bufferization/deallocation interface models and
/// LLVM IR translations the pipeline and the JIT need. Safe to call on a
/// registry more than once.
void registerCPUPipelineDialects(mlir::DialectRegistry &registry);

/// One process-wide context with every dialect, interface model and
/// translation the pipeline needs, loaded up front (for tools, benchmarks
/// and tests that parse kernels and compile them; never destroyed).
mlir::MLIRContext &cpuPipelineContext();

/// Stage 1 (module): kiln-convert-graph-to-linalg on every function, then
/// canonicalization. Output: linalg/tensor/arith/math on tensors.
void buildGraphToLinalgPipeline(mlir::OpPassManager &pm);

/// Stage 2 (module): tensors → buffers (function boundaries included,
/// identity layouts, results as out-params, deallocation) → loops → LLVM
/// dialect with bare-pointer kernels and their packed entries.
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm, const CPUPipelineOptions &options);

/// Both stages: what `--kiln-cpu-pipeline` runs.
void buildCPUPipeline(mlir::OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers `kiln-cpu-pipeline`, `kiln-cpu-pack-kernel-args` and
/// `kiln-convert-graph-to-linalg` with the global pass registry.
void registerCPUPasses();

} // namespace kiln::cpu

#endif // KILN_TARGET_CPU_PIPELINE_H
