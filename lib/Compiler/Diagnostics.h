//===- Compiler/Diagnostics.h - MLIR diagnostics as kiln::Error -----------===//
//
// Library entry points report failures as kiln::Error, not as text printed
// by MLIR's default handler: collect the diagnostics emitted in a scope and
// throw them with the caller's context.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_DIAGNOSTICS_H
#define KILN_COMPILER_DIAGNOSTICS_H

#include "kiln/Error.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace kiln {

class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext *ctx)
      : handler(ctx, [this](mlir::Diagnostic &d) {
          llvm::raw_string_ostream os(text);
          if (!text.empty())
            os << "\n";
          os << d.getLocation() << ": " << d.str();
          return mlir::success();
        }) {}
  /// Throws `what`, followed by the collected diagnostics.
  [[noreturn]] void fail(const std::string &what) {
    throw Error(what + (text.empty() ? "" : ": " + text));
  }

private:
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace kiln

#endif // KILN_COMPILER_DIAGNOSTICS_H
