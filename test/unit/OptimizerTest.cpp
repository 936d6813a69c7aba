//===- OptimizerTest.cpp - Compiled updates against MXNet's formulas ------===//
//
// The reference below is a plain transcription of MXNet 1.x: the kernels of
// src/operator/optimizer_op-inl.h (SGDKernel, SGDMomKernel, AdamUpdate, in
// float with float parameters) and the bookkeeping of
// python/mxnet/optimizer/optimizer.py (_update_count before _get_lr, lr_mult,
// wd_mult and its name rule, Adam's bias-corrected lr) and lr_scheduler.py.
// It shares no code with lib/Train. The hand-computed cases check the
// reference's reading of the formulas too.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Optimizer.h"
#include "kiln/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace kiln;

namespace {

//===-- Reference ---------------------------------------------------------===//

/// MXNet's FactorScheduler / MultiFactorScheduler as pure functions of the
/// update count (their loops, replayed from the start).
std::function<double(int64_t)> factorSchedule(double base, int64_t step, double factor,
                                              double stop) {
  return [=](int64_t n) {
    double lr = base;
    int64_t count = 0;
    while (n > count + step) {
      count += step;
      lr = std::max(lr * factor, stop);
    }
    return lr;
  };
}

std::function<double(int64_t)> multiFactorSchedule(double base, std::vector<int64_t> steps,
                                                   double factor) {
  return [=](int64_t n) {
    double lr = base;
    for (int64_t s : steps)
      if (n > s)
        lr *= factor;
    return lr;
  };
}

float clipMap(float x, float bound) { return x > bound ? bound : x < -bound ? -bound : x; }

struct RefParam {
  std::string name;
  std::vector<float> w, mom, mean, var;
};

struct Reference {
  std::string kind;
  OptimizerOptions o;
  double lr;
  std::function<double(int64_t)> schedule; // empty: constant lr
  int64_t numUpdate;
  std::vector<RefParam> params;

