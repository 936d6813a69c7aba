//===- ShapeOps.cpp - Reference semantics: shape and indexing -------------------===//
//
// The interpreter's kernels for GraphShapeOps.td, in double precision,
// following MXNet 1.9.1. Most are gathers: each result element is copied
// from a source position computed from its multi-index; the gradients of
// the indexing ops are the matching scatter-adds. Before running, every op's
// shape rule is re-checked against its operand values and result type, so
// bad IR raises kiln::Error instead of reading out of bounds.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphShapeOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

void splitAlongAxis(OpEnv &env, Operation *op, const Array &x, int64_t axis,
                    ArrayRef<int64_t> bounds) {
  int64_t rank = x.shape.size();
  int64_t outer = extent(x.shape, 0, axis);
  int64_t inner = extent(x.shape, axis + 1, rank);
  if (bounds.size() != op->getNumResults() + 1 || bounds.front() < 0 ||
      bounds.back() > x.shape[axis])
    fail(op, "cannot split " + shapeStr(x.shape) + " along axis " + std::to_string(axis) +
                 " into the " + std::to_string(op->getNumResults()) + " results");
  // Squeezing the split axis does not move any element, so each part's data
  // is the same whichever way its shape is written.
  for (unsigned j = 0; j + 1 < bounds.size(); ++j) {
    int64_t n = bounds[j + 1] - bounds[j];
    Array out = env.makeResult(op, j);
    if (n <= 0 || out.size() != outer * n * inner)
      fail(op, "result #" + std::to_string(j) + " has shape " + shapeStr(out.shape) +
                   " but holds " + std::to_string(outer * n * inner) + " values");
    for (int64_t o = 0; o < outer; ++o)
      std::copy_n(x.data.begin() + (o * x.shape[axis] + bounds[j]) * inner, n * inner,
                  out.data.begin() + o * n * inner);
    env.setResult(op, j, std::move(out));
  }
}

namespace {

/// Runs the op's shape rule on the operands' types and compares it with
/// the result types: the kernels below index with these shapes.
void checkShapes(Operation *op) {
  std::string message;
  ScopedDiagnosticHandler handler(op->getContext(), [&](Diagnostic &d) {
    if (message.empty())
      message = d.str();
    return success();
  });
  g::ShapeInferenceState state;
  if (failed(g::inferShapes(op, state)))
    fail(op, message.empty() ? "the shape rule fails" : message);
  for (auto [i, r] : llvm::enumerate(op->getResults())) {
    auto t = dyn_cast<RankedTensorType>(r.getType());
    if (!t || i >= state.results.size() || t.getShape() != llvm::ArrayRef(state.results[i]))
      fail(op, "result #" + std::to_string(i) + " does not have the shape " +
                   (i < state.results.size() ? shapeStr(state.results[i]) : "?") +
                   " of the shape rule");
  }
}

/// A result whose element at multi-index o is x's element at the flat
/// index `source(o)`.
template <typename Fn> Array gather(OpEnv &env, Operation *op, const Array &x, Fn &&source) {
  Array out = env.makeResult(op);
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) { out.data[flat] = x.data[source(o)]; });
  return out;
}

/// The position a take/pick index value selects along an axis of size n.
int64_t pickPosition(double v, int64_t n, bool wrap) {
  return wrap ? g::wrapIndex(v, n) : g::clipIndex(v, n);
}

Array copy(OpEnv &env, Operation *op, const Array &x) {
  Array out = env.makeResult(op);
  out.data = x.data;
  return out;
}

Array swapAxis(OpEnv &env, g::SwapAxisOp op) {
  const Array &x = env.get(op, op.getData());
  int64_t rank = x.shape.size();
  int64_t a = normalizeAxis(op, static_cast<int64_t>(op.getDim1()), rank);
  int64_t b = normalizeAxis(op, static_cast<int64_t>(op.getDim2()), rank);
  Index src;
  return gather(env, op, x, [&](const Index &o) {
    src = o;
    std::swap(src[a], src[b]);
    return flatIndex(src, x.shape);
  });
}

