//===- OpCatalog.h - MXNet's names for each operator's inputs ---*- C++ -*-===//
//
// Used by the JSON reader (legacy names, ≤0.8 aux upgrade), the Symbol API
// (implicit weight/bias/aux variables named "<node>_<input>") and the
// graph-dialect converters (which inputs exist for given attributes). Built
// on the operator registry (dialects/Graph/MXNetOpDef.h).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_OPCATALOG_H
#define KILN_IMPORT_OPCATALOG_H

#include <map>
#include <string>
#include <vector>

namespace kiln::graph {
struct MXNetOpDef;
} // namespace kiln::graph

namespace kiln::mx {

struct OpInfo {
  /// Canonical MXNet 1.x name, e.g. "FullyConnected".
  std::string name;
  const graph::MXNetOpDef *def = nullptr;
  /// How many trailing inputs are auxiliary states (BatchNorm: 2).
  int numAuxInputs = 0;

  /// Names of the inputs MXNet's ListArguments/ListAuxiliaryStates give, in
  /// order, for the given attributes: e.g. {"data","weight","bias"}, without
  /// "bias" when no_bias is true; BatchNorm's last two are aux states.
  /// Variadic ops (Concat, add_n) return {"arg0", "arg1", ...} of num_args.
  /// Throws kiln::Error on a malformed attribute the names depend on.
  std::vector<std::string> inputNames(const std::map<std::string, std::string> &attrs) const;
};

/// The catalog entry for a canonical or legacy op name; nullptr if unknown.
const OpInfo *lookupOp(const std::string &opName);

/// Maps a legacy or alias name to its canonical 1.x name ("Softmax" →
/// "SoftmaxOutput", "_Plus" → "elemwise_add", "flatten" → "Flatten", ...).
/// Returns the input unchanged when it is already canonical or unknown.
std::string canonicalOpName(const std::string &opName);

/// The message for an operator Kiln does not know: "unknown operator 'X'
/// (Kiln supports N MXNet operators; docs/operators.md lists them with their
/// aliases)".
std::string unknownOperatorMessage(const std::string &opName);

} // namespace kiln::mx

#endif // KILN_IMPORT_OPCATALOG_H
