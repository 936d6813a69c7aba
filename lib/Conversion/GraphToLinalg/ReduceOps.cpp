//===- ReduceOps.cpp - Lowering of reductions and sorting to linalg ----------------===//
//
// GraphReduceOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/ReduceOps.cpp).
//
// Sorting (topk, sort, argsort) is data-dependent, so it is built from scf
// loops over tensors rather than linalg: the rows along the axis are made
// contiguous (a transpose when the axis is not the last), then sorted by a
// bottom-up merge sort: ⌈log₂ n⌉ passes over the whole [rows, n] array, each
// one scf.for that merges neighbouring runs of the previous pass's width,
// carrying the two run cursors. It is stable (a right-run element goes first
// only when it sorts strictly before the left one), so the result is exactly
// the interpreter's std::stable_sort. Cost: O(rows · n · log n) comparisons
// and two arrays of rows · n values and int64 positions per pass. topk with
// k ≤ 8 instead makes one pass per row keeping the best k in loop-carried
// scalars (a stable insertion, O(rows · n · k)).
//
//===----------------------------------------------------------------------===//

#include "FormulaLowering.h"
#include "Graph/GraphReduceOps.h"
#include "LoweringHelpers.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {
namespace {

using B = OpBuilder;
using L = Location;
using P = arith::CmpFPredicate;

Value isNan(B &b, L l, Value v) { return arith::CmpFOp::create(b, l, P::UNO, v, v); }
Value notNan(B &b, L l, Value v) { return arith::CmpFOp::create(b, l, P::ORD, v, v); }
Value index(B &b, L l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

/// The result of a reduction with `reduced` axes flagged, reshaped to the
/// op's result type.
SmallVector<bool> reducedFlags(int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : axes)
    reduced[a] = true;
  return reduced;
}

//===----------------------------------------------------------------------===//
// Reductions over an axis set
//===----------------------------------------------------------------------===//

/// prod, nansum, nanprod: `combine` (mul or add) over the axes, NaN replaced
/// by the neutral element first when `skipNan` (MXNet's reducers skip it).
Results lowerReduceFamily(Ctx &cx, Operation *op, Value x, ArrayRef<int64_t> axes, double init,
                          bool multiply, bool skipNan) {
  SmallVector<bool> reduced = reducedFlags(shapeOf(x).size(), axes);
  Value neutral = cx.f(init);
  auto combine = [&](B &nb, L nl, Value acc, Value v) -> Value {
    if (multiply)
      return arith::MulFOp::create(nb, nl, acc, v);
    return arith::AddFOp::create(nb, nl, acc, v);
  };
  BodyFn pre = nullptr;
  auto skip = [&](B &nb, L nl, ValueRange a) -> Value {
    return arith::SelectOp::create(nb, nl, isNan(nb, nl, a[0]), cx.k(nb, nl, init), a[0]);
  };
  if (skipNan)
    pre = skip;
  Value r = cx.reduceAxes(x, reduced, neutral, combine, {}, pre);
  return one(cx.reshape(r, tensorTy(op->getResult(0)).getShape()));
}

/// moments: Σx / N, then Σ(x − mean)² / N.
Results lowerMoments(Ctx &cx, g::MomentsOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  SmallVector<bool> reduced = reducedFlags(xs.size(), op.getReducedAxes(xs.size()));
  int64_t n = 1;
  for (auto [d, r] : llvm::enumerate(reduced))
    if (r)
      n *= xs[d];
  auto add = [](B &nb, L nl, Value acc, Value v) -> Value {
    return arith::AddFOp::create(nb, nl, acc, v);
  };
  Value count = cx.f(double(n));
  auto byCount = [&](Value v) {
    return cx.map1(v, [&](Value s) -> Value { return arith::DivFOp::create(cx.b, cx.loc, s, count); });
  };
  Value mean = byCount(cx.reduceAxes(x, reduced, cx.f(0.0), add));
  Value var = byCount(cx.reduceAxes(x, reduced, cx.f(0.0), add, ValueRange{mean},
                                    [](B &nb, L nl, ValueRange a) -> Value {
                                      Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
                                      return arith::MulFOp::create(nb, nl, d, d);
                                    }));
  return SmallVector<Value>{cx.reshape(mean, tensorTy(op.getMean()).getShape()),
                            cx.reshape(var, tensorTy(op.getVar()).getShape())};
}

/// norm: Σ|x|, or √Σx² computed as m·√Σ(x/m)² with m = max |x| so that the
/// squares neither overflow nor underflow (MXNet's nrm2 scales the same
/// way); m = 0 or ∞ is the norm itself.
Results lowerNorm(Ctx &cx, g::NormOp op) {
  Value x = op.getData();
  SmallVector<bool> reduced =
      reducedFlags(shapeOf(x).size(), op.getReducedAxes(shapeOf(x).size()));
  auto add = [](B &nb, L nl, Value acc, Value v) -> Value {
    return arith::AddFOp::create(nb, nl, acc, v);
  };
  auto absOf = [](B &nb, L nl, ValueRange a) -> Value { return math::AbsFOp::create(nb, nl, a[0]); };
  ArrayRef<int64_t> outShape = tensorTy(op.getOutput()).getShape();
  if (op.getOrd() == 1)
    return one(cx.reshape(cx.reduceAxes(x, reduced, cx.f(0.0), add, {}, absOf), outShape));
  Value m = cx.reduceAxes(
      x, reduced, cx.f(0.0),
      [](B &nb, L nl, Value acc, Value v) -> Value {
        return arith::MaximumFOp::create(nb, nl, acc, v);
      },
      {}, absOf);
  Value s = cx.reduceAxes(x, reduced, cx.f(0.0), add, ValueRange{m},
                          [](B &nb, L nl, ValueRange a) -> Value {
                            Value q = arith::DivFOp::create(nb, nl, a[0], a[1]);
                            return arith::MulFOp::create(nb, nl, q, q);
                          });
  Value r = cx.mapBcast(shapeOf(m), ValueRange{m, s}, [&](B &nb, L nl, ValueRange a) -> Value {
    Value scaled = arith::MulFOp::create(nb, nl, a[0], math::SqrtOp::create(nb, nl, a[1]));
    Value zero = arith::CmpFOp::create(nb, nl, P::OEQ, a[0], cx.k(nb, nl, 0.0));
    Value inf = arith::CmpFOp::create(nb, nl, P::OEQ, a[0], cx.k(nb, nl, INFINITY));
    Value exact = arith::OrIOp::create(nb, nl, zero, inf);
    return arith::SelectOp::create(nb, nl, exact, a[0], scaled);
  });
  return one(cx.reshape(r, outShape));
}

/// The reductions' backward ops: `fn(x, dy, y)` with dy and y broadcast.
Results lowerReduceGrad(Ctx &cx, Operation *op,
                        llvm::function_ref<Value(B &, L, Value, Value, Value)> fn) {
  return one(cx.mapBcast(shapeOf(op->getOperand(0)), op->getOperands(),
                         [&](B &nb, L nl, ValueRange a) { return fn(nb, nl, a[0], a[1], a[2]); }));
}

//===----------------------------------------------------------------------===//
// Searching and sorting
//===----------------------------------------------------------------------===//

/// A shape seen as rows along an axis, [outer, n, inner] (the flattened
/// data when there is no axis): the interpreter's Rows.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;