Array reverse(OpEnv &env, g::ReverseOp op) {
  const Array &x = env.get(op, op.getData());
  llvm::SmallVector<bool> reversed = op.getReversedAxes(x.shape.size());
  Index src;
  return gather(env, op, x, [&](const Index &o) {
    src = o;
    for (size_t d = 0; d < src.size(); ++d)
      if (reversed[d])
        src[d] = x.shape[d] - 1 - o[d];
    return flatIndex(src, x.shape);
  });
}

Array tile(OpEnv &env, g::TileOp op) {
  const Array &x = env.get(op, op.getData());
  Array out = env.makeResult(op);
  // The data's shape with leading 1s to the result's rank: its row-major
  // order is the data's.
  Shape s(out.shape.size() - x.shape.size(), 1);
  s.insert(s.end(), x.shape.begin(), x.shape.end());
  Index src(s.size());
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
    for (size_t d = 0; d < s.size(); ++d)
      src[d] = o[d] % s[d];
    out.data[flat] = x.data[flatIndex(src, s)];
  });
  return out;
}

Array repeat(OpEnv &env, g::RepeatOp op) {
  const Array &x = env.get(op, op.getData());
  int64_t reps = static_cast<int64_t>(op.getRepeats());
  if (!op.getAxis())
    return gather(env, op, x, [&](const Index &o) { return o[0] / reps; });
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(*op.getAxis()), x.shape.size());
  Index src;
  return gather(env, op, x, [&](const Index &o) {
    src = o;
    src[axis] /= reps;
    return flatIndex(src, x.shape);
  });
}

Array stack(OpEnv &env, g::StackOp op) {
  Array out = env.makeResult(op);
  int64_t rank = out.shape.size();
  int64_t axis = static_cast<int64_t>(op.getAxis());
  if (axis < 0)
    axis += rank;
  std::vector<const Array *> inputs;
  for (Value v : op.getData())
    inputs.push_back(&env.get(op, v));
  const Shape &in = inputs[0]->shape;
  Index src(rank - 1);
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
    for (int64_t d = 0, j = 0; d < rank; ++d)
      if (d != axis)
        src[j++] = o[d];
    out.data[flat] = inputs[o[axis]]->data[flatIndex(src, in)];
  });
  return out;
}

Array spaceToDepth(OpEnv &env, g::SpaceToDepthOp op) {
  const Array &x = env.get(op, op.getData());
  int64_t b = static_cast<int64_t>(op.getBlockSize()), c = x.shape[1];
  // out[n, (i·b + j)·C + c, h, w] = in[n, c, h·b + i, w·b + j].
  return gather(env, op, x, [&](const Index &o) {
    int64_t ch = o[1] % c, ij = o[1] / c;
    return flatIndex({o[0], ch, o[2] * b + ij / b, o[3] * b + ij % b}, x.shape);
  });
}

Array depthToSpace(OpEnv &env, g::DepthToSpaceOp op) {
  const Array &x = env.get(op, op.getData());
  int64_t b = static_cast<int64_t>(op.getBlockSize()), c = x.shape[1] / (b * b);
  // out[n, c, h·b + i, w·b + j] = in[n, (i·b + j)·C′ + c, h, w].
  return gather(env, op, x, [&](const Index &o) {
    int64_t i = o[2] % b, j = o[3] % b;
    return flatIndex({o[0], (i * b + j) * c + o[1], o[2] / b, o[3] / b}, x.shape);
  });
}

/// Copies a box of x: result element o comes from begin + o·step.
Array sliceBox(OpEnv &env, Operation *op, const Array &x, llvm::ArrayRef<int64_t> begin,
               llvm::ArrayRef<int64_t> step) {
  Index src;
  return gather(env, op, x, [&](const Index &o) {
    src = o;
    for (size_t d = 0; d < src.size(); ++d)
      src[d] = begin[d] + o[d] * (step.empty() ? 1 : step[d]);
    return flatIndex(src, x.shape);
  });
}

Array slice(OpEnv &env, g::SliceOp op) {
  const Array &x = env.get(op, op.getData());
  g::SliceBox box;
  std::string err = g::resolveSlice(x.shape, op.getBegin(), op.getEnd(), op.getStep(), box);
  if (!err.empty())
    fail(op, err);
  return sliceBox(env, op, x, box.begin, box.step);
}

