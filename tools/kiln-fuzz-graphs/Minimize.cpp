//===- Minimize.cpp - Delta debugging of failing graphs, reproductions ---===//
//
// Greedy delta debugging: each round tries, one at a time, to drop a graph
// output, to replace an operator by fresh variables of its output shapes
// (cutting everything above it), to bypass an operator whose output has
// its input's shape, to shrink a variable's dimensions (one variable, or
// every variable sharing a dimension, for ops that need equal shapes) and
// to narrow layers (num_hidden, num_filter, output_dim). A candidate is kept
// when the caller's predicate still fails on it; rounds repeat until none
// is kept.
//
//===----------------------------------------------------------------------===//

#include "GraphFuzz.h"

#include "Import/MXNetAttrs.h"
#include "Import/Model.h"
#include "kiln/Error.h"
#include "runtime/io/File.h"
#include "runtime/io/NDArrayFile.h"
#include "runtime/io/Npy.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"

#include <set>

#ifndef KILN_SOURCE_DIR
#define KILN_SOURCE_DIR "."
#endif

namespace kiln::fuzz {

void pruneUnreachable(FuzzGraph &g) {
  std::vector<mx::Node> &nodes = g.graph.nodes;
  std::vector<bool> live(nodes.size(), false);
  for (const mx::NodeEntry &h : g.graph.heads)
    live[h.node] = true;
  for (size_t i = nodes.size(); i-- > 0;)
    if (live[i])
      for (const mx::NodeEntry &e : nodes[i].inputs)
        live[e.node] = true;
  std::vector<int64_t> newId(nodes.size(), -1);
  std::vector<mx::Node> kept;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (live[i]) {
      newId[i] = int64_t(kept.size());
      kept.push_back(std::move(nodes[i]));
    } else if (nodes[i].isVariable()) {
      g.vars.erase(nodes[i].name);
    } else {
      g.expectedShapes.erase(nodes[i].name);
    }
  }
  for (mx::Node &n : kept)
    for (mx::NodeEntry &e : n.inputs)
      e.node = newId[e.node];
  for (mx::NodeEntry &h : g.graph.heads)
    h.node = newId[h.node];
  nodes = std::move(kept);
}

namespace {

Shape shapeOf(mlir::Type t) {
  if (auto r = mlir::dyn_cast<mlir::RankedTensorType>(t))
    return Shape(r.getShape().begin(), r.getShape().end());
  return {};
}

/// Output shapes of every op node, by node name, from Kiln's importer (the
/// graph being minimized always imports).
std::map<std::string, std::vector<Shape>> inferredShapes(const FuzzGraph &g) {
  mlir::MLIRContext ctx;
  LoadedModel model = loadModel(ctx, g.graph, "fuzz-graph", "", g.inputShapes());
  std::map<std::string, std::vector<Shape>> shapes;
  model.mainFunc().walk([&](mlir::Operation *op) {
    if (auto loc = llvm::dyn_cast<mlir::NameLoc>(op->getLoc())) {
      std::vector<Shape> results;
      for (mlir::Type t : op->getResultTypes())
        results.push_back(shapeOf(t));
      shapes[loc.getName().str()] = results;
    }
  });
  return shapes;
}

int64_t findNode(const FuzzGraph &g, const std::string &name) {
  for (size_t i = 0; i < g.graph.nodes.size(); ++i)
    if (g.graph.nodes[i].name == name)
      return int64_t(i);
  return -1;
}

/// `g` with node `id` replaced by the variables `vars` (one per output of
/// `id`, in order): every use of output i now reads vars[i].
FuzzGraph replaceNode(const FuzzGraph &g, int64_t id, const std::vector<mx::Node> &vars) {
  FuzzGraph c = g;
  int64_t k = int64_t(vars.size());
  auto remap = [&](mx::NodeEntry e) -> mx::NodeEntry {
    if (e.node == id)
      return {id + e.index, 0};
    if (e.node > id)
      return {e.node + k - 1, e.index};
    return e;
  };
  std::vector<mx::Node> nodes(g.graph.nodes.begin(), g.graph.nodes.begin() + id);
  nodes.insert(nodes.end(), vars.begin(), vars.end());
  nodes.insert(nodes.end(), g.graph.nodes.begin() + id + 1, g.graph.nodes.end());
  for (mx::Node &n : nodes)
    for (mx::NodeEntry &e : n.inputs)
      e = remap(e);
  for (mx::NodeEntry &h : c.graph.heads)
    h = remap(h);
  c.graph.nodes = std::move(nodes);
  return c;
}

/// `g` with every use of `from` reading `to` instead.
FuzzGraph redirect(const FuzzGraph &g, mx::NodeEntry from, mx::NodeEntry to) {
  FuzzGraph c = g;
  for (mx::Node &n : c.graph.nodes)
    for (mx::NodeEntry &e : n.inputs)
      if (e == from)
        e = to;
  for (mx::NodeEntry &h : c.graph.heads)
    if (h == from)
      h = to;
  return c;
}

class Minimizer {
public:
  Minimizer(const FuzzGraph &start, const std::function<bool(const FuzzGraph &)> &stillFails,
            const std::function<void(const std::string &)> &log)
      : best(start), stillFails(stillFails), log(log) {
    best.expectedShapes.clear();
  }

