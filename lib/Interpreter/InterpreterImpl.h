//===- InterpreterImpl.h - What op families' interpreters share -*- C++ -*-===//
//
// Private to lib/Interpreter. Interpreter.cpp runs the core ops; each op
// family of the graph dialect (GraphShapeOps.td, GraphNNOps.td, ...) has its
// kernels in its own file here, behind one function with the signature of
// FamilyInterpreter, listed in Interpreter.cpp. They see the running
// interpreter through OpEnv and share the index helpers below.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_INTERPRETER_INTERPRETERIMPL_H
#define KILN_INTERPRETER_INTERPRETERIMPL_H

#include "Interpreter/Interpreter.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace kiln::ref {

using Shape = std::vector<int64_t>;
using Index = llvm::SmallVector<int64_t, 6>;

/// The running interpreter, as an op's kernel sees it.
class OpEnv {
public:
  virtual ~OpEnv() = default;
  /// The value of operand `v` of `op` (throws naming `op` if it has none).
  virtual const Array &get(mlir::Operation *op, mlir::Value v) = 0;
  /// A zero-filled array with the static shape of result `i` of `op`.
  virtual Array makeResult(mlir::Operation *op, unsigned i = 0) = 0;
  /// Sets the value of result `i` of `op`.
  virtual void setResult(mlir::Operation *op, unsigned i, Array value) = 0;
  virtual const Options &options() const = 0;
  /// The next number of the run's random stream, uniform in [0, 1).
  virtual double uniform() = 0;
  /// Reports the new value of an aux-state argument (BatchNorm-like moving
  /// statistics updated in training), when `arg` is a function argument.
  virtual void recordAuxUpdate(mlir::Value arg, Array value) = 0;
};

/// Runs `op` and sets its results if it belongs to the family; returns
/// false (doing nothing) otherwise.
using FamilyInterpreter = bool (*)(OpEnv &env, mlir::Operation *op);

// The families' interpreters (one file each).
bool interpretShapeOp(OpEnv &env, mlir::Operation *op);
bool interpretReduceOp(OpEnv &env, mlir::Operation *op);
bool interpretNNOp(OpEnv &env, mlir::Operation *op);
bool interpretRNNOp(OpEnv &env, mlir::Operation *op);
bool interpretDetectionOp(OpEnv &env, mlir::Operation *op);

//===----------------------------------------------------------------------===//
// Shapes, indices and errors
//===----------------------------------------------------------------------===//

int64_t numElements(llvm::ArrayRef<int64_t> shape);
/// "(2, 3)" / "(3,)", as MXNet prints shapes.
std::string shapeStr(llvm::ArrayRef<int64_t> shape);

/// Calls fn(index, flat) for every multi-index of `shape` in row-major order,
/// so `flat` is the index's position in a row-major buffer.
template <typename Fn> void forEachIndex(llvm::ArrayRef<int64_t> shape, Fn &&fn) {
  int64_t n = numElements(shape);
  Index idx(shape.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    fn(static_cast<const Index &>(idx), flat);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

int64_t flatIndex(llvm::ArrayRef<int64_t> idx, llvm::ArrayRef<int64_t> shape);
/// The product of shape[begin, end): the "outer"/"inner" extents that turn an
/// op along one axis into a loop over a 3-D (outer, axis, inner) view.
int64_t extent(llvm::ArrayRef<int64_t> shape, size_t begin, size_t end);
/// NumPy broadcasting (shapes aligned from the right, size-1 dims repeat):
/// whether an operand of shape `in` broadcasts to `out`.
bool broadcastsTo(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out);
/// The flat index into a broadcast operand of shape `in` that supplies the
/// element at result multi-index `outIdx`.
int64_t broadcastSource(llvm::ArrayRef<int64_t> outIdx, llvm::ArrayRef<int64_t> in);

/// Sets result i of `op` to the elements [bounds[i], bounds[i + 1]) of `x`
/// along `axis` (normalized): SliceChannel's and _split_v2's kernel. A
/// result may have that axis squeezed (the data's order is the same).
void splitAlongAxis(OpEnv &env, mlir::Operation *op, const Array &x, int64_t axis,
                    llvm::ArrayRef<int64_t> bounds);

/// "node 'conv1' (graph.convolution)".
std::string describe(mlir::Operation *op);
/// Throws kiln::Error naming the op's node.
[[noreturn]] void fail(mlir::Operation *op, const std::string &msg);
double toDouble(const llvm::APFloat &f);
/// `axis` normalized against `rank` (MXNet's negative axes); fails when out
/// of range.
int64_t normalizeAxis(mlir::Operation *op, int64_t axis, int64_t rank);

} // namespace kiln::ref

#endif // KILN_INTERPRETER_INTERPRETERIMPL_H
