//===- ReduceOps.cpp - Reference semantics: reductions and sorting -------------------===//
//
// The interpreter's kernels for GraphReduceOps.td, in double precision,
// following MXNet 1.9.1. Sorting is a stable sort with NaN largest (the
// family's order, see GraphReduceOps.td).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphReduceOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {
namespace {

//===----------------------------------------------------------------------===//
// Reductions over an axis set
//===----------------------------------------------------------------------===//

/// Folds `step(acc, x)` over the reduced axes of `data` from `init`, then
/// applies `finish` to each result. The result's type gives the output shape
/// (keepdims only adds size-1 axes, which leave the row-major order alone).
template <typename Step, typename Finish>
Array reduceAxes(OpEnv &env, Operation *op, Value data, ArrayRef<int64_t> axes, double init,
                 Step step, Finish finish) {
  const Array &x = env.get(op, data);
  int64_t rank = x.shape.size();
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes)
    reduced[a] = true;
  Shape kept;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d])
      kept.push_back(x.shape[d]);
  Array out = env.makeResult(op);
  if (out.size() != numElements(kept))
    fail(op, "result shape " + shapeStr(out.shape) + " does not match " + shapeStr(kept) +
                 " (data " + shapeStr(x.shape) + " with the reduced axes removed)");
  std::fill(out.data.begin(), out.data.end(), init);
  forEachIndex(x.shape, [&](const Index &i, int64_t flat) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[d])
        o = o * x.shape[d] + i[d];
    out.data[o] = step(out.data[o], x.data[flat]);
  });
  for (double &v : out.data)
    v = finish(v);
  return out;
}

Array norm(OpEnv &env, g::NormOp op) {
  SmallVector<int64_t> axes = op.getReducedAxes(env.get(op, op.getData()).shape.size());
  if (op.getOrd() == 1)
    return reduceAxes(
        env, op, op.getData(), axes, 0.0, [](double acc, double x) { return acc + std::abs(x); },
        [](double v) { return v; });
  // Doubles hold the squares of every float without overflow.
  return reduceAxes(
      env, op, op.getData(), axes, 0.0, [](double acc, double x) { return acc + x * x; },
      [](double v) { return std::sqrt(v); });
}

/// moments: the mean, then the mean of the squared deviations from it
/// (MXNet's two passes).
void moments(OpEnv &env, g::MomentsOp op) {
  const Array &x = env.get(op, op.getData());
  int64_t rank = x.shape.size();
  std::vector<bool> reduced(rank, false);
  for (int64_t a : op.getReducedAxes(rank))
    reduced[a] = true;
  Array mean = env.makeResult(op, 0), var = env.makeResult(op, 1);
  int64_t kept = 1;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d])
      kept *= x.shape[d];
  if (mean.size() != kept || var.size() != kept)
    fail(op, "results " + shapeStr(mean.shape) + " and " + shapeStr(var.shape) +
                 " do not hold the " + std::to_string(kept) + " values of data " +
                 shapeStr(x.shape) + " reduced");
  auto keptPos = [&](const Index &i) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[d])
        o = o * x.shape[d] + i[d];
    return o;
  };
  double n = static_cast<double>(x.size() / kept);
  forEachIndex(x.shape, [&](const Index &i, int64_t flat) { mean.data[keptPos(i)] += x.data[flat]; });
  for (double &v : mean.data)
    v /= n;
  forEachIndex(x.shape, [&](const Index &i, int64_t flat) {
    int64_t o = keptPos(i);
    double d = x.data[flat] - mean.data[o];
    var.data[o] += d * d;
  });
  for (double &v : var.data)
    v /= n;
  env.setResult(op, 0, std::move(mean));
  env.setResult(op, 1, std::move(var));
}

/// The reductions' backward ops: `fn(x, dy, y)` elementwise, dy and y
/// broadcast to x.
template <typename Fn> Array reduceGrad(OpEnv &env, Operation *op, Fn fn) {
  const Array &x = env.get(op, op->getOperand(0));
  const Array &dy = env.get(op, op->getOperand(1));
  const Array &y = env.get(op, op->getOperand(2));
  for (const Array *a : {&dy, &y})
    if (!broadcastsTo(a->shape, x.shape))
      fail(op, "operand of shape " + shapeStr(a->shape) + " does not broadcast to the data's " +
                   shapeStr(x.shape));
  Array out = env.makeResult(op);
  forEachIndex(x.shape, [&](const Index &i, int64_t flat) {
    out.data[flat] =
        fn(x.data[flat], dy.data[broadcastSource(i, dy.shape)], y.data[broadcastSource(i, y.shape)]);
  });
  return out;
}

//===----------------------------------------------------------------------===//
// Searching and sorting
//===----------------------------------------------------------------------===//