  Rows(ArrayRef<int64_t> shape, std::optional<int64_t> axis) {
    if (!axis) {
      n = product(shape);
      return;
    }
    int64_t a = normAxis(*axis, shape.size());
    outer = product(shape, 0, a);
    n = shape[a];
    inner = product(shape, a + 1);
  }
  int64_t count() const { return outer * inner; }
};

/// `x` ([outer, len, inner] elements) as a flat [count · len] array whose
/// rows are contiguous.
Value toRows(Ctx &cx, Value x, const Rows &r, int64_t len) {
  Value v = cx.reshape(x, {r.outer, len, r.inner});
  if (r.inner != 1) {
    Value init = tensor::EmptyOp::create(cx.b, cx.loc, ArrayRef<int64_t>{r.outer, r.inner, len},
                                         tensorTy(x).getElementType());
    v = linalg::TransposeOp::create(cx.b, cx.loc, v, init, ArrayRef<int64_t>{0, 2, 1})
            .getResult()[0];
  }
  return cx.reshape(v, {r.count() * len});
}

/// The inverse of toRows: flat rows of `len` back to `shape`.
Value fromRows(Ctx &cx, Value flat, const Rows &r, int64_t len, ArrayRef<int64_t> shape) {
  Value v = cx.reshape(flat, {r.outer, r.inner, len});
  if (r.inner != 1) {
    Value init = tensor::EmptyOp::create(cx.b, cx.loc, ArrayRef<int64_t>{r.outer, len, r.inner},
                                         tensorTy(flat).getElementType());
    v = linalg::TransposeOp::create(cx.b, cx.loc, v, init, ArrayRef<int64_t>{0, 2, 1})
            .getResult()[0];
  }
  return cx.reshape(v, shape);
}

