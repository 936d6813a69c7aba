//===- FormulaLowering.cpp - Elementwise formulas as MLIR scalars ---------===//

#include "FormulaLowering.h"

#include "Graph/Formula.h"

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
namespace {

S toF64(const S &x) {
  return {x.b, x.loc, arith::ExtFOp::create(*x.b, x.loc, x.b->getF64Type(), x.v)};
}
S fromF64(const S &like, const S &r) {
  if (r.v.getType() == like.v.getType())
    return r;
  return {like.b, like.loc, arith::TruncFOp::create(*like.b, like.loc, like.v.getType(), r.v)};
}
template <size_t N> S polevl(const S &x, const double (&c)[N]) {
  S r = lift(x, c[0]);
  for (size_t i = 1; i < N; ++i)
    r = r * x + c[i];
  return r;
}
template <size_t N> S p1evl(const S &x, const double (&c)[N]) {
  S r = x + c[0];
  for (size_t i = 1; i < N; ++i)
    r = r * x + c[i];
  return r;
}
/// x is an integer ≤ 0 (a pole of Γ; −inf included), as an i1.
Value nonPositiveInteger(const S &x) {
  return arith::AndIOp::create(*x.b, x.loc, cmp(x, P::OLE, lift(x, 0).v),
                               cmp(x, P::OEQ, floor(x).v));
}

/// ln Γ(x) for x ≥ 0.5 (double): Lanczos' approximation with g = 7 and
/// nine terms (relative error of Γ about 1e-15).
S lanczosLgamma(const S &x) {
  static const double kCoefficients[] = {
      676.5203681218851,     -1259.1392167224028,  771.32342877765313,
      -176.61502916214059,   12.507343278686905,   -0.13857109526572012,
      9.9843695780195716e-6, 1.5056327351493116e-7};
  S z = x - 1.0;
  S sum = lift(x, 0.99999999999980993);
  for (size_t i = 0; i < std::size(kCoefficients); ++i)
    sum = sum + kCoefficients[i] / (z + static_cast<double>(i + 1));
  S t = z + 7.5;
  return (z + 0.5) * log(t) - t + log(sum) + 0.91893853320467274178; // ln √(2π)
}

/// ln |Γ(x)| in double, x a double: Lanczos for x ≥ 0.5, the reflection
/// ln Γ(x) = ln(π / |sin πx|) − ln Γ(1 − x) below (x reduced modulo 2 first
/// so that sin's argument is exact); +inf at the poles and at ±inf.
S lgamma64(const S &x) {
  Value reflect = cmp(x, P::OLT, lift(x, 0.5).v);
  S w = select(x, reflect, 1.0 - x, x);
  S l = lanczosLgamma(w);
  S r = x - 2.0 * floor(x * 0.5);
  S sinPi = abs(sin(r * M_PI));
  S reflected = log(M_PI / sinPi) - l;
  S result = select(x, reflect, reflected, l);
  Value infinite = arith::OrIOp::create(*x.b, x.loc, nonPositiveInteger(x),
                                        cmp(x, P::OEQ, lift(x, INFINITY).v));
  return select(x, infinite, lift(x, INFINITY), result);
}

} // namespace

