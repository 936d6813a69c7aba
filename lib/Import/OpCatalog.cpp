//===- OpCatalog.cpp - MXNet's names for each operator's inputs -----------===//
//
// Input names follow MXNet 1.x's FListInputNames/ListArguments for each op,
// because they name the implicit variables ("fc1_weight", "bn1_moving_mean")
// that checkpoints key on. The names and the rule that adjusts them to the
// attributes come from each op's ODS definition (mxnetInputs,
// mxnetInputRule).
//
//===----------------------------------------------------------------------===//

#include "Import/OpCatalog.h"

#include "Graph/MXNetOpDef.h"
#include "Import/MXNetAttrs.h"
#include "kiln/Error.h"

#include <algorithm>
#include <unordered_map>

namespace kiln::mx {

namespace {

using AttrMap = std::map<std::string, std::string>;
using graph::MXInputRule;

bool boolAttr(const AttrMap &attrs, const std::string &key, bool dflt) {
  auto it = attrs.find(key);
  if (it == attrs.end())
    return dflt;
  return parseBool(it->second, "attribute '" + key + "'");
}

const std::unordered_map<std::string, OpInfo> &infos() {
  static const std::unordered_map<std::string, OpInfo> table = [] {
    std::unordered_map<std::string, OpInfo> t;
    for (const graph::MXNetOpDef *def : graph::mxnetOps())
      t.emplace(def->mxName, OpInfo{def->mxName, def, def->numAux});
    return t;
  }();
  return table;
}

} // namespace

std::vector<std::string> OpInfo::inputNames(const AttrMap &attrs) const {
  std::vector<std::string> names(def->inputs.begin(), def->inputs.end());
  switch (def->inputRule) {
  case MXInputRule::Fixed:
    break;
  // FullyConnected and Convolution: bias unless no_bias (default False);
  // Deconvolution's no_bias defaults to True.
  case MXInputRule::Bias:
  case MXInputRule::BiasOffByDefault:
    if (boolAttr(attrs, "no_bias", def->inputRule == MXInputRule::BiasOffByDefault))
      names.pop_back();
    break;
  case MXInputRule::PreluGamma: {
    auto it = attrs.find("act_type");
    if (it == attrs.end() || it->second != "prelu")
      names.resize(1);
    break;
  }
  case MXInputRule::SoftmaxLength:
    if (!boolAttr(attrs, "use_length", false))
      names.resize(1);
    break;
  case MXInputRule::SequenceLength:
    if (!boolAttr(attrs, "use_sequence_length", false))
      names.resize(1);
    break;
  // RNN: data, parameters, state, then state_cell (lstm only) and
  // sequence_length (use_sequence_length only), MXNet's ListRnnInputNames.
  case MXInputRule::RNN: {
    auto mode = attrs.find("mode");
    if (mode == attrs.end())
      throw Error("missing required attribute 'mode'");
    static const char *modes[] = {"rnn_relu", "rnn_tanh", "lstm", "gru"};
    if (std::find(std::begin(modes), std::end(modes), mode->second) == std::end(modes))
      throw Error("attribute 'mode': unknown value '" + mode->second +
                  "' (expected one of rnn_relu, rnn_tanh, lstm, gru)");
    bool lstm = mode->second == "lstm";
    bool withLength = boolAttr(attrs, "use_sequence_length", false);
    std::vector<std::string> rnn(names.begin(), names.begin() + 3);
    if (lstm)
      rnn.push_back(names[3]);
    if (withLength)
      rnn.push_back(names[4]);
    names = rnn;
    break;
  }
  // Concat and add_n list their inputs as arg0..arg{num_args-1}; so does
  // nearest UpSampling, while bilinear UpSampling takes data and weight.
  case MXInputRule::UpSampling: {
    auto it = attrs.find("sample_type");
    if (it != attrs.end() && it->second == "bilinear")
      break;
    [[fallthrough]];
  }
  case MXInputRule::Variadic: {
    auto it = attrs.find("num_args");
    if (it == attrs.end())
      throw Error("missing required attribute 'num_args'");
    int64_t n = parseInt(it->second, "attribute 'num_args'");
    if (n < 1)
      throw Error("attribute 'num_args' must be at least 1, got '" + it->second + "'");
    names.clear();
    for (int64_t i = 0; i < n; ++i)
      names.push_back("arg" + std::to_string(i));
    break;
  }
  case MXInputRule::NumOutputs: {
    auto it = attrs.find("num_outputs");
    if (it == attrs.end())
      throw Error("missing required attribute 'num_outputs'");
    int64_t n = parseInt(it->second, "attribute 'num_outputs'");
    if (n < 1)
      throw Error("attribute 'num_outputs' must be at least 1, got '" + it->second + "'");
    names.clear();
    for (int64_t i = 0; i < n; ++i)
      names.push_back("data_" + std::to_string(i));
    break;
  }
  // BilinearResize2D reads a second input only in mode like.
  case MXInputRule::ResizeLike: {
    auto it = attrs.find("mode");
    if (it == attrs.end() || it->second != "like")
      names.resize(1);
    break;
  }
  }
  return names;
}

const OpInfo *lookupOp(const std::string &opName) {
  const graph::MXNetOpDef *def = graph::lookupMXNetOp(opName);
  if (!def)
    return nullptr;
  return &infos().at(def->mxName);
}

std::string canonicalOpName(const std::string &opName) {
  const graph::MXNetOpDef *def = graph::lookupMXNetOp(opName);
  return def ? def->mxName : opName;
}

std::string unknownOperatorMessage(const std::string &opName) {
  return "unknown operator '" + opName + "' (Kiln supports " +
         std::to_string(graph::mxnetOps().size()) +
         " MXNet operators; docs/operators.md lists them with their aliases)";
}

} // namespace kiln::mx
