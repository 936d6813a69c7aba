//===- ShapeOps.cpp - Lowering of shape and indexing to linalg ----------------===//
//
// GraphShapeOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/ShapeOps.cpp). Views are reshapes; boxes are
// extract/insert_slice (a generic with a strided affine map for negative
// steps); tile, repeat and depth/space moves are broadcasts or transposes
// of a reshaped view; the indexing ops are generics that compute the
// source position from the index value and read it with tensor.extract,
// and their gradients scatter-add in an scf.for over the indices (as
// Embedding's) or, where each result element has one source, gather.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphShapeOps.h"
#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

namespace {

Value cidx(OpBuilder &b, Location l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

Value toIndex(OpBuilder &b, Location l, Value i64) {
  return arith::IndexCastOp::create(b, l, b.getIndexType(), i64);
}

/// The position a float index value v selects along an axis of n elements,
/// as graph::clipIndex: clamped to [0, n − 1], NaN giving 0.
Value clipPosition(Ctx &cx, OpBuilder &b, Location l, Value v, int64_t n) {
  auto ci = [&](int64_t c) -> Value { return arith::ConstantIntOp::create(b, l, c, 64); };
  // fptosi is only taken where v is in [1, n).
  Value i = arith::FPToSIOp::create(b, l, b.getI64Type(), v);
  Value ge1 = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, v, cx.k(b, l, 1.0));
  Value geN = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, v,
                                    cx.k(b, l, static_cast<double>(n)));
  Value r = arith::SelectOp::create(b, l, geN, ci(n - 1), arith::SelectOp::create(b, l, ge1, i, ci(0)));
  return toIndex(b, l, r);
}

/// As graph::wrapIndex: trunc(v) modulo n in [0, n), NaN giving 0.
Value wrapPosition(Ctx &cx, OpBuilder &b, Location l, Value v, int64_t n) {
  Value nf = cx.k(b, l, static_cast<double>(n));
  Value r = arith::RemFOp::create(b, l, math::TruncOp::create(b, l, v), nf);
  Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, r, cx.k(b, l, 0.0));
  r = arith::SelectOp::create(b, l, neg, arith::AddFOp::create(b, l, r, nf), r);
  Value nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, v, v);
  r = arith::SelectOp::create(b, l, nan, cx.k(b, l, 0.0), r);
  return toIndex(b, l, arith::FPToSIOp::create(b, l, b.getI64Type(), r));
}

Value position(Ctx &cx, OpBuilder &b, Location l, Value v, int64_t n, bool wrap) {
  return wrap ? wrapPosition(cx, b, l, v, n) : clipPosition(cx, b, l, v, n);
}

/// gather_nd's position: trunc(v + n) modulo n.
Value gatherPosition(Ctx &cx, OpBuilder &b, Location l, Value v, int64_t n) {
  return wrapPosition(cx, b, l, arith::AddFOp::create(b, l, v, cx.k(b, l, static_cast<double>(n))),
                      n);
}

/// A constant tensor of `shape` holding `values` in row-major order.
Value constantTensor(Ctx &cx, ArrayRef<int64_t> shape, ArrayRef<double> values) {
  auto ty = RankedTensorType::get(shape, cx.et);
  SmallVector<Attribute> attrs;
  for (double v : values)
    attrs.push_back(cx.b.getFloatAttr(cx.et, v));
  return arith::ConstantOp::create(cx.b, cx.loc, DenseElementsAttr::get(ty, attrs));
}

SmallVector<Value> loopIndices(OpBuilder &b, Location l, unsigned n) {
  SmallVector<Value> out;
  for (unsigned i = 0; i < n; ++i)
    out.push_back(linalg::IndexOp::create(b, l, i));
  return out;
}

/// A generic over `outShape` whose body computes each element from its
/// loop indices alone (the inputs it reads are captured).
Value fromIndices(Ctx &cx, ArrayRef<int64_t> outShape,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Iter> iters(outShape.size(), Iter::parallel);
  return cx.generic(outShape, ValueRange{}, {}, iters,
                    [&](OpBuilder &b, Location l, ValueRange) {
                      return body(b, l, loopIndices(b, l, outShape.size()));
                    });
}

g::DiagGeometry diagGeometryOf(ArrayRef<int64_t> shape, int64_t k, int64_t axis1,
                               int64_t axis2) {
  g::DiagGeometry geo;
  std::string err = g::diagGeometry(shape, k, axis1, axis2, geo);
  assert(err.empty() && "diag's shape rule checked the geometry");
  (void)err;
  return geo;
}

