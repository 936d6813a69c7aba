//===- ApproximateMath.cpp - polynomial tanh/exp instead of libm calls ----===//
//
// x86 LLVM has no vector lowering of llvm.tanh / llvm.exp: a vector<8xf32>
// tanh becomes eight calls of tanhf. MLIR's polynomial approximations (the
// Eigen/Cephes ones) are plain arith/math.fma on any shape, so they
// vectorize with the loops around them.
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
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

/// The exponent of a powf when it is one constant for every lane: a scalar
/// constant, a splat, or a broadcast scalar constant.
std::optional<double> constantExponent(Value v) {
  if (auto b = v.getDefiningOp<vector::BroadcastOp>())
    v = b.getSource();
  FloatAttr f;
  if (matchPattern(v, m_Constant(&f)))
    return f.getValueAsDouble();
  DenseFPElementsAttr d;
  if (matchPattern(v, m_Constant(&d)) && d.isSplat())
    return d.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

/// powf(x, 0.5) → sqrt(x) and powf(x, 2) → x·x: power_scalar 0.5 (Adam's
/// sqrt(v)) was a libm powf call per element, ~10 ns each; vsqrtps does 8
/// lanes in a few cycles. sqrt equals the correctly rounded pow for every x
/// but −0 (sqrt: −0, pow: +0) and −inf (NaN, +inf); x·x is pow(x, 2) exactly.
void strengthReducePow(func::FuncOp f) {
  SmallVector<math::PowFOp> pows;
  f.walk([&](math::PowFOp op) { pows.push_back(op); });
  for (math::PowFOp op : pows) {
    std::optional<double> e = constantExponent(op.getRhs());
    if (!e || (*e != 0.5 && *e != 2.0))
      continue;
    OpBuilder b(op);
    Value x = op.getLhs();
    Value r = *e == 0.5 ? Value(math::SqrtOp::create(b, op.getLoc(), x))
                        : Value(arith::MulFOp::create(b, op.getLoc(), x, x));
    op.replaceAllUsesWith(r);
    op.erase();
  }
}

struct ApproximateMathPass : kiln::cpu::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    strengthReducePow(getOperation());
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