  FuzzGraph run() {
    bool progress = true;
    while (progress && budgetLeft()) {
      progress = false;
      progress |= dropOutputs();
      progress |= cutOperators();
      progress |= shrinkShapes();
      progress |= narrowLayers();
    }
    return best;
  }

private:
  FuzzGraph best;
  const std::function<bool(const FuzzGraph &)> &stillFails;
  const std::function<void(const std::string &)> &log;
  int evaluations = 0;
  static constexpr int kMaxEvaluations = 400;

  bool budgetLeft() const { return evaluations < kMaxEvaluations; }

  bool attempt(FuzzGraph candidate, const std::string &what) {
    if (!budgetLeft())
      return false;
    pruneUnreachable(candidate);
    ++evaluations;
    if (!stillFails(candidate))
      return false;
    best = std::move(candidate);
    log(what + " (" + std::to_string(best.numOps()) + " ops, " +
        std::to_string(best.graph.heads.size()) + " outputs left)");
    return true;
  }

  bool dropOutputs() {
    bool progress = false;
    for (size_t i = best.graph.heads.size(); i-- > 0 && best.graph.heads.size() > 1;) {
      FuzzGraph c = best;
      c.graph.heads.erase(c.graph.heads.begin() + i);
      progress |= attempt(std::move(c), "dropped output " + std::to_string(i));
    }
    return progress;
  }

  bool cutOperators() {
    bool progress = false;
    std::vector<std::string> names;
    for (const mx::Node &n : best.graph.nodes)
      if (!n.isVariable())
        names.push_back(n.name);
    std::map<std::string, std::vector<Shape>> shapes = inferredShapes(best);
    for (const std::string &name : names) {
      int64_t id = findNode(best, name);
      if (id < 0)
        continue;
      bool isHead = std::any_of(best.graph.heads.begin(), best.graph.heads.end(),
                                [&](const mx::NodeEntry &h) { return h.node == id; });
      auto it = shapes.find(name);
      // Its outputs become fresh variables: data-like values first, then
      // positive ones (the operator may have fed a denominator).
      if (!isHead && it != shapes.end()) {
        bool replaced = false;
        for (VarRole role : {VarRole::Data, VarRole::Scale}) {
          std::vector<mx::Node> vars;
          FuzzGraph c = best;
          for (size_t i = 0; i < it->second.size(); ++i) {
            mx::Node v;
            v.op = "null";
            v.name = name + "_out" + std::to_string(i);
            v.hints["__shape__"] = mx::formatTuple(it->second[i]);
            vars.push_back(v);
          }
          c = replaceNode(best, id, vars);
          for (const mx::Node &v : vars)
            c.vars[v.name] = VarInfo{role};
          if (attempt(std::move(c), "replaced " + name + " by a variable")) {
            replaced = progress = true;
            break;
          }
        }
        if (replaced)
          continue;
      }
      // Bypass: its first input takes its place when the shapes agree.
      id = findNode(best, name);
      const mx::Node &n = best.graph.nodes[id];
      if (n.inputs.empty() || it == shapes.end() || it->second.size() != 1)
        continue;
      mx::NodeEntry in = n.inputs[0];
      const mx::Node &producer = best.graph.nodes[in.node];
      Shape inShape;
      if (producer.isVariable()) {
        auto hint = producer.hints.find("__shape__");
        if (hint != producer.hints.end())
          inShape = mx::parseTuple(hint->second, producer.name);
      } else if (auto p = shapes.find(producer.name); p != shapes.end()) {
        inShape = p->second[in.index];
      }
      if (inShape == it->second[0])
        progress |= attempt(redirect(best, {id, 0}, in), "bypassed " + name);
    }
    return progress;
  }