Results lowerDiag(Ctx &cx, g::DiagOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x), out = shapeOf(op.getOutput());
  int64_t k = static_cast<int64_t>(op.getK());
  if (xs.size() == 1) {
    // out[i, j] = x[min(i, j)] on the diagonal j = i + k, 0 elsewhere.
    return one(fromIndices(cx, out, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
      Value onDiag = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, o[1],
                                           arith::AddIOp::create(b, l, o[0], cidx(b, l, k)));
      Value at = arith::MinSIOp::create(b, l, arith::MinSIOp::create(b, l, o[0], o[1]),
                                        cidx(b, l, xs[0] - 1));
      Value v = tensor::ExtractOp::create(b, l, x, ValueRange{at});
      return arith::SelectOp::create(b, l, onDiag, v, cx.k(b, l, 0.0));
    }));
  }
  g::DiagGeometry geo = diagGeometryOf(xs, k, static_cast<int64_t>(op.getAxis1()),
                                       static_cast<int64_t>(op.getAxis2()));
  return one(fromIndices(cx, out, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
    SmallVector<Value> src;
    size_t next = 0;
    for (int64_t d = 0; d < static_cast<int64_t>(xs.size()); ++d) {
      if (d == geo.axis1 || d == geo.axis2)
        src.push_back(arith::AddIOp::create(
            b, l, o.back(), cidx(b, l, d == geo.axis1 ? geo.start1 : geo.start2)));
      else
        src.push_back(o[next++]);
    }
    return tensor::ExtractOp::create(b, l, x, src);
  }));
}

/// diag_grad: out_grad's element t at (start1 + t, start2 + t) of each
/// matrix, 0 off the diagonal.
Results lowerDiagGrad(Ctx &cx, g::DiagGradOp op) {
  Value dy = op.getOutGrad();
  Shape xs = shapeOf(op.getOutput());
  g::DiagGeometry geo =
      diagGeometryOf(xs, static_cast<int64_t>(op.getK()), static_cast<int64_t>(op.getAxis1()),
                     static_cast<int64_t>(op.getAxis2()));
  return one(fromIndices(cx, xs, [&](OpBuilder &b, Location l, ValueRange p) -> Value {
    using P = arith::CmpIPredicate;
    Value t1 = arith::SubIOp::create(b, l, p[geo.axis1], cidx(b, l, geo.start1));
    Value t2 = arith::SubIOp::create(b, l, p[geo.axis2], cidx(b, l, geo.start2));
    Value onDiag = arith::AndIOp::create(
        b, l, arith::CmpIOp::create(b, l, P::eq, t1, t2),
        arith::AndIOp::create(b, l, arith::CmpIOp::create(b, l, P::sge, t1, cidx(b, l, 0)),
                              arith::CmpIOp::create(b, l, P::slt, t1,
                                                    cidx(b, l, geo.length))));
    // Off the diagonal, read a valid element and discard it.
    Value t = arith::MaxSIOp::create(
        b, l, arith::MinSIOp::create(b, l, t1, cidx(b, l, geo.length - 1)),
        cidx(b, l, 0));
    SmallVector<Value> src;
    for (int64_t d = 0; d < static_cast<int64_t>(xs.size()); ++d)
      if (d != geo.axis1 && d != geo.axis2)
        src.push_back(p[d]);
    src.push_back(t);
    Value v = tensor::ExtractOp::create(b, l, dy, src);
    return arith::SelectOp::create(b, l, onDiag, v, cx.k(b, l, 0.0));
  }));
}

/// An index as a float of the element type.
Value indexToFloat(Ctx &cx, OpBuilder &b, Location l, Value i) {
  Value i64 = arith::IndexCastOp::create(b, l, b.getI64Type(), i);
  return arith::SIToFPOp::create(b, l, cx.et, i64);
}

Results lowerIndexArray(Ctx &cx, g::IndexArrayOp op) {
  Shape xs = shapeOf(op.getData()), out = shapeOf(op.getOutput());
  SmallVector<int64_t> axes = op.getListedAxes(xs.size());
  return one(fromIndices(cx, out, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
    // o[axes[j]] for j = the last index, as a chain of selects.
    Value v = indexToFloat(cx, b, l, o[axes.back()]);
    for (int64_t j = static_cast<int64_t>(axes.size()) - 2; j >= 0; --j) {
      Value isJ = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, o.back(),
                                        cidx(b, l, j));
      v = arith::SelectOp::create(b, l, isJ, indexToFloat(cx, b, l, o[axes[j]]), v);
    }
    return v;
  }));
}

/// ravel_multi_index: r = trunc(r · shape[j] + data[j, i]), in the element
/// type (MXNet's kernel adds the float index to the integer product).
Results lowerRavelMultiIndex(Ctx &cx, g::RavelMultiIndexOp op) {
  Value x = op.getData();
  ArrayRef<int64_t> shape = *op.getShape();
  Shape out = shapeOf(op.getOutput());
  return one(fromIndices(cx, out, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
    Value r = cx.k(b, l, 0.0);
    for (size_t j = 0; j < shape.size(); ++j) {
      Value v = tensor::ExtractOp::create(b, l, x, ValueRange{cidx(b, l, j), o[0]});
      Value sum = arith::AddFOp::create(
          b, l, arith::MulFOp::create(b, l, r, cx.k(b, l, static_cast<double>(shape[j]))), v);
      r = math::TruncOp::create(b, l, sum);
    }
    return r;
  }));
}

