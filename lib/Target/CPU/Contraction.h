//===- Contraction.h - contractions as packed GEMMs -------------*- C++ -*-===//
//
// The analysis kiln-cpu-lower-contractions uses to turn a linalg op whose
// body is `out + in0 * in1` and whose indexing maps are linear (matmul with
// any transposes, batch_matmul, every named convolution, contraction
// generics) into a packed GEMM. kiln-cpu-tile-and-vectorize asks the same
// question on tensors and leaves such ops for the memref-level pass.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_CPU_CONTRACTION_H
#define KILN_TARGET_CPU_CONTRACTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace kiln::cpu {

/// Address of an operand element as a linear function of the loop indices:
/// `cst + sum(coef[d] * i_d)` in elements, relative to the operand's memref
/// offset (row-major strides for tensors).
struct LinearAccess {
  llvm::SmallVector<int64_t> coef;
  int64_t cst = 0;
};

/// C[batch, outerN, m, n] += A[batch, m, k] * B[batch, outerN, k, n] with
/// every group a set of loop dimensions (loop dimensions of extent 1 are in
/// none). `n` is the "inner" N group: dimensions only B and C use, over which
/// C is contiguous (so a register tile of C is a row of vectors); `outerN`
/// holds the other B-only dimensions (the image index of a convolution).
/// Groups list their dimensions outermost first.
struct GemmAnalysis {
  unsigned aInput = 0, bInput = 1; // which linalg inputs play A and B
  llvm::SmallVector<int64_t> range;
  LinearAccess a, b, c;
  llvm::SmallVector<unsigned> batch, outerN, m, n, k;
  int64_t M = 1, N = 1, K = 1, batchCount = 1, outerCount = 1;
};

/// Succeeds for a linalg op (tensor or memref semantics) with two f32
/// inputs and one f32 init, static shapes and strides, a body
/// `out + in0 * in1`, linear indexing maps and a projected-permutation output
/// map, such that C runs contiguously along some dimension only B uses.
std::optional<GemmAnalysis> analyzeGemm(mlir::linalg::LinalgOp op);

/// A producer of a GEMM's init that kiln-cpu-lower-contractions folds into
/// the first k block (the accumulators start from it instead of C): a
/// linalg.fill of a scalar, or an all-parallel linalg.generic with one f32
/// input read through a projected permutation whose body yields that input
/// (the bias broadcast of convolution and FullyConnected).
bool isGemmPrologue(mlir::linalg::LinalgOp op);

/// A consumer of a GEMM's result that kiln-cpu-lower-contractions applies to
/// the register tile of the last k block before storing it: an all-parallel
/// linalg.generic whose only input is `c` (identity map, same shape as the
/// output, identity output map) and whose body is elementwise-mappable
/// scalar code that does not read the output (tanh, relu, sigmoid, scaling).
bool isGemmEpilogue(mlir::linalg::GenericOp op, mlir::Value c);

} // namespace kiln::cpu

#endif // KILN_TARGET_CPU_CONTRACTION_H
