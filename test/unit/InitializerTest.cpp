//===- InitializerTest.cpp - MXNet initializers: statistics, rules, hints -===//
//
// Expected moments are the distributions' theoretical ones (uniform on
// [−s, s): mean 0, variance s²/3; normal(0, σ): variance σ²) with scales
// from MXNet's formulas worked out by hand; tolerances are several standard
// errors of the sample estimates, so the tests are deterministic (fixed
// seeds) without being brittle.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Initializer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace kiln;

namespace {

struct Moments {
  double mean, var, min, max;
};

Moments moments(const Tensor &t) {
  double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
  for (float v : t.values) {
    sum += v;
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
  }
  double mean = sum / t.values.size();
  for (float v : t.values)
    sq += (v - mean) * (v - mean);
  return {mean, sq / t.values.size(), lo, hi};
}

/// Mean within 5 standard errors of 0, variance within 2% (n ≥ 1e5: the
/// variance's relative standard error is ≤ 0.5% for these distributions).
void expectMoments(const Tensor &t, double wantVar, const std::string &what) {
  Moments m = moments(t);
  double n = static_cast<double>(t.values.size());
  EXPECT_NEAR(m.mean, 0.0, 5 * std::sqrt(wantVar / n)) << what;
  EXPECT_NEAR(m.var / wantVar, 1.0, 0.02) << what;
}

void expectThrowsWith(const std::function<void()> &f, const std::vector<std::string> &parts) {
  try {
    f();
    ADD_FAILURE() << "no kiln::Error thrown";
  } catch (const Error &e) {
    for (const std::string &p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' lacks '" << p << "'";
  }
}

Tensor filled(const Initializer &init, const std::string &name, std::vector<int64_t> shape,
              const std::string &hint = "", uint64_t seed = 1) {
  Tensor t(std::move(shape));
  Random rng(seed);
  init(name, t, rng, hint);
  return t;
}

TEST(Initializer, XavierUniformAvgIsMXNetsDefault) {
  // conv weight (64, 32, 5, 5): fan_in = 32·25 = 800, fan_out = 64·25 = 1600,
  // avg 1200; scale = sqrt(3 / 1200) = 0.05.
  Xavier x;
  EXPECT_DOUBLE_EQ(x.scale("w", {64, 32, 5, 5}), 0.05);
  Tensor t = filled(x, "conv_weight", {64, 32, 5, 5});
  Moments m = moments(t);
  EXPECT_GE(m.min, -0.05);
  EXPECT_LT(m.max, 0.05);
  EXPECT_GT(m.max, 0.0499); // fills the range
  expectMoments(t, 0.05 * 0.05 / 3, "xavier uniform avg");
}

TEST(Initializer, XavierFactorTypesAndGaussian) {
  // fc weight (500, 800): fan_in 800, fan_out 500.
  EXPECT_DOUBLE_EQ(Xavier(RandomType::Uniform, FactorType::In, 2).scale("w", {500, 800}),
                   std::sqrt(2.0 / 800));
  EXPECT_DOUBLE_EQ(Xavier(RandomType::Uniform, FactorType::Out, 3).scale("w", {500, 800}),
                   std::sqrt(3.0 / 500));
  Xavier g(RandomType::Gaussian, FactorType::In, 2);
  Tensor t = filled(g, "fc_weight", {500, 800});
  expectMoments(t, 2.0 / 800, "xavier gaussian in");
  // A normal has ~0.27% of values beyond 3σ; a uniform has none.
  double sigma = std::sqrt(2.0 / 800);
  size_t tail = 0;
  for (float v : t.values)
    tail += std::abs(v) > 3 * sigma;
  EXPECT_NEAR(tail / 400000.0, 0.0027, 0.0006);
  // MSRAPrelu: gaussian with magnitude 2 / (1 + 0.25²).
  EXPECT_DOUBLE_EQ(MSRAPrelu().scale("w", {500, 800}), std::sqrt(2.0 / 1.0625 / 650));
}

TEST(Initializer, UniformNormalConstant) {
  Tensor u = filled(Uniform(), "w_weight", {400, 300});
  Moments mu = moments(u);
  EXPECT_GE(mu.min, -0.07);
  EXPECT_LT(mu.max, 0.07);
  expectMoments(u, 0.07 * 0.07 / 3, "uniform");
  expectMoments(filled(Normal(), "w_weight", {400, 300}), 1e-4, "normal");
  expectMoments(filled(Normal(0.5), "w_weight", {400, 300}), 0.25, "normal 0.5");
  EXPECT_EQ(filled(Constant(0.5), "w_weight", {3}).values, (std::vector<float>{0.5, 0.5, 0.5}));
  EXPECT_EQ(filled(One(), "w_weight", {2}).values, (std::vector<float>{1, 1}));
  EXPECT_EQ(filled(Zero(), "w_weight", {2}).values, (std::vector<float>{0, 0}));
}

TEST(Initializer, NameRules) {
  Uniform init(1.0);
  auto all = [](const Tensor &t, float v) {
    for (float x : t.values)
      if (x != v)
        return false;
    return true;
  };
  Tensor w = filled(init, "fc1_weight", {10, 10});
  EXPECT_FALSE(all(w, w.values[0])); // random
  EXPECT_TRUE(all(filled(init, "fc1_bias", {10}), 0.0f));
  EXPECT_TRUE(all(filled(init, "bn_gamma", {10}), 1.0f));
  EXPECT_TRUE(all(filled(init, "bn_beta", {10}), 0.0f));
  EXPECT_TRUE(all(filled(init, "bn_moving_mean", {10}), 0.0f));
  EXPECT_TRUE(all(filled(init, "bn_moving_var", {10}), 1.0f));
  EXPECT_TRUE(all(filled(init, "q_min", {1}), 0.0f));
  EXPECT_TRUE(all(filled(init, "q_max", {1}), 1.0f));
  expectThrowsWith([&] { filled(init, "embedding_table", {4, 4}); },
                   {"unknown initialization pattern", "'embedding_table'", "__init__"});
  // Xavier's own shape rule names the parameter.
  expectThrowsWith([] { filled(Xavier(), "odd_weight", {7}); },
                   {"'odd_weight'", "(7,)", "at least 2 dimensions"});
}

TEST(Initializer, HintsOverrideTheNameRules) {
  Xavier x;
  EXPECT_EQ(filled(x, "fc_bias", {2}, R"(["constant", {"value": 0.5}])").values,
            (std::vector<float>{0.5, 0.5}));
  EXPECT_EQ(filled(x, "fc_weight", {2, 2}, "zero").values, (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(filled(x, "fc_weight", {2}, R"("ones")").values, (std::vector<float>{1, 1}));
  EXPECT_EQ(filled(x, "anything", {1}, R"(["Constant", {"value": "0.25"}])").values,
            (std::vector<float>{0.25}));
  EXPECT_EQ(filled(x, "anything", {1}, R"(["zero", {}])").values, (std::vector<float>{0}));
  // ["xavier", {"magnitude": 2}] on (300, 500): uniform, avg 400 → var 2/400/3.
  expectMoments(filled(x, "w", {300, 500}, R"(["xavier", {"magnitude": 2}])"), 2.0 / 400 / 3,
                "hinted xavier");
  expectMoments(filled(x, "w", {300, 500},
                       R"(["xavier", {"rnd_type": "gaussian", "factor_type": "out",
                                       "magnitude": 1.5}])"),
                1.5 / 300, "hinted gaussian xavier");
}

TEST(Initializer, BadHintsSayWhatIsWrong) {
  auto hinted = [&](const std::string &name, const std::string &hint) {
    return [=] { filled(Xavier(), name, {2, 2}, hint); };
  };
  expectThrowsWith(hinted("p", "bogus"), {"parameter 'p'", "unknown initializer 'bogus'"});
  expectThrowsWith(hinted("p", "[\"xavier\", {"), {"parameter 'p'", "malformed JSON"});
  expectThrowsWith(hinted("p", "[1, 2]"), {"[\"name\", {arguments}]"});
  expectThrowsWith(hinted("p", R"(["xavier", {"magnitud": 2}])"),
                   {"xavier", "unknown argument 'magnitud'"});
  expectThrowsWith(hinted("p", R"(["xavier", {"rnd_type": "cauchy"}])"),
                   {"rnd_type must be uniform or gaussian, got 'cauchy'"});
  expectThrowsWith(hinted("p", R"(["uniform", {"scale": [1]}])"),
                   {"argument 'scale' must be a number"});
  expectThrowsWith(hinted("p", R"(["constant", {}])"), {"argument 'value' is required"});
  expectThrowsWith([] { filled(Xavier(), "b", {4}, R"(["xavier", {}])"); },
                   {"'b'", "at least 2 dimensions"});
}

TEST(Initializer, DumpsRoundTrips) {
  EXPECT_EQ(Xavier().dumps(),
            R"(["xavier", {"rnd_type": "uniform", "factor_type": "avg", "magnitude": 3}])");
  EXPECT_EQ(Uniform().dumps(), R"(["uniform", {"scale": 0.07}])");
  EXPECT_EQ(Normal().dumps(), R"(["normal", {"sigma": 0.01}])");
  EXPECT_EQ(Zero().dumps(), R"(["zero", {}])");
  EXPECT_EQ(Constant(0.5).dumps(), R"(["constant", {"value": 0.5}])");
  for (const char *spec : {"xavier", "msraprelu", "uniform", "normal", "zero", "one",
                           R"(["xavier", {"rnd_type": "gaussian", "factor_type": "in",
                                          "magnitude": 2.5}])",
                           R"(["constant", {"value": -3}])"}) {
    std::string once = createInitializer(spec)->dumps();
    EXPECT_EQ(createInitializer(once)->dumps(), once) << spec;
  }
}

