//===- Initializer.cpp - Parameter initializers ---------------------------===//

#include "kiln/Initializer.h"

#include "kiln/Error.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"

#include <charconv>
#include <cmath>
#include <optional>

namespace kiln {

namespace {

bool endsWith(const std::string &s, const char *suffix) {
  return llvm::StringRef(s).ends_with(suffix);
}

/// Shortest text that reads back as `v`, as Python's repr prints a float
/// ("3.0" prints as "3", matching MXNet's integer defaults in dumps()).
std::string formatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

const char *rndTypeName(RandomType t) { return t == RandomType::Uniform ? "uniform" : "gaussian"; }

const char *factorTypeName(FactorType t) {
  return t == FactorType::Avg ? "avg" : t == FactorType::In ? "in" : "out";
}

void fill(Tensor &array, double value) {
  std::fill(array.values.begin(), array.values.end(), static_cast<float>(value));
}

void fillUniform(Tensor &array, Random &rng, double lo, double hi) {
  for (float &v : array.values)
    v = static_cast<float>(rng.uniform(lo, hi));
}

void fillNormal(Tensor &array, Random &rng, double sigma) {
  for (float &v : array.values)
    v = static_cast<float>(sigma * rng.normal());
}

} // namespace

//===----------------------------------------------------------------------===//
// Name rules
//===----------------------------------------------------------------------===//

Initializer::~Initializer() = default;

void Initializer::operator()(const std::string &name, Tensor &array, Random &rng,
                             const std::string &hint) const {
  if (!hint.empty()) {
    std::unique_ptr<Initializer> init;
    try {
      init = createInitializer(hint);
    } catch (const Error &e) {
      throw Error("parameter '" + name + "': bad __init__ hint: " + e.what());
    }
    init->initWeight(name, array, rng);
    return;
  }
  // MXNet checks suffixes without the underscore ("fc1_weight", but also
  // "weight"); none of these suffixes is a suffix of another.
  if (endsWith(name, "weight"))
    return initWeight(name, array, rng);
  if (endsWith(name, "bias") || endsWith(name, "beta") || endsWith(name, "moving_mean") ||
      endsWith(name, "moving_inv_var") || endsWith(name, "moving_avg") || endsWith(name, "min"))
    return fill(array, 0.0);
  if (endsWith(name, "gamma") || endsWith(name, "moving_var") || endsWith(name, "max"))
    return fill(array, 1.0);
  throw Error("unknown initialization pattern for parameter '" + name +
              "': by name, only weights (*weight), biases (*bias), *gamma (1), *beta (0), "
              "BatchNorm moving_mean (0) / moving_var (1) and *min (0) / *max (1) are "
              "initialized; give the variable an __init__ hint");
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

Xavier::Xavier(RandomType rndType, FactorType factorType, double magnitude)
    : rndType(rndType), factorType(factorType), magnitude(magnitude) {}

double Xavier::scale(const std::string &name, const std::vector<int64_t> &shape) const {
  if (shape.size() < 2)
    throw Error("parameter '" + name + "' of shape " + formatShape(shape) +
                ": the Xavier initializer needs at least 2 dimensions");
  double hw = 1;
  for (size_t i = 2; i < shape.size(); ++i)
    hw *= static_cast<double>(shape[i]);
  double fanIn = static_cast<double>(shape[1]) * hw, fanOut = static_cast<double>(shape[0]) * hw;
  double factor = factorType == FactorType::Avg  ? (fanIn + fanOut) / 2.0
                  : factorType == FactorType::In ? fanIn
                                                 : fanOut;
  if (!(factor > 0))
    throw Error("parameter '" + name + "' of shape " + formatShape(shape) + ": Xavier's fan is 0");
  return std::sqrt(magnitude / factor);
}

void Xavier::initWeight(const std::string &name, Tensor &array, Random &rng) const {
  double s = scale(name, array.shape);
  if (rndType == RandomType::Uniform)
    fillUniform(array, rng, -s, s);
  else
    fillNormal(array, rng, s);
}

std::string Xavier::dumps() const {
  return std::string("[\"xavier\", {\"rnd_type\": \"") + rndTypeName(rndType) +
         "\", \"factor_type\": \"" + factorTypeName(factorType) +
         "\", \"magnitude\": " + formatNumber(magnitude) + "}]";
}

MSRAPrelu::MSRAPrelu(FactorType factorType, double slope)
    : Xavier(RandomType::Gaussian, factorType, 2.0 / (1.0 + slope * slope)), slope(slope) {}

std::string MSRAPrelu::dumps() const {
  return std::string("[\"msraprelu\", {\"factor_type\": \"") + factorTypeName(factorType) +
         "\", \"slope\": " + formatNumber(slope) + "}]";
}

void Uniform::initWeight(const std::string &, Tensor &array, Random &rng) const {
  fillUniform(array, rng, -scaleValue, scaleValue);
}

std::string Uniform::dumps() const {
  return "[\"uniform\", {\"scale\": " + formatNumber(scaleValue) + "}]";
}

void Normal::initWeight(const std::string &, Tensor &array, Random &rng) const {
  fillNormal(array, rng, sigma);
}

std::string Normal::dumps() const {
  return "[\"normal\", {\"sigma\": " + formatNumber(sigma) + "}]";
}

void Constant::initWeight(const std::string &, Tensor &array, Random &) const {
  fill(array, value);
}

std::string Constant::dumps() const {
  if (kind != "constant")
    return "[\"" + kind + "\", {}]";
  return "[\"constant\", {\"value\": " + formatNumber(value) + "}]";
}

//===----------------------------------------------------------------------===//
// createInitializer
//===----------------------------------------------------------------------===//

namespace {

/// The keyword arguments of one initializer, consumed as they are read so
/// that leftovers can be reported as unknown.
class Kwargs {
public:
  Kwargs(const std::string &spec, const std::string &kind, const llvm::json::Object *object)
      : spec(spec), kind(kind) {
    if (object)
      for (const auto &[key, value] : *object)
        args.emplace(key.str(), &value);
  }

  /// The number under `key`; `fallback` when absent, or an error when there
  /// is no fallback (a required argument).
  double number(const char *key, std::optional<double> fallback) {
    auto it = args.find(key);
    if (it == args.end()) {
      if (!fallback)
        throw error(std::string("argument '") + key + "' is required");
      return *fallback;
    }
    const llvm::json::Value *v = it->second;
    args.erase(it);
    if (std::optional<double> d = v->getAsNumber())
      return *d;
    // MXNet's attribute strings sometimes carry numbers as text.
    if (std::optional<llvm::StringRef> s = v->getAsString()) {
      double d;
      if (!s->trim().getAsDouble(d))
        return d;
    }
    throw error(std::string("argument '") + key + "' must be a number");
  }

  std::string text(const char *key, const char *fallback) {
    auto it = args.find(key);
    if (it == args.end())
      return fallback;
    const llvm::json::Value *v = it->second;
    args.erase(it);
    if (std::optional<llvm::StringRef> s = v->getAsString())
      return s->lower();
    throw error(std::string("argument '") + key + "' must be a string");
  }

  void finish() {
    if (!args.empty())
      throw error("unknown argument '" + args.begin()->first + "'");
  }

  Error error(const std::string &why) const {
    return Error("initializer '" + spec + "': " + kind + ": " + why);
  }

private:
  std::string spec, kind;
  std::map<std::string, const llvm::json::Value *> args;
};

RandomType parseRndType(Kwargs &kw) {
  std::string t = kw.text("rnd_type", "uniform");
  if (t == "uniform")
    return RandomType::Uniform;
  if (t == "gaussian")
    return RandomType::Gaussian;
  throw kw.error("rnd_type must be uniform or gaussian, got '" + t + "'");
}

FactorType parseFactorType(Kwargs &kw) {
  std::string t = kw.text("factor_type", "avg");
  if (t == "avg")
    return FactorType::Avg;
  if (t == "in")
    return FactorType::In;
  if (t == "out")
    return FactorType::Out;
  throw kw.error("factor_type must be avg, in or out, got '" + t + "'");
}

} // namespace

std::unique_ptr<Initializer> createInitializer(const std::string &spec) {
  std::string kind;
  llvm::json::Value parsed(nullptr);
  const llvm::json::Object *kwargs = nullptr;
  llvm::StringRef trimmed = llvm::StringRef(spec).trim();
  if (trimmed.starts_with("[") || trimmed.starts_with("\"")) {
    llvm::Expected<llvm::json::Value> v = llvm::json::parse(trimmed);
    if (!v)
      throw Error("initializer '" + spec + "': malformed JSON (" + llvm::toString(v.takeError()) +
                  ")");
    parsed = std::move(*v);
    if (std::optional<llvm::StringRef> s = parsed.getAsString()) {
      kind = s->str();
    } else {
      const llvm::json::Array *a = parsed.getAsArray();
      if (!a || a->empty() || a->size() > 2 || !(*a)[0].getAsString() ||
          (a->size() == 2 && !(*a)[1].getAsObject()))
        throw Error("initializer '" + spec +
                    "': expected MXNet's form [\"name\", {arguments}] or a name");
      kind = (*a)[0].getAsString()->str();
      if (a->size() == 2)
        kwargs = (*a)[1].getAsObject();
    }
  } else {
    kind = trimmed.str();
  }
  kind = llvm::StringRef(kind).lower();

  Kwargs kw(spec, kind, kwargs);
  std::unique_ptr<Initializer> init;
  if (kind == "xavier") {
    RandomType rnd = parseRndType(kw);
    FactorType factor = parseFactorType(kw);
    init = std::make_unique<Xavier>(rnd, factor, kw.number("magnitude", 3));
  } else if (kind == "msraprelu") {
    FactorType factor = parseFactorType(kw);
    init = std::make_unique<MSRAPrelu>(factor, kw.number("slope", 0.25));
  } else if (kind == "uniform") {
    init = std::make_unique<Uniform>(kw.number("scale", 0.07));
  } else if (kind == "normal") {
    init = std::make_unique<Normal>(kw.number("sigma", 0.01));
  } else if (kind == "constant") {
    init = std::make_unique<Constant>(kw.number("value", std::nullopt));
  } else if (kind == "zero" || kind == "zeros") {
    init = std::make_unique<Zero>();
  } else if (kind == "one" || kind == "ones") {
    init = std::make_unique<One>();
  } else {
    throw Error("initializer '" + spec + "': unknown initializer '" + kind +
                "' (known: xavier, msraprelu, uniform, normal, constant, zero, one)");
  }
  kw.finish();
  return init;
}

void initializeParameters(const Initializer &init,
                          const std::vector<std::pair<std::string, Tensor *>> &params,
                          uint64_t seed, const std::map<std::string, std::string> &hints) {
  for (const auto &[name, tensor] : params) {
    Random rng(Random::mix(seed, Random::hash(name)));
    auto hint = hints.find(name);
    init(name, *tensor, rng, hint == hints.end() ? std::string() : hint->second);
  }
}

} // namespace kiln
