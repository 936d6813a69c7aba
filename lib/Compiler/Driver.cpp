//===- Driver.cpp - Shared plumbing of the kiln-* tools -------------------===//

#include "Compiler/Driver.h"

#include "Import/Model.h"
#include "kiln/Error.h"

#include <cmath>
#include <cstdio>
#include <random>

namespace kiln::driver {

static std::pair<std::string, std::string> splitAtEquals(const std::string &spec,
                                                         const std::string &flag,
                                                         const char *expected) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw Error(flag + " expects " + expected + ", got '" + spec + "'");
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

std::pair<std::string, std::vector<int64_t>> parseShapeSpec(const std::string &spec,
                                                            const std::string &flag) {
  auto [name, dimsText] = splitAtEquals(spec, flag, "NAME=D0,D1,...");
  std::vector<int64_t> dims;
  std::string current;
  auto flush = [&]() {
    if (current.empty())
      return;
    char *end = nullptr;
    long long v = std::strtoll(current.c_str(), &end, 10);
    if (*end != '\0' || v <= 0)
      throw Error(flag + " " + name + ": dimension '" + current +
                  "' is not a positive integer");
    dims.push_back(v);
    current.clear();
  };
  for (char c : dimsText) {
    if (c == ',' || c == 'x') {
      if (current.empty())
        throw Error(flag + " " + name + ": empty dimension in '" + dimsText + "'");
      flush();
    } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == ' ') {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  if (dims.empty())
    throw Error(flag + " " + name + ": no dimensions given");
  return {name, dims};
}

std::pair<std::string, std::string> parseNamedPath(const std::string &spec,
                                                   const std::string &flag) {
  return splitAtEquals(spec, flag, "NAME=FILE");
}

int guardedMain(const char *toolName, const std::function<int()> &body) {
  try {
    return body();
  } catch (const Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", toolName, e.what());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: internal error: %s\n", toolName, e.what());
  }
  return 1;
}

static bool endsWith(const std::string &s, const char *suffix) {
  std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

/// MXNet's default initializer choices by name (mx.init.Xavier for weights,
/// zeros/ones for the rest), so random-parameter runs stay numerically sane.
static Tensor randomParameter(const ModelArg &arg, std::mt19937_64 &rng) {
  Tensor t(arg.shape);
  float fill = 0.0f;
  bool constant = true;
  if (endsWith(arg.name, "gamma") || endsWith(arg.name, "moving_var") ||
      endsWith(arg.name, "moving_inv_var"))
    fill = 1.0f;
  else if (!(endsWith(arg.name, "beta") || endsWith(arg.name, "bias") ||
             endsWith(arg.name, "moving_mean")))
    constant = false;
  if (constant) {
    std::fill(t.values.begin(), t.values.end(), fill);
    return t;
  }
  int64_t fanIn = 1;
  for (size_t i = 1; i < arg.shape.size(); ++i)
    fanIn *= arg.shape[i];
  float scale = std::sqrt(3.0f / float(std::max<int64_t>(fanIn, 1)));
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (float &v : t.values)
    v = dist(rng);
  return t;
}

std::vector<Tensor> bindParameters(const LoadedModel &model,
                                   std::optional<uint64_t> randomSeed) {
  std::vector<Tensor> values(model.args.size());
  std::mt19937_64 rng(randomSeed.value_or(0));
  for (size_t i = 0; i < model.args.size(); ++i) {
    const ModelArg &arg = model.args[i];
    if (arg.kind == ModelArg::Input)
      continue;
    auto it = model.params.find(arg.name);
    if (it != model.params.end()) {
      if (it->second.shape != arg.shape)
        throw Error("parameter '" + arg.name + "' has shape " +
                    formatShape(it->second.shape) + " but the model needs " +
                    formatShape(arg.shape));
      values[i] = it->second;
    } else if (randomSeed) {
      values[i] = randomParameter(arg, rng);
    } else {
      throw Error("missing parameter '" + arg.name + "' (shape " +
                  formatShape(arg.shape) +
                  "): give it in --params, or use --random-params SEED");
    }
  }
  return values;
}

} // namespace kiln::driver