  /// Variables whose shapes the graph states (the others are inferred).
  std::vector<std::pair<std::string, Shape>> hintedShapes() const {
    std::vector<std::pair<std::string, Shape>> out;
    for (const mx::Node &n : best.graph.nodes)
      if (n.isVariable())
        if (auto h = n.hints.find("__shape__"); h != n.hints.end())
          out.push_back({n.name, mx::parseTuple(h->second, n.name)});
    return out;
  }

  FuzzGraph withShapes(const std::map<std::string, Shape> &changes) const {
    FuzzGraph c = best;
    for (mx::Node &n : c.graph.nodes)
      if (auto it = changes.find(n.name); it != changes.end())
        n.hints["__shape__"] = mx::formatTuple(it->second);
    return c;
  }

  bool shrinkShapes() {
    bool progress = false;
    // Every variable with dimension j of size d at once (equal-shape
    // operands must shrink together), then one variable at a time.
    for (size_t j = 0; j < 6; ++j) {
      std::set<int64_t> sizes;
      for (const auto &[name, shape] : hintedShapes())
        if (j < shape.size() && shape[j] > 1)
          sizes.insert(shape[j]);
      for (int64_t d : sizes)
        for (int64_t smaller : {int64_t(1), d / 2}) {
          if (smaller < 1 || smaller >= d)
            continue;
          std::map<std::string, Shape> changes;
          for (auto [name, shape] : hintedShapes())
            if (j < shape.size() && shape[j] == d) {
              shape[j] = smaller;
              changes[name] = shape;
            }
          if (attempt(withShapes(changes), "dimension " + std::to_string(j) + " " +
                                               std::to_string(d) + " -> " +
                                               std::to_string(smaller) + " everywhere")) {
            progress = true;
            break;
          }
        }
    }
    for (const auto &[name, original] : hintedShapes())
      for (size_t j = 0; j < original.size(); ++j) {
        Shape now = original;
        for (int64_t smaller : {int64_t(1), original[j] / 2}) {
          if (smaller < 1 || smaller >= now[j])
            continue;
          Shape s = now;
          s[j] = smaller;
          if (attempt(withShapes({{name, s}}), name + " shape -> " + formatShape(s))) {
            progress = true;
            now = s;
            break;
          }
        }
      }
    return progress;
  }

  bool narrowLayers() {
    bool progress = false;
    for (size_t i = 0; i < best.graph.nodes.size(); ++i)
      for (const char *key : {"num_hidden", "num_filter", "output_dim"}) {
        auto it = best.graph.nodes[i].attrs.find(key);
        if (it == best.graph.nodes[i].attrs.end())
          continue;
        int64_t v = mx::parseInt(it->second, key);
        for (int64_t smaller : {int64_t(1), v / 2}) {
          if (smaller < 1 || smaller >= v)
            continue;
          FuzzGraph c = best;
          c.graph.nodes[i].attrs[key] = std::to_string(smaller);
          if (attempt(std::move(c), best.graph.nodes[i].name + " " + key + " -> " +
                                        std::to_string(smaller))) {
            progress = true;
            break;
          }
        }
      }
    return progress;
  }
};

} // namespace

FuzzGraph minimize(const FuzzGraph &graph,
                   const std::function<bool(const FuzzGraph &)> &stillFails,
                   const std::function<void(const std::string &)> &log) {
  return Minimizer(graph, stillFails, log).run();
}