/// Whether `a` sorts before `b`: ascending, a < b with NaN largest
/// (¬(a ≥ b) ∧ a is a number); descending, a > b with NaN first.
Value sortsBefore(B &b, L l, Value a, Value c, bool ascending) {
  if (ascending)
    return arith::AndIOp::create(b, l, arith::CmpFOp::create(b, l, P::ULT, a, c), notNan(b, l, a));
  return arith::AndIOp::create(b, l, arith::CmpFOp::create(b, l, P::UGT, a, c), notNan(b, l, c));
}

/// One pass of the bottom-up merge sort: within each row of n (flat arrays
/// `vals`, `pos`), the runs [lo, lo + width) and [lo + width, lo + 2·width)
/// merged into one. A loop over the rows holds a loop over the row's
/// outputs, which carries the cursors i (left run) and j (right run), reset
/// at the start of each run pair (width is a power of two: no division).
std::pair<Value, Value> mergePass(Ctx &cx, Value vals, Value pos, int64_t n, int64_t width,
                                  bool ascending) {
  B &b = cx.b;
  L loc = cx.loc;
  int64_t total = shapeOf(vals)[0];
  Value outV = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{total}, cx.et);
  Value outP = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{total}, b.getI64Type());
  Value zero = index(b, loc, 0), oneC = index(b, loc, 1), nC = index(b, loc, n);
  auto rows = scf::ForOp::create(
      b, loc, zero, index(b, loc, total), nC, ValueRange{outV, outP},
      [&](B &rb, L rl, Value base, ValueRange rowIt) {
        auto inner = scf::ForOp::create(
            rb, rl, zero, nC, oneC, ValueRange{zero, zero, rowIt[0], rowIt[1]},
            [&](B &nb, L nl, Value kk, ValueRange it) {
              auto add = [&](Value x, Value y) -> Value {
                return arith::AddIOp::create(nb, nl, x, y);
              };
              auto minu = [&](Value x, Value y) -> Value {
                return arith::MinUIOp::create(nb, nl, x, y);
              };
              auto sel = [&](Value c, Value x, Value y) -> Value {
                return arith::SelectOp::create(nb, nl, c, x, y);
              };
              Value lo = arith::AndIOp::create(nb, nl, kk, index(nb, nl, ~(2 * width - 1)));
              Value mid = minu(add(lo, index(nb, nl, width)), nC);
              Value hi = minu(add(lo, index(nb, nl, 2 * width)), nC);
              Value start = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, kk, lo);
              Value i = sel(start, lo, it[0]);
              Value j = sel(start, mid, it[1]);
              Value leftDone = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::uge, i, mid);
              Value rightOk = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult, j, hi);
              Value last = index(nb, nl, n - 1);
              Value ci = add(base, minu(i, last)), cj = add(base, minu(j, last));
              Value a = tensor::ExtractOp::create(nb, nl, vals, ValueRange{ci});
              Value c = tensor::ExtractOp::create(nb, nl, vals, ValueRange{cj});
              // Stable: the right run's element goes first only when it
              // sorts strictly before the left one's (or the left run is
              // done).
              Value takeRight = arith::AndIOp::create(
                  nb, nl, rightOk,
                  arith::OrIOp::create(nb, nl, leftDone, sortsBefore(nb, nl, c, a, ascending)));
              Value src = sel(takeRight, cj, ci);
              Value v = sel(takeRight, c, a);
              Value p = tensor::ExtractOp::create(nb, nl, pos, ValueRange{src});
              Value t = add(base, kk);
              Value nv = tensor::InsertOp::create(nb, nl, v, it[2], ValueRange{t});
              Value np = tensor::InsertOp::create(nb, nl, p, it[3], ValueRange{t});
              Value i2 = sel(takeRight, i, add(i, oneC));
              Value j2 = sel(takeRight, add(j, oneC), j);
              scf::YieldOp::create(nb, nl, ValueRange{i2, j2, nv, np});
            });
        scf::YieldOp::create(rb, rl, ValueRange{inner.getResult(2), inner.getResult(3)});
      });
  return {rows.getResult(0), rows.getResult(1)};
}

