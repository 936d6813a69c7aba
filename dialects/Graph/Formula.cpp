//===- Formula.cpp - Formula functions on doubles -------------------------===//

#include "Graph/GraphOps.h"

#include "llvm/ADT/APFloat.h"

#include <limits>

using namespace kiln::graph;

/// The float format `x` rounds to, round to nearest even (overflow: ±inf).
static double roundTo(double x, const llvm::fltSemantics &sem) {
  bool losesInfo = false;
  llvm::APFloat f(x);
  f.convert(sem, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return f.convertToDouble();
}

/// C's float-to-int32 conversion as x86's cvttss2si does it: toward zero,
/// and the "integer indefinite" INT32_MIN when out of range or NaN.
static double toInt32(double x) {
  double t = std::trunc(x);
  if (!(t >= -2147483648.0 && t <= 2147483647.0))
    return -2147483648.0;
  return t;
}

double fn::cast(double x, DType dtype) {
  switch (dtype) {
  case DType::float32:
    return static_cast<float>(x);
  case DType::float64:
    return x;
  case DType::float16:
    return roundTo(x, llvm::APFloat::IEEEhalf());
  case DType::bfloat16:
    return roundTo(x, llvm::APFloat::BFloat());
  case DType::int32:
    return toInt32(x);
  case DType::int8:
    return static_cast<int8_t>(static_cast<int32_t>(toInt32(x)));
  case DType::uint8:
    return static_cast<uint8_t>(static_cast<int32_t>(toInt32(x)));
  case DType::int64: {
    double t = std::trunc(x);
    if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
      return -9223372036854775808.0;
    return t;
  }
  case DType::boolean:
    return x != 0 ? 1 : 0;
  }
  return x;
}

namespace {

/// Cephes' polevl: c[0]·xᴺ + ... + c[N] (N + 1 coefficients).
template <size_t N> double polevl(double x, const double (&c)[N]) {
  double r = c[0];
  for (size_t i = 1; i < N; ++i)
    r = r * x + c[i];
  return r;
}
/// Cephes' p1evl: the same with a leading coefficient of 1 left out.
template <size_t N> double p1evl(double x, const double (&c)[N]) {
  double r = x + c[0];
  for (size_t i = 1; i < N; ++i)
    r = r * x + c[i];
  return r;
}

} // namespace

const double fn::ErfinvCoefficients::P0[5] = {
    -5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
    1.39312609387279679503E1, -1.23916583867381258016E0};
const double fn::ErfinvCoefficients::Q0[8] = {
    1.95448858338141759834E0,  4.67627912898881538453E0, 8.63602421390890590575E1,
    -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
    1.59056225126211695515E1,  -1.18331621121330003142E0};
const double fn::ErfinvCoefficients::P1[9] = {
    4.05544892305962419923E0,  3.15251094599893866154E1,  5.71628192246421288162E1,
    4.40805073893200834700E1,  1.46849561928858024014E1,  2.18663306850790267539E0,
    -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4};
const double fn::ErfinvCoefficients::Q1[8] = {
    1.57799883256466749731E1,  4.53907635128879210584E1,   4.13172038254672030440E1,
    1.50425385692907503408E1,  2.50464946208309415979E0,   -1.42182922854787788574E-1,
    -3.80806407691578277194E-2, -9.33259480895457427372E-4};
const double fn::ErfinvCoefficients::P2[9] = {
    3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
    1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
    3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9};
const double fn::ErfinvCoefficients::Q2[8] = {
    6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
    2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
    2.89247864745380683936E-6, 6.79019408009981274425E-9};
const double fn::DigammaCoefficients::A[7] = {
    8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
    -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
    8.33333333333333333333E-2};

double fn::erfinv(double y) {
  using C = ErfinvCoefficients;
  if (-1e-7 < y && y < 1e-7)
    return y * C::kSqrtPiOver2;
  if (y == -1 || y == 1)
    return std::copysign(std::numeric_limits<double>::infinity(), y);
  if (!(-1 < y && y < 1))
    return std::numeric_limits<double>::quiet_NaN();
  // Cephes' ndtri of p = (y + 1) / 2, times 1/√2.
  double p = 0.5 * (y + 1);
  bool negate = true;
  if (p > 1.0 - C::kExpMinus2) {
    p = 1.0 - p;
    negate = false;
  }
  if (p > C::kExpMinus2) {
    double c = p - 0.5, c2 = c * c;
    return (c + c * (c2 * polevl(c2, C::P0) / p1evl(c2, C::Q0))) * C::kSqrt2Pi * M_SQRT1_2;
  }
  double x = std::sqrt(-2.0 * std::log(p));
  double x0 = x - std::log(x) / x;
  double z = 1.0 / x;
  double x1 = x < 8.0 ? z * polevl(z, C::P1) / p1evl(z, C::Q1)
                      : z * polevl(z, C::P2) / p1evl(z, C::Q2);
  double r = x0 - x1;
  return (negate ? -r : r) * M_SQRT1_2;
}

double fn::digamma(double x) {
  double reflection = 0;
  bool negative = false;
  if (x <= 0) {
    double p = std::floor(x);
    if (p == x)
      return std::numeric_limits<double>::infinity();
    // ψ(1 − x) − π·cot(πx), with x's nearest integer removed first (tan's
    // zeros).
    double nz = x - p;
    if (nz != 0.5) {
      if (nz > 0.5)
        nz = x - (p + 1);
      reflection = M_PI / std::tan(M_PI * nz);
    }
    negative = true;
    x = 1.0 - x;
  }
  double s = x, w = 0;
  while (s < 10.0) {
    w += 1.0 / s;
    s += 1.0;
  }
  double z = 1.0 / (s * s);
  double tail = s < 1.0e17 ? z * polevl(z, DigammaCoefficients::A) : 0.0;
  double y = std::log(s) - 0.5 / s - tail - w;
  return negative ? y - reflection : y;
}