/// unravel_index: the index truncated to an integer, divided (truncating)
/// from the last axis; row 0 takes the final quotient.
Results lowerUnravelIndex(Ctx &cx, g::UnravelIndexOp op) {
  Value x = op.getData();
  ArrayRef<int64_t> shape = *op.getShape();
  Shape out = shapeOf(op.getOutput());
  return one(fromIndices(cx, out, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
    Value v = tensor::ExtractOp::create(b, l, x, ValueRange{o[1]});
    Value idx = arith::FPToSIOp::create(b, l, b.getI64Type(), v);
    Value result = idx;
    // Row j is idx_j − q_j · shape[j] with idx_{j−1} = q_j, computed from
    // the last axis; row 0 is the last quotient.
    Value row = arith::IndexCastOp::create(b, l, b.getI64Type(), o[0]);
    for (int64_t j = static_cast<int64_t>(shape.size()) - 1; j > 0; --j) {
      Value s = arith::ConstantIntOp::create(b, l, shape[j], 64);
      Value q = arith::DivSIOp::create(b, l, idx, s);
      Value rem = arith::SubIOp::create(b, l, idx, arith::MulIOp::create(b, l, q, s));
      Value isJ = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, row,
                                        arith::ConstantIntOp::create(b, l, j, 64));
      result = j == static_cast<int64_t>(shape.size()) - 1
                   ? rem
                   : arith::SelectOp::create(b, l, isJ, rem, result).getResult();
      idx = q;
    }
    Value isFirst = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, row,
                                          arith::ConstantIntOp::create(b, l, 0, 64));
    result = arith::SelectOp::create(b, l, isFirst, idx, result);
    return arith::SIToFPOp::create(b, l, cx.et, result);
  }));
}

Results lowerSwapAxis(Ctx &cx, g::SwapAxisOp op) {
  Value x = op.getData();
  int64_t rank = shapeOf(x).size();
  int64_t a = normAxis(static_cast<int64_t>(op.getDim1()), rank);
  int64_t b = normAxis(static_cast<int64_t>(op.getDim2()), rank);
  if (a == b)
    return one(x);
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[a], perm[b]);
  Value init = cx.empty(shapeOf(op.getOutput()));
  return one(linalg::TransposeOp::create(cx.b, cx.loc, x, init, perm).getResult()[0]);
}