Array crop(OpEnv &env, g::CropOp op) {
  const Array &x = env.get(op, op.getData());
  Shape out = env.makeResult(op).shape;
  auto [y, xo] = op.getCorner(x.shape, out);
  return sliceBox(env, op, x, {0, 0, y, xo}, {});
}

/// Where padded position p (an index into the padded axis) reads from an
/// axis of n elements padded by `lo` in front: -1 for constant padding.
int64_t padSource(g::PadMode mode, int64_t p, int64_t lo, int64_t n) {
  int64_t i = p - lo;
  if (i >= 0 && i < n)
    return i;
  switch (mode) {
  case g::PadMode::constant:
    return -1;
  case g::PadMode::edge:
    return i < 0 ? 0 : n - 1;
  case g::PadMode::reflect:
    return i < 0 ? -i : 2 * (n - 1) - i;
  }
  return -1;
}

Array pad(OpEnv &env, g::PadOp op) {
  const Array &x = env.get(op, op.getData());
  Array out = env.makeResult(op);
  llvm::ArrayRef<int64_t> pw = op.getPadWidth();
  double value = op.getConstantValue().convertToDouble();
  Index src(x.shape.size());
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
    for (size_t d = 0; d < src.size(); ++d) {
      src[d] = padSource(op.getMode(), o[d], pw[2 * d], x.shape[d]);
      if (src[d] < 0) {
        out.data[flat] = value;
        return;
      }
    }
    out.data[flat] = x.data[flatIndex(src, x.shape)];
  });
  return out;
}

/// take's and take_grad's view of a result index: the position in `a`
/// (shape as) that it reads, for indices of `rankIdx` dimensions.
struct TakeView {
  int64_t axis, rankIdx;
  g::TakeMode mode;

  /// Splits result index o into a's index (with the picked slice filled in
  /// from `indices`).
  int64_t source(Operation *op, const Index &o, const Array &indices, const Shape &as,
                 bool raise) const {
    Index idx(o.begin() + axis, o.begin() + axis + rankIdx);
    double v = indices.data[rankIdx ? flatIndex(idx, indices.shape) : 0];
    int64_t n = as[axis];
    if (raise && mode == g::TakeMode::raise && !(v >= 0 && v <= static_cast<double>(n - 1)))
      fail(op, "index " + std::to_string(v) + " is out of range for axis " +
                   std::to_string(axis) + " of size " + std::to_string(n) + " (mode 'raise')");
    Index src(as.size());
    for (int64_t d = 0; d < axis; ++d)
      src[d] = o[d];
    src[axis] = pickPosition(v, n, mode == g::TakeMode::wrap);
    for (size_t d = axis + 1; d < as.size(); ++d)
      src[d] = o[d - 1 + rankIdx];
    return flatIndex(src, as);
  }
};

Array take(OpEnv &env, g::TakeOp op) {
  const Array &a = env.get(op, op.getA());
  const Array &indices = env.get(op, op.getIndices());
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), a.shape.size());
  TakeView view{axis, static_cast<int64_t>(indices.shape.size()), op.getMode()};
  return gather(env, op, a,
                [&](const Index &o) { return view.source(op, o, indices, a.shape, true); });
}

Array takeGrad(OpEnv &env, g::TakeGradOp op) {
  const Array &indices = env.get(op, op.getIndices());
  const Array &dy = env.get(op, op.getOutGrad());
  Array out = env.makeResult(op);
  TakeView view{static_cast<int64_t>(op.getAxis()), static_cast<int64_t>(indices.shape.size()),
                op.getMode()};
  forEachIndex(dy.shape, [&](const Index &o, int64_t flat) {
    out.data[view.source(op, o, indices, out.shape, false)] += dy.data[flat];
  });
  return out;
}

/// pick and pick_grad: the data of shape xs seen as (lead, n, trail) along
/// `axis`; position p of the picked array (lead·trail of them) reads data
/// at (p / trail, k, p mod trail).
int64_t pickSource(const Shape &xs, int64_t axis, int64_t p, int64_t k) {
  int64_t trail = extent(xs, axis + 1, xs.size()), n = xs[axis];
  return ((p / trail) * n + k) * trail + p % trail;
}

