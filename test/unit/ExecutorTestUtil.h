//===- ExecutorTestUtil.h - Seeded executors for tests ----------*- C++ -*-===//
//
// What the Executor tests share: parameters initialized as kiln-train does
// (Xavier gaussian, in, 2; name rules for biases, gamma, moving stats), and
// inputs filled with seeded values (labels as class ids 0-9).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_EXECUTORTESTUTIL_H
#define KILN_TEST_UNIT_EXECUTORTESTUTIL_H

#include "kiln/Executor.h"
#include "kiln/Initializer.h"
#include "kiln/Random.h"

#include <string>

namespace kiln::test {

inline void initializeExecutor(Executor &e, uint64_t seed) {
  Xavier init(RandomType::Gaussian, FactorType::In, 2);
  Random rng(seed);
  for (const auto &n : e.paramNames())
    init(n, e.arg(n), rng);
  for (const auto &n : e.auxNames())
    init(n, e.arg(n), rng);
  for (const auto &n : e.inputNames()) {
    Tensor &t = e.arg(n);
    bool label = n.find("label") != std::string::npos;
    for (float &v : t.values)
      v = label ? static_cast<float>(rng.below(10)) : static_cast<float>(rng.normal());
  }
}

} // namespace kiln::test

#endif // KILN_TEST_UNIT_EXECUTORTESTUTIL_H
