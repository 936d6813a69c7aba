//===- Aot.cpp - kiln-compile --emit exe|lib ------------------------------===//

#include "Aot.h"

#include "Target/CPU/JIT.h"
#include "Target/CPU/Passes.h"
#include "kiln/Error.h"
#include "runtime/aot/Embedded.h"
#include "runtime/exec/Plan.h"
#include "runtime/io/File.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <unistd.h>

namespace kiln::aot {
namespace {

/// include/kiln/aot.h, embedded at build time (AotHeader.inc is generated
/// by tools/kiln-compile/EmbedFile.cmake), so the header kiln-compile writes
/// always matches the archive it links.
const char kApiHeader[] =
#include "AotHeader.inc"
    ;

/// Deletes a temporary directory and everything in it on every exit path.
class TempDir {
public:
  TempDir() {
    llvm::SmallString<128> path;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("kiln-aot", path))
      throw Error("cannot create a temporary directory: " + ec.message());
    dir = std::string(path);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(dir); }
  std::string file(const char *name) const { return dir + "/" + name; }

private:
  std::string dir;
};

/// The host CPU with every feature it has (like the JIT), but position
/// independent and with the small code model, so that the object links into
/// a PIE executable or a shared library.
std::unique_ptr<llvm::TargetMachine> hostTargetMachine() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    throw Error("no LLVM target for the host (" + triple.str() + "): " + error);
  llvm::SubtargetFeatures features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.AddFeature(feature.first(), feature.second);
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), llvm::TargetOptions(),
      llvm::Reloc::PIC_, llvm::CodeModel::Small, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    throw Error("cannot create an LLVM target machine for " + triple.str());
  return tm;
}