/// `shape` seen as rows along an axis: [outer, n, inner], each (outer,
/// inner) pair one row of n elements; the flattened data is one row.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;

  Rows(Operation *op, ArrayRef<int64_t> shape, std::optional<int64_t> axis) {
    int64_t rank = shape.size();
    if (!axis) {
      n = numElements(shape);
      return;
    }
    int64_t a = normalizeAxis(op, *axis, rank);
    outer = extent(shape, 0, a);
    n = shape[a];
    inner = extent(shape, a + 1, rank);
  }
  int64_t count() const { return outer * inner; }
  /// The flat position of element j of row r in a [outer, len, inner]
  /// array (len = n for the data, k for topk's values).
  int64_t at(int64_t r, int64_t j, int64_t len) const {
    return ((r / inner) * len + j) * inner + r % inner;
  }
};

/// argmax / argmin, MXNet's scan (mshadow's reduce_with_axis with a mask):
/// the running extreme starts at ∓inf, is replaced by a value that is
/// strictly better or NaN unless it is NaN already, and the index follows
/// every replacement.
Array search(OpEnv &env, Operation *op, Value data, std::optional<int64_t> axis, bool isMax) {
  const Array &x = env.get(op, data);
  Rows rows(op, x.shape, axis);
  Array out = env.makeResult(op);
  if (out.size() != rows.count())
    fail(op, "result shape " + shapeStr(out.shape) + " does not hold one index per row of " +
                 shapeStr(x.shape));
  for (int64_t r = 0; r < rows.count(); ++r) {
    double best = isMax ? -INFINITY : INFINITY;
    int64_t index = 0;
    for (int64_t j = 0; j < rows.n; ++j) {
      double v = x.data[rows.at(r, j, rows.n)];
      double before = best;
      if (!std::isnan(best) && !(isMax ? best >= v : best <= v))
        best = v;
      if (before != best && !std::isnan(before))
        index = j;
    }
    out.data[r] = static_cast<double>(index);
  }
  return out;
}

/// Whether `a` sorts before `b`: the family's order, NaN largest.
bool sortsBefore(double a, double b, bool ascending) {
  if (ascending)
    return !std::isnan(a) && (std::isnan(b) || a < b);
  return !std::isnan(b) && (std::isnan(a) || a > b);
}

/// Positions 0..n-1 of each row in sorted order (stable).
std::vector<std::vector<int64_t>> sortRows(const Array &x, const Rows &rows, bool ascending) {
  std::vector<std::vector<int64_t>> order(rows.count());
  for (int64_t r = 0; r < rows.count(); ++r) {
    std::vector<int64_t> &o = order[r];
    o.resize(rows.n);
    std::iota(o.begin(), o.end(), 0);
    std::stable_sort(o.begin(), o.end(), [&](int64_t i, int64_t j) {
      return sortsBefore(x.data[rows.at(r, i, rows.n)], x.data[rows.at(r, j, rows.n)], ascending);
    });
  }
  return order;
}

/// topk, sort and argsort: sets the op's results.
void sorting(OpEnv &env, Operation *op, Value data, std::optional<int64_t> axis, int64_t k,
             g::TopKRetTyp retTyp, bool ascending, g::DType dtype) {
  const Array &x = env.get(op, data);
  Rows rows(op, x.shape, axis);
  if (k <= 0)
    k = rows.n;
  if (k > rows.n)
    fail(op, "k = " + std::to_string(k) + " exceeds the " + std::to_string(rows.n) +
                 " elements of a row");
  std::vector<std::vector<int64_t>> order = sortRows(x, rows, ascending);
  if (retTyp == g::TopKRetTyp::mask) {
    Array mask = env.makeResult(op);
    for (int64_t r = 0; r < rows.count(); ++r)
      for (int64_t p = 0; p < k; ++p)
        mask.data[rows.at(r, order[r][p], rows.n)] = 1;
    env.setResult(op, 0, std::move(mask));
    return;
  }
  Array values = env.makeResult(op, 0);
  Array indices = env.makeResult(op, retTyp == g::TopKRetTyp::both ? 1 : 0);
  if (values.size() != rows.count() * k)
    fail(op, "result shape " + shapeStr(values.shape) + " does not hold " + std::to_string(k) +
                 " elements per row of " + shapeStr(x.shape));
  for (int64_t r = 0; r < rows.count(); ++r)
    for (int64_t p = 0; p < k; ++p) {
      int64_t src = order[r][p], dst = rows.at(r, p, k);
      values.data[dst] = x.data[rows.at(r, src, rows.n)];
      indices.data[dst] = g::fn::cast(static_cast<double>(src), dtype);
    }
  switch (retTyp) {
  case g::TopKRetTyp::value:
    env.setResult(op, 0, std::move(values));
    break;
  case g::TopKRetTyp::indices:
    env.setResult(op, 0, std::move(indices));
    break;
  case g::TopKRetTyp::both:
    env.setResult(op, 0, std::move(values));
    env.setResult(op, 1, std::move(indices));
    break;
  case g::TopKRetTyp::mask:
    break;
  }
}

