//===- Formula.h - The formula language of elementwise ops ------*- C++ -*-===//
//
// The formulas of GraphElementwise.td are C++ expressions over a value type
// T, instantiated three times:
//  - T = double: the reference interpreter's kernel (this file, namespace fn);
//  - T = a scalar MLIR value inside a linalg body: the CPU lowering
//    (lib/Conversion/GraphToLinalg/FormulaLowering.h);
//  - T = GExpr, a graph-dialect tensor: the derivative formulas, which build
//    the backward from graph ops (Gradients.cpp).
// Each value type supplies the same vocabulary: + − · / with other values
// and with double constants, unary minus, the functions below, comparisons
// as 1/0 values (gt, ge, lt, le, eq, ne), logical ops on ≠ 0, and
// `constant(x, c)` (c everywhere x is). Functions std:: already has (exp,
// log, floor, pow, hypot, ...) keep their std:: names; for double they are
// std's own, so every formula means on the interpreter exactly what the
// C library computes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GRAPH_FORMULA_H
#define KILN_GRAPH_FORMULA_H

#include "mlir/IR/Value.h"

#include "llvm/ADT/SmallVector.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kiln::graph {

enum class DType : uint32_t;

namespace fn {

using std::abs;
using std::acos;
using std::acosh;
using std::asin;
using std::asinh;
using std::atan;
using std::atanh;
using std::cbrt;
using std::ceil;
using std::cos;
using std::cosh;
using std::erf;
using std::exp;
using std::expm1;
using std::floor;
using std::hypot;
using std::lgamma;
using std::log;
using std::log10;
using std::log1p;
using std::log2;
using std::pow;
using std::round;
using std::sin;
using std::sinh;
using std::sqrt;
using std::tan;
using std::tanh;
using std::tgamma;
using std::trunc;

inline double rint(double x) { return std::nearbyint(x); }
inline double relu(double x) { return x > 0 ? x : 0; }
inline double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
inline double softsign(double x) { return x / (1 + std::abs(x)); }
inline double rsqrt(double x) { return 1 / std::sqrt(x); }
inline double square(double x) { return x * x; }
inline double sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
inline double constant(double, double c) { return c; }
inline double hard_sigmoid(double x, double alpha, double beta) {
  double v = alpha * x + beta;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
/// MXNet's smooth_l1 with sigma = b: |a| − 0.5/b² beyond ±1/b², 0.5·a²·b²
/// inside.
inline double smooth_l1(double a, double b) {
  double bsq = b * b, ibsq = 1 / bsq;
  return a > ibsq ? a - 0.5 * ibsq : a < -ibsq ? -a - 0.5 * ibsq : a * a * 0.5 * bsq;
}
// MXNet's maximum/minimum: a > b ? a : b (NaN in a loses to b, in b wins).
inline double maximum(double a, double b) { return a > b ? a : b; }
inline double minimum(double a, double b) { return a < b ? a : b; }
/// MXNet's mod: the sign of the divisor (Python's %), 0 for b = 0.
inline double mod(double a, double b) {
  if (b == 0)
    return 0;
  double r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}
inline double gt(double a, double b) { return a > b ? 1 : 0; }
inline double ge(double a, double b) { return a >= b ? 1 : 0; }
inline double lt(double a, double b) { return a < b ? 1 : 0; }
inline double le(double a, double b) { return a <= b ? 1 : 0; }
inline double eq(double a, double b) { return a == b ? 1 : 0; }
inline double ne(double a, double b) { return a != b ? 1 : 0; }
inline double logical_not(double x) { return x == 0 ? 1 : 0; }
inline double logical_and(double a, double b) { return a != 0 && b != 0 ? 1 : 0; }
inline double logical_or(double a, double b) { return a != 0 || b != 0 ? 1 : 0; }
inline double logical_xor(double a, double b) { return (a != 0) != (b != 0) ? 1 : 0; }

/// The coefficients of erfinv's rational approximations (Cephes' ndtri:
/// P0/Q0 for the centre, P1/Q1 and P2/Q2 for the tails) and of digamma's
/// asymptotic series, shared by the double and the MLIR versions.
struct ErfinvCoefficients {
  static constexpr double kExpMinus2 = 0.13533528323661269189;
  static constexpr double kSqrt2Pi = 2.50662827463100050242;
  static constexpr double kSqrtPiOver2 = 0.88622692545275801365;
  static const double P0[5], Q0[8], P1[9], Q1[8], P2[9], Q2[8];
};
struct DigammaCoefficients {
  static const double A[7];
};

/// MXNet's erfinv: Cephes' ndtri in double (contrib/erfinv-inl.h), y·√π/2
/// for |y| < 1e-7, ±inf at ±1, NaN outside [−1, 1].
double erfinv(double y);
/// Cephes' psi (digamma) as MXNet's special_functions-inl.h computes it:
/// reflection for x ≤ 0, the recurrence up to 10, the asymptotic series.
/// Its poles (0, −1, ...) give +inf (MXNet: DBL_MAX, inf in float32).
double digamma(double x);

/// The value x takes when MXNet casts it to `dtype` (see graph.cast).
double cast(double x, DType dtype);

} // namespace fn

class GradBuilder;

namespace gexpr {

/// A graph-dialect tensor in a derivative formula: the operations build graph
/// ops with the builder of the rule being written (see GradBuilder). A null
/// GExpr is a zero gradient. `shape` is the static shape the value will have
/// (rules create unranked values; the shape picks same-shape or
/// broadcasting ops).
struct GExpr {
  GradBuilder *g = nullptr;
  mlir::Value value;
  llvm::SmallVector<int64_t, 4> shape;

