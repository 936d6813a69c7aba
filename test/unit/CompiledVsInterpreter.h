//===- CompiledVsInterpreter.h - Issue 3's equality check -------*- C++ -*-===//
//
// The tolerance every compiled-vs-reference-interpreter test uses (rtol
// 1e-4, atol 1e-5), counting the elements outside it and reporting the
// first few.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_COMPILEDVSINTERPRETER_H
#define KILN_TEST_UNIT_COMPILEDVSINTERPRETER_H

#include "Interpreter/Interpreter.h"
#include "kiln/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace kiln::test {

inline void expectMatchesInterpreter(const Tensor &got, const ref::Array &want,
                                     const std::string &what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.values.size(); ++i) {
    double g = got.values[i], w = want.data[i];
    if (!(std::abs(g - w) <= 1e-5 + 1e-4 * std::abs(w)) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: compiled " << g << ", interpreter " << w;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.values.size() << " differ";
}

} // namespace kiln::test

#endif // KILN_TEST_UNIT_COMPILEDVSINTERPRETER_H