Results lowerReverse(Ctx &cx, g::ReverseOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  SmallVector<bool> reversed = op.getReversedAxes(xs.size());
  SmallVector<AffineExpr> in;
  for (size_t d = 0; d < xs.size(); ++d)
    in.push_back(reversed[d] ? cx.c(xs[d] - 1) - cx.d(d) : cx.d(d));
  SmallVector<Iter> iters(xs.size(), Iter::parallel);
  return one(cx.generic(xs, ValueRange{x}, {cx.map(xs.size(), in)}, iters,
                        [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
}

/// `x` of shape `in` broadcast into a tensor of shape `split` (its
/// dimensions being in's, in order, at the positions `kept`, the others
/// repetitions), then reshaped to `out`: tile and repeat.
Value repeatInto(Ctx &cx, Value x, ArrayRef<int64_t> in, ArrayRef<int64_t> split,
                 ArrayRef<unsigned> kept, ArrayRef<int64_t> out) {
  SmallVector<AffineExpr> m;
  for (unsigned k : kept)
    m.push_back(cx.d(k));
  SmallVector<Iter> iters(split.size(), Iter::parallel);
  Value v = cx.generic(split, ValueRange{cx.reshape(x, in)}, {cx.map(split.size(), m)}, iters,
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  return cx.reshape(v, out);
}

Results lowerTile(Ctx &cx, g::TileOp op) {
  Shape xs = shapeOf(op.getData()), out = shapeOf(op.getOutput());
  ArrayRef<int64_t> reps = op.getReps();
  size_t rank = out.size();
  Shape s(rank - xs.size(), 1), rp(rank - reps.size(), 1);
  s.append(xs.begin(), xs.end());
  rp.append(reps.begin(), reps.end());
  // Each repeated axis as (repetition, element).
  Shape split;
  SmallVector<unsigned> kept;
  for (size_t i = 0; i < rank; ++i) {
    if (rp[i] > 1)
      split.push_back(rp[i]);
    kept.push_back(split.size());
    split.push_back(s[i]);
  }
  return one(repeatInto(cx, op.getData(), s, split, kept, out));
}

Results lowerRepeat(Ctx &cx, g::RepeatOp op) {
  Shape xs = shapeOf(op.getData()), out = shapeOf(op.getOutput());
  int64_t reps = static_cast<int64_t>(op.getRepeats());
  Shape in = xs;
  int64_t axis = 0;
  if (op.getAxis())
    axis = normAxis(static_cast<int64_t>(*op.getAxis()), xs.size());
  else
    in = {product(xs)};
  // The repeated axis as (element, repetition).
  Shape split = in;
  split.insert(split.begin() + axis + 1, reps);
  SmallVector<unsigned> kept;
  for (unsigned i = 0; i < split.size(); ++i)
    if (i != axis + 1)
      kept.push_back(i);
  return one(repeatInto(cx, op.getData(), in, split, kept, out));
}

Results lowerStack(Ctx &cx, g::StackOp op) {
  Shape out = shapeOf(op.getOutput());
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), out.size());
  Shape part = out;
  part[axis] = 1;
  Value acc = cx.empty(out);
  SmallVector<OpFoldResult> sizes, strides(out.size(), cx.b.getIndexAttr(1));
  for (int64_t d : part)
    sizes.push_back(cx.b.getIndexAttr(d));
  for (auto [k, v] : llvm::enumerate(op.getData())) {
    SmallVector<OpFoldResult> offs(out.size(), cx.b.getIndexAttr(0));
    offs[axis] = cx.b.getIndexAttr(k);
    acc = tensor::InsertSliceOp::create(cx.b, cx.loc, cx.reshape(v, part), acc, offs, sizes,
                                        strides);
  }
  return one(acc);
}

/// `x` reshaped to `view`, transposed by `perm`, reshaped to `out`.
Value permuteView(Ctx &cx, Value x, ArrayRef<int64_t> view, ArrayRef<int64_t> perm,
                  ArrayRef<int64_t> out) {
  Shape t;
  for (int64_t p : perm)
    t.push_back(view[p]);
  Value tr = linalg::TransposeOp::create(cx.b, cx.loc, cx.reshape(x, view), cx.empty(t), perm)
                 .getResult()[0];
  return cx.reshape(tr, out);
}

Results lowerSpaceToDepth(Ctx &cx, g::SpaceToDepthOp op) {
  Shape xs = shapeOf(op.getData());
  int64_t b = static_cast<int64_t>(op.getBlockSize());
  // [N, C, H/b, i, W/b, j] → [N, i, j, C, H/b, W/b].
  return one(permuteView(cx, op.getData(), {xs[0], xs[1], xs[2] / b, b, xs[3] / b, b},
                         {0, 3, 5, 1, 2, 4}, shapeOf(op.getOutput())));
}

Results lowerDepthToSpace(Ctx &cx, g::DepthToSpaceOp op) {
  Shape xs = shapeOf(op.getData());
  int64_t b = static_cast<int64_t>(op.getBlockSize());
  // [N, i, j, C′, H, W] → [N, C′, H, i, W, j].
  return one(permuteView(cx, op.getData(), {xs[0], b, b, xs[1] / (b * b), xs[2], xs[3]},
                         {0, 3, 4, 1, 5, 2}, shapeOf(op.getOutput())));
}

Results lowerSlice(Ctx &cx, g::SliceOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  g::SliceBox box;
  if (std::string err = g::resolveSlice(xs, op.getBegin(), op.getEnd(), op.getStep(), box);
      !err.empty())
    return op.emitOpError() << err, failure();
  if (llvm::all_of(box.step, [](int64_t s) { return s > 0; }))
    return one(cx.slice(x, box.begin, box.size, box.step));
  // A negative step: the same elements taken with the positive step from
  // the lowest one, then those axes reversed. (Reading begin + k·step from
  // x directly would give linalg an identity map on x for every other
  // axis sliced with step 1, from which it takes x's extent, not the
  // slice's, as the loop bound.)
  SmallVector<int64_t> lowest(box.begin), stride(box.step);
  SmallVector<AffineExpr> in;
  for (size_t d = 0; d < xs.size(); ++d) {
    if (box.step[d] > 0) {
      in.push_back(cx.d(d));
      continue;
    }
    lowest[d] = box.begin[d] + (box.size[d] - 1) * box.step[d];
    stride[d] = -box.step[d];
    in.push_back(box.size[d] - 1 - cx.d(d));
  }
  Value part = cx.slice(x, lowest, box.size, stride);
  SmallVector<Iter> iters(xs.size(), Iter::parallel);
  return one(cx.generic(box.size, ValueRange{part}, {cx.map(xs.size(), in)}, iters,
                        [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
}

/// The position that padded position p reads along an axis of n elements
/// padded by `lo` in front (edge or reflect; inside the axis otherwise).
Value padSource(OpBuilder &b, Location l, g::PadMode mode, Value p, int64_t lo, int64_t n) {
  Value i = arith::SubIOp::create(b, l, p, cidx(b, l, lo));
  if (mode == g::PadMode::edge)
    return arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, i, cidx(b, l, 0)),
                                  cidx(b, l, n - 1));
  Value below = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, cidx(b, l, 0));
  Value above = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, i, cidx(b, l, n - 1));
  Value neg = arith::SubIOp::create(b, l, cidx(b, l, 0), i);
  Value mirror = arith::SubIOp::create(b, l, cidx(b, l, 2 * (n - 1)), i);
  return arith::SelectOp::create(b, l, below, neg, arith::SelectOp::create(b, l, above, mirror, i));
}

Results lowerPad(Ctx &cx, g::PadOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x), out = shapeOf(op.getOutput());
  ArrayRef<int64_t> pw = op.getPadWidth();
  if (op.getMode() == g::PadMode::constant) {
    Shape lo, hi;
    for (size_t d = 0; d < xs.size(); ++d) {
      lo.push_back(pw[2 * d]);
      hi.push_back(pw[2 * d + 1]);
    }
    return one(cx.pad(x, lo, hi, cx.f(op.getConstantValue().convertToDouble())));
  }
  g::PadMode mode = op.getMode();
  return one(fromIndices(cx, out, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
    SmallVector<Value> src;
    for (size_t d = 0; d < xs.size(); ++d)
      src.push_back(pw[2 * d] || pw[2 * d + 1] ? padSource(b, l, mode, o[d], pw[2 * d], xs[d])
                                               : o[d]);
    return tensor::ExtractOp::create(b, l, x, src);
  }));
}

