//===- LoweringHelpers.h - Shared pieces of the graph → linalg lowering -*- C++ -*-===//
//
// Internal to lib/Conversion/GraphToLinalg: the builder context and the
// building blocks every op lowering is made of (elementwise maps with NumPy
// broadcasting, reductions over an axis set, windowed reductions and their
// transpose, the convolution GEMM, reshapes). GraphToLinalg.cpp lowers the
// forward ops with them, GradOps.cpp the training and gradient ops.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CONVERSION_GRAPHTOLINALG_LOWERINGHELPERS_H
#define KILN_CONVERSION_GRAPHTOLINALG_LOWERINGHELPERS_H

#include "Conversion/GraphToLinalg/Passes.h"
#include "Graph/GraphOps.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace kiln::lowering {

using mlir::AffineExpr;
using mlir::AffineMap;
using mlir::ArrayRef;
using mlir::Location;
using mlir::OpBuilder;
using mlir::Operation;
using mlir::SmallVector;
using mlir::Type;
using mlir::Value;
using mlir::ValueRange;

using Shape = SmallVector<int64_t, 4>;
using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;
using Iter = mlir::utils::IteratorType;
/// The values replacing an op's results, in result order.
using Results = mlir::FailureOr<SmallVector<Value>>;

inline Results one(Value v) { return SmallVector<Value>{v}; }
mlir::RankedTensorType tensorTy(Value v);
Shape shapeOf(Value v);
int64_t product(ArrayRef<int64_t> s, size_t b = 0, size_t e = ~size_t(0));
double toDouble(llvm::APFloat f);

/// Float arithmetic for kernel bodies; addCombine is the `combine` of a sum.
Value addf(OpBuilder &b, Location l, Value x, Value y);
Value subf(OpBuilder &b, Location l, Value x, Value y);
Value mulf(OpBuilder &b, Location l, Value x, Value y);
Value divf(OpBuilder &b, Location l, Value x, Value y);
Value addCombine(OpBuilder &b, Location l, Value acc, Value v);
inline int64_t normAxis(int64_t a, int64_t rank) { return a < 0 ? a + rank : a; }

/// Builds linalg/tensor IR in front of the graph op being lowered, with its
/// element type.
struct Ctx {
  OpBuilder &b;
  Location loc;
  Type et;

  mlir::MLIRContext *mc() { return b.getContext(); }

  Value f(double v);
  /// float's lowest value (also in f64: the interpreter pads max pooling
  /// with it).
  Value lowest();
  Value empty(ArrayRef<int64_t> shape);
  Value filled(ArrayRef<int64_t> shape, double v);
  Value filledWith(ArrayRef<int64_t> shape, Value c);
  AffineExpr d(unsigned i) { return mlir::getAffineDimExpr(i, mc()); }
  AffineExpr c(int64_t v) { return mlir::getAffineConstantExpr(v, mc()); }
  AffineMap map(unsigned nd, ArrayRef<AffineExpr> r) {
    return AffineMap::get(nd, 0, r, mc());
  }
  AffineMap id(unsigned nd) { return AffineMap::getMultiDimIdentityMap(nd, mc()); }

  /// A linalg.generic writing a fresh tensor of `outShape` (or `init`);
  /// `outMap` indexes the output (identity over the first outShape.size()
  /// loops by default).
  Value generic(ArrayRef<int64_t> outShape, ValueRange ins, ArrayRef<AffineMap> inMaps,
                ArrayRef<Iter> iters, BodyFn body, Value init = {}, AffineMap outMap = {});
  /// A generic with several outputs: `inits` (one per output, indexed by
  /// `outMaps`); `body` yields one value per output.
  SmallVector<Value>
  genericN(ValueRange ins, ArrayRef<AffineMap> inMaps, ValueRange inits,
           ArrayRef<AffineMap> outMaps, ArrayRef<Iter> iters,
           llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body);

  /// NumPy broadcasting: the map from result loops to an operand of `in`.
  AffineMap bcastMap(ArrayRef<int64_t> in, ArrayRef<int64_t> out);
  /// Elementwise over `outShape`, each input broadcast to it (NumPy rules,
  /// so a `[C]` operand pairs with the last axis; see alongAxis).
  Value mapBcast(ArrayRef<int64_t> outShape, ValueRange ins, BodyFn body);
  Value map1(Value x, llvm::function_ref<Value(Value)> fn);
  /// Elementwise over `outShape`; `full` operands have that shape, `perAxis`
  /// ones are `[outShape[axis]]` vectors (per-channel parameters). Built on
  /// the axisView of the shape, so the loop along the innermost run is one
  /// long loop (H·W of NCHW).
  Value alongAxis(ArrayRef<int64_t> outShape, int64_t axis, ValueRange full,
                  ValueRange perAxis, BodyFn body);

