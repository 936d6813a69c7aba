//===- Passes.h - Graph dialect to linalg conversion ------------*- C++ -*-===//

#ifndef KILN_CONVERSION_GRAPHTOLINALG_PASSES_H
#define KILN_CONVERSION_GRAPHTOLINALG_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#include "Conversion/GraphToLinalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Conversion/GraphToLinalg/Passes.h.inc"

/// Lowers every graph op in `func` (see kiln-convert-graph-to-linalg). On
/// failure an error naming the offending op has been emitted.
mlir::LogicalResult convertGraphToLinalg(mlir::func::FuncOp func);

} // namespace kiln

#endif // KILN_CONVERSION_GRAPHTOLINALG_PASSES_H
