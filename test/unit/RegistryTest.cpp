//===- RegistryTest.cpp - Kiln's operator registry against MXNet's own ----===//
//
// test/conformance/mxnet-1.9.1-operators.json is what MXNet 1.9.1 registers
// (written by scripts/mxnet-operator-list.py with MXNet's Python): every
// operator's names and arguments with MXNet's type and default strings.
// Every operator Kiln accepts must be spelled as MXNet spells it: its names
// are MXNet's names of one operator, its attributes are MXNet's arguments
// with MXNet's defaults, every MXNet argument is either an attribute or a
// key Kiln knowingly ignores (or a model using it would fail to import), and
// its input names are MXNet's.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"
#include "Import/MXNetAttrs.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <optional>
#include <set>
#include <string>

using namespace kiln;
using graph::MXAttrKind;
using graph::MXNetOpDef;

namespace {

struct MXArg {
  std::string type; // MXNet's type string, e.g. "float, optional, default=0.25"
};

struct MXOp {
  std::set<std::string> names;
  std::vector<std::string> tensorInputs;
  std::map<std::string, MXArg> params;
};

/// MXNet's operators by each of their names.
const std::map<std::string, std::shared_ptr<MXOp>> &mxnetOperators() {
  static const std::map<std::string, std::shared_ptr<MXOp>> ops = [] {
    std::map<std::string, std::shared_ptr<MXOp>> out;
    std::string path = std::string(KILN_SOURCE_DIR) + "/test/conformance/mxnet-1.9.1-operators.json";
    auto buf = llvm::MemoryBuffer::getFile(path);
    if (!buf)
      ADD_FAILURE() << "cannot read " << path;
    if (!buf)
      return out;
    llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buf)->getBuffer());
    if (!json) {
      ADD_FAILURE() << path << ": " << llvm::toString(json.takeError());
      return out;
    }
    for (const auto &[canonical, v] : *json->getAsObject()->getObject("operators")) {
      auto op = std::make_shared<MXOp>();
      const llvm::json::Object *o = v.getAsObject();
      for (const llvm::json::Value &n : *o->getArray("names"))
        op->names.insert(n.getAsString()->str());
      for (const llvm::json::Value &a : *o->getArray("args")) {
        const llvm::json::Array &pair = *a.getAsArray();
        std::string name = pair[0].getAsString()->str(), type = pair[1].getAsString()->str();
        if (type.find("NDArray") != std::string::npos || type.find("Symbol") != std::string::npos)
          op->tensorInputs.push_back(name);
        else
          op->params[name] = {type};
      }
      for (const std::string &n : op->names)
        out[n] = op;
    }
    return out;
  }();
  return ops;
}

/// MXNet's default from "float, optional, default=0.25", or nullopt when the
/// argument is required.
std::optional<std::string> mxnetDefault(const std::string &type) {
  size_t at = type.find("default=");
  if (at == std::string::npos)
    return std::nullopt;
  std::string d = type.substr(at + 8);
  if (d.size() >= 2 && d.front() == '\'' && d.back() == '\'')
    d = d.substr(1, d.size() - 2);
  return d;
}

bool isNone(const std::string &s) { return s == "None" || s == "none"; }

/// Whether Kiln's default `kiln` means MXNet's `mx` for an attribute of
/// `kind` (MXNet prints booleans as 0/1, tuples as [], floats in float32).
bool sameDefault(MXAttrKind kind, const std::string &kiln, const std::string &mx) {
  try {
    switch (kind) {
    case MXAttrKind::Bool:
      return mx::parseBool(kiln, "") == mx::parseBool(mx, "");
    case MXAttrKind::Int:
      return mx::parseInt(kiln, "") == mx::parseInt(mx, "");
    case MXAttrKind::F32:
      return static_cast<float>(mx::parseFloat(kiln, "")) ==
             static_cast<float>(mx::parseFloat(mx, ""));
    case MXAttrKind::F64:
      // Some of MXNet's double parameters default to a float literal
      // (BatchNorm's eps is 1e-3f, printed as 0.0010000000474974513).
      return mx::parseFloat(kiln, "") == mx::parseFloat(mx, "") ||
             static_cast<float>(mx::parseFloat(kiln, "")) ==
                 static_cast<float>(mx::parseFloat(mx, ""));
    case MXAttrKind::Tuple:
      return mx::parseTuple(kiln, "") == mx::parseTuple(mx, "");
    case MXAttrKind::FloatTuple:
      return mx::parseFloatTuple(kiln, "") == mx::parseFloatTuple(mx, "");
    case MXAttrKind::OptTuple:
      return mx::parseOptTuple(kiln, "") == mx::parseOptTuple(mx, "");
    case MXAttrKind::Enum:
    case MXAttrKind::String:
      return kiln == mx;
    }
  } catch (...) {
    return false;
  }
  return false;
}