Array pick(OpEnv &env, g::PickOp op) {
  const Array &x = env.get(op, op.getData());
  const Array &index = env.get(op, op.getIndex());
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), x.shape.size());
  bool wrap = op.getMode() == g::PickMode::wrap;
  Array out = env.makeResult(op);
  for (int64_t p = 0; p < out.size(); ++p)
    out.data[p] = x.data[pickSource(x.shape, axis, p,
                                     pickPosition(index.data[p], x.shape[axis], wrap))];
  return out;
}

Array pickGrad(OpEnv &env, g::PickGradOp op) {
  const Array &index = env.get(op, op.getIndex());
  const Array &dy = env.get(op, op.getOutGrad());
  Array out = env.makeResult(op);
  int64_t axis = static_cast<int64_t>(op.getAxis());
  bool wrap = op.getMode() == g::PickMode::wrap;
  for (int64_t p = 0; p < dy.size(); ++p)
    out.data[pickSource(out.shape, axis, p, pickPosition(index.data[p], out.shape[axis], wrap))] +=
        dy.data[p];
  return out;
}

/// gather_nd and its gradient: indices [M, N…] address the first M axes of
/// data of shape xs; calls fn(i, offset) for each of the N columns with the
/// flat offset of the slice (of K trailing elements) it addresses.
template <typename Fn>
void forEachGather(Operation *op, const Array &indices, const Shape &xs, bool check, Fn &&fn) {
  int64_t m = indices.shape[0], n = indices.size() / m;
  int64_t k = extent(xs, m, xs.size());
  for (int64_t i = 0; i < n; ++i) {
    int64_t offset = 0;
    for (int64_t j = 0; j < m; ++j) {
      double v = indices.data[j * n + i];
      if (check && !(v >= static_cast<double>(-xs[j]) && v <= static_cast<double>(xs[j] - 1)))
        fail(op, "index " + std::to_string(v) + " is out of bounds for axis " +
                     std::to_string(j) + " with size " + std::to_string(xs[j]));
      offset = offset * xs[j] + g::gatherIndex(v, xs[j]);
    }
    fn(i, offset * k, k);
  }
}

Array batchTake(OpEnv &env, g::BatchTakeOp op) {
  const Array &a = env.get(op, op.getA());
  const Array &idx = env.get(op, op.getIndices());
  Array out = env.makeResult(op);
  int64_t cols = a.shape[1];
  for (int64_t i = 0; i < out.size(); ++i)
    out.data[i] = a.data[i * cols + g::clipIndex(idx.data[i], cols)];
  return out;
}

Array gatherND(OpEnv &env, g::GatherNDOp op) {
  const Array &x = env.get(op, op.getData());
  const Array &indices = env.get(op, op.getIndices());
  Array out = env.makeResult(op);
  forEachGather(op, indices, x.shape, true, [&](int64_t i, int64_t offset, int64_t k) {
    std::copy_n(x.data.begin() + offset, k, out.data.begin() + i * k);
  });
  return out;
}

Array gatherNDGrad(OpEnv &env, g::GatherNDGradOp op) {
  const Array &indices = env.get(op, op.getIndices());
  const Array &dy = env.get(op, op.getOutGrad());
  Array out = env.makeResult(op);
  forEachGather(op, indices, out.shape, false, [&](int64_t i, int64_t offset, int64_t k) {
    for (int64_t j = 0; j < k; ++j)
      out.data[offset + j] += dy.data[i * k + j];
  });
  return out;
}

Array scatterND(OpEnv &env, g::ScatterNDOp op) {
  const Array &indices = env.get(op, op.getIndices());
  const Array &data = env.get(op, op.getData());
  Array out = env.makeResult(op);
  forEachGather(op, indices, out.shape, true, [&](int64_t i, int64_t offset, int64_t k) {
    std::copy_n(data.data.begin() + i * k, k, out.data.begin() + offset);
  });
  return out;
}

Array oneHot(OpEnv &env, g::OneHotOp op) {
  const Array &indices = env.get(op, op.getIndices());
  Array out = env.makeResult(op);
  int64_t depth = static_cast<int64_t>(op.getDepth());
  double on = g::fn::cast(op.getOnValue().convertToDouble(), op.getDtype());
  double off = g::fn::cast(op.getOffValue().convertToDouble(), op.getDtype());
  std::fill(out.data.begin(), out.data.end(), off);
  for (int64_t i = 0; i < indices.size(); ++i) {
    double v = indices.data[i];
    // trunc(v) in [0, depth) exactly when −1 < v < depth.
    if (v > -1 && v < static_cast<double>(depth))
      out.data[i * depth + static_cast<int64_t>(v)] = on;
  }
  return out;
}

