//===- FormulaLowering.cpp - Elementwise formulas as MLIR scalars ---------===//

#include "FormulaLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;

namespace kiln::lowering::formula {

namespace {

using P = arith::CmpFPredicate;

template <typename OpT> S un(const S &x) { return {x.b, x.loc, OpT::create(*x.b, x.loc, x.v)}; }
template <typename OpT> S bin(const S &a, const S &b) {
  return {a.b, a.loc, OpT::create(*a.b, a.loc, a.v, b.v)};
}

Value cmp(const S &a, P p, Value b) {
  return arith::CmpFOp::create(*a.b, a.loc, p, a.v, b);
}
/// 1 where `cond` (an i1) holds, else 0, in the type of `like`.
S oneIf(const S &like, Value cond) {
  return {like.b, like.loc,
          arith::SelectOp::create(*like.b, like.loc, cond, lift(like, 1).v, lift(like, 0).v)};
}
S select(const S &like, Value cond, const S &t, const S &f) {
  return {like.b, like.loc, arith::SelectOp::create(*like.b, like.loc, cond, t.v, f.v)};
}
/// x ≠ 0, as an i1 (NaN counts as nonzero, as in C).
Value nonzero(const S &x) { return cmp(x, P::UNE, lift(x, 0).v); }

} // namespace

S lift(const S &like, double c) {
  Type t = like.v.getType();
  return {like.b, like.loc,
          arith::ConstantOp::create(*like.b, like.loc, t, like.b->getFloatAttr(t, c))};
}

S operator+(const S &a, const S &b) { return bin<arith::AddFOp>(a, b); }
S operator-(const S &a, const S &b) { return bin<arith::SubFOp>(a, b); }
S operator*(const S &a, const S &b) { return bin<arith::MulFOp>(a, b); }
S operator/(const S &a, const S &b) { return bin<arith::DivFOp>(a, b); }
S operator-(const S &a) { return un<arith::NegFOp>(a); }

S exp(const S &x) { return un<math::ExpOp>(x); }
S log(const S &x) { return un<math::LogOp>(x); }
// math.expm1 and math.log1p would become exp(x) − 1 and log(1 + x) in
// math-to-llvm, which lose x's digits below float32's epsilon: expm1(1e-7)
// gave 1.19e-7, expm1(5e-9) 0 (MXNet's expm1f/log1pf: 1e-7, 5e-9). Kahan's
// formulations are accurate to a few ulps wherever exp and log are
// (Goldberg, "What every computer scientist should know about
// floating-point arithmetic", theorem 4 and its exercise): with u = exp(x),
// expm1(x) = (u − 1)·(x / log(u)), x where u = 1, −1 where u − 1 = −1;
// with u = 1 + x, log1p(x) = log(u)·(x / (u − 1)), x where u = 1. The
// ratios are smooth in u, so the rounding of u cancels; they are about 1,
// so nothing overflows below the result's own overflow. u = ∞ gives ∞.
S expm1(const S &x) {
  S u = exp(x);
  S uMinus1 = u - 1.0;
  S r = uMinus1 * (x / log(u));
  r = select(x, cmp(u, P::OEQ, lift(x, INFINITY).v), u, r);
  r = select(x, cmp(uMinus1, P::OEQ, lift(x, -1).v), uMinus1, r);
  return select(x, cmp(u, P::OEQ, lift(x, 1).v), x, r);
}
S log1p(const S &x) {
  S u = 1.0 + x;
  S r = log(u) * (x / (u - 1.0));
  r = select(x, cmp(u, P::OEQ, lift(x, INFINITY).v), u, r);
  return select(x, cmp(u, P::OEQ, lift(x, 1).v), x, r);
}
S log2(const S &x) { return un<math::Log2Op>(x); }
S log10(const S &x) { return un<math::Log10Op>(x); }
S sqrt(const S &x) { return un<math::SqrtOp>(x); }
S rsqrt(const S &x) { return un<math::RsqrtOp>(x); }
S cbrt(const S &x) { return un<math::CbrtOp>(x); }
S abs(const S &x) { return un<math::AbsFOp>(x); }
S floor(const S &x) { return un<math::FloorOp>(x); }
S ceil(const S &x) { return un<math::CeilOp>(x); }
// math.round rounds half away from zero (C's round, MXNet's round);
// math.roundeven is rint's ties-to-even.
S round(const S &x) { return un<math::RoundOp>(x); }
S rint(const S &x) { return un<math::RoundEvenOp>(x); }
S trunc(const S &x) { return un<math::TruncOp>(x); }
S erf(const S &x) { return un<math::ErfOp>(x); }
S sin(const S &x) { return un<math::SinOp>(x); }
S cos(const S &x) { return un<math::CosOp>(x); }
S tan(const S &x) { return un<math::TanOp>(x); }
S asin(const S &x) { return un<math::AsinOp>(x); }
S acos(const S &x) { return un<math::AcosOp>(x); }
S atan(const S &x) { return un<math::AtanOp>(x); }
S sinh(const S &x) { return un<math::SinhOp>(x); }
S cosh(const S &x) { return un<math::CoshOp>(x); }
S tanh(const S &x) { return un<math::TanhOp>(x); }
S asinh(const S &x) { return un<math::AsinhOp>(x); }
S acosh(const S &x) { return un<math::AcoshOp>(x); }
S atanh(const S &x) { return un<math::AtanhOp>(x); }

S relu(const S &x) { return select(x, cmp(x, P::OGT, lift(x, 0).v), x, lift(x, 0)); }
S sigmoid(const S &x) { return 1.0 / (1.0 + exp(-x)); }
S softsign(const S &x) { return x / (1.0 + abs(x)); }
S square(const S &x) { return x * x; }
S sign(const S &x) {
  S neg = select(x, cmp(x, P::OLT, lift(x, 0).v), lift(x, -1), lift(x, 0));
  return select(x, cmp(x, P::OGT, lift(x, 0).v), lift(x, 1), neg);
}
S logical_not(const S &x) { return oneIf(x, cmp(x, P::OEQ, lift(x, 0).v)); }
S constant(const S &x, double c) { return lift(x, c); }
S hard_sigmoid(const S &x, double alpha, double beta) {
  return minimum(maximum(x * alpha + beta, 0.0), 1.0);
}

S cast(const S &x, graph::DType dtype) {
  OpBuilder &b = *x.b;
  Location l = x.loc;
  Type ft = x.v.getType();
  auto viaFloat = [&](Type narrow) -> S {
    Value n = arith::TruncFOp::create(b, l, narrow, x.v);
    return {x.b, l, arith::ExtFOp::create(b, l, ft, n)};
  };
  auto viaInt = [&](unsigned bits, bool isUnsigned) -> S {
    // Through int32 (int64 for int64), then the low bits, as the C
    // conversion MXNet's kernels compile to does; out-of-range values are
    // undefined in C and not modelled.
    Type wide = b.getIntegerType(bits == 64 ? 64 : 32);
    Value i = arith::FPToSIOp::create(b, l, wide, x.v);
    if (bits < 32) {
      Value t = arith::TruncIOp::create(b, l, b.getIntegerType(bits), i);
      i = isUnsigned ? Value(arith::ExtUIOp::create(b, l, wide, t))
                     : Value(arith::ExtSIOp::create(b, l, wide, t));
    }
    return {x.b, l, arith::SIToFPOp::create(b, l, ft, i)};
  };
  switch (dtype) {
  case graph::DType::float32:
  case graph::DType::float64:
    return x;
  case graph::DType::float16:
    return viaFloat(b.getF16Type());
  case graph::DType::bfloat16:
    return viaFloat(b.getBF16Type());
  case graph::DType::int32:
    return viaInt(32, false);
  case graph::DType::int64:
    return viaInt(64, false);
  case graph::DType::int8:
    return viaInt(8, false);
  case graph::DType::uint8:
    return viaInt(8, true);
  case graph::DType::boolean:
    return oneIf(x, nonzero(x));
  }
  return x;
}

S pow(const S &a, const S &b) { return bin<math::PowFOp>(a, b); }
// √(a² + b²) in double: float32 squares overflow above 1.8e19, where C's
// hypotf (MXNet's kernel) does not.
S hypot(const S &a, const S &b) {
  OpBuilder &bb = *a.b;
  Type f64 = bb.getF64Type(), ft = a.v.getType();
  S a64{a.b, a.loc, arith::ExtFOp::create(bb, a.loc, f64, a.v)};
  S b64{a.b, a.loc, arith::ExtFOp::create(bb, a.loc, f64, b.v)};
  S r = sqrt(a64 * a64 + b64 * b64);
  return {a.b, a.loc, arith::TruncFOp::create(bb, a.loc, ft, r.v)};
}
S maximum(const S &a, const S &b) { return select(a, cmp(a, P::OGT, b.v), a, b); }
S minimum(const S &a, const S &b) { return select(a, cmp(a, P::OLT, b.v), a, b); }
S mod(const S &a, const S &b) {
  // fmod, moved into the divisor's sign; 0 for a zero divisor.
  S r = bin<arith::RemFOp>(a, b);
  Value rNeg = cmp(r, P::OLT, lift(r, 0).v), bNeg = cmp(b, P::OLT, lift(b, 0).v);
  Value signsDiffer = arith::XOrIOp::create(*a.b, a.loc, rNeg, bNeg);
  Value adjust = arith::AndIOp::create(*a.b, a.loc, nonzero(r), signsDiffer);
  S moved = select(a, adjust, r + b, r);
  return select(a, cmp(b, P::OEQ, lift(b, 0).v), lift(a, 0), moved);
}
S gt(const S &a, const S &b) { return oneIf(a, cmp(a, P::OGT, b.v)); }
S ge(const S &a, const S &b) { return oneIf(a, cmp(a, P::OGE, b.v)); }
S lt(const S &a, const S &b) { return oneIf(a, cmp(a, P::OLT, b.v)); }
S le(const S &a, const S &b) { return oneIf(a, cmp(a, P::OLE, b.v)); }
S eq(const S &a, const S &b) { return oneIf(a, cmp(a, P::OEQ, b.v)); }
S ne(const S &a, const S &b) { return oneIf(a, cmp(a, P::UNE, b.v)); }
S logical_and(const S &a, const S &b) {
  return oneIf(a, arith::AndIOp::create(*a.b, a.loc, nonzero(a), nonzero(b)));
}
S logical_or(const S &a, const S &b) {
  return oneIf(a, arith::OrIOp::create(*a.b, a.loc, nonzero(a), nonzero(b)));
}
S logical_xor(const S &a, const S &b) {
  return oneIf(a, arith::XOrIOp::create(*a.b, a.loc, nonzero(a), nonzero(b)));
}

} // namespace kiln::lowering::formula
