//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//

#ifndef KILN_TARGET_CPU_PASSES_H
#define KILN_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace kiln::cpu {

#define GEN_PASS_DECL
#include "Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Target/CPU/Passes.h.inc"

/// Suffix of the packed entry point generated for every kernel.
inline constexpr const char *kPackedSuffix = "_packed";
/// Attribute on a parallel dispatch declaration naming its body function.
inline constexpr const char *kParallelBodyAttr = "kiln.parallel_body";
/// The runtime hook parallel loops call (ParallelRuntime.h).
inline constexpr const char *kParallelForSymbol = "kiln_parallel_for";

} // namespace kiln::cpu

#endif // KILN_TARGET_CPU_PASSES_H