Array where(OpEnv &env, g::WhereOp op) {
  const Array &cond = env.get(op, op.getCondition());
  const Array &x = env.get(op, op.getX());
  const Array &y = env.get(op, op.getY());
  Array out = env.makeResult(op);
  // A 1-D condition of another shape selects rows.
  int64_t rowSize = cond.shape == x.shape ? 1 : x.size() / cond.size();
  for (int64_t i = 0; i < out.size(); ++i)
    out.data[i] = cond.data[i / rowSize] != 0 ? x.data[i] : y.data[i];
  return out;
}

Array sliceGrad(OpEnv &env, g::SliceGradOp op) {
  const Array &dy = env.get(op, op.getOutGrad());
  Array out = env.makeResult(op);
  llvm::ArrayRef<int64_t> begin = op.getBegin(), step = op.getStep();
  Index dst(out.shape.size());
  forEachIndex(dy.shape, [&](const Index &o, int64_t flat) {
    for (size_t d = 0; d < dst.size(); ++d)
      dst[d] = begin[d] + o[d] * step[d];
    out.data[flatIndex(dst, out.shape)] = dy.data[flat];
  });
  return out;
}

Array padGrad(OpEnv &env, g::PadGradOp op) {
  const Array &dy = env.get(op, op.getOutGrad());
  Array out = env.makeResult(op);
  llvm::ArrayRef<int64_t> pw = op.getPadWidth();
  Index src(out.shape.size());
  forEachIndex(dy.shape, [&](const Index &o, int64_t flat) {
    for (size_t d = 0; d < src.size(); ++d) {
      src[d] = padSource(op.getMode(), o[d], pw[2 * d], out.shape[d]);
      if (src[d] < 0)
        return; // constant padding reads no element
    }
    out.data[flatIndex(src, out.shape)] += dy.data[flat];
  });
  return out;
}

/// The flat position in data of `shape` of element `o` of diag's result
/// (o: the data's other axes in order, then the position on the diagonal).
int64_t diagSource(const g::DiagGeometry &geo, llvm::ArrayRef<int64_t> shape, const Index &o) {
  Index i;
  size_t next = 0;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d == geo.axis1)
      i.push_back(geo.start1 + o.back());
    else if (d == geo.axis2)
      i.push_back(geo.start2 + o.back());
    else
      i.push_back(o[next++]);
  }
  return flatIndex(i, shape);
}

g::DiagGeometry diagGeometryOf(Operation *op, llvm::ArrayRef<int64_t> shape, int64_t k,
                               int64_t axis1, int64_t axis2) {
  g::DiagGeometry geo;
  if (std::string err = g::diagGeometry(shape, k, axis1, axis2, geo); !err.empty())
    fail(op, err);
  return geo;
}

Array diag(OpEnv &env, g::DiagOp op) {
  const Array &x = env.get(op, op.getData());
  int64_t k = static_cast<int64_t>(op.getK());
  if (x.shape.size() == 1) {
    // MXNet's diag_gen: out[i, j] = x[min(i, j)] where j = i + k.
    Array out = env.makeResult(op);
    forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
      out.data[flat] = o[1] == o[0] + k ? x.data[std::min(o[0], o[1])] : 0.0;
    });
    return out;
  }
  g::DiagGeometry geo = diagGeometryOf(op, x.shape, k, static_cast<int64_t>(op.getAxis1()),
                                       static_cast<int64_t>(op.getAxis2()));
  return gather(env, op, x, [&](const Index &o) { return diagSource(geo, x.shape, o); });
}

Array diagGrad(OpEnv &env, g::DiagGradOp op) {
  const Array &dy = env.get(op, op.getOutGrad());
  Array out = env.makeResult(op);
  g::DiagGeometry geo =
      diagGeometryOf(op, out.shape, static_cast<int64_t>(op.getK()),
                     static_cast<int64_t>(op.getAxis1()), static_cast<int64_t>(op.getAxis2()));
  forEachIndex(dy.shape, [&](const Index &o, int64_t flat) {
    out.data[diagSource(geo, out.shape, o)] = dy.data[flat];
  });
  return out;
}

