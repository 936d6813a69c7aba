//===- SymbolJSON.cpp - MXNet symbol JSON of every era --------------------===//
//
// The reader re-does, in one pass, what MXNet's LoadJSON plus the upgraders
// in src/nnvm/legacy_json_util.cc do: merge the param/attr/attrs maps, move
// user attributes to hidden "__x__" keys (UpgradeJSON_FixParsing), drop the
// consumer attributes Python copied onto variables, and give pre-0.9 files
// the inputs they did not serialize (UpgradeJSON_000800_000900). Unlike
// MXNet, it validates the graph and reports every problem with the file and
// node, because the tools must never crash on a bad file.
//
//===----------------------------------------------------------------------===//

#include "Import/MXNetAttrs.h"
#include "Import/MXNetGraph.h"
#include "Import/OpCatalog.h"
#include "kiln/Error.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <optional>

namespace kiln::mx {

namespace {

/// User attributes MXNet turns into hidden "__key__" attributes (kHiddenKeys
/// in src/c_api/c_api_common.h).
const char *const kHiddenKeys[] = {"ctx_group",       "lr_mult",
                                   "wd_mult",         "force_mirroring",
                                   "mirror_stage",    "profiler_scope"};

bool isHiddenKey(const std::string &key) {
  return key.size() > 4 && key.compare(0, 2, "__") == 0 &&
         key.compare(key.size() - 2, 2, "__") == 0;
}

std::string describeJSON(const llvm::json::Value &v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v;
  os.flush();
  if (s.size() > 40)
    s = s.substr(0, 37) + "...";
  return s;
}

class Reader {
public:
  explicit Reader(const std::string &file) : file(file) {}

  Graph read(const std::string &text);

private:
  [[noreturn]] void fail(const std::string &msg) const {
    throw Error(msg + " (" + file + ")");
  }
  [[noreturn]] void failNode(const std::string &node,
                             const std::string &msg) const {
    throw Error(msg + " in node '" + node + "' (" + file + ")");
  }

  /// Parses a [node, index] or [node, index, version] entry referring to a
  /// node before `limit` (in file numbering).
  std::pair<int64_t, int64_t> readEntry(const llvm::json::Value &v,
                                        int64_t limit, const std::string &where,
                                        const std::string &nodeName) const;