void writeReproduction(const std::string &dir, const FuzzGraph &graph, Mode mode,
                       uint64_t valueSeed, const std::string &summary, const ArgValues *known) {
  ArgValues args;
  if (known)
    args = *known;
  else
    evaluate(graph, mode, valueSeed, {}, &args);
  mlir::MLIRContext ctx;
  LoadedModel model = loadModel(ctx, graph.graph, "fuzz-graph", "", graph.inputShapes());
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    throw Error("cannot create '" + dir + "': " + ec.message());

  writeFileAtomically(dir + "/model-symbol.json", graph.toJSON());
  NDArrayList params;
  std::string runArgs = "model-symbol.json --params model-0000.params";
  // run.json: the same for tools (scripts/fuzz-graphs-mxnet.py).
  std::string inputsJSON, headGradsJSON;
  auto jsonEntry = [](std::string &list, const std::string &key, const std::string &value) {
    list += (list.empty() ? "" : ", ") + ("\"" + key + "\": \"" + value + "\"");
  };
  std::set<std::string> modelArgs;
  for (const ModelArg &a : model.args) {
    modelArgs.insert(a.name);
    auto value = args.find(a.name);
    if (value == args.end())
      continue;
    if (a.kind == ModelArg::Input) {
      writeNpy(dir + "/" + a.name + ".npy", value->second);
      runArgs += " --input " + a.name + "=" + a.name + ".npy";
      jsonEntry(inputsJSON, a.name, a.name + ".npy");
    } else {
      params.names.push_back((a.kind == ModelArg::Param ? "arg:" : "aux:") + a.name);
      params.arrays.push_back(value->second);
    }
  }
  saveNDArrayFile(dir + "/model-0000.params", params);
  if (mode == Mode::Training)
    runArgs += " --train";
  if (mode == Mode::Backward) {
    runArgs += " --backward";
    for (const auto &[name, value] : args) {
      if (modelArgs.count(name) || name.size() < 5 ||
          name.compare(name.size() - 5, 5, "_grad") != 0)
        continue;
      std::string head = name.substr(0, name.size() - 5);
      writeNpy(dir + "/head-" + head + ".npy", value);
      runArgs += " --head-grad " + head + "=head-" + head + ".npy";
      jsonEntry(headGradsJSON, head, "head-" + head + ".npy");
    }
  }

  std::string script =
      "#!/bin/sh\n"
      "# kiln-fuzz-graphs reproduction: the compiled engine against the reference\n"
      "# interpreter on the same model and arrays (see README.txt).\n"
      "# KILN_RUN: the kiln-run to use; KILN_SRC: Kiln's source tree.\n"
      "set -e\n"
      "cd \"$(dirname \"$0\")\"\n"
      "KILN_RUN=\"${KILN_RUN:-kiln-run}\"\n"
      "KILN_SRC=\"${KILN_SRC:-" KILN_SOURCE_DIR "}\"\n"
      "rm -rf compiled reference\n"
      "\"$KILN_RUN\" " + runArgs + " --output-dir compiled\n" +
      "\"$KILN_RUN\" " + runArgs + " --engine=reference --output-dir reference\n" +
      "python3 \"$KILN_SRC/scripts/compare-npy-dirs.py\" compiled reference\n";
  writeFileAtomically(dir + "/replay.sh", script);
  llvm::sys::fs::setPermissions(dir + "/replay.sh", llvm::sys::fs::all_read |
                                                        llvm::sys::fs::all_exe |
                                                        llvm::sys::fs::owner_write);
  writeFileAtomically(dir + "/run.json", std::string("{\"mode\": \"") + modeName(mode) +
                                            "\", \"inputs\": {" + inputsJSON +
                                            "}, \"head_grads\": {" + headGradsJSON + "}}\n");
  writeFileAtomically(dir + "/README.txt",
                      summary + "\n\nReplay: sh replay.sh (kiln-run " + runArgs +
                          ", compiled and --engine=reference, then compare-npy-dirs.py).\n");
}

} // namespace kiln::fuzz