Array indexArray(OpEnv &env, g::IndexArrayOp op) {
  const Array &x = env.get(op, op.getData());
  SmallVector<int64_t> axes = op.getListedAxes(x.shape.size());
  Array out = env.makeResult(op);
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
    out.data[flat] = static_cast<double>(o[axes[o.back()]]);
  });
  return out;
}

/// MXNet's ravel_index kernel: r = trunc(r · shape[j] + x) per axis.
Array ravelMultiIndex(OpEnv &env, g::RavelMultiIndexOp op) {
  const Array &x = env.get(op, op.getData());
  ArrayRef<int64_t> shape = *op.getShape();
  Array out = env.makeResult(op);
  int64_t n = out.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = 0;
    for (size_t j = 0; j < shape.size(); ++j)
      r = static_cast<int64_t>(static_cast<double>(r * shape[j]) + x.data[j * n + i]);
    out.data[i] = static_cast<double>(r);
  }
  return out;
}

/// MXNet's unravel_index kernel: truncating division from the last axis,
/// the first axis taking the quotient.
Array unravelIndex(OpEnv &env, g::UnravelIndexOp op) {
  const Array &x = env.get(op, op.getData());
  ArrayRef<int64_t> shape = *op.getShape();
  Array out = env.makeResult(op);
  int64_t n = x.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t idx = static_cast<int64_t>(x.data[i]);
    for (int64_t j = static_cast<int64_t>(shape.size()) - 1; j > 0; --j) {
      int64_t q = idx / shape[j];
      out.data[j * n + i] = static_cast<double>(idx - q * shape[j]);
      idx = q;
    }
    out.data[i] = static_cast<double>(idx);
  }
  return out;
}

Array fill(OpEnv &env, Operation *op, double value) {
  Array out = env.makeResult(op);
  std::fill(out.data.begin(), out.data.end(), value);
  return out;
}

} // namespace