S erfinv(const S &x) {
  using C = graph::fn::ErfinvCoefficients;
  S y = toF64(x);
  // Cephes' ndtri of p = (y + 1) / 2 on both branches, selected as
  // Formula.cpp's erfinv branches.
  S p = 0.5 * (y + 1.0);
  Value upper = cmp(p, P::OGT, lift(p, 1.0 - C::kExpMinus2).v);
  S q = select(p, upper, 1.0 - p, p);
  S c = q - 0.5, c2 = c * c;
  S centre = (c + c * (c2 * polevl(c2, C::P0) / p1evl(c2, C::Q0))) * C::kSqrt2Pi;
  S t = sqrt(-2.0 * log(q));
  S x0 = t - log(t) / t;
  S z = 1.0 / t;
  S x1 = select(t, cmp(t, P::OLT, lift(t, 8.0).v), z * polevl(z, C::P1) / p1evl(z, C::Q1),
                z * polevl(z, C::P2) / p1evl(z, C::Q2));
  S tail = select(t, upper, x0 - x1, x1 - x0);
  S r = select(q, cmp(q, P::OGT, lift(q, C::kExpMinus2).v), centre, tail) * M_SQRT1_2;
  S absY = abs(y);
  r = select(y, cmp(absY, P::OLT, lift(y, 1e-7).v), y * C::kSqrtPiOver2, r);
  // ±1: ±inf; beyond, and NaN: NaN.
  S inf = select(y, cmp(y, P::OLT, lift(y, 0).v), lift(y, -INFINITY), lift(y, INFINITY));
  r = select(y, cmp(absY, P::OEQ, lift(y, 1).v), inf, r);
  r = select(y, cmp(absY, P::OLE, lift(y, 1).v), r, lift(y, NAN));
  return fromF64(x, r);
}

S lgamma(const S &x) { return fromF64(x, lgamma64(toF64(x))); }

// Γ(x) = ±exp(ln |Γ(x)|): negative for x < 0 with ⌊x⌋ odd; ±inf at ±0 (the
// sign of the zero), NaN at the negative integers and −inf, as C's tgamma.
S tgamma(const S &x) {
  S y = toF64(x);
  S magnitude = exp(lgamma64(y));
  S fl = floor(y);
  Value oddFloor = cmp(fl - 2.0 * floor(fl * 0.5), P::OEQ, lift(y, 1).v);
  Value negativeSign = arith::AndIOp::create(*y.b, y.loc, cmp(y, P::OLT, lift(y, 0).v), oddFloor);
  S r = select(y, negativeSign, -magnitude, magnitude);
  Value zero = cmp(y, P::OEQ, lift(y, 0).v);
  S signedInf = {y.b, y.loc, math::CopySignOp::create(*y.b, y.loc, lift(y, INFINITY).v, y.v)};
  r = select(y, nonPositiveInteger(y), lift(y, NAN), r);
  r = select(y, zero, signedInf, r);
  return fromF64(x, r);
}

// Formula.cpp's digamma with the recurrence unrolled: after the reflection
// x ≥ 1 (or x > 0), so ten steps reach 10.
S digamma(const S &x) {
  S y = toF64(x);
  Value negative = cmp(y, P::OLE, lift(y, 0).v);
  S fl = floor(y);
  S nz = y - fl;
  nz = select(y, cmp(nz, P::OGT, lift(y, 0.5).v), y - (fl + 1.0), nz);
  S reflection = select(y, cmp(nz, P::OEQ, lift(y, 0.5).v), lift(y, 0),
                        M_PI / tan(nz * M_PI));
  S s = select(y, negative, 1.0 - y, y);
  S w = lift(y, 0);
  for (int i = 0; i < 10; ++i) {
    Value below = cmp(s, P::OLT, lift(s, 10.0).v);
    w = select(w, below, w + 1.0 / s, w);
    s = select(s, below, s + 1.0, s);
  }
  S z = 1.0 / (s * s);
  S tail = select(z, cmp(s, P::OLT, lift(s, 1.0e17).v),
                  z * polevl(z, graph::fn::DigammaCoefficients::A), lift(z, 0));
  S r = log(s) - 0.5 / s - tail - w;
  r = select(y, negative, r - reflection, r);
  r = select(y, nonPositiveInteger(y), lift(y, INFINITY), r);
  return fromF64(x, r);
}

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

S smooth_l1(const S &a, double sigma) {
  double bsq = sigma * sigma, ibsq = 1 / bsq;
  S inside = a * a * 0.5 * bsq;
  S below = select(a, cmp(a, P::OLT, lift(a, -ibsq).v), -a - 0.5 * ibsq, inside);
  return select(a, cmp(a, P::OGT, lift(a, ibsq).v), a - 0.5 * ibsq, below);
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
