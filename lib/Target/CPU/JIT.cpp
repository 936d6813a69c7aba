//===- JIT.cpp - In-memory CPU compilation of kernel modules --------------===//

#include "Target/CPU/JIT.h"
#include "kiln/Error.h"

#include "Target/CPU/ParallelRuntime.h"
#include "Target/CPU/Passes.h"
#include "Target/CPU/Pipeline.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <map>
#include <mutex>

using namespace mlir;

namespace kiln::cpu {
namespace {

std::mutex cacheMutex;
std::map<uint64_t, std::shared_ptr<const CompiledModule>> &cache() {
  static auto *c = new std::map<uint64_t, std::shared_ptr<const CompiledModule>>();
  return *c;
}

/// Attaches the pipeline's dialects and interface models to `ctx`.
/// Appending is idempotent (extensions are keyed by TypeID), so no
/// per-context bookkeeping: remembering contexts by address went wrong when a
/// new context reused a destroyed one's address.
void prepareContext(MLIRContext *ctx) {
  DialectRegistry registry;
  registerCPUPipelineDialects(registry);
  ctx->appendDialectRegistry(registry);
}

void initNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// KILN_CPU_GEMM=0 turns kiln-cpu-lower-contractions off (JitOptions).
bool gemmAllowedByEnv() {
  const char *e = std::getenv("KILN_CPU_GEMM");
  return !(e && std::string(e) == "0");
}

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

CompiledModule::~CompiledModule() = default;

KernelFn CompiledModule::lookup(llvm::StringRef name) const {
  for (size_t i = 0; i < kernelNames.size(); ++i)
    if (kernelNames[i] == name)
      return entries[i];
  return nullptr;
}

LogicalResult CPUJit::lowerToLLVMDialect(ModuleOp module, const JitOptions &options,
                                         std::string *diagnostics) {
  MLIRContext *ctx = module.getContext();
  prepareContext(ctx);
  std::string diag;
  llvm::raw_string_ostream os(diag);
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error) {
      os << d.getLocation() << ": error: " << d << "\n";
      for (Diagnostic &n : d.getNotes())
        os << n.getLocation() << ": note: " << n << "\n";
    }
    return success();
  });
  PassManager pm(ctx, ModuleOp::getOperationName());
  CPUPipelineOptions popts;
  popts.fuseElementwise = options.fuseElementwise;
  popts.tileAndVectorize = options.tileAndVectorize;
  popts.numThreads = options.numThreads;
  popts.lowerContractions = options.lowerContractions && gemmAllowedByEnv();
  popts.stopAfter = options.stopAfter;
  if (options.printIRAfterAll) {
    ctx->disableMultithreading();
    pm.enableIRPrinting();
  }
  buildCPUPipeline(pm, popts);
  LogicalResult r = pm.run(module);
  if (diagnostics)
    *diagnostics = diag;
  return r;
}

llvm::Expected<std::shared_ptr<const CompiledModule>>
CPUJit::compile(ModuleOp module, const JitOptions &options) {
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    module.print(os, OpPrintingFlags().enableDebugInfo(false));
  }
  uint64_t key = llvm::hash_combine(llvm::hash_value(text), options.optLevel,
                                    options.fuseElementwise, options.tileAndVectorize,
                                    options.numThreads, options.keepObject,
                                    options.lowerContractions && gemmAllowedByEnv());
  if (options.useCache) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache().find(key);
    if (it != cache().end())
      return it->second;
  }

  auto t0 = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> clone = module.clone();
  std::string diag;
  if (failed(lowerToLLVMDialect(*clone, options, &diag)))
    return llvm::createStringError("CPU pipeline failed:\n" + diag);
  std::shared_ptr<CompiledModule> cm(new CompiledModule());
  cm->pipelineSec = seconds(t0);
  for (auto fn : clone->getOps<LLVM::LLVMFuncOp>())
    if (fn.getName().ends_with(kPackedSuffix))
      cm->kernelNames.push_back(fn.getName().drop_back(strlen(kPackedSuffix)).str());

  auto t1 = std::chrono::steady_clock::now();
  initNativeTarget();
  auto tmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmb)
    return tmb.takeError();
  llvm::CodeGenOptLevel cgLevel = options.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
                                  : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                                                          : llvm::CodeGenOptLevel::Default;
  tmb->setCodeGenOptLevel(cgLevel);
  auto tm = tmb->createTargetMachine();
  if (!tm)
    return tm.takeError();
  ExecutionEngineOptions eo;
  eo.transformer = makeOptimizingTransformer(options.optLevel, 0, tm->get());
  eo.jitCodeGenOptLevel = cgLevel;
  eo.enableObjectDump = options.keepObject;
  auto engine = ExecutionEngine::create(*clone, eo, std::move(*tm));
  if (!engine)
    return engine.takeError();
  cm->engine = std::move(*engine);
  // Parallel loops call kiln_parallel_for: the default pool's weak definition
  // or the strong one of whatever the process links (the runtime engine).
  cm->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    void *hook = reinterpret_cast<void *>(&kiln_parallel_for);
    map[interner(kParallelForSymbol)] = {llvm::orc::ExecutorAddr::fromPtr(hook),
                                         llvm::JITSymbolFlags::Exported};
    return map;
  });
  cm->engine->initialize();
  for (const std::string &name : cm->kernelNames) {
    auto sym = cm->engine->lookup(name + kPackedSuffix);
    if (!sym)
      return sym.takeError();
    cm->entries.push_back(reinterpret_cast<KernelFn>(*sym));
  }
  cm->codegenSec = seconds(t1);

  std::shared_ptr<const CompiledModule> result = std::move(cm);
  if (options.useCache) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    cache()[key] = result;
  }
  return result;
}

void CompiledModule::writeObjectFile(const std::string &path) const {
  std::string tmp = path + ".tmp";
  // ExecutionEngine reports a missing object cache on stderr only, so the
  // result is checked by looking for the file.
  llvm::sys::fs::remove(tmp);
  engine->dumpToObjectFile(tmp);
  if (!llvm::sys::fs::exists(tmp))
    throw kiln::Error("cannot write object file '" + path +
                      "' (compiled without JitOptions::keepObject, or unwritable)");
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    throw kiln::Error("cannot write object file '" + path + "': " + ec.message());
  }
}

void CPUJit::clearCache() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  cache().clear();
}

size_t CPUJit::cacheSize() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  return cache().size();
}

} // namespace kiln::cpu