Results lowerTake(Ctx &cx, g::TakeOp op) {
  Value a = op.getA(), indices = op.getIndices();
  Shape as = shapeOf(a), is = shapeOf(indices), out = shapeOf(op.getOutput());
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), as.size());
  int64_t ri = is.size();
  bool wrap = op.getMode() == g::TakeMode::wrap;
  SmallVector<AffineExpr> im;
  for (int64_t d = 0; d < ri; ++d)
    im.push_back(cx.d(axis + d));
  SmallVector<Iter> iters(out.size(), Iter::parallel);
  return one(cx.generic(out, ValueRange{indices}, {cx.map(out.size(), im)}, iters,
                        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                          SmallVector<Value> o = loopIndices(b, l, out.size());
                          SmallVector<Value> src(o.begin(), o.begin() + axis);
                          src.push_back(position(cx, b, l, v[0], as[axis], wrap));
                          src.append(o.begin() + axis + ri, o.end());
                          return tensor::ExtractOp::create(b, l, a, src);
                        }));
}

/// pick's data of shape xs viewed as [lead, n, trail] along `axis`, and the
/// picked arrays as [lead, trail].
struct PickView {
  int64_t lead, n, trail;
  PickView(ArrayRef<int64_t> xs, int64_t axis)
      : lead(product(xs, 0, axis)), n(xs[axis]), trail(product(xs, axis + 1)) {}
};

Results lowerPick(Ctx &cx, g::PickOp op) {
  Shape xs = shapeOf(op.getData());
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), xs.size());
  PickView v(xs, axis);
  bool wrap = op.getMode() == g::PickMode::wrap;
  Value x3 = cx.reshape(op.getData(), {v.lead, v.n, v.trail});
  Value index = cx.reshape(op.getIndex(), {v.lead, v.trail});
  Value picked = cx.generic(
      {v.lead, v.trail}, ValueRange{index}, {cx.id(2)}, {Iter::parallel, Iter::parallel},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        SmallVector<Value> o = loopIndices(b, l, 2);
        Value k = position(cx, b, l, a[0], v.n, wrap);
        return tensor::ExtractOp::create(b, l, x3, ValueRange{o[0], k, o[1]});
      });
  return one(cx.reshape(picked, shapeOf(op.getOutput())));
}

/// batch_take: pick along axis 1 of a matrix, clamped, indices of any shape.
Results lowerBatchTake(Ctx &cx, g::BatchTakeOp op) {
  Shape as = shapeOf(op.getA());
  Value index = cx.reshape(op.getIndices(), {as[0]});
  Value taken = cx.generic(
      {as[0]}, ValueRange{index}, {cx.id(1)}, {Iter::parallel},
      [&](OpBuilder &b, Location l, ValueRange v) -> Value {
        SmallVector<Value> o = loopIndices(b, l, 1);
        Value k = position(cx, b, l, v[0], as[1], /*wrap=*/false);
        return tensor::ExtractOp::create(b, l, op.getA(), ValueRange{o[0], k});
      });
  return one(cx.reshape(taken, shapeOf(op.getOutput())));
}

Results lowerPickGrad(Ctx &cx, g::PickGradOp op) {
  Shape xs = shapeOf(op.getOutput());
  PickView v(xs, static_cast<int64_t>(op.getAxis()));
  bool wrap = op.getMode() == g::PickMode::wrap;
  Value index = cx.reshape(op.getIndex(), {v.lead, v.trail});
  Value dy = cx.reshape(op.getOutGrad(), {v.lead, v.trail});
  // Each data element gets out_grad when its position was the one picked.
  AffineMap m = cx.map(3, {cx.d(0), cx.d(2)});
  SmallVector<Iter> iters(3, Iter::parallel);
  Value dx = cx.generic({v.lead, v.n, v.trail}, ValueRange{index, dy}, {m, m}, iters,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value k = position(cx, b, l, a[0], v.n, wrap);
                          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, k,
                                                            linalg::IndexOp::create(b, l, 1));
                          return arith::SelectOp::create(b, l, hit, a[1], cx.k(b, l, 0.0));
                        });
  return one(cx.reshape(dx, xs));
}

/// gather_nd's view of data of shape xs and indices [M, N…]: data as
/// [P, K] rows (P = the product of the M indexed axes), indices as [M, N],
/// and the row a column of indices addresses.
struct GatherView {
  int64_t m, n, p, k;
  Shape dims; // the M indexed axes
  GatherView(ArrayRef<int64_t> xs, ArrayRef<int64_t> is)
      : m(is[0]), n(product(is) / is[0]), p(product(xs, 0, is[0])), k(product(xs, is[0])),
        dims(xs.begin(), xs.begin() + is[0]) {}

  /// The row of column `col` (an index value) of the [M, N] `indices`.
  Value row(Ctx &cx, OpBuilder &b, Location l, Value indices, Value col) const {
    Value r = cidx(b, l, 0);
    for (int64_t j = 0; j < m; ++j) {
      Value v = tensor::ExtractOp::create(b, l, indices, ValueRange{cidx(b, l, j), col});
      Value pos = gatherPosition(cx, b, l, v, dims[j]);
      r = arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, r, cidx(b, l, dims[j])), pos);
    }
    return r;
  }
};