/// Names Kiln accepts for an operator although MXNet registers them as an
/// operator of their own, with the same semantics for what Kiln supports.
const std::map<std::string, std::string> kKilnSynonyms = {
    // MXNet's gradient-accumulation op: elemwise_add under another name.
    {"_grad_add", "elemwise_add"},
};

/// Attributes MXNet gives a default that is an error anyway, which Kiln
/// therefore requires at import, with the reason.
const std::map<std::string, std::set<std::string>> kRequiredInKiln = {
    // MXNet's Reshape with neither shape nor target_shape fails its shape
    // inference ("target shape must be specified").
    {"Reshape", {"shape"}},
    // An empty target shape has another rank than any input MXNet accepts.
    {"broadcast_to", {"shape"}},
};

/// MXNet arguments Kiln does not model, per operator, with the reason; an
/// argument here but present in a file fails the import with "unknown
/// attribute", unless Kiln lists it as an ignored key.
const std::map<std::string, std::set<std::string>> kUnmodelled = {
};

/// Arguments MXNet's listing calls required whose parser has a default all
/// the same, so MXNet 1.9.1 accepts a node without them: smooth_l1 lists
/// "scalar" as "float" (an add_argument) while its NumpyBinaryScalarParam
/// defaults it to 1 (conformance case smooth_l1-1 leaves it out).
const std::map<std::string, std::set<std::string>> kRequiredInListingOnly = {
    {"smooth_l1", {"scalar"}},
};

} // namespace

TEST(RegistryTest, NamesAreMXNets) {
  ASSERT_FALSE(mxnetOperators().empty());
  for (const MXNetOpDef *def : graph::mxnetOps()) {
    SCOPED_TRACE(def->mxName);
    auto it = mxnetOperators().find(def->mxName);
    ASSERT_NE(it, mxnetOperators().end()) << "not an MXNet 1.9.1 operator name";
    for (const char *alias : def->aliases) {
      if (auto syn = kKilnSynonyms.find(alias); syn != kKilnSynonyms.end()) {
        EXPECT_EQ(syn->second, def->mxName);
        continue;
      }
      EXPECT_TRUE(it->second->names.count(alias))
          << "alias '" << alias << "' is not one of MXNet's names of this operator";
    }
  }
}

TEST(RegistryTest, AttributesAreMXNetsWithMXNetsDefaults) {
  for (const MXNetOpDef *def : graph::mxnetOps()) {
    SCOPED_TRACE(def->mxName);
    auto it = mxnetOperators().find(def->mxName);
    if (it == mxnetOperators().end())
      continue; // NamesAreMXNets reports it
    const MXOp &mx = *it->second;
    for (const graph::MXAttrSpec &a : def->attrs) {
      SCOPED_TRACE(a.name);
      auto p = mx.params.find(a.name);
      if (p == mx.params.end()) {
        ADD_FAILURE() << "MXNet's " << def->mxName << " has no argument '" << a.name << "'";
        continue;
      }
      std::optional<std::string> mxDefault = mxnetDefault(p->second.type);
      if (auto only = kRequiredInListingOnly.find(def->mxName);
          !mxDefault && only != kRequiredInListingOnly.end() && only->second.count(a.name))
        continue;
      if (!mxDefault) {
        // "int or None, required" (slice_axis's end): the key must be
        // written, but None is a value, so Kiln's attribute is optional.
        bool noneAllowed = p->second.type.find(" or None") != std::string::npos;
        EXPECT_FALSE(a.mxDefault || (a.optional && !(noneAllowed && a.keyRequired)))
            << "required in MXNet: " << p->second.type;
        continue;
      }
      EXPECT_FALSE(a.keyRequired) << "MXNet's default is " << *mxDefault;
      if (isNone(*mxDefault)) {
        // MXNet's None: an optional attribute, or a default Kiln picks
        // where None means one (e.g. a whole-tensor axis).
        EXPECT_TRUE(a.optional || a.mxDefault) << "MXNet's default is None: " << p->second.type;
        continue;
      }
      if (a.optional && !a.mxDefault)
        continue;
      if (auto r = kRequiredInKiln.find(def->mxName);
          !a.mxDefault && r != kRequiredInKiln.end() && r->second.count(a.name))
        continue;
      ASSERT_TRUE(a.mxDefault) << "Kiln requires it; MXNet's default is " << *mxDefault;
      EXPECT_TRUE(sameDefault(a.kind, a.mxDefault, *mxDefault))
          << "Kiln's default '" << a.mxDefault << "', MXNet's '" << *mxDefault << "' ("
          << p->second.type << ")";
    }
  }
}

