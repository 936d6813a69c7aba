//===- LowerStridedCopies.cpp - strided memref.copy to linalg.copy --------===//

#include "Target/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIES
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

struct LowerStridedCopiesPass
    : kiln::cpu::impl::LowerStridedCopiesBase<LowerStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) {
      auto src = dyn_cast<MemRefType>(op.getSource().getType());
      auto dst = dyn_cast<MemRefType>(op.getTarget().getType());
      if (src && dst && (!src.getLayout().isIdentity() || !dst.getLayout().isIdentity()))
        copies.push_back(op);
    });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};

} // namespace
