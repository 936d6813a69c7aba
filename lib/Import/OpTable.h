//===- OpTable.h - MXNet operator <-> graph-dialect op table ----*- C++ -*-===//
//
// Private to KilnImport. One row per MXNet operator Kiln imports: the graph
// op it becomes, each attribute's kind and MXNet default (as MXNet's string),
// and the MXNet keys that are accepted without becoming an attribute
// (performance hints, or values Kiln supports only in one setting). The
// importer and the exporter both read this table, so the two directions
// cannot disagree about a name or a default.
//
// Every IR attribute has the MXNet key's name, so one name serves both sides.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_OPTABLE_H
#define KILN_IMPORT_OPTABLE_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/MLIRContext.h"

#include <string>
#include <vector>

namespace kiln::importer {

enum class AttrKind { Int, Bool, F32, F64, Tuple, Enum };

struct EnumCodec {
  /// The attribute for an MXNet enum string, or a null attribute.
  mlir::Attribute (*parse)(mlir::MLIRContext *, const std::string &);
  std::string (*format)(mlir::Attribute);
  /// "relu, sigmoid, ..." for messages.
  std::string (*cases)();
};

struct AttrSpec {
  const char *name;
  AttrKind kind;
  /// MXNet's default as MXNet writes it; nullptr when the attribute is
  /// required (IR attribute without default) or optional (`optional`).
  const char *mxDefault = nullptr;
  /// OptionalAttr in the IR: MXNet's "None" (or absence) leaves it unset.
  bool optional = false;
  const EnumCodec *enumCodec = nullptr;
};

/// Checks the value of an accepted-but-dropped MXNet key; throws kiln::Error
/// (with `context` in the message) when Kiln cannot honour it.
using ExtraKeyCheck = void (*)(const std::string &value, const std::string &context,
                               const std::vector<int64_t> &kernel);
struct ExtraKey {
  const char *name;
  ExtraKeyCheck check; // nullptr: any value is fine
};

enum class BiasRule { None, NoBiasDefaultFalse, NoBiasDefaultTrue };

struct OpSpec {
  /// Canonical MXNet 1.x name, written by the exporter.
  const char *mxName;
  /// Graph-dialect op name, e.g. "graph.fully_connected".
  const char *irName;
  std::vector<AttrSpec> attrs;
  std::vector<ExtraKey> extraKeys;
  /// How MXNet's `no_bias` maps to the optional bias operand.
  BiasRule bias = BiasRule::None;
  /// Variadic ops carry MXNet's `num_args` (= operand count).
  bool numArgs = false;
  /// Results come from `num_outputs` (split) rather than being one.
  bool splitResults = false;
  /// Reshape: legacy `target_shape` / `keep_highest` turn into `shape`.
  bool legacyReshape = false;
};

/// The row for a canonical MXNet name or alias; nullptr when unsupported.
const OpSpec *lookupByMXName(const std::string &name);
/// The row for a graph op name ("graph.convolution"); nullptr when none.
const OpSpec *lookupByIRName(llvm::StringRef name);
/// Every row once (aliases excluded), for tests and docs.
const std::vector<OpSpec> &allOpSpecs();

/// Converts an MXNet attribute string to the IR attribute. Throws kiln::Error
/// naming `context` on a malformed value.
mlir::Attribute parseAttr(mlir::MLIRContext *ctx, const AttrSpec &spec,
                          const std::string &value, const std::string &context);
/// Formats an IR attribute the way MXNet writes it.
std::string formatAttr(const AttrSpec &spec, mlir::Attribute attr);
/// The IR attribute for the spec's MXNet default (null when it has none).
mlir::Attribute defaultAttr(mlir::MLIRContext *ctx, const AttrSpec &spec);

} // namespace kiln::importer

#endif // KILN_IMPORT_OPTABLE_H