  double lrMult(const std::string &name) const {
    auto it = o.lrMult.find(name);
    return it == o.lrMult.end() ? 1.0 : it->second;
  }
  double wdMult(const std::string &name) const {
    auto it = o.wdMult.find(name);
    if (it != o.wdMult.end())
      return it->second;
    bool named = !o.paramNames.empty();
    auto ends = [&](const std::string &s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    return named && !ends("_weight") && !ends("_gamma") ? 0.0 : 1.0;
  }

  void step(const std::vector<std::vector<float>> &grads) {
    ++numUpdate; // _update_count
    for (size_t p = 0; p < params.size(); ++p) {
      RefParam &rp = params[p];
      double lrD = (schedule ? schedule(numUpdate) : lr) * lrMult(rp.name);
      double wdD = o.wd * wdMult(rp.name);
      const std::vector<float> &g = grads[p];
      float rescale = static_cast<float>(o.rescaleGrad), clip = static_cast<float>(o.clipGradient);
      bool clipping = o.clipGradient > 0;
      if (kind == "sgd") {
        float lrF = static_cast<float>(lrD), wdF = static_cast<float>(wdD);
        float momentum = static_cast<float>(o.momentum);
        for (size_t i = 0; i < rp.w.size(); ++i) {
          float gr = clipping ? clipMap(rescale * g[i], clip) : rescale * g[i];
          if (o.momentum > 0) {
            rp.mom[i] = momentum * rp.mom[i] - lrF * wdF * rp.w[i] - lrF * gr;
            rp.w[i] = rp.w[i] + rp.mom[i];
          } else {
            rp.w[i] = (1.f - lrF * wdF) * rp.w[i] - lrF * gr;
          }
        }
      } else {
        double t = static_cast<double>(numUpdate);
        double coef1 = 1. - std::pow(o.beta1, t), coef2 = 1. - std::pow(o.beta2, t);
        float lrT = static_cast<float>(lrD * std::sqrt(coef2) / coef1);
        float wdF = static_cast<float>(wdD), b1 = static_cast<float>(o.beta1),
              b2 = static_cast<float>(o.beta2), eps = static_cast<float>(o.epsilon);
        for (size_t i = 0; i < rp.w.size(); ++i) {
          float gr = g[i] * rescale + rp.w[i] * wdF;
          if (clipping)
            gr = clipMap(gr, clip);
          rp.mean[i] = b1 * rp.mean[i] + (1.f - b1) * gr;
          rp.var[i] = b2 * rp.var[i] + (1.f - b2) * gr * gr;
          rp.w[i] = rp.w[i] - lrT * rp.mean[i] / (std::sqrt(rp.var[i]) + eps);
        }
      }
    }
  }
};

//===-- Harness -----------------------------------------------------------===//

struct Case {
  std::string label, kind;
  OptimizerOptions options;
  std::function<double(int64_t)> schedule;
  int steps = 5;
};

void expectClose(const std::vector<float> &got, const std::vector<float> &want,
                 const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= 1e-6 + 1e-6 * std::abs(want[i])) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: compiled " << got[i] << ", reference " << want[i];
}

void runAgainstReference(const Case &c) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
      {"fc1_weight", {4, 3}}, {"fc1_bias", {4}}, {"conv_weight", {2, 3, 2, 2}}, {"bn_gamma", {3}}};
  Random rng(123);
  std::vector<Tensor> weights;
  Reference ref{c.kind, c.options, 0, c.schedule, c.options.beginNumUpdate, {}};
  std::unique_ptr<Optimizer> opt = createOptimizer(c.kind, c.options);
  ref.lr = c.options.learningRate.value_or(c.kind == "sgd" ? 0.01 : 0.001);
  for (const auto &[name, shape] : shapes) {
    weights.emplace_back(shape);
    for (float &v : weights.back().values)
      v = static_cast<float>(rng.uniform(-1, 1));
    RefParam rp{name, weights.back().values, {}, {}, {}};
    rp.mom.assign(rp.w.size(), 0.f);
    rp.mean.assign(rp.w.size(), 0.f);
    rp.var.assign(rp.w.size(), 0.f);
    ref.params.push_back(rp);
  }
  std::vector<Tensor *> wptrs;
  for (Tensor &w : weights)
    wptrs.push_back(&w);

  for (int s = 0; s < c.steps; ++s) {
    std::vector<Tensor> grads;
    std::vector<std::vector<float>> refGrads;
    std::vector<const Tensor *> gptrs;
    for (const Tensor &w : weights) {
      grads.emplace_back(w.shape);
      for (float &v : grads.back().values)
        v = static_cast<float>(rng.uniform(-3, 3));
      refGrads.push_back(grads.back().values);
    }
    for (const Tensor &g : grads)
      gptrs.push_back(&g);
    opt->update(wptrs, gptrs);
    ref.step(refGrads);
    EXPECT_EQ(opt->numUpdates(), ref.numUpdate);
    for (size_t p = 0; p < weights.size(); ++p) {
      std::string where = c.label + " step " + std::to_string(s + 1) + " " + shapes[p].first;
      expectClose(weights[p].values, ref.params[p].w, where + " weight");
      const std::vector<Tensor> &st = opt->states();
      if (c.kind == "sgd" && c.options.momentum > 0) {
        expectClose(st[p].values, ref.params[p].mom, where + " momentum");
      } else if (c.kind == "adam") {
        expectClose(st[2 * p].values, ref.params[p].mean, where + " mean");
        expectClose(st[2 * p + 1].values, ref.params[p].var, where + " var");
      }
    }
  }
}

std::vector<std::string> names() { return {"fc1_weight", "fc1_bias", "conv_weight", "bn_gamma"}; }

TEST(Optimizer, SGDPlain) {
  OptimizerOptions o;
  o.learningRate = 0.1;
  runAgainstReference({"sgd", "sgd", o, nullptr});
}

