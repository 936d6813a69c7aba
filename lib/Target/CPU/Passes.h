//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//

#ifndef KILN_TARGET_CPU_PASSES_H
#define KILN_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
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

} // namespace kiln::cpu

#endif // KILN_TARGET_CPU_PASSES_H
