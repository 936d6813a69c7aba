//===- Model.cpp - Loading and saving whole models for the tools ----------===//

#include "Import/Model.h"

#include "API/SymbolInternal.h"
#include "Import/MXNetGraph.h"
#include "kiln/Error.h"
#include "kiln/Zoo.h"
#include "runtime/io/File.h"
#include "runtime/io/NDArrayFile.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cstdio>
#include <set>

using namespace mlir;

namespace kiln {

mlir::func::FuncOp LoadedModel::mainFunc() {
  if (!module)
    return {};
  return module->lookupSymbol<func::FuncOp>("main");
}

namespace {

std::vector<int64_t> shapeOf(Type t) {
  if (auto r = dyn_cast<RankedTensorType>(t))
    return std::vector<int64_t>(r.getShape().begin(), r.getShape().end());
  return {};
}

mx::Graph zooGraph(const std::string &model,
                   const std::map<std::string, std::vector<int64_t>> &inputShapes,
                   const zoo::ZooOptions *given) {
  std::string name = model.substr(4);
  zoo::ZooOptions options;
  if (given) {
    options = *given;
  } else {
    auto data = inputShapes.find("data");
    if (data == inputShapes.end() || data->second.size() < 2)
      throw Error(model + ": a zoo network is built for its input shape; give it with "
                          "--input-shape data=N,C,H,W");
    options.numClasses = 10;
    options.imageShape.assign(data->second.begin() + 1, data->second.end());
  }
  return detail::graphOf(zoo::build(name, options));
}

std::string stripPrefix(const std::string &name) {
  if (name.rfind("arg:", 0) == 0 || name.rfind("aux:", 0) == 0)
    return name.substr(4);
  return name;
}

} // namespace

LoadedModel loadModel(MLIRContext &ctx, const std::string &model,
                      const std::string &paramsPath,
                      const std::map<std::string, std::vector<int64_t>> &inputShapes,
                      const zoo::ZooOptions *zooOptions) {
  mx::Graph graph = model.rfind("zoo:", 0) == 0 ? zooGraph(model, inputShapes, zooOptions)
                                                : mx::loadSymbolFile(model);
  return loadModel(ctx, graph, model, paramsPath, inputShapes);
}

LoadedModel loadModel(MLIRContext &ctx, const mx::Graph &graph, const std::string &model,
                      const std::string &paramsPath,
                      const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  LoadedModel loaded;
  loaded.fileName = model;
  ImportOptions opts;
  opts.fileName = model;
  opts.inputShapes = inputShapes;
  opts.paramsFileName = paramsPath;

  if (!paramsPath.empty()) {
    NDArrayList list = loadNDArrayFile(paramsPath);
    if (list.names.empty() && !list.arrays.empty())
      throw Error(paramsPath + ": the arrays have no names, so they cannot be matched to the "
                               "parameters of " + model);
    std::set<std::string> variables;
    for (const mx::Node &n : graph.nodes)
      if (n.isVariable())
        variables.insert(n.name);
    for (size_t i = 0; i < list.names.size(); ++i) {
      std::string name = stripPrefix(list.names[i]);
      if (!variables.count(name))
        throw Error(paramsPath + ": '" + list.names[i] + "' is not a variable of " + model +
                    " (a misspelt or foreign parameter)");
      if (!loaded.params.emplace(name, std::move(list.arrays[i])).second)
        throw Error(paramsPath + ": parameter '" + name + "' appears twice");
    }
    for (const auto &[name, value] : loaded.params)
      if (!inputShapes.count(name))
        opts.paramShapes[name] = value.shape;
  }

  loaded.module = importGraph(ctx, graph, opts);
  func::FuncOp f = loaded.mainFunc();
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    ArgKind k = argKind(f, i);
    loaded.args.push_back({argName(f, i),
                           k == ArgKind::Input   ? ModelArg::Input
                           : k == ArgKind::Param ? ModelArg::Param
                                                 : ModelArg::Aux,
                           shapeOf(f.getArgument(i).getType())});
  }
  for (unsigned i = 0; i < f.getNumResults(); ++i)
    loaded.outputNames.push_back(resultName(f, i));
  return loaded;
}

std::string checkpointParamsPath(const std::string &prefix, int epoch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%04d.params", epoch);
  return prefix + buf;
}

void saveCheckpoint(const std::string &prefix, int epoch, func::FuncOp f,
                    const std::map<std::string, Tensor> &values) {
  std::string paramsPath = checkpointParamsPath(prefix, epoch);
  // Everything is checked before anything is written, so a bad call leaves
  // no half checkpoint behind.
  NDArrayList list;
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    ArgKind k = argKind(f, i);
    if (k == ArgKind::Input)
      continue;
    std::string name = argName(f, i);
    auto it = values.find(name);
    if (it == values.end())
      throw Error(paramsPath + ": no value for " +
                  std::string(k == ArgKind::Param ? "parameter" : "aux state") + " '" + name +
                  "'");
    Type t = f.getArgument(i).getType();
    if (isa<RankedTensorType>(t) && shapeOf(t) != it->second.shape)
      throw Error(paramsPath + ": value for '" + name + "' has shape " +
                  formatShape(it->second.shape) + " but the model needs " +
                  formatShape(shapeOf(t)));
    if ((int64_t)it->second.values.size() != it->second.size())
      throw Error(paramsPath + ": value for '" + name + "' has " +
                  std::to_string(it->second.values.size()) + " elements for shape " +
                  formatShape(it->second.shape));
    list.names.push_back((k == ArgKind::Param ? "arg:" : "aux:") + name);
    list.arrays.push_back(it->second);
  }
  std::string json = mx::writeSymbolJSON(exportGraph(f));
  writeFileAtomically(prefix + "-symbol.json", json);
  saveNDArrayFile(paramsPath, list);
}

} // namespace kiln
