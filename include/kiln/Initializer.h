//===- kiln/Initializer.h - Parameter initializers --------------*- C++ -*-===//
//
// MXNet's initializers (python/mxnet/initializer.py) with their defaults and
// name rules, so a network trained by Kiln starts where MXNet's would:
//
//   name ends in        filled with
//   "weight"            the initializer (Xavier, Uniform, Normal, ...)
//   "bias", "beta"      0
//   "gamma"             1
//   "moving_mean"       0     (BatchNorm's aux states, as MXNet's op hints)
//   "moving_var"        1
//   "min" / "max"       0 / 1 (MXNet's quantization ranges)
//   anything else       error: MXNet's "Unknown initialization pattern"
//
// An `__init__` hint on a variable (MXNet's JSON form, e.g.
// `["constant", {"value": 0.5}]`, `"zero"`, `["xavier", {"magnitude": 2}]`)
// overrides the rules: that initializer fills the array, whatever its name.
//
// Random draws come from kiln::Random (kiln/Random.h): each parameter has its
// own stream seeded by (seed, hash(name)), so a parameter's values depend
// only on the seed, its name and shape — not on which other parameters exist
// or in what order they are initialized.
//
// Library: KilnTrain.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_INITIALIZER_H
#define KILN_INITIALIZER_H

#include "kiln/Random.h"
#include "kiln/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

class Initializer {
public:
  virtual ~Initializer();

  /// MXNet's Initializer.__call__: fills `array` for the parameter `name` by
  /// the name rules above, or by `hint` (an `__init__` string) when it is not
  /// empty. Throws kiln::Error naming the parameter for an unknown name
  /// pattern or a bad hint.
  void operator()(const std::string &name, Tensor &array, Random &rng,
                  const std::string &hint = "") const;

  /// MXNet's _init_weight: fills a weight. Throws kiln::Error naming the
  /// parameter when the shape does not suit (e.g. Xavier on a vector).
  virtual void initWeight(const std::string &name, Tensor &array, Random &rng) const = 0;

  /// MXNet's dumps(): `["xavier", {"rnd_type": "uniform", ...}]`.
  virtual std::string dumps() const = 0;
};

enum class RandomType { Uniform, Gaussian };
enum class FactorType { Avg, In, Out };

/// Xavier/Glorot: scale = sqrt(magnitude / factor) with factor the average
/// of fan_in and fan_out (or one of them), fan_in = shape[1]·prod(shape[2:]),
/// fan_out = shape[0]·prod(shape[2:]); uniform in [−scale, scale) or normal
/// with standard deviation scale. Needs at least 2 dimensions.
class Xavier : public Initializer {
public:
  explicit Xavier(RandomType rndType = RandomType::Uniform, FactorType factorType = FactorType::Avg,
                  double magnitude = 3);
  void initWeight(const std::string &name, Tensor &array, Random &rng) const override;
  std::string dumps() const override;

  /// The scale Xavier uses for `shape` (exposed for tests and messages).
  double scale(const std::string &name, const std::vector<int64_t> &shape) const;

protected:
  RandomType rndType;
  FactorType factorType;
  double magnitude;
};

/// MXNet's MSRAPrelu (He et al.): Xavier gaussian with magnitude
/// 2 / (1 + slope²).
class MSRAPrelu : public Xavier {
public:
  explicit MSRAPrelu(FactorType factorType = FactorType::Avg, double slope = 0.25);
  std::string dumps() const override;

private:
  double slope;
};

/// Uniform in [−scale, scale).
class Uniform : public Initializer {
public:
  explicit Uniform(double scale = 0.07) : scaleValue(scale) {}
  void initWeight(const std::string &name, Tensor &array, Random &rng) const override;
  std::string dumps() const override;

private:
  double scaleValue;
};

/// Normal with mean 0 and standard deviation sigma.
class Normal : public Initializer {
public:
  explicit Normal(double sigma = 0.01) : sigma(sigma) {}
  void initWeight(const std::string &name, Tensor &array, Random &rng) const override;
  std::string dumps() const override;

private:
  double sigma;
};

/// Every element `value` (Zero and One are Constant 0 and 1 under their own
/// MXNet names).
class Constant : public Initializer {
public:
  explicit Constant(double value) : value(value), kind("constant") {}
  void initWeight(const std::string &name, Tensor &array, Random &rng) const override;
  std::string dumps() const override;

protected:
  Constant(double value, std::string kind) : value(value), kind(std::move(kind)) {}
  double value;
  std::string kind;
};

class Zero : public Constant {
public:
  Zero() : Constant(0.0, "zero") {}
};

class One : public Constant {
public:
  One() : Constant(1.0, "one") {}
};

/// An initializer from its name ("xavier", "uniform", "normal", "constant",
/// "zero"/"zeros", "one"/"ones", "msraprelu"; case-insensitive, MXNet's
/// defaults) or MXNet's JSON form `["name", {kwargs}]`. Throws kiln::Error
/// quoting `spec` for an unknown name, an unknown or mistyped argument, or
/// malformed JSON.
std::unique_ptr<Initializer> createInitializer(const std::string &spec);

/// Initializes every (name, tensor) pair, each tensor already shaped: the
/// tensor of `name` gets `hints.at(name)` when present (an `__init__` hint),
/// else `init`'s name rules, drawing from Random(Random::mix(seed,
/// Random::hash(name))).
void initializeParameters(const Initializer &init,
                          const std::vector<std::pair<std::string, Tensor *>> &params,
                          uint64_t seed, const std::map<std::string, std::string> &hints = {});

} // namespace kiln

#endif // KILN_INITIALIZER_H
