//===- Model.h - Loading and saving whole models for the tools --*- C++ -*-===//
//
// What kiln-run, kiln-compile and kiln-train share: a model argument
// ("zoo:NAME" or MODEL-symbol.json) plus an optional .params file becomes an
// imported, shape-inferred graph-dialect module with the parameter values
// beside it; and a function plus values becomes an MXNet checkpoint.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_MODEL_H
#define KILN_IMPORT_MODEL_H

#include "Import/Import.h"
#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::mx {
struct Graph;
} // namespace kiln::mx

namespace kiln::zoo {
struct ZooOptions;
} // namespace kiln::zoo

namespace kiln {

struct ModelArg {
  std::string name;
  enum Kind { Input, Param, Aux } kind;
  std::vector<int64_t> shape;
};

struct LoadedModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// In function-argument order: inputs, then params, then aux states.
  std::vector<ModelArg> args;
  /// MXNet's ListOutputs names, in head order.
  std::vector<std::string> outputNames;
  /// Values from the params file, keyed by variable name (no arg:/aux:).
  /// Only names the graph uses; missing ones are for the tool to report.
  std::map<std::string, kiln::Tensor> params;
  /// The model's source, as used in messages ("zoo:lenet" or the path).
  std::string fileName;

  mlir::func::FuncOp mainFunc();
};

/// Loads `model` ("zoo:NAME" or a path to a symbol JSON file of any era),
/// reads `paramsPath` when not empty, and imports with the given input shapes
/// and the params' shapes, inferring every other shape.
///
/// Params are matched by name, with or without MXNet's "arg:" / "aux:"
/// prefix. A name that is not a variable of the graph is an error naming it
/// and the file (a typo must not pass silently); so is an unnamed or
/// duplicated entry. A parameter the file lacks is not an error here.
///
/// For "zoo:NAME" without `zooOptions`, the network is built for the `data`
/// input shape (N, C, H, W): imageShape (C, H, W), 10 classes. Throws
/// kiln::Error naming the file and the node/argument at fault.
LoadedModel loadModel(mlir::MLIRContext &ctx, const std::string &model,
                      const std::string &paramsPath,
                      const std::map<std::string, std::vector<int64_t>> &inputShapes,
                      const kiln::zoo::ZooOptions *zooOptions = nullptr);

/// The same for a graph already in memory (a Symbol API network); `model`
/// names it in messages.
LoadedModel loadModel(mlir::MLIRContext &ctx, const mx::Graph &graph, const std::string &model,
                      const std::string &paramsPath,
                      const std::map<std::string, std::vector<int64_t>> &inputShapes);

/// Writes the MXNet checkpoint PREFIX-symbol.json (exportGraph +
/// writeSymbolJSON) and PREFIX-EPOCH.params (4-digit epoch; V2 records named
/// "arg:NAME" / "aux:NAME" for every param / aux argument of `f`), each
/// atomically. Throws kiln::Error naming an argument `values` lacks or whose
/// value has the wrong shape.
void saveCheckpoint(const std::string &prefix, int epoch, mlir::func::FuncOp f,
                    const std::map<std::string, kiln::Tensor> &values);

/// "PREFIX-0007.params".
std::string checkpointParamsPath(const std::string &prefix, int epoch);

} // namespace kiln

#endif // KILN_IMPORT_MODEL_H