Results lowerGatherND(Ctx &cx, g::GatherNDOp op) {
  GatherView v(shapeOf(op.getData()), shapeOf(op.getIndices()));
  Value x2 = cx.reshape(op.getData(), {v.p, v.k});
  Value idx = cx.reshape(op.getIndices(), {v.m, v.n});
  Value out = fromIndices(cx, {v.n, v.k}, [&](OpBuilder &b, Location l, ValueRange o) -> Value {
    return tensor::ExtractOp::create(b, l, x2, ValueRange{v.row(cx, b, l, idx, o[0]), o[1]});
  });
  return one(cx.reshape(out, shapeOf(op.getOutput())));
}

/// acc [L, P, K] with row `row(i)` of every leading slice increased by
/// dy's row i ([L, N, K]) for i in [0, N): the scatter-add of take's and
/// gather_nd's gradients, one scf.for over the indices. Without `add` the
/// row is replaced (scatter_nd).
Value scatterRows(Ctx &cx, Value acc, Value dy, function_ref<Value(OpBuilder &, Value)> row,
                  bool add = true) {
  OpBuilder &b = cx.b;
  Location loc = cx.loc;
  Shape ds = shapeOf(dy);
  int64_t lead = ds[0], n = ds[1], k = ds[2];
  auto loop = scf::ForOp::create(
      b, loc, cidx(b, loc, 0), cidx(b, loc, n), cidx(b, loc, 1), ValueRange{acc},
      [&](OpBuilder &nb, Location, Value i, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value r = row(b, i);
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(lead), b.getIndexAttr(1),
                                        b.getIndexAttr(k)};
        SmallVector<OpFoldResult> ones(3, b.getIndexAttr(1));
        SmallVector<OpFoldResult> at{b.getIndexAttr(0), r, b.getIndexAttr(0)},
            from{b.getIndexAttr(0), i, b.getIndexAttr(0)};
        Value src = tensor::ExtractSliceOp::create(b, loc, dy, from, sizes, ones);
        Value sum = src;
        if (add) {
          Value dst = tensor::ExtractSliceOp::create(b, loc, iter[0], at, sizes, ones);
          SmallVector<Iter> iters(3, Iter::parallel);
          sum = cx.generic({lead, 1, k}, ValueRange{src}, {cx.id(3)}, iters,
                           [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                             return arith::AddFOp::create(bb, bl, a[1], a[0]);
                           },
                           dst);
        }
        scf::YieldOp::create(
            b, loc, ValueRange{tensor::InsertSliceOp::create(b, loc, sum, iter[0], at, sizes, ones)});
      });
  return loop.getResult(0);
}

Results lowerGatherNDGrad(Ctx &cx, g::GatherNDGradOp op) {
  Shape xs = shapeOf(op.getOutput());
  GatherView v(xs, shapeOf(op.getIndices()));
  Value idx = cx.reshape(op.getIndices(), {v.m, v.n});
  Value dy = cx.reshape(op.getOutGrad(), {1, v.n, v.k});
  Value acc = scatterRows(cx, cx.filled({1, v.p, v.k}, 0.0), dy,
                          [&](OpBuilder &b, Value i) { return v.row(cx, b, cx.loc, idx, i); });
  return one(cx.reshape(acc, xs));
}

/// scatter_nd: gather_nd_grad's scatter, each slice written rather than
/// added (the later of two columns addressing one slice wins).
Results lowerScatterND(Ctx &cx, g::ScatterNDOp op) {
  Shape xs = shapeOf(op.getOutput());
  GatherView v(xs, shapeOf(op.getIndices()));
  Value idx = cx.reshape(op.getIndices(), {v.m, v.n});
  Value data = cx.reshape(op.getData(), {1, v.n, v.k});
  Value out = scatterRows(
      cx, cx.filled({1, v.p, v.k}, 0.0), data,
      [&](OpBuilder &b, Value i) { return v.row(cx, b, cx.loc, idx, i); }, /*add=*/false);
  return one(cx.reshape(out, xs));
}

Results lowerTakeGrad(Ctx &cx, g::TakeGradOp op) {
  Shape as = shapeOf(op.getOutput());
  int64_t axis = static_cast<int64_t>(op.getAxis());
  int64_t pre = product(as, 0, axis), n = as[axis], post = product(as, axis + 1);
  int64_t count = product(shapeOf(op.getIndices()));
  bool wrap = op.getMode() == g::TakeMode::wrap;
  Value idx = cx.reshape(op.getIndices(), {count});
  Value dy = cx.reshape(op.getOutGrad(), {pre, count, post});
  Value acc = scatterRows(cx, cx.filled({pre, n, post}, 0.0), dy, [&](OpBuilder &b, Value i) {
    Value v = tensor::ExtractOp::create(b, cx.loc, idx, ValueRange{i});
    return position(cx, b, cx.loc, v, n, wrap);
  });
  return one(cx.reshape(acc, as));
}