/// Sorts each row of n of the flat `vals`: the sorted values and their
/// positions in the row (int64).
std::pair<Value, Value> sortRows(Ctx &cx, Value vals, int64_t n, bool ascending) {
  int64_t total = shapeOf(vals)[0];
  Value init = tensor::EmptyOp::create(cx.b, cx.loc, ArrayRef<int64_t>{total / n, n},
                                       cx.b.getI64Type());
  Value pos = cx.generic({total / n, n}, {}, {}, {Iter::parallel, Iter::parallel},
                         [](B &nb, L nl, ValueRange) -> Value {
                           Value j = linalg::IndexOp::create(nb, nl, 1);
                           return arith::IndexCastOp::create(nb, nl, nb.getI64Type(), j);
                         },
                         init);
  pos = cx.reshape(pos, {total});
  for (int64_t width = 1; width < n; width *= 2)
    std::tie(vals, pos) = mergePass(cx, vals, pos, n, width, ascending);
  return {vals, pos};
}

/// topk with a small k (kSelectMax at most): one pass over each row keeping
/// the best k so far in sorted order, as scalar loop-carried values (no
/// memory traffic per element). The new element x enters at the first slot
/// q that is empty or holds an element x sorts strictly before, and slots q
/// onwards shift down by one: branch-free, slot q becomes x, its
/// predecessor or itself as x enters at or before q. Entering after every
/// equal element keeps the insertion stable, so the slots end as the first
/// k of the stable sort. O(n·k) per row. Returns the [rows · k] values and
/// positions.
constexpr int64_t kSelectMax = 8;
std::pair<Value, Value> selectTopK(Ctx &cx, Value vals, int64_t n, int64_t k, bool ascending) {
  B &b = cx.b;
  L loc = cx.loc;
  int64_t rows = shapeOf(vals)[0] / n;
  Value outV = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows * k}, cx.et);
  Value outP = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows * k}, b.getI64Type());
  Value zero = index(b, loc, 0), oneC = index(b, loc, 1);
  auto rowLoop = scf::ForOp::create(
      b, loc, zero, index(b, loc, rows), oneC, ValueRange{outV, outP},
      [&](B &rb, L rl, Value row, ValueRange rowIt) {
        // Slots: k values, k positions, k "filled" flags.
        SmallVector<Value> init;
        for (int64_t q = 0; q < k; ++q)
          init.push_back(cx.k(rb, rl, 0.0));
        for (int64_t q = 0; q < k; ++q)
          init.push_back(arith::ConstantIntOp::create(rb, rl, rb.getI64Type(), 0));
        for (int64_t q = 0; q < k; ++q)
          init.push_back(arith::ConstantIntOp::create(rb, rl, rb.getI1Type(), 0));
        Value base = arith::MulIOp::create(rb, rl, row, index(rb, rl, n));
        auto scan = scf::ForOp::create(
            rb, rl, zero, index(rb, rl, n), oneC, init,
            [&](B &nb, L nl, Value j, ValueRange slots) {
              auto sel = [&](Value c, Value x, Value y) -> Value {
                return arith::SelectOp::create(nb, nl, c, x, y);
              };
              Value xv = tensor::ExtractOp::create(
                  nb, nl, vals, ValueRange{arith::AddIOp::create(nb, nl, base, j)});
              Value xp = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), j);
              Value trueC = arith::ConstantIntOp::create(nb, nl, nb.getI1Type(), 1);
              SmallVector<Value> v(k), p(k), f(k);
              Value prevIn; // whether x entered before slot q
              for (int64_t q = 0; q < k; ++q) {
                Value sv = slots[q], sp = slots[k + q], sf = slots[2 * k + q];
                Value empty = arith::XOrIOp::create(nb, nl, sf, trueC);
                Value in = arith::OrIOp::create(nb, nl, empty,
                                                sortsBefore(nb, nl, xv, sv, ascending));
                Value enterV = xv, enterP = xp, enterF = trueC;
                if (q > 0) {
                  enterV = sel(prevIn, slots[q - 1], xv);
                  enterP = sel(prevIn, slots[k + q - 1], xp);
                  enterF = sel(prevIn, slots[2 * k + q - 1], trueC);
                }
                v[q] = sel(in, enterV, sv);
                p[q] = sel(in, enterP, sp);
                f[q] = sel(in, enterF, sf);
                prevIn = in;
              }
              SmallVector<Value> next(v);
              next.append(p);
              next.append(f);
              scf::YieldOp::create(nb, nl, next);
            });
        Value ov = rowIt[0], op = rowIt[1];
        Value outBase = arith::MulIOp::create(rb, rl, row, index(rb, rl, k));
        for (int64_t q = 0; q < k; ++q) {
          Value at = arith::AddIOp::create(rb, rl, outBase, index(rb, rl, q));
          ov = tensor::InsertOp::create(rb, rl, scan.getResult(q), ov, ValueRange{at});
          op = tensor::InsertOp::create(rb, rl, scan.getResult(k + q), op, ValueRange{at});
        }
        scf::YieldOp::create(rb, rl, ValueRange{ov, op});
      });
  return {rowLoop.getResult(0), rowLoop.getResult(1)};
}

