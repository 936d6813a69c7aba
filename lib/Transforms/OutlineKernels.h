//===- OutlineKernels.h - Graph ops into kernel functions -------*- C++ -*-===//
//
// The C++ side of kiln-outline-kernels. A kernel is a private func.func
// `@kiln_kernel_N` over static tensors (inputs → results) marked `kiln.kernel`
// and carrying `kiln.node_name`, `kiln.op_name` and `kiln.inplace`; the model
// function calls it. The lowering compiles each kernel to a packed entry
// `kiln_kernel_N_packed(void **buffers)` (inputs first, then outputs).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_OUTLINEKERNELS_H
#define KILN_TRANSFORMS_OUTLINEKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace kiln {

/// Prefix of every kernel function's symbol.
constexpr const char *kKernelPrefix = "kiln_kernel_";

/// The MXNet node name a location carries (the first NameLoc inside it), or
/// "" when it has none.
std::string nodeNameOf(mlir::Location loc);

/// Outlines `ops` (graph ops of `parent`'s body, in program order, forming
/// a convex group: no op outside the group both uses a group result and
/// feeds a group op) into a new private kernel function named `name`, and
/// replaces them by one func.call placed where the last op was. Kernel
/// inputs are the values the group reads from outside, in first-use order
/// without duplicates; its results are the group results used outside it
/// (or unused altogether). Fails with an error on non-static tensor types.
mlir::FailureOr<mlir::func::CallOp> outlineKernelGroup(mlir::func::FuncOp parent,
                                                      llvm::ArrayRef<mlir::Operation *> ops,
                                                      llvm::StringRef name);

/// kiln-outline-kernels on `module`'s function `entry`: one kernel per graph
/// op, after giving every returned value its own producing op (see the pass
/// description in Passes.td).
mlir::LogicalResult outlineKernels(mlir::ModuleOp module, llvm::StringRef entry = "main");

} // namespace kiln

#endif // KILN_TRANSFORMS_OUTLINEKERNELS_H