Results lowerOneHot(Ctx &cx, g::OneHotOp op) {
  Value indices = op.getIndices();
  Shape out = shapeOf(op.getOutput());
  int64_t depth = static_cast<int64_t>(op.getDepth());
  double on = g::fn::cast(op.getOnValue().convertToDouble(), op.getDtype());
  double off = g::fn::cast(op.getOffValue().convertToDouble(), op.getDtype());
  unsigned r = out.size();
  SmallVector<AffineExpr> im;
  for (unsigned d = 0; d + 1 < r; ++d)
    im.push_back(cx.d(d));
  SmallVector<Iter> iters(r, Iter::parallel);
  return one(cx.generic(out, ValueRange{indices}, {cx.map(r, im)}, iters,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value v = a[0];
                          // trunc(v) in [0, depth) exactly when −1 < v < depth.
                          Value valid = arith::AndIOp::create(
                              b, l,
                              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v,
                                                    cx.k(b, l, -1.0)),
                              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, v,
                                                    cx.k(b, l, static_cast<double>(depth))));
                          Value safe = arith::SelectOp::create(b, l, valid, v, cx.k(b, l, 0.0));
                          Value k = toIndex(b, l, arith::FPToSIOp::create(b, l, b.getI64Type(), safe));
                          Value hit = arith::AndIOp::create(
                              b, l, valid,
                              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, k,
                                                    linalg::IndexOp::create(b, l, r - 1)));
                          return arith::SelectOp::create(b, l, hit, cx.k(b, l, on), cx.k(b, l, off));
                        }));
}

Results lowerWhere(Ctx &cx, g::WhereOp op) {
  Value cond = op.getCondition();
  Shape out = shapeOf(op.getOutput());
  unsigned r = out.size();
  AffineMap cm = shapeOf(cond) == out ? cx.id(r) : cx.map(r, {cx.d(0)});
  SmallVector<Iter> iters(r, Iter::parallel);
  return one(cx.generic(out, ValueRange{cond, op.getX(), op.getY()}, {cm, cx.id(r), cx.id(r)},
                        iters, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value nz = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, a[0],
                                                           cx.k(b, l, 0.0));
                          return arith::SelectOp::create(b, l, nz, a[1], a[2]);
                        }));
}