TEST(Optimizer, SGDMomentumWeightDecayRescaleClipMultipliers) {
  OptimizerOptions o;
  o.learningRate = 0.05;
  o.momentum = 0.9;
  o.wd = 1e-2;
  o.rescaleGrad = 0.5;
  o.clipGradient = 1.0;
  o.paramNames = names();
  o.lrMult = {{"conv_weight", 2.0}};
  o.wdMult = {{"fc1_weight", 0.5}};
  runAgainstReference({"sgd-momentum", "sgd", o, nullptr});
  // The same without names: every parameter decays.
  o.paramNames.clear();
  o.lrMult.clear();
  o.wdMult.clear();
  runAgainstReference({"sgd-momentum-unnamed", "sgd", o, nullptr});
}

TEST(Optimizer, SGDWeightDecayWithoutMomentum) {
  OptimizerOptions o;
  o.learningRate = 0.2;
  o.wd = 0.1;
  o.clipGradient = 2.0;
  runAgainstReference({"sgd-wd", "sgd", o, nullptr});
}

TEST(Optimizer, SGDFactorScheduler) {
  OptimizerOptions o;
  o.learningRate = 0.1;
  o.momentum = 0.5;
  o.lrScheduler = std::make_shared<FactorScheduler>(2, 0.5);
  runAgainstReference({"sgd-factor", "sgd", o, factorSchedule(0.1, 2, 0.5, 1e-8), 7});
}

TEST(Optimizer, SGDMultiFactorScheduler) {
  OptimizerOptions o;
  o.learningRate = 0.1;
  o.lrScheduler = std::make_shared<MultiFactorScheduler>(std::vector<int64_t>{2, 4}, 0.1);
  runAgainstReference({"sgd-multifactor", "sgd", o, multiFactorSchedule(0.1, {2, 4}, 0.1), 6});
}

TEST(Optimizer, AdamDefaults) {
  runAgainstReference({"adam", "adam", OptimizerOptions(), nullptr});
}

TEST(Optimizer, AdamWeightDecayClipRescaleSchedulerMultipliers) {
  OptimizerOptions o;
  o.learningRate = 0.01;
  o.wd = 0.05;
  o.rescaleGrad = 0.5;
  o.clipGradient = 1.0;
  o.beta1 = 0.8;
  o.beta2 = 0.99;
  o.epsilon = 1e-6;
  o.paramNames = names();
  o.lrMult = {{"fc1_bias", 3.0}};
  o.wdMult = {{"bn_gamma", 0.0}};
  o.lrScheduler = std::make_shared<FactorScheduler>(3, 0.5);
  runAgainstReference({"adam-all", "adam", o, factorSchedule(0.01, 3, 0.5, 1e-8), 7});
}

TEST(Optimizer, AdamResumesWithBeginNumUpdate) {
  OptimizerOptions o;
  o.learningRate = 0.01;
  o.beginNumUpdate = 10; // bias correction continues at t = 11
  runAgainstReference({"adam-resume", "adam", o, nullptr, 3});
}

//===-- Hand-computed values ----------------------------------------------===//

/// Two steps of one scalar parameter w = 1 with gradient `g` each step.
std::pair<float, float> twoSteps(const std::string &kind, const OptimizerOptions &o, float g,
                                 std::vector<float> *state = nullptr) {
  auto opt = createOptimizer(kind, o);
  Tensor w({1}, {1.0f}), grad({1}, {g});
  opt->update({&w}, {&grad});
  float first = w.values[0];
  opt->update({&w}, {&grad});
  if (state)
    for (const Tensor &s : opt->states())
      state->push_back(s.values[0]);
  return {first, w.values[0]};
}

