//===- MXNetGraph.h - MXNet symbol graphs in memory -------------*- C++ -*-===//
//
// The in-memory form of an MXNet symbol file: the hub between MXNet's JSON of
// every era, Kiln's C++ Symbol API and the graph dialect.
//
//   symbol.json ──parseSymbolJSON──▶ mx::Graph ──importGraph──▶ func.func (graph dialect)
//   Symbol API / zoo ───────────────▲          ◀──exportGraph──
//                                    └──writeSymbolJSON──▶ symbol.json (1.x "attrs" era)
//
// A parsed graph is normalized: legacy op names are mapped to canonical MXNet
// 1.x names (Softmax → SoftmaxOutput, _Plus → elemwise_add, ...), attribute
// maps of all eras are merged, hidden "__x__" keys are split off into `hints`,
// attributes copied onto variables are dropped, and ≤0.8 files get their
// missing BatchNorm aux-state variables.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_MXNETGRAPH_H
#define KILN_IMPORT_MXNETGRAPH_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::mx {

/// One output of one node.
struct NodeEntry {
  int64_t node = 0;
  int64_t index = 0;
  bool operator==(const NodeEntry &o) const { return node == o.node && index == o.index; }
};

struct Node {
  /// Canonical MXNet 1.x operator name, or "null" for a variable.
  std::string op;
  std::string name;
  /// Operator parameters, as MXNet strings ("(3, 3)", "True", "relu", ...).
  std::map<std::string, std::string> attrs;
  /// Hidden attributes ("__lr_mult__", "__init__", "__shape__", ...), kept
  /// so they survive a round trip; never operator parameters.
  std::map<std::string, std::string> hints;
  std::vector<NodeEntry> inputs;

  bool isVariable() const { return op == "null"; }
};

struct Graph {
  /// Topologically ordered: every input refers to an earlier node.
  std::vector<Node> nodes;
  std::vector<NodeEntry> heads;
  /// MAJOR*10000 + MINOR*100 + PATCH of the writer; 800 for files without one.
  int64_t mxnetVersion = 0;
};

/// Parses symbol JSON of any era (SPEC §2.1). `fileName` is used in messages.
/// Throws kiln::Error naming the file and the offending node.
Graph parseSymbolJSON(const std::string &text, const std::string &fileName);
Graph loadSymbolFile(const std::string &path);

/// Writes symbol JSON in MXNet 1.x's "attrs" era with `mxnet_version`,
/// `arg_nodes`, `node_row_ptr` and 3-element entries, readable by MXNet 1.9.
std::string writeSymbolJSON(const Graph &graph);

/// Number of outputs of `node` given its attributes (e.g. split's num_outputs).
int64_t numOutputs(const Node &node);

} // namespace kiln::mx

#endif // KILN_IMPORT_MXNETGRAPH_H