/// topk_grad: out_grad written at the positions the indices name (truncated,
/// clamped to the row).
Array topkGrad(OpEnv &env, g::TopKGradOp op) {
  const Array &dy = env.get(op, op.getOutGrad());
  const Array &idx = env.get(op, op.getIndices());
  Array out = env.makeResult(op);
  std::optional<int64_t> axis = op.getAxis();
  Rows rows(op, out.shape, axis);
  int64_t k = rows.count() ? dy.size() / rows.count() : 0;
  if (dy.shape != idx.shape || dy.size() != rows.count() * k)
    fail(op, "out_grad " + shapeStr(dy.shape) + " and indices " + shapeStr(idx.shape) +
                 " are not topk values of " + shapeStr(out.shape));
  for (int64_t r = 0; r < rows.count(); ++r)
    for (int64_t p = 0; p < k; ++p) {
      double v = idx.data[rows.at(r, p, k)];
      int64_t col = std::isnan(v) || v <= 0 ? 0
                    : v >= static_cast<double>(rows.n - 1) ? rows.n - 1
                                                            : static_cast<int64_t>(v);
      out.data[rows.at(r, col, rows.n)] = dy.data[rows.at(r, p, k)];
    }
  return out;
}

} // namespace

bool interpretReduceOp(OpEnv &env, Operation *op) {
  auto set = [&](Array a) {
    env.setResult(op, 0, std::move(a));
    return true;
  };
  auto axesOf = [&](auto rop) {
    return rop.getReducedAxes(env.get(op, rop.getData()).shape.size());
  };
  auto identity = [](double v) { return v; };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](g::ProdOp o) {
        return set(reduceAxes(
            env, op, o.getData(), axesOf(o), 1.0, [](double a, double x) { return a * x; },
            identity));
      })
      .Case([&](g::NansumOp o) {
        return set(reduceAxes(
            env, op, o.getData(), axesOf(o), 0.0,
            [](double a, double x) { return std::isnan(x) ? a : a + x; }, identity));
      })
      .Case([&](g::NanprodOp o) {
        return set(reduceAxes(
            env, op, o.getData(), axesOf(o), 1.0,
            [](double a, double x) { return std::isnan(x) ? a : a * x; }, identity));
      })
      .Case([&](g::NormOp o) { return set(norm(env, o)); })
      .Case([&](g::MomentsOp o) {
        moments(env, o);
        return true;
      })
      .Case([&](g::ArgmaxOp o) { return set(search(env, op, o.getData(), o.getAxis(), true)); })
      .Case([&](g::ArgminOp o) { return set(search(env, op, o.getData(), o.getAxis(), false)); })
      .Case([&](g::ArgmaxChannelOp o) { return set(search(env, op, o.getData(), 1, true)); })
      .Case([&](g::TopKOp o) {
        sorting(env, op, o.getData(), o.getAxis(), static_cast<int64_t>(o.getK()), o.getRetTyp(),
                o.getIsAscend(), o.getDtype());
        return true;
      })
      .Case([&](g::SortOp o) {
        sorting(env, op, o.getData(), o.getAxis(), 0, g::TopKRetTyp::value, o.getIsAscend(),
                g::DType::float32);
        return true;
      })
      .Case([&](g::ArgsortOp o) {
        sorting(env, op, o.getData(), o.getAxis(), 0, g::TopKRetTyp::indices, o.getIsAscend(),
                o.getDtype());
        return true;
      })
      .Case([&](g::ProdGradOp) {
        return set(reduceGrad(env, op, [](double x, double dy, double y) { return dy * (y / x); }));
      })
      .Case([&](g::NanprodGradOp) {
        return set(reduceGrad(env, op, [](double x, double dy, double y) {
          return dy * (std::isnan(x) ? 0.0 : y / x);
        }));
      })
      .Case([&](g::NansumGradOp) {
        return set(reduceGrad(
            env, op, [](double x, double dy, double) { return dy * (std::isnan(x) ? 0.0 : 1.0); }));
      })
      .Case([&](g::NormGradOp o) {
        if (o.getOrd() == 1)
          return set(reduceGrad(env, op, [](double x, double dy, double) {
            return dy * (x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0);
          }));
        return set(reduceGrad(env, op, [](double x, double dy, double y) { return dy * (x / y); }));
      })
      .Case([&](g::TopKGradOp o) { return set(topkGrad(env, o)); })
      .Default([](Operation *) { return false; });
}

} // namespace kiln::ref
