//===- GraphToSymbol.cpp - graph dialect -> mx::Graph ---------------------===//
//
// exportGraph: the inverse of importGraph, through the same op table. The
// variables come first, in argument order, so that importing the result
// gives back the same argument order whatever order the function had.
//
//===----------------------------------------------------------------------===//

#include "Import/Import.h"

#include "Graph/GraphOps.h"
#include "Import/MXNetAttrs.h"
#include "Import/OpTable.h"
#include "kiln/Error.h"

#include "mlir/IR/Builders.h"

#include <cctype>
#include <set>

using namespace mlir;
using namespace kiln::importer;

namespace kiln {

namespace {

std::string locName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc)) {
    for (Location l : f.getLocations())
      if (std::string s = locName(l); !s.empty())
        return s;
    return "";
  }
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return locName(c.getCallee());
  return "";
}

std::string describe(Operation *op) {
  std::string name = locName(op->getLoc());
  std::string out = "'" + op->getName().getStringRef().str() + "'";
  if (!name.empty())
    out += " (node '" + name + "')";
  return out;
}

} // namespace

mx::Graph exportGraph(func::FuncOp f) {
  if (f.isExternal() || !llvm::hasSingleElement(f.getBody()))
    throw Error("cannot export function '" + f.getSymName().str() +
                "' to MXNet: it needs exactly one block");
  Block &entry = f.getBody().front();
  MLIRContext *ctx = f.getContext();

  mx::Graph g;
  g.mxnetVersion = 10900; // the 1.x "attrs" era that writeSymbolJSON writes
  std::set<std::string> used;
  DenseMap<Value, mx::NodeEntry> entries;

  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    mx::Node var;
    var.op = "null";
    var.name = argName(f, i);
    if (!used.insert(var.name).second)
      throw Error("cannot export function '" + f.getSymName().str() +
                  "' to MXNet: two arguments are named '" + var.name + "'");
    entries[entry.getArgument(i)] = {(int64_t)g.nodes.size(), 0};
    g.nodes.push_back(std::move(var));
  }

  // Names from NameLocs win over generated ones, so claim them first.
  std::map<Operation *, std::string> names;
  for (Operation &op : entry) {
    std::string name = locName(op.getLoc());
    if (!name.empty() && used.insert(name).second)
      names[&op] = name;
  }
  std::map<std::string, int> counters;
  auto freshName = [&](const std::string &mxName) {
    std::string base;
    for (char c : mxName)
      if (c != '_' || !base.empty())
        base += (char)std::tolower((unsigned char)c);
    for (;;) {
      std::string candidate = base + std::to_string(counters[base]++);
      if (used.insert(candidate).second)
        return candidate;
    }
  };

  for (Operation &op : entry) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands()) {
        auto e = entries.find(v);
        if (e == entries.end())
          throw Error("cannot export function '" + f.getSymName().str() +
                      "' to MXNet: it returns a value defined outside its body");
        g.heads.push_back(e->second);
      }
      continue;
    }
    const MXNetOpDef *spec = lookupByIRName(op.getName().getStringRef());
    if (!spec)
      throw Error("cannot export " + describe(&op) + " to MXNet: no MXNet operator");
    if (op.getNumRegions() != 0)
      throw Error("cannot export " + describe(&op) + " to MXNet: it has regions");

    mx::Node node;
    node.op = spec->mxName;
    auto it = names.find(&op);
    node.name = it != names.end() ? it->second : freshName(spec->mxName);
    for (Value v : op.getOperands()) {
      auto e = entries.find(v);
      if (e == entries.end())
        throw Error("cannot export " + describe(&op) +
                    " to MXNet: an operand is not defined in the function body");
      node.inputs.push_back(e->second);
    }
    for (const MXAttrSpec &a : spec->attrs) {
      Attribute attr = op.getAttr(a.name);
      if (!attr) {
        // MXOptDef: an absent attribute is None, which is not the default;
        // keyRequired: MXNet requires the key even when its value is None.
        if ((a.optional && a.mxDefault) || a.keyRequired)
          node.attrs[a.name] = "None";
        continue;
      }
      if (Attribute d = defaultAttr(ctx, a); d && d == attr)
        continue;
      node.attrs[a.name] = formatAttr(a, attr);
    }
    // MXNet reads the bias slot from no_bias, and variadic ops need num_args.
    if (hasBiasInput(*spec))
      node.attrs["no_bias"] = mx::formatBool(op.getNumOperands() == 2);
    if (isVariadic(*spec))
      node.attrs["num_args"] = std::to_string(op.getNumOperands());

    auto id = (int64_t)g.nodes.size();
    for (unsigned r = 0; r < op.getNumResults(); ++r)
      entries[op.getResult(r)] = {id, (int64_t)r};
    g.nodes.push_back(std::move(node));
  }
  if (g.heads.empty())
    throw Error("cannot export function '" + f.getSymName().str() +
                "' to MXNet: it returns nothing");
  return g;
}

} // namespace kiln