/// The first k of every row of n of a flat array.
Value firstK(Ctx &cx, Value flat, int64_t rows, int64_t n, int64_t k) {
  if (k == n)
    return flat;
  Value v = cx.slice(cx.reshape(flat, {rows, n}), {0, 0}, {rows, k});
  return cx.reshape(v, {rows * k});
}

/// topk, sort and argsort.
Results lowerSorting(Ctx &cx, Operation *op, Value x, std::optional<int64_t> axis, int64_t k,
                     g::TopKRetTyp retTyp, bool ascending, g::DType dtype) {
  Shape xs = shapeOf(x);
  Rows r(xs, axis);
  if (k <= 0)
    k = r.n;
  // Small k: one selection pass (O(n·k)); otherwise the whole merge sort
  // (O(n log n)), of which the first k of each row are kept.
  Value rowsFlat = toRows(cx, x, r, r.n);
  bool select = k <= kSelectMax && k < r.n;
  auto [vals, pos] = select ? selectTopK(cx, rowsFlat, r.n, k, ascending)
                            : sortRows(cx, rowsFlat, r.n, ascending);
  int64_t kept = select ? k : r.n; // elements per row in vals/pos
  B &b = cx.b;
  L loc = cx.loc;
  if (retTyp == g::TopKRetTyp::mask) {
    // 1 at each selected element's position in its row.
    Value mask = cx.filled({r.count() * r.n}, 0.0);
    Value kC = index(b, loc, k);
    auto loop = scf::ForOp::create(
        b, loc, index(b, loc, 0), index(b, loc, r.count() * k), index(b, loc, 1),
        ValueRange{mask}, [&](B &nb, L nl, Value t, ValueRange it) {
          Value row = arith::DivUIOp::create(nb, nl, t, kC);
          Value p = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, row, index(nb, nl, kept)),
              arith::RemUIOp::create(nb, nl, t, kC));
          Value col = arith::IndexCastOp::create(
              nb, nl, nb.getIndexType(), tensor::ExtractOp::create(nb, nl, pos, ValueRange{p}));
          Value base = arith::MulIOp::create(nb, nl, row, index(nb, nl, r.n));
          Value at = arith::AddIOp::create(nb, nl, base, col);
          Value oneV = cx.k(nb, nl, 1.0);
          scf::YieldOp::create(nb, nl,
                               ValueRange{tensor::InsertOp::create(nb, nl, oneV, it[0], at)});
        });
    return one(fromRows(cx, loop.getResult(0), r, r.n, xs));
  }
  Value v = firstK(cx, vals, r.count(), kept, k);
  Value p = firstK(cx, pos, r.count(), kept, k);
  // Positions as the element type, converted as MXNet casts them to dtype.
  Value idx = cx.generic(shapeOf(p), ValueRange{p}, {cx.id(1)}, {Iter::parallel},
                         [&](B &nb, L nl, ValueRange a) -> Value {
                           Value f = arith::SIToFPOp::create(nb, nl, cx.et, a[0]);
                           return formula::cast(formula::S{&nb, nl, f}, dtype).v;
                         });
  auto back = [&](Value flat, unsigned result) {
    return fromRows(cx, flat, r, k, tensorTy(op->getResult(result)).getShape());
  };
  switch (retTyp) {
  case g::TopKRetTyp::value:
    return one(back(v, 0));
  case g::TopKRetTyp::indices:
    return one(back(idx, 0));
  case g::TopKRetTyp::both:
    return SmallVector<Value>{back(v, 0), back(idx, 1)};
  case g::TopKRetTyp::mask:
    break;
  }
  llvm_unreachable("ret_typ");
}

