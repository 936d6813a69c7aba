//===- GraphDialect.cpp - Kiln graph dialect registration -----------------===//
//
// Registers the ops of every family and collects their MXNet registry
// entries (MXNetOpDef.h) from the same op lists, so an op is importable as
// soon as it is defined.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "Graph/GraphNNOps.h"
#include "Graph/GraphOps.h"
#include "Graph/GraphRNNOps.h"
#include "Graph/GraphReduceOps.h"
#include "Graph/GraphShapeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>

using namespace mlir;
using namespace kiln::graph;

#include "Graph/GraphDialect.cpp.inc"
#include "Graph/GraphEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "Graph/GraphAttrs.cpp.inc"

void GraphDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "Graph/GraphAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Graph/GraphOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Graph/GraphShapeOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Graph/GraphReduceOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Graph/GraphNNOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Graph/GraphRNNOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Graph/GraphDetectionOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// The MXNet registry
//===----------------------------------------------------------------------===//

namespace {

template <typename... Ops> void appendDefs(std::vector<const MXNetOpDef *> &defs) {
  const MXNetOpDef *all[] = {nullptr, Ops::getMXNetDef()...};
  for (const MXNetOpDef *def : all)
    if (def)
      defs.push_back(def);
}

struct Registry {
  std::vector<const MXNetOpDef *> ops;
  llvm::StringMap<const MXNetOpDef *> byName, byIRName;

  Registry() {
    appendDefs<
#define GET_OP_LIST
#include "Graph/GraphOps.cpp.inc"
        >(ops);
    appendDefs<
#define GET_OP_LIST
#include "Graph/GraphShapeOps.cpp.inc"
        >(ops);
    appendDefs<
#define GET_OP_LIST
#include "Graph/GraphReduceOps.cpp.inc"
        >(ops);
    appendDefs<
#define GET_OP_LIST
#include "Graph/GraphNNOps.cpp.inc"
        >(ops);
    appendDefs<
#define GET_OP_LIST
#include "Graph/GraphRNNOps.cpp.inc"
        >(ops);
    appendDefs<
#define GET_OP_LIST
#include "Graph/GraphDetectionOps.cpp.inc"
        >(ops);
    std::sort(ops.begin(), ops.end(), [](const MXNetOpDef *a, const MXNetOpDef *b) {
      return llvm::StringRef(a->mxName) < llvm::StringRef(b->mxName);
    });
    for (const MXNetOpDef *def : ops) {
      byIRName[def->irName] = def;
      add(def->mxName, def);
      for (const char *alias : def->aliases)
        add(alias, def);
    }
  }

  void add(llvm::StringRef name, const MXNetOpDef *def) {
    auto [it, inserted] = byName.try_emplace(name, def);
    // Two ops claiming one MXNet name is a mistake in the ODS definitions.
    if (!inserted && it->second != def)
      llvm::report_fatal_error(llvm::Twine("MXNet operator name '") + name +
                               "' is claimed by both " + it->second->irName + " and " +
                               def->irName);
  }
};

const Registry &registry() {
  static const Registry r;
  return r;
}

} // namespace

const MXAttrSpec *MXNetOpDef::findAttr(llvm::StringRef name) const {
  for (const MXAttrSpec &a : attrs)
    if (name == a.name)
      return &a;
  return nullptr;
}

llvm::ArrayRef<const MXNetOpDef *> kiln::graph::mxnetOps() { return registry().ops; }

const MXNetOpDef *kiln::graph::lookupMXNetOp(llvm::StringRef name) {
  return registry().byName.lookup(name);
}

const MXNetOpDef *kiln::graph::lookupMXNetOpByIRName(llvm::StringRef irName) {
  return registry().byIRName.lookup(irName);
}
