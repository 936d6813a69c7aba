//===- Pipeline.cpp - Kiln's CPU lowering pipeline ------------------------===//

#include "Target/CPU/Pipeline.h"

#include "Conversion/GraphToLinalg/Passes.h"
#include "Graph/GraphOps.h"
#include "Target/CPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace kiln::cpu {

void registerCPUPipelineDialects(DialectRegistry &registry) {
  registry.insert<graph::GraphDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, linalg::LinalgDialect, tensor::TensorDialect,
                  bufferization::BufferizationDialect, memref::MemRefDialect,
                  scf::SCFDialect, cf::ControlFlowDialect, affine::AffineDialect,
                  index::IndexDialect, vector::VectorDialect, ub::UBDialect,
                  LLVM::LLVMDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerBufferDeallocationOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  memref::registerAllocationOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

MLIRContext &cpuPipelineContext() {
  static MLIRContext *context = [] {
    DialectRegistry registry;
    registerCPUPipelineDialects(registry);
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *context;
}

void buildGraphToLinalgPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createConvertGraphToLinalg());
  pm.addPass(createCanonicalizerPass());
}

ArrayRef<StringRef> cpuPipelinePhases() {
  static const StringRef phases[] = {"linalg", "vectorized", "bufferized", "loops", "llvm"};
  return phases;
}

void buildLinalgToLLVMPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  auto stopAt = [&](StringRef phase) { return options.stopAfter.getValue() == phase; };
  if (options.fuseElementwise)
    pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.tileAndVectorize) {
    TileAndVectorizeOptions tv;
    tv.numThreads = options.numThreads;
    tv.leaveGemms = options.lowerContractions;
    pm.addNestedPass<func::FuncOp>(createTileAndVectorize(tv));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (stopAt("vectorized"))
    return;

  // Tensors → buffers. Identity layouts at function boundaries keep the
  // kernel ABI a plain pointer per buffer; returned buffers become
  // caller-provided out-params (static allocations hoisted to the caller, so
  // the kernel writes straight into them).
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createElideResultCopies());
  if (stopAt("bufferized"))
    return;
  // Contractions (matmul, convolutions, ...) left on memrefs by
  // kiln-cpu-tile-and-vectorize: packed GEMM loops with a parallel task loop.
  if (options.tileAndVectorize && options.lowerContractions) {
    LowerContractionsOptions lc;
    lc.numThreads = options.numThreads;
    pm.addPass(createLowerContractions(lc));
    pm.addPass(createCSEPass());
    pm.addPass(createCanonicalizerPass());
  }
  // Parallel tile loops become calls of kiln_parallel_for with outlined
  // bodies; before deallocation, which does not model scf.forall.
  pm.addPass(createOutlineParallel());
  bufferization::buildBufferDeallocationPipeline(pm);
  // The deallocation pipeline leaves bufferization.clone/dealloc behind.
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Loops. Correctness first: plain scf loops per linalg op; tiling and
  // vectorization of matmul/conv slot in here, on tensors, before bufferize.
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopies());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // n-D vector transfers → loops of 1-D ones (masks included).
  pm.addNestedPass<func::FuncOp>(
      createConvertVectorToSCFPass(VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(createLowerAffinePass());
  // tanh/exp as polynomials (vectorizable) instead of libm calls.
  pm.addNestedPass<func::FuncOp>(createApproximateMath());
  if (stopAt("loops"))
    return;
  // convert-to-llvm does not lower scf: go through cf first.
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // LLVM dialect.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // What LLVM has no intrinsic for (erf) becomes a libm call; vector erf is
  // unrolled to scalar calls with vector.extract/insert, hence before
  // convert-vector-to-llvm.
  // math-to-llvm first so that what has an LLVM intrinsic stays vectorized.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  // Vectorization leaves ub.poison (padding values of transfers).
  pm.addPass(createUBToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createLowerParallelDispatch());
  if (options.packKernelArgs)
    pm.addPass(createPackKernelArgs());
}

void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  buildGraphToLinalgPipeline(pm);
  if (options.stopAfter.getValue() != "linalg")
    buildLinalgToLLVMPipeline(pm, options);
}

void registerCPUPasses() {
  kiln::registerKilnGraphToLinalgPasses();
  registerKilnTargetCPUPasses();
  PassPipelineRegistration<CPUPipelineOptions>(
      "kiln-cpu-pipeline",
      "Graph dialect to LLVM dialect for the CPU: graph→linalg, bufferization with "
      "out-params, loops, LLVM with bare-pointer kernels and <name>_packed entries",
      buildCPUPipeline);
}

} // namespace kiln::cpu
