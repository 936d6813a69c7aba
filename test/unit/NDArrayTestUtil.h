//===- NDArrayTestUtil.h - What the NDArray tests share ---------*- C++ -*-===//
//
// A tolerance check that counts the elements outside rtol/atol and reports
// the first few, and the message of the kiln::Error a call throws.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_NDARRAYTESTUTIL_H
#define KILN_TEST_UNIT_NDARRAYTESTUTIL_H

#include "kiln/Error.h"
#include "kiln/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace kiln::test {

inline void expectClose(const Tensor &got, const Tensor &want, const std::string &what,
                        double rtol = 1e-4, double atol = 1e-5) {
  ASSERT_EQ(got.shape, want.shape) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.values.size(); ++i) {
    double g = got.values[i], w = want.values[i];
    if (!(std::abs(g - w) <= atol + rtol * std::abs(w)) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << g << ", want " << w;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.values.size() << " differ";
}

/// The message of the kiln::Error `f` throws; "" when it throws none.
template <typename F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace kiln::test

#endif // KILN_TEST_UNIT_NDARRAYTESTUTIL_H