void emitObject(llvm::Module &module, llvm::TargetMachine &tm, const std::string &path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    throw Error("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw Error("the LLVM target cannot emit object files");
  pm.run(module);
  os.close();
  if (os.has_error())
    throw Error("cannot write '" + path + "': " + os.error().message());
}

/// The kernels, through the same pipeline and optimization level as the JIT
/// (default JitOptions, which JitModel and kiln-run use), so the artifacts
/// compute what kiln-run computes.
void emitKernelObject(mlir::ModuleOp kernels, llvm::TargetMachine &tm, const std::string &path) {
  cpu::JitOptions jitOptions;
  std::string diagnostics;
  if (mlir::failed(cpu::CPUJit::lowerToLLVMDialect(kernels, jitOptions, &diagnostics)))
    throw Error("lowering the kernels failed: " + diagnostics);
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module =
      mlir::translateModuleToLLVMIR(kernels, context, "kiln_kernels");
  if (!module)
    throw Error("translating the kernels to LLVM IR failed");
  module->setTargetTriple(tm.getTargetTriple());
  module->setDataLayout(tm.createDataLayout());
  auto optimize = mlir::makeOptimizingTransformer(jitOptions.optLevel, 0, &tm);
  if (llvm::Error err = optimize(module.get()))
    throw Error("optimizing the kernels failed: " + llvm::toString(std::move(err)));
  emitObject(*module, tm, path);
}

/// `kiln_aot_embedded` (runtime/aot/Embedded.h) and the blobs it points at.
void emitDataObject(const std::vector<uint8_t> &plan, const std::string &weights,
                    const std::string &manifest, const std::vector<std::string> &kernelNames,
                    llvm::TargetMachine &tm, const std::string &path) {
  llvm::LLVMContext ctx;
  llvm::Module module("kiln_aot_data", ctx);
  module.setTargetTriple(tm.getTargetTriple());
  module.setDataLayout(tm.createDataLayout());
  llvm::Type *i8 = llvm::Type::getInt8Ty(ctx);
  llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::PointerType *ptr = llvm::PointerType::getUnqual(ctx);

  // Private read-only bytes; an empty blob still gets one byte so that every
  // pointer in the descriptor is a real address.
  auto blob = [&](const char *name, llvm::StringRef bytes, unsigned align) {
    std::string storage;
    if (bytes.empty()) {
      storage.assign(1, '\0');
      bytes = storage;
    }
    llvm::Constant *init = llvm::ConstantDataArray::getRaw(bytes, bytes.size(), i8);
    auto *g = new llvm::GlobalVariable(module, init->getType(), /*isConstant=*/true,
                                       llvm::GlobalValue::PrivateLinkage, init, name);
    g->setAlignment(llvm::Align(align));
    return g;
  };
  llvm::StringRef planBytes(reinterpret_cast<const char *>(plan.data()), plan.size());
  llvm::GlobalVariable *planG = blob("kiln_aot_plan", planBytes, 8);
  llvm::GlobalVariable *weightsG = blob("kiln_aot_weights", weights, kWeightAlignment);
  llvm::GlobalVariable *manifestG = blob("kiln_aot_manifest", manifest, 1);

  // The kernel table: the packed entries, defined in the kernels object.
  llvm::FunctionType *kernelTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr},
                                                         /*isVarArg=*/false);
  std::vector<llvm::Constant *> entries;
  for (const std::string &name : kernelNames) {
    auto *fn = llvm::Function::Create(kernelTy, llvm::GlobalValue::ExternalLinkage,
                                      name + cpu::kPackedSuffix, module);
    // Hidden: a direct PC-relative reference, and never exported from a
    // shared library.
    fn->setVisibility(llvm::GlobalValue::HiddenVisibility);
    entries.push_back(fn);
  }
  if (entries.empty())
    entries.push_back(llvm::ConstantPointerNull::get(ptr));
  auto *tableTy = llvm::ArrayType::get(ptr, entries.size());
  auto *table = new llvm::GlobalVariable(module, tableTy, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(tableTy, entries),
                                         "kiln_aot_kernels");

  // struct KilnAotEmbedded { u32 abiVersion, reserved; ptr plan; u64 planSize;
  // ptr weights; u64 weightsSize; ptr manifest; u64 manifestSize;
  // ptr kernels; u64 numKernels; }
  auto *descTy = llvm::StructType::get(ctx, {i32, i32, ptr, i64, ptr, i64, ptr, i64, ptr, i64});
  llvm::Constant *desc = llvm::ConstantStruct::get(
      descTy, {llvm::ConstantInt::get(i32, kAbiVersion), llvm::ConstantInt::get(i32, 0), planG,
               llvm::ConstantInt::get(i64, plan.size()), weightsG,
               llvm::ConstantInt::get(i64, weights.size()), manifestG,
               llvm::ConstantInt::get(i64, manifest.size()), table,
               llvm::ConstantInt::get(i64, kernelNames.size())});
  auto *descG = new llvm::GlobalVariable(module, descTy, true, llvm::GlobalValue::ExternalLinkage,
                                         desc, kEmbeddedSymbol);
  descG->setVisibility(llvm::GlobalValue::HiddenVisibility);
  descG->setAlignment(llvm::Align(8));

  std::string verifyErrors;
  llvm::raw_string_ostream vos(verifyErrors);
  if (llvm::verifyModule(module, &vos))
    throw Error("internal error: the embedded-data module is invalid: " + verifyErrors);
  emitObject(module, tm, path);
}

/// The weights blob: Plan::paramSlots values at weightOffsets().
std::string weightsBlob(const exec::Plan &plan, const std::vector<const Tensor *> &params) {
  if (params.size() != plan.paramSlots.size())
    throw Error("internal error: " + std::to_string(params.size()) + " parameter values for " +
                std::to_string(plan.paramSlots.size()) + " parameter slots");
  std::vector<int64_t> offsets = weightOffsets(plan);
  std::string blob(size_t(offsets.back()), '\0');
  for (size_t i = 0; i < params.size(); ++i) {
    const exec::Slot &slot = plan.slots[plan.paramSlots[i]];
    const Tensor &t = *params[i];
    if (slot.dtype != exec::DType::F32 || t.shape != slot.shape ||
        int64_t(t.values.size() * sizeof(float)) != slot.bytes)
      throw Error("internal error: the value bound to parameter '" + slot.name +
                  "' does not match its slot " + formatShape(slot.shape));
    std::memcpy(&blob[offsets[i]], t.values.data(), size_t(slot.bytes));
  }
  return blob;
}

