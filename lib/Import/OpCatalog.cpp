//===- OpCatalog.cpp - What Kiln knows about each MXNet operator ----------===//
//
// Input names follow MXNet 1.x's FListInputNames/ListArguments for each op,
// because they name the implicit variables ("fc1_weight", "bn1_moving_mean")
// that checkpoints key on; aliases are the names MXNet registered with
// add_alias() plus the pre-NNVM spellings that still occur in old files.
//
//===----------------------------------------------------------------------===//

#include "Import/OpCatalog.h"

#include "Import/MXNetAttrs.h"
#include "kiln/Error.h"

#include <unordered_map>

namespace kiln::mx {

namespace {

using AttrMap = std::map<std::string, std::string>;

bool boolAttr(const AttrMap &attrs, const std::string &key, bool dflt) {
  auto it = attrs.find(key);
  if (it == attrs.end())
    return dflt;
  return parseBool(it->second, "attribute '" + key + "'");
}

std::vector<std::string> dataOnly(const AttrMap &) { return {"data"}; }
std::vector<std::string> lhsRhs(const AttrMap &) { return {"lhs", "rhs"}; }
std::vector<std::string> dataLabel(const AttrMap &) { return {"data", "label"}; }
std::vector<std::string> dataWeight(const AttrMap &) {
  return {"data", "weight"};
}

// FullyConnected and Convolution: bias unless no_bias (default False).
std::vector<std::string> weightBiasDefaultBias(const AttrMap &attrs) {
  if (boolAttr(attrs, "no_bias", false))
    return {"data", "weight"};
  return {"data", "weight", "bias"};
}

// Deconvolution's no_bias defaults to True, unlike Convolution's.
std::vector<std::string> weightBiasDefaultNoBias(const AttrMap &attrs) {
  if (boolAttr(attrs, "no_bias", true))
    return {"data", "weight"};
  return {"data", "weight", "bias"};
}

std::vector<std::string> leakyReLUInputs(const AttrMap &attrs) {
  auto it = attrs.find("act_type");
  if (it != attrs.end() && it->second == "prelu")
    return {"data", "gamma"};
  return {"data"};
}

std::vector<std::string> batchNormInputs(const AttrMap &) {
  return {"data", "gamma", "beta", "moving_mean", "moving_var"};
}

std::vector<std::string> softmaxInputs(const AttrMap &attrs) {
  if (boolAttr(attrs, "use_length", false))
    return {"data", "length"};
  return {"data"};
}

// Concat and add_n list their inputs as arg0..arg{num_args-1}.
std::vector<std::string> variadicInputs(const AttrMap &attrs) {
  auto it = attrs.find("num_args");
  if (it == attrs.end())
    throw Error("missing required attribute 'num_args'");
  int64_t n = parseInt(it->second, "attribute 'num_args'");
  if (n < 1)
    throw Error("attribute 'num_args' must be at least 1, got '" + it->second +
                "'");
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i)
    names.push_back("arg" + std::to_string(i));
  return names;
}

struct Entry {
  const char *name;
  std::vector<std::string> (*inputNames)(const AttrMap &);
  int numAux;
  std::vector<const char *> aliases;
};

const std::vector<Entry> &entries() {
  static const std::vector<Entry> table = {
      {"FullyConnected", weightBiasDefaultBias, 0, {}},
      {"Convolution", weightBiasDefaultBias, 0, {}},
      {"Deconvolution", weightBiasDefaultNoBias, 0, {}},
      {"Pooling", dataOnly, 0, {}},
      {"Activation", dataOnly, 0, {}},
      {"LeakyReLU", leakyReLUInputs, 0, {}},
      {"BatchNorm", batchNormInputs, 2, {}},
      {"LRN", dataOnly, 0, {}},
      {"Dropout", dataOnly, 0, {}},
      {"Embedding", dataWeight, 0, {}},
      {"SoftmaxOutput", dataLabel, 0, {"Softmax"}},
      {"LinearRegressionOutput", dataLabel, 0, {}},
      {"LogisticRegressionOutput", dataLabel, 0, {}},
      {"MAERegressionOutput", dataLabel, 0, {}},
      {"softmax", softmaxInputs, 0, {}},
      {"log_softmax", softmaxInputs, 0, {}},
      {"SoftmaxActivation", dataOnly, 0, {}},
      {"Flatten", dataOnly, 0, {"flatten"}},
      {"Reshape", dataOnly, 0, {"reshape"}},
      {"transpose", dataOnly, 0, {}},
      {"Concat", variadicInputs, 0, {"concat"}},
      {"SliceChannel", dataOnly, 0, {"split"}},
      {"_copy", dataOnly, 0, {"identity"}},
      {"elemwise_add", lhsRhs, 0, {"_add", "_plus", "_Plus", "_grad_add"}},
      {"elemwise_sub", lhsRhs, 0, {"_sub", "_minus", "_Minus"}},
      {"elemwise_mul", lhsRhs, 0, {"_mul", "_Mul"}},
      {"elemwise_div", lhsRhs, 0, {"_div", "_Div"}},
      {"add_n", variadicInputs, 0, {"ElementWiseSum"}},
      {"_plus_scalar", dataOnly, 0, {"_PlusScalar"}},
      {"_minus_scalar", dataOnly, 0, {"_MinusScalar"}},
      {"_rminus_scalar", dataOnly, 0, {"_RMinusScalar"}},
      {"_mul_scalar", dataOnly, 0, {"_MulScalar"}},
      {"_div_scalar", dataOnly, 0, {"_DivScalar"}},
      {"_rdiv_scalar", dataOnly, 0, {"_RDivScalar"}},
      {"_power_scalar", dataOnly, 0, {"_PowerScalar"}},
      {"_rpower_scalar", dataOnly, 0, {"_RPowerScalar"}},
      {"_maximum_scalar", dataOnly, 0, {"_MaximumScalar"}},
      {"_minimum_scalar", dataOnly, 0, {"_MinimumScalar"}},
      {"broadcast_add", lhsRhs, 0, {"broadcast_plus"}},
      {"broadcast_sub", lhsRhs, 0, {"broadcast_minus"}},
      {"broadcast_mul", lhsRhs, 0, {}},
      {"broadcast_div", lhsRhs, 0, {}},
      {"broadcast_maximum", lhsRhs, 0, {}},
      {"broadcast_minimum", lhsRhs, 0, {}},
      {"broadcast_power", lhsRhs, 0, {}},
      {"broadcast_to", dataOnly, 0, {}},
      {"dot", lhsRhs, 0, {}},
      {"slice_axis", dataOnly, 0, {}},
      {"sum", dataOnly, 0, {"sum_axis"}},
      {"mean", dataOnly, 0, {}},
      {"max", dataOnly, 0, {"max_axis"}},
      {"min", dataOnly, 0, {"min_axis"}},
  };
  return table;
}

struct Index {
  std::unordered_map<std::string, OpInfo> infos;
  std::unordered_map<std::string, std::string> canonical;
};

const Index &index() {
  static const Index idx = [] {
    Index result;
    for (const Entry &e : entries()) {
      OpInfo info;
      info.name = e.name;
      info.inputNames = e.inputNames;
      info.numAuxInputs = e.numAux;
      result.infos.emplace(e.name, info);
      result.canonical.emplace(e.name, e.name);
      for (const char *alias : e.aliases)
        result.canonical.emplace(alias, e.name);
    }
    return result;
  }();
  return idx;
}

} // namespace

const OpInfo *lookupOp(const std::string &opName) {
  const Index &idx = index();
  auto c = idx.canonical.find(opName);
  if (c == idx.canonical.end())
    return nullptr;
  return &idx.infos.at(c->second);
}

std::string canonicalOpName(const std::string &opName) {
  const Index &idx = index();
  auto c = idx.canonical.find(opName);
  return c == idx.canonical.end() ? opName : c->second;
}

} // namespace kiln::mx
