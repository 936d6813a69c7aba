//===- SymbolInternal.h - Symbol <-> mx::Graph for Kiln's own code -*- C++ -*-===//
//
// Symbols are a DAG of shared nodes (so composing never copies a graph); the
// importer and the tools want the flat, topologically ordered mx::Graph. The
// graph is built once per Symbol, on first use, in MXNet's DFS post-order.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_API_SYMBOLINTERNAL_H
#define KILN_LIB_API_SYMBOLINTERNAL_H

#include "Import/MXNetGraph.h"
#include "kiln/Symbol.h"

#include <memory>
#include <mutex>

namespace kiln::detail {

struct SymbolNode;
using SymbolEntry = std::pair<std::shared_ptr<const SymbolNode>, int64_t>;

struct SymbolNode {
  std::string op; // "null" for a variable
  std::string name;
  std::map<std::string, std::string> attrs;
  std::map<std::string, std::string> hints;
  std::vector<SymbolEntry> inputs;
};

struct SymbolData {
  std::vector<SymbolEntry> outputs;
  mutable std::once_flag graphOnce;
  mutable mx::Graph graph;
};

/// The symbol's graph: nodes reachable from its outputs in DFS post-order
/// (or, for a symbol read from a file, the file's graph as parsed).
const mx::Graph &graphOf(const Symbol &symbol);
/// A symbol whose outputs are `graph`'s heads. Throws kiln::Error when an
/// input refers to a later node or an unknown operator is used.
Symbol symbolFromGraph(mx::Graph graph);

} // namespace kiln::detail

#endif // KILN_LIB_API_SYMBOLINTERNAL_H