TEST(RegistryTest, EveryMXNetArgumentIsKnown) {
  for (const MXNetOpDef *def : graph::mxnetOps()) {
    SCOPED_TRACE(def->mxName);
    auto it = mxnetOperators().find(def->mxName);
    if (it == mxnetOperators().end())
      continue;
    std::set<std::string> known;
    for (const graph::MXAttrSpec &a : def->attrs)
      known.insert(a.name);
    for (const graph::MXIgnoredKey &k : def->ignoredKeys)
      known.insert(k.name);
    // Read by the input rules, and Reshape's legacy spelling.
    known.insert({"no_bias", "num_args"});
    if (def->legacyReshape)
      known.insert({"target_shape", "keep_highest"});
    if (auto u = kUnmodelled.find(def->mxName); u != kUnmodelled.end())
      known.insert(u->second.begin(), u->second.end());
    for (const auto &[name, arg] : it->second->params)
      EXPECT_TRUE(known.count(name)) << "MXNet argument '" << name << "' (" << arg.type
                                     << ") is neither an attribute nor an ignored key";
  }
}

TEST(RegistryTest, InputNamesAreMXNets) {
  for (const MXNetOpDef *def : graph::mxnetOps()) {
    SCOPED_TRACE(def->mxName);
    auto it = mxnetOperators().find(def->mxName);
    // MXNet lists a variadic input list as one argument ("data").
    if (it == mxnetOperators().end() || def->inputRule == graph::MXInputRule::Variadic ||
        def->inputRule == graph::MXInputRule::UpSampling ||
        def->inputRule == graph::MXInputRule::NumOutputs)
      continue;
    std::vector<std::string> kiln(def->inputs.begin(), def->inputs.end());
    EXPECT_EQ(kiln, it->second->tensorInputs);
  }
}

//===----------------------------------------------------------------------===//
// docs/operators.md
//===----------------------------------------------------------------------===//

namespace {

/// How many MXNet-generated conformance cases each operator has, by the
/// operator of each case's node (test/conformance/cases/*.json).
std::map<std::string, int> conformanceCaseCounts() {
  std::map<std::string, int> counts;
  std::error_code ec;
  std::string dir = std::string(KILN_SOURCE_DIR) + "/test/conformance/cases";
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    if (!llvm::StringRef(it->path()).ends_with(".json"))
      continue;
    auto buf = llvm::MemoryBuffer::getFile(it->path());
    if (!buf)
      continue;
    llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buf)->getBuffer());
    if (!json) {
      llvm::consumeError(json.takeError());
      continue;
    }
    for (const llvm::json::Value &c : *json->getAsObject()->getArray("cases"))
      for (const llvm::json::Value &n : *c.getAsObject()->getObject("symbol")->getArray("nodes")) {
        llvm::StringRef op = *n.getAsObject()->getString("op");
        if (op != "null")
          if (const MXNetOpDef *def = graph::lookupMXNetOp(op))
            ++counts[def->mxName];
      }
  }
  return counts;
}

std::string escapeCell(std::string s) {
  std::string out;
  for (char c : s)
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

/// The operator table of docs/operators.md, from the registry.
std::string operatorTable() {
  std::map<std::string, int> cases = conformanceCaseCounts();
  std::ostringstream os;
  size_t names = 0;
  for (const MXNetOpDef *def : graph::mxnetOps())
    names += 1 + def->aliases.size();
  os << "<!-- Generated by RegistryTest from the operator registry (the ops' ODS definitions);\n"
        "     regenerate with KILN_UPDATE_OPERATOR_TABLE=1 build/bin/RegistryTest. -->\n"
     << "Kiln imports " << graph::mxnetOps().size() << " MXNet operators under " << names
     << " names (aliases and legacy spellings included).\n\n"
     << "| MXNet operator | also accepted as | gradient | graph op | MXNet cases | summary |\n"
     << "|---|---|---|---|---:|---|\n";
  for (const MXNetOpDef *def : graph::mxnetOps()) {
    std::string aliases;
    for (const char *a : def->aliases)
      aliases += (aliases.empty() ? "" : ", ") + ("`" + std::string(a) + "`");
    os << "| `" << def->mxName << "` | " << aliases << " | " << (def->hasGradient ? "yes" : "none")
       << " | `" << def->irName << "` | " << cases[def->mxName] << " | "
       << escapeCell(def->summary) << " |\n";
  }
  return os.str();
}

} // namespace

// docs/operators.md holds the table between two markers; it must be what
// the registry says today.
TEST(RegistryTest, OperatorTableInDocsIsCurrent) {
  std::string path = std::string(KILN_SOURCE_DIR) + "/docs/operators.md";
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string doc = buf.str();
  const std::string begin = "<!-- operator-table-begin -->\n", end = "<!-- operator-table-end -->";
  size_t b = doc.find(begin), e = doc.find(end);
  ASSERT_TRUE(b != std::string::npos && e != std::string::npos && b < e)
      << path << " lacks the operator-table markers";
  std::string current = doc.substr(b + begin.size(), e - b - begin.size());
  std::string table = operatorTable();
  if (current == table)
    return;
  if (std::getenv("KILN_UPDATE_OPERATOR_TABLE")) {
    doc.replace(b + begin.size(), e - b - begin.size(), table);
    std::ofstream(path) << doc;
    return;
  }
  FAIL() << path << " is out of date; regenerate it with "
         << "KILN_UPDATE_OPERATOR_TABLE=1 build/bin/RegistryTest";
}