  std::string file;
};

std::pair<int64_t, int64_t>
Reader::readEntry(const llvm::json::Value &v, int64_t limit,
                  const std::string &where, const std::string &nodeName) const {
  auto bad = [&](const std::string &msg) {
    if (nodeName.empty())
      fail(where + " " + msg);
    failNode(nodeName, where + " " + msg);
  };
  const llvm::json::Array *arr = v.getAsArray();
  if (!arr || (arr->size() != 2 && arr->size() != 3))
    bad("must be [node, index] or [node, index, version], got " +
        describeJSON(v));
  std::optional<int64_t> id = (*arr)[0].getAsInteger();
  std::optional<int64_t> index = (*arr)[1].getAsInteger();
  if (!id || !index || (arr->size() == 3 && !(*arr)[2].getAsInteger()))
    bad("must hold integers, got " + describeJSON(v));
  if (*id < 0 || *id >= limit)
    bad("refers to node " + std::to_string(*id) +
        (*id >= 0 && nodeName.empty() ? ", which does not exist"
                                      : ", which is not an earlier node"));
  if (*index < 0)
    bad("has negative output index " + std::to_string(*index));
  return {*id, *index};
}

Graph Reader::read(const std::string &text) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    throw Error("malformed JSON in " + file + ": " +
                llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    fail("symbol JSON must be an object with 'nodes' and 'heads'");
  const llvm::json::Array *rawNodes = root->getArray("nodes");
  if (!rawNodes)
    fail("symbol JSON has no 'nodes' array");
  const llvm::json::Array *rawHeads = root->getArray("heads");
  if (!rawHeads)
    fail("symbol JSON has no 'heads' array");

  Graph graph;
  graph.mxnetVersion = 800;
  if (const llvm::json::Object *gattrs = root->getObject("attrs")) {
    if (const llvm::json::Value *ver = gattrs->get("mxnet_version")) {
      std::optional<int64_t> v;
      if (const llvm::json::Array *pair = ver->getAsArray()) {
        if (pair->size() == 2)
          v = (*pair)[1].getAsInteger();
      } else {
        v = ver->getAsInteger();
      }
      if (!v)
        fail("graph attribute 'mxnet_version' must be [\"int\", VERSION], "
             "got " + describeJSON(*ver));
      graph.mxnetVersion = *v;
    }
  }
  bool preNNVM = graph.mxnetVersion < 900;

  const int64_t numRaw = static_cast<int64_t>(rawNodes->size());
  // Pre-0.9 upgrades insert variables, so file ids are renumbered.
  std::vector<int64_t> newId(numRaw, -1);

  for (int64_t i = 0; i < numRaw; ++i) {
    const llvm::json::Object *obj = (*rawNodes)[i].getAsObject();
    std::string where = "node " + std::to_string(i);
    if (!obj)
      fail(where + " is not an object");
    std::optional<llvm::StringRef> op = obj->getString("op");
    std::optional<llvm::StringRef> name = obj->getString("name");
    if (!name)
      fail(where + " has no string 'name'");
    Node node;
    node.name = name->str();
    if (!op)
      failNode(node.name, "missing string 'op'");
    if (const llvm::json::Array *subs = obj->getArray("subgraphs"))
      if (!subs->empty())
        failNode(node.name, "operator '" + op->str() +
                                "' has subgraphs (control flow or a fused "
                                "subgraph backend), which Kiln does not "
                                "support");
    node.op = op->str() == "null" ? "null" : canonicalOpName(op->str());

    // Merge every era's attribute map; later eras first so that a value
    // written by a newer writer wins.
    std::map<std::string, std::string> merged;
    for (const char *key : {"param", "attr", "attrs"}) {
      const llvm::json::Value *m = obj->get(key);
      if (!m || m->kind() == llvm::json::Value::Null)
        continue;
      const llvm::json::Object *mo = m->getAsObject();
      if (!mo)
        failNode(node.name, std::string("'") + key + "' is not an object");
      for (const auto &kv : *mo) {
        std::optional<llvm::StringRef> s = kv.second.getAsString();
        if (!s)
          failNode(node.name, "attribute '" + kv.first.str() +
                                  "' is not a string (got " +
                                  describeJSON(kv.second) + ")");
        merged[kv.first.str()] = s->str();
      }
    }

    const llvm::json::Array *rawInputs = obj->getArray("inputs");
    if (!rawInputs) {
      if (obj->get("inputs"))
        failNode(node.name, "'inputs' is not an array");
      failNode(node.name, "missing 'inputs'");
    }
    if (const llvm::json::Value *cd = obj->get("control_deps"))
      if (!cd->getAsArray())
        failNode(node.name, "'control_deps' is not an array");

    // Split hidden keys off (UpgradeJSON_FixParsing). Argument-prefixed
    // keys such as "weight_lr_mult" go to the named input variable, which
    // needs the op's input names and so waits until attrs are known.
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>>
        argHints; // (arg name, (hidden key, value))
    std::map<std::string, std::string> unmatched;
    for (const auto &kv : merged) {
      const std::string &k = kv.first;
      if (isHiddenKey(k)) {
        node.hints[k] = kv.second;
        continue;
      }
      bool handled = false;
      for (const char *hk : kHiddenKeys) {
        std::string key = hk;
        if (k == key) {
          node.hints["__" + key + "__"] = kv.second;
          handled = true;
          break;
        }
        if (k.size() > key.size() + 1 &&
            k.compare(k.size() - key.size(), key.size(), key) == 0 &&
            k[k.size() - key.size() - 1] == '_') {
          argHints.push_back(
              {k.substr(0, k.size() - key.size() - 1),
               {"__" + key + "__", kv.second}});
          unmatched[k] = kv.second;
          handled = true;
          break;
        }
      }
      if (!handled)
        node.attrs[k] = kv.second;
    }

    if (node.isVariable()) {
      if (!rawInputs->empty())
        failNode(node.name, "variable has inputs");
      // Attributes Python copied from the consumer onto its variables are
      // not the variable's; argument-prefixed keys mean nothing here either.
      node.attrs.clear();
      newId[i] = static_cast<int64_t>(graph.nodes.size());
      graph.nodes.push_back(std::move(node));
      continue;
    }

    const OpInfo *info = lookupOp(node.op);
    if (!info)
      failNode(node.name, unknownOperatorMessage(op->str()));
    std::vector<std::string> inputNames;
    try {
      inputNames = info->inputNames(node.attrs);
      numOutputs(node);
    } catch (const Error &e) {
      failNode(node.name, std::string(e.what()));
    }

    for (size_t k = 0; k < rawInputs->size(); ++k) {
      auto [id, index] = readEntry((*rawInputs)[k], i,
                                   "input " + std::to_string(k), node.name);
      const Node &src = graph.nodes[newId[id]];
      int64_t outs = numOutputs(src);
      if (index >= outs)
        failNode(node.name, "input " + std::to_string(k) + " uses output " +
                                std::to_string(index) + " of node '" +
                                src.name + "', which has only " +
                                std::to_string(outs) + " output(s)");
      node.inputs.push_back({newId[id], index});
    }

    auto expected = [&] {
      std::string s;
      for (const std::string &n : inputNames)
        s += (s.empty() ? "" : ", ") + n;
      return s;
    };
    if (node.inputs.size() > inputNames.size() ||
        (node.inputs.size() < inputNames.size() && !preNNVM))
      failNode(node.name, "operator '" + node.op + "' has " +
                              std::to_string(node.inputs.size()) +
                              " inputs but expects " +
                              std::to_string(inputNames.size()) + " (" +
                              expected() + ") given its attributes");
    // Files before 0.9 did not store aux states: add the variables MXNet's
    // UpgradeJSON_000800_000900 adds, right before the node so the order
    // stays the DFS post-order MXNet would write.
    for (size_t k = node.inputs.size(); k < inputNames.size(); ++k) {
      Node var;
      var.op = "null";
      var.name = node.name + "_" + inputNames[k];
      var.hints = node.hints;
      node.inputs.push_back({static_cast<int64_t>(graph.nodes.size()), 0});
      graph.nodes.push_back(std::move(var));
    }

    for (const auto &ah : argHints) {
      auto it = std::find(inputNames.begin(), inputNames.end(), ah.first);
      if (it == inputNames.end())
        continue;
      Node &src = graph.nodes[node.inputs[it - inputNames.begin()].node];
      if (!src.isVariable())
        continue;
      src.hints[ah.second.first] = ah.second.second;
      unmatched.erase(ah.first + "_" +
                      ah.second.first.substr(2, ah.second.first.size() - 4));
    }
    // Kept as hints rather than op parameters: MXNet would reject them as
    // unknown parameters, yet they are the user's and should round-trip.
    for (const auto &kv : unmatched)
      node.hints[kv.first] = kv.second;

    newId[i] = static_cast<int64_t>(graph.nodes.size());
    graph.nodes.push_back(std::move(node));
  }

  if (rawHeads->empty())
    fail("symbol JSON has an empty 'heads' list");
  for (size_t k = 0; k < rawHeads->size(); ++k) {
    auto [id, index] =
        readEntry((*rawHeads)[k], numRaw, "head " + std::to_string(k), "");
    const Node &src = graph.nodes[newId[id]];
    int64_t outs = numOutputs(src);
    if (index >= outs)
      failNode(src.name, "head " + std::to_string(k) + " uses output " +
                             std::to_string(index) + ", but the node has only " +
                             std::to_string(outs) + " output(s)");
    graph.heads.push_back({newId[id], index});
  }
  return graph;
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

std::string quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out + "\"";
}

std::string entry(const NodeEntry &e) {
  return "[" + std::to_string(e.node) + ", " + std::to_string(e.index) +
         ", 0]";
}

/// Outputs MXNet allocates for the node (visible or not), which is what its
/// node_row_ptr counts: BatchNorm 3, Dropout and LRN 2 (mask, norm), ...
int64_t internalOutputs(const Node &node) {
  if (node.op == "BatchNorm" || node.op == "_contrib_SyncBatchNorm")
    return 3;
  if (node.op == "Dropout" || node.op == "LRN")
    return 2;
  if (node.op == "LeakyReLU") {
    auto it = node.attrs.find("act_type");
    if (it != node.attrs.end() && it->second == "rrelu")
      return 2;
  }
  return numOutputs(node);
}

} // namespace

Graph parseSymbolJSON(const std::string &text, const std::string &fileName) {
  return Reader(fileName).read(text);
}

std::string writeSymbolJSON(const Graph &graph) {
  // Laid out like dmlc::JSONWriter (MXNet's own writer): 2-space indent and
  // ", " before each line break, entries inline.
  std::string out = "{\n  \"nodes\": [";
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node &n = graph.nodes[i];
    out += i ? ", \n    {" : "\n    {";
    out += "\n      \"op\": " + quote(n.op) + ", ";
    out += "\n      \"name\": " + quote(n.name) + ", ";
    std::map<std::string, std::string> attrs = n.attrs;
    for (const auto &kv : n.hints)
      attrs[kv.first] = kv.second;
    if (!attrs.empty()) {
      out += "\n      \"attrs\": {";
      bool first = true;
      for (const auto &kv : attrs) {
        out += first ? "\n" : ", \n";
        out += "        " + quote(kv.first) + ": " + quote(kv.second);
        first = false;
      }
      out += "\n      }, ";
    }
    out += "\n      \"inputs\": [";
    for (size_t k = 0; k < n.inputs.size(); ++k)
      out += (k ? ", " : "") + entry(n.inputs[k]);
    out += "]\n    }";
  }
  out += "\n  ], \n  \"arg_nodes\": [";
  bool first = true;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!graph.nodes[i].isVariable())
      continue;
    out += (first ? "" : ", ") + std::to_string(i);
    first = false;
  }
  out += "], \n  \"node_row_ptr\": [0";
  int64_t row = 0;
  for (const Node &n : graph.nodes) {
    row += internalOutputs(n);
    out += ", " + std::to_string(row);
  }
  out += "], \n  \"heads\": [";
  for (size_t k = 0; k < graph.heads.size(); ++k)
    out += (k ? ", " : "") + entry(graph.heads[k]);
  out += "], \n  \"attrs\": {\"mxnet_version\": [\"int\", 10901]}\n}";
  return out;
}

} // namespace kiln::mx
