//===- PackKernelArgs.cpp - void name_packed(void **) entry points --------===//

#include "Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_PACKKERNELARGS
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

struct PackKernelArgsPass
    : kiln::cpu::impl::PackKernelArgsBase<PackKernelArgsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
      if (fn.isExternal() || fn.isPrivate() ||
          fn.getLinkage() != LLVM::Linkage::External ||
          fn.getName().ends_with(kiln::cpu::kPackedSuffix))
        continue;
      kernels.push_back(fn);
    }
    auto ptrTy = LLVM::LLVMPointerType::get(&getContext());
    OpBuilder b(&getContext());
    for (LLVM::LLVMFuncOp fn : kernels) {
      LLVM::LLVMFunctionType fty = fn.getFunctionType();
      if (!isa<LLVM::LLVMVoidType>(fty.getReturnType())) {
        fn.emitError() << "kernel '" << fn.getName()
                       << "' returns a value; kernels write results through out-params";
        return signalPassFailure();
      }
      for (auto [i, t] : llvm::enumerate(fty.getParams()))
        if (t != ptrTy) {
          fn.emitError() << "kernel '" << fn.getName() << "' argument #" << i << " has type "
                         << t
                         << "; the kernel ABI needs every argument to be a statically "
                            "shaped, identity-layout buffer (a bare pointer)";
          return signalPassFailure();
        }
      std::string name = (fn.getName() + kiln::cpu::kPackedSuffix).str();
      if (module.lookupSymbol(name)) {
        fn.emitError() << "cannot add packed entry '" << name << "': the name is taken";
        return signalPassFailure();
      }
      b.setInsertionPointAfter(fn);
      Location loc = fn.getLoc();
      auto packed = LLVM::LLVMFuncOp::create(
          b, loc, name,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(&getContext()), {ptrTy}));
      Block *entry = packed.addEntryBlock(b);
      b.setInsertionPointToStart(entry);
      SmallVector<Value> args;
      for (unsigned i = 0; i < fty.getNumParams(); ++i) {
        Value slot = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, entry->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        args.push_back(LLVM::LoadOp::create(b, loc, ptrTy, slot));
      }
      LLVM::CallOp::create(b, loc, fn, args);
      LLVM::ReturnOp::create(b, loc, ValueRange{});
    }
  }
};

} // namespace