  explicit operator bool() const { return bool(value); }
};

GExpr operator+(const GExpr &a, const GExpr &b);
GExpr operator-(const GExpr &a, const GExpr &b);
GExpr operator*(const GExpr &a, const GExpr &b);
GExpr operator/(const GExpr &a, const GExpr &b);
GExpr operator+(const GExpr &a, double b);
GExpr operator-(const GExpr &a, double b);
GExpr operator*(const GExpr &a, double b);
GExpr operator/(const GExpr &a, double b);
GExpr operator+(double a, const GExpr &b);
GExpr operator-(double a, const GExpr &b);
GExpr operator*(double a, const GExpr &b);
GExpr operator/(double a, const GExpr &b);
GExpr operator-(const GExpr &a);

GExpr exp(const GExpr &x);
GExpr log(const GExpr &x);
GExpr sqrt(const GExpr &x);
GExpr square(const GExpr &x);
GExpr abs(const GExpr &x);
GExpr sign(const GExpr &x);
GExpr floor(const GExpr &x);
GExpr sin(const GExpr &x);
GExpr cos(const GExpr &x);
GExpr sinh(const GExpr &x);
GExpr cosh(const GExpr &x);
GExpr pow(const GExpr &a, const GExpr &b);
GExpr pow(const GExpr &a, double b);
GExpr pow(double a, const GExpr &b);
GExpr gt(const GExpr &a, const GExpr &b);
GExpr ge(const GExpr &a, const GExpr &b);
GExpr lt(const GExpr &a, const GExpr &b);
GExpr le(const GExpr &a, const GExpr &b);
GExpr gt(const GExpr &a, double b);
GExpr ge(const GExpr &a, double b);
GExpr lt(const GExpr &a, double b);
GExpr le(const GExpr &a, double b);
GExpr gt(double a, const GExpr &b);
GExpr ge(double a, const GExpr &b);
GExpr lt(double a, const GExpr &b);
GExpr le(double a, const GExpr &b);
GExpr digamma(const GExpr &x);
GExpr cast(const GExpr &x, DType dtype);

} // namespace gexpr

using gexpr::GExpr;

} // namespace kiln::graph

#endif // KILN_GRAPH_FORMULA_H