/// libKilnAotMain.a next to kiln-compile: <bindir>/../lib.
std::string findRuntimeArchive(const std::string &argv0) {
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0.c_str(), &anchor);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(path, "lib", "libKilnAotMain.a");
  if (!llvm::sys::fs::exists(path))
    throw Error("cannot find the AOT runtime archive '" + std::string(path) +
                "' (looked in <bindir>/../lib next to " + exe +
                "); build it with `ninja KilnAotMain`");
  return std::string(path);
}

std::vector<std::string> splitWords(const std::string &s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

/// Runs the C++ driver ($KILN_CXX, default c++) with `args`; throws with its
/// output on failure.
void runLinker(const std::vector<std::string> &args, const std::string &logPath,
               const std::string &outputPath) {
  const char *env = std::getenv("KILN_CXX");
  std::vector<std::string> command = splitWords(env && *env ? env : "c++");
  if (command.empty())
    command.push_back("c++");
  auto program = llvm::sys::findProgramByName(command[0]);
  if (!program)
    throw Error("cannot find the C++ compiler driver '" + command[0] +
                "' used to link AOT artifacts (set KILN_CXX): " + program.getError().message());
  // -fuse-ld=lld when lld is there: faster and the linker Kiln is built with.
  if (!env && llvm::sys::findProgramByName("ld.lld"))
    command.push_back("-fuse-ld=lld");
  command.insert(command.end(), args.begin(), args.end());

  std::vector<llvm::StringRef> argv(command.begin(), command.end());
  std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""), llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(*program, argv, std::nullopt, redirects, 0, 0, &execError);
  if (rc == 0)
    return;
  std::string log;
  try {
    log = readFile(logPath);
  } catch (const Error &) {
  }
  std::string line;
  for (const std::string &w : command)
    line += (line.empty() ? "" : " ") + w;
  throw Error("linking '" + outputPath + "' failed (" +
              (rc < 0 ? "could not run: " + execError : "exit status " + std::to_string(rc)) +
              "): " + line + (log.empty() ? "" : "\n" + log));
}

std::string commentSafe(std::string s) {
  for (size_t p; (p = s.find("*/")) != std::string::npos;)
    s.replace(p, 2, "* /");
  return s;
}

/// The C header of a library: the model's signature as a comment, then
/// include/kiln/aot.h.
std::string generateHeader(const exec::Plan &plan, const BuildOptions &options,
                           const std::string &libraryFileName) {
  std::string stem = libraryFileName;
  if (llvm::StringRef(stem).starts_with("lib"))
    stem = stem.substr(3);
  stem = stem.substr(0, stem.find('.'));
  std::string guard = "KILN_MODEL_";
  for (char c : stem)
    guard += std::isalnum(static_cast<unsigned char>(c)) ? char(std::toupper(c)) : '_';
  guard += "_H";

  auto describe = [&](uint32_t slot) {
    const exec::Slot &s = plan.slots[slot];
    return commentSafe(s.name) + "  " + exec::dtypeName(s.dtype) + " " + formatShape(s.shape);
  };
  std::string h = "/* C API of the Kiln AOT model library " + commentSafe(libraryFileName) +
                  ".\n * Generated by kiln-compile from " + commentSafe(options.modelName) +
                  "; do not edit. See docs/aot.md.\n *\n"
                  " * inputs (kiln_model_run's `inputs`, in this order):\n";
  for (size_t i = 0; i < plan.inputSlots.size(); ++i) {
    const std::string &name = plan.slots[plan.inputSlots[i]].name;
    bool optional = false;
    for (const std::string &o : options.optionalInputs)
      optional |= o == name;
    h += " *   " + std::to_string(i) + "  " + describe(plan.inputSlots[i]) +
         (optional ? "  (optional: not read at inference, data may be NULL)" : "") + "\n";
  }
  h += " * outputs:\n";
  for (size_t i = 0; i < plan.outputSlots.size(); ++i)
    h += " *   " + std::to_string(i) + "  " + describe(plan.outputSlots[i]) + "\n";
  h += " * parameters: " + std::to_string(plan.paramSlots.size()) +
       (options.externalParams ? ", external: kiln_model_create(\"FILE.params\", &model)\n"
                               : ", embedded: kiln_model_create(NULL, &model)\n");
  h += " */\n#ifndef " + guard + "\n#define " + guard + "\n\n" + kApiHeader + "\n#endif /* " +
       guard + " */\n";
  return h;
}

} // namespace

