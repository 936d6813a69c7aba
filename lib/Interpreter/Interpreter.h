//===- Interpreter.h - Reference interpreter for the graph dialect -*- C++ -*-===//
//
// The oracle every lowering is tested against: runs a `func.func` of graph
// ops with plain loops in double precision, following MXNet's semantics
// (SPEC §2.3). Clarity over speed; never used on a hot path.
//
// Every op's result type must be fully static: several ops (reshape,
// broadcast_to, the reductions, split, 'same' pooling) take their output
// shape from it, so run shape inference first. Bad input throws kiln::Error
// naming the node (its NameLoc) and the problem.
//
// Choices where MXNet leaves room (or where the oracle must pick one):
// - Randomness of the un-rewritten training-mode ops (graph.dropout and
//   rrelu run with Options::training) comes from one std::mt19937_64 seeded
//   with Options::seed, consumed in program order, element by element in
//   row-major order; uniforms are built from raw engine bits so the stream
//   does not depend on the standard library. The training-mode rewrite
//   (kiln-graph-training-mode) replaces them by graph.dropout_mask and
//   graph.random_uniform, whose numbers are a documented pure function of
//   (seed, counter, index) that compiled code reproduces exactly.
// - Pooling 'same' (MXNet allows it only for 1-D): ceil(x/s) windows, the
//   padding they need split evenly with the odd element after. A window
//   holding no input element gives the lowest float for max and, for avg,
//   MXNet's plain arithmetic (0/0 = NaN when nothing is counted).
// - Embedding truncates float indices toward zero, then clips; NaN is row 0.
// - Result::updatedArgs reports BatchNorm moving stats only when they are
//   function arguments of the entry block.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_INTERPRETER_INTERPRETER_H
#define KILN_INTERPRETER_INTERPRETER_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <map>
#include <vector>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace kiln::ref {

/// A dense row-major array of doubles.
struct Array {
  std::vector<int64_t> shape;
  std::vector<double> data;

  int64_t size() const { return Tensor::numElements(shape); }
};

struct Options {
  /// Training mode: BatchNorm uses batch statistics and updates its moving
  /// statistics, Dropout and rrelu draw random numbers.
  bool training = false;
  /// Seeds the one random stream of a run (ops draw from it in program
  /// order), so a run is reproducible for a given seed.
  uint64_t seed = 0;
};

struct Result {
  /// One per function result, in order.
  std::vector<Array> outputs;
  /// Training mode only: new values of the aux-state arguments (BatchNorm
  /// moving_mean / moving_var), keyed by function argument index. Only
  /// aux states fed directly by a function argument are reported.
  std::map<unsigned, Array> updatedArgs;
};

/// Runs `fn` on `args` (one per function argument, shapes matching the
/// function type). Throws kiln::Error on bad input or an unsupported op.
Result run(mlir::func::FuncOp fn, const std::vector<Array> &args,
           const Options &opts = Options());

/// Kiln's counter-based random numbers (graph.dropout_mask and
/// graph.random_uniform; the formula is in their op descriptions):
/// splitmix64's finalizer, the counter operand's value as an unsigned
/// integer (truncated; negative and NaN give 0, values past 2⁶⁴ saturate),
/// and u = (splitmix64(splitmix64(splitmix64(seed) ⊕ counter) ⊕ index) ≫ 40)
/// · 2⁻²⁴ in [0, 1). Exposed so tests and other engines can check against it.
uint64_t splitmix64(uint64_t z);
uint64_t counterToUint(double counter);
double counterUniform(uint64_t seed, uint64_t counter, uint64_t index);

/// Conversions to and from Kiln's float32 host tensor.
Array fromTensor(const Tensor &t);
Tensor toTensor(const Array &a);
std::vector<Array> fromTensors(const std::vector<Tensor> &ts);
std::vector<Tensor> toTensors(const std::vector<Array> &as);

} // namespace kiln::ref

#endif // KILN_INTERPRETER_INTERPRETER_H
