//===- ImportTestUtil.h - Helpers for the importer's unit tests -*- C++ -*-===//

#ifndef KILN_TEST_IMPORTTESTUTIL_H
#define KILN_TEST_IMPORTTESTUTIL_H

#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/MXNetGraph.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln::test {

/// Builds an mx::Graph the way MXNet's JSON lists it.
struct GraphBuilder {
  mx::Graph g;
  int64_t var(const std::string &name) {
    mx::Node n;
    n.op = "null";
    n.name = name;
    g.nodes.push_back(n);
    return (int64_t)g.nodes.size() - 1;
  }
  int64_t op(const std::string &opName, const std::string &name,
             std::map<std::string, std::string> attrs, std::vector<mx::NodeEntry> inputs) {
    mx::Node n;
    n.op = opName;
    n.name = name;
    n.attrs = std::move(attrs);
    n.inputs = std::move(inputs);
    g.nodes.push_back(n);
    return (int64_t)g.nodes.size() - 1;
  }
  void head(int64_t node, int64_t index = 0) { g.heads.push_back({node, index}); }
};

inline std::string print(mlir::Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os);
  return s;
}

inline mlir::func::FuncOp mainOf(mlir::ModuleOp m) {
  return m.lookupSymbol<mlir::func::FuncOp>("main");
}

/// The message of the kiln::Error that `fn` throws, or "" (and a failure).
template <typename Fn> std::string errorOf(Fn &&fn) {
  try {
    fn();
  } catch (const kiln::Error &e) {
    return e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "threw a non-kiln exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a kiln::Error";
  return "";
}

} // namespace kiln::test

#endif // KILN_TEST_IMPORTTESTUTIL_H