/// argmax / argmin: MXNet's scan along the axis (a sequential reduction):
/// the running extreme is replaced by a value that is strictly better or NaN
/// unless it is NaN already, and the index follows it.
Results lowerSearch(Ctx &cx, Operation *op, Value x, std::optional<int64_t> axis, bool isMax) {
  Rows r(shapeOf(x), axis);
  Value v = cx.reshape(x, {r.outer, r.n, r.inner});
  Value best = cx.filled({r.outer, r.inner}, isMax ? -INFINITY : INFINITY);
  Value pos = cx.filled({r.outer, r.inner}, 0.0);
  AffineMap outMap = cx.map(3, {cx.d(0), cx.d(2)});
  SmallVector<Value> res = cx.genericN(
      ValueRange{v}, {cx.id(3)}, ValueRange{best, pos}, {outMap, outMap},
      {Iter::parallel, Iter::reduction, Iter::parallel},
      [&](B &nb, L nl, ValueRange a) -> SmallVector<Value> {
        Value better =
            arith::CmpFOp::create(nb, nl, isMax ? P::ULT : P::UGT, a[1], a[0]); // ¬(best ≥ v)
        Value replace = arith::AndIOp::create(nb, nl, better, notNan(nb, nl, a[1]));
        Value j = arith::IndexCastOp::create(nb, nl, nb.getI64Type(),
                                             linalg::IndexOp::create(nb, nl, 1));
        Value jf = arith::SIToFPOp::create(nb, nl, cx.et, j);
        return {arith::SelectOp::create(nb, nl, replace, a[0], a[1]),
                arith::SelectOp::create(nb, nl, replace, jf, a[2])};
      });
  return one(cx.reshape(res[1], tensorTy(op->getResult(0)).getShape()));
}

/// topk_grad: zeros with out_grad written at the positions the indices name
/// (truncated, clamped to the row).
Results lowerTopKGrad(Ctx &cx, g::TopKGradOp op) {
  Shape xs(op.getShape().begin(), op.getShape().end());
  std::optional<int64_t> axis = op.getAxis();
  Rows r(xs, axis);
  int64_t k = r.count() ? product(shapeOf(op.getOutGrad())) / r.count() : 0;
  Value dy = toRows(cx, op.getOutGrad(), r, k);
  Value idx = toRows(cx, op.getIndices(), r, k);
  B &b = cx.b;
  L loc = cx.loc;
  Value kC = index(b, loc, k);
  auto loop = scf::ForOp::create(
      b, loc, index(b, loc, 0), index(b, loc, r.count() * k), index(b, loc, 1),
      ValueRange{cx.filled({r.count() * r.n}, 0.0)}, [&](B &nb, L nl, Value t, ValueRange it) {
        Value row = arith::DivUIOp::create(nb, nl, t, kC);
        Value base = arith::MulIOp::create(nb, nl, row, index(nb, nl, r.n));
        Value f = tensor::ExtractOp::create(nb, nl, idx, ValueRange{t});
        Value lastF = cx.k(nb, nl, static_cast<double>(r.n - 1));
        Value inRow = arith::MinimumFOp::create(nb, nl, f, lastF);
        Value positive = arith::CmpFOp::create(nb, nl, P::OGT, f, cx.k(nb, nl, 0.0));
        Value col = arith::FPToSIOp::create(nb, nl, nb.getI64Type(), inRow);
        col = arith::SelectOp::create(
            nb, nl, positive, col, arith::ConstantIntOp::create(nb, nl, nb.getI64Type(), 0));
        Value at = arith::AddIOp::create(
            nb, nl, base, arith::IndexCastOp::create(nb, nl, nb.getIndexType(), col));
        Value g = tensor::ExtractOp::create(nb, nl, dy, ValueRange{t});
        scf::YieldOp::create(nb, nl, ValueRange{tensor::InsertOp::create(nb, nl, g, it[0], at)});
      });
  return one(fromRows(cx, loop.getResult(0), r, r.n, xs));
}

} // namespace