  /// A view of `v` with `shape` (same element count, row-major order kept).
  Value reshape(Value v, ArrayRef<int64_t> shape);
  /// `x` padded along every dim by lo/hi with the scalar `value`.
  Value pad(Value x, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi, Value value);
  /// `x[offsets : offsets + sizes : strides]`, static.
  Value slice(Value x, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
              ArrayRef<int64_t> strides = {});
  /// `inputs` placed one after the other along `dim` of a new tensor of
  /// shape `out`.
  Value concat(ValueRange inputs, ArrayRef<int64_t> out, int64_t dim);
  /// Reduces `x` over the dims flagged in `reduced` into a tensor of the
  /// kept dims, starting from `init` and combining with `combine(acc, v)`;
  /// `init` must be combine's identity (a long reduction runs in stages, each
  /// starting from it).
  /// `pre` (optional) maps each element before combining and sees x, the
  /// full-size operands `fullExtra`, then the `extra` operands (indexed like
  /// the result). See reduceN for how the work is split.
  Value reduceAxes(Value x, ArrayRef<bool> reduced, Value initScalar,
                   llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
                   ValueRange extra = {}, BodyFn pre = nullptr, ValueRange fullExtra = {});
  /// Several reductions in one pass: `full` operands (all of `full[0]`'s
  /// shape) and `kept` ones (indexed like the results) are read at every
  /// position; `step(nb, nl, values, accs)` gets their values and the
  /// current accumulators and yields the new ones; each result starts from
  /// its `inits` scalar. `merge(acc, partial)` must combine partial results
  /// of the same reduction (Σ: add), and `inits` be their identities. The
  /// work is split in stages (outer reduced axes first, so that the innermost
  /// loop stays parallel and vectorizes; a long trailing run in two blocks,
  /// so that no float32 sum is one long chain): see the definition.
  SmallVector<Value>
  reduceN(ArrayRef<bool> reduced, ValueRange full, ValueRange kept, ArrayRef<Value> inits,
          llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange, ValueRange)> step,
          llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> merge);
  /// The map from the loops of a tensor of rank `rank` to its kept dims.
  AffineMap keptMap(ArrayRef<bool> reduced);

  /// Softmax (or log-softmax) over the axes flagged in `reduced`, after
  /// dividing by `temperature`.
  Value softmax(Value x, ArrayRef<bool> reduced, double temperature, bool log);
  Value negInf() { return f(-std::numeric_limits<double>::infinity()); }

  // Scalar building blocks used inside bodies.
  Value gt0(OpBuilder &nb, Location nl, Value x);
  Value k(OpBuilder &nb, Location nl, double v);
  Value sigmoid(OpBuilder &nb, Location nl, Value x);
  Value leaky(OpBuilder &nb, Location nl, Value x, Value slope);
};

/// A shape seen around `axis` as [outer, C, inner] (the interpreter's view
/// of per-channel ops), unit extents dropped; `axisPos` is C's position.
/// Per-channel generics on this view have one long innermost loop instead
/// of, say, a 28-wide W, which the CPU pipeline would vectorize with a
/// masked tail per row.
struct AxisView {
  Shape shape;
  unsigned axisPos;
};
AxisView axisView(ArrayRef<int64_t> shape, int64_t axis);

/// The init tensor of a convolution-like op: the bias broadcast along axis 1,
/// or zeros.
Value biasInit(Ctx &cx, ArrayRef<int64_t> outShape, Value bias);

/// Direct convolution of an already padded input: x [N, G*Cg, sp...],
/// w [G*Fg, Cg, k...], accumulating into `init` [N, G*Fg, out...].
Value convolve(Ctx &cx, Value x, Value w, Value init, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> dilations, int64_t groups);

/// Where the windows of a Pooling (or of the pooling a pooling_grad
/// differentiates) lie: kernel, stride, padding before (`pb`) and the
/// right padding `hi` that makes every window — the last one clipped as
/// MXNet clips it — fit inside the padded input; `pa` is the padding the
/// window count of count_include_pad sees.
struct PoolWindows {
  Shape spatial, outSpatial, kernel, stride, pb, pa, hi;
  size_t nsp() const { return kernel.size(); }
  /// data padded by pb/hi with `value` (the neutral element of the window
  /// reduction: lowest for max, 0 for sums).
  Value padded(Ctx &cx, Value x, Value value) const;
};
template <typename PoolOp> PoolWindows poolWindows(PoolOp op, ArrayRef<int64_t> dataShape,
                                                   ArrayRef<int64_t> outShape);

