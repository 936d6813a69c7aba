//===- Import.h - MXNet graphs <-> the graph dialect ------------*- C++ -*-===//
//
//   mx::Graph ──importGraph──▶ module { func.func @main } ──exportGraph──▶ mx::Graph
//
// The imported function's arguments are, in order: the data inputs (the
// variables named in ImportOptions::inputShapes plus every variable feeding a
// loss head's `label`), the learnable parameters (every other variable that is
// not an auxiliary state), then the auxiliary states (variables feeding an
// op's aux slots, e.g. BatchNorm moving_mean/moving_var); within each group in
// node order. Each argument carries `graph.name` (the variable name) and
// `graph.kind` ("input" | "param" | "aux"); each result carries `graph.name`,
// MXNet's ListOutputs name ("<node>_output", "<node>_output<i>" for
// multi-output ops, or the variable's own name). Each op's location is
// NameLoc(node name, FileLineColLoc(fileName)). See docs/import.md.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_IMPORT_H
#define KILN_IMPORT_IMPORT_H

#include "Import/MXNetGraph.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln {

/// Argument attribute: the MXNet variable name (StringAttr).
inline constexpr const char *kGraphNameAttr = "graph.name";
/// Argument attribute: "input", "param" or "aux" (StringAttr).
inline constexpr const char *kGraphKindAttr = "graph.kind";

struct ImportOptions {
  /// Names the model in messages and op locations.
  std::string fileName;
  /// Shapes of data inputs (--input-shape). Every name must be a variable.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Known shapes of parameters and aux states (from .params). Every name
  /// must be a variable of the graph.
  std::map<std::string, std::vector<int64_t>> paramShapes;
  /// Names where paramShapes came from, in messages; defaults to fileName.
  std::string paramsFileName;
  /// Run kiln::inferFunctionShapes and require every shape to be known.
  bool inferShapes = true;
};

/// Converts `g` to a module holding one `func.func @main` in the graph
/// dialect (see the file comment for its signature). Loads the func and
/// graph dialects into `ctx`. Throws kiln::Error naming the file and the
/// node/argument at fault: unknown op, unsupported or malformed attribute,
/// wrong arity, dangling input, a shape that cannot be inferred, a given
/// parameter shape the graph disagrees with. MLIR diagnostics raised while
/// importing become part of that message; none are printed.
mlir::OwningOpRef<mlir::ModuleOp> importGraph(mlir::MLIRContext &ctx, const mx::Graph &g,
                                              const ImportOptions &opts);

/// Converts a graph-dialect function back to an MXNet graph: canonical 1.x op
/// names, MXNet strings for every non-default attribute (plus `no_bias` and
/// `num_args`, which MXNet wants explicit), one variable per argument named by
/// `graph.name` (in argument order, ahead of the ops), node names from each
/// op's NameLoc (unique names are generated where absent or repeated), heads
/// from the return. importGraph(exportGraph(f)) prints identically to f when
/// every argument is used. Throws kiln::Error on an op with no MXNet form.
mx::Graph exportGraph(mlir::func::FuncOp f);

/// The argument kind recorded by importGraph ("input" when absent).
enum class ArgKind { Input, Param, Aux };
ArgKind argKind(mlir::func::FuncOp f, unsigned index);
/// `graph.name` of argument `index`, or "arg<index>" when absent.
std::string argName(mlir::func::FuncOp f, unsigned index);
/// `graph.name` of result `index`, or "output<index>" when absent.
std::string resultName(mlir::func::FuncOp f, unsigned index);

} // namespace kiln

#endif // KILN_IMPORT_IMPORT_H
