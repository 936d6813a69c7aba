//===- kiln/Optimizer.h - Weight updates (SGD, Adam) ------------*- C++ -*-===//
//
// MXNet's optimizers with MXNet's exact update formulas (the kernels of
// src/operator/optimizer_op-inl.h, the bookkeeping of
// python/mxnet/optimizer/optimizer.py, 1.x):
//
//   SGD   g  = clip(rescale_grad·grad, ±clip_gradient)        (clip if > 0)
//         momentum > 0:  mom = momentum·mom − lr·wd·w − lr·g;  w = w + mom
//         momentum = 0:  w = w − lr·(g + wd·w)
//   Adam  g  = clip(rescale_grad·grad + wd·w, ±clip_gradient)  (wd before clip)
//         m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//         w = w − lr_t·m / (sqrt(v) + ε),  lr_t = lr·sqrt(1−β2ᵗ)/(1−β1ᵗ)
//
// with, per parameter, lr = base_lr(num_update)·lr_mult and wd = wd·wd_mult,
// and num_update counted before the step's learning rate is read (so the
// first step has t = 1).
//
// The update is a kernel like any other: the update of *all* parameters is
// one graph-dialect function (weights, gradients, states and a 1-element
// tensor holding the step's learning rate in; new weights and states out),
// compiled once by the CPU JIT on the first update() and run every step.
//
// Library: KilnTrain.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_OPTIMIZER_H
#define KILN_OPTIMIZER_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// MXNet's LRScheduler: the learning rate for a given num_update. Stateful
/// like MXNet's (it walks forward as num_update grows), so call it with a
/// non-decreasing num_update.
class LRScheduler {
public:
  virtual ~LRScheduler();
  virtual double operator()(int64_t numUpdate) = 0;
  /// Set to the optimizer's learning rate when the optimizer is created.
  double baseLR = 0.01;
};

/// lr = base_lr · factor^k after the k-th multiple of `step` updates has
/// been passed (num_update > count + step), never below `stopFactorLR`.
class FactorScheduler : public LRScheduler {
public:
  explicit FactorScheduler(int64_t step, double factor = 1, double stopFactorLR = 1e-8);
  double operator()(int64_t numUpdate) override;

private:
  int64_t step, count = 0;
  double factor, stopFactorLR;
};

/// lr = base_lr · factor^k where k is the number of `steps` (increasing)
/// that num_update has passed (num_update > steps[i]).
class MultiFactorScheduler : public LRScheduler {
public:
  MultiFactorScheduler(std::vector<int64_t> steps, double factor = 1);
  double operator()(int64_t numUpdate) override;

private:
  std::vector<int64_t> steps;
  size_t next = 0;
  double factor;
};

struct OptimizerOptions {
  /// Defaults to MXNet's: 0.01 for sgd, 0.001 for adam.
  std::optional<double> learningRate;
  double wd = 0;
  double rescaleGrad = 1;
  /// Clip gradients to ±clipGradient when > 0 (off otherwise, as MXNet's
  /// None/0).
  double clipGradient = 0;
  double momentum = 0;                               ///< sgd
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8; ///< adam
  std::shared_ptr<LRScheduler> lrScheduler;
  /// num_update before the first update (MXNet's begin_num_update), e.g.
  /// when resuming.
  int64_t beginNumUpdate = 0;
  /// The parameters' names, in update() order (MXNet's param_idx2name).
  /// When given, wd_mult defaults to 0 for every name that does not end in
  /// "_weight" or "_gamma" (MXNet's rule: no decay on biases, BatchNorm
  /// beta, ...), and lrMult/wdMult are looked up by these names.
  std::vector<std::string> paramNames;
  /// Per-parameter multipliers by name (e.g. from `__lr_mult__` /
  /// `__wd_mult__` hints); they override the default rule above.
  std::map<std::string, double> lrMult, wdMult;
};

class Optimizer {
public:
  ~Optimizer();

  /// One step for every parameter: weights[i] is updated in place from
  /// grads[i]. The first call fixes the number and shapes of the
  /// parameters, creates the states (zeros) and compiles the update; later
  /// calls must pass the same. Throws kiln::Error naming the parameter on a
  /// count or shape mismatch.
  void update(const std::vector<Tensor *> &weights, const std::vector<const Tensor *> &grads);

  /// MXNet's num_update: steps taken, plus beginNumUpdate.
  int64_t numUpdates() const;
  /// MXNet's `learning_rate` property: the scheduler's rate at num_update
  /// (the last step's rate, before lr_mult and Adam's bias correction).
  double learningRate() const;
  /// "sgd" or "adam".
  const std::string &name() const;
  const OptimizerOptions &options() const;

  /// Per-parameter learning-rate and weight-decay multipliers in effect
  /// (after the name rules). Valid after the first update().
  double lrMult(size_t param) const;
  double wdMult(size_t param) const;

  /// The optimizer states after the last update, stateNames() order: SGD
  /// with momentum "NAME_momentum" per parameter; Adam "NAME_mean",
  /// "NAME_var". Empty before the first update.
  const std::vector<Tensor> &states() const;
  std::vector<std::string> stateNames() const;

  /// The graph-dialect module of the compiled update (for tests and
  /// --print-ir); empty before the first update.
  std::string updateIR() const;

  /// Internal: createOptimizer builds these.
  struct Impl;
  explicit Optimizer(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl;
};

/// "sgd" or "adam" (case-insensitive). Throws kiln::Error for an unknown name
/// or an invalid option (negative learning rate, momentum outside [0, 1),
/// beta outside [0, 1), ...).
std::unique_ptr<Optimizer> createOptimizer(const std::string &name,
                                           const OptimizerOptions &options = {});

} // namespace kiln

#endif // KILN_OPTIMIZER_H