std::optional<Results> lowerReduceOp(Ctx &cx, Operation *op) {
  auto axesOf = [&](auto rop) { return rop.getReducedAxes(shapeOf(rop.getData()).size()); };
  auto sign = [&](B &nb, L nl, Value x) -> Value {
    return formula::sign(formula::S{&nb, nl, x}).v;
  };
  return llvm::TypeSwitch<Operation *, std::optional<Results>>(op)
      .Case([&](g::ProdOp o) {
        return lowerReduceFamily(cx, op, o.getData(), axesOf(o), 1.0, true, false);
      })
      .Case([&](g::NansumOp o) {
        return lowerReduceFamily(cx, op, o.getData(), axesOf(o), 0.0, false, true);
      })
      .Case([&](g::NanprodOp o) {
        return lowerReduceFamily(cx, op, o.getData(), axesOf(o), 1.0, true, true);
      })
      .Case([&](g::NormOp o) { return lowerNorm(cx, o); })
      .Case([&](g::MomentsOp o) { return lowerMoments(cx, o); })
      .Case([&](g::ArgmaxOp o) { return lowerSearch(cx, op, o.getData(), o.getAxis(), true); })
      .Case([&](g::ArgmaxChannelOp o) { return lowerSearch(cx, op, o.getData(), 1, true); })
      .Case([&](g::ArgminOp o) { return lowerSearch(cx, op, o.getData(), o.getAxis(), false); })
      .Case([&](g::TopKOp o) {
        return lowerSorting(cx, op, o.getData(), o.getAxis(), static_cast<int64_t>(o.getK()),
                            o.getRetTyp(), o.getIsAscend(), o.getDtype());
      })
      .Case([&](g::SortOp o) {
        return lowerSorting(cx, op, o.getData(), o.getAxis(), 0, g::TopKRetTyp::value,
                            o.getIsAscend(), g::DType::float32);
      })
      .Case([&](g::ArgsortOp o) {
        return lowerSorting(cx, op, o.getData(), o.getAxis(), 0, g::TopKRetTyp::indices,
                            o.getIsAscend(), o.getDtype());
      })
      .Case([&](g::ProdGradOp) {
        return lowerReduceGrad(cx, op, [](B &nb, L nl, Value x, Value dy, Value y) -> Value {
          return arith::MulFOp::create(nb, nl, dy, arith::DivFOp::create(nb, nl, y, x));
        });
      })
      .Case([&](g::NanprodGradOp) {
        return lowerReduceGrad(cx, op, [&](B &nb, L nl, Value x, Value dy, Value y) -> Value {
          Value q = arith::SelectOp::create(nb, nl, isNan(nb, nl, x), cx.k(nb, nl, 0.0),
                                            arith::DivFOp::create(nb, nl, y, x));
          return arith::MulFOp::create(nb, nl, dy, q);
        });
      })
      .Case([&](g::NansumGradOp) {
        return lowerReduceGrad(cx, op, [&](B &nb, L nl, Value x, Value dy, Value) -> Value {
          Value w = arith::SelectOp::create(nb, nl, isNan(nb, nl, x), cx.k(nb, nl, 0.0),
                                            cx.k(nb, nl, 1.0));
          return arith::MulFOp::create(nb, nl, dy, w);
        });
      })
      .Case([&](g::NormGradOp o) {
        bool l1 = o.getOrd() == 1;
        return lowerReduceGrad(cx, op, [&](B &nb, L nl, Value x, Value dy, Value y) -> Value {
          Value w = l1 ? sign(nb, nl, x) : Value(arith::DivFOp::create(nb, nl, x, y));
          return arith::MulFOp::create(nb, nl, dy, w);
        });
      })
      .Case([&](g::TopKGradOp o) { return lowerTopKGrad(cx, o); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