Results lowerSliceGrad(Ctx &cx, g::SliceGradOp op) {
  Value dy = op.getOutGrad();
  Shape ds = shapeOf(dy);
  ArrayRef<int64_t> begin = op.getBegin(), step = op.getStep();
  // A negative step: reverse those axes of out_grad, then insert it with
  // the positive step from the lowest position it reaches.
  SmallVector<int64_t> first, stride;
  SmallVector<AffineExpr> in;
  bool reversed = false;
  for (size_t d = 0; d < ds.size(); ++d) {
    bool neg = step[d] < 0;
    reversed |= neg;
    first.push_back(neg ? begin[d] + (ds[d] - 1) * step[d] : begin[d]);
    stride.push_back(neg ? -step[d] : step[d]);
    in.push_back(neg ? cx.c(ds[d] - 1) - cx.d(d) : cx.d(d));
  }
  if (reversed) {
    SmallVector<Iter> iters(ds.size(), Iter::parallel);
    dy = cx.generic(ds, ValueRange{dy}, {cx.map(ds.size(), in)}, iters,
                    [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
  SmallVector<OpFoldResult> offs, sizes, strides;
  for (size_t d = 0; d < ds.size(); ++d) {
    offs.push_back(cx.b.getIndexAttr(first[d]));
    sizes.push_back(cx.b.getIndexAttr(ds[d]));
    strides.push_back(cx.b.getIndexAttr(stride[d]));
  }
  return one(tensor::InsertSliceOp::create(cx.b, cx.loc, dy, cx.filled(op.getShape(), 0.0), offs,
                                           sizes, strides));
}

Results lowerPadGrad(Ctx &cx, g::PadGradOp op) {
  Value t = op.getOutGrad();
  ArrayRef<int64_t> pw = op.getPadWidth();
  Shape xs = shapeOf(op.getOutput());
  g::PadMode mode = op.getMode();
  unsigned r = xs.size();
  // Axis by axis (the positions an element supplies are a product of
  // per-axis sets): out[…, i, …] = Σ_p [source(p) = i] in[…, p, …].
  for (unsigned a = 0; a < r; ++a) {
    int64_t lo = pw[2 * a], hi = pw[2 * a + 1];
    if (!lo && !hi)
      continue;
    Shape ts = shapeOf(t), os = ts;
    os[a] = xs[a];
    SmallVector<AffineExpr> in;
    for (unsigned d = 0; d < r; ++d)
      in.push_back(d == a ? cx.d(r) : cx.d(d));
    SmallVector<Iter> iters(r, Iter::parallel);
    iters.push_back(Iter::reduction);
    t = cx.generic(os, ValueRange{t}, {cx.map(r + 1, in)}, iters,
                   [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                     Value src =
                         padSource(b, l, mode, linalg::IndexOp::create(b, l, r), lo, xs[a]);
                     Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, src,
                                                       linalg::IndexOp::create(b, l, a));
                     return arith::SelectOp::create(b, l, hit,
                                                    arith::AddFOp::create(b, l, v[1], v[0]), v[1]);
                   },
                   cx.filled(os, 0.0));
  }
  return one(t);
}

} // namespace

std::optional<Results> lowerShapeOp(Ctx &cx, Operation *op) {
  auto view = [&](Value x) { return one(cx.reshape(x, shapeOf(op->getResult(0)))); };
  return llvm::TypeSwitch<Operation *, std::optional<Results>>(op)
      .Case([&](g::ExpandDimsOp o) { return view(o.getData()); })
      .Case([&](g::SqueezeOp o) { return view(o.getData()); })
      .Case([&](g::ReshapeLikeOp o) { return view(o.getLhs()); })
      .Case([&](g::SwapAxisOp o) { return lowerSwapAxis(cx, o); })
      .Case([&](g::ReverseOp o) { return lowerReverse(cx, o); })
      .Case([&](g::TileOp o) { return lowerTile(cx, o); })
      .Case([&](g::RepeatOp o) { return lowerRepeat(cx, o); })
      // Broadcasts whose result shape says it all (operand 0 is the data).
      .Case<g::BroadcastLikeOp, g::BroadcastAxisOp>([&](Operation *o) {
        return one(cx.mapBcast(shapeOf(o->getResult(0)), ValueRange{o->getOperand(0)},
                               [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
      })
      .Case([&](g::StackOp o) { return lowerStack(cx, o); })
      .Case([&](g::SplitV2Op o) -> Results {
        Shape xs = shapeOf(o.getData());
        int64_t axis = normAxis(static_cast<int64_t>(o.getAxis()), xs.size());
        return splitAlongAxis(cx, o, o.getData(), axis, o.getPartBounds(xs[axis]));
      })
      .Case([&](g::SpaceToDepthOp o) { return lowerSpaceToDepth(cx, o); })
      .Case([&](g::DepthToSpaceOp o) { return lowerDepthToSpace(cx, o); })
      .Case([&](g::SliceOp o) { return lowerSlice(cx, o); })
      .Case([&](g::SliceLikeOp o) {
        Shape out = shapeOf(o.getOutput());
        return one(cx.slice(o.getData(), Shape(out.size(), 0), out));
      })
      .Case([&](g::CropOp o) {
        Shape xs = shapeOf(o.getData()), out = shapeOf(o.getOutput());
        auto [y, x] = o.getCorner(xs, out);
        return one(cx.slice(o.getData(), {0, 0, y, x}, out));
      })
      .Case([&](g::PadOp o) { return lowerPad(cx, o); })
      .Case([&](g::TakeOp o) { return lowerTake(cx, o); })
      .Case([&](g::PickOp o) { return lowerPick(cx, o); })
      .Case([&](g::GatherNDOp o) { return lowerGatherND(cx, o); })
      .Case([&](g::OneHotOp o) { return lowerOneHot(cx, o); })
      .Case([&](g::WhereOp o) { return lowerWhere(cx, o); })
      .Case([&](g::ShapeArrayOp o) {
        Shape xs = shapeOf(o.getData());
        SmallVector<double> dims(xs.begin(), xs.end());
        return one(constantTensor(cx, {static_cast<int64_t>(xs.size())}, dims));
      })
      .Case([&](g::SizeArrayOp o) {
        return one(cx.filled({1}, static_cast<double>(product(shapeOf(o.getData())))));
      })
      .Case([&](g::ArangeOp o) { return one(constantTensor(cx, shapeOf(o.getOutput()), o.getValues())); })
      .Case([&](g::OnesOp o) { return one(cx.filled(shapeOf(o.getOutput()), 1.0)); })
      .Case([&](g::AmpMulticastOp o) -> Results {
        return SmallVector<Value>(o.getInputs().begin(), o.getInputs().end());
      })
      .Case([&](g::ZerosWithoutDtypeOp o) { return one(cx.filled(shapeOf(o.getOutput()), 0.0)); })
      .Case([&](g::EyeOp o) { return one(constantTensor(cx, shapeOf(o.getOutput()), o.getValues())); })
      .Case([&](g::ArangeLikeOp o) {
        Shape s = shapeOf(o.getOutput());
        return one(constantTensor(cx, s, o.getValues(product(s))));
      })
      .Case([&](g::FullOp o) {
        return one(cx.filled(shapeOf(o.getOutput()),
                             g::fn::cast(o.getValue().convertToDouble(), o.getDtype())));
      })
      .Case([&](g::SliceGradOp o) { return lowerSliceGrad(cx, o); })
      .Case([&](g::TakeGradOp o) { return lowerTakeGrad(cx, o); })
      .Case([&](g::PickGradOp o) { return lowerPickGrad(cx, o); })
      .Case([&](g::GatherNDGradOp o) { return lowerGatherNDGrad(cx, o); })
      .Case([&](g::PadGradOp o) { return lowerPadGrad(cx, o); })
      .Case([&](g::DiagOp o) { return lowerDiag(cx, o); })
      .Case([&](g::BatchTakeOp o) { return lowerBatchTake(cx, o); })
      .Case([&](g::IndexArrayOp o) { return lowerIndexArray(cx, o); })
      .Case([&](g::ScatterNDOp o) { return lowerScatterND(cx, o); })
      .Case([&](g::RavelMultiIndexOp o) { return lowerRavelMultiIndex(cx, o); })
      .Case([&](g::UnravelIndexOp o) { return lowerUnravelIndex(cx, o); })
      .Case([&](g::DiagGradOp o) { return lowerDiagGrad(cx, o); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
