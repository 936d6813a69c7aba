//===- FormulaLowering.h - Elementwise formulas as MLIR scalars -*- C++ -*-===//
//
// The value type the CPU lowering instantiates the formulas of
// GraphElementwise.td with (see dialects/Graph/Formula.h): a scalar SSA
// value inside a linalg body, with the formula vocabulary building arith
// and math ops. Semantics follow the double versions in Formula.h, which
// follow MXNet's kernels (comparisons are 1/0, NaN compares false except
// for ≠; maximum is a > b ? a : b).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CONVERSION_GRAPHTOLINALG_FORMULALOWERING_H
#define KILN_CONVERSION_GRAPHTOLINALG_FORMULALOWERING_H

#include "Graph/GraphOps.h"

#include "mlir/IR/Builders.h"

namespace kiln::lowering::formula {

/// A float scalar being computed in the body at `b`'s insertion point.
struct S {
  mlir::OpBuilder *b;
  mlir::Location loc;
  mlir::Value v;
};

S lift(const S &like, double c);

S operator+(const S &a, const S &b);
S operator-(const S &a, const S &b);
S operator*(const S &a, const S &b);
S operator/(const S &a, const S &b);
S operator-(const S &a);
inline S operator+(const S &a, double c) { return a + lift(a, c); }
inline S operator-(const S &a, double c) { return a - lift(a, c); }
inline S operator*(const S &a, double c) { return a * lift(a, c); }
inline S operator/(const S &a, double c) { return a / lift(a, c); }
inline S operator+(double c, const S &a) { return lift(a, c) + a; }
inline S operator-(double c, const S &a) { return lift(a, c) - a; }
inline S operator*(double c, const S &a) { return lift(a, c) * a; }
inline S operator/(double c, const S &a) { return lift(a, c) / a; }

S exp(const S &x);
S expm1(const S &x);
S log(const S &x);
S log1p(const S &x);
S log2(const S &x);
S log10(const S &x);
S sqrt(const S &x);
S rsqrt(const S &x);
S cbrt(const S &x);
S abs(const S &x);
S floor(const S &x);
S ceil(const S &x);
S round(const S &x);
S rint(const S &x);
S trunc(const S &x);
S erf(const S &x);
// Special functions LLVM and libm's vector forms lack: computed in double
// from the algorithms of Formula.cpp, then rounded to x's type.
S erfinv(const S &x);
S lgamma(const S &x);
S tgamma(const S &x);
S digamma(const S &x);
S sin(const S &x);
S cos(const S &x);
S tan(const S &x);
S asin(const S &x);
S acos(const S &x);
S atan(const S &x);
S sinh(const S &x);
S cosh(const S &x);
S tanh(const S &x);
S asinh(const S &x);
S acosh(const S &x);
S atanh(const S &x);
S relu(const S &x);
S sigmoid(const S &x);
S softsign(const S &x);
S square(const S &x);
S sign(const S &x);
S logical_not(const S &x);
S constant(const S &x, double c);
S hard_sigmoid(const S &x, double alpha, double beta);
S smooth_l1(const S &a, double sigma);
S cast(const S &x, graph::DType dtype);

S pow(const S &a, const S &b);
S hypot(const S &a, const S &b);
S maximum(const S &a, const S &b);
S minimum(const S &a, const S &b);
S mod(const S &a, const S &b);
S gt(const S &a, const S &b);
S ge(const S &a, const S &b);
S lt(const S &a, const S &b);
S le(const S &a, const S &b);
S eq(const S &a, const S &b);
S ne(const S &a, const S &b);
S logical_and(const S &a, const S &b);
S logical_or(const S &a, const S &b);
S logical_xor(const S &a, const S &b);

// Binary functions with one double operand (scalar ops, formulas with
// constants) lift the double to the scalar's type.
#define KILN_FORMULA_MIXED(NAME)                                                                   \
  inline S NAME(const S &a, double c) { return NAME(a, lift(a, c)); }                              \
  inline S NAME(double c, const S &b) { return NAME(lift(b, c), b); }
KILN_FORMULA_MIXED(pow)
KILN_FORMULA_MIXED(hypot)
KILN_FORMULA_MIXED(maximum)
KILN_FORMULA_MIXED(minimum)
KILN_FORMULA_MIXED(mod)
KILN_FORMULA_MIXED(gt)
KILN_FORMULA_MIXED(ge)
KILN_FORMULA_MIXED(lt)
KILN_FORMULA_MIXED(le)
KILN_FORMULA_MIXED(eq)
KILN_FORMULA_MIXED(ne)
KILN_FORMULA_MIXED(logical_and)
KILN_FORMULA_MIXED(logical_or)
KILN_FORMULA_MIXED(logical_xor)
#undef KILN_FORMULA_MIXED

} // namespace kiln::lowering::formula

#endif // KILN_CONVERSION_GRAPHTOLINALG_FORMULALOWERING_H
