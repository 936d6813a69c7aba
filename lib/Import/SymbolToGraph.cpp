//===- SymbolToGraph.cpp - mx::Graph -> graph dialect ---------------------===//
//
// importGraph: validates an MXNet graph against the op table and catalog,
// classifies its variables (input / param / aux), builds `func.func @main`
// with typed attributes, then infers shapes. Every failure becomes one
// kiln::Error naming the file and the node or argument (SPEC §1.5); MLIR
// diagnostics are captured into that message rather than printed.
//
//===----------------------------------------------------------------------===//

#include "Import/Import.h"

#include "Graph/GraphOps.h"
#include "Import/MXNetAttrs.h"
#include "Import/OpCatalog.h"
#include "Import/OpTable.h"
#include "Transforms/Passes.h"
#include "kiln/Error.h"
#include "kiln/Tensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <set>

using namespace mlir;
using namespace kiln::importer;

namespace kiln {

namespace {

/// The innermost NameLoc's name inside `loc`, or "".
std::string nameOf(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc)) {
    for (Location l : f.getLocations())
      if (std::string s = nameOf(l); !s.empty())
        return s;
    return "";
  }
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return nameOf(c.getCallee());
  return "";
}

/// MXNet's own user-attribute keys of ≤0.8 files (ctx_group, lr_mult, ...,
/// and argument-prefixed ones like weight_lr_mult): hints, never op
/// parameters. The parser normally moves them into `hints` already.
bool isUserHintKey(const std::string &key) {
  auto endsWith = [&](const char *suffix) {
    size_t n = std::char_traits<char>::length(suffix);
    return key.size() >= n && key.compare(key.size() - n, n, suffix) == 0;
  };
  if (key.size() > 4 && key.rfind("__", 0) == 0 && endsWith("__"))
    return true;
  return key == "ctx_group" || key == "force_mirroring" || key == "mirror_stage" ||
         endsWith("lr_mult") || endsWith("wd_mult");
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// Collects MLIR diagnostics while alive, for the kiln::Error message.
class DiagnosticCollector {
public:
  DiagnosticCollector(MLIRContext &ctx, std::function<std::string(Location)> describe)
      : describe(std::move(describe)),
        handler(&ctx, [this](Diagnostic &d) {
          // Remarks explain an error (InferShapes names a creation op of
          // unknown shape that no consumer settled).
          if (d.getSeverity() != DiagnosticSeverity::Note) {
            std::string msg = this->describe(d.getLocation()) + d.str();
            for (Diagnostic &note : d.getNotes())
              msg += "\n  note: " + note.str();
            messages.push_back(msg);
          }
          return success();
        }) {}

  bool empty() const { return messages.empty(); }
  std::string text() const {
    std::string out;
    for (const std::string &m : messages)
      out += (out.empty() ? "" : "\n") + m;
    return out;
  }
  void clear() { messages.clear(); }

private:
  std::function<std::string(Location)> describe;
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
};

struct PreparedOp {
  const MXNetOpDef *spec = nullptr;
  NamedAttrList attrs;
  std::vector<std::string> inputNames;
  int numAux = 0;
  int64_t numResults = 1;
};

struct ArgPlan {
  int64_t node;
  ArgKind kind;
};

class Importer {
public:
  Importer(MLIRContext &ctx, const mx::Graph &g, const ImportOptions &opts)
      : ctx(ctx), g(g), opts(opts),
        file(opts.fileName.empty() ? std::string("<graph>") : opts.fileName),
        paramsFile(opts.paramsFileName.empty() ? file : opts.paramsFileName) {}

  OwningOpRef<ModuleOp> run();

private:
  MLIRContext &ctx;
  const mx::Graph &g;
  const ImportOptions &opts;
  std::string file, paramsFile;

  std::vector<bool> live;
  std::vector<PreparedOp> prepared; // by node id; empty for variables
  std::vector<ArgPlan> args;
  std::map<std::string, int64_t> nodeByName;

  std::string where(int64_t id) const {
    const mx::Node &n = g.nodes[id];
    if (n.isVariable())
      return file + ": variable '" + n.name + "'";
    return file + ": node '" + n.name + "' (" + n.op + ")";
  }
  [[noreturn]] void fail(int64_t id, const std::string &msg) const {
    throw Error(where(id) + ": " + msg);
  }
  std::string describeLoc(Location loc) const {
    std::string name = nameOf(loc);
    if (name.empty())
      return file + ": ";
    auto it = nodeByName.find(name);
    if (it != nodeByName.end())
      return where(it->second) + ": ";
    return file + ": '" + name + "': ";
  }

  void checkEntries();
  void prepare(int64_t id);
  void classify();
  OwningOpRef<ModuleOp> build(bool withParamShapes) const;
  void diagnoseParamShapes() const;
  void requireKnownShapes(func::FuncOp f) const;
  static std::string argWord(ArgKind k) {
    return k == ArgKind::Input ? "input" : k == ArgKind::Param ? "parameter" : "aux state";
  }
};

void Importer::checkEntries() {
  if (g.nodes.empty())
    throw Error(file + ": the graph has no nodes");
  if (g.heads.empty())
    throw Error(file + ": the graph has no outputs (heads)");
  auto n = (int64_t)g.nodes.size();
  for (int64_t id = 0; id < n; ++id)
    for (const mx::NodeEntry &e : g.nodes[id].inputs)
      if (e.node < 0 || e.node >= id)
        fail(id, "input refers to node " + std::to_string(e.node) +
                     (e.node >= n || e.node < 0 ? ", which does not exist"
                                                : ", which does not come before it"));
  for (const mx::NodeEntry &h : g.heads)
    if (h.node < 0 || h.node >= n)
      throw Error(file + ": graph output refers to node " + std::to_string(h.node) +
                  ", which does not exist");

  // MXNet binds only what the heads reach; so does Kiln.
  live.assign(n, false);
  std::vector<int64_t> stack;
  for (const mx::NodeEntry &h : g.heads)
    stack.push_back(h.node);
  while (!stack.empty()) {
    int64_t id = stack.back();
    stack.pop_back();
    if (live[id])
      continue;
    live[id] = true;
    for (const mx::NodeEntry &e : g.nodes[id].inputs)
      stack.push_back(e.node);
  }
}

void Importer::prepare(int64_t id) {
  const mx::Node &node = g.nodes[id];
  PreparedOp &p = prepared[id];
  const mx::OpInfo *info = mx::lookupOp(node.op);
  p.spec = lookupByMXName(node.op);
  if (!p.spec || !info)
    fail(id, mx::unknownOperatorMessage(node.op));

  std::map<std::string, std::string> attrs = node.attrs;
  if (p.spec->legacyReshape) {
    // Pre-0.9 Reshape: `target_shape` where 0 means "infer" (today's -1),
    // and `keep_highest` pins the first dimension (today's 0 = copy).
    auto ts = attrs.find("target_shape");
    auto kh = attrs.find("keep_highest");
    bool keepHighest =
        kh != attrs.end() && mx::parseBool(kh->second, where(id) + " attribute 'keep_highest'");
    auto shape = attrs.find("shape");
    bool hasShape = shape != attrs.end() && !mx::isNone(shape->second) &&
                    !mx::parseTuple(shape->second, where(id) + " attribute 'shape'").empty();
    if (!hasShape && ts != attrs.end() && !mx::isNone(ts->second)) {
      std::vector<int64_t> dims =
          mx::parseTuple(ts->second, where(id) + " attribute 'target_shape'");
      for (int64_t &d : dims)
        if (d == 0)
          d = -1;
      if (keepHighest && !dims.empty())
        dims[0] = 0;
      attrs["shape"] = mx::formatTuple(dims);
    } else if (keepHighest) {
      fail(id, "attribute 'keep_highest' needs the legacy 'target_shape'");
    }
    attrs.erase("target_shape");
    attrs.erase("keep_highest");
  }

  std::vector<int64_t> kernel;
  if (auto k = attrs.find("kernel"); k != attrs.end() && !mx::isNone(k->second))
    kernel = mx::parseTuple(k->second, where(id) + " attribute 'kernel'");

  std::set<std::string> seen;
  for (const auto &[key, value] : attrs) {
    std::string context = where(id) + " attribute '" + key + "'";
    if (const MXAttrSpec *aspec = p.spec->findAttr(key)) {
      seen.insert(key);
      if (mx::isNone(value)) {
        if (!aspec->mxDefault && !aspec->optional)
          fail(id, "attribute '" + key + "' is required but is None");
        continue; // MXNet's unset optional: the default applies
      }
      Attribute attr = parseAttr(&ctx, *aspec, value, context);
      // An optional attribute with a default (MXOptDef) keeps its default
      // explicitly: its absence means None.
      if (Attribute d = defaultAttr(&ctx, *aspec); d && d == attr && !aspec->optional)
        continue;
      p.attrs.set(aspec->name, attr);
      continue;
    }
    if (key == "no_bias" && hasBiasInput(*p.spec)) {
      mx::parseBool(value, context); // the catalog's input list decides
      continue;
    }
    if (key == "num_args" && isVariadic(*p.spec)) {
      int64_t num = mx::parseInt(value, context);
      if (num != (int64_t)node.inputs.size())
        fail(id, "attribute 'num_args' is " + std::to_string(num) + " but the node has " +
                     std::to_string(node.inputs.size()) + " inputs");
      continue;
    }
    bool extra = false;
    for (const MXIgnoredKey &k : p.spec->ignoredKeys)
      if (key == k.name) {
        extra = true;
        checkIgnoredKey(k, value, context, kernel);
      }
    if (extra || isUserHintKey(key))
      continue;
    fail(id, "unknown attribute '" + key + "' for operator " + p.spec->mxName);
  }
  for (const MXAttrSpec &a : p.spec->attrs) {
    if (((!a.mxDefault && !a.optional) || a.keyRequired) && !seen.count(a.name))
      fail(id, "missing required attribute '" + std::string(a.name) + "'" +
                   (a.keyRequired ? " (None is a value; MXNet requires the key)" : ""));
    if (a.mxDefault && a.optional && !seen.count(a.name))
      p.attrs.set(a.name, defaultAttr(&ctx, a));
  }

  try {
    p.inputNames = info->inputNames(node.attrs);
  } catch (const Error &e) {
    fail(id, e.what());
  }
  p.numAux = info->numAuxInputs;
  if (node.inputs.size() != p.inputNames.size())
    fail(id, "has " + std::to_string(node.inputs.size()) + " input" +
                 (node.inputs.size() == 1 ? "" : "s") + " but " + p.spec->mxName +
                 " with these attributes takes " + std::to_string(p.inputNames.size()) + " (" +
                 joinNames(p.inputNames) + ")");
  if (isVariadic(*p.spec) && node.inputs.empty())
    fail(id, "needs at least one input");

  if (p.spec->splitResults) {
    auto a = p.attrs.get("num_outputs");
    p.numResults = cast<IntegerAttr>(a).getInt();
    if (p.numResults < 1)
      fail(id, "attribute 'num_outputs' must be positive, not " + std::to_string(p.numResults));
  } else {
    // Outputs that other attributes make visible (topk's ret_typ = both,
    // RNN's state_outputs).
    p.numResults = mx::numOutputs(node);
  }

  for (const mx::NodeEntry &e : node.inputs) {
    const mx::Node &src = g.nodes[e.node];
    int64_t outputs = src.isVariable() ? 1 : prepared[e.node].numResults;
    if (e.index < 0 || e.index >= outputs)
      fail(id, "input refers to output " + std::to_string(e.index) + " of '" + src.name +
                   "', which has " + std::to_string(outputs) + " output" +
                   (outputs == 1 ? "" : "s"));
  }
}

void Importer::classify() {
  auto n = (int64_t)g.nodes.size();
  std::vector<bool> feedsLabel(n, false), feedsAux(n, false);
  for (int64_t id = 0; id < n; ++id) {
    if (!live[id] || g.nodes[id].isVariable())
      continue;
    const PreparedOp &p = prepared[id];
    const auto &inputs = g.nodes[id].inputs;
    for (size_t slot = 0; slot < inputs.size(); ++slot) {
      int64_t src = inputs[slot].node;
      if (!g.nodes[src].isVariable())
        continue;
      if (p.inputNames[slot] == "label")
        feedsLabel[src] = true;
      if ((int64_t)slot >= (int64_t)inputs.size() - p.numAux)
        feedsAux[src] = true;
    }
  }

  std::map<std::string, int64_t> variables;
  std::vector<ArgPlan> inputs, params, aux;
  for (int64_t id = 0; id < n; ++id) {
    const mx::Node &node = g.nodes[id];
    if (!live[id] || !node.isVariable())
      continue;
    if (!variables.emplace(node.name, id).second)
      fail(id, "two variables are named '" + node.name + "'");
    if (opts.inputShapes.count(node.name) || feedsLabel[id])
      inputs.push_back({id, ArgKind::Input});
    else if (feedsAux[id])
      aux.push_back({id, ArgKind::Aux});
    else
      params.push_back({id, ArgKind::Param});
  }
  args = inputs;
  args.insert(args.end(), params.begin(), params.end());
  args.insert(args.end(), aux.begin(), aux.end());

  auto listVariables = [&] {
    std::vector<std::string> names;
    for (const ArgPlan &a : args)
      names.push_back(g.nodes[a.node].name);
    return joinNames(names);
  };
  for (const auto &[name, shape] : opts.inputShapes)
    if (!variables.count(name))
      throw Error(file + ": input shape given for '" + name +
                  "', which is not a variable of the graph (variables: " + listVariables() + ")");
  for (const auto &[name, shape] : opts.paramShapes)
    if (!variables.count(name))
      throw Error(paramsFile + ": parameter '" + name + "' is not a variable of " + file +
                  " (variables: " + listVariables() + ")");
}

OwningOpRef<ModuleOp> Importer::build(bool withParamShapes) const {
  Location fileLoc = FileLineColLoc::get(&ctx, file, 0, 0);
  auto unranked = UnrankedTensorType::get(Float32Type::get(&ctx));
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  OpBuilder b(&ctx);
  b.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> argTypes;
  for (const ArgPlan &a : args) {
    const std::string &name = g.nodes[a.node].name;
    const std::vector<int64_t> *shape = nullptr;
    if (auto it = opts.inputShapes.find(name); it != opts.inputShapes.end())
      shape = &it->second;
    else if (auto it = opts.paramShapes.find(name);
             withParamShapes && it != opts.paramShapes.end())
      shape = &it->second;
    // MXNet's Variable(shape=...) hint, when complete (0 marks an unknown dim).
    std::vector<int64_t> hinted;
    if (auto h = g.nodes[a.node].hints.find("__shape__");
        !shape && h != g.nodes[a.node].hints.end() && !mx::isNone(h->second)) {
      try {
        hinted = mx::parseTuple(h->second, where(a.node) + " hint '__shape__'");
      } catch (const Error &) {
        hinted.clear(); // a hint, not a contract: ignore one that does not parse
      }
      if (!hinted.empty() && llvm::all_of(hinted, [](int64_t d) { return d > 0; }))
        shape = &hinted;
    }
    argTypes.push_back(shape ? Type(RankedTensorType::get(*shape, Float32Type::get(&ctx)))
                             : Type(unranked));
  }
  auto func = func::FuncOp::create(b, fileLoc, "main", b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  std::vector<std::vector<Value>> values(g.nodes.size());
  for (auto [i, a] : llvm::enumerate(args)) {
    const std::string &name = g.nodes[a.node].name;
    BlockArgument arg = entry->getArgument(i);
    arg.setLoc(NameLoc::get(b.getStringAttr(name), fileLoc));
    func.setArgAttr(i, kGraphNameAttr, b.getStringAttr(name));
    const char *kind = a.kind == ArgKind::Input ? "input" : a.kind == ArgKind::Param ? "param"
                                                                                      : "aux";
    func.setArgAttr(i, kGraphKindAttr, b.getStringAttr(kind));
    values[a.node] = {arg};
  }

  b.setInsertionPointToEnd(entry);
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const mx::Node &node = g.nodes[id];
    if (!live[id] || node.isVariable())
      continue;
    const PreparedOp &p = prepared[id];
    OperationState state(NameLoc::get(b.getStringAttr(node.name), fileLoc), p.spec->irName);
    for (const mx::NodeEntry &e : node.inputs)
      state.addOperands(values[e.node][e.index]);
    state.addAttributes(p.attrs);
    state.addTypes(SmallVector<Type>(p.numResults, unranked));
    Operation *op = b.create(state);
    values[id].assign(op->result_begin(), op->result_end());
  }

  SmallVector<Value> heads;
  for (const mx::NodeEntry &h : g.heads)
    heads.push_back(values[h.node][h.index]);
  func::ReturnOp::create(b, fileLoc, heads);
  func.setFunctionType(b.getFunctionType(argTypes, ValueRange(heads).getTypes()));
  for (auto [i, h] : llvm::enumerate(g.heads)) {
    const mx::Node &node = g.nodes[h.node];
    std::string name = node.name;
    if (!node.isVariable())
      name += prepared[h.node].numResults > 1 ? "_output" + std::to_string(h.index) : "_output";
    func.setResultAttr(i, kGraphNameAttr, b.getStringAttr(name));
  }
  return module;
}

// A given parameter shape that disagrees with the graph makes inference fail
// at some op with a message about that op. Inferring again with the given
// parameter shapes withheld tells which parameter is wrong, so the message
// can name it and its file.
void Importer::diagnoseParamShapes() const {
  if (opts.paramShapes.empty())
    return;
  OwningOpRef<ModuleOp> module = build(/*withParamShapes=*/false);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  {
    DiagnosticCollector quiet(ctx, [](Location) { return std::string(); });
    if (failed(inferFunctionShapes(func)))
      return;
  }
  for (auto [i, a] : llvm::enumerate(args)) {
    const std::string &name = g.nodes[a.node].name;
    auto given = opts.paramShapes.find(name);
    if (given == opts.paramShapes.end() || opts.inputShapes.count(name))
      continue;
    auto inferred = dyn_cast<RankedTensorType>(func.getArgument(i).getType());
    if (!inferred || std::vector<int64_t>(inferred.getShape().begin(),
                                          inferred.getShape().end()) == given->second)
      continue;
    // The first consumer in program order is the node whose rule fixed it.
    Operation *user = nullptr;
    for (Operation *u : func.getArgument(i).getUsers())
      if (!user || u->isBeforeInBlock(user))
        user = u;
    std::string needs = user ? "node '" + nameOf(user->getLoc()) + "' needs" : "the graph needs";
    std::vector<int64_t> shape(inferred.getShape().begin(), inferred.getShape().end());
    throw Error(argWord(a.kind) + " '" + name + "' in " + paramsFile + " has shape " +
                formatShape(given->second) + " but " + needs + " " + formatShape(shape));
  }
}

void Importer::requireKnownShapes(func::FuncOp func) const {
  for (auto [i, a] : llvm::enumerate(args)) {
    if (isa<RankedTensorType>(func.getArgument(i).getType()))
      continue;
    const std::string &name = g.nodes[a.node].name;
    std::string hint = a.kind == ArgKind::Input
                           ? "; give it with --input-shape " + name + "=D0,D1,..."
                           : "; give the data inputs' shapes (--input-shape) or the parameter "
                             "in --params";
    throw Error(file + ": cannot infer the shape of " + argWord(a.kind) + " '" + name + "'" +
                hint);
  }
  // No throwing from inside the walk: MLIR is built without exceptions.
  Operation *unknown = nullptr;
  func.walk([&](Operation *op) {
    for (Value v : op->getResults())
      if (!unknown && !isa<RankedTensorType>(v.getType()))
        unknown = op;
  });
  if (unknown)
    throw Error(file + ": cannot infer the output shape of node '" + nameOf(unknown->getLoc()) +
                "'");
}

OwningOpRef<ModuleOp> Importer::run() {
  ctx.loadDialect<func::FuncDialect, graph::GraphDialect>();
  checkEntries();
  prepared.assign(g.nodes.size(), PreparedOp());
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    nodeByName.emplace(g.nodes[id].name, id);
    if (live[id] && !g.nodes[id].isVariable())
      prepare(id);
  }
  classify();

  OwningOpRef<ModuleOp> module = build(/*withParamShapes=*/true);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  DiagnosticCollector diags(ctx, [this](Location l) { return describeLoc(l); });
  if (opts.inferShapes && failed(inferFunctionShapes(func))) {
    diagnoseParamShapes();
    throw Error(diags.empty() ? file + ": shape inference failed" : diags.text());
  }
  if (failed(verify(*module))) {
    diagnoseParamShapes();
    throw Error(diags.empty() ? file + ": the imported graph does not verify" : diags.text());
  }
  if (opts.inferShapes) {
    requireKnownShapes(func);
    // inferFunctionShapes never rewrites a ranked argument, but a given shape
    // must hold whatever the pass does.
    for (auto [i, a] : llvm::enumerate(args)) {
      const std::string &name = g.nodes[a.node].name;
      auto given = opts.paramShapes.find(name);
      if (given == opts.paramShapes.end() || opts.inputShapes.count(name))
        continue;
      auto t = cast<RankedTensorType>(func.getArgument(i).getType());
      if (std::vector<int64_t>(t.getShape().begin(), t.getShape().end()) != given->second)
        throw Error(argWord(a.kind) + " '" + name + "' in " + paramsFile + " has shape " +
                    formatShape(given->second) + " but the graph needs " +
                    formatShape(std::vector<int64_t>(t.getShape().begin(),
                                                     t.getShape().end())));
    }
  }
  return module;
}

} // namespace

OwningOpRef<ModuleOp> importGraph(MLIRContext &ctx, const mx::Graph &g,
                                  const ImportOptions &opts) {
  return Importer(ctx, g, opts).run();
}

ArgKind argKind(func::FuncOp f, unsigned index) {
  auto kind = f.getArgAttrOfType<StringAttr>(index, kGraphKindAttr);
  if (kind && kind.getValue() == "param")
    return ArgKind::Param;
  if (kind && kind.getValue() == "aux")
    return ArgKind::Aux;
  return ArgKind::Input;
}

std::string argName(func::FuncOp f, unsigned index) {
  if (auto name = f.getArgAttrOfType<StringAttr>(index, kGraphNameAttr))
    return name.str();
  return "arg" + std::to_string(index);
}

std::string resultName(func::FuncOp f, unsigned index) {
  if (auto name = f.getResultAttrOfType<StringAttr>(index, kGraphNameAttr))
    return name.str();
  return "output" + std::to_string(index);
}

} // namespace kiln