TEST(Optimizer, HandComputedSGD) {
  // mom1 = −0.1·0.01·1 − 0.1·0.5 = −0.051, w1 = 0.949;
  // mom2 = 0.9·(−0.051) − 0.1·0.01·0.949 − 0.1·0.5 = −0.096849, w2 = 0.852151.
  OptimizerOptions o;
  o.learningRate = 0.1;
  o.momentum = 0.9;
  o.wd = 0.01;
  std::vector<float> mom;
  auto [w1, w2] = twoSteps("sgd", o, 0.5f, &mom);
  EXPECT_NEAR(w1, 0.949, 1e-6);
  EXPECT_NEAR(w2, 0.852151, 1e-6);
  EXPECT_NEAR(mom.at(0), -0.096849, 1e-6);

  // Rescale 0.5 and clip 1: g = clip(0.5·3, 1) = 1 each step. FactorScheduler
  // (step 1, factor 0.5): lr 0.1 at num_update 1, 0.05 at 2.
  OptimizerOptions c;
  c.learningRate = 0.1;
  c.rescaleGrad = 0.5;
  c.clipGradient = 1.0;
  c.lrScheduler = std::make_shared<FactorScheduler>(1, 0.5);
  auto [c1, c2] = twoSteps("sgd", c, 3.0f);
  EXPECT_NEAR(c1, 0.9, 1e-6);
  EXPECT_NEAR(c2, 0.85, 1e-6);
}

TEST(Optimizer, HandComputedAdam) {
  // t=1: m = 0.05, v = 0.00025, lr_t = 0.01·sqrt(0.001)/0.1,
  //      w = 1 − lr_t·m/(sqrt(v) + 1e-8) = 0.9900000063
  // t=2: m = 0.095, v = 0.00049975, lr_t = 0.01·sqrt(0.001999)/0.19,
  //      w = 0.9800000108
  // The states follow MXNet's float parameters: β2 = 0.999f, so 1 − β2 is
  // 0.00099998713 and v2 = 0.00049974357 rather than 0.00049975.
  OptimizerOptions o;
  o.learningRate = 0.01;
  std::vector<float> st;
  auto [w1, w2] = twoSteps("adam", o, 0.5f, &st);
  EXPECT_NEAR(w1, 0.9900000063, 1e-6);
  EXPECT_NEAR(w2, 0.9800000108, 1e-6);
  EXPECT_NEAR(st.at(0), 0.095, 1e-7);
  EXPECT_NEAR(st.at(1), 0.00049974357, 3e-10);

  // wd before the clip: g = clip(2·0.5 + 0.1·w, 0.8) = 0.8 both steps.
  o.wd = 0.1;
  o.rescaleGrad = 2;
  o.clipGradient = 0.8;
  st.clear();
  auto [c1, c2] = twoSteps("adam", o, 0.5f, &st);
  EXPECT_NEAR(c1, 0.9900000040, 1e-6);
  EXPECT_NEAR(c2, 0.9800000067, 1e-6);
  EXPECT_NEAR(st.at(0), 0.152, 1e-7);
  EXPECT_NEAR(st.at(1), 0.00127934354, 3e-10);
}

//===-- The update is one compiled graph function --------------------------===//

TEST(Optimizer, UpdateIsOneGraphFunction) {
  OptimizerOptions o;
  o.paramNames = {"a_weight", "a_bias"};
  auto opt = createOptimizer("adam", o);
  EXPECT_EQ(opt->updateIR(), "");
  Tensor w({2, 3}), b({3}), gw({2, 3}), gb({3});
  opt->update({&w, &b}, {&gw, &gb});
  std::string ir = opt->updateIR();
  size_t funcs = 0;
  for (size_t at = ir.find("func.func"); at != std::string::npos; at = ir.find("func.func", at + 1))
    ++funcs;
  EXPECT_EQ(funcs, 1u) << ir;
  for (const char *op : {"graph.broadcast_mul", "graph.power_scalar", "graph.elemwise_div",
                         "tensor<1xf32>", "\"a_weight_mean\"", "\"a_bias_var\""})
    EXPECT_NE(ir.find(op), std::string::npos) << op << " missing from\n" << ir;
  EXPECT_EQ(opt->stateNames(),
            (std::vector<std::string>{"a_weight_mean", "a_weight_var", "a_bias_mean",
                                      "a_bias_var"}));
  EXPECT_EQ(opt->wdMult(0), 1.0);
  EXPECT_EQ(opt->wdMult(1), 0.0); // MXNet: no decay on biases when names are known
}