std::string buildArtifact(CompiledModel &model, const std::vector<const Tensor *> &params,
                          const BuildOptions &options) {
  const exec::Plan &plan = model.plan;
  std::string archive = findRuntimeArchive(options.toolArgv0);

  Manifest manifest;
  manifest.model = options.modelName;
  manifest.externalParams = options.externalParams;
  manifest.optionalInputs = options.optionalInputs;
  std::string weights = options.externalParams ? std::string() : weightsBlob(plan, params);

  TempDir tmp;
  std::unique_ptr<llvm::TargetMachine> tm = hostTargetMachine();
  emitKernelObject(*model.kernels, *tm, tmp.file("kernels.o"));
  emitDataObject(exec::serializePlan(plan), weights, formatManifest(manifest), plan.kernelNames,
                 *tm, tmp.file("data.o"));

  // Link under a temporary name in the output's directory, then rename: the
  // output is either complete or untouched (SPEC §1.5).
  std::string partial = options.outputPath + ".kiln-tmp." + std::to_string(::getpid());
  std::vector<std::string> args = {"-o", partial, tmp.file("kernels.o"), tmp.file("data.o")};
  if (options.sharedLibrary) {
    std::string map = tmp.file("exports.map");
    // Only the C API leaves the library; kernels, the runtime and libstdc++
    // symbols stay internal.
    writeFileAtomically(map, "{\n  global: kiln_model_*;\n  local: *;\n};\n");
    std::string soname = llvm::sys::path::filename(options.outputPath).str();
    args.insert(args.end(), {"-shared", "-Wl,-soname," + soname, "-Wl,--version-script=" + map,
                             "-Wl,-z,defs",
                             // The C API's object is pulled from the archive by
                             // name: nothing else in the link refers to it.
                             "-Wl,--undefined=kiln_model_create"});
  }
  args.insert(args.end(), {archive, "-pthread", "-lm"});
  try {
    runLinker(args, tmp.file("link.log"), options.outputPath);
  } catch (...) {
    llvm::sys::fs::remove(partial);
    throw;
  }
  if (std::error_code ec = llvm::sys::fs::rename(partial, options.outputPath)) {
    llvm::sys::fs::remove(partial);
    throw Error("cannot write '" + options.outputPath + "': " + ec.message());
  }

  if (options.sharedLibrary) {
    std::string file = llvm::sys::path::filename(options.outputPath).str();
    std::string header = options.headerPath;
    if (header.empty()) {
      llvm::StringRef stem = file;
      stem.consume_front("lib");
      stem = stem.split('.').first;
      llvm::SmallString<256> path(llvm::sys::path::parent_path(options.outputPath));
      llvm::sys::path::append(path, (stem.empty() ? llvm::StringRef("model") : stem) + ".h");
      header = std::string(path);
    }
    writeFileAtomically(header, generateHeader(plan, options, file));
    return header;
  }
  return std::string();
}

} // namespace kiln::aot