TEST(Initializer, SeededPerParameterAndOrderIndependent) {
  Xavier x;
  Tensor a1({20, 30}), b1({30, 40}), a2({20, 30}), b2({30, 40}), a3({20, 30});
  initializeParameters(x, {{"a_weight", &a1}, {"b_weight", &b1}}, 7);
  initializeParameters(x, {{"b_weight", &b2}, {"a_weight", &a2}}, 7);
  EXPECT_EQ(a1.values, a2.values);
  EXPECT_EQ(b1.values, b2.values);
  initializeParameters(x, {{"a_weight", &a3}}, 8);
  EXPECT_NE(a1.values, a3.values);
  Tensor c({2}), d({3});
  initializeParameters(x, {{"c_weight", &c}, {"d_bias", &d}}, 7,
                       {{"c_weight", R"(["constant", {"value": 2}])"}});
  EXPECT_EQ(c.values, (std::vector<float>{2, 2}));
  EXPECT_EQ(d.values, (std::vector<float>{0, 0, 0}));
}

TEST(Initializer, NormalTransformIsStandard) {
  // Box–Muller: mean 0, variance 1, symmetric; checks the transform itself.
  Random rng(11);
  double sum = 0, sq = 0, cube = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double z = rng.normal();
    sum += z;
    sq += z * z;
    cube += z * z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sq / n, 1.0, 0.015);
  EXPECT_NEAR(cube / n, 0.0, 5 * std::sqrt(15.0 / n));
}

} // namespace
