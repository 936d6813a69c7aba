//===- OpTable.h - MXNet operator strings <-> graph-dialect ops -*- C++ -*-===//
//
// Private to KilnImport. The operator registry itself is generated from the
// ops' ODS definitions (dialects/Graph/MXNetOpDef.h); this header adds what
// reading and writing MXNet files needs on top of it: converting attribute
// strings to IR attributes and back, checking the keys Kiln accepts without
// keeping, and the message for an operator Kiln does not know.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_OPTABLE_H
#define KILN_IMPORT_OPTABLE_H

#include "Graph/MXNetOpDef.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/MLIRContext.h"

#include <string>
#include <vector>

namespace kiln::importer {

using graph::MXAttrKind;
using graph::MXAttrSpec;
using graph::MXIgnoredKey;
using graph::MXInputRule;
using graph::MXNetOpDef;

/// The entry for a canonical MXNet name or alias; nullptr when unsupported.
const MXNetOpDef *lookupByMXName(llvm::StringRef name);
/// The entry of a graph op ("graph.convolution"); nullptr for internal ops.
const MXNetOpDef *lookupByIRName(llvm::StringRef name);

/// Whether MXNet's `no_bias` decides the op's last input.
bool hasBiasInput(const MXNetOpDef &def);
/// Whether the op takes `num_args` inputs (Concat, add_n).
bool isVariadic(const MXNetOpDef &def);

/// Converts an MXNet attribute string to the IR attribute. Throws kiln::Error
/// naming `context` on a malformed value.
mlir::Attribute parseAttr(mlir::MLIRContext *ctx, const MXAttrSpec &spec,
                          const std::string &value, const std::string &context);
/// Formats an IR attribute the way MXNet writes it.
std::string formatAttr(const MXAttrSpec &spec, mlir::Attribute attr);
/// The IR attribute for the spec's MXNet default (null when it has none).
mlir::Attribute defaultAttr(mlir::MLIRContext *ctx, const MXAttrSpec &spec);

/// Checks the value of an accepted-but-dropped key; throws kiln::Error (with
/// `context` in the message) when Kiln cannot honour it. `kernel` is the
/// node's kernel attribute, if any (a layout must match its rank).
void checkIgnoredKey(const MXIgnoredKey &key, const std::string &value,
                     const std::string &context, const std::vector<int64_t> &kernel);

} // namespace kiln::importer

#endif // KILN_IMPORT_OPTABLE_H
