//===- ElideResultCopies.cpp - compute results in their out-params --------===//
//
// buffer-results-to-out-params hoists a returned allocation into the
// out-param only when the returned value *is* the allocation. A kernel
// whose last op ran on a collapsed view (vectorized elementwise ops are
// collapsed to 1-D) or on an allocation bufferization did not place in the
// result returns a view, and ends with a full `memref.copy %alloc, %out`:
// one more pass over the output. This pass makes the allocation a view of
// the out-param instead and drops the copy.
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_ELIDERESULTCOPIES
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

bool isEntryArg(Value v, func::FuncOp fn) {
  auto a = dyn_cast<BlockArgument>(v);
  return a && a.getOwner() == &fn.getBody().front();
}

/// The out-param may not be computed into early when the kernel's plan lets
/// it alias an input (`kiln.inplace`).
bool mayAlias(func::FuncOp fn, unsigned argIndex) {
  auto inplace = fn->getAttrOfType<DenseI64ArrayAttr>("kiln.inplace");
  if (!inplace)
    return false;
  int64_t nRes = inplace.size(), nArgs = fn.getNumArguments();
  int64_t r = int64_t(argIndex) - (nArgs - nRes);
  return r < 0 || inplace[r] != -1;
}

LogicalResult elide(memref::CopyOp copy, func::FuncOp fn) {
  Value dst = copy.getTarget();
  auto dstTy = dyn_cast<MemRefType>(dst.getType());
  if (!isEntryArg(dst, fn) || !dst.hasOneUse() || !dstTy || !dstTy.getLayout().isIdentity() ||
      mayAlias(fn, cast<BlockArgument>(dst).getArgNumber()))
    return failure();
  // Nothing after the copy may touch memory: it must be the last write.
  for (Operation *o = copy->getNextNode(); o; o = o->getNextNode())
    if (!isMemoryEffectFree(o) && !isa<func::ReturnOp>(o))
      return failure();
  // src = alloc, or one collapse/expand of it.
  Value src = copy.getSource();
  Operation *view = nullptr;
  if (isa_and_nonnull<memref::CollapseShapeOp, memref::ExpandShapeOp>(src.getDefiningOp())) {
    view = src.getDefiningOp();
    src = view->getOperand(0);
  }
  auto alloc = src.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != &fn.getBody().front() ||
      !alloc.getType().getLayout().isIdentity() || !alloc.getType().hasStaticShape())
    return failure();
  OpBuilder b(alloc);
  Value replacement = dst;
  if (auto c = dyn_cast_or_null<memref::CollapseShapeOp>(view)) {
    if (c.getResultType() != dstTy)
      return failure();
    replacement = memref::ExpandShapeOp::create(b, alloc.getLoc(), alloc.getType(), dst,
                                                c.getReassociationIndices());
  } else if (auto e = dyn_cast_or_null<memref::ExpandShapeOp>(view)) {
    if (e.getResultType() != dstTy)
      return failure();
    replacement = memref::CollapseShapeOp::create(b, alloc.getLoc(), dst, e.getReassociationIndices());
    if (replacement.getType() != alloc.getType())
      return failure();
  } else if (alloc.getType() != dstTy) {
    return failure();
  }
  copy->erase();
  alloc.getResult().replaceAllUsesWith(replacement);
  alloc->erase();
  return success();
}

struct ElideResultCopiesPass
    : kiln::cpu::impl::ElideResultCopiesBase<ElideResultCopiesPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    SmallVector<memref::CopyOp> copies;
    for (Operation &o : fn.getBody().front())
      if (auto c = dyn_cast<memref::CopyOp>(o))
        copies.push_back(c);
    for (memref::CopyOp c : llvm::reverse(copies))
      (void)elide(c, fn);
  }
};

} // namespace