TEST(Optimizer, Schedulers) {
  FactorScheduler f(2, 0.5);
  f.baseLR = 1;
  std::vector<double> got;
  for (int n = 1; n <= 6; ++n)
    got.push_back(f(n));
  EXPECT_EQ(got, (std::vector<double>{1, 1, 0.5, 0.5, 0.25, 0.25}));
  FactorScheduler floor(1, 0.1, 1e-3);
  floor.baseLR = 1;
  EXPECT_NEAR(floor(4), 1e-3, 1e-12);
  EXPECT_EQ(floor(9), 1e-3); // stays at the floor
  MultiFactorScheduler m({2, 4}, 0.1);
  m.baseLR = 1;
  got.clear();
  for (int n = 1; n <= 5; ++n)
    got.push_back(m(n));
  EXPECT_EQ(got[0], 1);
  EXPECT_EQ(got[1], 1);
  EXPECT_NEAR(got[2], 0.1, 1e-12);
  EXPECT_NEAR(got[3], 0.1, 1e-12);
  EXPECT_NEAR(got[4], 0.01, 1e-12);

  OptimizerOptions o;
  o.learningRate = 0.4;
  o.lrScheduler = std::make_shared<FactorScheduler>(1, 0.5);
  auto opt = createOptimizer("sgd", o);
  EXPECT_EQ(o.lrScheduler->baseLR, 0.4); // MXNet: the scheduler starts at learning_rate
  Tensor w({1}), g({1});
  opt->update({&w}, {&g});
  opt->update({&w}, {&g});
  EXPECT_EQ(opt->learningRate(), 0.2);
}

//===-- Errors ------------------------------------------------------------===//

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

TEST(Optimizer, Errors) {
  expectThrowsWith([] { createOptimizer("rmsprop"); },
                   {"unknown optimizer 'rmsprop'", "sgd, adam"});
  OptimizerOptions o;
  o.momentum = 1.5;
  expectThrowsWith([&] { createOptimizer("sgd", o); }, {"momentum must be in [0, 1)"});
  o.momentum = 0;
  o.learningRate = -1;
  expectThrowsWith([&] { createOptimizer("sgd", o); }, {"learning rate"});
  o.learningRate.reset();
  o.beta2 = 1;
  expectThrowsWith([&] { createOptimizer("adam", o); }, {"beta2"});
  o.beta2 = 0.999;
  o.lrMult = {{"x", 2}};
  expectThrowsWith([&] { createOptimizer("sgd", o); }, {"no parameter names"});
  expectThrowsWith([] { FactorScheduler(0); }, {"step must be at least 1"});
  expectThrowsWith([] { MultiFactorScheduler({3, 3}); }, {"steps must increase"});

  OptimizerOptions named;
  named.paramNames = {"a_weight", "a_bias"};
  auto opt = createOptimizer("sgd", named);
  Tensor w({2, 2}), b({2}), gw({2, 2}), gb({2}), wrong({3});
  expectThrowsWith([&] { opt->update({&w}, {&gw}); }, {"2 parameter names", "1 weights"});
  expectThrowsWith([&] { opt->update({&w, &b}, {&gw}); }, {"2 weights but 1 gradients"});
  opt->update({&w, &b}, {&gw, &gb});
  expectThrowsWith([&] { opt->update({&w, &b}, {&gw, &wrong}); },
                   {"'a_bias'", "gradient has shape (3,)", "(2,)"});
  expectThrowsWith([&] { opt->update({&w, &w}, {&gw, &gw}); }, {"the same weight tensor"});
  // A failed update leaves the weights and the step count alone.
  std::vector<float> before = w.values;
  EXPECT_EQ(opt->numUpdates(), 1);
  EXPECT_EQ(w.values, before);
  EXPECT_EQ(b.values.size(), 2u);
}

} // namespace
