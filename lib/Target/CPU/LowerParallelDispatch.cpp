//===- LowerParallelDispatch.cpp - dispatch bodies calling kiln_parallel_for ===//

#include "Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_LOWERPARALLELDISPATCH
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

struct LowerParallelDispatchPass
    : kiln::cpu::impl::LowerParallelDispatchBase<LowerParallelDispatchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<LLVM::LLVMFuncOp> dispatches;
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
      if (fn->hasAttr(kiln::cpu::kParallelBodyAttr))
        dispatches.push_back(fn);
    if (dispatches.empty())
      return;

    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);
    OpBuilder b(ctx);
    SymbolTable symbols(module);

    // void kiln_parallel_for(i64 begin, i64 end, void (*)(i64, i64, ptr), ptr)
    auto hookTy = LLVM::LLVMFunctionType::get(voidTy, {i64, i64, ptrTy, ptrTy});
    auto hook = module.lookupSymbol<LLVM::LLVMFuncOp>(kiln::cpu::kParallelForSymbol);
    if (!hook) {
      b.setInsertionPointToStart(module.getBody());
      hook = LLVM::LLVMFuncOp::create(b, module.getLoc(), kiln::cpu::kParallelForSymbol, hookTy);
    }

    for (LLVM::LLVMFuncOp disp : dispatches) {
      auto bodyRef = disp->getAttrOfType<FlatSymbolRefAttr>(kiln::cpu::kParallelBodyAttr);
      auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(bodyRef);
      if (!body || !disp.isExternal()) {
        disp.emitError("parallel dispatch without its body function");
        return signalPassFailure();
      }
      Location loc = disp.getLoc();
      LLVM::LLVMFunctionType dty = disp.getFunctionType();
      ArrayRef<Type> params = dty.getParams();
      if (params.empty() || params[0] != i64) {
        disp.emitError("parallel dispatch must take the iteration count (i64) first");
        return signalPassFailure();
      }
      SmallVector<Type> capTypes(params.drop_front());
      auto structTy = LLVM::LLVMStructType::getLiteral(ctx, capTypes);

      // Trampoline: unpack the struct, run the body on [lo, hi).
      b.setInsertionPointAfter(body);
      auto tramp = LLVM::LLVMFuncOp::create(
          b, loc, (body.getName() + "_tramp").str(),
          LLVM::LLVMFunctionType::get(voidTy, {i64, i64, ptrTy}), LLVM::Linkage::Internal);
      symbols.insert(tramp);
      {
        Block *e = tramp.addEntryBlock(b);
        OpBuilder tb = OpBuilder::atBlockBegin(e);
        SmallVector<Value> args{e->getArgument(0), e->getArgument(1)};
        for (auto [i, t] : llvm::enumerate(capTypes)) {
          Value slot = LLVM::GEPOp::create(
              tb, loc, ptrTy, structTy, e->getArgument(2),
              ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
          args.push_back(LLVM::LoadOp::create(tb, loc, t, slot));
        }
        LLVM::CallOp::create(tb, loc, body, args);
        LLVM::ReturnOp::create(tb, loc, ValueRange{});
      }

      // Dispatch: pack the captures, hand the range to the runtime.
      disp.setLinkage(LLVM::Linkage::Internal);
      disp->removeAttr(kiln::cpu::kParallelBodyAttr);
      Block *e = disp.addEntryBlock(b);
      OpBuilder db = OpBuilder::atBlockBegin(e);
      Value one = LLVM::ConstantOp::create(db, loc, i64, db.getI64IntegerAttr(1));
      Value ctxPtr = LLVM::AllocaOp::create(db, loc, ptrTy, structTy, one);
      for (unsigned i = 0; i < capTypes.size(); ++i) {
        Value slot = LLVM::GEPOp::create(db, loc, ptrTy, structTy, ctxPtr,
                                         ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
        LLVM::StoreOp::create(db, loc, e->getArgument(i + 1), slot);
      }
      Value zero = LLVM::ConstantOp::create(db, loc, i64, db.getI64IntegerAttr(0));
      Value fnPtr = LLVM::AddressOfOp::create(db, loc, ptrTy, tramp.getName());
      LLVM::CallOp::create(db, loc, hook, ValueRange{zero, e->getArgument(0), fnPtr, ctxPtr});
      LLVM::ReturnOp::create(db, loc, ValueRange{});
    }
  }
};

} // namespace