bool interpretShapeOp(OpEnv &env, Operation *op) {
  auto run = [&](auto fn) -> bool {
    checkShapes(op);
    env.setResult(op, 0, fn());
    return true;
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](g::ExpandDimsOp o) { return run([&] { return copy(env, o, env.get(o, o.getData())); }); })
      .Case([&](g::SqueezeOp o) { return run([&] { return copy(env, o, env.get(o, o.getData())); }); })
      .Case([&](g::ReshapeLikeOp o) { return run([&] { return copy(env, o, env.get(o, o.getLhs())); }); })
      .Case([&](g::SwapAxisOp o) { return run([&] { return swapAxis(env, o); }); })
      .Case([&](g::ReverseOp o) { return run([&] { return reverse(env, o); }); })
      .Case([&](g::TileOp o) { return run([&] { return tile(env, o); }); })
      .Case([&](g::RepeatOp o) { return run([&] { return repeat(env, o); }); })
      // Broadcasts whose result shape says it all (operand 0 is the data).
      .Case<g::BroadcastLikeOp, g::BroadcastAxisOp>([&](Operation *o) {
        return run([&] {
          const Array &x = env.get(o, o->getOperand(0));
          return gather(env, o, x, [&](const Index &i) { return broadcastSource(i, x.shape); });
        });
      })
      .Case([&](g::StackOp o) { return run([&] { return stack(env, o); }); })
      .Case([&](g::SplitV2Op o) {
        checkShapes(op);
        const Array &x = env.get(o, o.getData());
        int64_t axis = normalizeAxis(o, static_cast<int64_t>(o.getAxis()), x.shape.size());
        splitAlongAxis(env, o, x, axis, o.getPartBounds(x.shape[axis]));
        return true;
      })
      .Case([&](g::SpaceToDepthOp o) { return run([&] { return spaceToDepth(env, o); }); })
      .Case([&](g::DepthToSpaceOp o) { return run([&] { return depthToSpace(env, o); }); })
      .Case([&](g::SliceOp o) { return run([&] { return slice(env, o); }); })
      .Case([&](g::SliceLikeOp o) {
        return run([&] {
          const Array &x = env.get(o, o.getData());
          return sliceBox(env, o, x, Shape(x.shape.size(), 0), {});
        });
      })
      .Case([&](g::CropOp o) { return run([&] { return crop(env, o); }); })
      .Case([&](g::PadOp o) { return run([&] { return pad(env, o); }); })
      .Case([&](g::TakeOp o) { return run([&] { return take(env, o); }); })
      .Case([&](g::PickOp o) { return run([&] { return pick(env, o); }); })
      .Case([&](g::GatherNDOp o) { return run([&] { return gatherND(env, o); }); })
      .Case([&](g::OneHotOp o) { return run([&] { return oneHot(env, o); }); })
      .Case([&](g::WhereOp o) { return run([&] { return where(env, o); }); })
      .Case([&](g::ShapeArrayOp o) {
        return run([&] {
          const Array &x = env.get(o, o.getData());
          Array out = env.makeResult(o);
          for (size_t d = 0; d < x.shape.size(); ++d)
            out.data[d] = static_cast<double>(x.shape[d]);
          return out;
        });
      })
      .Case([&](g::SizeArrayOp o) {
        return run([&] { return fill(env, o, static_cast<double>(env.get(o, o.getData()).size())); });
      })
      .Case([&](g::ArangeOp o) {
        return run([&] {
          Array out = env.makeResult(o);
          llvm::SmallVector<double> values = o.getValues();
          if (static_cast<int64_t>(values.size()) != out.size())
            fail(o, "the range has " + std::to_string(values.size()) +
                        " values for a result of shape " + shapeStr(out.shape));
          out.data.assign(values.begin(), values.end());
          return out;
        });
      })
      .Case([&](g::OnesOp o) { return run([&] { return fill(env, o, 1.0); }); })
      .Case([&](g::AmpMulticastOp o) {
        checkShapes(o);
        for (unsigned i = 0; i < o.getInputs().size(); ++i)
          env.setResult(o, i, env.get(o, o.getInputs()[i]));
        return true;
      })
      .Case([&](g::ZerosWithoutDtypeOp o) { return run([&] { return fill(env, o, 0.0); }); })
      .Case([&](g::EyeOp o) {
        return run([&] {
          Array out = env.makeResult(o);
          llvm::SmallVector<double> values = o.getValues();
          if (static_cast<int64_t>(values.size()) != out.size())
            fail(o, "eye has " + std::to_string(values.size()) +
                        " values for a result of shape " + shapeStr(out.shape));
          out.data.assign(values.begin(), values.end());
          return out;
        });
      })
      .Case([&](g::ArangeLikeOp o) {
        return run([&] {
          Array out = env.makeResult(o);
          llvm::SmallVector<double> values = o.getValues(out.size());
          out.data.assign(values.begin(), values.end());
          return out;
        });
      })
      .Case([&](g::FullOp o) {
        return run([&] { return fill(env, o, g::fn::cast(o.getValue().convertToDouble(), o.getDtype())); });
      })
      .Case([&](g::SliceGradOp o) { return run([&] { return sliceGrad(env, o); }); })
      .Case([&](g::TakeGradOp o) { return run([&] { return takeGrad(env, o); }); })
      .Case([&](g::PickGradOp o) { return run([&] { return pickGrad(env, o); }); })
      .Case([&](g::GatherNDGradOp o) { return run([&] { return gatherNDGrad(env, o); }); })
      .Case([&](g::PadGradOp o) { return run([&] { return padGrad(env, o); }); })
      .Case([&](g::DiagOp o) { return run([&] { return diag(env, o); }); })
      .Case([&](g::BatchTakeOp o) { return run([&] { return batchTake(env, o); }); })
      .Case([&](g::IndexArrayOp o) { return run([&] { return indexArray(env, o); }); })
      .Case([&](g::ScatterNDOp o) { return run([&] { return scatterND(env, o); }); })
      .Case([&](g::RavelMultiIndexOp o) { return run([&] { return ravelMultiIndex(env, o); }); })
      .Case([&](g::UnravelIndexOp o) { return run([&] { return unravelIndex(env, o); }); })
      .Case([&](g::DiagGradOp o) { return run([&] { return diagGrad(env, o); }); })
      .Default([](Operation *) { return false; });
}

} // namespace kiln::ref
