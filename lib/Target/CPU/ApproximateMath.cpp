//===- ApproximateMath.cpp - polynomial tanh/exp instead of libm calls ----===//
//
// x86 LLVM has no vector lowering of llvm.tanh / llvm.exp: a vector<8xf32>
// tanh becomes eight calls of tanhf. MLIR's polynomial approximations (the
// Eigen/Cephes ones) are plain arith/math.fma on any shape, so they
// vectorize with the loops around them.
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

bool approximated(StringRef name) {
  name.consume_front("math.");
  return name == "tanh" || name == "exp";
}

struct ApproximateMathPass : kiln::cpu::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<math::TanhOp, math::ExpOp>(op) && getElementTypeOrSelf(op->getResult(0)).isF32())
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, approximated);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    (void)applyOpPatternsGreedily(ops, std::move(patterns), config);
  }
};

} // namespace