/// A Pooling's forward over data `x` (pooling_grad recomputes lp outputs
/// with it).
Value poolForward(Ctx &cx, Value x, const PoolWindows &w, ArrayRef<int64_t> outShape,
                  graph::PoolType type, int64_t pValue, bool includePad);

/// Window sum/max over a padded input x [N, C, sp...]: out [N, C, o...].
Value windowReduce(Ctx &cx, Value x, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                   ArrayRef<int64_t> outShape, bool isMax);
/// The general windowed generic behind windowReduce: loops (n, c, o..., k...)
/// with the k loops reductions; `ins` are read at the window position
/// (n, c, o·s + k) (`winIns`) or at the output position (`outIns`); the body
/// sees winIns, outIns, then the outputs' current values and yields the
/// outputs.
SmallVector<Value>
windowGeneric(Ctx &cx, ValueRange winIns, ValueRange outIns, ValueRange inits,
              ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
              llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body);
/// The number of elements each window of `w` averages over, `[o...]`
/// (a constant: it depends on the position only).
Value windowCounts(Ctx &cx, const PoolWindows &w, bool includePad);

/// The transpose of a windowed gather (col2im): starting from `acc`
/// [N, C, L...], adds for every tap k of `kernel` (row-major order) and
/// every window position o [N, C, O...] the value `body` yields at
/// acc[n, c, o·stride + k·dilation]. `tapIns(k)` gives the operands the
/// tap reads at [n, c, o] (the body sees them, then the accumulator value)
/// and `k` is the tap as index values (one per spatial dim) plus its
/// row-major number. The taps run in an scf.for nest, so the IR does not
/// grow with the kernel size.
struct Tap {
  SmallVector<Value> k; // per spatial dim, index
  Value linear;         // row-major tap number, index
};
Value scatterTaps(Ctx &cx, Value acc, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations, ArrayRef<int64_t> outShape,
                  llvm::function_ref<SmallVector<Value>(const Tap &)> tapIns,
                  llvm::function_ref<Value(OpBuilder &, Location, const Tap &, ValueRange)> body);
/// `x[:, :, (k·dilation + o·stride)...]` for o in `outSpatial`: the window
/// elements tap k reads, as a [N, C, O...] tensor (dynamic offsets).
Value tapSlice(Ctx &cx, Value x, const Tap &tap, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> dilations, ArrayRef<int64_t> outSpatial);

/// Σ of `v` [N, C, ...] over the `nsize` channels (axis 1) centred on each
/// channel, the window clipped to [0, C) (LRN's window).
Value channelWindowSum(Ctx &cx, Value v, int64_t nsize);
/// LRN's S = knorm + alpha/nsize · Σ_window x².
Value lrnScale(Ctx &cx, Value x, int64_t nsize, double alpha, double knorm);
/// Embedding's row for the float index `v` (inside a body): truncated,
/// clipped to [0, rows − 1], NaN giving 0.
Value embeddingRow(Ctx &cx, OpBuilder &nb, Location nl, Value v, int64_t rows);
/// The map from the loops over data of shape `xs` to PReLU's `gamma`: one
/// slope per channel (axis 1), or one shared slope.
AffineMap preluGammaMap(Ctx &cx, ArrayRef<int64_t> xs, Value gamma);

/// The parts [bounds[i], bounds[i + 1]) of `x` along `axis` (normalized),
/// each reshaped to the type of the matching result of `op` (which may have
/// the axis squeezed): SliceChannel and _split_v2.
SmallVector<Value> splitAlongAxis(Ctx &cx, Operation *op, Value x, int64_t axis,
                                  ArrayRef<int64_t> bounds);

/// Lowers the training and gradient ops (GradOps.cpp); std::nullopt when
/// `op` is not one of them.
std::optional<Results> lowerGradOp(Ctx &cx, Operation *op);

/// The op families with their own .td (ShapeOps.cpp, ...): each lowers its
/// ops and returns std::nullopt for any other op.
std::optional<Results> lowerShapeOp(Ctx &cx, Operation *op);
std::optional<Results> lowerReduceOp(Ctx &cx, Operation *op);
std::optional<Results> lowerNNOp(Ctx &cx, Operation *op);
std::optional<Results> lowerRNNOp(Ctx &cx, Operation *op);
std::optional<Results> lowerDetectionOp(Ctx &cx, Operation *op);

} // namespace kiln::lowering

#endif // KILN_CONVERSION_GRAPHTOLINALG_LOWERINGHELPERS_H
