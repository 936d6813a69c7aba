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
